//! Scores checked by hand and against sacreBLEU 2.6.0 (`pip install sacrebleu==2.6.0`;
//! `sacrebleu.corpus_bleu(hyps, [refs]).score`, `sacrebleu.corpus_chrf(...)`, defaults).

use std::path::PathBuf;

use trainer::metrics::{
    corpus_bleu, corpus_chrf, edit_distance, exact_match, g2p_scores, tokenize_13a,
};
use trainer::read_text_file;

fn s(x: &str) -> Vec<String> {
    x.split_whitespace().map(String::from).collect()
}

fn strings(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| x.to_string()).collect()
}

#[test]
fn edit_distances() {
    assert_eq!(edit_distance::<&str>(&[], &[]), 0);
    assert_eq!(edit_distance(&["A"], &[]), 1);
    assert_eq!(edit_distance(&["K", "AE", "T"], &["K", "AE", "T"]), 0);
    assert_eq!(edit_distance(&["K", "AE", "T"], &["AE", "T", "S"]), 2);
    // abcd → badc: insert b, keep a, b → d, keep c, delete d: 3 (not 4 substitutions).
    assert_eq!(
        edit_distance(&["a", "b", "c", "d"], &["b", "a", "d", "c"]),
        3
    );
}

#[test]
fn wer_and_per_take_the_best_of_several_references() {
    // "read": right by its second reference. "live": one substitution against the closest
    // reference (L IH V, length 3) rather than L AY V. "cats": two errors against K AE T S.
    let predictions = vec![s("R IY D"), s("L EH V"), s("K AE")];
    let references = vec![
        vec![s("R EH D"), s("R IY D")],
        vec![s("L AY V"), s("L IH V")],
        vec![s("K AE T S")],
    ];
    let scores = g2p_scores(&predictions, &references);
    assert!((scores.wer - 200.0 / 3.0).abs() < 1e-9);
    assert!(
        (scores.per - 100.0 * 3.0 / 10.0).abs() < 1e-9,
        "{}",
        scores.per
    );
    assert!((exact_match(&predictions, &references) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn tokenizer_13a_matches_sacrebleu() {
    // Outputs of sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()(line).
    assert_eq!(tokenize_13a("Hello, world!"), "Hello , world !");
    assert_eq!(tokenize_13a("3,000.50 dollars."), "3,000.50 dollars .");
    assert_eq!(tokenize_13a("a-b 1998-03-03"), "a-b 1998 - 03 - 03");
    assert_eq!(
        tokenize_13a("&quot;quoted&quot; &amp; more"),
        "\" quoted \" & more"
    );
    assert_eq!(tokenize_13a("end.of.it"), "end . of . it");
}

#[test]
fn bleu_and_chrf_match_sacrebleu_on_hand_made_sentences() {
    let hyps = strings(&[
        "The cat sat on the mat.",
        "A dog's 3.5-kg ball, (red).",
        "hello",
    ]);
    let refs: Vec<Vec<String>> = [
        "The cat is sitting on the mat.",
        "A dog's 3.5 kg ball (red).",
        "hello there",
    ]
    .iter()
    .map(|r| vec![r.to_string()])
    .collect();
    let bleu = corpus_bleu(&hyps, &refs);
    assert!((bleu.score - 42.07113991220077).abs() < 1e-9, "{bleu:?}");
    assert_eq!((bleu.hyp_len, bleu.ref_len), (19, 19));
    assert!((bleu.precisions[3] - 16.666666666666668).abs() < 1e-9);
    assert!((corpus_chrf(&hyps, &refs) - 55.68492077604639).abs() < 1e-9);

    // Several references per sentence.
    let hyps = strings(&["a man is riding a bike", "two dogs play in the snow"]);
    let refs = vec![
        strings(&[
            "a man rides a bicycle",
            "a man is riding a bike down the street",
        ]),
        strings(&["two dogs are playing in snow", "dogs play in the snow"]),
    ];
    assert!((corpus_bleu(&hyps, &refs).score - 92.4073895221571).abs() < 1e-9);
    assert!((corpus_chrf(&hyps, &refs) - 72.30337004545751).abs() < 1e-9);

    // No match at all, and an empty output.
    assert_eq!(
        corpus_bleu(&strings(&["zzz"]), &[strings(&["a b c"])]).score,
        0.0
    );
    assert_eq!(
        corpus_bleu(&strings(&[""]), &[strings(&["a b c"])]).score,
        0.0
    );
}

/// The shared data folder beside the repository (CI has it; elsewhere the test says so).
pub(crate) fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!(
            "CI must provide ../shared/data (looked in {})",
            dir.display()
        );
    } else {
        eprintln!("skipped: ../shared/data is not here");
        None
    }
}

/// Multi30k's test_2016_flickr.en against itself with every 4th word dropped and lower-cased.
/// Expected values, from sacreBLEU 2.6.0 on the same two lists:
/// BLEU = 22.29 91.7/62.5/29.7/4.4 (BP = 0.756 ratio = 0.782 hyp_len = 10128 ref_len = 12955),
/// chrF = 65.49.
#[test]
fn bleu_and_chrf_match_sacrebleu_on_a_real_file() {
    let Some(shared) = shared() else { return };
    let file = read_text_file(&shared.join("multi30k/test_2016_flickr.en.gz")).unwrap();
    let refs: Vec<String> = file.lines.into_iter().filter(|l| !l.is_empty()).collect();
    assert_eq!(refs.len(), 1000);
    let hyps: Vec<String> = refs
        .iter()
        .map(|l| {
            l.split_whitespace()
                .enumerate()
                .filter(|(i, _)| (i + 1) % 4 != 0)
                .map(|(_, w)| w)
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .collect();
    let refs: Vec<Vec<String>> = refs.into_iter().map(|r| vec![r]).collect();
    let bleu = corpus_bleu(&hyps, &refs);
    assert!((bleu.score - 22.289231192367417).abs() < 1e-9, "{bleu:?}");
    assert_eq!((bleu.hyp_len, bleu.ref_len), (10128, 12955));
    assert!((corpus_chrf(&hyps, &refs) - 65.4892951599087).abs() < 1e-9);
}
