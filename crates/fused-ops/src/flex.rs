//! Building blocks for this workspace's SIMD kernels on Burn's flex backend: routing tensors to
//! a kernel (or back to Burn's ops), the SIMD dispatch of a loop, and branch-free lane math.
//!
//! A kernel takes a tensor op's inputs as [`DispatchTensor`]s (`Tensor::into_dispatch`);
//! [`route`] gives their flex primitives when every one is an f32 flex tensor with the same
//! autodiff setting, and gives them back otherwise, for the caller's composed Burn ops (any
//! backend, any dtype, and autodiff with gradient checkpointing, which these kernels do not
//! implement). Every kernel of this crate is built on it.

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind, Flex,
    GradientCheckpointingStrategy,
};
use burn::tensor::{Bytes, DType};

/// The checkpointing strategy of the autodiff tensors [`route`] accepts, for
/// `Backward::prepare::<Checkpointing>`.
pub(crate) type Checkpointing = NoCheckpointing;

/// An autodiff tensor on flex.
pub(crate) type TrackedTensor = FloatTensor<Autodiff<Flex>>;

/// Inputs routed to a flex kernel.
pub(crate) enum Routed<const N: usize> {
    /// f32 flex tensors without autodiff.
    Plain([FlexTensor; N]),
    /// f32 flex tensors under autodiff (no gradient checkpointing).
    Tracked([TrackedTensor; N]),
}

/// One input, routed or given back.
enum One {
    Plain(FlexTensor),
    Tracked(TrackedTensor),
    Back(DispatchTensor),
}

fn one(t: DispatchTensor) -> One {
    if t.dtype() != DType::F32 {
        return One::Back(t);
    }
    let autodiff = t.autodiff;
    match (t.kind, autodiff) {
        (DispatchTensorKind::Flex(BackendTensor::Float(x)), DispatchAutodiffContext::Disabled) => {
            One::Plain(x)
        }
        (
            DispatchTensorKind::Autodiff(inner),
            DispatchAutodiffContext::Enabled(GradientCheckpointingStrategy::Disabled),
        ) => match *inner {
            DispatchTensorKind::Flex(BackendTensor::Autodiff(x)) => One::Tracked(x),
            other => One::Back(DispatchTensor {
                kind: DispatchTensorKind::Autodiff(Box::new(other)),
                autodiff,
            }),
        },
        (kind, autodiff) => One::Back(DispatchTensor { kind, autodiff }),
    }
}

fn back(one: One) -> DispatchTensor {
    match one {
        One::Plain(x) => plain(x),
        One::Tracked(x) => tracked(x),
        One::Back(x) => x,
    }
}

/// `tensors`' flex primitives when all are f32 flex tensors, all without autodiff or all with
/// it (and no gradient checkpointing); otherwise `tensors`, unchanged.
pub(crate) fn route<const N: usize>(
    tensors: [DispatchTensor; N],
) -> Result<Routed<N>, Box<[DispatchTensor; N]>> {
    let ones = tensors.map(one);
    if ones.iter().all(|o| matches!(o, One::Plain(_))) {
        return Ok(Routed::Plain(ones.map(|o| match o {
            One::Plain(x) => x,
            _ => unreachable!("every input was checked to be plain"),
        })));
    }
    if ones.iter().all(|o| matches!(o, One::Tracked(_))) {
        return Ok(Routed::Tracked(ones.map(|o| match o {
            One::Tracked(x) => x,
            _ => unreachable!("every input was checked to be tracked"),
        })));
    }
    Err(Box::new(ones.map(back)))
}

/// Whether `x` is an f32 tensor on flex (with or without autodiff), looking only.
pub(crate) fn is_flex_f32(x: &DispatchTensor) -> bool {
    x.dtype() == DType::F32
        && match &x.kind {
            DispatchTensorKind::Autodiff(inner) => matches!(**inner, DispatchTensorKind::Flex(_)),
            kind => matches!(kind, DispatchTensorKind::Flex(_)),
        }
}

/// `plain_op` of `inputs`' flex primitives (no autodiff) or `tracked_op` of them (autodiff),
/// as a dispatch tensor for `Tensor::from_dispatch`, when [`route`] takes the inputs; otherwise
/// the inputs, unchanged, for the caller's composed ops.
pub(crate) fn run<const N: usize>(
    inputs: [DispatchTensor; N],
    plain_op: impl FnOnce([FlexTensor; N]) -> FlexTensor,
    tracked_op: impl FnOnce([TrackedTensor; N]) -> TrackedTensor,
) -> Result<DispatchTensor, Box<[DispatchTensor; N]>> {
    Ok(match route(inputs)? {
        Routed::Plain(x) => plain(plain_op(x)),
        Routed::Tracked(x) => tracked(tracked_op(x)),
    })
}

/// A flex tensor as a dispatch tensor (`Tensor::from_dispatch`).
pub(crate) fn plain(x: FlexTensor) -> DispatchTensor {
    DispatchTensor {
        kind: DispatchTensorKind::Flex(BackendTensor::Float(x)),
        autodiff: DispatchAutodiffContext::Disabled,
    }
}

/// An autodiff flex tensor as a dispatch tensor (`Tensor::from_dispatch`).
pub(crate) fn tracked(x: TrackedTensor) -> DispatchTensor {
    DispatchTensor {
        kind: DispatchTensorKind::Autodiff(Box::new(DispatchTensorKind::Flex(
            BackendTensor::Autodiff(x),
        ))),
        autodiff: DispatchAutodiffContext::Enabled(GradientCheckpointingStrategy::Disabled),
    }
}

/// A contiguous f32 flex tensor of `shape` holding `values`.
pub(crate) fn f32_tensor(values: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(values),
        Layout::contiguous(shape.to_vec().into()),
        DType::F32,
    )
}

/// `x`'s values, contiguous, in a buffer only `x` holds (copied when shared or strided), so a
/// kernel may write its output over them.
pub(crate) fn owned(x: FlexTensor) -> FlexTensor {
    let mut y = x.to_contiguous();
    drop(x);
    // Copies on write when the buffer is shared.
    let _ = y.storage_mut::<f32>();
    y
}

/// Defines `pub fn $name` from a loop body, compiled three times (AVX-512, AVX2 + FMA, and the
/// baseline) and run with the widest SIMD the CPU has, detected at run time.
macro_rules! simd_dispatched {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) { body($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (detected just above).
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (detected just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

pub(crate) use simd_dispatched;

/// Branch-free one-lane math that the compiler vectorises inside [`simd_dispatched!`] loops.
pub(crate) mod lanes {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// `2^r` for `r ∈ [−½, ½]`: `Σ (ln 2)^k / k!`, k ≤ 6 (relative error < 2e-7): the
    /// coefficients, lowest power first.
    pub(crate) const EXP2_COEFFICIENTS: [f32; 7] = [
        1.0,
        std::f32::consts::LN_2,
        0.240_226_5,
        0.055_504_11,
        0.009_618_129,
        0.001_333_355_8,
        0.000_154_035_3,
    ];

    /// `σ(z) = 1 / (1 + e^(−z))`: `e^(−z) = 2^t`, `t = −z·log₂e` split into an integer `n`
    /// (exponent bits) and `r ∈ [−½, ½]` (polynomial). Within 2e-7 of the exact value; NaN stays
    /// NaN; `±∞` give exactly 1 and 0.
    #[inline(always)]
    pub(crate) fn sigmoid(z: f32) -> f32 {
        // The clamp keeps 2^n a normal float or, at n = 128, +∞ (so σ(−∞) = 0 exactly); beyond
        // it σ is 0 or 1 in f32 anyway.
        let t = (-z * LOG2E).clamp(-126.0, 128.0);
        // Round to nearest by adding 1.5·2^23: `n` lands in the low mantissa bits of `shifted`
        // (as a two's complement offset from 0x4B40_0000), which gives 2^n's exponent bits with
        // integer ops only. (`n as i32` would be a saturating cast, which compilers do one
        // lane at a time.)
        let shifted = t + 12_582_912.0;
        let n = shifted - 12_582_912.0;
        let r = t - n;
        const C: [f32; 7] = EXP2_COEFFICIENTS;
        let p = C[0] + r * (C[1] + r * (C[2] + r * (C[3] + r * (C[4] + r * (C[5] + r * C[6])))));
        let exponent = shifted
            .to_bits()
            .wrapping_sub(0x4B40_0000)
            .wrapping_add(127);
        let two_n = f32::from_bits(exponent << 23);
        1.0 / (1.0 + two_n * p)
    }

    /// `tanh x = 2σ(2x) − 1`.
    #[inline(always)]
    pub(crate) fn tanh(x: f32) -> f32 {
        2.0 * sigmoid(2.0 * x) - 1.0
    }

    /// Lanes of the partial sums of [`dot`]: the compiler keeps them in registers and
    /// vectorises, where a single running sum would be a serial chain. Four AVX-512 registers'
    /// worth, so that four additions are in flight at once (one register's worth left the
    /// context kernel's backward pass waiting on each addition's latency).
    const LANES: usize = 64;

    /// `Σ x_i y_i`, summed in 64 lanes (four AVX-512 registers) and then halved in a tree.
    #[inline(always)]
    pub(crate) fn dot(x: &[f32], y: &[f32]) -> f32 {
        let mut acc = [0.0f32; LANES];
        let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
        let (xr, yr) = (xc.remainder(), yc.remainder());
        for (x, y) in xc.zip(yc) {
            for i in 0..LANES {
                acc[i] += x[i] * y[i];
            }
        }
        let tail: f32 = xr.iter().zip(yr).map(|(x, y)| x * y).sum();
        // Halving in a tree: whole registers first, then within one. (A running sum over the
        // lanes is a serial chain of one-lane additions, which cost more than the products
        // for rows of a few hundred.)
        let mut width = LANES;
        while width > 1 {
            width /= 2;
            for i in 0..width {
                acc[i] += acc[i + width];
            }
        }
        acc[0] + tail
    }
}
