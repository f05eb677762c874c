//! Packing a run for shipping: a new run directory with what prediction, evaluation and
//! pictures read (configuration, manifest, vocabularies, tokenizer, per-epoch metrics, what an
//! averaged run was averaged from, the best model), without checkpoints, the model's parameters optionally stored in half precision
//! (IEEE binary16: half the bytes; they are read back into single precision, so decoding runs
//! as before on values rounded to 11 significant bits).

use std::path::Path;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{DType, Tensor};
use inference::TOKENIZER_FILE;

use crate::checkpoint::{load_model, model_bytes};
use crate::run::{RunDir, read, write_atomic};
use crate::{Result, TrainerError};

/// How a packed run stores its model's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    /// 32-bit floats, as trained.
    #[default]
    Single,
    /// 16-bit floats: half the size.
    Half,
}

/// What [`pack_run`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// The files written into the new directory, in writing order.
    pub files: Vec<String>,
    /// Bytes of the new `model.bpk`.
    pub model_bytes: usize,
}

/// Writes to `out` a copy of the run in `run_dir` fit to ship: its files but checkpoints, with
/// `model.bpk` in `precision`.
///
/// # Errors
///
/// `out` already holding a run; the run's unreadable or malformed files; I/O errors.
pub fn pack_run(run_dir: &Path, out: &Path, precision: Precision) -> Result<Packed> {
    let (run, target) = (RunDir::new(run_dir), RunDir::new(out));
    if target.config().exists() {
        return Err(TrainerError::RunExists {
            path: out.to_path_buf(),
        });
    }
    let config = run.read_config()?;
    let (source, target_vocab) = run.read_vocabs()?;
    run.read_subwords(&config)?;
    let blank = config
        .model
        .seq2seq(source.len(), target_vocab.len())
        .init(&config.backend.device()?)?;
    let model = load_model(blank, &run.model())?;
    let model = match precision {
        Precision::Single => model,
        Precision::Half => model.map(&mut ToHalf),
    };
    let bytes = model_bytes(&model)?;
    std::fs::create_dir_all(out).map_err(|e| TrainerError::io(out, e))?;
    write_atomic(&target.model(), &bytes)?;
    let mut files = vec!["model.bpk".to_string()];
    // `config.json` last: it is what marks a directory as holding a run, so an interrupted
    // pack can simply be run again.
    let optional = [TOKENIZER_FILE, "metrics.jsonl", "averaged.json"];
    let required = ["source_vocab.json", "target_vocab.json", "manifest.json"];
    for name in required.iter().chain(&optional).chain(&["config.json"]) {
        let from = run_dir.join(name);
        if optional.contains(name) && !from.exists() {
            continue;
        }
        write_atomic(&out.join(name), &read(&from)?)?;
        files.push(name.to_string());
    }
    Ok(Packed {
        files,
        model_bytes: bytes.len(),
    })
}

/// Casts every float parameter to half precision.
struct ToHalf;

impl ModuleMapper for ToHalf {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|tensor| tensor.cast(DType::F16))
    }
}
