//! The additive (Bahdanau) energy `e_bts = vᵀ tanh(q_bt + k_bs)`: one fused SIMD kernel on Burn's
//! flex backend (`flex`), composed Burn ops everywhere else.

use burn::prelude::*;

use crate::logistic::sigmoid_of_double;

#[cfg(feature = "flex")]
mod flex;

/// The keys of one attention memory as the fused energy reads them at every decoder step: their
/// AVX-512 form, made at the first step and kept, and under autodiff a step source whose sum
/// takes the keys' gradient from every step in one buffer. Without the `flex` feature, or for
/// tensors the kernel does not take, it holds nothing and costs nothing.
#[derive(Debug, Clone, Default)]
pub struct AdditiveKeys {
    #[cfg(feature = "flex")]
    aids: flex::KeysAids,
}

impl AdditiveKeys {
    /// The aids for `keys` `[batch, src_len, attention]`, the projected keys of a memory that
    /// [`additive_energy`] will read step after step.
    pub fn new(keys: &Tensor<3>) -> Self {
        #[cfg(not(feature = "flex"))]
        let _ = keys;
        Self {
            #[cfg(feature = "flex")]
            aids: flex::KeysAids {
                source: crate::steps::flex::StepSource::new(keys),
                cache: Default::default(),
            },
        }
    }
}

/// `e_bts = vᵀ tanh(q_bt + k_bs)` for `queries` `[batch, tgt_len, attn]`, `keys`
/// `[batch, src_len, attn]` and `v` `[attn, 1]`: `[batch, tgt_len, src_len]`.
///
/// With the `flex` feature, f32 flex tensors take one fused kernel (`additive/flex.rs`); with
/// `keys_aids` (made by [`AdditiveKeys::new`] for these `keys`) it keeps the keys' AVX-512 form
/// for later steps and, under autodiff, sums their gradient in place. Every other tensor takes
/// the composed ops below, which compute the same function.
pub fn additive_energy(
    queries: Tensor<3>,
    keys: Tensor<3>,
    v: Tensor<2>,
    keys_aids: Option<&AdditiveKeys>,
) -> Tensor<3> {
    let [attn, _] = v.dims();
    let v = v.reshape([attn]);
    #[cfg(feature = "flex")]
    let (queries, keys, v) = match flex::energy(queries, keys, v, keys_aids.map(|k| &k.aids)) {
        Ok(energy) => return energy,
        Err(inputs) => *inputs,
    };
    #[cfg(not(feature = "flex"))]
    let _ = keys_aids;
    let hidden = queries.unsqueeze_dim::<4>(2) + keys.unsqueeze_dim::<4>(1); // [batch, tgt_len, src_len, attn]
    // vᵀ tanh(x) = vᵀ (2σ(2x) − 1) = 2 vᵀσ(2x) − Σv: the `tanh` through a sigmoid (see
    // `tanh_via_sigmoid`), with its affine part moved onto the small scores.
    let gate = sigmoid_of_double(hidden);
    let v_sum = v.clone().sum().reshape([1, 1, 1]);
    gate.matmul(v.reshape([1, 1, attn, 1])).squeeze_dim::<3>(3) * 2.0 - v_sum
}
