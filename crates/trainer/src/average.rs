//! Checkpoint averaging: a model whose every parameter is the mean of that parameter over the
//! last K epochs of one run (as Vaswani et al. 2017 average their last checkpoints). Nearby
//! points of one training trajectory lie in one basin, so their mean is a model too, often a
//! smoother one than any of them. Models of different runs are not (their hidden units come in
//! other orders): those are combined by ensembling their outputs instead.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use decoder::Seq2Seq;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{TrainingState, load_model, model_bytes};
use crate::run::{RunDir, read, write_atomic};
use crate::{Result, TrainerError};

/// The parameter-wise mean of `models`, all of one configuration (`None` for no models).
pub fn average_models(models: &[Seq2Seq]) -> Option<Seq2Seq> {
    let (first, others) = models.split_first()?;
    let mut sum = AddOthers {
        others: others
            .iter()
            .map(|model| {
                let mut collect = Collect(Vec::new());
                model.visit(&mut collect);
                collect.0.into_iter()
            })
            .collect(),
        count: models.len() as f32,
    };
    Some(first.clone().map(&mut sum))
}

/// Every float parameter's values, in the module's visiting order.
struct Collect(Vec<TensorData>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.val().into_data());
    }
}

/// Replaces each parameter by its mean with the next parameter of every other model (visited
/// in the same order: the models share one configuration).
struct AddOthers {
    others: Vec<std::vec::IntoIter<TensorData>>,
    count: f32,
}

impl ModuleMapper for AddOthers {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (others, count) = (&mut self.others, self.count);
        param.map(|first| {
            let device = first.device();
            let sum = others.iter_mut().fold(first, |sum, other| {
                let data = other
                    .next()
                    .expect("models of one configuration have the same parameters");
                sum + Tensor::from_data(data, &device)
            });
            sum / count
        })
    }
}

/// What [`average_checkpoints`] made, also written as the new run's `averaged.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Averaged {
    /// The run whose checkpoints were averaged.
    pub from: PathBuf,
    /// The epochs averaged, oldest first.
    pub epochs: Vec<usize>,
    /// Their optimiser steps.
    pub steps: Vec<usize>,
}

/// Writes to `out` a new run directory (the configuration, vocabularies and manifest of the
/// run in `run_dir`) whose `model.bpk` is the mean of the run's last `last` end-of-epoch
/// checkpoints: evaluate, predict with or ensemble it like any run. A run keeps only its newest
/// `training.keep_checkpoints` checkpoints, so set that to K or more to average K.
///
/// # Errors
///
/// `last` of 0; fewer end-of-epoch checkpoints than `last` (saying how many there are);
/// `out` already holding a run; the run's unreadable files; I/O errors.
pub fn average_checkpoints(run_dir: &Path, last: usize, out: &Path) -> Result<Averaged> {
    if last == 0 {
        return Err(TrainerError::invalid("last", 0, "must be at least 1"));
    }
    let run = RunDir::new(run_dir);
    let chosen = last_epoch_checkpoints(&run, last)?;
    let target = RunDir::new(out);
    if target.config().exists() {
        return Err(TrainerError::RunExists {
            path: out.to_path_buf(),
        });
    }
    let config = run.read_config()?;
    let (source, target_vocab) = run.read_vocabs()?;
    let subwords = run.read_subwords(&config)?;
    let device = config.backend.device()?;
    let blank = config
        .model
        .seq2seq(source.len(), target_vocab.len())
        .init(&device)?;
    let models = chosen
        .iter()
        .map(|(step, _)| load_model(blank.clone(), &run.checkpoint(*step).join("model.bpk")))
        .collect::<Result<Vec<_>>>()?;
    let mean = average_models(&models).expect("at least one checkpoint was chosen");
    let averaged = Averaged {
        from: run_dir.to_path_buf(),
        epochs: chosen.iter().map(|(_, state)| state.epoch).collect(),
        steps: chosen.iter().map(|(step, _)| *step).collect(),
    };
    // `config.json` last: it is what marks a directory as holding a run, so an interrupted
    // average can simply be run again.
    std::fs::create_dir_all(out).map_err(|e| TrainerError::io(out, e))?;
    write_atomic(&target.model(), &model_bytes(&mean)?)?;
    target.write_vocabs(&source, &target_vocab)?;
    if let Some(subwords) = &subwords {
        write_atomic(&target.tokenizer(), &subwords.to_json())?;
    }
    write_atomic(&target.manifest(), &read(&run.manifest())?)?;
    write_atomic(
        &out.join("averaged.json"),
        &serde_json::to_vec_pretty(&averaged).expect("averages serialise"),
    )?;
    target.write_config(&config)?;
    Ok(averaged)
}

/// The newest `last` checkpoints written at the end of an epoch (not mid-epoch, as on
/// Ctrl-C), oldest first, with their training states.
fn last_epoch_checkpoints(run: &RunDir, last: usize) -> Result<Vec<(usize, TrainingState)>> {
    if !run.root.is_dir() {
        return Err(TrainerError::run(&run.root, "no such run directory"));
    }
    let mut ends = Vec::new();
    for step in run.checkpoint_steps() {
        let path = run.checkpoint(step).join("state.json");
        let state: TrainingState = serde_json::from_slice(&read(&path)?)
            .map_err(|e| TrainerError::run(&path, format!("not a training state: {e}")))?;
        if state.batches_done == 0 {
            ends.push((step, state));
        }
    }
    if ends.len() < last {
        return Err(TrainerError::run(
            run.checkpoints(),
            format!(
                "has {} end-of-epoch checkpoints, fewer than the {last} asked to average (a run \
                 keeps its newest `training.keep_checkpoints`: set it to {last} or more to train one)",
                ends.len()
            ),
        ));
    }
    Ok(ends.split_off(ends.len() - last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::prelude::Device;
    use inference::ModelOptions;

    fn params(model: &Seq2Seq) -> Vec<TensorData> {
        let mut collect = Collect(Vec::new());
        model.visit(&mut collect);
        collect.0
    }

    #[test]
    fn the_average_is_the_parameter_wise_mean() {
        let device = Device::flex();
        let config = ModelOptions::default().seq2seq(7, 9);
        let models: Vec<Seq2Seq> = (0..3)
            .map(|seed| {
                device.seed(seed);
                config.init(&device).unwrap()
            })
            .collect();
        let mean = params(&average_models(&models).unwrap());
        let each: Vec<Vec<TensorData>> = models.iter().map(params).collect();
        assert_eq!(mean.len(), each[0].len());
        let mut differing = 0;
        for (k, got) in mean.iter().enumerate() {
            let got = got.try_to_vec::<f32>().unwrap();
            let parts: Vec<Vec<f32>> = each.iter().map(|p| p[k].try_to_vec().unwrap()).collect();
            differing += usize::from(parts[0] != parts[1]);
            for (i, value) in got.iter().enumerate() {
                let want = (parts[0][i] + parts[1][i] + parts[2][i]) / 3.0;
                assert!(
                    (value - want).abs() < 1e-6,
                    "parameter {k}[{i}]: {value} vs {want}"
                );
            }
        }
        assert!(differing > mean.len() / 2, "{differing} of {}", mean.len());
        assert!(average_models(&[]).is_none());
        let alone = params(&average_models(&models[..1]).unwrap());
        assert_eq!(alone, each[0]);
    }
}
