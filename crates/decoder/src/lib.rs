//! The attention decoder of an RNN encoder–decoder (seed §5–6), and greedy and beam decoding.
//!
//! Not built yet: the decoder arrives with the encoder/decoder issue. The crate exists so that
//! the workspace has its final shape; it depends on `attention-core` only.
#![warn(missing_docs)]
