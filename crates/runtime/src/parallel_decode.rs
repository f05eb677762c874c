//! Decoding many sources on several threads: length batches dealt out in turn.

use burn::prelude::*;
use decoder::{Ensemble, Hypothesis};
use inference::{DecodingOptions, in_input_order, length_batches};

use crate::Result;
use crate::shards::map_shards;

/// The cores this process may run on: its CPU affinity and its cgroup's CPU quota, as the
/// standard library reads them (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Decodes every source (token ids), greedy when `beam` is 1, else beam search (an ensemble on
/// its models' mean log-probabilities); returns the best hypothesis of each, in input order.
/// Sources are batched by length, and the batches shared among every core ([`decode_on`]): each
/// batch is decoded alone, so the result does not depend on the number of threads.
///
/// # Errors
///
/// The model's errors (e.g. bad beam options).
pub fn decode(
    models: &Ensemble,
    sources: &[Vec<usize>],
    options: &DecodingOptions,
    device: &Device,
) -> Result<Vec<Hypothesis>> {
    decode_on(models, sources, options, device, cores())
}

/// [`decode`] on `threads` threads (at least one).
///
/// # Errors
///
/// The model's errors (e.g. bad beam options).
pub fn decode_on(
    models: &Ensemble,
    sources: &[Vec<usize>],
    options: &DecodingOptions,
    device: &Device,
    threads: usize,
) -> Result<Vec<Hypothesis>> {
    Ok(decode_n_best(models, sources, options, 1, device, threads)?
        .into_iter()
        .map(|mut n_best| n_best.remove(0))
        .collect())
}

/// The `n_best` best hypotheses of every source, best first (`n_best ≤ beam`; greedy search
/// gives its one), decoded on `threads` threads: the batches of [`inference::length_batches`]
/// are dealt out in turn, so that short and long ones are spread evenly, and each thread
/// decodes its share with [`inference::decode_n_best`], which cuts it into the same batches.
///
/// # Errors
///
/// The model's errors (e.g. an `n_best` wider than the beam).
pub fn decode_n_best(
    models: &Ensemble,
    sources: &[Vec<usize>],
    options: &DecodingOptions,
    n_best: usize,
    device: &Device,
    threads: usize,
) -> Result<Vec<Vec<Hypothesis>>> {
    let batches = length_batches(sources, options.beam);
    let threads = threads.clamp(1, batches.len().max(1));
    let shares: Vec<Vec<usize>> = (0..threads)
        .map(|w| {
            batches
                .iter()
                .skip(w)
                .step_by(threads)
                .flatten()
                .copied()
                .collect()
        })
        .collect();
    let decoded = map_shards(shares, |share| {
        let rows: Vec<Vec<usize>> = share.iter().map(|&i| sources[i].clone()).collect();
        let hyps = inference::decode_n_best(models, &rows, options, n_best, device)?;
        Ok::<_, crate::RuntimeError>(share.into_iter().zip(hyps).collect::<Vec<_>>())
    })?;
    Ok(in_input_order(sources.len(), decoded.into_iter().flatten()))
}
