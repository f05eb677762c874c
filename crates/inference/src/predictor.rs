//! Text in, prediction out: a trained model with its configuration and vocabularies.

use std::path::Path;

use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use decoder::{Ensemble, Hypothesis, Seq2Seq};
use serde::{Deserialize, Serialize};

use crate::config::{DecodingOptions, RunConfig, TaskKind};
use crate::decode::decode_n_best;
use crate::lexicon::Lexicon;
use crate::running_text::{TextPiece, split_running_text};
use crate::subwords::{Subwords, TOKENIZER_FILE};
use crate::tokenize::{Tokenizer, normalise_source, tokenizers};
use crate::vocab::Vocab;
use crate::{InferenceError, Result};

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
    /// Where the output comes from: the model, or the lexicon (then without weights, with
    /// log-probability 0, and its n-best list the lexicon's pronunciations first).
    #[serde(default)]
    pub origin: Origin,
}

/// Where a prediction's output comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Decoded by the model.
    #[default]
    Model,
    /// Listed in the lexicon ([`Predictor::set_lexicon`]).
    Lexicon,
}

impl Prediction {
    /// The output token of each row of [`Prediction::weights`]: the output tokens, and
    /// `<eos>` for the row of the step that produced it.
    pub fn weight_rows(&self) -> Vec<String> {
        let mut rows = self.output_tokens.clone();
        rows.truncate(self.weights.len());
        rows.resize(self.weights.len(), Vocab::EOS.to_string());
        rows
    }
}

/// A line of running text pronounced ([`Predictor::predict_text_with`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextPrediction {
    /// The line as given.
    pub input: String,
    /// Its words and punctuation, in order.
    pub tokens: Vec<TextToken>,
    /// What the caller should know, each naming its word.
    pub warnings: Vec<String>,
}

/// A word of running text with its pronunciation, or a punctuation mark kept as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextToken {
    /// The word (lower-cased; a number's spelled words one by one), or the mark.
    pub text: String,
    /// The text it was read from (`2026` for each of its words).
    pub from: String,
    /// A word's pronunciation; `None` for punctuation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pronunciation: Option<String>,
    /// A word's origin: the lexicon or the model; `None` for punctuation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl TextPrediction {
    /// The line as one line of text: each word's pronunciation and each mark, in order,
    /// separated by ` | ` (`HH AH L OW | , | W ER L D | !`).
    pub fn pronounced(&self) -> String {
        let parts: Vec<&str> = self
            .tokens
            .iter()
            .map(|t| t.pronunciation.as_deref().unwrap_or(&t.text))
            .collect();
        parts.join(" | ")
    }
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
    /// The input is longer than [`Predictor::input_limit`]: refused, not cut, so that no
    /// output is silently a part's.
    #[error(
        "the input ({preview}) has {length} {unit}, more than the input limit of {limit} tokens ({INPUT_LIMIT_FACTOR} × the longest training source unless set): it was not predicted"
    )]
    TooLong {
        /// The input's first characters, quoted, with its length in characters.
        preview: String,
        /// Its length.
        length: usize,
        /// What `length` counts: `tokens`, or `characters` when there were too many even to
        /// cut into tokens.
        unit: &'static str,
        /// The limit, in tokens.
        limit: usize,
    },
}

impl InputError {
    /// [`InputError::TooLong`] for `input` of `length` `unit`s.
    fn too_long(input: &str, length: usize, unit: &'static str, limit: usize) -> Self {
        const SHOWN: usize = 24;
        let chars = input.chars().count();
        let preview = if chars > SHOWN {
            let head: String = input.chars().take(SHOWN).collect();
            format!("{head:?}… of {chars} characters")
        } else {
            format!("{input:?}")
        };
        Self::TooLong {
            preview,
            length,
            unit,
            limit,
        }
    }
}

/// By default an input may have this many times as many tokens as the longest training source
/// ([`Predictor::input_limit`]).
pub const INPUT_LIMIT_FACTOR: usize = 4;

/// The input limit, in tokens, of a run whose longest training source is unknown (a run older
/// than that record).
pub const UNKNOWN_RUN_INPUT_LIMIT: usize = 1024;

/// Characters an input may have per token of the limit before it is refused uncut: a subword
/// piece is rarely longer, and a letter is one.
const CHARS_PER_TOKEN: usize = 32;

/// A trained model ready to predict: the run's configuration, vocabularies and weights.
#[derive(Debug)]
pub struct Predictor {
    /// The run's configuration.
    pub config: RunConfig,
    /// Source vocabulary.
    pub source_vocab: Vocab,
    /// Target vocabulary.
    pub target_vocab: Vocab,
    /// The run's subword vocabulary (`tokenizer.json`), if its text is cut into subwords.
    pub subwords: Option<Subwords>,
    /// The model, inference copy (no autodiff): an ensemble of one, or of several runs'
    /// models once others are [joined](Predictor::join).
    pub models: Ensemble,
    /// The device it runs on.
    pub device: Device,
    /// The longest training source in tokens (0 if unknown): longer inputs get a warning.
    pub longest_source: usize,
    /// The most tokens an input may have ([`INPUT_LIMIT_FACTOR`] × `longest_source` by
    /// default, [`UNKNOWN_RUN_INPUT_LIMIT`] when that is unknown): a longer input is refused
    /// ([`InputError::TooLong`]), so that no input can take a process's memory and time.
    pub input_limit: usize,
    /// A G2P run's lexicon ([`Predictor::set_lexicon`]): words it lists are not decoded.
    pub lexicon: Option<Lexicon>,
}

/// The contents of a run directory's files, as bytes: what [`Predictor::from_files`] reads.
#[derive(Debug, Clone, Copy)]
pub struct RunFiles<'a> {
    /// `config.json`.
    pub config: &'a [u8],
    /// `source_vocab.json`.
    pub source_vocab: &'a [u8],
    /// `target_vocab.json`.
    pub target_vocab: &'a [u8],
    /// `model.bpk`.
    pub model: &'a [u8],
    /// `tokenizer.json`, if the run has one (a translation run with a subword vocabulary).
    pub tokenizer: Option<&'a [u8]>,
    /// `manifest.json`, if at hand: its `longest_source` becomes
    /// [`Predictor::longest_source`] (advisory: a missing or unreadable one gives 0).
    pub manifest: Option<&'a [u8]>,
}

impl Predictor {
    /// Builds the model of a run from its files' contents, on `device`. Errors name the files
    /// as they are named in a run directory, joined to `dir`.
    ///
    /// # Errors
    ///
    /// A malformed or newer `config.json`, malformed vocabularies, a configuration that does not
    /// build, a `model.bpk` that is unreadable or does not fit the configuration and
    /// vocabularies.
    pub fn from_files(dir: &Path, files: RunFiles<'_>, device: Device) -> Result<Self> {
        let config = RunConfig::parse(&dir.join("config.json"), files.config)?;
        let source_vocab = Vocab::from_json(&dir.join("source_vocab.json"), files.source_vocab)?;
        let target_vocab = Vocab::from_json(&dir.join("target_vocab.json"), files.target_vocab)?;
        let subwords = read_subwords(dir, &config, files.tokenizer)?;
        let model = config
            .model
            .seq2seq(source_vocab.len(), target_vocab.len())
            .init(&device)
            .map_err(|e| {
                InferenceError::run(
                    dir.join("config.json"),
                    format!("cannot build the model: {e}"),
                )
            })?;
        let model = load_model_bytes(model, &dir.join("model.bpk"), files.model.to_vec())?;
        let longest_source = files.manifest.map_or(0, longest_source);
        Ok(Self {
            config,
            source_vocab,
            target_vocab,
            subwords,
            models: Ensemble::from(model.valid()),
            device,
            longest_source,
            input_limit: default_input_limit(longest_source),
            lexicon: None,
        })
    }

    /// An ensemble of this run's models and `other`'s (read from `other_dir`), decoding on
    /// their mean log-probabilities; configuration, decoding options and warnings stay this
    /// run's.
    ///
    /// # Errors
    ///
    /// [`InferenceError::Run`] naming `other_dir`'s file if its task or vocabularies are not
    /// this run's.
    pub fn join(self, other: Predictor, other_dir: &Path) -> Result<Self> {
        let differs = |file: &str, what: &str| {
            Err(InferenceError::run(
                other_dir.join(file),
                format!("{what} differs from the first run's: the runs of an ensemble share one"),
            ))
        };
        let task = |p: &Predictor| (p.config.task.kind, p.config.task.lowercase);
        if task(&other) != task(&self) {
            return differs("config.json", "the task (or its lower-casing)");
        }
        if other.source_vocab != self.source_vocab {
            return differs("source_vocab.json", "the source vocabulary");
        }
        if other.target_vocab != self.target_vocab {
            return differs("target_vocab.json", "the target vocabulary");
        }
        if other.subwords != self.subwords {
            return differs(TOKENIZER_FILE, "the subword vocabulary");
        }
        let members = [self.models.members(), other.models.members()].concat();
        Ok(Self {
            models: Ensemble::new(members)?,
            ..self
        })
    }

    /// The input limit in tokens, `limit`, instead of the run's default.
    ///
    /// # Errors
    ///
    /// [`InferenceError::InvalidOption`] for 0.
    pub fn set_input_limit(&mut self, limit: usize) -> Result<()> {
        if limit == 0 {
            return Err(InferenceError::invalid(
                "max_input_tokens",
                limit,
                "must be at least 1",
            ));
        }
        self.input_limit = limit;
        Ok(())
    }

    /// Words `lexicon` lists get its pronunciations instead of the model's (all of them, first,
    /// in an n-best list); `None` sends every word to the model again. Unless the run was
    /// trained with stress (`task.stress`; runs from before that option removed the digits),
    /// the lexicon's digits are removed, so that every output is written alike.
    ///
    /// # Errors
    ///
    /// [`InferenceError::InvalidOption`] for a run whose task is not G2P.
    pub fn set_lexicon(&mut self, lexicon: Option<Lexicon>) -> Result<()> {
        if lexicon.is_some() && self.config.task.kind != TaskKind::G2p {
            return Err(InferenceError::invalid(
                "lexicon",
                "(given)",
                format!(
                    "a pronunciation lexicon applies to g2p runs; this run's task is {}",
                    self.config.task.kind.name()
                ),
            ));
        }
        let stressed = self.config.task.stress;
        self.lexicon = lexicon.map(|l| if stressed { l } else { l.without_stress() });
        Ok(())
    }

    /// The lexicon's pronunciations of `input` (normalised as the task reads it), if it lists
    /// the word.
    pub fn lexicon_entry(&self, input: &str) -> Option<&[String]> {
        let word = normalise_source(&self.config.task, input);
        self.lexicon.as_ref()?.get(&word)
    }

    /// The most bytes of UTF-8 an input within [`Predictor::input_limit`] can have: a reader
    /// may drop a longer line unread, as [`Predictor::read_source`] would refuse it.
    pub fn max_input_bytes(&self) -> usize {
        self.input_limit.saturating_mul(CHARS_PER_TOKEN * 4)
    }

    /// The tokens the model reads for `input` ([`Predictor::source_tokens`]), or why it is not
    /// read: empty once normalised, or longer than [`Predictor::input_limit`] (an input of far
    /// too many characters is refused before it is cut into tokens).
    ///
    /// # Errors
    ///
    /// [`InputError::Empty`], [`InputError::TooLong`].
    pub fn read_source(&self, input: &str) -> std::result::Result<Vec<String>, InputError> {
        let chars = input.chars().count();
        if chars > self.input_limit.saturating_mul(CHARS_PER_TOKEN) {
            return Err(InputError::too_long(
                input,
                chars,
                "characters",
                self.input_limit,
            ));
        }
        let tokens = self.source_tokens(input);
        if tokens.is_empty() {
            return Err(InputError::Empty {
                input: input.to_string(),
            });
        }
        if tokens.len() > self.input_limit {
            return Err(InputError::too_long(
                input,
                tokens.len(),
                "tokens",
                self.input_limit,
            ));
        }
        Ok(tokens)
    }

    /// The tokens the model reads for `input`: normalised as the task reads it, tokenised, and,
    /// with a subword vocabulary, each piece the source vocabulary lacks spelled in pieces it
    /// has ([`Vocab::split_unknown`]).
    pub fn source_tokens(&self, input: &str) -> Vec<String> {
        let (source_tokenizer, _) = self.tokenizers();
        let tokens = source_tokenizer.tokenize(&normalise_source(&self.config.task, input));
        self.known_source_pieces(tokens)
    }

    /// `tokens` with, for a subword run, every piece the source vocabulary lacks spelled in
    /// pieces it has; other runs' tokens as they are.
    pub fn known_source_pieces(&self, tokens: Vec<String>) -> Vec<String> {
        match self.subwords {
            Some(_) => self.source_vocab.split_unknown(&tokens),
            None => tokens,
        }
    }

    /// The run's `(source, target)` tokenizers.
    pub fn tokenizers(&self) -> (Tokenizer, Tokenizer) {
        tokenizers(&self.config.task, self.subwords.as_ref())
    }

    /// Predicts every input it can, each on its own, decoding on this thread: an input that
    /// cannot be predicted gets its [`InputError`] in its place and costs the others nothing.
    /// With `n_best > 1` (at most the beam width) each prediction lists its best hypotheses in
    /// [`Prediction::n_best`].
    ///
    /// Inputs are normalised as the task reads them (G2P words trimmed and lower-cased).
    /// Unknown source tokens are read as `<unk>` (listed in [`Prediction::unknown`], with a
    /// warning). An input longer than [`Predictor::input_limit`] tokens is refused
    /// ([`InputError::TooLong`]); one longer than every training source but within the limit
    /// gets a warning, since the model has never seen one like it. The output may run to
    /// `⌊max_length_ratio · n⌋ + max_length_extra` tokens, and one cut there gets a warning.
    ///
    /// # Errors
    ///
    /// [`InferenceError::InvalidOption`] for bad decoding options (`n_best` outside
    /// `1..=beam`, a beam wider than [`DecodingOptions::MAX_BEAM`]); decoding errors.
    pub fn predict_each(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
        n_best: usize,
    ) -> Result<Vec<std::result::Result<Prediction, InputError>>> {
        self.predict_each_with(inputs, decoding, n_best, |sources| {
            decode_n_best(&self.models, sources, decoding, n_best, &self.device)
        })
    }

    /// [`Predictor::predict_each`] with the decoding of the readable inputs' token ids done by
    /// `decode` (which must return the `n_best` hypotheses of each source, in order), e.g. on
    /// several threads.
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_each`], and `decode`'s.
    pub fn predict_each_with<E: From<InferenceError>>(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
        n_best: usize,
        decode: impl FnOnce(&[Vec<usize>]) -> std::result::Result<Vec<Vec<Hypothesis>>, E>,
    ) -> std::result::Result<Vec<std::result::Result<Prediction, InputError>>, E> {
        decoding.validate()?;
        if !(1..=decoding.beam).contains(&n_best) {
            return Err(InferenceError::invalid(
                "n_best",
                n_best,
                format!("must be between 1 and the beam width ({})", decoding.beam),
            )
            .into());
        }
        let tokens_of: Vec<std::result::Result<Vec<String>, InputError>> =
            inputs.iter().map(|input| self.read_source(input)).collect();
        // A listed word is decoded only to fill an n-best list after its listed pronunciations.
        let listed: Vec<Option<&[String]>> = inputs
            .iter()
            .map(|input| self.lexicon_entry(input))
            .collect();
        let decodes = |k: usize| tokens_of[k].is_ok() && (listed[k].is_none() || n_best > 1);
        let sources: Vec<Vec<usize>> = (0..inputs.len())
            .filter(|&k| decodes(k))
            .map(|k| {
                self.source_vocab
                    .encode(tokens_of[k].as_ref().expect("readable"))
            })
            .collect();
        let mut decoded = decode(&sources)?.into_iter();
        Ok(inputs
            .iter()
            .zip(tokens_of.iter().cloned())
            .enumerate()
            .map(|(k, (input, tokens))| {
                let tokens = tokens?;
                let hyps = if decodes(k) {
                    decoded.next().expect("one decoding per decoded input")
                } else {
                    Vec::new()
                };
                Ok(match listed[k] {
                    Some(pronunciations) => {
                        self.listed_prediction(input, tokens, pronunciations, &hyps, n_best)
                    }
                    None => self.prediction(input, tokens, hyps, n_best > 1),
                })
            })
            .collect())
    }

    /// [`Predictor::predict_text_with`] decoding on this thread: each line of running text of a
    /// G2P run pronounced word by word.
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_text_with`].
    pub fn predict_text(
        &self,
        lines: &[String],
        decoding: &DecodingOptions,
    ) -> Result<Vec<std::result::Result<TextPrediction, InputError>>> {
        self.predict_text_with(lines, decoding, |sources| {
            decode_n_best(&self.models, sources, decoding, 1, &self.device)
        })
    }

    /// Each line of running text pronounced ([`split_running_text`]: words, punctuation kept,
    /// numbers spelled out): every word of every line predicted together (lexicon first),
    /// decoded by `decode` as in [`Predictor::predict_each_with`]. A line with a word that
    /// cannot be predicted (over the input limit) gets that word's error; a blank line has no
    /// tokens.
    ///
    /// # Errors
    ///
    /// [`InferenceError::InvalidOption`] for a run that is not G2P; as
    /// [`Predictor::predict_each_with`].
    pub fn predict_text_with<E: From<InferenceError>>(
        &self,
        lines: &[String],
        decoding: &DecodingOptions,
        decode: impl FnOnce(&[Vec<usize>]) -> std::result::Result<Vec<Vec<Hypothesis>>, E>,
    ) -> std::result::Result<Vec<std::result::Result<TextPrediction, InputError>>, E> {
        let task = self.config.task.kind;
        if task != TaskKind::G2p {
            return Err(InferenceError::invalid(
                "running text",
                "(given)",
                format!(
                    "reads text for a g2p run; this run's task is {}",
                    task.name()
                ),
            )
            .into());
        }
        let pieces: Vec<Vec<TextPiece>> = lines.iter().map(|l| split_running_text(l)).collect();
        let words: Vec<String> = pieces
            .iter()
            .flatten()
            .filter_map(|p| match p {
                TextPiece::Word { word, .. } => Some(word.clone()),
                TextPiece::Punctuation(_) => None,
            })
            .collect();
        let mut predicted = self
            .predict_each_with(&words, decoding, 1, decode)?
            .into_iter();
        Ok(lines
            .iter()
            .zip(pieces)
            .map(|(line, pieces)| {
                let mut tokens = Vec::with_capacity(pieces.len());
                let mut warnings = Vec::new();
                let mut failed = None;
                for piece in pieces {
                    tokens.push(match piece {
                        TextPiece::Punctuation(mark) => TextToken {
                            from: mark.clone(),
                            text: mark,
                            pronunciation: None,
                            origin: None,
                        },
                        TextPiece::Word { word, from } => {
                            let prediction = match predicted.next().expect("one per word") {
                                Ok(p) => p,
                                Err(e) => {
                                    failed.get_or_insert(e);
                                    continue;
                                }
                            };
                            warnings.extend(
                                prediction.warnings.iter().map(|w| format!("{word:?}: {w}")),
                            );
                            TextToken {
                                text: word,
                                from,
                                pronunciation: Some(prediction.output),
                                origin: Some(prediction.origin),
                            }
                        }
                    });
                }
                match failed {
                    Some(e) => Err(e),
                    None => Ok(TextPrediction {
                        input: line.clone(),
                        tokens,
                        warnings,
                    }),
                }
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
        let n_best = if list_n_best {
            hyps.iter().map(|h| self.alternative(h)).collect()
        } else {
            Vec::new()
        };
        let hyp = hyps.swap_remove(0);
        let unknown: Vec<String> = tokens
            .iter()
            .filter(|t| !self.source_vocab.contains(t))
            .cloned()
            .collect();
        let warnings = self.warnings(&tokens, &unknown, &hyp);
        let best = self.alternative(&hyp);
        Prediction {
            input: input.to_string(),
            warnings,
            unknown,
            source_tokens: tokens,
            output: best.output,
            output_tokens: best.output_tokens,
            weights: hyp.weights,
            log_prob: hyp.log_prob,
            finished: hyp.finished,
            n_best,
            origin: Origin::Model,
        }
    }

    /// The prediction of an input the lexicon lists: its first pronunciation, log-probability 0
    /// (the lexicon is taken as certain), no weights; with `n_best > 1`, every listed
    /// pronunciation, then the model's hypotheses (`hyps`) that are not among them, up to
    /// `n_best` in all unless more are listed.
    fn listed_prediction(
        &self,
        input: &str,
        tokens: Vec<String>,
        pronunciations: &[String],
        hyps: &[Hypothesis],
        n_best: usize,
    ) -> Prediction {
        let listed = |output: &String| Alternative {
            output: output.clone(),
            output_tokens: output.split(' ').map(String::from).collect(),
            log_prob: 0.0,
            score: 0.0,
            finished: true,
        };
        let mut list: Vec<Alternative> = pronunciations.iter().map(listed).collect();
        let first = list[0].clone();
        for hyp in hyps {
            if list.len() >= n_best {
                break;
            }
            let alternative = self.alternative(hyp);
            if !list.iter().any(|a| a.output == alternative.output) {
                list.push(alternative);
            }
        }
        Prediction {
            input: input.to_string(),
            source_tokens: tokens,
            unknown: Vec::new(),
            warnings: Vec::new(),
            output: first.output,
            output_tokens: first.output_tokens,
            weights: Vec::new(),
            log_prob: 0.0,
            finished: true,
            n_best: if n_best > 1 { list } else { Vec::new() },
            origin: Origin::Lexicon,
        }
    }

    /// A hypothesis as text.
    fn alternative(&self, hyp: &Hypothesis) -> Alternative {
        let (_, target_tokenizer) = self.tokenizers();
        let output_tokens = self.target_vocab.decode(&hyp.tokens);
        Alternative {
            output: target_tokenizer.detokenize(&output_tokens),
            output_tokens,
            log_prob: hyp.log_prob,
            score: hyp.score,
            finished: hyp.finished,
        }
    }

    /// What the caller should know about an input's `tokens` (of which `unknown` are not in
    /// the vocabulary) and its best hypothesis.
    fn warnings(&self, tokens: &[String], unknown: &[String], hyp: &Hypothesis) -> Vec<String> {
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
        warnings
    }
}

/// The input limit of a run whose longest training source has `longest_source` tokens (0:
/// unknown).
fn default_input_limit(longest_source: usize) -> usize {
    match longest_source {
        0 => UNKNOWN_RUN_INPUT_LIMIT,
        n => n.saturating_mul(INPUT_LIMIT_FACTOR),
    }
}

/// The `longest_source` of a run's `manifest.json` bytes (0 when unreadable or absent: it only
/// decides a warning).
fn longest_source(manifest: &[u8]) -> usize {
    #[derive(Deserialize)]
    struct Manifest {
        #[serde(default)]
        longest_source: usize,
    }
    serde_json::from_slice::<Manifest>(manifest).map_or(0, |m| m.longest_source)
}

/// The run's subword vocabulary from `tokenizer.json`'s bytes (`None` when its configuration
/// says words).
///
/// # Errors
///
/// [`InferenceError::Run`] naming `dir`'s `tokenizer.json` when the configuration asks for one
/// and it is missing, or when it is not a tokenizer.
fn read_subwords(dir: &Path, config: &RunConfig, bytes: Option<&[u8]>) -> Result<Option<Subwords>> {
    let path = dir.join(TOKENIZER_FILE);
    match (config.task.vocabulary.subwords(), bytes) {
        (None, _) => Ok(None),
        (Some(_), Some(bytes)) => Subwords::from_json(&path, bytes).map(Some),
        (Some(_), None) => Err(InferenceError::run(
            path,
            format!(
                "missing: the run's configuration says its vocabulary is {}, learned into this file",
                config.task.vocabulary
            ),
        )),
    }
}

/// Loads burnpack parameters (the bytes of the file `path`) into `model`, checking every
/// shape. Parameters stored in another precision (a run packed in half precision) are read
/// into the model's own.
///
/// # Errors
///
/// [`InferenceError::Run`] naming `path` if the bytes are truncated or corrupt, or hold
/// parameters of another shape (another model or other vocabularies).
pub fn load_model_bytes(model: Seq2Seq, path: &Path, bytes: Vec<u8>) -> Result<Seq2Seq> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| {
        InferenceError::run(
            path,
            format!("not a readable model file (truncated or corrupt?): {e}"),
        )
    })?;
    model
        .try_load_record(record.cast_to_module_dtype())
        .map_err(|e| {
            InferenceError::run(
                path,
                format!("the weights do not fit this run's configuration and vocabularies: {e}"),
            )
        })
}
