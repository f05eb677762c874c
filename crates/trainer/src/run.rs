//! A run directory: what a training run leaves behind, written so that a crash never loses or
//! half-writes a file.
//!
//! ```text
//! RUN/
//!   config.json          the run's configuration (RunConfig)
//!   manifest.json        data checksums, seed, backend, git commit, parameter count
//!   source_vocab.json    vocabularies
//!   target_vocab.json
//!   tokenizer.json       the subword vocabulary (translation runs that have one)
//!   model.bpk            the best model so far (by the validation score)
//!   metrics.jsonl        one line of metrics per epoch
//!   checkpoints/step-NNNNNNNN/{model.bpk, optimizer.bpk, state.json}
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::FileChecksum;
use crate::training::Prepared;
use crate::{Result, TrainerError};
use inference::{RunConfig, SplitSizes, Subwords, Vocab};

/// Writes `bytes` to `path` atomically: to a temporary file beside it, flushed to disk, then
/// renamed over `path`. A crash leaves either the old file or the new one, never a mix.
///
/// # Errors
///
/// [`TrainerError::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        TrainerError::io(path, e)
    })
}

/// The temporary name `path` is written under before the rename: `.NAME.tmp` beside it.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// The bytes of the file at `path`.
///
/// # Errors
///
/// [`TrainerError::Io`] naming it.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| TrainerError::io(path, e))
}

/// The files of a run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The directory.
    pub root: PathBuf,
}

impl RunDir {
    /// The run at `root` (nothing is created yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.json")
    }
    /// `manifest.json`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("manifest.json")
    }
    /// `source_vocab.json`.
    pub fn source_vocab(&self) -> PathBuf {
        self.root.join("source_vocab.json")
    }
    /// `target_vocab.json`.
    pub fn target_vocab(&self) -> PathBuf {
        self.root.join("target_vocab.json")
    }
    /// `model.bpk`, the best model.
    pub fn model(&self) -> PathBuf {
        self.root.join("model.bpk")
    }
    /// `tokenizer.json`: the subword vocabulary of a run that has one.
    pub fn tokenizer(&self) -> PathBuf {
        self.root.join(inference::TOKENIZER_FILE)
    }
    /// `metrics.jsonl`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
    /// `checkpoints/`.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }
    /// `checkpoints/step-NNNNNNNN/`: the checkpoint after `step` optimiser steps.
    pub fn checkpoint(&self, step: usize) -> PathBuf {
        self.checkpoints().join(format!("step-{step:08}"))
    }

    /// Reads `config.json` ([`RunConfig::parse`]).
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] if unreadable, [`InferenceError::NewerVersion`](inference::InferenceError::NewerVersion),
    /// [`InferenceError::Run`](inference::InferenceError::Run) if malformed.
    pub fn read_config(&self) -> Result<RunConfig> {
        let path = self.config();
        Ok(RunConfig::parse(&path, &read(&path)?)?)
    }

    /// Writes `config.json` atomically.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`].
    pub fn write_config(&self, config: &RunConfig) -> Result<()> {
        let json = serde_json::to_vec_pretty(config).expect("configs serialise");
        write_atomic(&self.config(), &json)
    }

    /// Reads the `(source, target)` vocabularies.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] if unreadable, [`InferenceError::Run`](inference::InferenceError::Run) if malformed.
    pub fn read_vocabs(&self) -> Result<(Vocab, Vocab)> {
        let read_vocab =
            |path: PathBuf| -> Result<Vocab> { Ok(Vocab::from_json(&path, &read(&path)?)?) };
        Ok((
            read_vocab(self.source_vocab())?,
            read_vocab(self.target_vocab())?,
        ))
    }

    /// Reads `tokenizer.json`, the subword vocabulary, when `config` says the run has one.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] if missing or unreadable, [`InferenceError::Run`](inference::InferenceError::Run) if malformed.
    pub fn read_subwords(&self, config: &RunConfig) -> Result<Option<Subwords>> {
        if config.task.vocabulary.subwords().is_none() {
            return Ok(None);
        }
        let path = self.tokenizer();
        Ok(Some(Subwords::from_json(&path, &read(&path)?)?))
    }

    /// Writes the `(source, target)` vocabularies atomically.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`].
    pub fn write_vocabs(&self, source: &Vocab, target: &Vocab) -> Result<()> {
        write_atomic(&self.source_vocab(), &source.to_json())?;
        write_atomic(&self.target_vocab(), &target.to_json())
    }

    /// Creates the directory (and its parents).
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`].
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(self.checkpoints()).map_err(|e| TrainerError::io(&self.root, e))
    }

    /// The steps that have a complete checkpoint, in order.
    pub fn checkpoint_steps(&self) -> Vec<usize> {
        let Ok(entries) = std::fs::read_dir(self.checkpoints()) else {
            return Vec::new();
        };
        let mut steps: Vec<usize> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_prefix("step-")?.parse().ok())
            .filter(|&step| self.checkpoint(step).join("state.json").exists())
            .collect();
        steps.sort_unstable();
        steps
    }

    /// Appends one JSON line to `metrics.jsonl`, keeping only earlier epochs (a resumed run
    /// rewrites the lines of epochs it repeats).
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`].
    pub fn record_metrics(&self, metrics: &EpochMetrics) -> Result<()> {
        let mut lines = self.read_metrics()?;
        lines.retain(|m| m.epoch < metrics.epoch);
        lines.push(metrics.clone());
        let mut text = String::new();
        for line in &lines {
            text.push_str(&serde_json::to_string(line).expect("metrics serialise"));
            text.push('\n');
        }
        write_atomic(&self.metrics(), text.as_bytes())
    }

    /// The metrics recorded so far.
    ///
    /// # Errors
    ///
    /// [`TrainerError::Io`] if unreadable, [`TrainerError::Parse`] for a bad line.
    pub fn read_metrics(&self) -> Result<Vec<EpochMetrics>> {
        let path = self.metrics();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(TrainerError::io(path, e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| TrainerError::Parse {
                    path: path.clone(),
                    line: i + 1,
                    message: e.to_string(),
                })
            })
            .collect()
    }
}

/// One epoch's line in `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss per target token (label-smoothed when `training.label_smoothing` is
    /// above 0, so then not comparable with `valid_loss`).
    pub train_loss: f64,
    /// Mean validation loss per target token.
    pub valid_loss: f64,
    /// `exp(valid_loss)`.
    pub valid_perplexity: f64,
    /// The task's scores on the validation set (e.g. `exact_match`, `wer`, `bleu`).
    pub valid: std::collections::BTreeMap<String, f64>,
    /// The learning rate used in this epoch.
    pub learning_rate: f64,
    /// Training target tokens per second.
    pub tokens_per_second: f64,
    /// Wall-clock seconds of the epoch, validation included.
    pub seconds: f64,
}

/// `manifest.json`: what a run was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// This program's version.
    pub program_version: String,
    /// The git commit of the working tree, if it was a git checkout; `-dirty` when tracked
    /// files had uncommitted changes.
    pub git_commit: Option<String>,
    /// The backend trained on.
    pub backend: String,
    /// The seed.
    pub seed: u64,
    /// Every data file read, with its SHA-256.
    pub data_checksums: Vec<FileChecksum>,
    /// How many training pairs, validation and test items the run had.
    pub examples: SplitSizes,
    /// Number of model parameters.
    pub parameters: usize,
    /// The longest training source, in tokens (inputs longer than this are outside what the
    /// model has seen).
    #[serde(default)]
    pub longest_source: usize,
}

impl Manifest {
    /// The manifest of a new run of `config` on `prepared` data, with a model of `parameters`
    /// parameters, made from this program and (if any) the current git checkout.
    pub fn new(config: &RunConfig, prepared: &Prepared, parameters: usize) -> Self {
        Self {
            program_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            backend: config.backend.name().to_string(),
            seed: config.training.seed,
            data_checksums: prepared.data.checksums.clone(),
            examples: SplitSizes {
                train: prepared.train.len(),
                valid: prepared.data.valid.len(),
                test: prepared.data.test.len(),
            },
            parameters,
            longest_source: prepared
                .train
                .iter()
                .map(|p| p.source.len())
                .max()
                .unwrap_or(0),
        }
    }
}

/// The commit of the git checkout holding the current directory, if any (see [`git_commit_in`]).
pub fn git_commit() -> Option<String> {
    git_commit_in(Path::new("."))
}

/// The commit of the git checkout holding `dir`, with `-dirty` appended when tracked files
/// differ from it (the run was not made from that commit alone); `None` outside a checkout or
/// without git.
pub fn git_commit_in(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let changes = git(&["status", "--porcelain", "--untracked-files=no"])?;
    Some(if changes.is_empty() {
        commit
    } else {
        format!("{commit}-dirty")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_written_with_arrays_reads_into_named_parts() {
        // The `g2p-cmudict` run's manifest (an ensemble member now), written with arrays.
        let shipped =
            include_str!("../../../models/g2p-cmudict-ensemble/full-seed42/manifest.json");
        let manifest: Manifest = serde_json::from_str(shipped).unwrap();
        assert_eq!(
            manifest.examples,
            SplitSizes {
                train: 108_009,
                valid: 5_087,
                test: 12_000
            }
        );
        assert_eq!(manifest.data_checksums.len(), 2);
        assert!(manifest.data_checksums[0].path.ends_with("g014b2b.train"));
        assert_eq!(manifest.longest_source, 22);
        let written = serde_json::to_value(&manifest).unwrap();
        assert_eq!(written["examples"]["valid"], 5_087);
        assert_eq!(
            written["data_checksums"][1]["sha256"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }
}
