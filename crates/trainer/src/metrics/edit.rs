//! Edit distance, and G2P's word and phoneme error rates against several references.

/// Levenshtein distance between two token sequences (insertions, deletions, substitutions
/// each cost 1).
///
/// ```
/// use trainer::metrics::edit_distance;
/// assert_eq!(edit_distance(&["K", "AE", "T"], &["K", "AA", "T", "S"]), 2);
/// ```
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(x != y);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Word and phoneme error rates, in percent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct G2pScores {
    /// Share of words whose prediction matches none of its references.
    pub wer: f64,
    /// Σ edit distance to the closest reference / Σ that reference's length.
    pub per: f64,
}

/// WER and PER with the published convention: a prediction is right when it equals **any**
/// reference; its phoneme errors are counted against the closest reference (the shorter one on
/// ties), and PER sums errors and reference lengths over the corpus.
///
/// ```
/// use trainer::metrics::g2p_scores;
/// let s = |x: &str| x.split(' ').map(String::from).collect::<Vec<_>>();
/// let predictions = vec![s("R IY D"), s("K AE T")];
/// let references = vec![vec![s("R EH D"), s("R IY D")], vec![s("K AA T S")]];
/// let scores = g2p_scores(&predictions, &references);
/// assert_eq!(scores.wer, 50.0); // "read" right (second reference), "cats" wrong
/// assert_eq!(scores.per, 100.0 * 2.0 / 7.0); // 0 errors / 3 + 2 errors / 4
/// ```
pub fn g2p_scores(predictions: &[Vec<String>], references: &[Vec<Vec<String>>]) -> G2pScores {
    let (mut wrong, mut errors, mut length) = (0usize, 0usize, 0usize);
    for (prediction, refs) in predictions.iter().zip(references) {
        if !refs.contains(prediction) {
            wrong += 1;
        }
        let (distance, len) = refs
            .iter()
            .map(|r| (edit_distance(prediction, r), r.len()))
            .min()
            .expect("every word has a reference");
        errors += distance;
        length += len;
    }
    G2pScores {
        wer: 100.0 * wrong as f64 / predictions.len().max(1) as f64,
        per: 100.0 * errors as f64 / length.max(1) as f64,
    }
}
