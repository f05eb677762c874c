//! A learned subword vocabulary (BPE or unigram): a run's `tokenizer.json`, Hugging Face's
//! `tokenizers` format, applied to text and back.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use tokenizers::decoders::DecoderWrapper;
use tokenizers::tokenizer::Decoder;

use crate::{InferenceError, Result};

/// The file name of a run's subword vocabulary.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// A subword tokenizer: text to pieces (`▁ein`, `▁fahr`, `rad`, `.`) and pieces back to text.
/// The pieces are the model's tokens; the run's vocabularies map them to ids. Cheap to clone.
#[derive(Clone)]
pub struct Subwords {
    tokenizer: Arc<tokenizers::Tokenizer>,
    /// The tokenizer as JSON, as written to (or read from) `tokenizer.json`.
    json: Arc<str>,
}

impl fmt::Debug for Subwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subwords")
            .field("pieces", &self.tokenizer.get_vocab_size(true))
            .finish_non_exhaustive()
    }
}

impl PartialEq for Subwords {
    /// Two tokenizers are the same when their files are.
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json
    }
}

impl Subwords {
    /// A tokenizer made in memory (learned, for instance); `path` names it in errors.
    ///
    /// # Errors
    ///
    /// [`InferenceError::Run`] if it has no decoder (pieces could not become text again) or
    /// does not serialise.
    pub fn new(path: &Path, tokenizer: tokenizers::Tokenizer) -> Result<Self> {
        let json = tokenizer
            .to_string(true)
            .map_err(|e| InferenceError::run(path, format!("cannot write the tokenizer: {e}")))?;
        Self::checked(path, tokenizer, json)
    }

    /// Reads a `tokenizer.json`'s bytes; errors name `path` (nothing is read from it).
    ///
    /// # Errors
    ///
    /// [`InferenceError::Run`] if the bytes are not a tokenizer, or one without a decoder.
    pub fn from_json(path: &Path, bytes: &[u8]) -> Result<Self> {
        let json = std::str::from_utf8(bytes)
            .map_err(|e| InferenceError::run(path, format!("not UTF-8 text: {e}")))?;
        let tokenizer = tokenizers::Tokenizer::from_bytes(bytes).map_err(|e| {
            InferenceError::run(path, format!("not a tokenizer (tokenizers' JSON): {e}"))
        })?;
        Self::checked(path, tokenizer, json.to_string())
    }

    fn checked(path: &Path, tokenizer: tokenizers::Tokenizer, json: String) -> Result<Self> {
        if tokenizer.get_decoder().is_none() {
            return Err(InferenceError::run(
                path,
                "the tokenizer has no decoder, so its pieces cannot be turned back into text",
            ));
        }
        Ok(Self {
            tokenizer: Arc::new(tokenizer),
            json: json.into(),
        })
    }

    /// The tokenizer as the JSON of a run's `tokenizer.json`.
    pub fn to_json(&self) -> Vec<u8> {
        self.json.as_bytes().to_vec()
    }

    /// How many pieces the tokenizer knows (its special tokens included).
    pub fn len(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// Whether the tokenizer knows no piece.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pieces of `text`, after the tokenizer's own normalisation (lower-casing, for
    /// instance). A character the tokenizer never saw becomes `<unk>`.
    pub fn pieces(&self, text: &str) -> Vec<String> {
        match self.tokenizer.encode(text, false) {
            Ok(encoding) => encoding.get_tokens().to_vec(),
            // Encoding fails only on a model error (an unknown piece with no `<unk>` to stand
            // for it): read the whole text as unknown rather than as nothing.
            Err(_) => vec!["<unk>".to_string()],
        }
    }

    /// The text of `pieces`: the inverse of [`Subwords::pieces`] up to normalisation.
    pub fn text(&self, pieces: &[String]) -> String {
        let decoder: Option<&DecoderWrapper> = self.tokenizer.get_decoder();
        decoder
            .and_then(|d| d.decode(pieces.to_vec()).ok())
            .unwrap_or_else(|| pieces.concat())
    }
}
