//! The decoder cell's input with its token share looked up, for step-by-step decoding.

use burn::nn::{Embedding, Linear};
use burn::prelude::*;
use encoder::{RecurrentCell, TokenTable};
use fused_ops::linear;

/// The decoder cell reads `x = [e(y_{i-1}); r]`, where `r` is the context `c_i` (Bahdanau
/// ordering), the fed vector `o_{i-1}` (Luong with input feeding) or nothing; its input
/// projection splits as
///
/// ```text
/// W_x x + b_x = (W_y e(y_{i-1}) + b_x) + W_r r
/// ```
///
/// and the token's share takes one of `vocab` values, looked up in a [`TokenTable`] instead of
/// embedded and multiplied at every step. Greedy and beam search use it when a batch has more
/// `rows × source positions` (about the lookups a search makes) than the target vocabulary has
/// entries: a G2P model's 43 phonemes, not a translation model's thousands of pieces.
#[derive(Debug, Clone)]
pub struct TokenInput {
    /// `W_y e(y) + b_x` for every target token.
    table: TokenTable,
    /// `W_r`; `None` when the cell reads the token alone.
    rest: Option<Linear>,
}

impl TokenInput {
    /// The split of `cell`'s input projection after `embedding`'s width, with the table of
    /// `embedding`'s entries.
    pub fn new(cell: &RecurrentCell, embedding: &Embedding) -> Self {
        let [_, width] = embedding.weight.dims();
        if cell.input_size() == width {
            return Self {
                table: cell.token_table(embedding),
                rest: None,
            };
        }
        let (token, rest) = cell.split_input(width);
        Self {
            table: TokenTable::new(embedding, &token),
            rest: Some(rest),
        }
    }

    /// The token's share `W_y e(y) + b_x` of `tokens` `[rows]`: `[rows, gates · hidden]`.
    pub fn token_share(&self, tokens: Tensor<1, Int>) -> Tensor<2> {
        self.table.lookup(tokens)
    }

    /// The whole projected input `W_x [e(y); r] + b_x`, `rest` being `r` `[rows, width]`
    /// (`None` for a cell that reads the token alone).
    ///
    /// # Panics
    ///
    /// If `rest` is given to a cell that reads the token alone, or missing for one that does not.
    pub fn cell_input(&self, tokens: Tensor<1, Int>, rest: Option<Tensor<2>>) -> Tensor<2> {
        let share = self.token_share(tokens);
        match (&self.rest, rest) {
            (Some(weights), Some(rest)) => share + linear(weights, rest),
            (None, None) => share,
            _ => panic!("the rest of a cell input does not match the cell's inputs"),
        }
    }
}
