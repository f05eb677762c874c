//! The G2P model shipped in `models/g2p-cmudict` works from a fresh clone, and is what the
//! `g2p-cmudict` preset trains.

use std::path::PathBuf;
use std::process::Command;

use trainer::RunConfig;

/// Words with the model's (correct) pronunciations: three from the test split, which the model
/// never saw, in any case, and one from training.
const EXPECTED: [(&str, &str); 4] = [
    ("abating", "AH B EY T IH NG"),
    ("ABBY", "AE B IY"),
    ("Abella", "AH B EH L AH"),
    ("attention", "AH T EH N SH AH N"),
];

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/g2p-cmudict")
}

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_shipped_model_predicts_pronunciations() {
    let run = model_dir();
    let mut args = vec!["predict", "--run", run.to_str().unwrap(), "--beam", "5"];
    args.extend(EXPECTED.iter().map(|(word, _)| *word));
    let out = xtask(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let want: Vec<&str> = EXPECTED.iter().map(|(_, p)| *p).collect();
    assert_eq!(got, want);
}

#[test]
fn the_preset_makes_the_shipped_configuration() {
    let out = xtask(&[
        "train",
        "--preset",
        "g2p-cmudict",
        "--data",
        "../shared/data/cmudict/g014b2b.train",
        "--print-config",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The shipped file is in format version 1 and the preset prints the current version: compare
    // them as configurations, each read as the program reads a run's config.json.
    let shipped_path = model_dir().join("config.json");
    let shipped = std::fs::read(&shipped_path).unwrap();
    let printed = RunConfig::parse(std::path::Path::new("<stdout>"), &out.stdout).unwrap();
    assert_eq!(printed, RunConfig::parse(&shipped_path, &shipped).unwrap());
    assert_eq!(printed.version, trainer::CONFIG_VERSION);
}
