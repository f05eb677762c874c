//! Broken files, bad flags, kills and crashes, through the real binary: every failure is one
//! clear `error:` line (file, line, value) with a non-zero exit, never a panic, and no work is
//! lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod common;
use common::fails_with;

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const TINY: [&str; 8] = [
    "--embedding",
    "8",
    "--encoder-hidden",
    "8",
    "--decoder-hidden",
    "16",
    "--quiet",
    "--valid-limit",
];

/// A small trained `dates` run, made once and copied by the tests that damage it.
fn trained_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let mut args = vec![
            "train",
            "--epochs",
            "1",
            "--dates-sizes",
            "600,1000,1000",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(TINY);
        args.push("100");
        let result = xtask(&args);
        assert!(result.status.success(), "{}", stderr(&result));
        dir
    })
    .path()
}

fn copy_run(to: &Path) -> PathBuf {
    let from = trained_run().join("run");
    let target = to.join("run");
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(&from).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
        }
    }
    target
}

fn g2p(train: &Path) -> Output {
    let mut args = vec![
        "train",
        "--task",
        "g2p",
        "--epochs",
        "1",
        "--data",
        train.to_str().unwrap(),
    ];
    args.extend(TINY);
    args.push("10");
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("run");
    args.extend(["--out", run.to_str().unwrap()]);
    xtask(&args)
}

#[test]
fn broken_data_files_name_file_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let write = |name: &str, bytes: &[u8]| std::fs::write(path(name), bytes).unwrap();
    write("ok.test", b"CAT\tK AE T\n");

    fails_with(
        &g2p(&path("missing.train")),
        &["missing.train", "No such file"],
    );
    write("empty.train", b"");
    write("empty.test", b"CAT\tK AE T\n");
    fails_with(&g2p(&path("empty.train")), &["empty.train", "no examples"]);
    write("latin1.train", b"CAT K AE T\nCAF\xc9 K AE F EY\n");
    write("latin1.test", b"CAT\tK AE T\n");
    fails_with(
        &g2p(&path("latin1.train")),
        &["latin1.train:2:", "not valid UTF-8"],
    );
    write("nopron.train", b"CAT K AE T\nDOG\n");
    write("nopron.test", b"CAT\tK AE T\n");
    fails_with(
        &g2p(&path("nopron.train")),
        &["nopron.train:2:", "\"DOG\" has no pronunciation"],
    );
    write("badvariant.train", b"CAT K AE T\nCAT(two) K AE T\n");
    write("badvariant.test", b"CAT\tK AE T\n");
    fails_with(
        &g2p(&path("badvariant.train")),
        &["badvariant.train:2:", "CAT(two)"],
    );
    write("notest.train", b"CAT K AE T\n");
    fails_with(
        &g2p(&path("notest.train")),
        &["notest.test", "No such file"],
    );

    // Parallel text: mismatched line counts, a truncated gzip.
    let corpus = path("corpus");
    std::fs::create_dir(&corpus).unwrap();
    for split in ["train", "val", "test"] {
        std::fs::write(
            corpus.join(format!("{split}.de")),
            "ein hund\nzwei katzen\n",
        )
        .unwrap();
        std::fs::write(corpus.join(format!("{split}.en")), "a dog\ntwo cats\n").unwrap();
    }
    std::fs::write(corpus.join("val.en"), "a dog\n").unwrap();
    let run = dir.path().join("t1");
    let translate = |run: &Path| {
        let mut args = vec![
            "train",
            "--task",
            "translate",
            "--split-names",
            "train,val,test",
            "--epochs",
            "1",
            "--data",
            corpus.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend(TINY);
        args.push("10");
        xtask(&args)
    };
    fails_with(
        &translate(&run),
        &["val.de has 2 lines but", "val.en has 1"],
    );
    std::fs::write(corpus.join("val.en"), "a dog\ntwo cats\n").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all("ein hund\nzwei katzen\n".repeat(50).as_bytes())
        .unwrap();
    let gz = gz.finish().unwrap();
    std::fs::remove_file(corpus.join("train.de")).unwrap();
    std::fs::write(corpus.join("train.de.gz"), &gz[..gz.len() / 2]).unwrap();
    fails_with(
        &translate(&dir.path().join("t2")),
        &["train.de.gz", "gzip data is truncated or corrupt"],
    );
}

#[test]
fn prediction_inputs_empty_unknown_and_very_long() {
    let run = trained_run().join("run");
    let run = run.to_str().unwrap();
    fails_with(
        &xtask(&["predict", "--run", run, ""]),
        &["input 1", "is empty"],
    );

    let out = xtask(&["predict", "--run", run, "ЖЖЖ"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("3 of 3 tokens are not in the model's vocabulary and were read as <unk>"),
        "{}",
        stderr(&out)
    );

    // Longer than any training source but within the input limit: predicted, with a warning.
    let long = "3/3/98 ".repeat(10);
    let out = xtask(&["predict", "--run", run, &long]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("more than any training source"),
        "{}",
        stderr(&out)
    );
    // Over the input limit (4 x the longest training source): refused, naming it.
    let too_long = "3/3/98 ".repeat(1500);
    fails_with(
        &xtask(&["predict", "--run", run, &too_long]),
        &[
            "input 1: the input (\"3/3/98 3/3/98 3/3/98 3/3\"… of 10500 characters) has 10500 characters, more than the input limit of",
        ],
    );
}

#[test]
fn damaged_run_directories_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let eval = |run: &Path| xtask(&["eval", "--run", run.to_str().unwrap()]);

    let run = copy_run(&dir.path().join("a"));
    std::fs::remove_file(run.join("config.json")).unwrap();
    fails_with(&eval(&run), &["config.json", "No such file"]);

    let run = copy_run(&dir.path().join("b"));
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    std::fs::write(
        run.join("config.json"),
        config.replace(
            &format!("\"version\": {}", trainer::CONFIG_VERSION),
            "\"version\": 99",
        ),
    )
    .unwrap();
    fails_with(
        &eval(&run),
        &[
            "config.json",
            "format version 99 is newer than this build reads (3)",
        ],
    );

    let run = copy_run(&dir.path().join("c"));
    let bytes = std::fs::read(run.join("model.bpk")).unwrap();
    std::fs::write(run.join("model.bpk"), &bytes[..bytes.len() / 3]).unwrap();
    fails_with(&eval(&run), &["model.bpk", "not a readable model file"]);

    let run = copy_run(&dir.path().join("d"));
    let mut bytes = std::fs::read(run.join("model.bpk")).unwrap();
    for b in &mut bytes[..64] {
        *b = 0xAB;
    }
    std::fs::write(run.join("model.bpk"), bytes).unwrap();
    fails_with(&eval(&run), &["model.bpk"]);

    // Weights of another shape: the config says a bigger decoder than the checkpoint holds.
    let run = copy_run(&dir.path().join("e"));
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    std::fs::write(
        run.join("config.json"),
        config.replace("\"decoder_hidden\": 16", "\"decoder_hidden\": 24"),
    )
    .unwrap();
    fails_with(
        &eval(&run),
        &[
            "model.bpk",
            "do not fit this run's configuration and vocabularies",
        ],
    );

    // A vocabulary that does not match the checkpoint.
    let run = copy_run(&dir.path().join("f"));
    let vocab = std::fs::read_to_string(run.join("target_vocab.json")).unwrap();
    std::fs::write(
        run.join("target_vocab.json"),
        vocab.replace("\"<unk>\",", "\"<unk>\", \"extra\","),
    )
    .unwrap();
    fails_with(&eval(&run), &["model.bpk", "do not fit"]);

    let run = copy_run(&dir.path().join("g"));
    std::fs::write(run.join("source_vocab.json"), "{ not json").unwrap();
    fails_with(&eval(&run), &["source_vocab.json", "not a vocabulary file"]);
}

#[test]
fn bad_flags_name_the_flag() {
    let out = xtask(&["train", "--device", "tpu"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("invalid value 'tpu' for '--device <DEVICE>'"));
    let out = xtask(&["train", "--cell", "rnn"]);
    assert_eq!(out.status.code(), Some(2));
    let out = xtask(&["train", "--embedding", "-3"]);
    assert_eq!(out.status.code(), Some(2));
    fails_with(
        &xtask(&["train", "--decoder-hidden", "0", "--quiet"]),
        &["--decoder-hidden = 0 is invalid: must be at least 1"],
    );
    fails_with(
        &xtask(&["train", "--batch-size", "0", "--quiet"]),
        &["--batch-size = 0"],
    );
    fails_with(
        &xtask(&["train", "--lr=-1", "--quiet"]),
        &["--learning-rate = -1 is invalid"],
    );
    fails_with(
        &xtask(&["train", "--dropout", "1.5", "--quiet"]),
        &["--dropout = 1.5"],
    );
    fails_with(
        &xtask(&["train", "--source-dropout", "1", "--quiet"]),
        &["--source-dropout = 1"],
    );
    fails_with(
        &xtask(&["train", "--label-smoothing", "1", "--quiet"]),
        &["--label-smoothing = 1 is invalid: must be in [0, 1)"],
    );
    fails_with(
        &xtask(&["train", "--threads", "0", "--quiet"]),
        &["--threads = 0"],
    );
    // A task's own flag given to another task is refused, not ignored.
    fails_with(
        &xtask(&["train", "--task", "translate", "--stress", "--quiet"]),
        &["--task = translate is invalid: --stress applies to --task g2p only"],
    );
    fails_with(
        &xtask(&["train", "--dev-every", "3", "--quiet"]),
        &["--task = dates is invalid: --dev-every applies to --task g2p only"],
    );
    fails_with(
        &xtask(&[
            "train",
            "--task",
            "g2p",
            "--vocabulary",
            "bpe:500",
            "--quiet",
        ]),
        &["--task = g2p is invalid: --vocabulary applies to --task translate only"],
    );
    fails_with(&xtask(&["bench", "--threads", "0"]), &["--threads = 0"]);
    fails_with(
        &xtask(&[
            "train",
            "--score",
            "dot",
            "--encoder-hidden",
            "64",
            "--decoder-hidden",
            "100",
            "--quiet",
            "--epochs",
            "1",
        ]),
        &["the dot score needs query and key vectors of one size"],
    );
    fails_with(
        &xtask(&[
            "eval",
            "--run",
            trained_run().join("run").to_str().unwrap(),
            "--beam",
            "0",
        ]),
        &["--beam = 0"],
    );
}

#[test]
fn a_diverging_run_stops_with_a_clear_error_and_keeps_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut args = vec![
        "train",
        "--epochs",
        "3",
        "--dates-sizes",
        "600,1000,1000",
        "--lr",
        "1e30",
        "--clip-norm",
        "0",
        "--out",
        run.to_str().unwrap(),
    ];
    args.extend(TINY);
    args.push("50");
    fails_with(
        &xtask(&args),
        &[
            "training diverged: loss",
            "the last good checkpoint is kept",
        ],
    );
    assert!(
        run.join("config.json").is_file(),
        "the run's files are kept"
    );
}

/// Writes that were cut short (a temporary file or checkpoint directory left by a crash) are
/// ignored: the run evaluates and resumes from its last complete checkpoint.
#[test]
fn half_written_files_never_replace_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let mut args = vec![
        "train",
        "--epochs",
        "1",
        "--dates-sizes",
        "600,1000,1000",
        "--out",
        run.to_str().unwrap(),
    ];
    args.extend(TINY);
    args.push("50");
    assert!(xtask(&args).status.success());
    // A crash in the middle of writing the next model and the next checkpoint.
    std::fs::write(run.join(".model.bpk.tmp"), b"half a model").unwrap();
    let partial = run.join("checkpoints/.step-00009999.tmp");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("model.bpk"), b"half").unwrap();
    let out = xtask(&["eval", "--run", run.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A resumed run keeps its own configuration: no model or data flags (they are refused).
    let out = xtask(&[
        "train",
        "--resume",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("trained 2 epochs"));
}

/// `--resume` without `--epochs` finishes the run's own epochs (not the flag's default), and a
/// changed `--epochs` is recorded in the run's `config.json`.
#[test]
fn resume_keeps_the_run_s_epoch_count_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--quiet", "--out", run.to_str().unwrap()];
        args.extend(extra);
        if !extra.contains(&"--resume") {
            // A resumed run keeps its own configuration (these flags are refused there).
            args.extend(["--dates-sizes", "300,1000,1000"]);
            args.extend(TINY);
            args.push("20");
        }
        let out = xtask(&args);
        assert!(out.status.success(), "{}", stderr(&out));
    };
    let epochs_trained = || {
        std::fs::read_to_string(run.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count()
    };
    let configured = || -> u64 {
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("config.json")).unwrap()).unwrap();
        config["training"]["epochs"].as_u64().unwrap()
    };
    train(&["--epochs", "1"]);
    train(&["--resume", "--epochs", "2"]);
    assert_eq!((epochs_trained(), configured()), (2, 2));
    train(&["--resume"]);
    assert_eq!(
        (epochs_trained(), configured()),
        (2, 2),
        "not the default 10"
    );
}

/// `kill -9` in the middle of epoch 2, then `--resume`: epoch 2's losses equal those of a run
/// that was never interrupted.
#[test]
fn kill_9_then_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    let args = |out: &Path| -> Vec<String> {
        let mut a: Vec<String> = [
            "train",
            "--epochs",
            "2",
            "--dates-sizes",
            "4000,1000,1000",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec();
        a.extend(TINY.map(String::from));
        a.push("50".into());
        a
    };
    let out = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(args(&whole))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let mut child = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(args(&killed))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let metrics = killed.join("metrics.jsonl");
    while !metrics.exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let lines = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(lines.lines().count(), 1, "killed during epoch 2");

    // The run's own configuration, 2 epochs included.
    let out = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args([
            "train",
            "--resume",
            "--quiet",
            "--out",
            killed.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |p: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (a, b) = (read(&whole), read(&killed));
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 2);
    for key in ["train_loss", "valid_loss", "valid"] {
        assert_eq!(a[1][key], b[1][key], "epoch 2 {key}");
    }
}

#[test]
fn eval_data_scores_a_file_of_the_user_s_own_and_names_a_bad_line() {
    let run = trained_run().join("run");
    let run = run.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine.tsv");
    std::fs::write(&mine, "3/3/98\t1998-03-03\n\nmarch 4, 1999\t1999-03-04\n").unwrap();
    let report = dir.path().join("report.json");
    let out = xtask(&[
        "eval",
        "--run",
        run,
        "--data",
        mine.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("(2 items, greedy)"), "{printed}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(saved["items"], 2);
    assert_eq!(saved["examples"][1]["references"][0], "1999-03-04");

    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "3/3/98\t1998-03-03\n3/4/98 1998-04-03\n").unwrap();
    fails_with(
        &xtask(&["eval", "--run", run, "--data", bad.to_str().unwrap()]),
        &["bad.tsv:2:", "is not INPUT<TAB>OUTPUT"],
    );
}
