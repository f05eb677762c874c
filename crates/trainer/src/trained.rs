//! A trained run loaded for use: prediction on new text, and evaluation on a split.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use decoder::{Hypothesis, Seq2Seq};
use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::batch::EncodedPair;
use crate::checkpoint::load_model;
use crate::config::{DecodingOptions, RunConfig};
use crate::data::EvalItem;
use crate::evaluate::{
    DECODE_BATCH, decode, decode_n_best, default_length_edges, length_buckets, mean_loss,
    task_scores,
};
use crate::run::RunDir;
use crate::tasks;
use crate::tokenize::Tokenizer;
use crate::vocab::Vocab;
use crate::{Result, TrainerError};

/// One prediction, with everything a picture of its attention needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The input as given.
    pub input: String,
    /// The source tokens the model saw (unknown ones shown as `<unk>`).
    pub source_tokens: Vec<String>,
    /// Source tokens that are not in the vocabulary (read as `<unk>`).
    pub unknown: Vec<String>,
    /// What the caller should know about this input (unknown tokens, a length beyond any
    /// training source, an output cut at the length limit).
    pub warnings: Vec<String>,
    /// The output tokens.
    pub output_tokens: Vec<String>,
    /// The output as text.
    pub output: String,
    /// `weights[i][j]`: attention of output step `i` on source token `j` (the final row is
    /// the step that produced `<eos>`, when it was produced). Empty for the baseline.
    pub weights: Vec<Vec<f32>>,
    /// Log-probability of the output.
    pub log_prob: f32,
    /// Whether the output ended with `<eos>` (rather than at the length limit).
    pub finished: bool,
    /// With `n_best > 1`: the best hypotheses, best first (the first is the one above).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub n_best: Vec<Alternative>,
}

/// One of the n best hypotheses of an input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// The output as text.
    pub output: String,
    /// The output tokens.
    pub output_tokens: Vec<String>,
    /// Log-probability of the output (`<eos>` included when finished).
    pub log_prob: f32,
    /// The ranking score: `log_prob` over the length penalty.
    pub score: f32,
    /// Whether the output ended with `<eos>`.
    pub finished: bool,
}

/// Why one input has no prediction (the others still get theirs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Nothing is left of the input once normalised (an empty or blank line).
    #[error("{input:?} is empty: there is nothing to predict from")]
    Empty {
        /// The input as given.
        input: String,
    },
}

/// A run loaded for inference.
#[derive(Debug)]
pub struct Trained {
    /// The run's configuration.
    pub config: RunConfig,
    /// Source vocabulary.
    pub source_vocab: Vocab,
    /// Target vocabulary.
    pub target_vocab: Vocab,
    /// The best model, inference copy (no autodiff).
    pub model: Seq2Seq,
    /// The device it runs on.
    pub device: Device,
    /// The longest training source in tokens (0 if the run's manifest does not say).
    pub longest_source: usize,
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
        let run = RunDir::new(dir);
        if !dir.is_dir() {
            return Err(TrainerError::run(dir, "no such run directory"));
        }
        let config = RunConfig::load(&run.config())?;
        let source_vocab = Vocab::load(&run.source_vocab())?;
        let target_vocab = Vocab::load(&run.target_vocab())?;
        let backend = backend.unwrap_or(if config.backend.is_compiled() {
            config.backend
        } else {
            Backend::default_compiled().ok_or(TrainerError::BackendNotCompiled { name: "flex" })?
        });
        let device = backend.device()?;
        let model = config
            .model
            .seq2seq(source_vocab.len(), target_vocab.len())
            .init(&device)
            .map_err(|e| TrainerError::run(run.config(), format!("cannot build the model: {e}")))?;
        let model = load_model(model, &run.model())?.valid();
        let longest_source = std::fs::read(run.manifest())
            .ok()
            .and_then(|b| serde_json::from_slice::<crate::run::Manifest>(&b).ok())
            .map_or(0, |m| m.longest_source);
        Ok(Self {
            longest_source,
            config,
            source_vocab,
            target_vocab,
            model,
            device,
        })
    }

    /// The run's `(source, target)` tokenizers.
    pub fn tokenizers(&self) -> (Tokenizer, Tokenizer) {
        tasks::tokenizers(&self.config.task)
    }

    /// Translates each input line; the first input that cannot be predicted is an error (see
    /// [`Trained::predict_each`] to keep going past it).
    ///
    /// # Errors
    ///
    /// [`TrainerError::InvalidOption`] naming an empty input (`input N`, 1-based); decoding
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

    /// Predicts every input it can, each on its own: an input that cannot be predicted gets
    /// its [`InputError`] in its place and costs the others nothing. With `n_best > 1` (at most
    /// the beam width) each prediction lists its best hypotheses in [`Prediction::n_best`].
    ///
    /// Unknown source tokens are read as `<unk>` (listed in [`Prediction::unknown`], with a
    /// warning). There is no length limit on inputs: a recurrent encoder reads any length, and
    /// the output may run to `⌊max_length_ratio · n⌋ + max_length_extra` tokens; an input
    /// longer than every training source gets a warning, since the model has never seen one
    /// like it, and so does an output cut at that limit.
    ///
    /// # Errors
    ///
    /// [`TrainerError::InvalidOption`] for bad decoding options (`n_best` outside `1..=beam`,
    /// a beam wider than [`DecodingOptions::MAX_BEAM`]); decoding errors.
    pub fn predict_each(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
        n_best: usize,
    ) -> Result<Vec<std::result::Result<Prediction, InputError>>> {
        decoding.validate()?;
        if !(1..=decoding.beam).contains(&n_best) {
            return Err(TrainerError::invalid(
                "n_best",
                n_best,
                format!("must be between 1 and the beam width ({})", decoding.beam),
            ));
        }
        let (source_tokenizer, _) = self.tokenizers();
        let tokens_of: Vec<Vec<String>> = inputs
            .iter()
            .map(|input| {
                source_tokenizer.tokenize(&tasks::normalise_source(&self.config.task, input))
            })
            .collect();
        let sources: Vec<Vec<usize>> = tokens_of
            .iter()
            .filter(|tokens| !tokens.is_empty())
            .map(|tokens| self.source_vocab.encode(tokens))
            .collect();
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let mut decoded = decode_n_best(
            &self.model,
            &sources,
            decoding,
            n_best,
            &self.device,
            threads,
        )?
        .into_iter();
        Ok(inputs
            .iter()
            .zip(tokens_of)
            .map(|(input, tokens)| {
                if tokens.is_empty() {
                    return Err(InputError::Empty {
                        input: input.clone(),
                    });
                }
                let hyps = decoded.next().expect("one decoding per readable input");
                Ok(self.prediction(input, tokens, hyps, n_best > 1))
            })
            .collect())
    }

    /// One input's [`Prediction`] from its hypotheses (best first), with its warnings.
    fn prediction(
        &self,
        input: &str,
        tokens: Vec<String>,
        mut hyps: Vec<Hypothesis>,
        list_n_best: bool,
    ) -> Prediction {
        let (_, target_tokenizer) = self.tokenizers();
        let n_best = if list_n_best {
            hyps.iter()
                .map(|h| {
                    let output_tokens = self.target_vocab.decode(&h.tokens);
                    Alternative {
                        output: target_tokenizer.detokenize(&output_tokens),
                        output_tokens,
                        log_prob: h.log_prob,
                        score: h.score,
                        finished: h.finished,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let hyp = hyps.swap_remove(0);
        let output_tokens = self.target_vocab.decode(&hyp.tokens);
        let unknown: Vec<String> = tokens
            .iter()
            .filter(|t| !self.source_vocab.contains(t))
            .cloned()
            .collect();
        let mut warnings = Vec::new();
        if !unknown.is_empty() {
            warnings.push(format!(
                "{} of {} tokens are not in the model's vocabulary and were read as <unk>: {:?}",
                unknown.len(),
                tokens.len(),
                unknown
            ));
        }
        if self.longest_source > 0 && tokens.len() > self.longest_source {
            warnings.push(format!(
                "the input has {} tokens, more than any training source ({}); expect a weaker output",
                tokens.len(),
                self.longest_source
            ));
        }
        if !hyp.finished {
            warnings.push(format!(
                "the output was cut at the length limit of {} tokens",
                hyp.tokens.len()
            ));
        }
        Prediction {
            input: input.to_string(),
            warnings,
            unknown,
            source_tokens: tokens,
            output: target_tokenizer.detokenize(&output_tokens),
            output_tokens,
            weights: hyp.weights,
            log_prob: hyp.log_prob,
            finished: hyp.finished,
            n_best,
        }
    }

    /// Scores the run on a split of its task (`valid` or `test`), with `decoding`.
    ///
    /// # Errors
    ///
    /// [`TrainerError::UnknownName`] for another split; the task's reading errors.
    pub fn evaluate(&self, split: &str, decoding: &DecodingOptions) -> Result<Evaluation> {
        decoding.validate()?;
        let data = tasks::load(&self.config.task, self.config.training.seed)?;
        let items = match split {
            "valid" => data.valid,
            "test" => data.test,
            other => {
                return Err(TrainerError::UnknownName {
                    what: "split",
                    value: other.to_string(),
                    expected: "valid, test".into(),
                });
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
        let items = tasks::read_items(&self.config.task, path)?;
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
            .map(|i| self.source_vocab.encode(&i.source))
            .collect();
        let started = std::time::Instant::now();
        let hyps = decode(&self.model, &sources, decoding, &self.device)?;
        let seconds = started.elapsed().as_secs_f64();
        let predictions: Vec<Vec<String>> = hyps
            .iter()
            .map(|h| self.target_vocab.decode(&h.tokens))
            .collect();
        let (_, target_tokenizer) = self.tokenizers();
        let kind = self.config.task.kind;
        let scores = task_scores(kind, &predictions, items, target_tokenizer);
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
                    scores: task_scores(kind, &chosen_predictions, &chosen_items, target_tokenizer),
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
        let loss = mean_loss(&self.model, &pairs, DECODE_BATCH, &self.device)?;
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
