//! Bahdanau's additive energy `e_bts = Σ_a v_a tanh(q_bta + k_bsa)` as one fused SIMD kernel
//! for Burn's flex backend, with its own backward pass.
//!
//! Why: composed from tensor ops, the energy writes the `[batch, tgt, src, attention]` sum,
//! passes over it for the `tanh`, multiplies by `v` with a one-column GEMM, and in the backward
//! pass builds `grad ⊗ v` with another GEMM, the `tanh` derivative and a reduction over the
//! source for the query's gradient: several full passes and allocations of the largest tensor
//! of the model, at every decoder step. Here the forward pass is one pass that writes only the
//! energies, and the backward pass is one pass that computes `tanh` again and gives the
//! gradients of `q`, `k` and `v`.
//!
//! [`energy`] takes f32 flex tensors (all three with autodiff or none); it gives every other
//! input back to the caller, whose composed ops compute the same function.

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex_kernel::{Checkpointing, TrackedTensor, f32_tensor, run};

/// `[batch, tgt, src]` energies of `queries` `[batch, tgt, attention]`, `keys`
/// `[batch, src, attention]` and `v` `[attention]` by the fused kernel, or the three inputs back
/// when their shapes do not match or [`route`] does not take them.
pub(crate) fn energy(
    queries: Tensor<3>,
    keys: Tensor<3>,
    v: Tensor<1>,
) -> Result<Tensor<3>, Box<(Tensor<3>, Tensor<3>, Tensor<1>)>> {
    let [b, _, a] = queries.dims();
    let [bk, _, ak] = keys.dims();
    if bk != b || ak != a || v.dims() != [a] {
        return Err(Box::new((queries, keys, v)));
    }
    let inputs = [
        queries.into_dispatch(),
        keys.into_dispatch(),
        v.into_dispatch(),
    ];
    let plain_op = |inputs: [FlexTensor; 3]| {
        let [q, k, v] = inputs.map(|t| t.to_contiguous());
        forward(&q, &k, &v).0
    };
    match run(inputs, plain_op, |[q, k, v]| forward_tracked(q, k, v)) {
        Ok(energy) => Ok(Tensor::from_dispatch(energy)),
        Err(inputs) => {
            let [q, k, v] = *inputs;
            Err(Box::new((
                Tensor::from_dispatch(q),
                Tensor::from_dispatch(k),
                Tensor::from_dispatch(v),
            )))
        }
    }
}

/// What the backward pass keeps: the inputs (contiguous) and their sizes. `tanh(q + k)` is
/// computed again rather than kept: it is the largest tensor of a step (`[b, t, s, a]`, 3 MB
/// per decoder step at the benchmark's length 48), and reading it back cost more than the SIMD
/// `tanh`.
#[derive(Clone, Debug)]
struct Saved {
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    dims: [usize; 4],
}

#[derive(Debug)]
struct EnergyBackward;

impl Backward<Flex, 3> for EnergyBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [q_node, k_node, v_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let Saved { q, k, v, dims } = ops.state;
        let [b, t, s, a] = dims;
        let grad = grad.to_contiguous();
        let mut gq = vec![0.0f32; b * t * a];
        // Filled row by row (not zeroed first: at long sources this is the largest buffer).
        let mut gk = Vec::with_capacity(b * s * a);
        let mut gv = vec![0.0f32; a];
        simd::backward(
            grad.storage::<f32>(),
            q.storage::<f32>(),
            k.storage::<f32>(),
            v.storage::<f32>(),
            dims,
            &mut gq,
            &mut gk,
            &mut gv,
        );
        if let Some(node) = q_node {
            grads.register::<Flex>(node.id, f32_tensor(gq, &[b, t, a]));
        }
        if let Some(node) = k_node {
            grads.register::<Flex>(node.id, f32_tensor(gk, &[b, s, a]));
        }
        if let Some(node) = v_node {
            grads.register::<Flex>(node.id, f32_tensor(gv, &[a]));
        }
    }
}

fn forward_tracked(q: TrackedTensor, k: TrackedTensor, v: TrackedTensor) -> TrackedTensor {
    match EnergyBackward
        .prepare::<Checkpointing>([q.node(), k.node(), v.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().to_contiguous());
            let (out, dims) = forward(&q, &k, &v);
            prep.finish(Saved { q, k, v, dims }, out)
        }
        OpsKind::UnTracked(prep) => {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().to_contiguous());
            prep.finish(forward(&q, &k, &v).0)
        }
    }
}

/// The energies of contiguous `q`, `k`, `v`, and the sizes `[b, t, s, a]`.
fn forward(q: &FlexTensor, k: &FlexTensor, v: &FlexTensor) -> (FlexTensor, [usize; 4]) {
    let qs = q.layout().shape();
    let (b, t, a) = (qs[0], qs[1], qs[2]);
    let s = k.layout().shape()[1];
    let mut out = vec![0.0f32; b * t * s];
    simd::forward(
        q.storage::<f32>(),
        k.storage::<f32>(),
        v.storage::<f32>(),
        [b, t, s, a],
        &mut out,
    );
    (f32_tensor(out, &[b, t, s]), [b, t, s, a])
}

/// The loops, compiled for the widest SIMD the CPU has.
mod simd {
    use crate::flex_kernel::lanes;
    use crate::simd_dispatched;

    /// Lanes of the partial sums of a dot product: the compiler keeps them in registers and
    /// vectorises, where a single running sum would be a serial chain.
    const LANES: usize = 16;

    #[inline(always)]
    fn dot(x: &[f32], y: &[f32]) -> f32 {
        let mut acc = [0.0f32; LANES];
        let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
        let (xr, yr) = (xc.remainder(), yc.remainder());
        for (x, y) in xc.zip(yc) {
            for i in 0..LANES {
                acc[i] += x[i] * y[i];
            }
        }
        let tail: f32 = xr.iter().zip(yr).map(|(x, y)| x * y).sum();
        acc.iter().sum::<f32>() + tail
    }

    simd_dispatched! {
        /// `out[b,t,s] = Σ_a v[a] tanh(q[b,t,a] + k[b,s,a])`.
        pub(super) fn forward(q: &[f32], k: &[f32], v: &[f32], dims: [usize; 4], out: &mut [f32]) {
            let [b, t, s, a] = dims;
            let mut y = vec![0.0f32; a];
            for bi in 0..b {
                for ti in 0..t {
                    let q_row = &q[(bi * t + ti) * a..][..a];
                    for si in 0..s {
                        let k_row = &k[(bi * s + si) * a..][..a];
                        for ((y, &q), &k) in y.iter_mut().zip(q_row).zip(k_row) {
                            *y = lanes::tanh(q + k);
                        }
                        out[(bi * t + ti) * s + si] = dot(&y, v);
                    }
                }
            }
        }
    }

    simd_dispatched! {
        /// With `y = tanh(q[b,t] + k[b,s])` and `gx = grad[b,t,s] · v ⊙ (1 − y²)`:
        /// `gq[b,t] = Σ_s gx`, `gk[b,s] = Σ_t gx` (rows appended to `gk`),
        /// `gv = Σ_{b,t,s} grad[b,t,s] · y`.
        #[allow(clippy::too_many_arguments)]
        pub(super) fn backward(
            grad: &[f32],
            q: &[f32],
            k: &[f32],
            v: &[f32],
            dims: [usize; 4],
            gq: &mut [f32],
            gk: &mut Vec<f32>,
            gv: &mut [f32],
        ) {
            let [b, t, s, a] = dims;
            let mut gk_row = vec![0.0f32; a];
            for bi in 0..b {
                for si in 0..s {
                    let k_row = &k[(bi * s + si) * a..][..a];
                    gk_row.fill(0.0);
                    for ti in 0..t {
                        let g = grad[(bi * t + ti) * s + si];
                        let q_row = &q[(bi * t + ti) * a..][..a];
                        let gq_row = &mut gq[(bi * t + ti) * a..][..a];
                        for i in 0..a {
                            let y = lanes::tanh(q_row[i] + k_row[i]);
                            let gx = g * v[i] * (1.0 - y * y);
                            gq_row[i] += gx;
                            gk_row[i] += gx;
                            gv[i] += g * y;
                        }
                    }
                    gk.extend_from_slice(&gk_row);
                }
            }
        }
    }
}
