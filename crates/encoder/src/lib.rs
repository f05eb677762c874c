//! The encoder of an RNN encoder–decoder with attention: it reads a source sentence and keeps
//! every hidden state `H = [h_1 … h_S]` (seed §3), not only the last one.
//!
//! - [`Encoder`] ([`EncoderConfig`]): embeddings, then `num_layers` recurrent layers, GRU or
//!   LSTM ([`CellKind`]), optionally bidirectional, returning an [`EncoderOutput`]: all states,
//!   the final state at each row's true length, and the padding mask.
//! - [`RecurrentCell`] ([`RecurrentCellConfig`]): GRU and LSTM cells with fused gates, shared
//!   with the `decoder` crate; [`run_cell`] runs one over a padded batch in either direction
//!   ([`run_projected_cell`] on inputs already projected).
//! - [`TokenTable`]: a cell's input projection of every token's embedding, made once, so that
//!   decoding looks rows up instead of projecting each position.
//!
//! Padding never leaks: a padded step leaves the state as it was, so the forward final state is
//! the one at the true last token and the backward direction starts there.
//!
//! Sits above `attention-core` (for the padding mask) and below `decoder` and `trainer`.
//!
//! # Example
//!
//! ```
//! use burn::prelude::*;
//! use encoder::{CellKind, EncoderConfig};
//!
//! let device = Device::flex();
//! let encoder = EncoderConfig::new(10, 8, 16)
//!     .with_cell(CellKind::Lstm)
//!     .with_bidirectional(true)
//!     .init(&device)?;
//! let tokens = Tensor::<2, Int>::from_ints([[1, 2, 3], [4, 5, 0]], &device);
//! let out = encoder.forward(tokens, &[3, 2])?;
//! assert_eq!(out.states.dims(), [2, 3, 32]);
//! assert_eq!(out.final_state.hidden.dims(), [2, 32]);
//! # Ok::<(), encoder::EncoderError>(())
//! ```
#![warn(missing_docs)]

mod cell;
#[allow(clippy::module_inception)]
mod encoder;
mod error;
mod rnn;
mod token_table;

pub use cell::{CellKind, CellState, CellSteps, FusedGates, RecurrentCell, RecurrentCellConfig};
pub use encoder::{Encoder, EncoderConfig, EncoderLayer, EncoderOutput};
pub use error::EncoderError;
pub use rnn::{run_cell, run_projected_cell};
pub use token_table::TokenTable;
