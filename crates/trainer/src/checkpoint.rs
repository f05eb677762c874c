//! Checkpoints: model, optimizer and training state, written whole or not at all.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Bytes;
use decoder::Seq2Seq;
use serde::{Deserialize, Serialize};

use crate::run::{RunDir, write_atomic};
use crate::{Result, TrainerError};

/// Where training stood when a checkpoint was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// Epochs completed.
    pub epoch: usize,
    /// Batches of the next epoch already trained on (non-zero only for a checkpoint written
    /// when training was interrupted mid-epoch).
    pub batches_done: usize,
    /// Optimiser steps taken so far.
    pub step: usize,
    /// For a mid-epoch checkpoint: the loss sum (per-token loss × tokens) and the target
    /// tokens of the batches already done, so the epoch's mean comes out as uninterrupted.
    pub epoch_loss: (f64, usize),
    /// The learning rate for the next epoch.
    pub learning_rate: f64,
    /// The best epoch so far.
    pub best: Option<Best>,
    /// Epochs since the best one.
    pub bad_epochs: usize,
}

impl TrainingState {
    /// Where a new run starts: nothing trained, at `learning_rate`.
    pub fn start(learning_rate: f64) -> Self {
        Self {
            epoch: 0,
            batches_done: 0,
            step: 0,
            epoch_loss: (0.0, 0),
            learning_rate,
            best: None,
            bad_epochs: 0,
        }
    }
}

/// The best epoch: highest validation score, ties broken by lower validation loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// The validation score (higher is better; see `evaluate::selection_score`).
    pub score: f64,
    /// The validation loss.
    pub valid_loss: f64,
    /// The epoch.
    pub epoch: usize,
}

impl Best {
    /// Whether `score` and `valid_loss` beat this.
    pub fn beaten_by(&self, score: f64, valid_loss: f64) -> bool {
        score > self.score || (score == self.score && valid_loss < self.valid_loss)
    }
}

/// Model parameters as burnpack bytes.
pub fn model_bytes(model: &Seq2Seq) -> Result<Vec<u8>> {
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| TrainerError::run("model", format!("cannot serialise the model: {e}")))?;
    Ok(bytes.to_vec())
}

/// Loads burnpack parameters from `path` into `model`, checking every shape.
///
/// # Errors
///
/// [`TrainerError::Io`] if unreadable, [`InferenceError::Run`](inference::InferenceError::Run) if the file
/// is truncated or corrupt, or holds parameters of another shape (another model or other vocabularies).
pub fn load_model(model: Seq2Seq, path: &Path) -> Result<Seq2Seq> {
    let bytes = crate::run::read(path)?;
    Ok(inference::load_model_bytes(model, path, bytes)?)
}

/// Writes the checkpoint of `state.step`: files into a temporary directory, then one rename. A
/// crash mid-write leaves the earlier checkpoints as they were and no partial `step-NNNNNNNN`.
///
/// # Errors
///
/// [`TrainerError::Io`].
pub fn save(
    run: &RunDir,
    model: &Seq2Seq,
    optimizer: &ModuleOptimizer,
    state: &TrainingState,
) -> Result<PathBuf> {
    let dir = run.checkpoint(state.step);
    let tmp = crate::run::temp_path(&dir);
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| TrainerError::io(&tmp, e))?;
    write_atomic(&tmp.join("model.bpk"), &model_bytes(model)?)?;
    let optim = optimizer
        .into_bytes()
        .map_err(|e| TrainerError::run(&tmp, format!("cannot serialise the optimizer: {e}")))?;
    write_atomic(&tmp.join("optimizer.bpk"), &optim)?;
    let json = serde_json::to_vec_pretty(state).expect("states serialise");
    write_atomic(&tmp.join("state.json"), &json)?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir).map_err(|e| TrainerError::io(&dir, e))?;
    Ok(dir)
}

/// Loads checkpoint `dir` into `model` and `optimizer`.
///
/// # Errors
///
/// As [`load_model`], and for a missing or malformed `state.json` or `optimizer.bpk`.
pub fn load(
    dir: &Path,
    model: Seq2Seq,
    optimizer: ModuleOptimizer,
) -> Result<(Seq2Seq, ModuleOptimizer, TrainingState)> {
    let model = load_model(model, &dir.join("model.bpk"))?;
    let optim_path = dir.join("optimizer.bpk");
    let bytes = std::fs::read(&optim_path).map_err(|e| TrainerError::io(&optim_path, e))?;
    let optimizer = optimizer
        .from_bytes(Bytes::from_bytes_vec(bytes))
        .map_err(|e| {
            TrainerError::run(&optim_path, format!("not a readable optimizer state: {e}"))
        })?;
    let state_path = dir.join("state.json");
    let bytes = std::fs::read(&state_path).map_err(|e| TrainerError::io(&state_path, e))?;
    let state = serde_json::from_slice(&bytes)
        .map_err(|e| TrainerError::run(&state_path, format!("not a training state: {e}")))?;
    Ok((model, optimizer, state))
}
