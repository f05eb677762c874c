//! Data, training, evaluation, prediction and attention pictures for RNN encoder–decoders with
//! attention.
//!
//! Not built yet: the trainer arrives with the trainer issue. The crate exists so that the
//! workspace has its final shape; it depends on `attention-core`, `encoder` and `decoder`.
#![warn(missing_docs)]
