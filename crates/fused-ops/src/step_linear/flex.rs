//! The relay of a [`super::StepLinear`] on Burn's flex backend under autodiff: the steps leave
//! `(x_t, g_t)`, the relay turns them into the weight's and the bias's gradients at once.
//!
//! One node sits between the parameters `W` (and `b`) and the loop (the identity on `W`, sharing
//! its buffer; `b`'s values are kept beside it). Each step's product `x_t W + b` is a node whose
//! parents are `x_t` and the relay: its backward pass gives `∂x_t = g_t Wᵀ` as usual, and
//! instead of `∂W` it keeps `(x_t, g_t)` in the relay's list. The relay's backward pass, which
//! Burn runs after all of its readers' (they are deeper in the graph), stacks the list into `X`
//! `[Σ rows, in]` and `G` `[Σ rows, out]` and registers `∂W = Xᵀ G` and `∂b = Σ_rows G` once.
//! A step whose backward pass never runs (its output did not reach the loss) leaves nothing,
//! which is its true gradient. The relay tensor is never given out, so no other op can register
//! a gradient on it that the relay would not pass on.

use std::sync::{Arc, Mutex, PoisonError};

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::nn::Linear;
use burn::prelude::*;

use crate::flex::{Checkpointing, Routed, TrackedTensor, f32_tensor, route, tracked};
use crate::linear::flex::{forward, gemm_into, simd::column_sums};

/// Every step's `(x_t, g_t)`, contiguous, `[rows, in]` and `[rows, out]`.
#[derive(Debug, Default)]
struct StepGrads(Mutex<Vec<(FlexTensor, FlexTensor)>>);

impl StepGrads {
    fn push(&self, x: FlexTensor, g: FlexTensor) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((x, g));
    }

    fn take(&self) -> Vec<(FlexTensor, FlexTensor)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A `Linear`'s parameters behind a relay (see the module's documentation).
#[derive(Debug, Clone)]
pub(crate) struct RelayedLinear {
    /// The identity of `W` `[in, out]`, whose backward pass registers `∂W` and `∂b`.
    relay: TrackedTensor,
    /// `Wᵀ`, contiguous `[out, in]`, made once for the loop: each step's `∂x = g Wᵀ` reads it
    /// as GEMM's operand in place, where `W`'s own layout had GEMM copy (pack) `W` element by
    /// element at every step — 29 % of a G2P training step on one thread (docs/performance.md).
    w_t: FlexTensor,
    /// `b`'s values, `[out]`.
    bias: Option<FlexTensor>,
    steps: Arc<StepGrads>,
}

impl RelayedLinear {
    /// `layer`'s parameters behind a relay when they are f32 flex tensors under autodiff and
    /// `W` needs a gradient; `None` otherwise.
    pub(crate) fn new(layer: &Linear) -> Option<Self> {
        let w = layer.weight.val().into_dispatch();
        match layer.bias.as_ref().map(|b| b.val().into_dispatch()) {
            Some(b) => {
                let Ok(Routed::Tracked([w, b])) = route([w, b]) else {
                    return None;
                };
                let prep = RelayBackward
                    .prepare::<Checkpointing>([w.node(), b.node()])
                    .compute_bound()
                    .stateful();
                let bias = Some(b.into_primitive().to_contiguous());
                relay(prep, w, bias)
            }
            None => {
                let Ok(Routed::Tracked([w])) = route([w]) else {
                    return None;
                };
                let prep = RelayBackward
                    .prepare::<Checkpointing>([w.node()])
                    .compute_bound()
                    .stateful();
                relay(prep, w, None)
            }
        }
    }

    /// `x W + b` as a step reading the relay; `x` back when it is not an f32 flex tensor under
    /// autodiff or its width is not `W`'s.
    pub(crate) fn forward(&self, x: Tensor<2>) -> Result<Tensor<2>, Box<Tensor<2>>> {
        let w = self.relay.primitive();
        if x.dims()[1] != w.layout().shape()[0] {
            return Err(Box::new(x));
        }
        let x = match route([x.into_dispatch()]) {
            Ok(Routed::Tracked([x])) => x,
            Ok(Routed::Plain([x])) => {
                return Err(Box::new(Tensor::from_dispatch(crate::flex::plain(x))));
            }
            Err(back) => {
                let [x] = *back;
                return Err(Box::new(Tensor::from_dispatch(x)));
            }
        };
        let out = match StepBackward
            .prepare::<Checkpointing>([x.node(), self.relay.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = x.into_primitive().to_contiguous();
                let out = forward(&x, w, self.bias.as_ref());
                prep.finish((x, self.w_t.clone(), self.steps.clone()), out)
            }
            OpsKind::UnTracked(prep) => {
                let x = x.into_primitive();
                prep.finish(forward(&x, w, self.bias.as_ref()))
            }
        };
        Ok(Tensor::from_dispatch(tracked(out)))
    }
}

/// The relay over `w` (with `b`'s values) from a prepared relay op, or `None` when nothing
/// needs a gradient.
fn relay<const N: usize>(
    prep: OpsKind<RelayBackward, Flex, Arc<StepGrads>, Checkpointing, N>,
    w: TrackedTensor,
    bias: Option<FlexTensor>,
) -> Option<RelayedLinear>
where
    RelayBackward: Backward<Flex, N, State = Arc<StepGrads>>,
{
    match prep {
        OpsKind::Tracked(prep) => {
            let steps = Arc::new(StepGrads::default());
            let w = w.into_primitive().to_contiguous();
            let w_t = transposed(&w);
            Some(RelayedLinear {
                relay: prep.finish(steps.clone(), w),
                w_t,
                bias,
                steps,
            })
        }
        OpsKind::UnTracked(_) => None,
    }
}

/// The relay: `∂W = Xᵀ G` and `∂b = Σ_rows G` from every step's `(x_t, g_t)`.
#[derive(Debug)]
struct RelayBackward;

impl RelayBackward {
    fn backward_any<const N: usize>(ops: Ops<Arc<StepGrads>, N>, grads: &mut Gradients) {
        let pairs = ops.state.take();
        let Some((first_x, first_g)) = pairs.first() else {
            return;
        };
        let (k, n) = (first_x.layout().shape()[1], first_g.layout().shape()[1]);
        let rows: usize = pairs.iter().map(|(x, _)| x.layout().shape()[0]).sum();
        let (mut x_all, mut g_all) = (Vec::with_capacity(rows * k), Vec::with_capacity(rows * n));
        for (x, g) in &pairs {
            x_all.extend_from_slice(x.storage::<f32>());
            g_all.extend_from_slice(g.storage::<f32>());
        }
        let ids = ops.parents.map(|p| p.map(|node| node.id));
        if let Some(id) = ids[0] {
            // ∂W[k,n] = Xᵀ[k,rows] · G[rows,n]: Xᵀ read through X's strides.
            let mut gw = vec![0.0f32; k * n];
            gemm_into(&mut gw, false, k, n, rows, &x_all, (1, k), &g_all, (n, 1));
            grads.register::<Flex>(id, f32_tensor(gw, &[k, n]));
        }
        if let Some(id) = ids.get(1).copied().flatten() {
            let mut gb = vec![0.0f32; n];
            column_sums(&g_all, &mut gb);
            grads.register::<Flex>(id, f32_tensor(gb, &[n]));
        }
    }
}

impl Backward<Flex, 1> for RelayBackward {
    type State = Arc<StepGrads>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        Self::backward_any(ops, grads);
    }
}

impl Backward<Flex, 2> for RelayBackward {
    type State = Arc<StepGrads>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        Self::backward_any(ops, grads);
    }
}

/// One step's product: `∂x = g Wᵀ` now, `(x, g)` left for the relay.
#[derive(Debug)]
struct StepBackward;

impl Backward<Flex, 2> for StepBackward {
    /// The step's `x` `[rows, in]`, the loop's `Wᵀ` `[out, in]` and the relay's list.
    type State = (FlexTensor, FlexTensor, Arc<StepGrads>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let [x_node, relay_node] = ops.parents;
        let (x, w_t, steps) = ops.state;
        if let Some(node) = x_node {
            // ∂x[m,k] = g[m,n] · Wᵀ[n,k], Wᵀ contiguous.
            let shape = w_t.layout().shape();
            let (n, k) = (shape[0], shape[1]);
            let m = grad.layout().shape()[0];
            let mut gx = vec![0.0f32; m * k];
            gemm_into(
                &mut gx,
                false,
                m,
                k,
                n,
                grad.storage::<f32>(),
                (n, 1),
                w_t.storage::<f32>(),
                (k, 1),
            );
            grads.register::<Flex>(node.id, f32_tensor(gx, &[m, k]));
        }
        if relay_node.is_some() {
            steps.push(x, grad);
        }
    }
}

/// `w` `[k, n]` transposed into a contiguous `[n, k]` by [`transpose`].
fn transposed(w: &FlexTensor) -> FlexTensor {
    let shape = w.layout().shape();
    let (k, n) = (shape[0], shape[1]);
    let mut out = vec![0.0f32; k * n];
    transpose(w.storage::<f32>(), k, n, &mut out);
    f32_tensor(out, &[n, k])
}

/// The side of [`transpose`]'s tiles.
const TILE: usize = 16;

/// `src` `[k, n]` (row-major) into `out` `[n, k]`, in 16 × 16 tiles: a tile's 16 rows are read
/// whole into a local array and written out as its 16 columns, so that reads and writes are
/// contiguous runs of 16, which the compiler moves with vector loads, stores and shuffles (an
/// element-by-element copy in blocks took 1.5–2.5× longer in isolation on the G2P preset's
/// weight shapes). Past the last whole tile, element by element. (Compiled for the baseline CPU:
/// an AVX2 or AVX-512 build of the same loop was not faster.)
fn transpose(src: &[f32], k: usize, n: usize, out: &mut [f32]) {
    let (whole_k, whole_n) = (k / TILE * TILE, n / TILE * TILE);
    for i0 in (0..whole_k).step_by(TILE) {
        for j0 in (0..whole_n).step_by(TILE) {
            let mut tile = [[0.0f32; TILE]; TILE];
            for (r, row) in tile.iter_mut().enumerate() {
                let start = (i0 + r) * n + j0;
                row.copy_from_slice(&src[start..start + TILE]);
            }
            for c in 0..TILE {
                let start = (j0 + c) * k + i0;
                for (value, row) in out[start..start + TILE].iter_mut().zip(&tile) {
                    *value = row[c];
                }
            }
        }
    }
    for i in 0..k {
        let first = if i < whole_k { whole_n } else { 0 };
        for j in first..n {
            out[j * k + i] = src[i * n + j];
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn transpose_matches_the_definition_on_whole_tiles_and_edges() {
        for (k, n) in [(32, 48), (37, 21), (5, 70), (16, 16), (1, 1), (0, 3)] {
            let src: Vec<f32> = (0..k * n).map(|x| x as f32).collect();
            let mut out = vec![-1.0; k * n];
            super::transpose(&src, k, n, &mut out);
            for i in 0..k {
                for j in 0..n {
                    assert_eq!(out[j * k + i], src[i * n + j], "[{i}, {j}] of {k} × {n}");
                }
            }
        }
    }
}
