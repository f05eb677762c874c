//! Fused tensor ops for RNN encoder–decoders on [Burn](https://burn.dev): the workspace's
//! bottom floor, under `attention-core` and `encoder`.
//!
//! Each op is one public function (or type) that computes its function on any backend:
//!
//! | op | what it computes |
//! |---|---|
//! | [`linear`] | the affine layer `x W + b` |
//! | [`adam_update`] with [`AdamStep`] | one parameter's Adam step |
//! | [`dropout`] | inverted dropout during training |
//! | [`squared_norm`] | `Σ x²`, for gradient clipping |
//! | [`sigmoid`], [`tanh_via_sigmoid`] | `σ(x)` and `tanh x = 2σ(2x) − 1` |
//! | [`additive_energy`] with [`AdditiveKeys`] | `vᵀ tanh(q + k)` for every query–key pair |
//! | [`weighted_sum`] with [`ContextValues`] | `Σ_s α_s h_s` over a memory read step by step |
//! | [`gru_update`] | the GRU's gates after its two projections |
//! | [`lstm_update`] | the LSTM's gates after its two projections |
//! | [`SequenceSteps`] | a sequence read one step at a time |
//! | [`StepLinear`] | an affine layer applied at every step of a loop |
//!
//! With the `flex` feature, f32 tensors on Burn's flex backend (with or without autodiff) take
//! SIMD kernels with their own backward passes (AVX-512, AVX2 + FMA or the baseline, picked at
//! run time); every other tensor — another backend or dtype, or autodiff with gradient
//! checkpointing — takes the portable Burn ops beside each kernel, which compute the same
//! function. Why each kernel exists and what it saves is measured in `docs/performance.md`.
//!
//! The feature changes which code runs, never the API: a crate built on these ops needs no
//! `cfg` of its own.
#![warn(missing_docs)]

mod adam;
mod additive;
mod context;
mod dropout;
#[cfg(feature = "flex")]
mod flex;
mod gru;
mod linear;
mod logistic;
mod lstm;
mod squared_norm;
mod step_linear;
mod steps;

pub use adam::{AdamStep, adam_update};
pub use additive::{AdditiveKeys, additive_energy};
pub use context::{ContextValues, weighted_sum};
pub use dropout::dropout;
pub use gru::gru_update;
pub use linear::linear;
pub use logistic::{sigmoid, tanh_via_sigmoid};
pub use lstm::lstm_update;
pub use squared_norm::squared_norm;
pub use step_linear::StepLinear;
pub use steps::SequenceSteps;
