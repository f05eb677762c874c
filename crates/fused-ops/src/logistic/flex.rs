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
//! tensor to Burn's own op.

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex::{Checkpointing, TrackedTensor, owned, run};
use crate::logistic::Logistic;

/// `kind` of `x` by the SIMD kernel when `x` is an f32 flex tensor (see
/// [`route`](crate::flex::route)), else `otherwise(x)` (Burn's ops).
pub(crate) fn apply<const D: usize>(
    x: Tensor<D>,
    kind: Logistic,
    otherwise: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    match run(
        [x.into_dispatch()],
        |[x]| forward(x, kind),
        |[x]| forward_tracked(x, kind),
    ) {
        Ok(y) => Tensor::from_dispatch(y),
        Err(inputs) => {
            let [x] = *inputs;
            otherwise(Tensor::from_dispatch(x))
        }
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
fn forward_tracked(x: TrackedTensor, kind: Logistic) -> TrackedTensor {
    match (LogisticBackward { kind })
        .prepare::<Checkpointing>([x.node()])
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
    // In place when `x` is its buffer's only owner.
    let mut y = owned(x);
    let values = y.storage_mut::<f32>();
    match kind {
        Logistic::Sigmoid { scale } => simd::sigmoid(values, scale),
        Logistic::Tanh => simd::tanh(values),
    }
    y
}

fn derivative(grad: FlexTensor, output: &FlexTensor, kind: Logistic) -> FlexTensor {
    let mut grad_out = owned(grad);
    let output = output.to_contiguous();
    let g = grad_out.storage_mut::<f32>();
    let y = output.storage::<f32>();
    match kind {
        Logistic::Sigmoid { scale } => simd::sigmoid_derivative(g, y, scale),
        Logistic::Tanh => simd::tanh_derivative(g, y),
    }
    grad_out
}

/// The element loops.
mod simd {
    use crate::flex::lanes;
    use crate::flex::simd_dispatched;

    simd_dispatched! {
        /// `x ← σ(scale·x)`.
        pub(super) fn sigmoid(x: &mut [f32], scale: f32) {
            for v in x.iter_mut() {
                *v = lanes::sigmoid(scale * *v);
            }
        }
    }

    simd_dispatched! {
        /// `x ← tanh x`.
        pub(super) fn tanh(x: &mut [f32]) {
            for v in x.iter_mut() {
                *v = lanes::tanh(*v);
            }
        }
    }

    simd_dispatched! {
        /// `g ← g · scale · y(1 − y)`, the sigmoid's derivative from its output.
        pub(super) fn sigmoid_derivative(g: &mut [f32], y: &[f32], scale: f32) {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= scale * y * (1.0 - y);
            }
        }
    }

    simd_dispatched! {
        /// `g ← g · (1 − y²)`, `tanh`'s derivative from its output.
        pub(super) fn tanh_derivative(g: &mut [f32], y: &[f32]) {
            for (g, &y) in g.iter_mut().zip(y) {
                *g *= 1.0 - y * y;
            }
        }
    }
}
