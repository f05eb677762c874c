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
        tokenizer: None,
        manifest: None,
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

#[test]
fn a_run_joined_with_itself_predicts_as_it_does_alone() {
    let alone = load(&files()).unwrap();
    let twice = load(&files())
        .unwrap()
        .join(load(&files()).unwrap(), Path::new("again"))
        .unwrap();
    assert_eq!(twice.models.members().len(), 2);
    let words = ["hello", "attention", "phonetisaurus"].map(String::from);
    for beam in [1, 5] {
        let options = DecodingOptions {
            beam,
            ..alone.config.decoding.clone()
        };
        let a = alone.predict_each(&words, &options, 1).unwrap();
        let b = twice.predict_each(&words, &options, 1).unwrap();
        for (a, b) in a.iter().zip(&b) {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            assert_eq!(a.output, b.output, "beam {beam}");
            assert!((a.log_prob - b.log_prob).abs() < 1e-4, "beam {beam}");
            for (x, y) in a.weights.iter().flatten().zip(b.weights.iter().flatten()) {
                assert!((x - y).abs() < 1e-5, "beam {beam}: weight {x} vs {y}");
            }
        }
    }
}

#[test]
fn runs_with_other_vocabularies_are_no_ensemble() {
    let mut other = files();
    // The same size, two phonemes swapped: the weights still load, the outputs would not mean
    // the same.
    let text = String::from_utf8(other[2].clone()).unwrap();
    other[2] = text
        .replacen("\"AH\"", "\"@@\"", 1)
        .replacen("\"N\"", "\"AH\"", 1)
        .replacen("\"@@\"", "\"N\"", 1)
        .into_bytes();
    let err = load(&files())
        .unwrap()
        .join(load(&other).unwrap(), Path::new("other"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("other/target_vocab.json") && err.contains("target vocabulary differs"),
        "{err}"
    );
}

#[test]
fn inputs_over_the_input_limit_are_refused_and_the_others_predicted() {
    let mut predictor = load(&files()).unwrap();
    assert_eq!(
        predictor.input_limit,
        inference::UNKNOWN_RUN_INPUT_LIMIT,
        "no manifest: the limit of a run that does not record its longest source"
    );
    predictor.set_input_limit(8).unwrap();
    let greedy = DecodingOptions {
        beam: 1,
        ..predictor.config.decoding.clone()
    };
    let inputs = ["attention", "hello", &"a".repeat(300)].map(String::from);
    let out = predictor.predict_each(&inputs, &greedy, 1).unwrap();
    let Err(InputError::TooLong {
        length,
        unit,
        limit,
        ..
    }) = &out[0]
    else {
        panic!("{:?}", out[0]);
    };
    assert_eq!((*length, *unit, *limit), (9, "tokens", 8));
    assert!(
        out[0].as_ref().unwrap_err().to_string().contains(
            "the input (\"attention\") has 9 tokens, more than the input limit of 8 tokens"
        )
    );
    assert_eq!(out[1].as_ref().unwrap().output, "HH EH L OW");
    // Far too many characters: refused before being cut into tokens, the input shown in part.
    let message = out[2].as_ref().unwrap_err().to_string();
    assert!(
        message.starts_with(
            "the input (\"aaaaaaaaaaaaaaaaaaaaaaaa\"… of 300 characters) has 300 characters"
        ),
        "{message}"
    );
    assert!(predictor.set_input_limit(0).is_err());
}

#[test]
fn the_input_limit_comes_from_the_manifest() {
    let [config, source, target, model] = files();
    let manifest = br#"{"longest_source": 22}"#;
    let run = RunFiles {
        config: &config,
        source_vocab: &source,
        target_vocab: &target,
        model: &model,
        tokenizer: None,
        manifest: Some(manifest),
    };
    let predictor = Predictor::from_files(Path::new("g2p"), run, Device::flex()).unwrap();
    assert_eq!(predictor.longest_source, 22);
    assert_eq!(predictor.input_limit, 22 * inference::INPUT_LIMIT_FACTOR);
    assert_eq!(predictor.max_input_bytes(), 88 * 32 * 4);
}
