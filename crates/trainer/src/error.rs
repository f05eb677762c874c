//! The one error type of this crate: every message names the file, line or value at fault.

use std::path::PathBuf;

use decoder::DecoderError;

/// What can go wrong in data handling, training, evaluation, plotting or downloading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainerError {
    /// A file could not be read, written or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A line of a data file is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, quoting the value.
        message: String,
    },
    /// A data file holds no examples.
    #[error("{}: no examples in the file", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Source and target files of a parallel corpus differ in length.
    #[error(
        "{} has {source_lines} lines but {} has {target_lines}; parallel files must match line for line",
        source_path.display(),
        target_path.display()
    )]
    LineCountMismatch {
        /// The source-language file.
        source_path: PathBuf,
        /// Its line count.
        source_lines: usize,
        /// The target-language file.
        target_path: PathBuf,
        /// Its line count.
        target_lines: usize,
    },
    /// A name given on the command line or in a config is not one of the known ones.
    #[error("unknown {what} {value:?}; expected one of: {expected}")]
    UnknownName {
        /// What kind of name (task, score, device, …).
        what: &'static str,
        /// The name given.
        value: String,
        /// The accepted names, comma-separated.
        expected: String,
    },
    /// A backend was asked for that this build does not include.
    #[error("device {name:?} is not compiled into this build; rebuild with `--features {name}`")]
    BackendNotCompiled {
        /// The backend's name, also its cargo feature.
        name: &'static str,
    },
    /// An option's value is out of range.
    #[error("{name} = {value} is invalid: {why}")]
    InvalidOption {
        /// The option: a configuration field as `section.field` (e.g.
        /// `training.learning_rate`) or an argument's name.
        name: String,
        /// Its value, as written.
        value: String,
        /// What it must be.
        why: String,
    },
    /// A run directory's file is missing, malformed or does not match the rest of the run.
    #[error("{}: {message}", path.display())]
    Run {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A new run was asked for in a directory that already holds one.
    #[error("{} already holds a run", path.display())]
    RunExists {
        /// The run directory.
        path: PathBuf,
    },
    /// A run written by a newer version of this program.
    #[error(
        "{}: format version {found} is newer than this build reads ({supported}); update the program",
        path.display()
    )]
    NewerVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The newest version this build reads.
        supported: u32,
    },
    /// A download failed.
    #[error("downloading {url}: {message}")]
    Download {
        /// The address.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A file's SHA-256 is not the published one.
    #[error("{name}: SHA-256 is {actual}, expected {expected}; the file was not kept")]
    Checksum {
        /// The file's name.
        name: String,
        /// What it hashed to.
        actual: String,
        /// The published checksum.
        expected: String,
    },
    /// The loss became NaN or infinite.
    #[error(
        "training diverged: loss {loss} at epoch {epoch}, step {step}; the last good checkpoint is kept{}",
        checkpoint.as_ref().map(|p| format!(" at {}", p.display())).unwrap_or_default()
    )]
    Diverged {
        /// The loss value.
        loss: f32,
        /// The epoch.
        epoch: usize,
        /// The step within the run.
        step: usize,
        /// The last good checkpoint, if one was written.
        checkpoint: Option<PathBuf>,
    },
    /// The model could not be built or run.
    #[error(transparent)]
    Model(#[from] DecoderError),
    /// A picture could not be drawn.
    #[error("drawing {}: {message}", path.display())]
    Plot {
        /// The picture's file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl TrainerError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A run-directory error on `path`.
    pub fn run(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Run {
            path: path.into(),
            message: message.into(),
        }
    }

    /// An invalid option.
    pub fn invalid(name: impl Into<String>, value: impl ToString, why: impl Into<String>) -> Self {
        Self::InvalidOption {
            name: name.into(),
            value: value.to_string(),
            why: why.into(),
        }
    }
}

/// This crate's result type.
pub type Result<T, E = TrainerError> = std::result::Result<T, E>;
