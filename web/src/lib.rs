//! A trained run of ours in the browser: the JavaScript face of [`inference::Predictor`].
//!
//! The page (`web/static/`) fetches a run directory's files (`config.json`,
//! `source_vocab.json`, `target_vocab.json`, `model.bpk`, and `manifest.json` when there is
//! one) and hands their bytes to [`Model::new`]; [`Model::predict`] then answers with the
//! JSON line that `cargo xtask predict --json` prints for the same input, attention weights
//! included. Nothing here touches files, the network or threads: the model runs on Burn's flex
//! backend on the page's own thread.
#![warn(missing_docs)]

use std::path::Path;

use burn::prelude::Device;
use inference::{DecodingOptions, InferenceError, InputError, Predictor, RunFiles};
use wasm_bindgen::prelude::*;

/// A run loaded for prediction.
#[wasm_bindgen]
pub struct Model {
    predictor: Predictor,
}

#[wasm_bindgen]
impl Model {
    /// Builds the run's model from its files' bytes; `manifest` (optional) tells the longest
    /// training source, beyond which inputs get a warning; `tokenizer` is a translation run's
    /// subword vocabulary (`tokenizer.json`), which a run configured with one requires.
    ///
    /// # Errors
    ///
    /// A message naming the file at fault (`config.json: not valid JSON …`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &[u8],
        source_vocab: &[u8],
        target_vocab: &[u8],
        model: &[u8],
        manifest: Option<Vec<u8>>,
        tokenizer: Option<Vec<u8>>,
    ) -> Result<Model, JsError> {
        let files = RunFiles {
            config,
            source_vocab,
            target_vocab,
            model,
            tokenizer: tokenizer.as_deref(),
            manifest: manifest.as_deref(),
        };
        Self::load(files).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The run's task (`g2p`, `dates`, `translate`).
    #[wasm_bindgen(getter)]
    pub fn task(&self) -> String {
        self.predictor.config.task.kind.name().to_string()
    }

    /// The beam width the run decodes with by default.
    #[wasm_bindgen(getter, js_name = defaultBeam)]
    pub fn default_beam(&self) -> usize {
        self.predictor.config.decoding.beam
    }

    /// The widest beam accepted.
    #[wasm_bindgen(getter, js_name = maxBeam)]
    pub fn max_beam() -> usize {
        DecodingOptions::MAX_BEAM
    }

    /// The prediction of `text` at beam width `beam` (1: greedy) with its `n_best` best
    /// hypotheses (`1..=beam`), as the JSON line `cargo xtask predict --json` prints: the
    /// prediction, or `{"error": …}` for an input with nothing to predict from.
    ///
    /// # Errors
    ///
    /// Decoding options out of range (a message naming the option and its value).
    pub fn predict(&self, text: &str, beam: usize, n_best: usize) -> Result<String, JsError> {
        self.predict_line(text, beam, n_best)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// A G2P run's pronunciation of a line of running text at beam width `beam`, as the JSON
    /// line `cargo xtask predict --running-text --json` prints, with `output`, the line as
    /// `--running-text` prints it: or `{"error": …}` for a line with a word that cannot be
    /// predicted.
    ///
    /// # Errors
    ///
    /// A run that is not G2P; decoding options out of range.
    #[wasm_bindgen(js_name = predictText)]
    pub fn predict_text(&self, text: &str, beam: usize) -> Result<String, JsError> {
        self.predict_text_line(text, beam)
            .map_err(|e| JsError::new(&e.to_string()))
    }
}

impl Model {
    /// [`Model::new`] with Rust's error type.
    ///
    /// # Errors
    ///
    /// As [`Predictor::from_files`].
    pub fn load(files: RunFiles<'_>) -> Result<Model, InferenceError> {
        let predictor = Predictor::from_files(Path::new(""), files, Device::flex())?;
        Ok(Model { predictor })
    }

    /// [`Model::predict`] with Rust's error type.
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_each`].
    pub fn predict_line(
        &self,
        text: &str,
        beam: usize,
        n_best: usize,
    ) -> Result<String, InferenceError> {
        let mut out =
            self.predictor
                .predict_each(&[text.to_string()], &self.decoding(beam), n_best)?;
        Ok(json_line(out.remove(0).map(|p| {
            serde_json::to_string(&p).expect("predictions serialise")
        })))
    }

    /// [`Model::predict_text`] with Rust's error type.
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_text`] (a run that is not G2P among them).
    pub fn predict_text_line(&self, text: &str, beam: usize) -> Result<String, InferenceError> {
        let mut out = self
            .predictor
            .predict_text(&[text.to_string()], &self.decoding(beam))?;
        Ok(json_line(out.remove(0).map(|p| {
            let mut json = serde_json::to_value(&p).expect("predictions serialise");
            json["output"] = p.pronounced().into();
            json.to_string()
        })))
    }

    /// The run's decoding options at beam width `beam`.
    fn decoding(&self, beam: usize) -> DecodingOptions {
        DecodingOptions {
            beam,
            ..self.predictor.config.decoding.clone()
        }
    }
}

/// One input's answer as the JSON line `predict --json` prints: the prediction, or
/// `{"error": …}` for an input that cannot be predicted.
fn json_line(result: Result<String, InputError>) -> String {
    match result {
        Ok(json) => json,
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(run: &str) -> Model {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../models")
            .join(run);
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let (config, source, target, model) = (
            read("config.json"),
            read("source_vocab.json"),
            read("target_vocab.json"),
            read("model.bpk"),
        );
        let tokenizer = std::fs::read(dir.join("tokenizer.json")).ok();
        Model::load(RunFiles {
            config: &config,
            source_vocab: &source,
            target_vocab: &target,
            model: &model,
            tokenizer: tokenizer.as_deref(),
            manifest: None,
        })
        .unwrap()
    }

    #[test]
    fn running_text_is_read_by_g2p_runs_only() {
        let line = load("g2p-cmudict")
            .predict_text_line("Hello, world!", 1)
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["output"], "HH EH L OW | , | W ER L D | !"); // as `predict --running-text`
        let refused = load("multi30k-de-en").predict_text_line("Hallo, Welt!", 1);
        let message = refused.unwrap_err().to_string();
        assert!(
            message.contains("reads text for a g2p run; this run's task is translate"),
            "{message}"
        );
    }
}
