//! What decoding returns, and the options it shares between greedy and beam search.

use crate::DecoderError;

/// One decoded output sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The output token ids, without BOS and without the final EOS.
    pub tokens: Vec<usize>,
    /// Sum of the tokens' log-probabilities (EOS included when `finished`).
    pub log_prob: f32,
    /// The ranking score: `log_prob` divided by the GNMT length penalty (equal to `log_prob`
    /// for greedy search and for `length_penalty = 0`).
    pub score: f32,
    /// The attention weights at each output step, over the sentence's real source tokens:
    /// `weights[i][j] = α_ij`. One row per token in `tokens`, plus one for EOS when `finished`.
    /// Empty for the no-attention baseline.
    pub weights: Vec<Vec<f32>>,
    /// Whether the hypothesis ended with EOS (rather than at the length limit).
    pub finished: bool,
}

/// The longest output allowed for a source of `n` tokens: `⌊ratio · n⌋ + extra`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxLength {
    /// Output tokens allowed per source token.
    pub ratio: f32,
    /// Output tokens allowed on top.
    pub extra: usize,
}

impl MaxLength {
    /// The limit for a source of `src_len` tokens (at least 1).
    pub fn for_source(&self, src_len: usize) -> usize {
        ((self.ratio * src_len as f32).floor() as usize + self.extra).max(1)
    }
}

impl Default for MaxLength {
    /// `2 · n + 10`.
    fn default() -> Self {
        Self {
            ratio: 2.0,
            extra: 10,
        }
    }
}

/// Options shared by greedy and beam search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// The token every output starts from.
    pub bos: usize,
    /// The token that ends an output.
    pub eos: usize,
    /// The length limit (EOS included).
    pub max_length: MaxLength,
}

/// Beam search's own options.
#[derive(Debug, Clone, PartialEq)]
pub struct BeamOptions {
    /// Beam width `k`: hypotheses kept per sentence at each step.
    pub width: usize,
    /// GNMT's length penalty exponent `α` (Wu et al. 2016): the score is
    /// `log P(Y) / ((5 + |Y|) / 6)^α`. 0 ranks by `log P` alone.
    pub length_penalty: f32,
    /// How many hypotheses to return per sentence (`1 ≤ n_best ≤ width`).
    pub n_best: usize,
}

impl BeamOptions {
    /// Checks the ranges.
    ///
    /// # Errors
    ///
    /// [`DecoderError::Search`] naming the option.
    pub fn validate(&self) -> Result<(), DecoderError> {
        let bad = |name, value: String, why| Err(DecoderError::Search { name, value, why });
        if self.width == 0 {
            return bad(
                "width",
                "0".into(),
                "the beam needs at least one hypothesis",
            );
        }
        if self.n_best == 0 || self.n_best > self.width {
            return bad(
                "n_best",
                self.n_best.to_string(),
                "must be between 1 and the width",
            );
        }
        if !(self.length_penalty.is_finite() && self.length_penalty >= 0.0) {
            return bad(
                "length_penalty",
                self.length_penalty.to_string(),
                "must be a finite number >= 0",
            );
        }
        Ok(())
    }

    /// GNMT's length penalty `lp(Y) = ((5 + |Y|) / 6)^α`.
    ///
    /// ```text
    /// lp(Y) = ((5 + |Y|) / 6)^α          score(Y) = log P(Y) / lp(Y)
    /// ```
    pub fn penalty(&self, len: usize) -> f32 {
        ((5.0 + len as f32) / 6.0).powf(self.length_penalty)
    }
}
