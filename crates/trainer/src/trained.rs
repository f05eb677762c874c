//! A trained run loaded from its directory: prediction on new text on every core, and
//! evaluation on a split.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use inference::{Backend, DecodingOptions};
use runtime::{Loaded, decode};
use serde::{Deserialize, Serialize};

use crate::batch::EncodedPair;
use crate::data::EvalItem;
use crate::evaluate::{DECODE_BATCH, default_length_edges, length_buckets, mean_loss, task_scores};
use crate::tasks;
use crate::{Result, TrainerError};

/// A run loaded for inference ([`runtime::Loaded`]: its predictor, decoding on every core;
/// its fields and methods are `Trained`'s through `Deref`), plus evaluation on the task's
/// splits and on files. Several runs with one vocabulary load as an ensemble
/// ([`Trained::load_all`]).
#[derive(Debug)]
pub struct Trained {
    loaded: Loaded,
}

impl Deref for Trained {
    type Target = Loaded;

    fn deref(&self) -> &Loaded {
        &self.loaded
    }
}

/// Settings such as [`inference::Predictor::set_input_limit`].
impl DerefMut for Trained {
    fn deref_mut(&mut self) -> &mut Loaded {
        &mut self.loaded
    }
}

impl Trained {
    /// Loads the model of the run in `dir` onto `backend` ([`Loaded::load`]).
    ///
    /// # Errors
    ///
    /// As [`Loaded::load`].
    pub fn load(dir: &Path, backend: Option<Backend>) -> Result<Self> {
        Self::load_all(&[dir.to_path_buf()], backend)
    }

    /// Loads the runs in `dirs` as one ensemble ([`Loaded::load_all`]).
    ///
    /// # Errors
    ///
    /// As [`Loaded::load_all`].
    pub fn load_all(dirs: &[PathBuf], backend: Option<Backend>) -> Result<Self> {
        Ok(Self {
            loaded: Loaded::load_all(dirs, backend)?,
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
    /// The file's reading errors, naming file and line; an item longer than the input limit
    /// ([`inference::Predictor::input_limit`]), naming it.
    pub fn evaluate_file(&self, path: &Path, decoding: &DecodingOptions) -> Result<Evaluation> {
        decoding.validate()?;
        let items = tasks::read_items(&self.config.task, path, self.subwords.as_ref())?;
        if let Some((k, item)) = items
            .iter()
            .enumerate()
            .find(|(_, item)| item.source.len() > self.input_limit)
        {
            return Err(TrainerError::run(
                path,
                format!(
                    "item {} ({:?}) has {} source tokens, more than the input limit of {}: nothing was scored",
                    k + 1,
                    item.source_text.chars().take(40).collect::<String>(),
                    item.source.len(),
                    self.input_limit
                ),
            ));
        }
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
            runs: if self.runs().len() > 1 {
                self.runs()
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect()
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
