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
/// or length limit; a sentence that has stopped no longer costs a tensor row. `parts` are the decoders with their encodings of the batch: one for a
/// model, several for an [`Ensemble`](crate::Ensemble), whose mean log-probabilities decide.
/// Use inference copies of the models (`model.valid()`).
///
/// # Panics
///
/// With no parts.
pub fn greedy(parts: &[(&Decoder, &EncoderOutput)], options: &SearchOptions) -> Vec<Hypothesis> {
    let mut steps = Steps::new(parts, false);
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
    // Only sentences still decoding hold tensor rows: `live[row]` is the sentence of each.
    let mut live: Vec<usize> = (0..batch).collect();
    let mut previous = vec![options.bos; batch];
    let mut t = 0;
    while !live.is_empty() {
        let StepRows { log_probs, weights } = steps.step(&previous); // [rows][vocab], [rows][src_len]
        let mut kept = Vec::with_capacity(live.len());
        previous.clear();
        for (row, &b) in live.iter().enumerate() {
            let token = argmax(&log_probs[row]);
            let hyp = &mut hyps[b];
            hyp.log_prob += log_probs[row][token];
            if let Some(w) = &weights {
                hyp.weights.push(w[row][..lengths[b]].to_vec());
            }
            if token == options.eos {
                hyp.finished = true;
            } else {
                hyp.tokens.push(token);
            }
            if !hyp.finished && t + 1 < limits[b] {
                kept.push(row);
                previous.push(token);
            }
        }
        if !kept.is_empty() && kept.len() < live.len() {
            steps.select_rows(&kept);
        }
        live = kept.iter().map(|&row| live[row]).collect();
        t += 1;
    }
    for hyp in &mut hyps {
        hyp.score = hyp.log_prob;
    }
    hyps
}
