//! The one error type of this crate: every message names the file, field or value at fault.

use std::path::PathBuf;

use decoder::DecoderError;

/// What can go wrong reading a run's files (given as bytes) or decoding with it.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    /// A name in a config or an option is not one of the known ones.
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
        /// The option: a configuration field as `section.field` (e.g. `decoding.beam`) or an
        /// argument's name.
        name: String,
        /// Its value, as written.
        value: String,
        /// What it must be.
        why: String,
    },
    /// A run's file is malformed or does not match the rest of the run.
    #[error("{}: {message}", path.display())]
    Run {
        /// The file, as the caller named it (a path, or a name such as `model.bpk`).
        path: PathBuf,
        /// What is wrong.
        message: String,
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
    /// One input of several cannot be predicted.
    #[error("{label}: {source}")]
    Input {
        /// Which input: `input 2`, `line 7`.
        label: String,
        /// Why.
        source: crate::InputError,
    },
    /// The model could not be built or run.
    #[error(transparent)]
    Model(#[from] DecoderError),
}

impl InferenceError {
    /// A run-file error on `path`.
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
pub type Result<T, E = InferenceError> = std::result::Result<T, E>;
