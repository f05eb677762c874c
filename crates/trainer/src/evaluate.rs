//! Decoding many sentences, and scoring outputs the way each task is judged.

use std::collections::BTreeMap;

use burn::prelude::*;
use decoder::Ensemble;

use crate::Result;
use crate::batch::{EncodedPair, make_batch};
use crate::data::EvalItem;
use crate::loss::batch_loss;
use crate::metrics::{corpus_bleu, corpus_chrf, exact_match, g2p_scores};
use crate::tasks::cmudict::{unstressed, without_stress};
use inference::TaskKind;
use inference::Tokenizer;

/// Sentences scored together under teacher forcing.
pub(crate) const DECODE_BATCH: usize = 128;

/// Mean cross-entropy per target token of `pairs` under teacher forcing, with no autodiff; for
/// an ensemble, of its mean log-probabilities (the mean of its models' losses).
///
/// # Errors
///
/// The models' errors.
pub fn mean_loss(
    models: &Ensemble,
    pairs: &[EncodedPair],
    batch_size: usize,
    device: &Device,
) -> Result<f64> {
    let (mut sum, mut tokens) = (0.0, 0usize);
    for chunk in pairs.chunks(batch_size.max(1)) {
        let refs: Vec<&EncodedPair> = chunk.iter().collect();
        let batch = make_batch(&refs, device);
        let batch_tokens = batch.target_tokens;
        let mut loss = 0.0;
        for model in models.members() {
            loss += f64::from(batch_loss(model, batch.clone(), 0.0)?.into_scalar::<f32>());
        }
        sum += loss / models.members().len() as f64 * batch_tokens as f64;
        tokens += batch_tokens;
    }
    Ok(sum / tokens.max(1) as f64)
}

/// The scores of a task's predictions (`predictions[i]` for `items[i]`), in percent:
/// `exact_match` for every task, `wer` and `per` for g2p, `bleu` and `chrf` for translation.
pub fn task_scores(
    task: TaskKind,
    predictions: &[Vec<String>],
    items: &[EvalItem],
    tokenizer: &Tokenizer,
) -> BTreeMap<String, f64> {
    let references: Vec<Vec<Vec<String>>> = items.iter().map(|i| i.references.clone()).collect();
    let mut scores = BTreeMap::new();
    scores.insert(
        "exact_match".to_string(),
        100.0 * exact_match(predictions, &references),
    );
    match task {
        TaskKind::Dates => {}
        TaskKind::G2p => {
            let g2p = g2p_scores(predictions, &references);
            scores.insert("wer".into(), g2p.wer);
            scores.insert("per".into(), g2p.per);
            if has_stress(&references) {
                let bare_predictions: Vec<Vec<String>> = predictions
                    .iter()
                    .map(|p| p.iter().map(|t| unstressed(t).to_string()).collect())
                    .collect();
                let bare_references: Vec<Vec<Vec<String>>> =
                    references.iter().map(|r| without_stress(r)).collect();
                let bare = g2p_scores(&bare_predictions, &bare_references);
                scores.insert("wer_unstressed".into(), bare.wer);
                scores.insert("per_unstressed".into(), bare.per);
            }
        }
        TaskKind::Translate => {
            let hyps: Vec<String> = predictions
                .iter()
                .map(|p| tokenizer.detokenize(p))
                .collect();
            let refs: Vec<Vec<String>> = items.iter().map(|i| i.reference_texts.clone()).collect();
            scores.insert("bleu".into(), corpus_bleu(&hyps, &refs).score);
            scores.insert("chrf".into(), corpus_chrf(&hyps, &refs));
        }
    }
    scores
}

/// Whether any reference phone carries a stress digit.
fn has_stress(references: &[Vec<Vec<String>>]) -> bool {
    references
        .iter()
        .flatten()
        .flatten()
        .any(|p| unstressed(p).len() < p.len())
}

/// The score that picks the best epoch, higher is better: exact match for dates, −WER for
/// g2p, BLEU for translation.
pub fn selection_score(task: TaskKind, scores: &BTreeMap<String, f64>) -> f64 {
    match task {
        TaskKind::Dates => scores["exact_match"],
        TaskKind::G2p => -scores["wer"],
        TaskKind::Translate => scores["bleu"],
    }
}

/// Bucket edges by source length (tokens) for [`length_buckets`]: g2p words by letters,
/// sentences by words, generated dates by characters.
pub fn default_length_edges(task: TaskKind) -> Vec<usize> {
    match task {
        TaskKind::G2p => vec![4, 6, 8, 10, 12],
        TaskKind::Translate => vec![8, 12, 16, 20, 25],
        TaskKind::Dates => vec![10, 15, 20, 25],
    }
}

/// Items grouped by source length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Shortest source length of the bucket's range.
    pub min_len: usize,
    /// Longest source length of the range (`usize::MAX` for the last one).
    pub max_len: usize,
    /// Indices into the items, in order.
    pub indices: Vec<usize>,
}

/// Groups `items` by source length: with increasing `edges` `[e1, e2, …]`, the buckets are
/// `0..=e1`, `e1+1..=e2`, …, `e_last+1..`; empty buckets are left out.
pub fn length_buckets(edges: &[usize], items: &[EvalItem]) -> Vec<Bucket> {
    let mut bounds: Vec<(usize, usize)> = Vec::with_capacity(edges.len() + 1);
    let mut min_len = 0;
    for &edge in edges {
        bounds.push((min_len, edge));
        min_len = edge + 1;
    }
    bounds.push((min_len, usize::MAX));
    bounds
        .into_iter()
        .map(|(min_len, max_len)| Bucket {
            min_len,
            max_len,
            indices: items
                .iter()
                .enumerate()
                .filter(|(_, item)| (min_len..=max_len).contains(&item.source.len()))
                .map(|(i, _)| i)
                .collect(),
        })
        .filter(|bucket| !bucket.indices.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(len: usize) -> EvalItem {
        EvalItem {
            source: vec!["a".into(); len],
            source_text: String::new(),
            references: vec![vec!["b".into()]],
            reference_texts: vec!["b".into()],
        }
    }

    #[test]
    fn stressed_g2p_is_scored_with_and_without_its_digits() {
        let tokens = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let items = vec![EvalItem {
            source: vec!["a".into(); 6],
            source_text: "record".into(),
            references: vec![tokens("R EH1 K ER0 D"), tokens("R IH0 K AO1 R D")],
            reference_texts: Vec::new(),
        }];
        let tokenizer = Tokenizer::Whitespace;
        let wrong_stress = [tokens("R EH0 K ER1 D")];
        let scores = task_scores(TaskKind::G2p, &wrong_stress, &items, &tokenizer);
        assert_eq!(scores["wer"], 100.0);
        assert_eq!(scores["per"], 40.0);
        assert_eq!(scores["wer_unstressed"], 0.0);
        assert_eq!(scores["per_unstressed"], 0.0);
        let plain = vec![EvalItem {
            references: vec![tokens("R EH K ER D")],
            ..items[0].clone()
        }];
        let scores = task_scores(TaskKind::G2p, &[tokens("R EH K ER D")], &plain, &tokenizer);
        assert!(
            !scores.contains_key("wer_unstressed"),
            "no digits, no second score"
        );
    }

    #[test]
    fn length_buckets_cover_every_item_once_and_skip_empty_ranges() {
        let items: Vec<EvalItem> = [1, 4, 5, 9, 30, 2].into_iter().map(item).collect();
        let buckets = length_buckets(&[2, 4, 6, 8], &items);
        let got: Vec<(usize, usize, Vec<usize>)> = buckets
            .into_iter()
            .map(|b| (b.min_len, b.max_len, b.indices))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 2, vec![0, 5]),
                (3, 4, vec![1]),
                (5, 6, vec![2]),
                (9, usize::MAX, vec![3, 4]),
            ]
        );
    }
}
