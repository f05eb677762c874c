//! Each error as the Python exception a Python user expects, with the message `seq2seq`
//! prints.

use inference::InferenceError;
use pyo3::PyErr;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};
use runtime::RuntimeError;

/// `error` as a Python exception: a missing file or directory is `FileNotFoundError`, another
/// I/O error `OSError`, a bad run, option or input `ValueError`, a failure of the model
/// itself `RuntimeError`.
pub fn to_py(error: impl Into<RuntimeError>) -> PyErr {
    let error = error.into();
    let message = error.to_string();
    match error {
        RuntimeError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(message)
        }
        RuntimeError::Io { .. } => PyOSError::new_err(message),
        RuntimeError::Inference(InferenceError::Model(_)) => PyRuntimeError::new_err(message),
        RuntimeError::Inference(_) => PyValueError::new_err(message),
    }
}
