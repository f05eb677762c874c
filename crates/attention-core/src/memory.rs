//! The encoder side of attention, prepared once per batch of source sentences.

use burn::prelude::*;
use burn::tensor::{Bool, Int};

use fused_ops::{AdditiveKeys, ContextValues, StepLinear};

use crate::{AttentionError, pad_mask_from_lengths};

/// The encoder states of a batch, with the per-source work of the score already done.
///
/// Made by [`Attention::memory`](crate::Attention::memory); a decoder that asks one query per
/// step keeps it for the whole sentence, so the keys are projected once (e.g. `W_k h_j + b` for
/// the additive score), not at every step.
#[derive(Debug, Clone)]
pub struct AttentionMemory {
    /// `h_j`, the values summed into the context: `[batch, src_len, key_size]`.
    pub(crate) values: Tensor<3>,
    /// `k_j`, the keys as [`Score::project_keys`](crate::Score::project_keys) left them:
    /// `[batch, src_len, _]`.
    pub(crate) keys: Tensor<3>,
    /// `src_pad_mask`: `[batch, src_len]`, `true` = padded. `None`: no padding.
    pub(crate) pad_mask: Option<Tensor<2, Bool>>,
    /// What the fused additive energy keeps of the keys for every step (additive score only):
    /// the kernel's form of the keys and, under autodiff, one sum of their gradient.
    pub(crate) additive_keys: Option<AdditiveKeys>,
    /// What the context op keeps of the values for every step: under autodiff, one sum of their
    /// gradient instead of a full-size gradient per step.
    pub(crate) context_values: ContextValues,
    /// The additive score's query projection `W_q`, made ready for one query per step: under
    /// autodiff, one weight gradient for every step that asks this memory (additive only).
    pub(crate) query_steps: Option<StepLinear>,
}

impl AttentionMemory {
    /// Marks padded key positions: `pad_mask: [batch, src_len]`, `true` = padded (Burn's
    /// convention). Combines with any padding already marked (a key is padded if either says so).
    ///
    /// # Panics
    ///
    /// If the mask's shape is not `[batch, src_len]` of the memory.
    pub fn with_pad_mask(mut self, pad_mask: Tensor<2, Bool>) -> Self {
        let [batch, src_len, _] = self.values.dims();
        assert_eq!(
            pad_mask.dims(),
            [batch, src_len],
            "pad_mask must be [batch, src_len] of the memory"
        );
        self.pad_mask = Some(match self.pad_mask.take() {
            Some(existing) => existing.bool_or(pad_mask),
            None => pad_mask,
        });
        self
    }

    /// Marks padding by true lengths: row `b` has `lengths[b]` real keys, then pads. Combines
    /// with any padding already marked.
    ///
    /// # Errors
    ///
    /// [`AttentionError::LengthCount`] if there is not one length per row,
    /// [`AttentionError::LengthTooLong`] if a length exceeds `src_len`.
    pub fn with_lengths(self, lengths: &[usize]) -> Result<Self, AttentionError> {
        let [batch, src_len, _] = self.values.dims();
        if lengths.len() != batch {
            return Err(AttentionError::LengthCount {
                given: lengths.len(),
                batch,
            });
        }
        let mask = pad_mask_from_lengths(lengths, src_len, &self.values.device())?;
        Ok(self.with_pad_mask(mask))
    }

    /// The memory of the batch rows `indices` (in that order, repeats allowed): how a beam
    /// search gives each hypothesis its sentence's memory.
    ///
    /// - `indices`: `[rows]`, each `< batch`.
    pub fn select(&self, indices: Tensor<1, Int>) -> Self {
        Self {
            values: self.values.clone().select(0, indices.clone()),
            keys: self.keys.clone().select(0, indices.clone()),
            pad_mask: self.pad_mask.clone().map(|m| m.select(0, indices)),
            // Aids of the whole batch do not describe the selected rows.
            additive_keys: self.additive_keys.as_ref().map(|_| AdditiveKeys::default()),
            context_values: ContextValues::default(),
            query_steps: self.query_steps.clone(),
        }
    }

    /// The encoder states `h_j`: `[batch, src_len, key_size]`.
    pub fn values(&self) -> &Tensor<3> {
        &self.values
    }

    /// The padding mask `[batch, src_len]` (`true` = padded), if any key is marked.
    pub fn pad_mask(&self) -> Option<&Tensor<2, Bool>> {
        self.pad_mask.as_ref()
    }

    /// `[batch, src_len]`.
    pub fn dims(&self) -> [usize; 2] {
        let [batch, src_len, _] = self.values.dims();
        [batch, src_len]
    }
}
