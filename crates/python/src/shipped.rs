//! The shipped CMUdict G2P model, compiled into the module so that `G2p()` needs no path and no
//! download.

use std::path::PathBuf;

use inference::{Backend, Predictor, RunFiles};
use runtime::Loaded;

/// The run directory the files come from, as `Model.runs` shows it.
const RUN: &str = "models/g2p-cmudict";

/// The shipped model's files.
const FILES: RunFiles<'static> = RunFiles {
    config: include_bytes!("../../../models/g2p-cmudict/config.json"),
    source_vocab: include_bytes!("../../../models/g2p-cmudict/source_vocab.json"),
    target_vocab: include_bytes!("../../../models/g2p-cmudict/target_vocab.json"),
    model: include_bytes!("../../../models/g2p-cmudict/model.bpk"),
    tokenizer: None,
    manifest: Some(include_bytes!("../../../models/g2p-cmudict/manifest.json")),
};

/// The shipped G2P model on the CPU.
///
/// # Errors
///
/// None in a correct build (the files are the repository's own, checked by its tests).
pub fn g2p() -> runtime::Result<Loaded> {
    let device = Backend::Flex.device()?;
    let predictor = Predictor::from_files(PathBuf::from(RUN).as_path(), FILES, device)?;
    Ok(Loaded::from_predictor(predictor, PathBuf::from(RUN)))
}
