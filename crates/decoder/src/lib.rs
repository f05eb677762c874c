//! The attention decoder of an RNN encoder–decoder (seed §5–7), its no-attention baseline, and
//! greedy and beam decoding.
//!
//! - [`Decoder`] ([`DecoderConfig`]): at each step it asks [`attention_core::Attention`] with
//!   the previous state ([`QueryOrdering::Bahdanau`]) or the new one
//!   ([`QueryOrdering::Luong`], optional input feeding), joins state and context
//!   ([`Combine`]: concatenation or addition) and predicts the next token with an affine
//!   layer. Any [`attention_core::ScoreKind`] works with either ordering; `score: None` gives
//!   the baseline that only sees the encoder's final state. [`InitialState`] says how `s_0` is
//!   made.
//! - [`greedy`] and [`beam_search`]: batched, stopping at EOS per sentence, each
//!   [`Hypothesis`] carrying its tokens, score and per-step attention weights.
//! - [`Seq2Seq`] ([`Seq2SeqConfig`]): encoder and decoder together.
//! - [`Ensemble`]: models sharing vocabularies decoding as one, on their mean log-probabilities.
//!
//! Sits above `attention-core` and `encoder` (whose cells it shares), below `trainer`.
//!
//! # Example
//!
//! ```
//! use burn::prelude::*;
//! use decoder::{DecoderConfig, MaxLength, QueryOrdering, SearchOptions, Seq2SeqConfig};
//! use encoder::EncoderConfig;
//!
//! let device = Device::flex();
//! let model = Seq2SeqConfig::new(
//!     EncoderConfig::new(10, 8, 16),
//!     DecoderConfig::new(10, 8, 16, 16).with_ordering(QueryOrdering::Luong),
//! )
//! .init(&device)?;
//! let source = Tensor::<2, Int>::from_ints([[3, 4, 5], [6, 7, 0]], &device);
//! let out = model.forward(source.clone(), &[3, 2], Tensor::from_ints([[1, 3], [1, 6]], &device))?;
//! assert_eq!(out.logits.dims(), [2, 2, 10]);
//! assert_eq!(out.weights.unwrap().dims(), [2, 2, 3]);
//!
//! let options = SearchOptions { bos: 1, eos: 2, max_length: MaxLength { ratio: 1.0, extra: 2 } };
//! let hyps = model.valid().greedy(source, &[3, 2], &options)?;
//! assert!(hyps[0].tokens.len() <= 5);
//! # Ok::<(), decoder::DecoderError>(())
//! ```
#![warn(missing_docs)]

mod beam;
mod combine;
#[allow(clippy::module_inception)]
mod decoder;
mod ensemble;
mod error;
mod greedy;
mod hypothesis;
mod model;
mod projected_context;
mod token_input;

pub use beam::beam_search;
pub use combine::Combine;
pub use decoder::{
    Decoder, DecoderConfig, DecoderOutput, DecoderState, DecoderStep, InitialState, QueryOrdering,
    SourceMemory,
};
pub use ensemble::Ensemble;
pub use error::DecoderError;
pub use greedy::greedy;
pub use hypothesis::{BeamOptions, Hypothesis, MaxLength, SearchOptions};
pub use model::{Seq2Seq, Seq2SeqConfig};
pub use projected_context::ProjectedContext;
pub use token_input::TokenInput;
