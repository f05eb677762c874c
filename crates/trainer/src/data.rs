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
    /// SHA-256 of each data file read, for the run manifest: `(path, hex)`.
    pub checksums: Vec<(String, String)>,
}
