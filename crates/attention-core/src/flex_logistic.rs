//! The logistic family (`σ(a·x)` and `tanh x`) as SIMD kernels for Burn's flex backend, with a
//! backward pass that keeps its output.
//!
//! Why: burn-flex evaluates unary float ops as a scalar closure per element (`expf` for the
//! sigmoid), and Burn's autodiff saves a sigmoid's *input* and evaluates the sigmoid again in the
//! backward pass. In this workspace those sigmoids (the additive score over
//! `[batch, src_len, attention]` at every decoder step, the recurrent cells' gates) were about a
//! quarter of a training step (`docs/performance.md`). Here one branch-free pass computes
//! `2^t` from a degree-6 polynomial and the float's exponent bits, which the compiler
//! vectorises at the widest width the CPU has (AVX-512 or AVX2, detected at run time); the
//! backward pass is `y(1 − y)` (or `1 − y²`) from the kept output, no transcendental at all.
//!
//! Only f32 tensors on flex (with or without autodiff) come here; [`apply`] hands every other
//! tensor back for Burn's own op.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::{
    BalancedCheckpointing, CheckpointStrategy, NoCheckpointing,
};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind, Flex,
    GradientCheckpointingStrategy,
};
use burn::prelude::*;
use burn::tensor::DType;

use crate::activation::Logistic;

/// `kind` of `x` by the SIMD kernel when `x` is an f32 flex tensor (autodiff or not), else
/// `otherwise(x)` (Burn's ops).
pub(crate) fn apply<const D: usize>(
    x: Tensor<D>,
    kind: Logistic,
    otherwise: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    if x.dtype() != DType::F32 {
        return otherwise(x);
    }
    let DispatchTensor {
        kind: inner,
        autodiff,
    } = x.into_dispatch();
    let kind_out = match (inner, autodiff) {
        (DispatchTensorKind::Flex(BackendTensor::Float(t)), DispatchAutodiffContext::Disabled) => {
            Ok(DispatchTensorKind::Flex(BackendTensor::Float(forward(
                t, kind,
            ))))
        }
        (DispatchTensorKind::Autodiff(boxed), DispatchAutodiffContext::Enabled(strategy)) => {
            match *boxed {
                DispatchTensorKind::Flex(BackendTensor::Autodiff(t)) => {
                    let y = match strategy {
                        GradientCheckpointingStrategy::Disabled => {
                            tracked::<NoCheckpointing>(t, kind)
                        }
                        GradientCheckpointingStrategy::Balanced => {
                            tracked::<BalancedCheckpointing>(t, kind)
                        }
                    };
                    Ok(DispatchTensorKind::Autodiff(Box::new(
                        DispatchTensorKind::Flex(BackendTensor::Autodiff(y)),
                    )))
                }
                other => Err(DispatchTensorKind::Autodiff(Box::new(other))),
            }
        }
        (other, _) => Err(other),
    };
    match kind_out {
        Ok(kind) => Tensor::from_dispatch(DispatchTensor { kind, autodiff }),
        Err(kind) => otherwise(Tensor::from_dispatch(DispatchTensor { kind, autodiff })),
    }
}

/// The backward pass: `∂y/∂x` from the kept output `y`.
#[derive(Debug)]
struct LogisticBackward {
    kind: Logistic,
}

impl Backward<Flex, 1> for LogisticBackward {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let output = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            derivative(grad, &output, self.kind)
        });
    }
}

/// The forward pass under autodiff: the kernel, and its output kept for the backward pass.
fn tracked<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex>>,
    kind: Logistic,
) -> FloatTensor<Autodiff<Flex>> {
    match (LogisticBackward { kind })
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let y = forward(x.into_primitive(), kind);
            prep.finish(y.clone(), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(x.into_primitive(), kind)),
    }
}

fn forward(x: FlexTensor, kind: Logistic) -> FlexTensor {
    // Contiguous, and in place when `x` is its buffer's only owner (else copied on write).
    let mut y = x.to_contiguous();
    drop(x);
    let values = y.storage_mut::<f32>();
    match kind {
        Logistic::Sigmoid { scale } => simd::sigmoid(values, scale),
        Logistic::Tanh => simd::tanh(values),
    }
    y
}

fn derivative(grad: FlexTensor, output: &FlexTensor, kind: Logistic) -> FlexTensor {
    let mut grad_out = grad.to_contiguous();
    drop(grad);
    let output = output.to_contiguous();
    let g = grad_out.storage_mut::<f32>();
    let y = output.storage::<f32>();
    match kind {
        Logistic::Sigmoid { scale } => simd::sigmoid_derivative(g, y, scale),
        Logistic::Tanh => simd::tanh_derivative(g, y),
    }
    grad_out
}

/// Defines `pub(super) fn $name` from a loop body, compiled three times (AVX-512, AVX2 + FMA,
/// baseline) and picked at run time by what the CPU has.
macro_rules! dispatched {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        pub(super) fn $name($($arg: $ty),*) {
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
pub(crate) use dispatched;

/// The element loops, written once and compiled for the widest SIMD the CPU has.
pub(crate) mod simd {

    const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// `2^r` for `r ∈ [−½, ½]`: `Σ (ln 2)^k / k!`, k ≤ 6 (relative error < 2e-7).
    const C: [f32; 7] = [
        1.0,
        std::f32::consts::LN_2,
        0.240_226_5,
        0.055_504_11,
        0.009_618_129,
        0.001_333_355_8,
        0.000_154_035_3,
    ];

    /// `1 / (1 + e^(−z))`, branch-free: `e^(−z) = 2^t`, `t = −z·log₂e` split into an integer
    /// `n` (exponent bits) and `r ∈ [−½, ½]` (polynomial). NaN stays NaN; `±∞` give 0 and 1.
    #[inline(always)]
    pub(crate) fn logistic(z: f32) -> f32 {
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
        let p = C[0] + r * (C[1] + r * (C[2] + r * (C[3] + r * (C[4] + r * (C[5] + r * C[6])))));
        let exponent = shifted.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127);
        let two_n = f32::from_bits(exponent << 23);
        1.0 / (1.0 + two_n * p)
    }

    /// `tanh x = 2σ(2x) − 1`, one lane.
    #[inline(always)]
    pub(crate) fn tanh_lane(x: f32) -> f32 {
        2.0 * logistic(2.0 * x) - 1.0
    }

    dispatched! {
        /// `x ← σ(scale·x)`.
        fn sigmoid(x: &mut [f32], scale: f32) {
            for v in x.iter_mut() {
                *v = logistic(scale * *v);
            }
        }
    }

    dispatched! {
        /// `x ← tanh x = 2σ(2x) − 1`.
        fn tanh(x: &mut [f32]) {
            for v in x.iter_mut() {
                *v = tanh_lane(*v);
            }
        }
    }

    dispatched! {
        /// `g ← g · scale · y(1 − y)`, the sigmoid's derivative from its output.
        fn sigmoid_derivative(g: &mut [f32], y: &[f32], scale: f32) {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= scale * y * (1.0 - y);
            }
        }
    }

    dispatched! {
        /// `g ← g · (1 − y²)`, `tanh`'s derivative from its output.
        fn tanh_derivative(g: &mut [f32], y: &[f32]) {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= 1.0 - y * y;
            }
        }
    }
}
