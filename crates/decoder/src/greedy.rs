//! Greedy decoding: at every step take the most probable token.

use burn::prelude::*;
use encoder::EncoderOutput;

use crate::ensemble::{StepRows, Steps};
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
/// or length limit. `parts` are the decoders with their encodings of the batch: one for a
/// model, several for an [`Ensemble`](crate::Ensemble), whose mean log-probabilities decide.
/// Use inference copies of the models (`model.valid()`).
///
/// # Panics
///
/// With no parts.
pub fn greedy(parts: &[(&Decoder, &EncoderOutput)], options: &SearchOptions) -> Vec<Hypothesis> {
    let mut steps = Steps::new(parts);
    let lengths = steps.lengths.clone();
    let batch = lengths.len();
    let limits: Vec<usize> = lengths
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
        let StepRows { log_probs, weights } = steps.step(&previous); // [batch][vocab], [batch][src_len]
        for b in 0..batch {
            if done[b] {
                continue;
            }
            let token = argmax(&log_probs[b]);
            let hyp = &mut hyps[b];
            hyp.log_prob += log_probs[b][token];
            if let Some(w) = &weights {
                hyp.weights.push(w[b][..lengths[b]].to_vec());
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
