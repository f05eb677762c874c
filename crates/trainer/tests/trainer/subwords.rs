//! Subword vocabularies: learned from a training split, text to pieces and back, and the run's
//! `tokenizer.json` (present, missing, corrupt).

use std::path::Path;

use trainer::tasks::subwords::learn;
use trainer::{DecodingOptions, RunConfig, TaskConfig, TaskKind, Tokenizer, Trained, Vocabulary};

use crate::end_to_end::{small_config, train};

/// Toy German and English sentences: a few words, combined.
fn corpus(n: usize) -> Vec<(String, String)> {
    let words = [
        ("hund", "dog"),
        ("katze", "cat"),
        ("fahrrad", "bicycle"),
        ("mann", "man"),
        ("frau", "woman"),
        ("strand", "beach"),
    ];
    (0..n)
        .map(|i| {
            let (a, b) = (words[i % 6], words[(i / 6 + i) % 6]);
            (
                format!("Ein {} und ein {} am Strand.", a.0, b.0),
                format!("A {} and a {} at the beach.", a.1, b.1),
            )
        })
        .collect()
}

fn learned(vocabulary: Vocabulary) -> Tokenizer {
    let pairs = corpus(300);
    let texts: Vec<&str> = pairs
        .iter()
        .flat_map(|(s, t)| [s.as_str(), t.as_str()])
        .collect();
    let subwords = learn(vocabulary, true, &texts, Path::new("toy"))
        .unwrap()
        .expect("a subword vocabulary was asked for");
    Tokenizer::Subwords(subwords)
}

#[test]
fn text_becomes_pieces_and_the_pieces_the_same_text() {
    for vocabulary in [Vocabulary::Bpe(120), Vocabulary::Unigram(120)] {
        let tokenizer = learned(vocabulary);
        // Texts of the corpus's characters: known words, new ones of known pieces.
        for text in [
            "Ein Hund und eine Katze am Strand.",
            "A man and a woman at the beach.",
            "Ein Mannhund und ein Katzenfahrrad.",
        ] {
            let pieces = tokenizer.tokenize(text);
            assert!(pieces.len() > 3, "{vocabulary}: {pieces:?}");
            assert_eq!(
                tokenizer.detokenize(&pieces),
                text.to_lowercase(),
                "{vocabulary}: {pieces:?}"
            );
        }
        let invented = tokenizer.tokenize("katzenhundfahrrad");
        assert!(
            !invented.contains(&"<unk>".to_string()) && invented.len() > 1,
            "{vocabulary}: an invented word is spelled in known pieces: {invented:?}"
        );
        // A character never seen is a piece of its own that no vocabulary built from the
        // training pieces has: BPE names it `<unk>`, unigram keeps the character.
        let unseen = tokenizer.tokenize("ein 猫");
        assert!(
            unseen.last().is_some_and(|p| p == "<unk>" || p == "猫"),
            "{vocabulary}: {unseen:?}"
        );
    }
}

#[test]
fn no_vocabulary_is_learned_for_words_and_a_bad_size_is_refused() {
    assert!(
        learn(Vocabulary::Words, true, &["a b"], Path::new("toy"))
            .unwrap()
            .is_none()
    );
    for bad in ["bpe", "bpe:12", "bpe:x", "wordpiece:8000"] {
        let err = bad.parse::<Vocabulary>().unwrap_err().to_string();
        assert!(err.contains(&format!("task.vocabulary = {bad}")), "{err}");
    }
    assert_eq!(
        "bpe:8000".parse::<Vocabulary>().unwrap(),
        Vocabulary::Bpe(8000)
    );
    assert_eq!(Vocabulary::Unigram(500).to_string(), "unigram:500");
}

fn write_corpus(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let pairs = corpus(400);
    for (split, range) in [("train", 0..300), ("val", 300..350), ("test", 350..400)] {
        let (de, en): (Vec<&str>, Vec<&str>) = pairs[range]
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .unzip();
        std::fs::write(dir.join(format!("{split}.de")), de.join("\n") + "\n").unwrap();
        std::fs::write(dir.join(format!("{split}.en")), en.join("\n") + "\n").unwrap();
    }
}

fn bpe_config(data: &Path) -> RunConfig {
    let mut config = small_config(0, 2);
    config.task = TaskConfig::new(TaskKind::Translate);
    config.task.data = Some(data.to_path_buf());
    config.task.split_names = "train,val,test".parse().unwrap();
    config.task.vocabulary = Vocabulary::Bpe(150);
    config
}

#[test]
fn a_run_with_subwords_keeps_its_tokenizer_and_translates_text() {
    let dir = tempfile::tempdir().unwrap();
    write_corpus(&dir.path().join("corpus"));
    let run = dir.path().join("run");
    train(bpe_config(&dir.path().join("corpus")), &run, false, None);
    let tokenizer_json = std::fs::read_to_string(run.join("tokenizer.json")).unwrap();
    assert!(
        tokenizer_json.contains("\"BPE\""),
        "a BPE tokenizer is saved"
    );
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"vocabulary\": \"bpe:150\""), "{config}");

    let trained = Trained::load(&run, None).unwrap();
    let greedy = DecodingOptions {
        beam: 1,
        ..trained.config.decoding.clone()
    };
    let inputs = ["Ein Hund am Strand.", "Ein Mannhund und ein Katzenfahrrad."].map(String::from);
    let predictions = trained.predict(&inputs, &greedy).unwrap();
    for prediction in &predictions {
        assert!(
            prediction.source_tokens.iter().any(|t| t.starts_with('▁')),
            "the model sees pieces: {:?}",
            prediction.source_tokens
        );
        assert!(
            !prediction.output.contains('▁') && !prediction.output.contains("<unk>"),
            "the output is text: {:?}",
            prediction.output
        );
    }
    assert!(
        predictions[0].unknown.is_empty(),
        "{:?}",
        predictions[0].unknown
    );
    let evaluation = trained.evaluate("test", &greedy).unwrap();
    assert!(evaluation.scores.contains_key("bleu"));

    std::fs::write(run.join("tokenizer.json"), "{ not a tokenizer").unwrap();
    let err = Trained::load(&run, None).unwrap_err().to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("not a tokenizer"),
        "{err}"
    );
    std::fs::remove_file(run.join("tokenizer.json")).unwrap();
    let err = Trained::load(&run, None).unwrap_err().to_string();
    assert!(
        err.contains("tokenizer.json") && err.contains("missing") && err.contains("bpe:150"),
        "{err}"
    );
}
