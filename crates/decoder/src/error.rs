//! The one error type of this crate.

use attention_core::AttentionError;
use encoder::EncoderError;

/// What can go wrong when building or running a decoder or a whole model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DecoderError {
    /// A size in the configuration was zero.
    #[error("decoder {name} must be at least 1, got 0")]
    ZeroSize {
        /// The configuration field.
        name: &'static str,
    },
    /// A dropout probability outside `[0, 1)`.
    #[error("decoder dropout must be in [0, 1), got {value}")]
    Dropout {
        /// The value given.
        value: f64,
    },
    /// An option needs the decoder state and the encoder states to be the same size.
    #[error(
        "{option} needs the decoder hidden_size ({hidden_size}) to equal the encoder state size \
         ({encoder_size}); use {hint}"
    )]
    SizeMismatch {
        /// The option that needs equal sizes.
        option: &'static str,
        /// The decoder's hidden size.
        hidden_size: usize,
        /// The size of the encoder's states.
        encoder_size: usize,
        /// What to use instead.
        hint: &'static str,
    },
    /// Input feeding was asked for with the Bahdanau ordering, which already feeds the context
    /// into the recurrent cell.
    #[error(
        "input feeding applies to the Luong ordering only; Bahdanau already feeds c_i into the RNN"
    )]
    InputFeedingNeedsLuong,
    /// The attention could not be built.
    #[error(transparent)]
    Attention(#[from] AttentionError),
    /// The encoder could not be built or run.
    #[error(transparent)]
    Encoder(#[from] EncoderError),
    /// Models that cannot decode together.
    #[error("{why}")]
    Ensemble {
        /// What does not fit.
        why: String,
    },
    /// A search option is out of range.
    #[error("search option {name} = {value} is out of range: {why}")]
    Search {
        /// The option.
        name: &'static str,
        /// Its value, as written.
        value: String,
        /// What it must be.
        why: &'static str,
    },
}
