//! The tasks: where each one's data comes from.

pub mod cmudict;
pub mod dates;
pub mod parallel;

use std::path::{Path, PathBuf};

use crate::config::{TaskConfig, TaskKind};
use crate::data::TaskData;
use crate::tokenize::Tokenizer;
use crate::{Result, TrainerError};

/// The tokenizers of a task: `(source, target)`.
pub fn tokenizers(task: &TaskConfig) -> (Tokenizer, Tokenizer) {
    match task.kind {
        TaskKind::Dates => (Tokenizer::Chars, Tokenizer::Chars),
        TaskKind::G2p => (Tokenizer::Chars, Tokenizer::Whitespace),
        TaskKind::Translate => {
            let words = Tokenizer::Words {
                lowercase: task.lowercase,
            };
            (words, words)
        }
    }
}

/// How a task's raw input text is prepared before tokenising (G2P reads words lower-cased).
pub fn normalise_source(task: &TaskConfig, text: &str) -> String {
    match task.kind {
        TaskKind::G2p => text.trim().to_lowercase(),
        _ => text.trim().to_string(),
    }
}

/// The g2p test file: `--test-data`, or the training file with extension `.test`.
pub fn g2p_test_path(task: &TaskConfig) -> Option<PathBuf> {
    task.test_data
        .clone()
        .or_else(|| task.data.as_ref().map(|d| d.with_extension("test")))
}

fn data_path(task: &TaskConfig) -> Result<&Path> {
    task.data.as_deref().ok_or_else(|| {
        TrainerError::invalid(
            "--data",
            "(none)",
            format!("the {} task needs a data path", task.kind.name()),
        )
    })
}

/// Reads or generates the data of `task` (`seed` drives the `dates` generator).
///
/// # Errors
///
/// The reading errors of the task's files, naming file and line.
pub fn load(task: &TaskConfig, seed: u64) -> Result<TaskData> {
    match task.kind {
        TaskKind::Dates => {
            let (train, valid, test) = task.dates_sizes;
            Ok(dates::generate(
                seed,
                dates::DatesSizes { train, valid, test },
            ))
        }
        TaskKind::G2p => {
            let train_path = data_path(task)?;
            let test_path = g2p_test_path(task).expect("data is set");
            let (train, dev) = cmudict::Dictionary::read(train_path)?.carve(task.dev_every.max(2));
            let test = cmudict::Dictionary::read(&test_path)?;
            Ok(TaskData {
                train: train.pairs(),
                valid: dev.items(),
                test: test.items(),
                checksums: vec![
                    (train_path.display().to_string(), train.sha256.clone()),
                    (test_path.display().to_string(), test.sha256.clone()),
                ],
            })
        }
        TaskKind::Translate => {
            let dir = data_path(task)?;
            let (src, tgt) = task.languages.clone().unwrap_or(("de".into(), "en".into()));
            let (train, valid, test) = &task.split_names;
            let (tokenizer, _) = tokenizers(task);
            let split = |stem: &str| -> Result<parallel::Parallel> {
                parallel::Parallel::read(&find(dir, stem, &src)?, &find(dir, stem, &tgt)?)
            };
            let (train, valid, test) = (split(train)?, split(valid)?, split(test)?);
            Ok(TaskData {
                train: train.pairs(tokenizer),
                valid: valid.items(tokenizer, task.lowercase),
                test: test.items(tokenizer, task.lowercase),
                checksums: [train.checksums, valid.checksums, test.checksums].concat(),
            })
        }
    }
}

/// `DIR/STEM.LANG`, or `DIR/STEM.LANG.gz` when only that exists.
fn find(dir: &Path, stem: &str, lang: &str) -> Result<PathBuf> {
    let plain = dir.join(format!("{stem}.{lang}"));
    let gz = dir.join(format!("{stem}.{lang}.gz"));
    if plain.exists() {
        Ok(plain)
    } else if gz.exists() {
        Ok(gz)
    } else {
        Err(TrainerError::io(
            plain,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file (nor with .gz)"),
        ))
    }
}
