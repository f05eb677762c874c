//! The one error type of this crate.

use attention_core::AttentionError;

/// What can go wrong when building or running an encoder.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EncoderError {
    /// A size in the configuration was zero.
    #[error("encoder {name} must be at least 1, got 0")]
    ZeroSize {
        /// The configuration field.
        name: &'static str,
    },
    /// A dropout probability outside `[0, 1)`.
    #[error("encoder dropout must be in [0, 1), got {value}")]
    Dropout {
        /// The value given.
        value: f64,
    },
    /// The lengths of a batch do not fit its tokens.
    #[error("source lengths do not fit the batch: {0}")]
    Lengths(#[from] AttentionError),
}
