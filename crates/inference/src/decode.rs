//! Decoding many sources: batched by length, greedy or beam search, in turn on this thread.

use burn::prelude::*;
use decoder::{BeamOptions, Ensemble, Hypothesis, MaxLength, SearchOptions};

use crate::Result;
use crate::config::DecodingOptions;
use crate::vocab::Vocab;

/// Tensor rows of a decoding batch: 80 sentences greedy, 16 at beam 5. A batch steps until its
/// last sentence ends, and rows of ended sentences (and retired hypotheses) are computed all the
/// same, so small batches waste less time and memory; 80 was the fastest of the sizes measured on
/// the shipped G2P model
/// (`docs/performance.md#g2p-decoding-and-the-commands-users-run`).
const DECODE_ROWS: usize = 80;

/// Sentences per decoding batch at beam width `beam` (at least one).
fn sentences_per_batch(beam: usize) -> usize {
    (DECODE_ROWS / beam.max(1)).max(1)
}

/// The decoding batches of `sources`: their indices sorted by length (stably) and cut into
/// batches of 80 tensor rows (80 sentences greedy, 16 at beam 5). Every batch but the last is
/// full, so the concatenation of any of these batches, in order, is cut into the same batches
/// again: callers that share batches among threads get the outputs of one thread.
pub fn length_batches(sources: &[Vec<usize>], beam: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..sources.len()).collect();
    order.sort_by_key(|&i| sources[i].len());
    order
        .chunks(sentences_per_batch(beam))
        .map(<[usize]>::to_vec)
        .collect()
}

/// The `n_best` best hypotheses of every source (token ids), best first, in input order:
/// greedy search when `options.beam` is 1 (its one hypothesis), else beam search; an ensemble
/// of several models decodes on their mean log-probabilities. Sources are decoded in the
/// batches of [`length_batches`], each batch alone.
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
) -> Result<Vec<Vec<Hypothesis>>> {
    let search = SearchOptions {
        bos: Vocab::BOS_ID,
        eos: Vocab::EOS_ID,
        max_length: MaxLength {
            ratio: options.max_length_ratio,
            extra: options.max_length_extra,
        },
    };
    let beam = BeamOptions {
        width: options.beam,
        length_penalty: options.length_penalty,
        n_best,
    };
    beam.validate()?;
    let mut decoded = Vec::with_capacity(sources.len());
    for batch in length_batches(sources, options.beam) {
        // An empty source still needs one column; its length 0 masks it out entirely.
        let rows: Vec<Vec<usize>> = batch.iter().map(|&i| sources[i].clone()).collect();
        let lengths: Vec<usize> = rows.iter().map(Vec::len).collect();
        let tensor = padded(&rows, device);
        let hyps: Vec<Vec<Hypothesis>> = if options.beam <= 1 {
            let hyps = models.greedy(tensor, &lengths, &search)?;
            hyps.into_iter().map(|h| vec![h]).collect()
        } else {
            models.beam(tensor, &lengths, &search, &beam)?
        };
        decoded.extend(batch.into_iter().zip(hyps));
    }
    Ok(in_input_order(sources.len(), decoded))
}

/// The `n` items of `indexed` (each with its index in the input, every index once) in input
/// order: the outputs of sources decoded in another order.
///
/// # Panics
///
/// If an index in `0..n` is missing.
pub fn in_input_order<T>(n: usize, indexed: impl IntoIterator<Item = (usize, T)>) -> Vec<T> {
    let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(n).collect();
    for (i, item) in indexed {
        out[i] = Some(item);
    }
    out.into_iter()
        .map(|item| item.expect("every index once"))
        .collect()
}

/// A `[rows, width]` id tensor, rows right-padded with `<pad>`.
pub fn padded(rows: &[Vec<usize>], device: &Device) -> Tensor<2, Int> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let flat: Vec<i64> = rows
        .iter()
        .flat_map(|r| (0..width).map(move |j| r.get(j).map_or(Vocab::PAD_ID, |&t| t) as i64))
        .collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}
