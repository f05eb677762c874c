//! The shipped G2P model through `Predictor`, from its files' bytes, as the browser loads it.

use std::path::{Path, PathBuf};

use burn::prelude::Device;
use inference::{DecodingOptions, InferenceError, InputError, Predictor, RunFiles};

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/g2p-cmudict")
}

/// The shipped run's files: config, source and target vocabularies, model.
fn files() -> [Vec<u8>; 4] {
    [
        "config.json",
        "source_vocab.json",
        "target_vocab.json",
        "model.bpk",
    ]
    .map(|name| std::fs::read(shipped().join(name)).unwrap())
}

fn load(files: &[Vec<u8>; 4]) -> Result<Predictor, InferenceError> {
    let run = RunFiles {
        config: &files[0],
        source_vocab: &files[1],
        target_vocab: &files[2],
        model: &files[3],
    };
    Predictor::from_files(Path::new("g2p-cmudict"), run, Device::flex())
}

#[test]
fn the_shipped_model_predicts_from_bytes_greedy_and_beam_with_n_best() {
    let predictor = load(&files()).unwrap();
    let words = ["hello", " World ", "", "zebra1"].map(String::from);
    let greedy = DecodingOptions {
        beam: 1,
        ..predictor.config.decoding.clone()
    };
    let out = predictor.predict_each(&words, &greedy, 1).unwrap();
    let hello = out[0].as_ref().unwrap();
    assert_eq!(hello.output, "HH EH L OW");
    assert_eq!(hello.source_tokens, ["h", "e", "l", "l", "o"]);
    // One row of weights per output step (the last produced <eos>), one column per letter,
    // each row a distribution.
    assert_eq!(hello.weights.len(), hello.output_tokens.len() + 1);
    for row in &hello.weights {
        assert_eq!(row.len(), 5);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4, "{row:?}");
    }
    assert_eq!(out[1].as_ref().unwrap().source_tokens.concat(), "world");
    assert_eq!(
        out[2],
        Err(InputError::Empty {
            input: String::new()
        })
    );
    let unknown = out[3].as_ref().unwrap();
    assert_eq!(unknown.unknown, ["1"]);
    assert!(
        unknown.warnings[0].contains("<unk>"),
        "{:?}",
        unknown.warnings
    );

    let beam = DecodingOptions { beam: 5, ..greedy };
    let out = predictor.predict_each(&words[..1], &beam, 3).unwrap();
    let hello = out[0].as_ref().unwrap();
    assert_eq!(hello.n_best.len(), 3);
    assert_eq!(hello.n_best[0].output, hello.output);
    assert!(hello.n_best.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn broken_files_are_errors_naming_the_file() {
    let good = files();
    let mut bad = good.clone();
    bad[0] = b"{\"version\": 1".to_vec();
    let err = load(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with("g2p-cmudict/config.json: not valid JSON"),
        "{err}"
    );

    let mut bad = good.clone();
    bad[1] = b"{\"tokens\": [\"a\"]}".to_vec();
    let err = load(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with("g2p-cmudict/source_vocab.json: not a vocabulary"),
        "{err}"
    );

    let mut bad = good.clone();
    bad[3].truncate(1000);
    let err = load(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with("g2p-cmudict/model.bpk: not a readable model"),
        "{err}"
    );

    // The other run's vocabulary: the weights no longer fit.
    let mut bad = good;
    bad[1] = bad[2].clone();
    let err = load(&bad).unwrap_err().to_string();
    assert!(err.contains("model.bpk: the weights do not fit"), "{err}");
}

#[test]
fn decoding_options_are_checked_before_decoding() {
    let predictor = load(&files()).unwrap();
    let options = DecodingOptions {
        beam: 2,
        ..DecodingOptions::default()
    };
    let err = predictor
        .predict_each(&["a".to_string()], &options, 3)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("n_best = 3 is invalid"),
        "{err}"
    );
}
