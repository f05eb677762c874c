//! A cell's input projection of embedded tokens, made once per vocabulary entry.

use burn::nn::{Embedding, Linear};
use burn::prelude::*;
use fused_ops::linear;

/// `W_x e(y) + b_x` for every token `y` of a vocabulary: `[vocab, gates · hidden]`.
///
/// A recurrent cell that reads embedded tokens multiplies each one by its input weights; since
/// a token's embedding is fixed, the product depends on the token alone. When a decoding batch
/// has more token positions than the vocabulary has entries (a G2P batch: 80 words of about 8
/// letters against 31 letters), projecting each entry once and looking rows up costs fewer
/// multiply-adds than projecting each position: `vocab · emb · gates` instead of
/// `positions · emb · gates`. The rows are the same products, so outputs match the direct
/// projection up to float rounding.
///
/// Only without autodiff: there dropout on the embeddings is off, and no gradient has to flow
/// back to each position's embedding.
#[derive(Debug, Clone)]
pub struct TokenTable {
    /// `[vocab, gates · hidden]`.
    rows: Tensor<2>,
}

impl TokenTable {
    /// Whether a table pays for `positions` lookups in a vocabulary of `vocab` entries on
    /// `device`: not under autodiff, and no more entries than positions.
    pub fn pays(vocab: usize, positions: usize, device: &Device) -> bool {
        !device.is_autodiff() && vocab <= positions
    }

    /// The table of `embedding` through `input` (`emb → gates · hidden`, its bias included).
    pub fn new(embedding: &Embedding, input: &Linear) -> Self {
        Self {
            rows: linear(input, embedding.weight.val()),
        }
    }

    /// The projected inputs of `tokens` `[batch]`: `[batch, gates · hidden]`.
    pub fn lookup(&self, tokens: Tensor<1, Int>) -> Tensor<2> {
        self.rows.clone().select(0, tokens)
    }

    /// Step `t`'s projected inputs of every row of `tokens` `[batch, len]`, for each `t`:
    /// `len × [batch, gates · hidden]`.
    pub fn steps(&self, tokens: &Tensor<2, Int>) -> Vec<Tensor<2>> {
        let [batch, len] = tokens.dims();
        (0..len)
            .map(|t| self.lookup(tokens.clone().slice([0..batch, t..t + 1]).reshape([batch])))
            .collect()
    }
}
