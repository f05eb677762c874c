//! The GRU's gate arithmetic after its two projections: one fused SIMD kernel on Burn's flex
//! backend (`flex`), composed Burn ops everywhere else.

use burn::prelude::*;

use crate::logistic::{sigmoid, tanh_via_sigmoid};

#[cfg(feature = "flex")]
mod flex;

/// The GRU's next state from its projections, gates `[r, z, n]`:
///
/// ```text
/// r = σ(x̂_r + ĥ_r)    z = σ(x̂_z + ĥ_z)    n = tanh(x̂_n + r ⊙ ĥ_n)
/// h' = (1 − z) ⊙ n + z ⊙ h
/// ```
///
/// - `projected`: `x̂ = W_x x + b_x`, `[batch, 3 · hidden]`;
/// - `from_state`: `ĥ = W_h h + b_h`, `[batch, 3 · hidden]`;
/// - `hidden`: `h`, `[batch, hidden]`.
///
/// With the `flex` feature, f32 flex tensors take one fused kernel with its own backward pass
/// (`gru/flex.rs`); every other tensor takes the composed ops below.
pub fn gru_update(projected: Tensor<2>, from_state: Tensor<2>, hidden: Tensor<2>) -> Tensor<2> {
    #[cfg(feature = "flex")]
    let (projected, from_state, hidden) = match flex::update(projected, from_state, hidden) {
        Ok(hidden) => return hidden,
        Err(inputs) => *inputs,
    };
    let [_, hidden_size] = hidden.dims();
    let two = 2 * hidden_size;
    let rz = sigmoid(projected.clone().narrow(1, 0, two) + from_state.clone().narrow(1, 0, two)); // [batch, 2 · hidden]
    let r = rz.clone().narrow(1, 0, hidden_size);
    let z = rz.narrow(1, hidden_size, hidden_size);
    let n = tanh_via_sigmoid(
        projected.narrow(1, two, hidden_size) + r * from_state.narrow(1, two, hidden_size),
    );
    // (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
    n.clone() + z * (hidden - n) // [batch, hidden]
}
