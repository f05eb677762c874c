//! The LSTM's gate arithmetic after its two projections: two fused SIMD kernels on Burn's flex
//! backend (`flex`), composed Burn ops everywhere else.

use burn::prelude::*;

use crate::logistic::{sigmoid, tanh_via_sigmoid};

#[cfg(feature = "flex")]
mod flex;

/// The LSTM's next state `(h', c')` from its projections, gates `[i, f, g, o]`:
///
/// ```text
/// a = x̂ + ĥ
/// i = σ(a_i)    f = σ(a_f)    g = tanh(a_g)    o = σ(a_o)
/// c' = f ⊙ c + i ⊙ g
/// h' = o ⊙ tanh(c')
/// ```
///
/// - `projected`: `x̂ = W_x x + b_x`, `[batch, 4 · hidden]`;
/// - `from_state`: `ĥ = W_h h + b_h`, `[batch, 4 · hidden]`;
/// - `cell`: `c`, `[batch, hidden]`.
///
/// Returns `(h', c')`, each `[batch, hidden]`.
///
/// With the `flex` feature, f32 flex tensors take two fused kernels with their own backward
/// passes (`lstm/flex.rs`: one gives `c'`, the other `h'` from it); every other tensor takes the
/// composed ops below.
pub fn lstm_update(
    projected: Tensor<2>,
    from_state: Tensor<2>,
    cell: Tensor<2>,
) -> (Tensor<2>, Tensor<2>) {
    #[cfg(feature = "flex")]
    let (projected, from_state, cell) = match flex::update(projected, from_state, cell) {
        Ok(next) => return next,
        Err(inputs) => *inputs,
    };
    let [_, hidden_size] = cell.dims();
    let gates = projected + from_state; // [batch, 4 · hidden]
    let block = |i: usize| gates.clone().narrow(1, i * hidden_size, hidden_size);
    let (i, f) = (sigmoid(block(0)), sigmoid(block(1)));
    let (g, o) = (tanh_via_sigmoid(block(2)), sigmoid(block(3)));
    let cell = f * cell + i * g; // [batch, hidden]
    let hidden = o * tanh_via_sigmoid(cell.clone());
    (hidden, cell)
}
