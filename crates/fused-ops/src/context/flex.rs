//! The context `c_bt = Σ_s α_bts h_bs` as one SIMD kernel for Burn's flex backend under
//! autodiff, whose backward pass leaves the values' gradient to their [`StepSource`] sum.
//!
//! Why: as a batched matrix product, each decoder step's backward pass materialises `Hᵀ` and
//! `αᵀ`, zero-fills two outputs and gives a full `[batch, src_len, key_size]` gradient of the
//! values that Burn then adds to the running sum: work on the whole memory at every step. Here a
//! step's backward pass reads the memory once for the weights' gradient and keeps its `α` and
//! output gradient; the values' gradient `Σ_t α_tᵀ ∂c_t` is one matrix product per batch row
//! when the sum is handed on ([`GradSum::add_outer_later`]).

use std::sync::Arc;

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex::{Checkpointing, Routed, TrackedTensor, f32_tensor, route, tracked};
use crate::steps::flex::{GradSum, StepSource};

/// `[batch, tgt, key_size]` contexts of `weights` `[batch, tgt, src]` over the values of
/// `values`, or `weights` back when they are not an f32 flex tensor under autodiff or their
/// shape does not fit.
pub(crate) fn context(
    weights: Tensor<3>,
    values: &StepSource,
) -> Result<Tensor<3>, Box<Tensor<3>>> {
    let [b, _, s] = weights.dims();
    let [vb, vs, _] = values.dims();
    if vb != b || vs != s {
        return Err(Box::new(weights));
    }
    match route([weights.into_dispatch()]) {
        Ok(Routed::Tracked([w])) => Ok(Tensor::from_dispatch(tracked(forward_tracked(
            w,
            values.relay(),
            values.sum().clone(),
        )))),
        Ok(Routed::Plain([w])) => Err(Box::new(Tensor::from_dispatch(crate::flex::plain(w)))),
        Err(inputs) => {
            let [w] = *inputs;
            Err(Box::new(Tensor::from_dispatch(w)))
        }
    }
}

/// What the backward pass keeps: the weights and the values (contiguous).
#[derive(Clone, Debug)]
struct Saved {
    weights: FlexTensor,
    values: FlexTensor,
    sum: Arc<GradSum>,
}

#[derive(Debug)]
struct ContextBackward;

impl Backward<Flex, 2> for ContextBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [w_node, _] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let Saved {
            weights,
            values,
            sum,
        } = ops.state;
        let [b, s, h] = sum.shape();
        let t = weights.layout().shape()[1];
        let (grad, w) = (grad.storage::<f32>(), weights.storage::<f32>());
        let mut gw = vec![0.0f32; b * t * s];
        simd::weights_grad(grad, values.storage::<f32>(), [b, t, s, h], &mut gw);
        // gv[b] += wᵀ grad, with every other step's, in one product per batch row.
        sum.add_outer_later(t, w.to_vec(), grad.to_vec());
        if let Some(node) = w_node {
            grads.register::<Flex>(node.id, f32_tensor(gw, &[b, t, s]));
        }
    }
}

fn forward_tracked(w: TrackedTensor, values: TrackedTensor, sum: Arc<GradSum>) -> TrackedTensor {
    let [b, s, h] = sum.shape();
    let prep = ContextBackward
        .prepare::<Checkpointing>([w.node(), values.node()])
        .compute_bound()
        .stateful();
    let weights = w.into_primitive().to_contiguous();
    let values = values.into_primitive();
    let t = weights.layout().shape()[1];
    let mut out = vec![0.0f32; b * t * h];
    simd::forward(
        weights.storage::<f32>(),
        values.storage::<f32>(),
        [b, t, s, h],
        &mut out,
    );
    let out = f32_tensor(out, &[b, t, h]);
    match prep {
        OpsKind::Tracked(prep) => prep.finish(
            Saved {
                weights,
                values,
                sum,
            },
            out,
        ),
        OpsKind::UnTracked(prep) => prep.finish(out),
    }
}

/// The loops, compiled for the widest SIMD the CPU has.
mod simd {
    use crate::flex::lanes;
    use crate::flex::simd_dispatched;

    /// Output values summed in registers at once by [`forward`]: four AVX-512 registers.
    const BLOCK: usize = 64;

    simd_dispatched! {
        /// `out[b,t] = Σ_s w[b,t,s] · v[b,s]` (rows of `h`).
        pub(super) fn forward(w: &[f32], v: &[f32], dims: [usize; 4], out: &mut [f32]) {
            let [b, t, s, h] = dims;
            for bi in 0..b {
                for ti in 0..t {
                    let out_row = &mut out[(bi * t + ti) * h..][..h];
                    let w_row = &w[(bi * t + ti) * s..][..s];
                    // A block of the output row stays in registers over the source positions
                    // (one load and one multiply-add per value of `v`, no store).
                    for (block, out_block) in out_row.chunks_mut(BLOCK).enumerate() {
                        let mut acc = [0.0f32; BLOCK];
                        let acc = &mut acc[..out_block.len()];
                        for (si, &weight) in w_row.iter().enumerate() {
                            let v_block = &v[(bi * s + si) * h + block * BLOCK..][..acc.len()];
                            for (o, &x) in acc.iter_mut().zip(v_block) {
                                *o += weight * x;
                            }
                        }
                        out_block.copy_from_slice(acc);
                    }
                }
            }
        }
    }

    simd_dispatched! {
        /// `gw[b,t,s] = grad[b,t] · v[b,s]`.
        pub(super) fn weights_grad(grad: &[f32], v: &[f32], dims: [usize; 4], gw: &mut [f32]) {
            let [b, t, s, h] = dims;
            for bi in 0..b {
                for ti in 0..t {
                    let g_row = &grad[(bi * t + ti) * h..][..h];
                    for si in 0..s {
                        let v_row = &v[(bi * s + si) * h..][..h];
                        gw[(bi * t + ti) * s + si] = lanes::dot(g_row, v_row);
                    }
                }
            }
        }
    }
}
