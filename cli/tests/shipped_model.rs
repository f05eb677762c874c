//! The G2P models shipped in `models/` work from a fresh clone, and are what their presets and
//! flags train: `g2p-cmudict` (the quick preset with label smoothing 0.1 and a two-layer
//! encoder), the ensemble of it with the runs in `g2p-cmudict-ensemble/`, and
//! `g2p-cmudict-stress` (the same recipe with stress digits, stored in half precision).

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

/// The shipped single model's flags after `--preset g2p-cmudict-quick`.
const SINGLE_FLAGS: [&str; 6] = [
    "--label-smoothing",
    "0.1",
    "--encoder-layers",
    "2",
    "--keep-checkpoints",
    "5",
];

/// A run directory in `g2p-cmudict-ensemble/`: its name, the preset and the further flags that
/// train it.
type Run = (&'static str, &'static str, &'static [&'static str]);

/// The ensemble's members besides `models/g2p-cmudict`: two more seeds of its recipe (the second
/// with a longer patience and a fixed number of epochs) and a one-layer run.
fn members() -> [(&'static str, &'static str, Vec<&'static str>); 3] {
    let single_with = |extra: &[&'static str]| [&SINGLE_FLAGS[..], extra].concat();
    [
        (
            "quick-smooth-l2-seed7",
            "g2p-cmudict-quick",
            single_with(&["--seed", "7"]),
        ),
        (
            "quick-smooth-seed42",
            "g2p-cmudict-quick",
            vec!["--label-smoothing", "0.1", "--keep-checkpoints", "5"],
        ),
        (
            "quick-smooth-l2-seed5",
            "g2p-cmudict-quick",
            single_with(&["--seed", "5", "--patience", "4", "--epochs", "22"]),
        ),
    ]
}

/// Runs of earlier ensembles, kept beside it for `docs/results.md`'s tables (and as test
/// fixtures of older file formats).
const EARLIER: [Run; 4] = [
    (
        "quick-smooth-seed7",
        "g2p-cmudict-quick",
        &["--label-smoothing", "0.1", "--seed", "7"],
    ),
    ("full-seed42", "g2p-cmudict", &[]),
    ("quick-seed42", "g2p-cmudict-quick", &["--seed", "42"]),
    ("quick-seed7", "g2p-cmudict-quick", &["--seed", "7"]),
];

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/g2p-cmudict")
}

fn ensemble_member(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/g2p-cmudict-ensemble")
        .join(name)
}

/// What `train --preset PRESET EXTRA… --print-config` prints, on g014b2b.train.
fn preset_config(preset: &str, extra: &[&str]) -> RunConfig {
    preset_config_on("../shared/data/cmudict/g014b2b.train", preset, extra)
}

/// What `train --preset PRESET --data DATA EXTRA… --print-config` prints.
fn preset_config_on(data: &str, preset: &str, extra: &[&str]) -> RunConfig {
    let mut args = vec![
        "train",
        "--preset",
        preset,
        "--data",
        data,
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
    runs.extend(members().iter().map(|(name, _, _)| ensemble_member(name)));
    predict_expected(&runs);
}

/// `dir`'s config.json, read as the program reads a run's (older format versions included).
fn shipped_config(dir: &std::path::Path) -> RunConfig {
    let path = dir.join("config.json");
    RunConfig::parse(&path, &std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn the_ensembles_runs_are_what_their_presets_and_flags_make() {
    let earlier = EARLIER.map(|(name, preset, flags)| (name, preset, flags.to_vec()));
    for (name, preset, flags) in members().into_iter().chain(earlier) {
        assert_eq!(
            preset_config(preset, &flags),
            shipped_config(&ensemble_member(name)),
            "{name}"
        );
    }
}

#[test]
fn the_preset_and_flags_make_the_shipped_configuration() {
    let printed = preset_config("g2p-cmudict-quick", &SINGLE_FLAGS);
    assert_eq!(printed, shipped_config(&model_dir()));
    assert_eq!(printed.version, trainer::CONFIG_VERSION);
}

fn stress_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/g2p-cmudict-stress")
}

#[test]
fn the_stressed_model_writes_stress_digits_and_is_what_its_preset_makes() {
    let dir = stress_dir();
    let out = xtask(&[
        "predict",
        "--run",
        dir.to_str().unwrap(),
        "attention",
        "abating",
        "Abella",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "AH0 T EH1 N SH AH0 N\nAH0 B EY1 T IH0 NG\nAH0 B EH1 L AH0\n"
    );
    let printed = preset_config_on(
        "../shared/data/cmudict-stress/g014b2b-stress.train",
        "g2p-cmudict-stress",
        &[],
    );
    assert_eq!(printed, shipped_config(&dir));
    assert!(printed.task.stress);

    // Its run says `task.stress`, so a lexicon's entries keep their digits.
    let lexicon = tempfile::tempdir().unwrap();
    let file = lexicon.path().join("lexicon.dict");
    std::fs::write(&file, "PHONEME  F OW1 N IY0 M\n").unwrap();
    let out = xtask(&[
        "predict",
        "--run",
        dir.to_str().unwrap(),
        "--lexicon",
        file.to_str().unwrap(),
        "phoneme",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "F OW1 N IY0 M\n");
}
