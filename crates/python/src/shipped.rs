//! The shipped CMUdict G2P models, compiled into the module so that `G2p()` needs no path and
//! no download: `models/g2p-cmudict` (phonemes without stress) and `models/g2p-cmudict-stress`
//! (ARPAbet with stress digits).

use std::path::PathBuf;

use inference::{Backend, Predictor, RunFiles};
use runtime::Loaded;

/// Bytes of a run directory's files, compiled in; `$dir` is relative to the repository root.
macro_rules! shipped_run {
    ($dir:literal) => {
        RunFiles {
            config: include_bytes!(concat!("../../../", $dir, "/config.json")),
            source_vocab: include_bytes!(concat!("../../../", $dir, "/source_vocab.json")),
            target_vocab: include_bytes!(concat!("../../../", $dir, "/target_vocab.json")),
            model: include_bytes!(concat!("../../../", $dir, "/model.bpk")),
            tokenizer: None,
            manifest: Some(include_bytes!(concat!("../../../", $dir, "/manifest.json"))),
        }
    };
}

/// The model without stress: its run directory, as `Model.runs` shows it, and its files.
const PLAIN: (&str, RunFiles<'static>) = ("models/g2p-cmudict", shipped_run!("models/g2p-cmudict"));

/// The model with stress digits.
const STRESSED: (&str, RunFiles<'static>) = (
    "models/g2p-cmudict-stress",
    shipped_run!("models/g2p-cmudict-stress"),
);

/// A shipped G2P model on the CPU: with stress digits when `stress`.
///
/// # Errors
///
/// None in a correct build (the files are the repository's own, checked by its tests).
pub fn g2p(stress: bool) -> runtime::Result<Loaded> {
    let (run, files) = if stress { STRESSED } else { PLAIN };
    let device = Backend::Flex.device()?;
    let predictor = Predictor::from_files(PathBuf::from(run).as_path(), files, device)?;
    Ok(Loaded::from_predictor(predictor, PathBuf::from(run)))
}
