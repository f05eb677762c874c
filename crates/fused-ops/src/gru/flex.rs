//! The GRU's gate arithmetic (everything after the two projections) as one fused SIMD kernel
//! for Burn's flex backend, with its own backward pass.
//!
//! Why: composed from tensor ops, a GRU step's gates are a dozen operations on `[batch, hidden]`
//! tensors (slices of the projections, sums, two sigmoids, a `tanh`, products), each allocating
//! its output and a node of the autodiff graph, and each slice costing a zero-filled full-size
//! gradient in the backward pass. At the benchmark's shape those copies, fills and allocations
//! outweighed the arithmetic. Here the forward pass is one pass over each row, keeping `r`, `z`,
//! `n` and `ĥ_n`, and the backward pass is one pass giving the gradients of both projections and
//! of the previous state.
//!
//! [`update`] takes what `route` (`flex.rs`) takes and gives everything else
//! back to the caller's composed ops, which compute the same function.

use crate::flex::{Checkpointing, TrackedTensor, f32_tensor, run};
use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

/// The inputs of [`update`], given back when the kernel does not take them.
pub(crate) type Inputs = Box<(Tensor<2>, Tensor<2>, Tensor<2>)>;

/// `h' = (1 − z) ⊙ n + z ⊙ h` from `projected` (`x̂`, `[batch, 3 · hidden]`), `from_state`
/// (`ĥ`, the same) and `hidden` (`h`, `[batch, hidden]`), gates `[r, z, n]` as in
/// [`gru_update`](crate::gru_update); or the inputs back.
pub(crate) fn update(
    projected: Tensor<2>,
    from_state: Tensor<2>,
    hidden: Tensor<2>,
) -> Result<Tensor<2>, Inputs> {
    let [b, h] = hidden.dims();
    if projected.dims() != [b, 3 * h] || from_state.dims() != [b, 3 * h] {
        return Err(Box::new((projected, from_state, hidden)));
    }
    let inputs = [
        projected.into_dispatch(),
        from_state.into_dispatch(),
        hidden.into_dispatch(),
    ];
    match run(
        inputs,
        |[x, hh, h]| forward(x, hh, h, false).0,
        |[x, hh, h]| forward_tracked(x, hh, h),
    ) {
        Ok(next) => Ok(Tensor::from_dispatch(next)),
        Err(inputs) => {
            let [x, hh, h] = *inputs;
            Err(Box::new((
                Tensor::from_dispatch(x),
                Tensor::from_dispatch(hh),
                Tensor::from_dispatch(h),
            )))
        }
    }
}

/// What the backward pass keeps: `[r, z, n, ĥ_n]` per row, the previous state, the sizes.
#[derive(Clone, Debug)]
struct Saved {
    gates: FlexTensor,
    hidden: FlexTensor,
    dims: [usize; 2],
}

#[derive(Debug)]
struct GruBackward;

impl Backward<Flex, 3> for GruBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, hh_node, h_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let Saved {
            gates,
            hidden,
            dims: [b, h],
        } = ops.state;
        let mut gx = vec![0.0f32; b * 3 * h];
        let mut ghh = vec![0.0f32; b * 3 * h];
        let mut gh = vec![0.0f32; b * h];
        simd::backward(
            grad.storage::<f32>(),
            gates.storage::<f32>(),
            hidden.storage::<f32>(),
            h,
            &mut gx,
            &mut ghh,
            &mut gh,
        );
        if let Some(node) = x_node {
            grads.register::<Flex>(node.id, f32_tensor(gx, &[b, 3 * h]));
        }
        if let Some(node) = hh_node {
            grads.register::<Flex>(node.id, f32_tensor(ghh, &[b, 3 * h]));
        }
        if let Some(node) = h_node {
            grads.register::<Flex>(node.id, f32_tensor(gh, &[b, h]));
        }
    }
}

fn forward_tracked(x: TrackedTensor, hh: TrackedTensor, h: TrackedTensor) -> TrackedTensor {
    match GruBackward
        .prepare::<Checkpointing>([x.node(), hh.node(), h.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let hidden = h.into_primitive().to_contiguous();
            let (out, gates) = forward(
                x.into_primitive(),
                hh.into_primitive(),
                hidden.clone(),
                true,
            );
            let dims = [hidden.layout().shape()[0], hidden.layout().shape()[1]];
            prep.finish(
                Saved {
                    gates,
                    hidden,
                    dims,
                },
                out,
            )
        }
        OpsKind::UnTracked(prep) => {
            let (out, _) = forward(
                x.into_primitive(),
                hh.into_primitive(),
                h.into_primitive(),
                false,
            );
            prep.finish(out)
        }
    }
}

/// The new state, and `[r, z, n, ĥ_n]` per row (when `keep`; else empty).
fn forward(x: FlexTensor, hh: FlexTensor, h: FlexTensor, keep: bool) -> (FlexTensor, FlexTensor) {
    let (x, hh, h) = (x.to_contiguous(), hh.to_contiguous(), h.to_contiguous());
    let (b, size) = (h.layout().shape()[0], h.layout().shape()[1]);
    let mut out = vec![0.0f32; b * size];
    let mut gates = vec![0.0f32; if keep { b * 4 * size } else { 0 }];
    simd::forward(
        x.storage::<f32>(),
        hh.storage::<f32>(),
        h.storage::<f32>(),
        size,
        &mut out,
        &mut gates,
    );
    let kept = gates.len();
    (f32_tensor(out, &[b, size]), f32_tensor(gates, &[kept]))
}

/// The loops, compiled for the widest SIMD the CPU has.
mod simd {
    use crate::flex::lanes;
    use crate::flex::simd_dispatched;

    simd_dispatched! {
        /// Row by row: `r = σ(x̂_r + ĥ_r)`, `z = σ(x̂_z + ĥ_z)`, `n = tanh(x̂_n + r ⊙ ĥ_n)`,
        /// `out = n + z ⊙ (h − n)`; `[r, z, n, ĥ_n]` into `gates` unless it is empty.
        pub(super) fn forward(
            x: &[f32],
            hh: &[f32],
            h: &[f32],
            size: usize,
            out: &mut [f32],
            gates: &mut [f32],
        ) {
            let keep = !gates.is_empty();
            let mut scratch = vec![0.0f32; 4 * size];
            for (row, out) in out.chunks_exact_mut(size).enumerate() {
                let x = &x[row * 3 * size..][..3 * size];
                let hh = &hh[row * 3 * size..][..3 * size];
                let h = &h[row * size..][..size];
                let kept = if keep {
                    &mut gates[row * 4 * size..][..4 * size]
                } else {
                    &mut scratch[..]
                };
                let (r, rest) = kept.split_at_mut(size);
                let (z, rest) = rest.split_at_mut(size);
                let (n, hn) = rest.split_at_mut(size);
                for j in 0..size {
                    r[j] = lanes::sigmoid(x[j] + hh[j]);
                    z[j] = lanes::sigmoid(x[size + j] + hh[size + j]);
                    hn[j] = hh[2 * size + j];
                    n[j] = lanes::tanh(x[2 * size + j] + r[j] * hn[j]);
                    out[j] = n[j] + z[j] * (h[j] - n[j]);
                }
            }
        }
    }

    simd_dispatched! {
        /// With `g` the gradient of `out`: `∂h = g ⊙ z`, `a_z = g ⊙ (h − n) ⊙ z(1 − z)`,
        /// `a_n = g ⊙ (1 − z) ⊙ (1 − n²)`, `a_r = a_n ⊙ ĥ_n ⊙ r(1 − r)`;
        /// `∂x̂ = [a_r, a_z, a_n]`, `∂ĥ = [a_r, a_z, a_n ⊙ r]`.
        pub(super) fn backward(
            grad: &[f32],
            gates: &[f32],
            h: &[f32],
            size: usize,
            gx: &mut [f32],
            ghh: &mut [f32],
            gh: &mut [f32],
        ) {
            for (row, g) in grad.chunks_exact(size).enumerate() {
                let kept = &gates[row * 4 * size..][..4 * size];
                let (r, z, n, hn) = (
                    &kept[..size],
                    &kept[size..2 * size],
                    &kept[2 * size..3 * size],
                    &kept[3 * size..],
                );
                let h = &h[row * size..][..size];
                let gx = &mut gx[row * 3 * size..][..3 * size];
                let ghh = &mut ghh[row * 3 * size..][..3 * size];
                let gh = &mut gh[row * size..][..size];
                for j in 0..size {
                    gh[j] = g[j] * z[j];
                    let a_z = g[j] * (h[j] - n[j]) * z[j] * (1.0 - z[j]);
                    let a_n = g[j] * (1.0 - z[j]) * (1.0 - n[j] * n[j]);
                    let a_r = a_n * hn[j] * r[j] * (1.0 - r[j]);
                    gx[j] = a_r;
                    ghh[j] = a_r;
                    gx[size + j] = a_z;
                    ghh[size + j] = a_z;
                    gx[2 * size + j] = a_n;
                    ghh[2 * size + j] = a_n * r[j];
                }
            }
        }
    }
}
