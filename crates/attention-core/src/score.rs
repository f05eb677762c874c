//! Score functions: how well a query (decoder state) matches each key (encoder state), seed §4.1.
//!
//! Each score splits its work in two: [`Score::project_keys`] does what depends only on the
//! encoder states, once per source sentence, and [`Score::scores`] does what depends on the
//! query, at every decoder step.

use core::str::FromStr;

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use fused_ops::{AdditiveKeys, StepLinear, additive_energy, linear};

use crate::AttentionError;

/// Which score function compares a query `s` with each key `h_j` (seed §4.1 and its note).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum ScoreKind {
    /// `e_ij = s_i · h_j` (seed §4.1). Query and key sizes must be equal.
    Dot,
    /// `e_ij = s_i · h_j / √d`, the dot score scaled by the key size `d`. Sizes must be equal.
    ScaledDot,
    /// Luong's multiplicative ("general") score `e_ij = s_iᵀ W h_j`.
    General,
    /// Bahdanau's additive score `e_ij = vᵀ tanh(W_q s + W_k h_j + b)`.
    Additive,
}

impl ScoreKind {
    /// Every score, in the order of [`ScoreKind::NAMES`].
    pub const ALL: [ScoreKind; 4] = [
        ScoreKind::Dot,
        ScoreKind::ScaledDot,
        ScoreKind::General,
        ScoreKind::Additive,
    ];
    /// The names that [`ScoreKind::from_str`] accepts and [`ScoreKind::name`] returns.
    pub const NAMES: [&'static str; 4] = ["dot", "scaled-dot", "general", "additive"];

    /// The score's short name, as used on command lines: `dot`, `scaled-dot`, `general`,
    /// `additive`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Whether the score compares query and key element by element (so their sizes must match).
    pub fn needs_equal_sizes(self) -> bool {
        matches!(self, ScoreKind::Dot | ScoreKind::ScaledDot)
    }
}

impl FromStr for ScoreKind {
    type Err = AttentionError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
            .ok_or_else(|| AttentionError::UnknownScore {
                name: name.to_string(),
            })
    }
}

/// A score function with its parameters; build it with [`AttentionConfig`](crate::AttentionConfig).
// One Score lives in a model, so the size of its largest variant costs nothing; Burn's Module
// derive takes each variant's module by value.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Score {
    /// `e_ij = s_i · h_j`.
    Dot(DotScore),
    /// `e_ij = s_i · h_j / √d`.
    ScaledDot(DotScore),
    /// `e_ij = s_iᵀ W h_j`.
    General(GeneralScore),
    /// `e_ij = vᵀ tanh(W_q s_i + W_k h_j + b)`.
    Additive(AdditiveScore),
}

/// The dot score `e_ij = scale · (s_i · h_j)` with `scale` 1 (dot) or `1/√d` (scaled dot).
#[derive(Module, Debug)]
pub struct DotScore {
    /// 1 for the plain dot score, `1/√key_size` for the scaled one.
    pub scale: f32,
}

/// Luong's "general" score `e_ij = s_iᵀ W h_j` (Luong et al. 2015, eq. 8).
#[derive(Module, Debug)]
pub struct GeneralScore {
    /// `W`, applied to the keys: `key_size → query_size`, no bias.
    pub key_proj: Linear,
}

/// Bahdanau's additive score `e_ij = vᵀ tanh(W_q s_i + W_k h_j + b)` (Bahdanau et al. 2014,
/// appendix A.1.2).
#[derive(Module, Debug)]
pub struct AdditiveScore {
    /// `W_q`: `query_size → attention_size`, no bias.
    pub query_proj: Linear,
    /// `W_k` and `b`: `key_size → attention_size`.
    pub key_proj: Linear,
    /// `v`: `attention_size → 1`, no bias.
    pub energy: Linear,
}

impl Score {
    /// Builds the score `kind` for the given sizes, checking them.
    pub(crate) fn new(
        kind: ScoreKind,
        query_size: usize,
        key_size: usize,
        attention_size: usize,
        device: &Device,
    ) -> Self {
        match kind {
            ScoreKind::Dot => Score::Dot(DotScore { scale: 1.0 }),
            ScoreKind::ScaledDot => Score::ScaledDot(DotScore {
                scale: 1.0 / (key_size as f32).sqrt(),
            }),
            ScoreKind::General => Score::General(GeneralScore {
                key_proj: LinearConfig::new(key_size, query_size)
                    .with_bias(false)
                    .init(device),
            }),
            ScoreKind::Additive => Score::Additive(AdditiveScore {
                query_proj: LinearConfig::new(query_size, attention_size)
                    .with_bias(false)
                    .init(device),
                key_proj: LinearConfig::new(key_size, attention_size).init(device),
                energy: LinearConfig::new(attention_size, 1)
                    .with_bias(false)
                    .init(device),
            }),
        }
    }

    /// Which score this is.
    pub fn kind(&self) -> ScoreKind {
        match self {
            Score::Dot(_) => ScoreKind::Dot,
            Score::ScaledDot(_) => ScoreKind::ScaledDot,
            Score::General(_) => ScoreKind::General,
            Score::Additive(_) => ScoreKind::Additive,
        }
    }

    /// The query-independent part of the score, computed once per source sentence.
    ///
    /// - `values`: `[batch, src_len, key_size]`, the encoder states `h_j`.
    ///
    /// Returns the projected keys `k_j`: `h_j · scale` (dot, scaled dot: `[.., key_size]`),
    /// `W h_j` (general: `[.., query_size]`), `W_k h_j + b` (additive: `[.., attention_size]`).
    pub fn project_keys(&self, values: Tensor<3>) -> Tensor<3> {
        match self {
            Score::Dot(dot) | Score::ScaledDot(dot) if dot.scale == 1.0 => values,
            Score::Dot(dot) | Score::ScaledDot(dot) => values * dot.scale,
            Score::General(general) => linear(&general.key_proj, values),
            Score::Additive(additive) => linear(&additive.key_proj, values),
        }
    }

    /// The scores `e_ij` of every query `i` against every key `j`.
    ///
    /// - `queries`: `[batch, tgt_len, query_size]`, the decoder states `s_i`.
    /// - `keys`: `[batch, src_len, _]`, from [`Score::project_keys`].
    ///
    /// Returns `[batch, tgt_len, src_len]`.
    pub fn scores(&self, queries: Tensor<3>, keys: Tensor<3>) -> Tensor<3> {
        self.scores_of(queries, keys, None, None)
    }

    /// The additive score's query projection made ready for a decoder's loop (one per memory);
    /// `None` for the other scores, which do not project the query.
    pub(crate) fn query_steps(&self) -> Option<StepLinear> {
        match self {
            Score::Additive(additive) => Some(StepLinear::new(&additive.query_proj)),
            _ => None,
        }
    }

    /// [`Score::scores`]; `keys_aids` (an attention memory's, for these `keys`) let the fused
    /// additive energy keep its form of the keys for later steps and, under autodiff, sum their
    /// gradient in place; `query_steps` (the memory's, from [`Score::query_steps`]) projects the
    /// queries with one weight gradient for all the memory's steps.
    pub(crate) fn scores_of(
        &self,
        queries: Tensor<3>,
        keys: Tensor<3>,
        keys_aids: Option<&AdditiveKeys>,
        query_steps: Option<&StepLinear>,
    ) -> Tensor<3> {
        match self {
            // s_i · k_j for all i, j at once; for general, k_j = W h_j makes this s_iᵀ W h_j.
            Score::Dot(_) | Score::ScaledDot(_) | Score::General(_) => {
                queries.matmul(keys.swap_dims(1, 2)) // [batch, tgt_len, src_len]
            }
            Score::Additive(additive) => {
                let query = match query_steps {
                    Some(steps) => {
                        let [batch, tgt_len, size] = queries.dims();
                        let [_, attention_size] = additive.query_proj.weight.dims();
                        let rows = queries.reshape([batch * tgt_len, size]);
                        steps
                            .forward(rows)
                            .reshape([batch, tgt_len, attention_size])
                    }
                    None => linear(&additive.query_proj, queries),
                }; // [batch, tgt_len, attn]
                additive_energy(query, keys, additive.energy.weight.val(), keys_aids)
            }
        }
    }
}
