//! The context's share of a Bahdanau-ordered cell input, moved onto the source positions.

use burn::nn::Linear;
use burn::prelude::*;
use encoder::RecurrentCell;
use fused_ops::linear;

use crate::decoder::index_tensor;

/// A Bahdanau-ordered decoder feeds `[y_{i-1}; c_i]` to its cell, whose input projection is
/// linear, and `c_i = Σ_j α_ij h_j` is too, so
///
/// ```text
/// W_x [y; c_i] + b_x = (W_y y + b_x) + W_c c_i = (W_y y + b_x) + Σ_j α_ij (W_c h_j)
/// ```
///
/// `W_c h_j` is made once per source position; each decoder row then pays `src_len · gates`
/// multiply-adds for its context's share instead of `enc · gates`. Beam search, whose rows are
/// up to `width` per sentence, gains; greedy search (one row per sentence, about as many steps
/// as source positions) would spend what it saves on the projection, and does not use it. The
/// result equals the direct product up to float rounding.
///
/// The projected states stay one per sentence: a row only names its sentence, so following
/// the beam's reordering copies no states (they are compacted once fewer than half of the
/// sentences held still have rows).
#[derive(Debug, Clone)]
pub struct ProjectedContext {
    /// `W_c h_j` of each sentence held: `[held, src_len, gates · hidden]`.
    values: Tensor<3>,
    /// `W_y` with `b_x`: the previous token's share.
    token: Linear,
    /// The sentence (index into `values`) of each decoder row.
    rows: Vec<usize>,
}

impl ProjectedContext {
    /// The projection of `states` `[batch, src_len, enc]` through `cell`'s input, whose first
    /// `embedding` inputs are the token's and the rest the context's; row `b` is sentence `b`.
    pub fn new(cell: &RecurrentCell, embedding: usize, states: Tensor<3>) -> Self {
        let (token, context) = cell.split_input(embedding);
        let [batch, _, _] = states.dims();
        Self {
            values: linear(&context, states),
            token,
            rows: (0..batch).collect(),
        }
    }

    /// The rows `indices` (repeats allowed), as the source memory's.
    pub fn select(&self, indices: &[usize]) -> Self {
        let rows: Vec<usize> = indices.iter().map(|&i| self.rows[i]).collect();
        let [held, _, _] = self.values.dims();
        let mut live: Vec<usize> = rows.clone();
        live.sort_unstable();
        live.dedup();
        if 2 * live.len() >= held {
            return Self {
                values: self.values.clone(),
                token: self.token.clone(),
                rows,
            };
        }
        let device = self.values.device();
        let mut renumber = vec![0; held];
        for (new, &old) in live.iter().enumerate() {
            renumber[old] = new;
        }
        Self {
            values: self.values.clone().select(0, index_tensor(&live, &device)),
            token: self.token.clone(),
            rows: rows.iter().map(|&s| renumber[s]).collect(),
        }
    }

    /// The token's share of the cell input, `W_y y + b_x`, from the embedded tokens
    /// `[rows, emb]`.
    pub fn token_share(&self, embedded: Tensor<2>) -> Tensor<2> {
        linear(&self.token, embedded)
    }

    /// The context's share of the cell input, `W_c c = Σ_j α_ij (W_c h_j)`, from the attention
    /// weights `[rows, src_len]` (zero on padding): `[rows, gates · hidden]`.
    ///
    /// Each sentence's rows are laid out in `width` slots (the most rows a sentence has), so
    /// one batched product `[held, width, src_len] × [held, src_len, gates]` serves every row.
    pub fn context_share(&self, weights: Tensor<2>) -> Tensor<2> {
        let [rows, src_len] = weights.dims();
        let [held, _, gates] = self.values.dims();
        let device = weights.device();
        let mut taken = vec![0; held];
        let occurrence: Vec<usize> = self
            .rows
            .iter()
            .map(|&s| {
                taken[s] += 1;
                taken[s] - 1
            })
            .collect();
        let width = taken.iter().copied().max().unwrap_or(1).max(1);
        let slot_of_row: Vec<usize> = self
            .rows
            .iter()
            .zip(occurrence)
            .map(|(&s, r)| s * width + r)
            .collect();
        // Row of `weights` in each slot; empty slots read an appended row of zeros.
        let mut row_of_slot = vec![rows; held * width];
        for (row, &slot) in slot_of_row.iter().enumerate() {
            row_of_slot[slot] = row;
        }
        let padded = Tensor::cat(vec![weights, Tensor::zeros([1, src_len], &device)], 0)
            .select(0, index_tensor(&row_of_slot, &device))
            .reshape([held, width, src_len]);
        padded
            .matmul(self.values.clone()) // [held, width, gates]
            .reshape([held * width, gates])
            .select(0, index_tensor(&slot_of_row, &device)) // [rows, gates]
    }
}
