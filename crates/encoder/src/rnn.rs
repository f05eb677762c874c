//! Running a cell over a padded batch of sequences, in either direction.

use burn::prelude::*;
use fused_ops::SequenceSteps;

use crate::{CellState, RecurrentCell};

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
    let hidden_size = cell.hidden_size();
    // Projected step by step (slicing one all-steps projection costs more in the backward pass);
    // `steps` makes each projection's weight gradient one product for the whole loop.
    let cell = cell.steps();
    let steps_in = SequenceSteps::new(inputs); // len × [batch, input_size]
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
        let x = cell.project_input(steps_in.get(t)); // [batch, gates · hidden]
        let next = cell.step(x, state.clone());
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
