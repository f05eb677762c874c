//! One file per command: its arguments (`…Args`) and `run`.

pub mod average;
pub mod bench;
pub mod compare;
pub mod curve;
pub mod data;
pub mod eval;
pub mod pack;
pub mod plot;
pub mod predict;
pub mod serve;
pub mod train;
pub mod web;

use std::path::PathBuf;

/// `LABEL=DIR` as its label and directory; a plain `DIR` is its own label.
pub(crate) fn labelled(run: &str) -> (String, PathBuf) {
    match run.split_once('=') {
        Some((label, dir)) => (label.to_string(), PathBuf::from(dir)),
        None => (run.to_string(), PathBuf::from(run)),
    }
}
