//! Attention for RNN encoder–decoders, on [Burn](https://burn.dev): the mechanism of the seed's
//! §4, standalone, so that any project can depend on it alone.
//!
//! At each output step `i` a decoder asks a question with its state `s_i` (the query) of the
//! encoder states `H = [h_1 … h_S]` (the keys and values):
//!
//! 1. [`Score`] gives scores `e_ij` ([`ScoreKind`]: dot, scaled dot, Luong's general,
//!    Bahdanau's additive);
//! 2. [`masked_softmax`] turns them into weights `α_ij`, zero on padding, summing to 1;
//! 3. [`context`] sums `c_i = Σ_j α_ij h_j`.
//!
//! [`Attention`] (built from [`AttentionConfig`]) chains the three. [`AttentionMemory`] holds
//! the encoder side with the score's per-source work done once, so a decoder asking one query
//! per step ([`Attention::step`]) does not redo it; [`Attention::forward`] answers all steps'
//! queries at once. [`AttentionOutput`] carries the context and the weights.
//!
//! Padding follows Burn's convention: **`true` = padded**; see [`pad_mask_from_lengths`].
//!
//! This crate sits at the bottom of the model (`fused-ops` ← `attention-core` ←
//! `encoder`/`decoder` ← `trainer` ← `xtask`). It knows nothing of recurrent cells,
//! vocabularies or files, and no backend: the caller's [`Device`](burn::prelude::Device) decides
//! where tensors live. Its `flex` feature only turns on the SIMD kernels of `fused-ops` (the
//! affine layer, the additive energy, the context of a memory read step by step); the API is the
//! same with or without it.
//!
//! # Example
//!
//! ```
//! use attention_core::{AttentionConfig, ScoreKind};
//! use burn::prelude::*;
//!
//! let device = Device::flex();
//! let attention = AttentionConfig::new(4, 6)
//!     .with_score(ScoreKind::General)
//!     .init(&device)?;
//! let encoder_states = Tensor::<3>::ones([2, 5, 6], &device); // [batch, src_len, key_size]
//! let memory = attention.memory(encoder_states).with_lengths(&[5, 3])?;
//! let out = attention.step(&memory, Tensor::ones([2, 4], &device)); // query [batch, query_size]
//! assert_eq!(out.context.dims(), [2, 6]);
//! assert_eq!(out.weights.dims(), [2, 5]);
//! # Ok::<(), attention_core::AttentionError>(())
//! ```
#![warn(missing_docs)]

mod attention;
mod context;
mod error;
mod mask;
mod memory;
mod score;
mod softmax;

pub use attention::{Attention, AttentionConfig, AttentionOutput};
pub use context::context;
pub use error::AttentionError;
pub use mask::pad_mask_from_lengths;
pub use memory::AttentionMemory;
pub use score::{AdditiveScore, DotScore, GeneralScore, Score, ScoreKind};
pub use softmax::masked_softmax;
