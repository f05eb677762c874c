//! The encoder of an RNN encoder–decoder with attention: it reads a source sentence and keeps
//! every hidden state `H = [h_1 … h_S]` (seed §3).
//!
//! Not built yet: the recurrent encoder arrives with the encoder/decoder issue. The crate exists
//! so that the workspace has its final shape; it depends on `attention-core` only.
#![warn(missing_docs)]
