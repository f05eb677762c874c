//! Running a cell over a padded batch of sequences, in either direction.

use burn::prelude::*;
use fused_ops::SequenceSteps;

use crate::{CellState, CellSteps, RecurrentCell};

/// Runs `cell` over every step of `inputs`, forward or backward in time, leaving each row's
/// state untouched at its padded steps.
///
/// - `inputs`: `[batch, len, input_size]`.
/// - `pad_mask`: `[batch, len]`, `true` = padded (Burn's convention); padding must come after a
///   row's real steps. `None`: no padding.
/// - `reverse`: run from the last step to the first.
///
/// Returns the states at every step, `[batch, len, hidden]` (zero at padded steps), and the
/// final state. Because a padded step keeps the state it was given, the forward final state is
/// the one at each row's true last token, and the backward direction starts at the true last
/// token from `initial`: pads never leak into real positions.
pub fn run_cell(
    cell: &RecurrentCell,
    inputs: Tensor<3>,
    pad_mask: Option<&Tensor<2, Bool>>,
    reverse: bool,
    initial: CellState,
) -> (Tensor<3>, CellState) {
    let [batch, len, _] = inputs.dims();
    // Projected step by step (slicing one all-steps projection costs more in the backward pass);
    // `steps` makes each projection's weight gradient one product for the whole loop.
    let steps = cell.steps();
    let steps_in = SequenceSteps::new(inputs); // len × [batch, input_size]
    let shape = Shape {
        batch,
        len,
        reverse,
    };
    run_loop(&steps, shape, pad_mask, initial, |t| {
        steps.project_input(steps_in.get(t)) // [batch, gates · hidden]
    })
}

/// [`run_cell`] on inputs already projected: `projected[t]` is step `t`'s `W_x x_t + b_x`,
/// `[batch, gates · hidden]` (e.g. rows of a [`crate::TokenTable`]).
///
/// # Panics
///
/// If `projected` is empty.
pub fn run_projected_cell(
    cell: &RecurrentCell,
    projected: Vec<Tensor<2>>,
    pad_mask: Option<&Tensor<2, Bool>>,
    reverse: bool,
    initial: CellState,
) -> (Tensor<3>, CellState) {
    let [batch, _] = projected[0].dims();
    let shape = Shape {
        batch,
        len: projected.len(),
        reverse,
    };
    run_loop(&cell.steps(), shape, pad_mask, initial, |t| {
        projected[t].clone()
    })
}

/// The batch's rows and steps, and the direction of a loop.
struct Shape {
    batch: usize,
    len: usize,
    reverse: bool,
}

/// The loop of [`run_cell`]: step `t` reads `input(t)`, already projected.
fn run_loop(
    cell: &CellSteps<'_>,
    Shape {
        batch,
        len,
        reverse,
    }: Shape,
    pad_mask: Option<&Tensor<2, Bool>>,
    initial: CellState,
    input: impl Fn(usize) -> Tensor<2>,
) -> (Tensor<3>, CellState) {
    let hidden_size = cell.hidden_size();
    // Per step, `true` where the row is padded, widened to the state's shape.
    let pads: Option<Vec<Tensor<2, Bool>>> = pad_mask.map(|mask| {
        mask.clone()
            .chunk(len, 1)
            .into_iter()
            .map(|m| m.expand([batch, hidden_size])) // [batch, hidden]
            .collect()
    });

    let mut state = initial;
    let mut outputs: Vec<Option<Tensor<2>>> = vec![None; len];
    let steps: Box<dyn Iterator<Item = usize>> = if reverse {
        Box::new((0..len).rev())
    } else {
        Box::new(0..len)
    };
    for t in steps {
        let next = cell.step(input(t), state.clone());
        state = match &pads {
            Some(pads) => next.keep_where(&pads[t], state),
            None => next,
        };
        let out = match &pads {
            Some(pads) => state.hidden.clone().mask_fill(pads[t].clone(), 0.0),
            None => state.hidden.clone(),
        };
        outputs[t] = Some(out);
    }
    let outputs = outputs
        .into_iter()
        .map(|o| o.expect("every step ran"))
        .collect();
    (Tensor::stack(outputs, 1), state) // [batch, len, hidden]
}
