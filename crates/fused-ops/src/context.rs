//! The weighted sum `c_bt = Σ_s α_bts h_bs` of a memory read step by step: one SIMD kernel on
//! Burn's flex backend under autodiff (`flex`), a batched matrix product everywhere else.

use burn::prelude::*;

#[cfg(feature = "flex")]
mod flex;

/// The values of one attention memory as [`weighted_sum`] reads them at every decoder step:
/// under autodiff on flex, a step source whose sum takes the values' gradient from every step in
/// one buffer. Without the `flex` feature, or for other tensors, it holds nothing.
#[derive(Debug, Clone, Default)]
pub struct ContextValues {
    #[cfg(feature = "flex")]
    source: Option<crate::steps::flex::StepSource>,
}

impl ContextValues {
    /// The aids for `values` `[batch, src_len, key_size]`.
    pub fn new(values: &Tensor<3>) -> Self {
        #[cfg(not(feature = "flex"))]
        let _ = values;
        Self {
            #[cfg(feature = "flex")]
            source: crate::steps::flex::StepSource::new(values),
        }
    }
}

/// `Σ_s weights[b,t,s] · values[b,s,:]`: `weights` `[batch, tgt_len, src_len]`, `values`
/// `[batch, src_len, key_size]` → `[batch, tgt_len, key_size]`.
///
/// With the `flex` feature and `aids` made by [`ContextValues::new`] for these `values`, an f32
/// flex tensor under autodiff takes a kernel that adds the values' gradient into the aids' sum
/// (`context/flex.rs`); every other tensor takes `weights.matmul(values)`.
pub fn weighted_sum(weights: Tensor<3>, values: Tensor<3>, aids: &ContextValues) -> Tensor<3> {
    #[cfg(feature = "flex")]
    let weights = match &aids.source {
        Some(source) => match flex::context(weights, source) {
            Ok(context) => return context,
            Err(weights) => *weights,
        },
        None => weights,
    };
    #[cfg(not(feature = "flex"))]
    let _ = aids;
    weights.matmul(values)
}
