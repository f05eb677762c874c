//! The affine layer `y = x W + b` as a flex kernel that calls the `gemm` crate itself, with
//! its own backward pass.
//!
//! Why: burn-flex creates each matrix product's output as zeroed bytes that it then copies into
//! an aligned buffer (`FlexTensor::empty` → `Bytes::from_bytes_vec`), adds the bias in a second
//! pass, and its backward pass materialises transposed operands; in a perf call graph of a
//! training step those copies and fills came second only to the products themselves
//! (`docs/performance.md#what-was-tried-and-what-it-gave`). Here
//! the output starts as the broadcast bias and one GEMM accumulates `x W` onto it; the backward
//! pass reads the transposes through strides (`∂x = g Wᵀ`, `∂W = xᵀ g`, `∂b = Σ_rows g`).
//!
//! [`affine`] takes what [`route`] takes (2-D `x`, `W`, and `b` when present) and gives the rest
//! back to the caller's `Linear::forward`.

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex::{Checkpointing, TrackedTensor, f32_tensor, run};

/// The inputs of [`affine`], given back when the kernel does not take them.
pub(crate) type Inputs = Box<(Tensor<2>, Tensor<2>, Option<Tensor<1>>)>;

/// `x W + b` for `x` `[rows, in]`, `W` `[in, out]`, `b` `[out]`; or the inputs back.
pub(crate) fn affine(
    x: Tensor<2>,
    w: Tensor<2>,
    b: Option<Tensor<1>>,
) -> Result<Tensor<2>, Inputs> {
    let [_, k] = x.dims();
    let [kw, n] = w.dims();
    if kw != k || b.as_ref().is_some_and(|b| b.dims() != [n]) {
        return Err(Box::new((x, w, b)));
    }
    match b {
        Some(b) => match run(
            [x.into_dispatch(), w.into_dispatch(), b.into_dispatch()],
            |[x, w, b]| forward(&x, &w, Some(&b)),
            forward_tracked,
        ) {
            Ok(y) => Ok(Tensor::from_dispatch(y)),
            Err(inputs) => {
                let [x, w, b] = *inputs;
                Err(Box::new((
                    Tensor::from_dispatch(x),
                    Tensor::from_dispatch(w),
                    Some(Tensor::from_dispatch(b)),
                )))
            }
        },
        None => match run(
            [x.into_dispatch(), w.into_dispatch()],
            |[x, w]| forward(&x, &w, None),
            forward_tracked,
        ) {
            Ok(y) => Ok(Tensor::from_dispatch(y)),
            Err(inputs) => {
                let [x, w] = *inputs;
                Err(Box::new((
                    Tensor::from_dispatch(x),
                    Tensor::from_dispatch(w),
                    None,
                )))
            }
        },
    }
}

/// What the backward pass keeps: `x` and `W`, contiguous.
#[derive(Clone, Debug)]
struct Saved {
    x: FlexTensor,
    w: FlexTensor,
}

#[derive(Debug)]
struct AffineBackward;

impl AffineBackward {
    /// The gradients of `x` and `W` (when asked) from `grad`.
    fn grads(
        saved: &Saved,
        grad: &FlexTensor,
        want_x: bool,
        want_w: bool,
    ) -> (Option<FlexTensor>, Option<FlexTensor>) {
        let (m, k) = dims2(&saved.x);
        let n = dims2(&saved.w).1;
        let g = grad.storage::<f32>();
        let gx = want_x.then(|| {
            // ∂x[m,k] = g[m,n] · Wᵀ[n,k]: Wᵀ read through W's strides.
            let out = product(m, k, n, g, (n, 1), saved.w.storage::<f32>(), (1, n), None);
            f32_tensor(out, &[m, k])
        });
        let gw = want_w.then(|| {
            // ∂W[k,n] = xᵀ[k,m] · g[m,n]: xᵀ read through x's strides.
            let out = product(k, n, m, saved.x.storage::<f32>(), (1, k), g, (n, 1), None);
            f32_tensor(out, &[k, n])
        });
        (gx, gw)
    }

    /// The backward pass for parents `[x, W]` or `[x, W, b]`: each gradient only when its
    /// parent wants one.
    fn backward_any<const N: usize>(ops: Ops<Saved, N>, grads: &mut Gradients) {
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let ids = ops.parents.map(|p| p.map(|node| node.id));
        let (x_id, w_id, b_id) = (ids[0], ids[1], ids.get(2).copied().flatten());
        let (gx, gw) = Self::grads(&ops.state, &grad, x_id.is_some(), w_id.is_some());
        if let (Some(id), Some(gx)) = (x_id, gx) {
            grads.register::<Flex>(id, gx);
        }
        if let (Some(id), Some(gw)) = (w_id, gw) {
            grads.register::<Flex>(id, gw);
        }
        if let Some(id) = b_id {
            let n = dims2(&ops.state.w).1.max(1);
            let mut gb = vec![0.0f32; n];
            simd::column_sums(grad.storage::<f32>(), &mut gb);
            grads.register::<Flex>(id, f32_tensor(gb, &[n]));
        }
    }
}

impl Backward<Flex, 2> for AffineBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        Self::backward_any(ops, grads);
    }
}

impl Backward<Flex, 3> for AffineBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        Self::backward_any(ops, grads);
    }
}

fn forward_tracked<const N: usize>(inputs: [TrackedTensor; N]) -> TrackedTensor
where
    AffineBackward: Backward<Flex, N, State = Saved>,
{
    match AffineBackward
        .prepare::<Checkpointing>(inputs.each_ref().map(|t| t.node()))
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            // [x, W] or [x, W, b] (N is 2 or 3 by the bound).
            let mut t: Vec<FlexTensor> = inputs
                .into_iter()
                .map(|t| t.into_primitive().to_contiguous())
                .collect();
            let b = t.pop_if(|_| N == 3);
            let out = forward(&t[0], &t[1], b.as_ref());
            let w = t.pop().expect("x and W");
            let x = t.pop().expect("x");
            prep.finish(Saved { x, w }, out)
        }
        OpsKind::UnTracked(prep) => {
            let t: Vec<FlexTensor> = inputs
                .into_iter()
                .map(TrackedTensor::into_primitive)
                .collect();
            prep.finish(forward(&t[0], &t[1], t.get(2)))
        }
    }
}

fn dims2(t: &FlexTensor) -> (usize, usize) {
    let shape = t.layout().shape();
    (shape[0], shape[1])
}

/// `x W + b`.
pub(crate) fn forward(x: &FlexTensor, w: &FlexTensor, b: Option<&FlexTensor>) -> FlexTensor {
    let (x, w) = (x.to_contiguous(), w.to_contiguous());
    let ((m, k), n) = (dims2(&x), dims2(&w).1);
    let b = b.map(FlexTensor::to_contiguous);
    let out = product(
        m,
        n,
        k,
        x.storage::<f32>(),
        (k, 1),
        w.storage::<f32>(),
        (n, 1),
        b.as_ref().map(|b| &b.storage::<f32>()[..n]),
    );
    f32_tensor(out, &[m, n])
}

/// `lhs[m,k] · rhs[k,n]` (plus `bias[n]` on every row), operands given by
/// `(row stride, column stride)` into their slices, as a new row-major `[m, n]` buffer.
#[allow(clippy::too_many_arguments)]
fn product(
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    lhs_strides: (usize, usize),
    rhs: &[f32],
    rhs_strides: (usize, usize),
    bias: Option<&[f32]>,
) -> Vec<f32> {
    assert!(
        bias.is_none_or(|b| b.len() == n),
        "bias of {} for {n} columns",
        bias.map_or(0, <[f32]>::len)
    );
    // The bias on every row, or zeros. Zeroed without a bias although GEMM could overwrite it:
    // leaving it uninitialised measured no faster (docs/performance.md, "Measured and not
    // kept") and needed more unsafe code.
    let mut out = match bias {
        Some(bias) => bias.repeat(m),
        None => vec![0.0f32; m * n],
    };
    // Without a bias GEMM overwrites the zeros instead of reading them.
    gemm_into(
        &mut out,
        bias.is_some(),
        m,
        n,
        k,
        lhs,
        lhs_strides,
        rhs,
        rhs_strides,
    );
    out
}

/// `out[m,n] = lhs[m,k] · rhs[k,n]`, or `+=` with `accumulate`; `out` row-major, the operands
/// given by `(row stride, column stride)` into their slices.
///
/// # Panics
///
/// If `out` is not `m · n` long or a stride reaches past its operand: a bug in the caller.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemm_into(
    out: &mut [f32],
    accumulate: bool,
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    assert_eq!(out.len(), m * n, "gemm output of {m} × {n}");
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    // The bounds the raw-pointer call relies on: every index the strides reach is inside its
    // slice. Checked always; a failure is a bug in this crate, not bad input.
    assert!(
        last(m, k, lhs_rs, lhs_cs) < lhs.len() && last(k, n, rhs_rs, rhs_cs) < rhs.len(),
        "gemm operands smaller than their shapes"
    );
    // SAFETY: the operand pointers come from live slices whose extents were checked above for
    // every index the strides reach; `out` holds `m · n` initialised f32, exclusively borrowed
    // and not aliasing the inputs.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

pub(crate) mod simd {
    use crate::flex::simd_dispatched;

    simd_dispatched! {
        /// `out[j] = Σ_i g[i, j]` for `g` `[rows, out.len()]`.
        pub(crate) fn column_sums(g: &[f32], out: &mut [f32]) {
            for row in g.chunks_exact(out.len()) {
                for (o, &x) in out.iter_mut().zip(row) {
                    *o += x;
                }
            }
        }
    }
}
