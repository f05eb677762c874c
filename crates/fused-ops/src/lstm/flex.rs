//! The LSTM's gate arithmetic (everything after the two projections) as two fused SIMD kernels
//! for Burn's flex backend, each with its own backward pass.
//!
//! Why: composed from tensor ops, an LSTM step's gates are a dozen operations on
//! `[batch, hidden]` tensors (the projections' sum, four slices of it, three sigmoids, two
//! `tanh`s, products and a sum), each allocating its output and a node of the autodiff graph,
//! and each slice costing a zero-filled `[batch, 4 · hidden]` gradient in the backward pass, as
//! the GRU's did (`gru/flex.rs`). Here the step is two ops, because Burn's autodiff ops give one
//! output each: the cell op gives `c'` from `(x̂, ĥ, c)` and keeps `i`, `f`, `g`; the output op
//! gives `h'` from `(x̂, ĥ, c')` and keeps `o` and `tanh c'`. Each backward pass is one pass
//! over the rows; `x̂` and `ĥ` enter only through their sum, so one gradient buffer serves both.
//!
//! [`update`] takes what `route` (`flex.rs`) takes and gives everything else back to the
//! caller's composed ops, which compute the same function.

use burn::backend::Flex;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex::{Checkpointing, TrackedTensor, f32_tensor, run};

/// The inputs of [`update`], given back when the kernels do not take them.
pub(crate) type Inputs = Box<(Tensor<2>, Tensor<2>, Tensor<2>)>;

/// `(h', c')` from `projected` (`x̂`, `[batch, 4 · hidden]`), `from_state` (`ĥ`, the same) and
/// `cell` (`c`, `[batch, hidden]`), gates `[i, f, g, o]` as in
/// [`lstm_update`](crate::lstm_update); or the inputs back.
pub(crate) fn update(
    projected: Tensor<2>,
    from_state: Tensor<2>,
    cell: Tensor<2>,
) -> Result<(Tensor<2>, Tensor<2>), Inputs> {
    let [b, h] = cell.dims();
    if projected.dims() != [b, 4 * h] || from_state.dims() != [b, 4 * h] {
        return Err(Box::new((projected, from_state, cell)));
    }
    let inputs = [
        projected.clone().into_dispatch(),
        from_state.clone().into_dispatch(),
        cell.into_dispatch(),
    ];
    let next_cell = match run(
        inputs,
        |[x, hh, c]| cell_forward(x, hh, c, false).0,
        |[x, hh, c]| cell_tracked(x, hh, c),
    ) {
        Ok(next) => Tensor::<2>::from_dispatch(next),
        Err(inputs) => {
            let [x, hh, c] = *inputs;
            return Err(Box::new((
                Tensor::from_dispatch(x),
                Tensor::from_dispatch(hh),
                Tensor::from_dispatch(c),
            )));
        }
    };
    let inputs = [
        projected.into_dispatch(),
        from_state.into_dispatch(),
        next_cell.clone().into_dispatch(),
    ];
    match run(
        inputs,
        |[x, hh, c]| output_forward(x, hh, c, false).0,
        |[x, hh, c]| output_tracked(x, hh, c),
    ) {
        Ok(hidden) => Ok((Tensor::from_dispatch(hidden), next_cell)),
        // The cell op took these very tensors, so the output op does too.
        Err(_) => unreachable!("the output op routes what the cell op routed"),
    }
}

/// What the cell op's backward pass keeps: `[i, f, g]` per row, the previous cell, the sizes.
#[derive(Clone, Debug)]
struct CellSaved {
    gates: FlexTensor,
    cell: FlexTensor,
    dims: [usize; 2],
}

#[derive(Debug)]
struct CellBackward;

impl Backward<Flex, 3> for CellBackward {
    type State = CellSaved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, hh_node, c_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let CellSaved {
            gates,
            cell,
            dims: [b, h],
        } = ops.state;
        let mut ga = vec![0.0f32; b * 4 * h];
        let mut gc = vec![0.0f32; b * h];
        simd::cell_backward(
            grad.storage::<f32>(),
            gates.storage::<f32>(),
            cell.storage::<f32>(),
            h,
            &mut ga,
            &mut gc,
        );
        let nodes = [x_node, hh_node, c_node].map(|n| n.map(|n| n.id));
        register(grads, nodes, (ga, gc), [b, h]);
    }
}

/// What the output op's backward pass keeps: `[o, tanh c']` per row, the sizes.
#[derive(Clone, Debug)]
struct OutputSaved {
    kept: FlexTensor,
    dims: [usize; 2],
}

#[derive(Debug)]
struct OutputBackward;

impl Backward<Flex, 3> for OutputBackward {
    type State = OutputSaved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [x_node, hh_node, c_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let OutputSaved { kept, dims: [b, h] } = ops.state;
        let mut ga = vec![0.0f32; b * 4 * h];
        let mut gc = vec![0.0f32; b * h];
        simd::output_backward(
            grad.storage::<f32>(),
            kept.storage::<f32>(),
            h,
            &mut ga,
            &mut gc,
        );
        let nodes = [x_node, hh_node, c_node].map(|n| n.map(|n| n.id));
        register(grads, nodes, (ga, gc), [b, h]);
    }
}

/// Registers a step's gradients: `ga` (`[batch, 4 · hidden]`), the gradient of `a = x̂ + ĥ` and
/// so of both projections (one buffer, shared), and `gc` (`[batch, hidden]`) of the state.
fn register(
    grads: &mut Gradients,
    [x, hh, c]: [Option<NodeId>; 3],
    (ga, gc): (Vec<f32>, Vec<f32>),
    [b, h]: [usize; 2],
) {
    let ga = f32_tensor(ga, &[b, 4 * h]);
    for node in [x, hh].into_iter().flatten() {
        grads.register::<Flex>(node, ga.clone());
    }
    if let Some(node) = c {
        grads.register::<Flex>(node, f32_tensor(gc, &[b, h]));
    }
}

fn cell_tracked(x: TrackedTensor, hh: TrackedTensor, c: TrackedTensor) -> TrackedTensor {
    match CellBackward
        .prepare::<Checkpointing>([x.node(), hh.node(), c.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let cell = c.into_primitive().to_contiguous();
            let dims = [cell.layout().shape()[0], cell.layout().shape()[1]];
            let (out, gates) =
                cell_forward(x.into_primitive(), hh.into_primitive(), cell.clone(), true);
            prep.finish(CellSaved { gates, cell, dims }, out)
        }
        OpsKind::UnTracked(prep) => {
            let (out, _) = cell_forward(
                x.into_primitive(),
                hh.into_primitive(),
                c.into_primitive(),
                false,
            );
            prep.finish(out)
        }
    }
}

fn output_tracked(x: TrackedTensor, hh: TrackedTensor, c: TrackedTensor) -> TrackedTensor {
    match OutputBackward
        .prepare::<Checkpointing>([x.node(), hh.node(), c.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let c = c.into_primitive();
            let dims = [c.layout().shape()[0], c.layout().shape()[1]];
            let (out, kept) = output_forward(x.into_primitive(), hh.into_primitive(), c, true);
            prep.finish(OutputSaved { kept, dims }, out)
        }
        OpsKind::UnTracked(prep) => {
            let (out, _) = output_forward(
                x.into_primitive(),
                hh.into_primitive(),
                c.into_primitive(),
                false,
            );
            prep.finish(out)
        }
    }
}

/// `c'`, and `[i, f, g]` per row (when `keep`; else empty).
fn cell_forward(
    x: FlexTensor,
    hh: FlexTensor,
    c: FlexTensor,
    keep: bool,
) -> (FlexTensor, FlexTensor) {
    step_forward([x, hh, c], keep.then_some(3), simd::cell_forward)
}

/// `h'`, and `[o, tanh c']` per row (when `keep`; else empty).
fn output_forward(
    x: FlexTensor,
    hh: FlexTensor,
    c: FlexTensor,
    keep: bool,
) -> (FlexTensor, FlexTensor) {
    step_forward([x, hh, c], keep.then_some(2), simd::output_forward)
}

/// A row loop of [`simd`]: `x̂`, `ĥ`, the state, the hidden size, the output, what it keeps.
type StepLoop = fn(&[f32], &[f32], &[f32], usize, &mut [f32], &mut [f32]);

/// `[batch, hidden]` from `x̂`, `ĥ` and a state by `loop_`, and (with `kept: Some(k)`) the `k`
/// blocks of `hidden` values per row it keeps for the backward pass (else an empty tensor).
fn step_forward(
    [x, hh, c]: [FlexTensor; 3],
    kept: Option<usize>,
    loop_: StepLoop,
) -> (FlexTensor, FlexTensor) {
    let (x, hh, c) = (x.to_contiguous(), hh.to_contiguous(), c.to_contiguous());
    let (b, size) = (c.layout().shape()[0], c.layout().shape()[1]);
    let mut out = vec![0.0f32; b * size];
    let mut keep = vec![0.0f32; kept.map_or(0, |k| b * k * size)];
    loop_(
        x.storage::<f32>(),
        hh.storage::<f32>(),
        c.storage::<f32>(),
        size,
        &mut out,
        &mut keep,
    );
    let len = keep.len();
    (f32_tensor(out, &[b, size]), f32_tensor(keep, &[len]))
}

/// The loops, compiled for the widest SIMD the CPU has.
mod simd {
    use crate::flex::lanes;
    use crate::flex::simd_dispatched;

    simd_dispatched! {
        /// Row by row, with `a = x̂ + ĥ`: `i = σ(a_i)`, `f = σ(a_f)`, `g = tanh(a_g)`,
        /// `out = f ⊙ c + i ⊙ g`; `[i, f, g]` into `gates` unless it is empty.
        pub(super) fn cell_forward(
            x: &[f32],
            hh: &[f32],
            c: &[f32],
            size: usize,
            out: &mut [f32],
            gates: &mut [f32],
        ) {
            let keep = !gates.is_empty();
            let mut scratch = vec![0.0f32; 3 * size];
            for (row, out) in out.chunks_exact_mut(size).enumerate() {
                let x = &x[row * 4 * size..][..4 * size];
                let hh = &hh[row * 4 * size..][..4 * size];
                let c = &c[row * size..][..size];
                let kept = if keep {
                    &mut gates[row * 3 * size..][..3 * size]
                } else {
                    &mut scratch[..]
                };
                let (i, rest) = kept.split_at_mut(size);
                let (f, g) = rest.split_at_mut(size);
                for j in 0..size {
                    i[j] = lanes::sigmoid(x[j] + hh[j]);
                    f[j] = lanes::sigmoid(x[size + j] + hh[size + j]);
                    g[j] = lanes::tanh(x[2 * size + j] + hh[2 * size + j]);
                    out[j] = f[j] * c[j] + i[j] * g[j];
                }
            }
        }
    }

    simd_dispatched! {
        /// With `γ` the gradient of `c'`: `∂c = γ ⊙ f`, and `∂a = [γ ⊙ g ⊙ i(1 − i),
        /// γ ⊙ c ⊙ f(1 − f), γ ⊙ i ⊙ (1 − g²), 0]`.
        pub(super) fn cell_backward(
            grad: &[f32],
            gates: &[f32],
            c: &[f32],
            size: usize,
            ga: &mut [f32],
            gc: &mut [f32],
        ) {
            for (row, g_out) in grad.chunks_exact(size).enumerate() {
                let kept = &gates[row * 3 * size..][..3 * size];
                let (i, f, g) = (&kept[..size], &kept[size..2 * size], &kept[2 * size..]);
                let c = &c[row * size..][..size];
                let ga = &mut ga[row * 4 * size..][..4 * size];
                let gc = &mut gc[row * size..][..size];
                for j in 0..size {
                    let gamma = g_out[j];
                    gc[j] = gamma * f[j];
                    ga[j] = gamma * g[j] * i[j] * (1.0 - i[j]);
                    ga[size + j] = gamma * c[j] * f[j] * (1.0 - f[j]);
                    ga[2 * size + j] = gamma * i[j] * (1.0 - g[j] * g[j]);
                }
            }
        }
    }

    simd_dispatched! {
        /// Row by row: `o = σ(x̂_o + ĥ_o)`, `t = tanh c'`, `out = o ⊙ t`; `[o, t]` into `kept`
        /// unless it is empty.
        pub(super) fn output_forward(
            x: &[f32],
            hh: &[f32],
            c: &[f32],
            size: usize,
            out: &mut [f32],
            kept: &mut [f32],
        ) {
            let keep = !kept.is_empty();
            let mut scratch = vec![0.0f32; 2 * size];
            for (row, out) in out.chunks_exact_mut(size).enumerate() {
                let x = &x[(row * 4 + 3) * size..][..size];
                let hh = &hh[(row * 4 + 3) * size..][..size];
                let c = &c[row * size..][..size];
                let kept = if keep {
                    &mut kept[row * 2 * size..][..2 * size]
                } else {
                    &mut scratch[..]
                };
                let (o, t) = kept.split_at_mut(size);
                for j in 0..size {
                    o[j] = lanes::sigmoid(x[j] + hh[j]);
                    t[j] = lanes::tanh(c[j]);
                    out[j] = o[j] * t[j];
                }
            }
        }
    }

    simd_dispatched! {
        /// With `η` the gradient of `h'`: `∂c' = η ⊙ o ⊙ (1 − t²)`, and
        /// `∂a = [0, 0, 0, η ⊙ t ⊙ o(1 − o)]`.
        pub(super) fn output_backward(
            grad: &[f32],
            kept: &[f32],
            size: usize,
            ga: &mut [f32],
            gc: &mut [f32],
        ) {
            for (row, eta) in grad.chunks_exact(size).enumerate() {
                let kept = &kept[row * 2 * size..][..2 * size];
                let (o, t) = (&kept[..size], &kept[size..]);
                let ga = &mut ga[(row * 4 + 3) * size..][..size];
                let gc = &mut gc[row * size..][..size];
                for j in 0..size {
                    gc[j] = eta[j] * o[j] * (1.0 - t[j] * t[j]);
                    ga[j] = eta[j] * t[j] * o[j] * (1.0 - o[j]);
                }
            }
        }
    }
}
