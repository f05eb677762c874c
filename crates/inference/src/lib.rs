//! Text in, prediction out: everything a trained RNN encoder–decoder with attention needs to
//! turn a line of text into an output with its attention weights, and nothing that touches
//! files, the network or threads, so the same code runs in `trainer`, in `cargo xtask predict`
//! and in a browser (WebAssembly).
//!
//! - [`RunConfig`]: a run's `config.json` (task, model, training and decoding options),
//!   parsed from bytes ([`RunConfig::parse`], which upgrades old formats).
//! - [`Vocab`]s (`source_vocab.json`, `target_vocab.json`) and [`Tokenizer`]s; how a task
//!   normalises its input ([`normalise_source`]) and tokenises it ([`tokenizers`]), with a
//!   learned subword vocabulary ([`Subwords`], the run's `tokenizer.json`) where it has one.
//! - [`Predictor`]: a model built from a run's files' bytes ([`RunFiles`]) that makes
//!   [`Prediction`]s, greedy or beam, with n-best lists, attention weights and warnings.
//! - [`Lexicon`]: a G2P run's dictionary, whose words get their listed pronunciations.
//! - [`split_running_text`]: a line of running text cut into words and punctuation, numbers
//!   spelled out ([`Predictor::predict_text_with`] pronounces it).
//! - [`decode_n_best`]: many sources decoded in length-sorted batches ([`length_batches`]).
//! - [`Backend`]: which Burn backend to run on, among those compiled in (the `flex`, `ndarray`
//!   and `wgpu` features).
//!
//! Sits above the model crates: `fused-ops` ← `attention-core` ← `encoder`/`decoder` ←
//! `inference` ← `trainer`. Its errors ([`InferenceError`]) name configuration fields and
//! files, which callers name as they like (a path, or a file's name in the browser).
#![warn(missing_docs)]
#![recursion_limit = "256"]

mod backend;
mod config;
mod decode;
mod error;
mod lexicon;
mod predictor;
mod running_text;
mod subwords;
mod tokenize;
mod vocab;

pub use backend::Backend;
pub use config::{
    CONFIG_VERSION, DecodingOptions, Languages, ModelOptions, RunConfig, SplitNames, SplitSizes,
    TaskConfig, TaskField, TaskKind, TrainingOptions, Vocabulary,
};
pub use decode::{decode_n_best, in_input_order, length_batches, padded};
pub use error::{InferenceError, Result};
pub use lexicon::Lexicon;
pub use predictor::{
    Alternative, INPUT_LIMIT_FACTOR, InputError, Origin, Prediction, Predictor, RunFiles,
    TextPrediction, TextToken, UNKNOWN_RUN_INPUT_LIMIT, load_model_bytes,
};
pub use running_text::{TextPiece, split_running_text};
pub use subwords::{Subwords, TOKENIZER_FILE};
pub use tokenize::{Tokenizer, normalise_source, tokenizers};
pub use vocab::Vocab;
