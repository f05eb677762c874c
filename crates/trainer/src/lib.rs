//! Data, training, evaluation, prediction and attention pictures for RNN encoder–decoders with
//! attention: everything `cargo xtask` does, as a library.
//!
//! - Tasks ([`tasks`]): `dates` (generated from a seed), `g2p` (CMUdict format), `translate`
//!   (parallel text, plain or gzip); [`Vocab`]s and [`Tokenizer`]s.
//! - [`train`] ([`TrainRequest`], [`RunConfig`]): Adam, global gradient clipping, learning-rate
//!   decay on plateau, validation and an atomic checkpoint every epoch, early stopping, exact
//!   `resume`, per-step seeding, progress bars; a [`RunDir`] holds the result.
//! - [`average_checkpoints`]: a new run whose model is the mean of a run's last K epochs.
//! - [`Trained`]: a run loaded for [`Trained::predict`] and [`Trained::evaluate`].
//! - [`metrics`]: exact match, G2P WER/PER, sacreBLEU-compatible BLEU and chrF.
//! - [`write_attention_pictures`]: heatmap PNG/SVG, decoding GIF, weights JSON.
//! - [`download`]: the public data sets, SHA-256 checked; [`fetch_dictionary`] (today's
//!   CMUdict) and [`build_stressed_split`] (g014b2b with stress) from a pinned release.
//! - Building blocks of a training loop of one's own: [`make_batch`], [`batch_loss`],
//!   [`data_parallel`] (a batch's gradients on several threads), [`adam`] (the optimizer),
//!   [`model_bytes`].
//!
//! Every item has one path: the crate root, or one of the three public modules ([`tasks`],
//! [`metrics`], [`data_parallel`]).
//!
//! Sits at the top of the library crates: `fused-ops` ← `attention-core` ← `encoder`/`decoder`
//! ← `trainer`. Only this crate (and `xtask`) touches the filesystem. Its errors name
//! configuration fields (`training.learning_rate`) and values, never a command line's flags.
#![warn(missing_docs)]
#![recursion_limit = "256"]

mod average;
mod batch;
mod checkpoint;
mod clipping;
mod cmudict_today;
mod data;
pub mod data_parallel;
mod download;
mod error;
mod evaluate;
mod length_plot;
mod line_chart;
mod loss;
pub mod metrics;
mod optimizer;
mod pack;
mod plot;
mod progress;
mod run;
pub mod tasks;
mod text_file;
mod time_plot;
mod trained;
mod training;

pub use average::{Averaged, average_checkpoints, average_models};
pub use batch::{Batch, EncodedPair, make_batch, target_tokens};
pub use checkpoint::model_bytes;
pub use cmudict_today::{build_stressed_split, fetch_dictionary};
pub use data::{EvalItem, FileChecksum, Pair, TaskData};
pub use download::{DATA_SETS, DataSet, data_set, download};
pub use error::{Result, TrainerError};
pub use inference::{
    Alternative, Backend, CONFIG_VERSION, DecodingOptions, InferenceError, InputError, Languages,
    ModelOptions, Prediction, Predictor, RunConfig, RunFiles, SplitNames, SplitSizes, Subwords,
    TaskConfig, TaskField, TaskKind, Tokenizer, TrainingOptions, Vocab, Vocabulary, padded,
};
pub use length_plot::{LengthCurve, bucket_label, length_table, write_length_plot};
pub use loss::{batch_loss, token_cross_entropy};
pub use optimizer::{FusedAdam, adam};
pub use pack::{Packed, Precision, pack_run};
pub use plot::{PictureFiles, write_attention_pictures};
pub use run::{EpochMetrics, RunDir, git_commit_in};
pub use runtime::{Loaded, cores, decode, decode_on, read_lexicons};
pub use text_file::{TextFile, parse_text, read_text_file};
pub use time_plot::{Mark, TimeCurve, lower_is_better, time_table, write_time_plot};
pub use trained::{Evaluation, LengthBucket, Trained};
pub use training::{ResumeChanges, TrainRequest, TrainSummary, train};
