//! The Python package `seq2seq_attention`'s native module, `seq2seq_attention._native`: trained
//! runs loaded with [`runtime::Loaded`] and decoded on every core with the GIL released.
//!
//! - [`model::Model`]: `model(text)`, `model.predict(texts, beam=…, nbest=…)`,
//!   `model.attention(text)`.
//! - [`load`]: a run directory, or several as an ensemble.
//! - [`shipped_g2p`]: the shipped CMUdict G2P models (without and with stress), compiled into
//!   the module.
//! - [`errors`]: each error as the Python exception it is, with the message the CLI prints.
//!
//! Sits on `runtime` and `inference`, never on `trainer`. The pure-Python layer
//! (`python/seq2seq_attention/__init__.py`) adds `G2p` and path handling.
#![warn(missing_docs)]

mod errors;
mod model;
mod shipped;

use std::path::PathBuf;

use pyo3::prelude::*;
use runtime::{Loaded, read_lexicons};

use crate::errors::to_py;
use crate::model::{Attention, Model};

/// Loads the runs in `paths` (run directories; several decode as one ensemble on their mean
/// log-probabilities) onto the CPU; inputs of more than `max_input_tokens` tokens are refused
/// (default: 4 × the longest training source).
///
/// Raises FileNotFoundError for a missing directory or file, ValueError for a malformed or
/// mismatched run, each with the message `seq2seq` prints.
#[pyfunction]
#[pyo3(signature = (paths, max_input_tokens = None, lexicons = Vec::new()))]
fn load(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    max_input_tokens: Option<usize>,
    lexicons: Vec<PathBuf>,
) -> PyResult<Model> {
    let loaded = py
        .detach(|| Loaded::load_all(&paths, None))
        .map_err(to_py)?;
    configured(py, loaded, max_input_tokens, &lexicons)
}

/// `loaded` with its input limit and lexicons set, as a Python model.
fn configured(
    py: Python<'_>,
    mut loaded: Loaded,
    max_input_tokens: Option<usize>,
    lexicons: &[PathBuf],
) -> PyResult<Model> {
    if let Some(limit) = max_input_tokens {
        loaded.set_input_limit(limit).map_err(to_py)?;
    }
    let lexicon = py.detach(|| read_lexicons(lexicons)).map_err(to_py)?;
    if lexicon.is_some() {
        loaded.set_lexicon(lexicon).map_err(to_py)?;
    }
    Ok(Model::new(loaded))
}

/// A shipped CMUdict G2P model (`models/g2p-cmudict`, or with `stress`
/// `models/g2p-cmudict-stress`), built from the copy compiled into this module (no file is
/// read), with `lexicons` (CMUdict-format files) looked up first.
#[pyfunction]
#[pyo3(signature = (lexicons = Vec::new(), stress = false))]
fn shipped_g2p(py: Python<'_>, lexicons: Vec<PathBuf>, stress: bool) -> PyResult<Model> {
    let loaded = py.detach(|| shipped::g2p(stress)).map_err(to_py)?;
    configured(py, loaded, None, &lexicons)
}

/// The native module: [`Model`], [`Attention`], [`load`], [`shipped_g2p`].
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Model>()?;
    module.add_class::<Attention>()?;
    module.add_function(wrap_pyfunction!(load, module)?)?;
    module.add_function(wrap_pyfunction!(shipped_g2p, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
