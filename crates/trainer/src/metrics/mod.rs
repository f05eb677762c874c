//! Scores: exact match, WER/PER for G2P, corpus BLEU and chrF the way sacreBLEU 2.x computes
//! them.

mod bleu;
mod chrf;
mod edit;

pub use bleu::{Bleu, corpus_bleu, tokenize_13a};
pub use chrf::corpus_chrf;
pub use edit::{G2pScores, edit_distance, g2p_scores};

/// Share of predictions equal to one of their references.
pub fn exact_match<T: PartialEq>(predictions: &[Vec<T>], references: &[Vec<Vec<T>>]) -> f64 {
    if predictions.is_empty() {
        return 0.0;
    }
    let correct = predictions
        .iter()
        .zip(references)
        .filter(|(p, refs)| refs.contains(p))
        .count();
    correct as f64 / predictions.len() as f64
}
