//! `translate`: parallel text files, one sentence per line, plain or gzip.

use std::path::Path;

use crate::data::{EvalItem, FileChecksum, Pair};
use crate::text_file::{TextFile, read_text_file};
use crate::{Result, TrainerError};
use inference::Tokenizer;

/// A parallel corpus read from two files.
#[derive(Debug, Clone)]
pub struct Parallel {
    /// `(source line, target line)`, both as read.
    pub lines: Vec<(String, String)>,
    /// `(path, sha256)` of both files.
    pub checksums: Vec<FileChecksum>,
}

impl Parallel {
    /// Reads a source and a target file that correspond line by line. Pairs where either side
    /// is blank are skipped.
    ///
    /// # Errors
    ///
    /// [`TrainerError::LineCountMismatch`] naming both files and counts; the reading errors of
    /// [`read_text_file`]; [`TrainerError::Empty`] if no pair remains.
    pub fn read(source: &Path, target: &Path) -> Result<Self> {
        Self::from_files(
            source,
            read_text_file(source)?,
            target,
            read_text_file(target)?,
        )
    }

    /// Pairs up two files already read (errors name `source` and `target`).
    ///
    /// # Errors
    ///
    /// As [`Parallel::read`], without the reading.
    pub fn from_files(source: &Path, src: TextFile, target: &Path, tgt: TextFile) -> Result<Self> {
        let count = |f: &TextFile| {
            f.lines.len() - usize::from(f.lines.last().is_some_and(String::is_empty))
        };
        if count(&src) != count(&tgt) {
            return Err(TrainerError::LineCountMismatch {
                source_path: source.to_path_buf(),
                source_lines: count(&src),
                target_path: target.to_path_buf(),
                target_lines: count(&tgt),
            });
        }
        let lines: Vec<(String, String)> = src
            .lines
            .into_iter()
            .zip(tgt.lines)
            .filter(|(s, t)| !s.trim().is_empty() && !t.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return Err(TrainerError::Empty {
                path: source.to_path_buf(),
            });
        }
        Ok(Self {
            lines,
            checksums: vec![
                FileChecksum::new(source, src.sha256),
                FileChecksum::new(target, tgt.sha256),
            ],
        })
    }

    /// Tokenised training pairs.
    pub fn pairs(&self, tokenizer: &Tokenizer) -> Vec<Pair> {
        self.lines
            .iter()
            .map(|(s, t)| Pair {
                source: tokenizer.tokenize(s),
                target: tokenizer.tokenize(t),
            })
            .collect()
    }

    /// Tokenised evaluation items (one reference each), references lower-cased if asked.
    pub fn items(&self, tokenizer: &Tokenizer, lowercase: bool) -> Vec<EvalItem> {
        self.lines
            .iter()
            .map(|(s, t)| {
                let reference = if lowercase {
                    t.to_lowercase()
                } else {
                    t.clone()
                };
                EvalItem {
                    source: tokenizer.tokenize(s),
                    source_text: s.clone(),
                    references: vec![tokenizer.tokenize(&reference)],
                    reference_texts: vec![reference],
                }
            })
            .collect()
    }
}
