//! A run's configuration: task, model, training and decoding options, saved as `config.json`.

use std::path::{Path, PathBuf};

use attention_core::ScoreKind;
use decoder::{Combine, DecoderConfig, InitialState, QueryOrdering, Seq2SeqConfig};
use encoder::{CellKind, EncoderConfig};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::{Result, TrainerError};

/// The newest `config.json` format this build reads and writes.
pub const CONFIG_VERSION: u32 = 1;

/// Which task a run trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// Synthetic date normalisation, generated from the seed.
    Dates,
    /// Grapheme-to-phoneme conversion on a CMUdict-format dictionary.
    G2p,
    /// Translation between two parallel text files.
    Translate,
}

impl TaskKind {
    /// Every task.
    pub const ALL: [TaskKind; 3] = [TaskKind::Dates, TaskKind::G2p, TaskKind::Translate];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Dates => "dates",
            TaskKind::G2p => "g2p",
            TaskKind::Translate => "translate",
        }
    }
}

/// Where a task's data comes from, and how it is cut into tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskConfig {
    /// The task.
    pub kind: TaskKind,
    /// `g2p`: the training dictionary; `translate`: the directory of the parallel files.
    pub data: Option<PathBuf>,
    /// `g2p`: the test dictionary (default: `data` with extension `.test`).
    pub test_data: Option<PathBuf>,
    /// `translate`: source and target language suffixes, e.g. `de`, `en`.
    pub languages: Option<(String, String)>,
    /// `translate`: file-name stems of the train, valid and test splits.
    pub split_names: (String, String, String),
    /// `translate`: lower-case the text.
    pub lowercase: bool,
    /// `g2p`: every n-th training word becomes the development set.
    pub dev_every: usize,
    /// `dates`: how many train / valid / test examples to generate.
    pub dates_sizes: (usize, usize, usize),
    /// Tokens seen fewer times in training become `<unk>`.
    pub min_count: usize,
    /// Training pairs with more source or target tokens are skipped.
    pub max_train_len: Option<usize>,
}

impl TaskConfig {
    /// The defaults of `task`.
    pub fn new(kind: TaskKind) -> Self {
        Self {
            kind,
            data: None,
            test_data: None,
            languages: (kind == TaskKind::Translate).then(|| ("de".into(), "en".into())),
            split_names: ("train".into(), "val".into(), "test_2016_flickr".into()),
            lowercase: true,
            dev_every: 21,
            dates_sizes: (20_000, 1_000, 1_000),
            min_count: if kind == TaskKind::Translate { 2 } else { 1 },
            max_train_len: None,
        }
    }
}

/// The model's shape, independent of vocabulary sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelOptions {
    /// Embedding size (source and target).
    pub embedding: usize,
    /// Encoder state size per direction.
    pub encoder_hidden: usize,
    /// Decoder state size.
    pub decoder_hidden: usize,
    /// GRU or LSTM, encoder and decoder.
    pub cell: CellKind,
    /// The attention score; `None` for the no-attention baseline.
    pub score: Option<ScoreKind>,
    /// Additive score's hidden size (default: the encoder state size).
    pub attention_size: Option<usize>,
    /// Bahdanau or Luong.
    pub ordering: QueryOrdering,
    /// Luong input feeding.
    pub input_feeding: bool,
    /// Concatenate or add state and context.
    pub combine: Combine,
    /// How the decoder's first state is made.
    pub initial_state: InitialState,
    /// Bidirectional encoder.
    pub bidirectional: bool,
    /// Encoder layers.
    pub encoder_layers: usize,
    /// Dropout.
    pub dropout: f64,
    /// Dropout on the source embeddings (absent from, and 0 in, configurations written before
    /// it existed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub source_dropout: f64,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

impl Default for ModelOptions {
    /// A bidirectional GRU encoder (2 × 64) and a GRU decoder (128) with Bahdanau's additive
    /// attention: sized for the `dates` task on a laptop CPU.
    fn default() -> Self {
        Self {
            embedding: 32,
            encoder_hidden: 64,
            decoder_hidden: 128,
            cell: CellKind::Gru,
            score: Some(ScoreKind::Additive),
            attention_size: None,
            ordering: QueryOrdering::Bahdanau,
            input_feeding: false,
            combine: Combine::Concat,
            initial_state: InitialState::Bridge,
            bidirectional: true,
            encoder_layers: 1,
            dropout: 0.0,
            source_dropout: 0.0,
        }
    }
}

impl ModelOptions {
    /// The model's configuration for these vocabulary sizes.
    pub fn seq2seq(&self, source_vocab: usize, target_vocab: usize) -> Seq2SeqConfig {
        let encoder = EncoderConfig::new(source_vocab, self.embedding, self.encoder_hidden)
            .with_cell(self.cell)
            .with_bidirectional(self.bidirectional)
            .with_num_layers(self.encoder_layers)
            .with_dropout(self.dropout)
            .with_embedding_dropout(self.source_dropout);
        let decoder = DecoderConfig::new(
            target_vocab,
            self.embedding,
            self.decoder_hidden,
            encoder.output_size(),
        )
        .with_cell(self.cell)
        .with_score(self.score)
        .with_attention_size(self.attention_size)
        .with_ordering(self.ordering)
        .with_input_feeding(self.input_feeding)
        .with_combine(self.combine)
        .with_initial_state(self.initial_state)
        .with_dropout(self.dropout);
        Seq2SeqConfig::new(encoder, decoder)
    }
}

/// How training runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingOptions {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Sentences per batch.
    pub batch_size: usize,
    /// Adam's initial learning rate.
    pub learning_rate: f64,
    /// Factor applied to the learning rate after an epoch without improvement.
    pub lr_decay: f64,
    /// Global gradient-norm clipping threshold (`None`: no clipping).
    pub clip_norm: Option<f64>,
    /// Stop after this many epochs without improvement.
    pub patience: usize,
    /// Seed of data generation, shuffling, initialisation and dropout.
    pub seed: u64,
    /// Validate on at most this many items per epoch (`None`: all).
    pub valid_limit: Option<usize>,
    /// Threads a training step runs on: the batch is split into this many shards, one per
    /// thread, and their gradients summed (the whole batch's gradients, up to float rounding;
    /// `data_parallel`). With dropout above 0 and more than one thread, the shards draw their
    /// masks from one generator in whatever order the threads reach it, so the run is not
    /// reproducible bit for bit from its seed.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub threads: usize,
}

fn one() -> usize {
    1
}

fn is_one(value: &usize) -> bool {
    *value == 1
}

impl Default for TrainingOptions {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            learning_rate: 3e-3,
            lr_decay: 0.5,
            clip_norm: Some(1.0),
            patience: 3,
            seed: 42,
            valid_limit: None,
            threads: 1,
        }
    }
}

/// How outputs are decoded for validation, evaluation and prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodingOptions {
    /// Output length limit: `⌊ratio · source length⌋ + extra`.
    pub max_length_ratio: f32,
    /// See `max_length_ratio`.
    pub max_length_extra: usize,
    /// Beam width (1: greedy).
    pub beam: usize,
    /// GNMT length penalty α for beam search.
    pub length_penalty: f32,
}

impl DecodingOptions {
    /// The widest beam accepted. Wider ones only find the same outputs slower (a `--beam
    /// 100000` on one word took 42 s and 3.1 GB before this limit).
    pub const MAX_BEAM: usize = 64;

    /// Checks the beam width (`1..=MAX_BEAM`), the length penalty and the length limit.
    ///
    /// # Errors
    ///
    /// [`TrainerError::InvalidOption`] naming the option and its value.
    pub fn validate(&self) -> Result<()> {
        if !(1..=Self::MAX_BEAM).contains(&self.beam) {
            return Err(TrainerError::invalid(
                "--beam",
                self.beam,
                format!(
                    "must be between 1 and {} (wider beams only find the same outputs slower)",
                    Self::MAX_BEAM
                ),
            ));
        }
        for (name, value) in [
            ("--length-penalty", self.length_penalty),
            ("--max-length-ratio", self.max_length_ratio),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(TrainerError::invalid(name, value, "must be a number >= 0"));
            }
        }
        Ok(())
    }
}

impl Default for DecodingOptions {
    fn default() -> Self {
        Self {
            max_length_ratio: 2.0,
            max_length_extra: 10,
            beam: 1,
            length_penalty: 0.6,
        }
    }
}

/// Everything a run was made with: `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Format version of this file ([`CONFIG_VERSION`] when written by this build).
    pub version: u32,
    /// The data.
    pub task: TaskConfig,
    /// The model's shape.
    pub model: ModelOptions,
    /// Training.
    pub training: TrainingOptions,
    /// Decoding.
    pub decoding: DecodingOptions,
    /// The backend the run trains on.
    pub backend: Backend,
}

impl RunConfig {
    /// The defaults of `task` on `backend`.
    pub fn new(task: TaskKind, backend: Backend) -> Self {
        Self {
            version: CONFIG_VERSION,
            task: TaskConfig::new(task),
            model: ModelOptions::default(),
            training: TrainingOptions::default(),
            decoding: DecodingOptions::default(),
            backend,
        }
    }

    /// Checks values that cannot work before any data is read.
    ///
    /// # Errors
    ///
    /// [`TrainerError::InvalidOption`] naming the option.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("--embedding", self.model.embedding),
            ("--encoder-hidden", self.model.encoder_hidden),
            ("--decoder-hidden", self.model.decoder_hidden),
            ("--encoder-layers", self.model.encoder_layers),
            ("--epochs", self.training.epochs),
            ("--batch-size", self.training.batch_size),
            ("--threads", self.training.threads),
        ];
        if let Some((name, value)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(TrainerError::invalid(*name, value, "must be at least 1"));
        }
        let lr = self.training.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(TrainerError::invalid(
                "--lr",
                lr,
                "must be a positive number",
            ));
        }
        for (name, value) in [
            ("--dropout", self.model.dropout),
            ("--source-dropout", self.model.source_dropout),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(TrainerError::invalid(name, value, "must be in [0, 1)"));
            }
        }
        if !(self.training.lr_decay > 0.0 && self.training.lr_decay <= 1.0) {
            return Err(TrainerError::invalid(
                "--lr-decay",
                self.training.lr_decay,
                "must be in (0, 1]",
            ));
        }
        if let Some(clip) = self.training.clip_norm
            && !(clip.is_finite() && clip > 0.0)
        {
            return Err(TrainerError::invalid(
                "--clip-norm",
                clip,
                "must be a positive number",
            ));
        }
        self.decoding.validate()?;
        if self.task.kind != TaskKind::Dates && self.task.data.is_none() {
            return Err(TrainerError::invalid(
                "--data",
                "(none)",
                format!("the {} task needs a data path", self.task.kind.name()),
            ));
        }
        Ok(())
    }

    /// Writes `config.json` atomically.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("configs serialise");
        crate::run::write_atomic(path, &json)
    }

    /// Reads `config.json`, refusing a newer format than this build knows.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] if unreadable, [`TrainerError::NewerVersion`],
    /// [`TrainerError::Run`] if malformed.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| TrainerError::io(path, e))?;
        Self::parse(path, &bytes)
    }

    /// Parses a `config.json`'s bytes; errors name `path`.
    ///
    /// # Errors
    ///
    /// As [`RunConfig::load`], without the reading.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| TrainerError::run(path, format!("not valid JSON: {e}")))?;
        let version = value
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                TrainerError::run(path, "no \"version\" field; is this a run's config.json?")
            })?;
        if version > u64::from(CONFIG_VERSION) {
            return Err(TrainerError::NewerVersion {
                path: path.to_path_buf(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: CONFIG_VERSION,
            });
        }
        serde_json::from_value(value)
            .map_err(|e| TrainerError::run(path, format!("not a valid run configuration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_dropout_is_written_only_when_used_and_reads_as_zero_when_absent() {
        let mut options = ModelOptions::default();
        let json = serde_json::to_value(&options).unwrap();
        assert!(json.get("source_dropout").is_none(), "{json}");
        let read: ModelOptions = serde_json::from_value(json).unwrap();
        assert_eq!(read.source_dropout, 0.0);

        options.source_dropout = 0.3;
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(json["source_dropout"], 0.3);
        assert_eq!(
            serde_json::from_value::<ModelOptions>(json).unwrap(),
            options
        );
    }
}
