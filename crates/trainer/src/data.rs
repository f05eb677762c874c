//! Examples and the splits a task provides.

use serde::{Deserialize, Serialize};

/// One training pair: source tokens and target tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pair {
    /// Source tokens.
    pub source: Vec<String>,
    /// Target tokens.
    pub target: Vec<String>,
}

/// One evaluation item: a source and every acceptable target (a word's pronunciations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalItem {
    /// Source tokens.
    pub source: Vec<String>,
    /// The source as text, for reports.
    pub source_text: String,
    /// Every acceptable target; the first is used for loss.
    pub references: Vec<Vec<String>>,
    /// The references as text (what BLEU and chrF score against).
    pub reference_texts: Vec<String>,
}

impl EvalItem {
    /// The pair of this item's source and its first reference.
    pub fn first_pair(&self) -> Pair {
        Pair {
            source: self.source.clone(),
            target: self.references[0].clone(),
        }
    }
}

/// A task's data: pairs to train on, and held-out items to validate and test on.
#[derive(Debug, Clone)]
pub struct TaskData {
    /// Training pairs.
    pub train: Vec<Pair>,
    /// Validation items (for early stopping; carved out of training data where the corpus has
    /// no validation split).
    pub valid: Vec<EvalItem>,
    /// Test items, never used for any decision during training.
    pub test: Vec<EvalItem>,
    /// SHA-256 of each data file read, for the run manifest.
    pub checksums: Vec<FileChecksum>,
}

/// A data file and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FileChecksumForm")]
pub struct FileChecksum {
    /// The file, as given.
    pub path: String,
    /// Its SHA-256, in hex.
    pub sha256: String,
}

impl FileChecksum {
    /// The checksum `sha256` of the file at `path`.
    pub fn new(path: &std::path::Path, sha256: impl Into<String>) -> Self {
        Self {
            path: path.display().to_string(),
            sha256: sha256.into(),
        }
    }
}

/// The forms [`FileChecksum`] is read from: named, or the `[path, sha256]` array of manifests
/// written before names.
#[derive(Deserialize)]
#[serde(untagged)]
enum FileChecksumForm {
    Named { path: String, sha256: String },
    Array(String, String),
}

impl From<FileChecksumForm> for FileChecksum {
    fn from(form: FileChecksumForm) -> Self {
        let (FileChecksumForm::Named { path, sha256 } | FileChecksumForm::Array(path, sha256)) =
            form;
        Self { path, sha256 }
    }
}
