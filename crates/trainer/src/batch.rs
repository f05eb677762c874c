//! Turning examples into padded, length-bucketed batches of tensors.

use burn::prelude::*;
use inference::padded;

use crate::tasks::dates::SplitMix;
use inference::Vocab;

/// An example as token ids (no BOS/EOS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPair {
    /// Source ids.
    pub source: Vec<usize>,
    /// Target ids.
    pub target: Vec<usize>,
}

impl EncodedPair {
    /// `source` and `target` tokens as vocabulary ids.
    pub fn encode(
        source_vocab: &inference::Vocab,
        target_vocab: &inference::Vocab,
        source: &[String],
        target: &[String],
    ) -> Self {
        Self {
            source: source_vocab.encode(source),
            target: target_vocab.encode(target),
        }
    }
}

/// A padded batch, ready for the model.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[batch, src_len]`, padded with `<pad>`.
    pub source: Tensor<2, Int>,
    /// Each row's true source length.
    pub source_lengths: Vec<usize>,
    /// `[batch, tgt_len + 1]`: `<bos>` then the target, padded.
    pub target_inputs: Tensor<2, Int>,
    /// `[batch, tgt_len + 1]`: the target then `<eos>`, padded with `<pad>` (ignored by the loss).
    pub target_outputs: Tensor<2, Int>,
    /// Number of real target tokens (EOS included): what tokens/s counts.
    pub target_tokens: usize,
}

/// Real target tokens of `pairs` (each target and its `<eos>`): what the loss averages over.
pub fn target_tokens(pairs: &[&EncodedPair]) -> usize {
    pairs.iter().map(|p| p.target.len() + 1).sum()
}

/// The batch of `pairs`.
pub fn make_batch(pairs: &[&EncodedPair], device: &Device) -> Batch {
    let sources: Vec<Vec<usize>> = pairs.iter().map(|p| p.source.clone()).collect();
    let inputs: Vec<Vec<usize>> = pairs
        .iter()
        .map(|p| {
            std::iter::once(Vocab::BOS_ID)
                .chain(p.target.iter().copied())
                .collect()
        })
        .collect();
    let outputs: Vec<Vec<usize>> = pairs
        .iter()
        .map(|p| {
            p.target
                .iter()
                .copied()
                .chain(std::iter::once(Vocab::EOS_ID))
                .collect()
        })
        .collect();
    Batch {
        source_lengths: sources.iter().map(Vec::len).collect(),
        source: padded(&sources, device),
        target_inputs: padded(&inputs, device),
        target_tokens: target_tokens(pairs),
        target_outputs: padded(&outputs, device),
    }
}

/// Length-bucketed batches of indices into `pairs`: the examples are shuffled, cut into pools
/// of 50 batches, each pool sorted by length (so a batch holds similar lengths and little
/// padding) and cut into batches, and the batches shuffled. The same `seed` gives the same
/// batches.
pub fn bucketed_batches(pairs: &[EncodedPair], batch_size: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = SplitMix::new(seed);
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    rng.shuffle(&mut order);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for pool in order.chunks(batch_size * 50) {
        let mut pool = pool.to_vec();
        pool.sort_by_key(|&i| (pairs[i].source.len(), pairs[i].target.len()));
        batches.extend(pool.chunks(batch_size).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_every_example_once_and_repeat_with_the_seed() {
        let pairs: Vec<EncodedPair> = (0..1000)
            .map(|i| EncodedPair {
                source: vec![4; 1 + i % 17],
                target: vec![5; 1 + i % 5],
            })
            .collect();
        let batches = bucketed_batches(&pairs, 32, 9);
        let mut seen: Vec<usize> = batches.concat();
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        assert_eq!(batches, bucketed_batches(&pairs, 32, 9));
        assert_ne!(batches, bucketed_batches(&pairs, 32, 10));
        // Bucketing: within a batch, source lengths differ by little.
        let spread: usize = batches
            .iter()
            .map(|b| {
                let lens: Vec<usize> = b.iter().map(|&i| pairs[i].source.len()).collect();
                lens.iter().max().unwrap() - lens.iter().min().unwrap()
            })
            .max()
            .unwrap();
        assert!(spread <= 2, "largest length spread in a batch: {spread}");
    }

    #[test]
    fn batch_tensors_are_shifted_and_padded() {
        let device = Device::flex();
        let a = EncodedPair {
            source: vec![7, 8, 9],
            target: vec![10, 11],
        };
        let b = EncodedPair {
            source: vec![7],
            target: vec![12],
        };
        let batch = make_batch(&[&a, &b], &device);
        let ints = |t: Tensor<2, Int>| t.into_data().try_into_vec_as::<i64>().unwrap();
        assert_eq!(batch.source_lengths, vec![3, 1]);
        assert_eq!(ints(batch.source), vec![7, 8, 9, 7, 0, 0]);
        assert_eq!(ints(batch.target_inputs), vec![1, 10, 11, 1, 12, 0]);
        assert_eq!(ints(batch.target_outputs), vec![10, 11, 2, 12, 2, 0]);
        assert_eq!(batch.target_tokens, 5);
    }
}
