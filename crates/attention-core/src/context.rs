//! The context vector: the attention-weighted sum of the encoder states (seed §4.3).

use burn::prelude::*;
use fused_ops::{ContextValues, weighted_sum};

/// The context vectors of a batch of queries.
///
/// ```text
/// c_i = Σ_j α_ij h_j        (seed §4.3)
/// ```
///
/// - `weights`: `[batch, tgt_len, src_len]`, the `α_ij` of [`masked_softmax`](crate::masked_softmax).
/// - `values`: `[batch, src_len, enc_hidden]`, the encoder states `h_j`.
///
/// Returns `[batch, tgt_len, enc_hidden]`.
///
/// # Panics
///
/// If the batch or source sizes of the two differ.
pub fn context(weights: Tensor<3>, values: Tensor<3>) -> Tensor<3> {
    context_of(weights, values, &ContextValues::default())
}

/// [`context`], by the op that sums the values' gradient in `aids` (made for these `values` by an
/// attention memory) under autodiff on flex.
pub(crate) fn context_of(weights: Tensor<3>, values: Tensor<3>, aids: &ContextValues) -> Tensor<3> {
    let [batch, _, src_len] = weights.dims();
    let [v_batch, v_src_len, _] = values.dims();
    assert!(
        batch == v_batch && src_len == v_src_len,
        "context: weights {:?} and values {:?} disagree on [batch, src_len]",
        weights.dims(),
        values.dims()
    );
    weighted_sum(weights, values, aids) // [batch, tgt_len, enc_hidden]
}
