//! Data, training, evaluation, prediction and attention pictures for RNN encoder–decoders with
//! attention: everything `cargo xtask` does, as a library.
//!
//! - Tasks ([`tasks`]): `dates` (generated from a seed), `g2p` (CMUdict format), `translate`
//!   (parallel text, plain or gzip); [`Vocab`]s and [`Tokenizer`]s.
//! - [`train`] ([`TrainRequest`], [`RunConfig`]): Adam, global gradient clipping, learning-rate
//!   decay on plateau, validation and an atomic checkpoint every epoch, early stopping, exact
//!   `resume`, per-step seeding, progress bars; a [`RunDir`] holds the result.
//! - [`Trained`]: a run loaded for [`Trained::predict`] and [`Trained::evaluate`].
//! - [`metrics`]: exact match, G2P WER/PER, sacreBLEU-compatible BLEU and chrF.
//! - [`write_attention_pictures`]: heatmap PNG/SVG, decoding GIF, weights JSON.
//! - [`download`](mod@download): the public data sets, SHA-256 checked.
//!
//! Sits at the top of the library crates: `attention-core` ← `encoder`/`decoder` ← `trainer`.
//! Only this crate (and `xtask`) touches the filesystem.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod backend;
pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod data_parallel;
pub mod download;
mod error;
pub mod evaluate;
pub mod inference;
pub mod length_plot;
pub mod metrics;
pub mod plot;
pub mod progress;
pub mod run;
pub mod tasks;
pub mod text_file;
pub mod tokenize;
pub mod training;
pub mod vocab;

pub use backend::Backend;
pub use config::{DecodingOptions, ModelOptions, RunConfig, TaskConfig, TaskKind, TrainingOptions};
pub use download::{DATA_SETS, DataSet, data_set, download};
pub use error::{Result, TrainerError};
pub use inference::{Alternative, Evaluation, InputError, LengthBucket, Prediction, Trained};
pub use length_plot::{LengthCurve, length_table, write_length_plot};
pub use plot::{PictureFiles, write_attention_pictures};
pub use run::RunDir;
pub use tokenize::Tokenizer;
pub use training::{ResumeChanges, TrainRequest, TrainSummary, train};
pub use vocab::Vocab;
