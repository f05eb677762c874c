//! Beam search: keep the `k` best partial outputs of each sentence at every step.

use encoder::EncoderOutput;

use crate::ensemble::{StepRows, Steps};
use crate::{BeamOptions, Decoder, DecoderError, Hypothesis, SearchOptions};

/// A partial output alive in the beam, living in tensor row `row`.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<usize>,
    weights: Vec<Vec<f32>>,
    log_prob: f32,
    row: usize,
}

/// One sentence's search: its alive beams and its retired (finished) hypotheses.
#[derive(Debug)]
struct Sentence {
    alive: Vec<Beam>,
    finished: Vec<Hypothesis>,
    limit: usize,
    src_len: usize,
    done: bool,
}

impl Sentence {
    fn retire(beam: Beam, finished: bool, options: &BeamOptions) -> Hypothesis {
        let len = beam.tokens.len() + usize::from(finished);
        Hypothesis {
            score: beam.log_prob / options.penalty(len),
            tokens: beam.tokens,
            log_prob: beam.log_prob,
            weights: beam.weights,
            finished,
        }
    }

    /// Expand → top-k → retire finished. `log_probs[row]` and `weights[row]` are this step's
    /// outputs of every tensor row.
    ///
    /// With k = 2 and beams `a` (log P −0.1) and `b` (−0.5), candidates are `a+x` for every
    /// token `x` and `b+x` likewise; the two best, say `a+EOS` (−0.3) and `b+y` (−0.6), make
    /// `a+EOS` retire and `b+y` the only beam alive at the next step.
    fn advance(
        &mut self,
        log_probs: &[Vec<f32>],
        weights: Option<&[Vec<f32>]>,
        search: &SearchOptions,
        beam: &BeamOptions,
    ) {
        // Expand: every alive beam with every token.
        let mut candidates: Vec<(f32, usize, usize)> = self
            .alive
            .iter()
            .enumerate()
            .flat_map(|(i, b)| {
                log_probs[b.row]
                    .iter()
                    .enumerate()
                    .map(move |(token, lp)| (b.log_prob + lp, i, token))
            })
            .collect();
        // Top k: highest log P first; equal ones in beam then token order, as greedy's argmax.
        let by_score = |a: &(f32, usize, usize), b: &(f32, usize, usize)| {
            b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2)))
        };
        let k = beam.width.min(candidates.len());
        if k < candidates.len() {
            candidates.select_nth_unstable_by(k - 1, by_score);
            candidates.truncate(k);
        }
        candidates.sort_by(by_score);

        // Retire those that end in EOS; the others form the next beam.
        let mut alive = Vec::with_capacity(k);
        for (log_prob, parent, token) in candidates {
            let parent = &self.alive[parent];
            let mut next = Beam {
                tokens: parent.tokens.clone(),
                weights: parent.weights.clone(),
                log_prob,
                row: parent.row,
            };
            if let Some(w) = weights {
                next.weights.push(w[parent.row][..self.src_len].to_vec());
            }
            if token == search.eos {
                self.finished.push(Self::retire(next, true, beam));
            } else {
                next.tokens.push(token);
                alive.push(next);
            }
        }
        self.alive = alive;

        let steps = self.alive.first().map_or(0, |b| b.tokens.len()); // steps taken so far
        if self.alive.is_empty() || steps >= self.limit {
            let alive = std::mem::take(&mut self.alive);
            self.finished
                .extend(alive.into_iter().map(|b| Self::retire(b, false, beam)));
            self.done = true;
            return;
        }
        // Stop early once no alive beam can overtake the n-th best finished one: log P only
        // falls with more tokens, and the penalty can at most grow to that of the limit.
        if self.finished.len() >= beam.n_best {
            let mut scores: Vec<f32> = self.finished.iter().map(|h| h.score).collect();
            scores.sort_by(|a, b| b.total_cmp(a));
            let best_alive = self
                .alive
                .iter()
                .map(|b| b.log_prob)
                .fold(f32::NEG_INFINITY, f32::max);
            if scores[beam.n_best - 1] >= best_alive / beam.penalty(self.limit) {
                self.done = true;
            }
        }
    }

    fn n_best(mut self, n: usize) -> Vec<Hypothesis> {
        self.finished.sort_by(|a, b| b.score.total_cmp(&a.score));
        self.finished.truncate(n);
        self.finished
    }
}

/// Beam search over a batch: the `n_best` highest-scoring hypotheses of each sentence, best
/// first, each with its own attention weights (they follow the hypothesis through every
/// reordering of the beam). `parts` are the decoders with their encodings of the batch: one for
/// a model, several for an [`Ensemble`](crate::Ensemble), whose mean log-probabilities decide.
/// Use inference copies of the models (`model.valid()`).
///
/// Only live hypotheses are computed: each step's tensor rows are the alive beams of the
/// sentences still searching (one row per sentence at the first step, at most `width` after),
/// so retired and pruned hypotheses and finished sentences cost nothing. A sentence stops when
/// no alive hypothesis can beat its `n_best`-th finished one, or at its length limit (then
/// unfinished hypotheses are returned with `finished = false`).
///
/// # Errors
///
/// [`DecoderError::Search`] for a zero width or an `n_best` outside `1..=width`.
///
/// # Panics
///
/// With no parts.
pub fn beam_search(
    parts: &[(&Decoder, &EncoderOutput)],
    search: &SearchOptions,
    beam: &BeamOptions,
) -> Result<Vec<Vec<Hypothesis>>, DecoderError> {
    beam.validate()?;
    let mut steps = Steps::new(parts, beam.width > 1);
    let lengths = steps.lengths.clone();
    let batch = lengths.len();
    // Only live hypotheses hold tensor rows: at first one per sentence; after each step the
    // alive beams of the sentences still searching, in order (retired and pruned hypotheses,
    // and sentences that are done, stop costing rows).
    let mut sentences: Vec<Sentence> = (0..batch)
        .map(|b| Sentence {
            alive: vec![Beam {
                tokens: vec![],
                weights: vec![],
                log_prob: 0.0,
                row: b,
            }],
            finished: vec![],
            limit: search.max_length.for_source(lengths[b]),
            src_len: lengths[b],
            done: false,
        })
        .collect();
    let mut previous = vec![search.bos; batch];

    while !previous.is_empty() {
        let StepRows { log_probs, weights } = steps.step(&previous); // [rows][vocab], [rows][src_len]
        // Which old row each new row continues.
        let mut parents = Vec::with_capacity(previous.len() * beam.width);
        previous.clear();
        for sentence in sentences.iter_mut().filter(|s| !s.done) {
            sentence.advance(&log_probs, weights.as_deref(), search, beam);
            if sentence.done {
                continue;
            }
            for alive in &mut sentence.alive {
                parents.push(alive.row);
                previous.push(*alive.tokens.last().expect("alive beams hold a token"));
                alive.row = parents.len() - 1;
            }
        }
        if !parents.is_empty() {
            steps.select_rows(&parents);
        }
    }
    Ok(sentences
        .into_iter()
        .map(|s| s.n_best(beam.n_best))
        .collect())
}
