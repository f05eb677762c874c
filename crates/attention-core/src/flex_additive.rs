//! Bahdanau's additive energy `e_bts = Σ_a v_a tanh(q_bta + k_bsa)` as one fused SIMD kernel
//! for Burn's flex backend, with its own backward pass.
//!
//! Why: composed from tensor ops, the energy writes the `[batch, tgt, src, attention]` sum,
//! passes over it for the `tanh`, multiplies by `v` with a one-column GEMM, and in the backward
//! pass builds `grad ⊗ v` with another GEMM, the `tanh` derivative and a reduction over the
//! source for the query's gradient: several full passes and allocations of the largest tensor
//! of the model, at every decoder step. Here the forward pass is one pass that keeps `tanh`'s
//! values, and the backward pass is one pass that gives the gradients of `q`, `k` and `v`.
//!
//! [`energy`] takes f32 flex tensors (all three with autodiff or none); it gives every other
//! input back to the caller, whose composed ops compute the same function.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::{
    BalancedCheckpointing, CheckpointStrategy, NoCheckpointing,
};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::{FlexTensor, Layout};
use burn::backend::tensor::FloatTensor;
use burn::backend::{
    Autodiff, BackendTensor, DispatchAutodiffContext, DispatchTensor, DispatchTensorKind, Flex,
    GradientCheckpointingStrategy,
};
use burn::prelude::*;
use burn::tensor::{Bytes, DType};

/// `[batch, tgt, src]` energies of `queries` `[batch, tgt, attention]`, `keys`
/// `[batch, src, attention]` and `v` `[attention]` by the fused kernel, or the three inputs back
/// when they are not all f32 flex tensors of matching shapes with the same autodiff setting.
pub(crate) fn energy(
    queries: Tensor<3>,
    keys: Tensor<3>,
    v: Tensor<1>,
) -> Result<Tensor<3>, Box<(Tensor<3>, Tensor<3>, Tensor<1>)>> {
    let [b, _, a] = queries.dims();
    let [bk, _, ak] = keys.dims();
    let fits = bk == b
        && ak == a
        && v.dims() == [a]
        && [queries.dtype(), keys.dtype(), v.dtype()] == [DType::F32; 3];
    if !fits {
        return Err(Box::new((queries, keys, v)));
    }
    let (q, k, v) = (
        queries.into_dispatch(),
        keys.into_dispatch(),
        v.into_dispatch(),
    );
    let context = q.autodiff;
    if k.autodiff != context || v.autodiff != context {
        return Err(Box::new(back(q, k, v)));
    }
    match (context, q.kind, k.kind, v.kind) {
        (
            DispatchAutodiffContext::Disabled,
            DispatchTensorKind::Flex(BackendTensor::Float(q)),
            DispatchTensorKind::Flex(BackendTensor::Float(k)),
            DispatchTensorKind::Flex(BackendTensor::Float(v)),
        ) => {
            let (out, _) = forward(q, k, v, false);
            Ok(Tensor::from_dispatch(DispatchTensor {
                kind: DispatchTensorKind::Flex(BackendTensor::Float(out)),
                autodiff: context,
            }))
        }
        (
            DispatchAutodiffContext::Enabled(strategy),
            DispatchTensorKind::Autodiff(q),
            DispatchTensorKind::Autodiff(k),
            DispatchTensorKind::Autodiff(v),
        ) => match (*q, *k, *v) {
            (
                DispatchTensorKind::Flex(BackendTensor::Autodiff(q)),
                DispatchTensorKind::Flex(BackendTensor::Autodiff(k)),
                DispatchTensorKind::Flex(BackendTensor::Autodiff(v)),
            ) => {
                let out = match strategy {
                    GradientCheckpointingStrategy::Disabled => tracked::<NoCheckpointing>(q, k, v),
                    GradientCheckpointingStrategy::Balanced => {
                        tracked::<BalancedCheckpointing>(q, k, v)
                    }
                };
                Ok(Tensor::from_dispatch(DispatchTensor {
                    kind: DispatchTensorKind::Autodiff(Box::new(DispatchTensorKind::Flex(
                        BackendTensor::Autodiff(out),
                    ))),
                    autodiff: context,
                }))
            }
            (q, k, v) => Err(Box::new(back(
                wrap(DispatchTensorKind::Autodiff(Box::new(q)), context),
                wrap(DispatchTensorKind::Autodiff(Box::new(k)), context),
                wrap(DispatchTensorKind::Autodiff(Box::new(v)), context),
            ))),
        },
        (context, q, k, v) => Err(Box::new(back(
            wrap(q, context),
            wrap(k, context),
            wrap(v, context),
        ))),
    }
}

fn wrap(kind: DispatchTensorKind, autodiff: DispatchAutodiffContext) -> DispatchTensor {
    DispatchTensor { kind, autodiff }
}

fn back(
    q: DispatchTensor,
    k: DispatchTensor,
    v: DispatchTensor,
) -> (Tensor<3>, Tensor<3>, Tensor<1>) {
    (
        Tensor::from_dispatch(q),
        Tensor::from_dispatch(k),
        Tensor::from_dispatch(v),
    )
}

/// What the backward pass keeps: the inputs' shapes, `v`, and `tanh(q + k)`.
#[derive(Clone, Debug)]
struct Saved {
    tanh: FlexTensor,
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
        let Saved { tanh, v, dims } = ops.state;
        let [b, t, s, a] = dims;
        let grad = grad.to_contiguous();
        let mut gq = vec![0.0f32; b * t * a];
        let mut gk = vec![0.0f32; b * s * a];
        let mut gv = vec![0.0f32; a];
        simd::backward(
            grad.storage::<f32>(),
            tanh.storage::<f32>(),
            v.storage::<f32>(),
            dims,
            &mut gq,
            &mut gk,
            &mut gv,
        );
        let tensor = |values: Vec<f32>, shape: Vec<usize>| {
            FlexTensor::new(
                Bytes::from_elems(values),
                Layout::contiguous(shape.into()),
                DType::F32,
            )
        };
        if let Some(node) = q_node {
            grads.register::<Flex>(node.id, tensor(gq, vec![b, t, a]));
        }
        if let Some(node) = k_node {
            grads.register::<Flex>(node.id, tensor(gk, vec![b, s, a]));
        }
        if let Some(node) = v_node {
            grads.register::<Flex>(node.id, tensor(gv, vec![a]));
        }
    }
}

fn tracked<C: CheckpointStrategy>(
    q: FloatTensor<Autodiff<Flex>>,
    k: FloatTensor<Autodiff<Flex>>,
    v: FloatTensor<Autodiff<Flex>>,
) -> FloatTensor<Autodiff<Flex>> {
    match EnergyBackward
        .prepare::<C>([q.node(), k.node(), v.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let v = v.into_primitive().to_contiguous();
            let (out, saved) = forward(q.into_primitive(), k.into_primitive(), v.clone(), true);
            let (tanh, dims) = saved.expect("kept when asked");
            prep.finish(Saved { tanh, v, dims }, out)
        }
        OpsKind::UnTracked(prep) => {
            let (out, _) = forward(
                q.into_primitive(),
                k.into_primitive(),
                v.into_primitive(),
                false,
            );
            prep.finish(out)
        }
    }
}

/// The energies, and (when `keep`) `tanh(q + k)` `[b, t, s, a]` with its dims.
fn forward(
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    keep: bool,
) -> (FlexTensor, Option<(FlexTensor, [usize; 4])>) {
    let (q, k, v) = (q.to_contiguous(), k.to_contiguous(), v.to_contiguous());
    let qs = q.layout().shape();
    let (b, t, a) = (qs[0], qs[1], qs[2]);
    let s = k.layout().shape()[1];
    let mut out = vec![0.0f32; b * t * s];
    let mut tanh = vec![0.0f32; if keep { b * t * s * a } else { a }];
    simd::forward(
        q.storage::<f32>(),
        k.storage::<f32>(),
        v.storage::<f32>(),
        [b, t, s, a],
        &mut out,
        &mut tanh,
        keep,
    );
    let out = FlexTensor::new(
        Bytes::from_elems(out),
        Layout::contiguous(vec![b, t, s].into()),
        DType::F32,
    );
    let saved = keep.then(|| {
        (
            FlexTensor::new(
                Bytes::from_elems(tanh),
                Layout::contiguous(vec![b, t, s, a].into()),
                DType::F32,
            ),
            [b, t, s, a],
        )
    });
    (out, saved)
}

/// The loops, compiled for the widest SIMD the CPU has (see `flex_logistic`).
mod simd {
    use crate::flex_logistic::simd::tanh_lane;

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

    crate::flex_logistic::dispatched! {
        /// `out[b,t,s] = Σ_a v[a] tanh(q[b,t,a] + k[b,s,a])`; `tanh` keeps the values when
        /// `keep` (else it is scratch of length `a`).
        fn forward(
            q: &[f32],
            k: &[f32],
            v: &[f32],
            dims: [usize; 4],
            out: &mut [f32],
            tanh: &mut [f32],
            keep: bool
        ) {
            let [b, t, s, a] = dims;
            for bi in 0..b {
                for ti in 0..t {
                    let q_row = &q[(bi * t + ti) * a..][..a];
                    for si in 0..s {
                        let k_row = &k[(bi * s + si) * a..][..a];
                        let row = (bi * t + ti) * s + si;
                        let y = if keep { &mut tanh[row * a..][..a] } else { &mut tanh[..a] };
                        for ((y, &q), &k) in y.iter_mut().zip(q_row).zip(k_row) {
                            *y = tanh_lane(q + k);
                        }
                        out[row] = dot(y, v);
                    }
                }
            }
        }
    }

    crate::flex_logistic::dispatched! {
        /// With `gx = grad[b,t,s] · v[a] · (1 − tanh²)`: `gq[b,t,a] = Σ_s gx`,
        /// `gk[b,s,a] = Σ_t gx`, `gv[a] = Σ_{b,t,s} grad[b,t,s] · tanh`.
        fn backward(
            grad: &[f32],
            tanh: &[f32],
            v: &[f32],
            dims: [usize; 4],
            gq: &mut [f32],
            gk: &mut [f32],
            gv: &mut [f32]
        ) {
            let [b, t, s, a] = dims;
            for bi in 0..b {
                for ti in 0..t {
                    for si in 0..s {
                        let row = (bi * t + ti) * s + si;
                        let g = grad[row];
                        let y = &tanh[row * a..][..a];
                        let gq_row = &mut gq[(bi * t + ti) * a..][..a];
                        let gk_row = &mut gk[(bi * s + si) * a..][..a];
                        for i in 0..a {
                            let gx = g * v[i] * (1.0 - y[i] * y[i]);
                            gq_row[i] += gx;
                            gk_row[i] += gx;
                            gv[i] += g * y[i];
                        }
                    }
                }
            }
        }
    }
}
