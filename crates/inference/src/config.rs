//! A run's configuration: task, model, training and decoding options, saved as `config.json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use attention_core::ScoreKind;
use decoder::{Combine, DecoderConfig, InitialState, QueryOrdering, Seq2SeqConfig};
use encoder::{CellKind, EncoderConfig};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::{InferenceError, Result};

/// The newest `config.json` format this build reads and writes. Version 3 writes in `task`
/// only the fields of the run's task (a `g2p` run no longer carries Multi30k's split names)
/// and adds `vocabulary`; version 2 named the parts of `languages`, `split_names` and
/// `dates_sizes`, which version 1 wrote as arrays. Files of versions 1 and 2 still load
/// ([`RunConfig::parse`] upgrades them; a field a file lacks takes its task's default).
pub const CONFIG_VERSION: u32 = 3;

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

    /// Its name in `config.json` and on command lines.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Dates => "dates",
            TaskKind::G2p => "g2p",
            TaskKind::Translate => "translate",
        }
    }
}

/// A [`TaskConfig`] field that only one task reads; `config.json` holds it for that task only,
/// and `train` refuses its flag for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskField {
    /// `test_data`.
    TestData,
    /// `languages`.
    Languages,
    /// `split_names`.
    SplitNames,
    /// `lowercase`.
    Lowercase,
    /// `vocabulary`.
    Vocabulary,
    /// `dev_every`.
    DevEvery,
    /// `stress`.
    Stress,
    /// `dates_sizes`.
    DatesSizes,
}

impl TaskField {
    /// The task that reads it.
    pub fn task(self) -> TaskKind {
        match self {
            TaskField::TestData | TaskField::DevEvery | TaskField::Stress => TaskKind::G2p,
            TaskField::Languages
            | TaskField::SplitNames
            | TaskField::Lowercase
            | TaskField::Vocabulary => TaskKind::Translate,
            TaskField::DatesSizes => TaskKind::Dates,
        }
    }
}

/// The source and target languages of a translation task: the suffixes of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Languages {
    /// The source files' suffix, e.g. `de`.
    pub source: String,
    /// The target files' suffix, e.g. `en`.
    pub target: String,
}

impl FromStr for Languages {
    type Err = InferenceError;

    /// `SOURCE,TARGET`, e.g. `de,en`.
    fn from_str(text: &str) -> Result<Self> {
        match parts(text)[..] {
            [source, target] => Ok(Self {
                source: source.into(),
                target: target.into(),
            }),
            _ => Err(InferenceError::invalid(
                "task.languages",
                text,
                "expected SOURCE,TARGET, e.g. de,en",
            )),
        }
    }
}

/// The file-name stems of a translation task's splits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitNames {
    /// The training split, e.g. `train`.
    pub train: String,
    /// The validation split, e.g. `val`.
    pub valid: String,
    /// The test split, e.g. `test_2016_flickr`.
    pub test: String,
}

impl FromStr for SplitNames {
    type Err = InferenceError;

    /// `TRAIN,VALID,TEST`.
    fn from_str(text: &str) -> Result<Self> {
        match parts(text)[..] {
            [train, valid, test] => Ok(Self {
                train: train.into(),
                valid: valid.into(),
                test: test.into(),
            }),
            _ => Err(InferenceError::invalid(
                "task.split_names",
                text,
                "expected TRAIN,VALID,TEST",
            )),
        }
    }
}

/// How many items each split holds (or, for the generated `dates` task, is made with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "SplitSizesForm")]
pub struct SplitSizes {
    /// Training items.
    pub train: usize,
    /// Validation items.
    pub valid: usize,
    /// Test items.
    pub test: usize,
}

impl SplitSizes {
    /// How many examples of each split the `dates` task makes by default: 20 000 / 1 000 /
    /// 1 000.
    pub const DATES_DEFAULT: SplitSizes = SplitSizes {
        train: 20_000,
        valid: 1_000,
        test: 1_000,
    };
}

/// The forms [`SplitSizes`] is read from: named, or the `[train, valid, test]` array of
/// version-1 files and of manifests written before names.
#[derive(Deserialize)]
#[serde(untagged)]
enum SplitSizesForm {
    Named {
        train: usize,
        valid: usize,
        test: usize,
    },
    Array(usize, usize, usize),
}

impl From<SplitSizesForm> for SplitSizes {
    fn from(form: SplitSizesForm) -> Self {
        let (SplitSizesForm::Named { train, valid, test }
        | SplitSizesForm::Array(train, valid, test)) = form;
        Self { train, valid, test }
    }
}

impl FromStr for SplitSizes {
    type Err = InferenceError;

    /// `TRAIN,VALID,TEST`, three counts.
    fn from_str(text: &str) -> Result<Self> {
        let counts: Option<Vec<usize>> = parts(text).iter().map(|p| p.parse().ok()).collect();
        match counts.as_deref() {
            Some(&[train, valid, test]) => Ok(Self { train, valid, test }),
            _ => Err(InferenceError::invalid(
                "task.dates_sizes",
                text,
                "expected three counts TRAIN,VALID,TEST",
            )),
        }
    }
}

/// `text`'s comma-separated parts, trimmed.
fn parts(text: &str) -> Vec<&str> {
    text.split(',').map(str::trim).collect()
}

/// How a translation task's text becomes tokens: whole words (and punctuation), or pieces of a
/// subword vocabulary learned from the training split (saved as the run's `tokenizer.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Vocabulary {
    /// Words and punctuation, split by our own tokenizer; words seen fewer than `min_count`
    /// times in training become `<unk>` (the behaviour of runs written before subwords).
    #[default]
    Words,
    /// A byte-pair-encoding vocabulary of this many pieces, learned jointly from both sides.
    Bpe(usize),
    /// A unigram language-model vocabulary (SentencePiece's) of this many pieces.
    Unigram(usize),
}

impl Vocabulary {
    /// The subword kind and size, or `None` for words.
    pub fn subwords(self) -> Option<(&'static str, usize)> {
        match self {
            Vocabulary::Words => None,
            Vocabulary::Bpe(size) => Some(("bpe", size)),
            Vocabulary::Unigram(size) => Some(("unigram", size)),
        }
    }
}

impl fmt::Display for Vocabulary {
    /// `words`, `bpe:SIZE` or `unigram:SIZE`, as the flag and `config.json` write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subwords() {
            None => f.write_str("words"),
            Some((kind, size)) => write!(f, "{kind}:{size}"),
        }
    }
}

impl FromStr for Vocabulary {
    type Err = InferenceError;

    /// `words`, `bpe:SIZE` or `unigram:SIZE` (SIZE at least 100).
    fn from_str(text: &str) -> Result<Self> {
        let invalid = |why: &str| InferenceError::invalid("task.vocabulary", text, why);
        let text = text.trim();
        if text == "words" {
            return Ok(Vocabulary::Words);
        }
        let (kind, size) = text
            .split_once(':')
            .ok_or_else(|| invalid("expected words, bpe:SIZE or unigram:SIZE, e.g. bpe:8000"))?;
        let size: usize = size
            .trim()
            .parse()
            .ok()
            .filter(|&n| n >= 100)
            .ok_or_else(|| invalid("the size must be a whole number of at least 100"))?;
        match kind.trim() {
            "bpe" => Ok(Vocabulary::Bpe(size)),
            "unigram" => Ok(Vocabulary::Unigram(size)),
            _ => Err(invalid("the kind must be bpe or unigram")),
        }
    }
}

impl Serialize for Vocabulary {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Vocabulary {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a task's data comes from, and how it is cut into tokens. `config.json` holds only the
/// fields of its task ([`TaskKind`]); the others keep their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TaskFile", from = "TaskFile")]
pub struct TaskConfig {
    /// The task.
    pub kind: TaskKind,
    /// `g2p`: the training dictionary; `translate`: the directory of the parallel files.
    pub data: Option<PathBuf>,
    /// `g2p`: the test dictionary (default: `data` with extension `.test`).
    pub test_data: Option<PathBuf>,
    /// `translate`: source and target language suffixes, e.g. `de`, `en`.
    pub languages: Option<Languages>,
    /// `translate`: file-name stems of the train, valid and test splits.
    pub split_names: SplitNames,
    /// `translate`: lower-case the text.
    pub lowercase: bool,
    /// `g2p`: every n-th training word becomes the development set.
    pub dev_every: usize,
    /// `g2p`: keep the stress digits of the phones (`AH0`, `EY1`), so that the model learns to
    /// write them; without it they are removed (absent from, and off in, configurations
    /// written before it existed).
    pub stress: bool,
    /// `dates`: how many train / valid / test examples to generate.
    pub dates_sizes: SplitSizes,
    /// `translate`: words, or a learned subword vocabulary (absent from, and `words` in,
    /// configurations written before subwords).
    pub vocabulary: Vocabulary,
    /// Tokens seen fewer times in training become `<unk>` (with a subword vocabulary every
    /// piece of the training split is kept: no piece is rare enough to drop).
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
            languages: (kind == TaskKind::Translate).then(|| Languages {
                source: "de".into(),
                target: "en".into(),
            }),
            split_names: SplitNames {
                train: "train".into(),
                valid: "val".into(),
                test: "test_2016_flickr".into(),
            },
            lowercase: true,
            dev_every: 21,
            stress: false,
            dates_sizes: SplitSizes::DATES_DEFAULT,
            vocabulary: Vocabulary::Words,
            min_count: if kind == TaskKind::Translate { 2 } else { 1 },
            max_train_len: None,
        }
    }
}

/// The file form of [`TaskConfig`]: each field present only for the tasks it applies to.
#[derive(Serialize, Deserialize)]
struct TaskFile {
    kind: TaskKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    data: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    test_data: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    languages: Option<Languages>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    split_names: Option<SplitNames>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lowercase: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vocabulary: Option<Vocabulary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dev_every: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stress: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dates_sizes: Option<SplitSizes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_train_len: Option<usize>,
}

impl From<TaskConfig> for TaskFile {
    fn from(task: TaskConfig) -> Self {
        let ours = |field: TaskField| field.task() == task.kind;
        Self {
            kind: task.kind,
            data: task.data,
            test_data: task.test_data.filter(|_| ours(TaskField::TestData)),
            languages: task.languages.filter(|_| ours(TaskField::Languages)),
            split_names: ours(TaskField::SplitNames).then_some(task.split_names),
            lowercase: ours(TaskField::Lowercase).then_some(task.lowercase),
            vocabulary: ours(TaskField::Vocabulary).then_some(task.vocabulary),
            dev_every: ours(TaskField::DevEvery).then_some(task.dev_every),
            stress: (ours(TaskField::Stress) && task.stress).then_some(true),
            dates_sizes: ours(TaskField::DatesSizes).then_some(task.dates_sizes),
            min_count: Some(task.min_count),
            max_train_len: task.max_train_len,
        }
    }
}

impl From<TaskFile> for TaskConfig {
    /// The task's defaults, overlaid with the fields the file has (a version-2 file has every
    /// field, those of other tasks included).
    fn from(file: TaskFile) -> Self {
        let defaults = TaskConfig::new(file.kind);
        Self {
            kind: file.kind,
            data: file.data,
            test_data: file.test_data,
            languages: file.languages.or(defaults.languages),
            split_names: file.split_names.unwrap_or(defaults.split_names),
            lowercase: file.lowercase.unwrap_or(defaults.lowercase),
            vocabulary: file.vocabulary.unwrap_or(defaults.vocabulary),
            dev_every: file.dev_every.unwrap_or(defaults.dev_every),
            stress: file.stress.unwrap_or(defaults.stress),
            dates_sizes: file.dates_sizes.unwrap_or(defaults.dates_sizes),
            min_count: file.min_count.unwrap_or(defaults.min_count),
            max_train_len: file.max_train_len,
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
    #[serde(default)]
    pub source_dropout: f64,
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
    /// reproducible bit for bit from its seed. (Absent from, and 1 in, configurations written
    /// before it existed.)
    #[serde(default = "one")]
    pub threads: usize,
    /// Checkpoints kept on disk, the newest ones (each epoch writes one; older ones are
    /// removed once a newer one is complete). Keep K to average the last K epochs later
    /// (`average`). (Absent from, and 2 in, configurations written before it existed.)
    #[serde(default = "two")]
    pub keep_checkpoints: usize,
    /// Label smoothing `a` of the training loss, in `[0, 1)`: each target token's label is
    /// `1 − a` on the token plus `a / V` on every one of the `V` output symbols
    /// (`trainer::token_cross_entropy`); 0 trains on the plain cross-entropy. Validation
    /// always reports the plain one. (Absent from, and 0 in, configurations written before it
    /// existed.)
    #[serde(default)]
    pub label_smoothing: f64,
}

fn one() -> usize {
    1
}

fn two() -> usize {
    2
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
            keep_checkpoints: 2,
            label_smoothing: 0.0,
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
    /// [`InferenceError::InvalidOption`] naming the field (`decoding.beam`, …) and its value.
    pub fn validate(&self) -> Result<()> {
        if !(1..=Self::MAX_BEAM).contains(&self.beam) {
            return Err(InferenceError::invalid(
                "decoding.beam",
                self.beam,
                format!(
                    "must be between 1 and {} (wider beams only find the same outputs slower)",
                    Self::MAX_BEAM
                ),
            ));
        }
        for (name, value) in [
            ("decoding.length_penalty", self.length_penalty),
            ("decoding.max_length_ratio", self.max_length_ratio),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(InferenceError::invalid(
                    name,
                    value,
                    "must be a number >= 0",
                ));
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
    /// [`InferenceError::InvalidOption`] naming the field (`section.field`, e.g.
    /// `training.learning_rate`) and its value.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("model.embedding", self.model.embedding),
            ("model.encoder_hidden", self.model.encoder_hidden),
            ("model.decoder_hidden", self.model.decoder_hidden),
            ("model.encoder_layers", self.model.encoder_layers),
            ("training.epochs", self.training.epochs),
            ("training.batch_size", self.training.batch_size),
            ("training.threads", self.training.threads),
            ("training.keep_checkpoints", self.training.keep_checkpoints),
        ];
        if let Some((name, value)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(InferenceError::invalid(*name, value, "must be at least 1"));
        }
        let lr = self.training.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(InferenceError::invalid(
                "training.learning_rate",
                lr,
                "must be a positive number",
            ));
        }
        for (name, value) in [
            ("model.dropout", self.model.dropout),
            ("model.source_dropout", self.model.source_dropout),
            ("training.label_smoothing", self.training.label_smoothing),
        ] {
            if !(0.0..1.0).contains(&value) {
                return Err(InferenceError::invalid(name, value, "must be in [0, 1)"));
            }
        }
        if !(self.training.lr_decay > 0.0 && self.training.lr_decay <= 1.0) {
            return Err(InferenceError::invalid(
                "training.lr_decay",
                self.training.lr_decay,
                "must be in (0, 1]",
            ));
        }
        if let Some(clip) = self.training.clip_norm
            && !(clip.is_finite() && clip > 0.0)
        {
            return Err(InferenceError::invalid(
                "training.clip_norm",
                clip,
                "must be a positive number",
            ));
        }
        self.decoding.validate()?;
        if self.task.kind != TaskKind::Translate && self.task.vocabulary != Vocabulary::Words {
            return Err(InferenceError::invalid(
                "task.vocabulary",
                self.task.vocabulary,
                "subword vocabularies are for the translate task (the others read letters)",
            ));
        }
        if self.task.kind != TaskKind::Dates && self.task.data.is_none() {
            return Err(InferenceError::invalid(
                "task.data",
                "(none)",
                format!("the {} task needs a data path", self.task.kind.name()),
            ));
        }
        Ok(())
    }

    /// Parses a `config.json`'s bytes, refusing a newer format than this build knows and
    /// upgrading a version-1 file; errors name `path` (nothing is read from it).
    ///
    /// # Errors
    ///
    /// [`InferenceError::NewerVersion`], [`InferenceError::Run`] if malformed.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| InferenceError::run(path, format!("not valid JSON: {e}")))?;
        let version = value
            .get("version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                InferenceError::run(path, "no \"version\" field; is this a run's config.json?")
            })?;
        if version > u64::from(CONFIG_VERSION) {
            return Err(InferenceError::NewerVersion {
                path: path.to_path_buf(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: CONFIG_VERSION,
            });
        }
        let mut value = value;
        if version == 1 {
            upgrade_from_v1(&mut value);
        }
        if let Some(fields) = value.as_object_mut() {
            fields.insert("version".into(), CONFIG_VERSION.into());
        }
        serde_json::from_value(value)
            .map_err(|e| InferenceError::run(path, format!("not a valid run configuration: {e}")))
    }
}

/// Rewrites a version-1 `config.json`'s task as version 2 writes it: the arrays of `task.languages`,
/// `task.split_names` and `task.dates_sizes` become objects with named parts. Anything not of
/// the version-1 shape is left for the parser to report.
fn upgrade_from_v1(config: &mut serde_json::Value) {
    const NAMES: [(&str, &[&str]); 3] = [
        ("languages", &["source", "target"]),
        ("split_names", &["train", "valid", "test"]),
        ("dates_sizes", &["train", "valid", "test"]),
    ];
    if let Some(task) = config.get_mut("task").and_then(|t| t.as_object_mut()) {
        for (field, names) in NAMES {
            if let Some(serde_json::Value::Array(parts)) = task.get(field)
                && parts.len() == names.len()
            {
                let named = names.iter().map(|n| n.to_string()).zip(parts.clone());
                task.insert(field.into(), serde_json::Value::Object(named.collect()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_added_later_read_as_their_old_behaviour_when_absent() {
        // Version 2 writes every field; files written before a field existed lack it, and read
        // as what those runs did: no source dropout, one thread, two checkpoints kept, no
        // label smoothing.
        let mut options = ModelOptions::default();
        let mut json = serde_json::to_value(&options).unwrap();
        assert_eq!(json["source_dropout"], 0.0);
        json.as_object_mut().unwrap().remove("source_dropout");
        let read: ModelOptions = serde_json::from_value(json).unwrap();
        assert_eq!(read.source_dropout, 0.0);
        let mut training = serde_json::to_value(TrainingOptions::default()).unwrap();
        for field in ["threads", "keep_checkpoints", "label_smoothing"] {
            training.as_object_mut().unwrap().remove(field);
        }
        let read: TrainingOptions = serde_json::from_value(training).unwrap();
        assert_eq!(
            (read.threads, read.keep_checkpoints, read.label_smoothing),
            (1, 2, 0.0)
        );

        options.source_dropout = 0.3;
        let json = serde_json::to_value(&options).unwrap();
        assert_eq!(json["source_dropout"], 0.3);
        assert_eq!(
            serde_json::from_value::<ModelOptions>(json).unwrap(),
            options
        );
    }

    /// The `g2p-cmudict` run's `config.json` (an ensemble member now), written in format
    /// version 1.
    const SHIPPED_V1: &str =
        include_str!("../../../models/g2p-cmudict-ensemble/full-seed42/config.json");

    #[test]
    fn a_version_1_file_loads_with_its_arrays_as_named_parts() {
        assert!(
            SHIPPED_V1.contains("\"version\": 1"),
            "the fixture is version 1"
        );
        let config = RunConfig::parse(Path::new("config.json"), SHIPPED_V1.as_bytes()).unwrap();
        assert_eq!(config.version, CONFIG_VERSION);
        assert_eq!(config.task.kind, TaskKind::G2p);
        assert_eq!(
            config.task.split_names,
            "train,val,test_2016_flickr".parse().unwrap()
        );
        assert_eq!(
            config.task.dates_sizes,
            SplitSizes {
                train: 20_000,
                valid: 1_000,
                test: 1_000
            }
        );
        assert_eq!(config.model.encoder_hidden, 256);
        assert_eq!(config.decoding.beam, 5);

        let mut translate: serde_json::Value = serde_json::from_str(SHIPPED_V1).unwrap();
        translate["task"]["languages"] = serde_json::json!(["fr", "en"]);
        let bytes = serde_json::to_vec(&translate).unwrap();
        let config = RunConfig::parse(Path::new("config.json"), &bytes).unwrap();
        assert_eq!(config.task.languages, Some("fr,en".parse().unwrap()));
    }

    #[test]
    fn version_3_names_every_part_of_its_task_only_and_reads_back_the_same() {
        let mut config = RunConfig::new(TaskKind::Translate, Backend::Flex);
        config.task.vocabulary = Vocabulary::Bpe(8000);
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["version"], 3);
        assert_eq!(json["task"]["languages"]["source"], "de");
        assert_eq!(json["task"]["languages"]["target"], "en");
        assert_eq!(json["task"]["split_names"]["valid"], "val");
        assert_eq!(json["task"]["vocabulary"], "bpe:8000");
        for other in ["dates_sizes", "dev_every", "test_data"] {
            assert!(json["task"].get(other).is_none(), "{other} in {json}");
        }
        let bytes = serde_json::to_vec(&json).unwrap();
        assert_eq!(
            RunConfig::parse(Path::new("c.json"), &bytes).unwrap(),
            config
        );

        let g2p = serde_json::to_value(RunConfig::new(TaskKind::G2p, Backend::Flex)).unwrap();
        let task = g2p["task"].as_object().unwrap();
        let mut fields: Vec<&str> = task.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["dev_every", "kind", "min_count"],
            "no data set yet"
        );
        let mut stressed = RunConfig::new(TaskKind::G2p, Backend::Flex);
        stressed.task.stress = true;
        let json = serde_json::to_value(&stressed).unwrap();
        assert_eq!(json["task"]["stress"], true);
        let bytes = serde_json::to_vec(&json).unwrap();
        assert!(
            RunConfig::parse(Path::new("c.json"), &bytes)
                .unwrap()
                .task
                .stress
        );
        let dates = serde_json::to_value(RunConfig::new(TaskKind::Dates, Backend::Flex)).unwrap();
        assert_eq!(dates["task"]["dates_sizes"]["train"], 20_000);
        assert!(dates["task"].get("split_names").is_none());
    }

    #[test]
    fn a_version_2_file_with_every_task_s_fields_still_loads() {
        let mut v2 = serde_json::to_value(RunConfig::new(TaskKind::G2p, Backend::Flex)).unwrap();
        v2["version"] = 2.into();
        v2["task"]["split_names"] = serde_json::json!({"train": "a", "valid": "b", "test": "c"});
        v2["task"]["dates_sizes"] = serde_json::json!({"train": 5, "valid": 6, "test": 7});
        v2["task"]["lowercase"] = true.into();
        v2["task"]["languages"] = serde_json::Value::Null;
        let bytes = serde_json::to_vec(&v2).unwrap();
        let config = RunConfig::parse(Path::new("c.json"), &bytes).unwrap();
        assert_eq!(config.version, CONFIG_VERSION);
        assert_eq!(config.task.kind, TaskKind::G2p);
        assert_eq!(config.task.vocabulary, Vocabulary::Words);
    }

    #[test]
    fn a_malformed_version_1_part_is_an_error_naming_the_file() {
        let mut broken: serde_json::Value = serde_json::from_str(SHIPPED_V1).unwrap();
        broken["task"]["split_names"] = serde_json::json!(["train", "val"]);
        let bytes = serde_json::to_vec(&broken).unwrap();
        let err = RunConfig::parse(Path::new("runs/x/config.json"), &bytes).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("runs/x/config.json: not a valid run configuration"),
            "{err}"
        );
    }

    #[test]
    fn list_values_parse_from_commas_and_name_the_field_when_wrong() {
        assert_eq!(
            " 5, 6 ,7".parse::<SplitSizes>().unwrap(),
            SplitSizes {
                train: 5,
                valid: 6,
                test: 7
            }
        );
        let err = "5,x,7".parse::<SplitSizes>().unwrap_err();
        assert!(
            err.to_string().contains("task.dates_sizes = 5,x,7"),
            "{err}"
        );
        let err = "de".parse::<Languages>().unwrap_err();
        assert!(err.to_string().contains("task.languages = de"), "{err}");
    }
}
