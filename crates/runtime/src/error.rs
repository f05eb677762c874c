//! The one error type of this crate: a file that could not be read, or [`inference`]'s errors.

use std::path::PathBuf;

use decoder::DecoderError;
use inference::InferenceError;

/// What can go wrong loading a run from disk or decoding with it.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A run's configuration, vocabularies or model are wrong, an option is out of range, or
    /// the model cannot be run.
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

/// The model's errors, through [`InferenceError::Model`].
impl From<DecoderError> for RuntimeError {
    fn from(error: DecoderError) -> Self {
        Self::Inference(error.into())
    }
}

impl RuntimeError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// This crate's result type.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
