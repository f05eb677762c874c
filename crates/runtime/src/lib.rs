//! Trained runs on this machine: what every native front end (`seq2seq`, the Python package, a
//! server) needs beyond [`inference`], which touches no file and no thread.
//!
//! - [`Loaded`]: a run directory read from disk ([`Loaded::load`]), or several as one ensemble
//!   ([`Loaded::load_all`]), predicting on every core ([`Loaded::predict_each`]).
//! - [`decode`], [`decode_n_best`]: many sources decoded with their length batches dealt out
//!   among threads ([`map_shards`]); the outputs do not depend on the number of threads.
//! - [`read_lexicons`]: pronunciation lexicons from disk, for a G2P run's dictionary-first
//!   lookup.
//! - [`RuntimeError`]: a file that cannot be read (naming it), or [`inference`]'s errors.
//!
//! Sits on `inference`: `fused-ops` ← `attention-core` ← `encoder`/`decoder` ← `inference` ←
//! `runtime` ← `trainer`, and the Python package.
#![warn(missing_docs)]

mod error;
mod lexicons;
mod loaded;
mod parallel_decode;
mod shards;

pub use error::{Result, RuntimeError};
pub use lexicons::read_lexicons;
pub use loaded::Loaded;
pub use parallel_decode::{cores, decode, decode_n_best, decode_on};
pub use shards::{map_shards, split};
