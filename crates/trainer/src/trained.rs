//! A trained run loaded from its directory: prediction on new text on every core, and
//! evaluation on a split.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use inference::{
    Backend, DecodingOptions, InferenceError, InputError, Prediction, Predictor, RunFiles,
};
use serde::{Deserialize, Serialize};

use crate::batch::EncodedPair;
use crate::data::EvalItem;
use crate::evaluate::{
    DECODE_BATCH, decode, decode_n_best, default_length_edges, length_buckets, mean_loss,
    task_scores,
};
use crate::run::{Manifest, RunDir, read};
use crate::tasks;
use crate::{Result, TrainerError};

/// A run loaded for inference: the [`Predictor`] of its directory's files (its fields and
/// methods are `Trained`'s through `Deref`), decoding on every core, plus evaluation on the
/// task's splits and on files. Several runs with one vocabulary load as an ensemble
/// ([`Trained::load_all`]).
#[derive(Debug)]
pub struct Trained {
    predictor: Predictor,
    /// The run directories, the first run's first.
    runs: Vec<PathBuf>,
}

impl Deref for Trained {
    type Target = Predictor;

    fn deref(&self) -> &Predictor {
        &self.predictor
    }
}

impl Trained {
    /// Loads the best model of the run in `dir` onto `backend` (default: the run's own backend
    /// if compiled in, else the first compiled one).
    ///
    /// # Errors
    ///
    /// Missing or malformed `config.json`, vocabularies or `model.bpk`, a config from a newer
    /// version, weights that do not fit the configuration or vocabularies, a backend that is
    /// not compiled in.
    pub fn load(dir: &Path, backend: Option<Backend>) -> Result<Self> {
        Self::load_all(&[dir.to_path_buf()], backend)
    }

    /// Loads the runs in `dirs` as one ensemble (see [`Predictor::join`]): the first run's
    /// configuration, decoding options and backend (`backend`, as for [`Trained::load`]), every
    /// run's best model.
    ///
    /// # Errors
    ///
    /// As [`Trained::load`] for each run; no runs; a run named twice; a run whose task or
    /// vocabularies are not the first one's.
    pub fn load_all(dirs: &[PathBuf], backend: Option<Backend>) -> Result<Self> {
        let Some((first, others)) = dirs.split_first() else {
            return Err(TrainerError::invalid(
                "--run",
                "(none)",
                "name at least one run",
            ));
        };
        for (k, dir) in dirs.iter().enumerate() {
            let same = |other: &PathBuf| {
                other == dir
                    || matches!((other.canonicalize(), dir.canonicalize()), (Ok(a), Ok(b)) if a == b)
            };
            if dirs[..k].iter().any(same) {
                return Err(TrainerError::invalid(
                    "--run",
                    dir.display(),
                    "is named twice: an ensemble of a model with itself decodes as the model alone",
                ));
            }
        }
        let (mut predictor, backend) = load_predictor(first, backend)?;
        for dir in others {
            let (other, _) = load_predictor(dir, Some(backend))?;
            predictor = predictor.join(other, dir)?;
        }
        Ok(Self {
            predictor,
            runs: dirs.to_vec(),
        })
    }

    /// The run directories, the first run's first (several for an ensemble).
    pub fn runs(&self) -> &[PathBuf] {
        &self.runs
    }

    /// Translates each input line; the first input that cannot be predicted is an error (see
    /// [`Trained::predict_each`] to keep going past it).
    ///
    /// # Errors
    ///
    /// [`InferenceError::InvalidOption`](inference::InferenceError::InvalidOption) naming an empty input (`input N`, 1-based); decoding
    /// errors.
    pub fn predict(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
    ) -> Result<Vec<Prediction>> {
        self.predict_each(inputs, decoding, 1)?
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                p.map_err(|InputError::Empty { input }| {
                    TrainerError::invalid(
                        format!("input {}", i + 1),
                        format!("{input:?}"),
                        "is empty: there is nothing to predict from",
                    )
                })
            })
            .collect()
    }

    /// [`Predictor::predict_each`], decoding on every core (the outputs do not depend on how
    /// many).
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_each`].
    pub fn predict_each(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
        n_best: usize,
    ) -> Result<Vec<std::result::Result<Prediction, InputError>>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        self.predictor
            .predict_each_with(inputs, decoding, n_best, |sources| {
                decode_n_best(
                    &self.models,
                    sources,
                    decoding,
                    n_best,
                    &self.device,
                    threads,
                )
            })
    }

    /// Scores the run on a split of its task (`valid` or `test`), with `decoding`.
    ///
    /// # Errors
    ///
    /// [`InferenceError::UnknownName`](inference::InferenceError::UnknownName) for another split; the task's reading errors.
    pub fn evaluate(&self, split: &str, decoding: &DecodingOptions) -> Result<Evaluation> {
        decoding.validate()?;
        let data = tasks::load(
            &self.config.task,
            self.config.training.seed,
            self.subwords.as_ref(),
        )?;
        let items = match split {
            "valid" => data.valid,
            "test" => data.test,
            other => {
                return Err(TrainerError::unknown_name("split", other, "valid, test"));
            }
        };
        self.evaluate_items(split, &items, decoding)
    }

    /// Scores the run on a file of the user's own in the task's format ([`tasks::read_items`]:
    /// a CMUdict-format lexicon, parallel files, `INPUT<TAB>OUTPUT` dates), with the same
    /// report as a split; the evaluation's `split` is the path.
    ///
    /// # Errors
    ///
    /// The file's reading errors, naming file and line.
    pub fn evaluate_file(&self, path: &Path, decoding: &DecodingOptions) -> Result<Evaluation> {
        decoding.validate()?;
        let items = tasks::read_items(&self.config.task, path, self.subwords.as_ref())?;
        self.evaluate_items(&path.display().to_string(), &items, decoding)
    }

    /// Scores the run on `items`, reported under the name `split`.
    fn evaluate_items(
        &self,
        split: &str,
        items: &[EvalItem],
        decoding: &DecodingOptions,
    ) -> Result<Evaluation> {
        let sources: Vec<Vec<usize>> = items
            .iter()
            .map(|i| {
                let pieces = self.known_source_pieces(i.source.clone());
                self.source_vocab.encode(&pieces)
            })
            .collect();
        let started = std::time::Instant::now();
        let hyps = decode(&self.models, &sources, decoding, &self.device)?;
        let seconds = started.elapsed().as_secs_f64();
        let predictions: Vec<Vec<String>> = hyps
            .iter()
            .map(|h| self.target_vocab.decode(&h.tokens))
            .collect();
        let (_, target_tokenizer) = self.tokenizers();
        let kind = self.config.task.kind;
        let scores = task_scores(kind, &predictions, items, &target_tokenizer);
        let by_length = length_buckets(&default_length_edges(kind), items)
            .into_iter()
            .map(|bucket| {
                let (chosen_items, chosen_predictions): (Vec<EvalItem>, Vec<Vec<String>>) = bucket
                    .indices
                    .iter()
                    .map(|&i| (items[i].clone(), predictions[i].clone()))
                    .unzip();
                LengthBucket {
                    min_len: bucket.min_len,
                    max_len: bucket.max_len,
                    items: bucket.indices.len(),
                    scores: task_scores(
                        kind,
                        &chosen_predictions,
                        &chosen_items,
                        &target_tokenizer,
                    ),
                }
            })
            .collect();
        // Teacher-forced loss of each item's first reference: the split's perplexity.
        let pairs: Vec<EncodedPair> = items
            .iter()
            .map(|i| {
                EncodedPair::encode(
                    &self.source_vocab,
                    &self.target_vocab,
                    &i.source,
                    &i.references[0],
                )
            })
            .collect();
        let loss = mean_loss(&self.models, &pairs, DECODE_BATCH, &self.device)?;
        let examples = items
            .iter()
            .zip(&predictions)
            .map(|(item, p)| Example {
                source: item.source_text.clone(),
                prediction: target_tokenizer.detokenize(p),
                references: item.reference_texts.clone(),
                correct: item.references.contains(p),
            })
            .collect();
        Ok(Evaluation {
            split: split.to_string(),
            runs: if self.runs.len() > 1 {
                self.runs.iter().map(|r| r.display().to_string()).collect()
            } else {
                Vec::new()
            },
            beam: decoding.beam,
            items: items.len(),
            scores,
            loss,
            perplexity: loss.exp(),
            by_length,
            seconds,
            examples,
        })
    }
}

/// The [`Predictor`] of the run in `dir` on `backend` (default: the run's own if compiled in,
/// else the first compiled one), and that backend.
fn load_predictor(dir: &Path, backend: Option<Backend>) -> Result<(Predictor, Backend)> {
    let run = RunDir::new(dir);
    if !dir.is_dir() {
        return Err(TrainerError::run(dir, "no such run directory"));
    }
    let config = run.read_config()?;
    let backend = match backend {
        Some(backend) => backend,
        None if config.backend.is_compiled() => config.backend,
        None => Backend::default_compiled()
            .ok_or(InferenceError::BackendNotCompiled { name: "flex" })?,
    };
    let files = [
        run.config(),
        run.source_vocab(),
        run.target_vocab(),
        run.model(),
    ]
    .map(|path| read(&path))
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let tokenizer = read_if_present(&run.tokenizer())?;
    let files = RunFiles {
        config: &files[0],
        source_vocab: &files[1],
        target_vocab: &files[2],
        model: &files[3],
        tokenizer: tokenizer.as_deref(),
    };
    let mut predictor = Predictor::from_files(dir, files, backend.device()?)?;
    predictor.longest_source = std::fs::read(run.manifest())
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        .map_or(0, |m| m.longest_source);
    Ok((predictor, backend))
}

/// The bytes of the file at `path`, or `None` if there is no such file.
fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(TrainerError::io(path, e)),
    }
}

/// The scores of the items whose source length (in tokens) lies in `min_len..=max_len`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthBucket {
    /// Shortest source in the bucket's range.
    pub min_len: usize,
    /// Longest source in the bucket's range (`usize::MAX` for the open last bucket).
    pub max_len: usize,
    /// Items in the bucket.
    pub items: usize,
    /// The task's scores over those items, in percent.
    pub scores: BTreeMap<String, f64>,
}

/// One evaluated item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// The source text.
    pub source: String,
    /// The model's output.
    pub prediction: String,
    /// The references.
    pub references: Vec<String>,
    /// Whether the output equals a reference.
    pub correct: bool,
}

/// Scores of a run on a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// `valid` or `test`.
    pub split: String,
    /// An ensemble's run directories, the first run's first (empty for one run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<String>,
    /// Beam width used (1: greedy).
    pub beam: usize,
    /// Number of items scored.
    pub items: usize,
    /// The scores, in percent: `exact_match` for every task, `wer` and `per` for g2p, `bleu`
    /// and `chrf` for translation (see [`metrics`](crate::metrics)).
    pub scores: BTreeMap<String, f64>,
    /// Mean cross-entropy (nats per target token, `<eos>` included) of each item's first
    /// reference under teacher forcing.
    #[serde(default)]
    pub loss: f64,
    /// `exp(loss)`.
    #[serde(default)]
    pub perplexity: f64,
    /// The same scores over items grouped by source length (tokens).
    #[serde(default)]
    pub by_length: Vec<LengthBucket>,
    /// Seconds spent decoding.
    pub seconds: f64,
    /// Every item with its prediction.
    pub examples: Vec<Example>,
}

impl Evaluation {
    /// Writes the evaluation to `path` as JSON, atomically.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] naming the file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("evaluations serialise");
        crate::run::write_atomic(path, &json)
    }
}
