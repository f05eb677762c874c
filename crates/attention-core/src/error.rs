//! The one error type of this crate.

use crate::ScoreKind;

/// What can go wrong when building attention or describing a batch's padding.
///
/// Wrong tensor *shapes* are programming errors and panic with a message naming the shapes;
/// the cases here come from configuration and data, which callers should report, not crash on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttentionError {
    /// A score that compares query and key element by element was given different sizes.
    #[error(
        "the {score} score needs query and key vectors of one size, but query_size = {query_size} \
         and key_size = {key_size}; the general and additive scores accept different sizes"
    )]
    SizeMismatch {
        /// The score that was asked for.
        score: &'static str,
        /// The configured query size (decoder state size).
        query_size: usize,
        /// The configured key size (encoder state size).
        key_size: usize,
    },
    /// A size in the configuration was zero.
    #[error("{name} must be at least 1, got 0")]
    ZeroSize {
        /// The configuration field that was zero.
        name: &'static str,
    },
    /// `attention_size` was set for a score that has no hidden layer to size.
    #[error(
        "attention_size = {attention_size} applies only to the additive score, not to the {score} score"
    )]
    AttentionSizeUnused {
        /// The score that was asked for.
        score: &'static str,
        /// The value that would have been ignored.
        attention_size: usize,
    },
    /// A score name that is none of `dot`, `scaled-dot`, `general`, `additive`.
    #[error("unknown score {name:?}; expected one of {}", ScoreKind::NAMES.join(", "))]
    UnknownScore {
        /// The name as given.
        name: String,
    },
    /// The lengths given for a batch do not match its number of rows.
    #[error("{given} lengths were given for a batch of {batch} rows")]
    LengthCount {
        /// How many lengths were given.
        given: usize,
        /// The batch size of the keys.
        batch: usize,
    },
    /// A row's length exceeds the padded source length.
    #[error("length {length} of batch row {row} exceeds the padded source length {src_len}")]
    LengthTooLong {
        /// The batch row.
        row: usize,
        /// Its stated length.
        length: usize,
        /// The padded length of the keys.
        src_len: usize,
    },
}
