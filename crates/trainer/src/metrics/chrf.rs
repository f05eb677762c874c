//! Corpus chrF as sacreBLEU 2.x computes it by default: character n-grams 1–6, whitespace
//! removed, β = 2, statistics summed over the corpus, effective-order averaging.

use std::collections::HashMap;

fn char_ngrams(line: &str, n: usize) -> HashMap<&str, usize> {
    let starts: Vec<usize> = line
        .char_indices()
        .map(|(i, _)| i)
        .chain([line.len()])
        .collect();
    let mut counts = HashMap::new();
    for w in starts.windows(n + 1) {
        *counts.entry(&line[w[0]..w[n]]).or_insert(0) += 1;
    }
    counts
}

/// `[hyp, ref, match]` counts for orders 1–6 of one sentence against one reference.
fn statistics(hyp: &str, reference: &str) -> [[usize; 3]; 6] {
    let hyp: String = hyp.split_whitespace().collect();
    let reference: String = reference.split_whitespace().collect();
    let mut stats = [[0; 3]; 6];
    for (n, slot) in stats.iter_mut().enumerate() {
        let (h, r) = (char_ngrams(&hyp, n + 1), char_ngrams(&reference, n + 1));
        let matched = h
            .iter()
            .map(|(g, c)| (*c).min(r.get(g).copied().unwrap_or(0)))
            .sum();
        *slot = [h.values().sum(), r.values().sum(), matched];
    }
    stats
}

/// sacreBLEU's `_compute_f_score` without eps smoothing.
fn f_score(stats: &[[usize; 3]; 6]) -> f64 {
    const BETA2: f64 = 4.0;
    let (mut precision, mut recall, mut order) = (0.0, 0.0, 0usize);
    for &[n_hyp, n_ref, n_match] in stats {
        if n_hyp > 0 && n_ref > 0 {
            precision += n_match as f64 / n_hyp as f64;
            recall += n_match as f64 / n_ref as f64;
            order += 1;
        }
    }
    if order == 0 {
        return 0.0;
    }
    let (p, r) = (precision / order as f64, recall / order as f64);
    if p + r == 0.0 {
        0.0
    } else {
        100.0 * (1.0 + BETA2) * p * r / (BETA2 * p + r)
    }
}

/// Corpus chrF of `hypotheses` against `references` (several per sentence allowed: the one
/// with the best sentence-level score counts), as `sacrebleu.corpus_chrf` with its defaults.
pub fn corpus_chrf(hypotheses: &[String], references: &[Vec<String>]) -> f64 {
    let mut total = [[0usize; 3]; 6];
    for (hyp, refs) in hypotheses.iter().zip(references) {
        let mut best: Option<(f64, [[usize; 3]; 6])> = None;
        for r in refs {
            let stats = statistics(hyp, r);
            let f = f_score(&stats);
            if best.is_none_or(|(bf, _)| f > bf) {
                best = Some((f, stats));
            }
        }
        if let Some((_, stats)) = best {
            for (t, s) in total.iter_mut().zip(stats) {
                for k in 0..3 {
                    t[k] += s[k];
                }
            }
        }
    }
    f_score(&total)
}
