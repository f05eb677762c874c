//! The one error type of this crate: every message names the file, line or value at fault.

use std::path::PathBuf;

use decoder::DecoderError;
use inference::InferenceError;

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
    /// A new run was asked for in a directory that already holds one.
    #[error("{} already holds a run", path.display())]
    RunExists {
        /// The run directory.
        path: PathBuf,
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
    /// A run's configuration, vocabularies or model are wrong, an option is out of range, or
    /// the model cannot be built or run: the errors shared with [`inference`].
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// A picture could not be drawn.
    #[error("drawing {}: {message}", path.display())]
    Plot {
        /// The picture's file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A run loaded from disk: its file errors as [`TrainerError::Io`], the rest as they are.
impl From<runtime::RuntimeError> for TrainerError {
    fn from(error: runtime::RuntimeError) -> Self {
        match error {
            runtime::RuntimeError::Io { path, source } => Self::Io { path, source },
            runtime::RuntimeError::Inference(e) => Self::Inference(e),
        }
    }
}

/// The model's errors, through [`InferenceError::Model`].
impl From<DecoderError> for TrainerError {
    fn from(error: DecoderError) -> Self {
        Self::Inference(error.into())
    }
}

impl TrainerError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A run-directory error on `path` ([`InferenceError::Run`]).
    pub fn run(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        InferenceError::run(path, message).into()
    }

    /// An invalid option ([`InferenceError::InvalidOption`]).
    pub fn invalid(name: impl Into<String>, value: impl ToString, why: impl Into<String>) -> Self {
        InferenceError::invalid(name, value, why).into()
    }

    /// An unknown name ([`InferenceError::UnknownName`]).
    pub fn unknown_name(
        what: &'static str,
        value: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        InferenceError::UnknownName {
            what,
            value: value.into(),
            expected: expected.into(),
        }
        .into()
    }
}

/// This crate's result type.
pub type Result<T, E = TrainerError> = std::result::Result<T, E>;
