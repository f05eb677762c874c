//! The attention module: score, masked softmax and context, asked by a decoder at every step.

use burn::prelude::*;

use fused_ops::{AdditiveKeys, ContextValues};

use crate::context::context_of;
use crate::{AttentionError, AttentionMemory, Score, ScoreKind, masked_softmax};

/// Configuration of [`Attention`].
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Size of a query `s_i` (the decoder state).
    pub query_size: usize,
    /// Size of a key `h_j` (the encoder state).
    pub key_size: usize,
    /// The score function. Default: `ScoreKind::Additive`.
    #[config(default = "ScoreKind::Additive")]
    pub score: ScoreKind,
    /// Hidden size of the additive score (`W_q`, `W_k` project to it); only the additive score
    /// has one. Default: `None`, meaning `key_size` for the additive score.
    #[config(default = "None")]
    pub attention_size: Option<usize>,
}

impl AttentionConfig {
    /// Builds the attention module, its parameters initialised on `device`.
    ///
    /// # Errors
    ///
    /// - [`AttentionError::ZeroSize`] if a size is 0;
    /// - [`AttentionError::SizeMismatch`] if a dot score gets different query and key sizes;
    /// - [`AttentionError::AttentionSizeUnused`] if `attention_size` is set for another score
    ///   than the additive one.
    pub fn init(&self, device: &Device) -> Result<Attention, AttentionError> {
        let sizes = [
            ("query_size", self.query_size),
            ("key_size", self.key_size),
            ("attention_size", self.attention_size.unwrap_or(1)),
        ];
        if let Some((name, _)) = sizes.iter().find(|(_, size)| *size == 0) {
            return Err(AttentionError::ZeroSize { name });
        }
        if self.score.needs_equal_sizes() && self.query_size != self.key_size {
            return Err(AttentionError::SizeMismatch {
                score: self.score.name(),
                query_size: self.query_size,
                key_size: self.key_size,
            });
        }
        if let (Some(attention_size), false) =
            (self.attention_size, self.score == ScoreKind::Additive)
        {
            return Err(AttentionError::AttentionSizeUnused {
                score: self.score.name(),
                attention_size,
            });
        }
        let attention_size = self.attention_size.unwrap_or(self.key_size);
        Ok(Attention {
            score: Score::new(
                self.score,
                self.query_size,
                self.key_size,
                attention_size,
                device,
            ),
            query_size: self.query_size,
            key_size: self.key_size,
        })
    }
}

/// What one attention call returns; `D` is 2 for one query per row, 3 for all steps at once.
#[derive(Debug, Clone)]
pub struct AttentionOutput<const D: usize> {
    /// The context vectors `c_i`: `[batch, key_size]` or `[batch, tgt_len, key_size]`.
    pub context: Tensor<D>,
    /// The attention weights `α_ij`: `[batch, src_len]` or `[batch, tgt_len, src_len]`;
    /// exactly 0 on padded keys.
    pub weights: Tensor<D>,
}

/// Attention over a source sentence's encoder states (seed §4): score, masked softmax, context.
///
/// Build with [`AttentionConfig::init`]; prepare the encoder side once with
/// [`Attention::memory`]; then ask [`Attention::step`] (one query per batch row, as a decoder
/// does at each step) or [`Attention::forward`] (all steps' queries at once).
#[derive(Module, Debug)]
pub struct Attention {
    /// The score function and its parameters.
    pub score: Score,
    /// Size of a query.
    pub query_size: usize,
    /// Size of a key.
    pub key_size: usize,
}

impl Attention {
    /// Prepares the encoder states for attention: the score's per-source work is done here,
    /// once. Mark padding on the result with
    /// [`AttentionMemory::with_pad_mask`] or [`AttentionMemory::with_lengths`].
    ///
    /// - `values`: `[batch, src_len, key_size]`, the encoder states `H = [h_1 … h_S]` (seed §3).
    ///
    /// # Panics
    ///
    /// If the last axis of `values` is not `key_size`.
    pub fn memory(&self, values: Tensor<3>) -> AttentionMemory {
        let [_, _, key_size] = values.dims();
        assert_eq!(
            key_size, self.key_size,
            "attention memory: values have {key_size} features, the attention was built for key_size = {}",
            self.key_size
        );
        let keys = self.score.project_keys(values.clone());
        AttentionMemory {
            additive_keys: match self.score.kind() {
                ScoreKind::Additive => Some(AdditiveKeys::new(&keys)),
                _ => None,
            },
            context_values: ContextValues::new(&values),
            query_steps: self.score.query_steps(),
            keys,
            values,
            pad_mask: None,
        }
    }

    /// Attention for every query at once (seed §4.1–4.3).
    ///
    /// - `queries`: `[batch, tgt_len, query_size]`.
    ///
    /// Returns context `[batch, tgt_len, key_size]` and weights `[batch, tgt_len, src_len]`.
    ///
    /// # Panics
    ///
    /// If `queries` is not `[batch, _, query_size]` for the memory's batch.
    pub fn forward(&self, memory: &AttentionMemory, queries: Tensor<3>) -> AttentionOutput<3> {
        let [batch, tgt_len, query_size] = queries.dims();
        let [mem_batch, src_len] = memory.dims();
        assert!(
            batch == mem_batch && query_size == self.query_size,
            "attention: queries {:?} do not fit a memory of batch {mem_batch} and query_size {}",
            queries.dims(),
            self.query_size
        );
        let scores = self.score.scores_of(
            queries,
            memory.keys.clone(),
            memory.additive_keys.as_ref(),
            memory.query_steps.as_ref(),
        ); // [batch, tgt_len, src_len]
        let pad_mask = memory.pad_mask.clone().map(|mask| {
            mask.unsqueeze_dim::<3>(1).expand([batch, tgt_len, src_len]) // [batch, tgt_len, src_len]
        });
        let weights = masked_softmax(scores, pad_mask);
        AttentionOutput {
            context: memory_context(weights.clone(), memory),
            weights,
        }
    }

    /// Attention for one query per batch row: what a decoder asks at each step.
    ///
    /// - `query`: `[batch, query_size]` (`s_{i-1}` for Bahdanau, `s_i` for Luong).
    ///
    /// Returns context `[batch, key_size]` and weights `[batch, src_len]`.
    pub fn step(&self, memory: &AttentionMemory, query: Tensor<2>) -> AttentionOutput<2> {
        let out = self.forward(memory, query.unsqueeze_dim(1)); // [batch, 1, _]
        AttentionOutput {
            context: out.context.squeeze_dim(1),
            weights: out.weights.squeeze_dim(1),
        }
    }
}

/// [`context`](crate::context) over the memory's values, summing their gradient in the memory's aids.
fn memory_context(weights: Tensor<3>, memory: &AttentionMemory) -> Tensor<3> {
    context_of(weights, memory.values.clone(), &memory.context_values)
}
