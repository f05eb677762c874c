//! Greedy decoding: at every step take the most probable token.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use encoder::EncoderOutput;

use crate::decoder::index_tensor;
use crate::{Decoder, Hypothesis, SearchOptions};

/// Rows of a `[rows, cols]` tensor, copied to the host.
pub(crate) fn host_rows(t: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, cols] = t.dims();
    let flat = t
        .into_data()
        .try_into_vec::<f32>()
        .expect("float tensors read back as f32");
    flat.chunks(cols.max(1)).map(<[f32]>::to_vec).collect()
}

/// The index of the largest value (the first of equals).
pub(crate) fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 { (i, v) } else { best }
        })
        .0
}

/// Greedy decoding of a batch: one [`Hypothesis`] per sentence, each stopping at its own EOS
/// or length limit. Use the inference copy of the model (`model.valid()`).
pub fn greedy(
    decoder: &Decoder,
    encoded: &EncoderOutput,
    options: &SearchOptions,
) -> Vec<Hypothesis> {
    let device = encoded.states.device();
    let source = decoder.source(encoded);
    let mut state = decoder.initial_state(encoded);
    let batch = source.lengths.len();
    let limits: Vec<usize> = source
        .lengths
        .iter()
        .map(|&n| options.max_length.for_source(n))
        .collect();
    let mut hyps = vec![
        Hypothesis {
            tokens: vec![],
            log_prob: 0.0,
            score: 0.0,
            weights: vec![],
            finished: false
        };
        batch
    ];
    let mut done = vec![false; batch];
    let mut previous = vec![options.bos; batch];
    for t in 0..limits.iter().copied().max().unwrap_or(0) {
        let step = decoder.step(index_tensor(&previous, &device), state, &source);
        state = step.state;
        let log_probs = host_rows(log_softmax(step.logits, 1)); // [batch][vocab]
        let weights = step.weights.map(host_rows); // [batch][src_len]
        for b in 0..batch {
            if done[b] {
                continue;
            }
            let token = argmax(&log_probs[b]);
            let hyp = &mut hyps[b];
            hyp.log_prob += log_probs[b][token];
            if let Some(w) = &weights {
                hyp.weights.push(w[b][..source.lengths[b]].to_vec());
            }
            if token == options.eos {
                hyp.finished = true;
            } else {
                hyp.tokens.push(token);
            }
            done[b] = hyp.finished || t + 1 >= limits[b];
            previous[b] = token;
        }
        if done.iter().all(|&d| d) {
            break;
        }
    }
    for hyp in &mut hyps {
        hyp.score = hyp.log_prob;
    }
    hyps
}
