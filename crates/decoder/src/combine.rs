//! How the decoder joins its state and the context before predicting (seed §5).

use burn::prelude::*;

/// How `s_i` and `c_i` are joined before the affine output layer (seed §5).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Combine {
    /// `[s_i; c_i]`: keeps the two apart (the seed's default, "to preserve information").
    Concat,
    /// `s_i + c_i`: needs equal sizes.
    Add,
}

impl Combine {
    /// Every way, in the order of [`Combine::NAMES`].
    pub const ALL: [Combine; 2] = [Combine::Concat, Combine::Add];
    /// The names accepted on command lines: `concat`, `add`.
    pub const NAMES: [&'static str; 2] = ["concat", "add"];

    /// The way's short name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Size of the joined vector.
    pub fn output_size(self, hidden_size: usize, encoder_size: usize) -> usize {
        match self {
            Combine::Concat => hidden_size + encoder_size,
            Combine::Add => hidden_size,
        }
    }

    /// Joins decoder states and contexts along the last axis (seed §5):
    ///
    /// ```text
    /// concat: o_i = [s_i; c_i]        add: o_i = s_i + c_i
    /// ```
    ///
    /// - `state`: `[..., hidden]`; `context`: `[..., enc_hidden]`.
    pub fn apply<const D: usize>(self, state: Tensor<D>, context: Tensor<D>) -> Tensor<D> {
        match self {
            Combine::Concat => Tensor::cat(vec![state, context], D - 1), // [..., hidden + enc_hidden]
            Combine::Add => state + context,
        }
    }
}
