//! `train`'s flags: each one a field of the run configuration (`RunConfig`, `config.json`),
//! named as the field is, and given only to change the configuration's default. The defaults,
//! the ranges and their checks live in the configuration alone (`--print-config` shows the
//! result).

use std::path::PathBuf;

use attention_core::ScoreKind;
use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use decoder::{Combine, InitialState, QueryOrdering};
use encoder::CellKind;
use trainer::{
    Backend, DecodingOptions, InferenceError, Languages, ModelOptions, RunConfig, SplitNames,
    SplitSizes, TaskConfig, TaskField, TaskKind, TrainerError, TrainingOptions, Vocabulary,
};

use crate::presets;

/// A parser that accepts the names of `values` (as `name` gives them) and gives the value
/// named; `--help` lists the names.
pub(crate) fn choice<T: Clone + Send + Sync + 'static>(
    values: impl IntoIterator<Item = T>,
    name: fn(&T) -> &'static str,
) -> impl TypedValueParser<Value = T> {
    let values: Vec<T> = values.into_iter().collect();
    let names: Vec<&'static str> = values.iter().map(name).collect();
    PossibleValuesParser::new(names).map(move |chosen| {
        values
            .iter()
            .find(|v| name(v) == chosen)
            .cloned()
            .expect("clap accepted only these names")
    })
}

/// `--device`'s parser: every backend, compiled in or not (one not compiled in is refused
/// with the cargo feature to turn on).
pub(crate) fn backends() -> impl TypedValueParser<Value = Backend> {
    choice(Backend::ALL, |b| b.name())
}

/// `--score`'s value: a score, or none (the no-attention baseline). A type of its own, as clap
/// reads an `Option<Option<_>>` field as a flag whose value may be left out.
#[derive(Debug, Clone, Copy)]
struct Score(Option<ScoreKind>);

/// Scores, and `none` for the no-attention baseline.
fn scores() -> impl TypedValueParser<Value = Score> {
    let all = ScoreKind::ALL
        .map(Some)
        .into_iter()
        .chain([None])
        .map(Score);
    choice(all, |s| s.0.map_or("none", ScoreKind::name))
}

/// The flags `--resume` refuses: every configuration flag but `--epochs`, `--threads` and
/// `--keep-checkpoints` (a resumed run keeps its own configuration). `TaskFlags`, `ModelFlags`
/// and `DecodingFlags` are the groups clap makes of those structs' flags.
const NOT_ON_RESUME: [&str; 13] = [
    "preset",
    "device",
    "TaskFlags",
    "ModelFlags",
    "DecodingFlags",
    "batch_size",
    "learning_rate",
    "lr_decay",
    "clip_norm",
    "patience",
    "seed",
    "valid_limit",
    "label_smoothing",
];

#[derive(Args, Debug, Clone)]
pub(crate) struct TrainArgs {
    /// A named recipe (its flags are in docs/results.md): g2p-cmudict, g2p-cmudict-quick,
    /// multi30k-de-en. Flags given as well override the preset's.
    #[arg(long, value_parser = presets::parser())]
    pub(crate) preset: Option<String>,
    /// The run directory (default: runs/TASK-N, the first free N).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Continue the run in --out from its latest checkpoint, with its own configuration: only
    /// --epochs, --threads and --keep-checkpoints may change it (the run's config.json then
    /// records them); any other configuration flag is refused, by name.
    #[arg(long, requires = "out", conflicts_with_all = NOT_ON_RESUME)]
    pub(crate) resume: bool,
    /// No progress output.
    #[arg(long)]
    pub(crate) quiet: bool,
    /// Print the run configuration these flags make (as config.json holds it) and exit.
    #[arg(long)]
    pub(crate) print_config: bool,
    /// The backend (`backend`), if compiled in.
    #[arg(long, alias = "backend", value_parser = backends())]
    pub(crate) device: Option<Backend>,
    #[command(flatten)]
    task: TaskFlags,
    #[command(flatten)]
    model: ModelFlags,
    #[command(flatten)]
    training: TrainingFlags,
    #[command(flatten)]
    decoding: DecodingFlags,
}

/// `task`: the data.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Task (config.json \"task\")")]
struct TaskFlags {
    /// The task (`kind`).
    #[arg(long, value_parser = choice(TaskKind::ALL, |t| t.name()))]
    task: Option<TaskKind>,
    /// g2p: the training dictionary (its `.test` sibling is the test set unless --test-data);
    /// translate: the directory holding SPLIT.LANG[.gz] files.
    #[arg(long)]
    data: Option<PathBuf>,
    /// g2p: the test dictionary.
    #[arg(long)]
    test_data: Option<PathBuf>,
    /// translate: source and target language suffixes.
    #[arg(long, alias = "langs", value_name = "SRC,TGT", value_parser = str_parser::<Languages>)]
    languages: Option<Languages>,
    /// translate: file stems of the train, valid and test splits.
    #[arg(long, alias = "splits", value_name = "TRAIN,VALID,TEST", value_parser = str_parser::<SplitNames>)]
    split_names: Option<SplitNames>,
    /// translate: lower-case the text (`--lowercase false` keeps the case).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    lowercase: Option<bool>,
    /// g2p: every N-th training word becomes the development set.
    #[arg(long, value_name = "N")]
    dev_every: Option<usize>,
    /// g2p: keep the phones' stress digits (`AH0`, `EY1`) so that the model writes them
    /// (`--stress false` removes them, the default).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    stress: Option<bool>,
    /// dates: examples to generate.
    #[arg(long, value_name = "TRAIN,VALID,TEST", value_parser = str_parser::<SplitSizes>)]
    dates_sizes: Option<SplitSizes>,
    /// translate: `words`, or a subword vocabulary learned from the training split, `bpe:SIZE`
    /// or `unigram:SIZE` (saved as the run's tokenizer.json).
    #[arg(long, value_name = "KIND", value_parser = str_parser::<Vocabulary>)]
    vocabulary: Option<Vocabulary>,
    /// Tokens seen fewer times in training become `<unk>` (words; subword vocabularies keep every piece).
    #[arg(long, value_name = "N")]
    min_count: Option<usize>,
    /// Skip training pairs longer than this (source or target tokens).
    #[arg(long, value_name = "N")]
    max_train_len: Option<usize>,
}

/// `model`: the model's shape.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Model (config.json \"model\")")]
struct ModelFlags {
    /// Embedding size.
    #[arg(long)]
    embedding: Option<usize>,
    /// Encoder state size per direction.
    #[arg(long)]
    encoder_hidden: Option<usize>,
    /// Decoder state size.
    #[arg(long)]
    decoder_hidden: Option<usize>,
    /// Recurrent cell of encoder and decoder.
    #[arg(long, value_parser = choice(CellKind::ALL, |c| c.name()))]
    cell: Option<CellKind>,
    /// Attention score, or `none` for the no-attention baseline (fixed context vector).
    #[arg(long, value_parser = scores())]
    score: Option<Score>,
    /// Additive attention's hidden size [default: the encoder state size].
    #[arg(long)]
    attention_size: Option<usize>,
    /// Which decoder state asks the attention question.
    #[arg(long, value_parser = choice(QueryOrdering::ALL, |o| o.name()))]
    ordering: Option<QueryOrdering>,
    /// Luong input feeding (needs --ordering luong); `--input-feeding` alone turns it on.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    input_feeding: Option<bool>,
    /// How decoder state and context are joined before the output layer.
    #[arg(long, value_parser = choice(Combine::ALL, |c| c.name()))]
    combine: Option<Combine>,
    /// How the decoder's first state is made.
    #[arg(long, alias = "init", value_parser = choice(InitialState::ALL, |i| i.name()))]
    initial_state: Option<InitialState>,
    /// A bidirectional encoder (`--bidirectional false` for one direction).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    bidirectional: Option<bool>,
    /// Encoder layers.
    #[arg(long)]
    encoder_layers: Option<usize>,
    /// Dropout probability (decoder embeddings, before the output layer, between encoder
    /// layers).
    #[arg(long)]
    dropout: Option<f64>,
    /// Dropout on the source embeddings.
    #[arg(long)]
    source_dropout: Option<f64>,
}

/// `training`: how training runs.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Training (config.json \"training\")")]
struct TrainingFlags {
    /// Maximum epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Sentences per batch.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam's learning rate.
    #[arg(long, alias = "lr")]
    learning_rate: Option<f64>,
    /// Learning-rate factor after an epoch without improvement.
    #[arg(long)]
    lr_decay: Option<f64>,
    /// Global gradient-norm clipping; 0 turns it off.
    #[arg(long)]
    clip_norm: Option<f64>,
    /// Epochs without improvement before stopping.
    #[arg(long)]
    patience: Option<usize>,
    /// Seed of data, initialisation, shuffling and dropout.
    #[arg(long)]
    seed: Option<u64>,
    /// Validate on at most this many items per epoch [default: all].
    #[arg(long)]
    valid_limit: Option<usize>,
    /// Threads per training step: the batch is split into this many shards, one per thread
    /// (the same gradients up to float rounding). With dropout, a run on more than one thread is
    /// not reproducible bit for bit.
    #[arg(long)]
    threads: Option<usize>,
    /// Checkpoints kept on disk, the newest (one per epoch): keep K to `average` the last K
    /// epochs afterwards.
    #[arg(long, value_name = "K")]
    keep_checkpoints: Option<usize>,
    /// Label smoothing of the training loss, in [0, 1): each target's label keeps 1 − A and
    /// spreads A over all output symbols (validation reports the plain loss).
    #[arg(long, value_name = "A")]
    label_smoothing: Option<f64>,
}

/// `decoding`: how validation, evaluation and prediction decode.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Decoding (config.json \"decoding\")")]
struct DecodingFlags {
    /// Beam width for the final test evaluation and later commands, 1 (greedy) to 64.
    #[arg(long)]
    beam: Option<usize>,
    /// GNMT length penalty α for beam search.
    #[arg(long)]
    length_penalty: Option<f32>,
    /// Output length limit: ⌊RATIO · source length⌋ + --max-length-extra.
    #[arg(long, value_name = "RATIO")]
    max_length_ratio: Option<f32>,
    /// See --max-length-ratio.
    #[arg(long, value_name = "N")]
    max_length_extra: Option<usize>,
}

/// A `FromStr` value as a clap parser: clap names the flag and the value, the error says what
/// was expected.
fn str_parser<T: std::str::FromStr<Err = InferenceError>>(text: &str) -> Result<T, String> {
    text.parse().map_err(|e| match e {
        InferenceError::InvalidOption { why, .. } => why,
        other => other.to_string(),
    })
}

/// `slot = value` for each flag given.
fn set<T>(slot: &mut T, flag: &Option<T>)
where
    T: Clone,
{
    if let Some(value) = flag {
        *slot = value.clone();
    }
}

/// `slot = Some(value)` for each flag given.
fn set_some<T: Clone>(slot: &mut Option<T>, flag: &Option<T>) {
    if flag.is_some() {
        slot.clone_from(flag);
    }
}

impl TaskFlags {
    /// A flag given for a field that `kind` does not read (`--stress` for translation), so
    /// that it is refused by name rather than ignored.
    fn foreign(&self, kind: TaskKind) -> Result<(), InferenceError> {
        let given = [
            ("--test-data", self.test_data.is_some(), TaskField::TestData),
            (
                "--languages",
                self.languages.is_some(),
                TaskField::Languages,
            ),
            (
                "--split-names",
                self.split_names.is_some(),
                TaskField::SplitNames,
            ),
            (
                "--lowercase",
                self.lowercase.is_some(),
                TaskField::Lowercase,
            ),
            (
                "--vocabulary",
                self.vocabulary.is_some(),
                TaskField::Vocabulary,
            ),
            ("--dev-every", self.dev_every.is_some(), TaskField::DevEvery),
            ("--stress", self.stress.is_some(), TaskField::Stress),
            (
                "--dates-sizes",
                self.dates_sizes.is_some(),
                TaskField::DatesSizes,
            ),
        ];
        match given
            .into_iter()
            .find(|(_, given, field)| *given && field.task() != kind)
        {
            Some((flag, _, field)) => Err(InferenceError::invalid(
                "--task",
                kind.name(),
                format!("{flag} applies to --task {} only", field.task().name()),
            )),
            None => Ok(()),
        }
    }

    fn apply(&self, task: &mut TaskConfig) {
        set(&mut task.data, &self.data.clone().map(Some));
        set(&mut task.test_data, &self.test_data.clone().map(Some));
        set_some(&mut task.languages, &self.languages);
        set(&mut task.split_names, &self.split_names);
        set(&mut task.lowercase, &self.lowercase);
        set(&mut task.dev_every, &self.dev_every);
        set(&mut task.stress, &self.stress);
        set(&mut task.dates_sizes, &self.dates_sizes);
        set(&mut task.vocabulary, &self.vocabulary);
        set(&mut task.min_count, &self.min_count);
        set_some(&mut task.max_train_len, &self.max_train_len);
    }
}

impl ModelFlags {
    fn apply(&self, model: &mut ModelOptions) {
        set(&mut model.embedding, &self.embedding);
        set(&mut model.encoder_hidden, &self.encoder_hidden);
        set(&mut model.decoder_hidden, &self.decoder_hidden);
        set(&mut model.cell, &self.cell);
        set(&mut model.score, &self.score.map(|s| s.0));
        set_some(&mut model.attention_size, &self.attention_size);
        set(&mut model.ordering, &self.ordering);
        set(&mut model.input_feeding, &self.input_feeding);
        set(&mut model.combine, &self.combine);
        set(&mut model.initial_state, &self.initial_state);
        set(&mut model.bidirectional, &self.bidirectional);
        set(&mut model.encoder_layers, &self.encoder_layers);
        set(&mut model.dropout, &self.dropout);
        set(&mut model.source_dropout, &self.source_dropout);
    }
}

impl TrainingFlags {
    fn apply(&self, training: &mut TrainingOptions) {
        set(&mut training.epochs, &self.epochs);
        set(&mut training.batch_size, &self.batch_size);
        set(&mut training.learning_rate, &self.learning_rate);
        set(&mut training.lr_decay, &self.lr_decay);
        if let Some(clip) = self.clip_norm {
            training.clip_norm = (clip != 0.0).then_some(clip);
        }
        set(&mut training.patience, &self.patience);
        set(&mut training.seed, &self.seed);
        set_some(&mut training.valid_limit, &self.valid_limit);
        set(&mut training.threads, &self.threads);
        set(&mut training.keep_checkpoints, &self.keep_checkpoints);
        set(&mut training.label_smoothing, &self.label_smoothing);
    }
}

impl DecodingFlags {
    fn apply(&self, decoding: &mut DecodingOptions) {
        set(&mut decoding.beam, &self.beam);
        set(&mut decoding.length_penalty, &self.length_penalty);
        set(&mut decoding.max_length_ratio, &self.max_length_ratio);
        set(&mut decoding.max_length_extra, &self.max_length_extra);
    }
}

impl TrainArgs {
    /// The configuration of a new run: the task's defaults with the flags given, checked.
    ///
    /// # Errors
    ///
    /// A backend that is not compiled in; the configuration's own checks.
    pub(crate) fn run_config(&self) -> Result<RunConfig, TrainerError> {
        let backend = match self.device {
            Some(backend) => backend,
            None => Backend::default_compiled().ok_or(InferenceError::BackendNotCompiled {
                name: Backend::Flex.name(),
            })?,
        };
        let kind = self.task.task.unwrap_or(TaskKind::Dates);
        self.task.foreign(kind)?;
        let mut config = RunConfig::new(kind, backend);
        self.task.apply(&mut config.task);
        self.model.apply(&mut config.model);
        self.training.apply(&mut config.training);
        self.decoding.apply(&mut config.decoding);
        config.validate()?;
        Ok(config)
    }

    /// What a resumed run may change: `--epochs`, `--threads` and `--keep-checkpoints`.
    pub(crate) fn resume_changes(&self) -> trainer::ResumeChanges {
        trainer::ResumeChanges {
            epochs: self.training.epochs,
            threads: self.training.threads,
            keep_checkpoints: self.training.keep_checkpoints,
        }
    }
}

/// `train`'s command with each flag's default in its help, read from the configuration itself
/// (per task where the tasks differ), so that no default is written twice.
pub(crate) fn with_defaults(train: clap::Command) -> clap::Command {
    let configs: Vec<(TaskKind, serde_json::Value)> = TaskKind::ALL
        .into_iter()
        .map(|task| {
            // Through text, so that an f32 reads as written (0.6, not 0.6000000238418579).
            let json = serde_json::to_string(&RunConfig::new(task, Backend::Flex));
            let value = json.and_then(|json| serde_json::from_str(&json));
            (task, value.expect("configs serialise"))
        })
        .collect();
    let ids: Vec<String> = train
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .collect();
    ids.into_iter().fold(train, |command, id| {
        let Some(default) = default_of(&configs, &id) else {
            return command;
        };
        command.mut_arg(&id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            arg.help(format!("{help} [default: {default}]"))
        })
    })
}

/// The default of the configuration field behind flag `id`, as text: one value, or one per
/// task (`dates 1, translate 2`) where they differ; `None` where there is none.
fn default_of(configs: &[(TaskKind, serde_json::Value)], id: &str) -> Option<String> {
    let field = |config: &serde_json::Value| -> Option<String> {
        let value = match id {
            "task" => &config["task"]["kind"],
            "device" => &config["backend"],
            _ => ["task", "model", "training", "decoding"]
                .iter()
                .find_map(|section| config[section].get(id))?,
        };
        text(value)
    };
    if id == "task" {
        // The task is what the others' defaults depend on; its own is the first's.
        return field(&configs.first()?.1);
    }
    let values: Vec<(TaskKind, String)> = configs
        .iter()
        .filter_map(|(task, config)| Some((*task, field(config)?)))
        .collect();
    let first = &values.first()?.1;
    if values.len() == configs.len() && values.iter().all(|(_, v)| v == first) {
        return Some(first.clone());
    }
    let per_task: Vec<String> = values
        .iter()
        .map(|(task, value)| format!("{} {value}", task.name()))
        .collect();
    Some(per_task.join(", "))
}

/// A configuration value as a flag would take it (`null`: none).
fn text(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Null => None,
        // Enum variants (`EncoderFinal`) as the flags name them (`encoder-final`).
        Value::String(s) => Some(kebab_case(s)),
        // The named parts of `languages`, `split_names` and `dates_sizes`, in the order the
        // flags take them (a JSON object's keys come sorted).
        Value::Object(parts) => Some(
            ["source", "target", "train", "valid", "test"]
                .iter()
                .filter_map(|name| text(parts.get(*name)?))
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Array(parts) => Some(parts.iter().filter_map(text).collect::<Vec<_>>().join(",")),
        other => Some(other.to_string()),
    }
}

/// `EncoderFinal` → `encoder-final`; lower-case text stays as it is.
fn kebab_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
