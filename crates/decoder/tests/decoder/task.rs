//! Reverse a sequence of 1–5 symbols: the smallest task that needs attention to move.

use burn::prelude::*;
use burn::tensor::TensorData;

pub(crate) const PAD: usize = 0;
pub(crate) const BOS: usize = 1;
pub(crate) const EOS: usize = 2;
/// Special tokens plus six symbols.
pub(crate) const VOCAB: usize = 9;
pub(crate) const MAX_LEN: usize = 5;

/// A deterministic generator (PCG-style LCG), so every run sees the same data.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A padded batch of examples.
pub(crate) struct Batch {
    pub(crate) sources: Vec<Vec<usize>>,
    pub(crate) source: Tensor<2, Int>,
    pub(crate) lengths: Vec<usize>,
    /// BOS + reversed source, padded.
    pub(crate) target_inputs: Tensor<2, Int>,
    /// Reversed source + EOS, padded with PAD.
    pub(crate) target_outputs: Tensor<2, Int>,
}

pub(crate) fn ints(rows: &[Vec<usize>], width: usize, device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i64> = rows
        .iter()
        .flat_map(|r| (0..width).map(move |j| r.get(j).map_or(PAD as i64, |&t| t as i64)))
        .collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}

pub(crate) fn batch_of(sources: Vec<Vec<usize>>, device: &Device) -> Batch {
    let lengths: Vec<usize> = sources.iter().map(Vec::len).collect();
    let width = lengths.iter().copied().max().unwrap_or(1);
    let reversed: Vec<Vec<usize>> = sources
        .iter()
        .map(|s| s.iter().rev().copied().collect())
        .collect();
    let inputs: Vec<Vec<usize>> = reversed.iter().map(|r| [&[BOS][..], r].concat()).collect();
    let outputs: Vec<Vec<usize>> = reversed.iter().map(|r| [&r[..], &[EOS]].concat()).collect();
    Batch {
        source: ints(&sources, width, device),
        lengths,
        target_inputs: ints(&inputs, width + 1, device),
        target_outputs: ints(&outputs, width + 1, device),
        sources,
    }
}

pub(crate) fn random_batch(rng: &mut Rng, n: usize, device: &Device) -> Batch {
    let sources = (0..n)
        .map(|_| {
            let len = 1 + rng.below(MAX_LEN);
            (0..len).map(|_| 3 + rng.below(VOCAB - 3)).collect()
        })
        .collect();
    batch_of(sources, device)
}
