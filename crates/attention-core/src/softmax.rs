//! The masked softmax that turns scores into attention weights (seed §4.2).

use burn::prelude::*;
use burn::tensor::Bool;

/// Attention weights from scores, over the last axis (the keys), with padding masked out.
///
/// ```text
/// α_ij = exp(e_ij) / Σ_k exp(e_ik)        (seed §4.2; k runs over unpadded keys only)
/// ```
///
/// - `scores`: `[..., src_len]`, the `e_ij` of [`Score`](crate::Score).
/// - `pad_mask`: `[..., src_len]`, `true` = padded (Burn's convention), or `None`.
///
/// Returns weights of the same shape. Guarantees, all tested:
/// - padded keys get exactly `0.0`, and each row sums to 1 over its unpadded keys;
/// - a row whose every key is padded gets all-zero weights (so a zero context), never NaN;
/// - stable for scores of any finite magnitude (the row maximum is subtracted first; it is
///   detached because softmax does not depend on it).
///
/// # Panics
///
/// If `pad_mask` and `scores` differ in shape.
pub fn masked_softmax<const D: usize>(
    scores: Tensor<D>,
    pad_mask: Option<Tensor<D, Bool>>,
) -> Tensor<D> {
    let last = D - 1;
    let Some(pad_mask) = pad_mask else {
        let max = scores.clone().max_dim(last).detach();
        let exp = (scores - max).exp();
        let sum = exp.clone().sum_dim(last);
        return exp / sum;
    };
    assert_eq!(
        scores.dims(),
        pad_mask.dims(),
        "masked_softmax: scores and pad_mask must have one shape"
    );
    // Padded scores are pushed to the lowest finite value, so they never win the maximum; an
    // all-padded row then subtracts that value from itself (0, not NaN) and is zeroed below.
    let filled = scores.mask_fill(pad_mask.clone(), f32::MIN);
    let max = filled.clone().max_dim(last).detach();
    let exp = (filled - max).exp().mask_fill(pad_mask, 0.0);
    let sum = exp.clone().sum_dim(last);
    // A row with any real key holds exp(0) = 1, so its sum is >= 1; only all-padded rows sum to
    // 0, and dividing their zeros by 1 keeps them zero.
    let empty = sum.clone().equal_elem(0.0);
    exp / sum.mask_fill(empty, 1.0)
}
