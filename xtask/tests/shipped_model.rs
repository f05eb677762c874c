//! The G2P models shipped in `models/` work from a fresh clone, and are what their presets
//! train: `g2p-cmudict`, and the ensemble of it with `g2p-cmudict-ensemble/`'s
//! `g2p-cmudict-quick` runs.

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

/// The ensemble's members besides `models/g2p-cmudict`, each a `g2p-cmudict-quick` run with
/// this seed.
const QUICK_MEMBERS: [(&str, &str); 2] = [("quick-seed42", "42"), ("quick-seed7", "7")];

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/g2p-cmudict")
}

fn ensemble_member(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/g2p-cmudict-ensemble")
        .join(name)
}

/// What `train --preset PRESET EXTRA… --print-config` prints.
fn preset_config(preset: &str, extra: &[&str]) -> RunConfig {
    let mut args = vec![
        "train",
        "--preset",
        preset,
        "--data",
        "../shared/data/cmudict/g014b2b.train",
        "--print-config",
    ];
    args.extend_from_slice(extra);
    let out = xtask(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    RunConfig::parse(std::path::Path::new("<stdout>"), &out.stdout).unwrap()
}

/// `predict --beam 5` of the `EXPECTED` words with `runs`, as an ensemble when several.
fn predict_expected(runs: &[PathBuf]) {
    let mut args = vec!["predict", "--beam", "5"];
    for run in runs {
        args.extend(["--run", run.to_str().unwrap()]);
    }
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

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_shipped_model_predicts_pronunciations() {
    predict_expected(&[model_dir()]);
}

#[test]
fn the_shipped_ensemble_predicts_pronunciations() {
    let mut runs = vec![model_dir()];
    runs.extend(QUICK_MEMBERS.iter().map(|(name, _)| ensemble_member(name)));
    predict_expected(&runs);
}

#[test]
fn the_ensembles_members_are_the_quick_preset_with_their_seeds() {
    for (name, seed) in QUICK_MEMBERS {
        let path = ensemble_member(name).join("config.json");
        let shipped = RunConfig::parse(&path, &std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            preset_config("g2p-cmudict-quick", &["--seed", seed]),
            shipped,
            "{name}"
        );
    }
}

#[test]
fn the_preset_makes_the_shipped_configuration() {
    // The shipped file is in format version 1 and the preset prints the current version: compare
    // them as configurations, each read as the program reads a run's config.json.
    let printed = preset_config("g2p-cmudict", &[]);
    let shipped_path = model_dir().join("config.json");
    let shipped = std::fs::read(&shipped_path).unwrap();
    assert_eq!(printed, RunConfig::parse(&shipped_path, &shipped).unwrap());
    assert_eq!(printed.version, trainer::CONFIG_VERSION);
}
