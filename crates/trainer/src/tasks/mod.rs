//! The tasks: where each one's data comes from.

pub mod cmudict;
pub mod dates;
pub mod parallel;
pub mod subwords;

use std::path::{Path, PathBuf};

use crate::data::{EvalItem, FileChecksum, TaskData};
use crate::{Result, TrainerError};
use inference::{Subwords, TaskConfig, TaskKind};

pub use inference::{normalise_source, tokenizers};

/// The g2p test file: `test_data`, or the training file with extension `.test`.
pub fn g2p_test_path(task: &TaskConfig) -> Option<PathBuf> {
    task.test_data
        .clone()
        .or_else(|| task.data.as_ref().map(|d| d.with_extension("test")))
}

fn data_path(task: &TaskConfig) -> Result<&Path> {
    task.data.as_deref().ok_or_else(|| {
        TrainerError::invalid(
            "task.data",
            "(none)",
            format!("the {} task needs a data path", task.kind.name()),
        )
    })
}

/// Learns the subword vocabulary `task.vocabulary` asks for from both sides of its training
/// split (`None` when it asks for words, or for a task other than `translate`).
///
/// # Errors
///
/// The reading errors of the training files; a vocabulary that cannot be learned.
pub fn learn_subwords(task: &TaskConfig) -> Result<Option<Subwords>> {
    if task.kind != TaskKind::Translate || task.vocabulary.subwords().is_none() {
        return Ok(None);
    }
    let dir = data_path(task)?;
    let train = read_parallel(task, dir, &task.split_names.train)?;
    let texts: Vec<&str> = train
        .lines
        .iter()
        .flat_map(|(s, t)| [s.as_str(), t.as_str()])
        .collect();
    subwords::learn(task.vocabulary, task.lowercase, &texts, dir)
}

/// Reads or generates the data of `task` (`seed` drives the `dates` generator), translation
/// text cut by `subwords` when the run has them.
///
/// # Errors
///
/// The reading errors of the task's files, naming file and line.
pub fn load(task: &TaskConfig, seed: u64, subwords: Option<&Subwords>) -> Result<TaskData> {
    match task.kind {
        TaskKind::Dates => Ok(dates::generate(seed, task.dates_sizes)),
        TaskKind::G2p => {
            let train_path = data_path(task)?;
            let test_path = g2p_test_path(task).expect("data is set");
            let (train, dev) = read_dictionary(task, train_path)?.carve(task.dev_every.max(2));
            let test = read_dictionary(task, &test_path)?;
            Ok(TaskData {
                train: train.pairs(),
                valid: dev.items(),
                test: test.items(),
                checksums: vec![
                    FileChecksum::new(train_path, train.sha256.clone()),
                    FileChecksum::new(&test_path, test.sha256.clone()),
                ],
            })
        }
        TaskKind::Translate => {
            let dir = data_path(task)?;
            let names = &task.split_names;
            let (tokenizer, _) = tokenizers(task, subwords);
            let split = |stem: &str| read_parallel(task, dir, stem);
            let (train, valid, test) = (
                split(&names.train)?,
                split(&names.valid)?,
                split(&names.test)?,
            );
            Ok(TaskData {
                train: train.pairs(&tokenizer),
                valid: valid.items(&tokenizer, task.lowercase),
                test: test.items(&tokenizer, task.lowercase),
                checksums: [train.checksums, valid.checksums, test.checksums].concat(),
            })
        }
    }
}

/// Evaluation items from a file of the user's own in the task's format: for `g2p` a
/// CMUdict-format dictionary (every pronunciation of a word is a reference); for `translate`
/// the parallel files `PATH.SRC` and `PATH.TGT` (or `.gz`), `PATH` being their common stem such
/// as `data/test_2017_flickr`; for `dates` lines `INPUT<TAB>OUTPUT`.
///
/// # Errors
///
/// The task's reading errors, naming file and line; [`TrainerError::Empty`] for a file with
/// no item.
pub fn read_items(
    task: &TaskConfig,
    path: &Path,
    subwords: Option<&Subwords>,
) -> Result<Vec<EvalItem>> {
    match task.kind {
        TaskKind::G2p => Ok(read_dictionary(task, path)?.items()),
        TaskKind::Translate => {
            let dir = path.parent().unwrap_or(Path::new(""));
            let stem = path
                .file_name()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default();
            let (tokenizer, _) = tokenizers(task, subwords);
            Ok(read_parallel(task, dir, &stem)?.items(&tokenizer, task.lowercase))
        }
        TaskKind::Dates => dates::read_items(path),
    }
}

/// A g2p dictionary as the task reads it: stress digits kept only when it asks for them.
///
/// # Errors
///
/// The reading errors of [`cmudict::Dictionary::read`].
pub fn read_dictionary(task: &TaskConfig, path: &Path) -> Result<cmudict::Dictionary> {
    let dictionary = cmudict::Dictionary::read(path)?;
    Ok(if task.stress {
        dictionary
    } else {
        dictionary.without_stress()
    })
}

/// The parallel files `DIR/STEM.SRC` and `DIR/STEM.TGT` (each plain or `.gz`) of the task's
/// languages.
fn read_parallel(task: &TaskConfig, dir: &Path, stem: &str) -> Result<parallel::Parallel> {
    let languages = task.languages.as_ref().ok_or_else(|| {
        TrainerError::invalid(
            "task.languages",
            "(none)",
            "the translate task needs its source and target languages, e.g. de,en",
        )
    })?;
    parallel::Parallel::read(
        &find(dir, stem, &languages.source)?,
        &find(dir, stem, &languages.target)?,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_own_file_is_read_in_each_task_s_format() {
        let dir = tempfile::tempdir().unwrap();
        let mut task = TaskConfig::new(TaskKind::Translate);
        task.languages = Some("de,en".parse().unwrap());
        std::fs::write(dir.path().join("mine.de"), "Ein Hund .\nZwei Katzen .\n").unwrap();
        std::fs::write(dir.path().join("mine.en"), "A dog .\nTwo cats .\n").unwrap();
        let items = read_items(&task, &dir.path().join("mine"), None).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].source_text, "Zwei Katzen .");
        assert_eq!(
            items[1].reference_texts,
            ["two cats ."],
            "lower-cased as in training"
        );
        let missing = read_items(&task, &dir.path().join("other"), None).unwrap_err();
        assert!(missing.to_string().contains("other.de"), "{missing}");

        let g2p = TaskConfig::new(TaskKind::G2p);
        let lexicon = dir.path().join("mine.dict");
        std::fs::write(
            &lexicon,
            "READ\tR IY D\nREAD(2)\tR EH D\nable\t-0.5\tEY B AH L\n",
        )
        .unwrap();
        let items = read_items(&g2p, &lexicon, None).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].references.len(), 2);
        assert_eq!(items[1].reference_texts, ["EY B AH L"]);

        let dates = TaskConfig::new(TaskKind::Dates);
        let tsv = dir.path().join("mine.tsv");
        std::fs::write(&tsv, "3/3/98\t1998-03-03\n").unwrap();
        assert_eq!(read_items(&dates, &tsv, None).unwrap()[0].source.len(), 6);
    }
}
