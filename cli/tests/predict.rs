//! `predict` and `eval --data` as G2P users run them, on the shipped model through the real
//! binary: n-best lists with log-probabilities, lexicon output read back, bad lines that cost
//! nothing else, streaming, beam limits, and their users' own test files.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

mod common;
use common::{fails_with, seq2seq};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model() -> String {
    repo().join("models/g2p-cmudict").display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn n_best_lists_come_with_log_probabilities_in_text_and_json() {
    let run = model();
    let args = ["predict", "--run", &run, "--beam", "5", "--nbest", "3"];
    let json = seq2seq(
        &[&args[..], &["--format", "json", "attention", "read"]].concat(),
        None,
    );
    assert_ok(&json);
    let lines: Vec<serde_json::Value> = text(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let n_best = line["n_best"].as_array().unwrap();
        assert_eq!(n_best.len(), 3, "{line}");
        assert_eq!(n_best[0]["output"], line["output"]);
        assert_eq!(n_best[0]["log_prob"], line["log_prob"]);
        let scores: Vec<f64> = n_best
            .iter()
            .map(|h| h["score"].as_f64().unwrap())
            .collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "best first: {scores:?}"
        );
        assert!(n_best.iter().all(|h| h["log_prob"].as_f64().unwrap() < 0.0));
        let outputs: Vec<&str> = n_best
            .iter()
            .map(|h| h["output"].as_str().unwrap())
            .collect();
        assert!(
            outputs
                .iter()
                .all(|o| outputs.iter().filter(|p| p == &o).count() == 1)
        );
    }
    assert_eq!(lines[0]["output"], "AH T EH N SH AH N");

    let plain = seq2seq(&[&args[..], &["attention"]].concat(), None);
    assert_ok(&plain);
    let rows: Vec<(String, f64)> = text(&plain.stdout)
        .lines()
        .map(|l| {
            let (output, lp) = l.split_once('\t').unwrap();
            (output.to_string(), lp.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].0, "AH T EH N SH AH N");
    let json_lp = lines[0]["log_prob"].as_f64().unwrap();
    assert!(
        (rows[0].1 - json_lp).abs() < 1e-4,
        "{} vs {json_lp}",
        rows[0].1
    );
}

#[test]
fn a_lexicon_output_reads_back_as_a_dictionary_for_eval() {
    let dir = tempfile::tempdir().unwrap();
    let run = model();
    let words = b"attention\nABBY\nread\n";
    for (scores, name) in [(false, "plain.dict"), (true, "scored.dict")] {
        let mut args = vec!["predict", "--run", &run, "--beam", "5", "--nbest", "2"];
        args.extend(["--format", "lexicon"]);
        if scores {
            args.push("--scores");
        }
        let out = seq2seq(&args, Some(words));
        assert_ok(&out);
        let lexicon = text(&out.stdout);
        let lines: Vec<&str> = lexicon.lines().collect();
        assert_eq!(lines.len(), 6, "{lexicon}");
        assert!(lines[0].starts_with("attention\t"), "{lexicon}");
        assert!(
            lines[2].starts_with("ABBY\t"),
            "the word as given: {lexicon}"
        );
        let columns = if scores { 3 } else { 2 };
        assert!(
            lines.iter().all(|l| l.split('\t').count() == columns),
            "{lexicon}"
        );
        let path = dir.path().join(name);
        std::fs::write(&path, &lexicon).unwrap();

        // Every word's 1-best is one of its two variants: the model scores 0 % WER on it.
        let report = dir.path().join(format!("{name}.json"));
        let eval = seq2seq(
            &[
                "eval",
                "--run",
                &run,
                "--beam",
                "5",
                "--data",
                path.to_str().unwrap(),
                "--out",
                report.to_str().unwrap(),
            ],
            None,
        );
        assert_ok(&eval);
        let printed = text(&eval.stdout);
        assert!(printed.contains("(3 items, beam 5)"), "{printed}");
        assert!(printed.contains("wer 0.00"), "{printed}");
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        assert_eq!(saved["items"], 3);
        assert_eq!(
            saved["examples"][0]["references"].as_array().unwrap().len(),
            2
        );
    }
}

#[test]
fn eval_data_reports_bad_files_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = model();
    let bad = dir.path().join("bad.dict");
    std::fs::write(&bad, "ABLE\tEY B AH L\nLONELY\n").unwrap();
    let eval = |path: &Path| {
        seq2seq(
            &["eval", "--run", &run, "--data", path.to_str().unwrap()],
            None,
        )
    };
    fails_with(&eval(&bad), &["bad.dict:2:", "LONELY", "no pronunciation"]);
    fails_with(&eval(&dir.path().join("missing.dict")), &["missing.dict"]);
    let empty = dir.path().join("empty.dict");
    std::fs::write(&empty, ";;; only a comment\n").unwrap();
    fails_with(&eval(&empty), &["empty.dict"]);
    assert!(
        !run_dir_has("eval-data-bad.dict.json"),
        "no report for a failed eval"
    );
}

fn run_dir_has(name: &str) -> bool {
    Path::new(&model()).join(name).exists()
}

#[test]
fn one_bad_line_costs_nothing_else_and_fails_the_exit_status() {
    let run = model();
    let out = seq2seq(
        &["predict", "--run", &run],
        Some(b"hello\n\n\xff\xfeoops\r\nWORLD\r\n   \n"),
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["HH EH L OW", "", "", "W ER L D", ""],
        "aligned with the input"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: line 2: \"\" is empty"),
        "{stderr}"
    );
    assert!(stderr.contains("warning: line 3: is not UTF-8"), "{stderr}");
    assert!(stderr.contains("warning: line 5:"), "{stderr}");
    fails_with(&out, &["3 of 5 inputs", "could not be predicted", "line 2"]);

    let json = seq2seq(
        &["predict", "--run", &run, "--json"],
        Some(b"hello\n\nworld\n"),
    );
    let rows: Vec<serde_json::Value> = text(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["output"], "HH EH L OW");
    assert!(rows[1]["error"].as_str().unwrap().contains("line 2"));
    assert_eq!(rows[2]["output"], "W ER L D");
    assert_eq!(json.status.code(), Some(1));
}

#[test]
fn a_pipe_sees_each_output_before_the_input_ends() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .args(["predict", "--run", &model()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = BufReader::new(child.stdout.take().unwrap());
    let (sender, receiver) = std::sync::mpsc::channel();
    input.write_all(b"hello\n").unwrap();
    input.flush().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        sender.send(line).unwrap();
    });
    // The input is still open: the answer must come anyway.
    let line = receiver
        .recv_timeout(Duration::from_secs(120))
        .expect("no output while the input was open");
    assert_eq!(line, "HH EH L OW\n");
    drop(input);
    assert!(child.wait().unwrap().success());
}

#[test]
fn beams_too_wide_and_n_best_beyond_the_beam_are_refused() {
    let run = model();
    let started = std::time::Instant::now();
    let wide = seq2seq(
        &["predict", "--run", &run, "--beam", "100000", "hello"],
        None,
    );
    fails_with(&wide, &["--beam", "100000", "between 1 and 64"]);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "refused before decoding"
    );
    let n_best = seq2seq(
        &[
            "predict", "--run", &run, "--beam", "2", "--nbest", "3", "hello",
        ],
        None,
    );
    fails_with(&n_best, &["--nbest", "3", "beam width (2)"]);
    let scores = seq2seq(&["predict", "--run", &run, "--scores", "hello"], None);
    fails_with(&scores, &["--scores", "--format lexicon only"]);
    let eval = seq2seq(&["eval", "--run", &run, "--beam", "0"], None);
    fails_with(&eval, &["--beam", "0"]);
}

#[test]
fn case_is_folded_and_outputs_cut_at_the_length_limit_say_so() {
    let run = model();
    let out = seq2seq(&["predict", "--run", &run, "Attention", "ATTENTION"], None);
    assert_ok(&out);
    assert_eq!(text(&out.stdout), "AH T EH N SH AH N\nAH T EH N SH AH N\n");

    // The same model with a length limit of 2 tokens.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(model()).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let config = dir.path().join("config.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    json["decoding"]["max_length_ratio"] = 0.0.into();
    json["decoding"]["max_length_extra"] = 2.into();
    std::fs::write(&config, serde_json::to_vec(&json).unwrap()).unwrap();
    let cut = seq2seq(
        &[
            "predict",
            "--run",
            dir.path().to_str().unwrap(),
            "attention",
        ],
        None,
    );
    assert_ok(&cut);
    assert_eq!(text(&cut.stdout), "AH T\n");
    assert!(
        text(&cut.stderr).contains("the output was cut at the length limit of 2 tokens"),
        "{}",
        text(&cut.stderr)
    );
}

#[test]
fn runs_given_together_predict_evaluate_and_plot_as_an_ensemble() {
    let dir = tempfile::tempdir().unwrap();
    let run = model();
    // A copy of the run is another run with its vocabulary: the ensemble of the two averages
    // equal log-probabilities, so it predicts as the run alone.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for file in [
        "config.json",
        "source_vocab.json",
        "target_vocab.json",
        "model.bpk",
    ] {
        std::fs::copy(Path::new(&run).join(file), copy.join(file)).unwrap();
    }
    let copy = copy.to_str().unwrap();
    let words = ["attention", "read"];
    let alone = seq2seq(
        &[
            &["predict", "--run", &run, "--beam", "5", "--json"],
            &words[..],
        ]
        .concat(),
        None,
    );
    let both = seq2seq(
        &[
            &[
                "predict", "--run", &run, "--run", copy, "--beam", "5", "--json",
            ],
            &words[..],
        ]
        .concat(),
        None,
    );
    assert_ok(&alone);
    assert_ok(&both);
    assert!(
        text(&both.stderr).contains("an ensemble of 2 runs"),
        "{}",
        text(&both.stderr)
    );
    for (a, b) in text(&alone.stdout).lines().zip(text(&both.stdout).lines()) {
        let (a, b): (serde_json::Value, serde_json::Value) = (
            serde_json::from_str(a).unwrap(),
            serde_json::from_str(b).unwrap(),
        );
        assert_eq!(a["output"], b["output"]);
        let (x, y) = (
            a["log_prob"].as_f64().unwrap(),
            b["log_prob"].as_f64().unwrap(),
        );
        assert!((x - y).abs() < 1e-4, "{x} vs {y}");
    }

    // eval records the runs; plot names its pictures apart and says whose weights they are.
    let lexicon = dir.path().join("words.dict");
    std::fs::write(&lexicon, "attention\tAH T EH N SH AH N\nread\tR IY D\n").unwrap();
    let report = dir.path().join("report.json");
    let eval = seq2seq(
        &[
            "eval",
            "--run",
            &run,
            "--run",
            copy,
            "--data",
            lexicon.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
        ],
        None,
    );
    assert_ok(&eval);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(saved["runs"].as_array().unwrap().len(), 2, "{saved}");
    let plots = dir.path().join("plots");
    let plot = seq2seq(
        &[
            "plot",
            "--run",
            &run,
            "--run",
            copy,
            "--out",
            plots.to_str().unwrap(),
            "attention",
        ],
        None,
    );
    assert_ok(&plot);
    assert!(
        text(&plot.stdout).contains("the mean of the 2 models' weights"),
        "{}",
        text(&plot.stdout)
    );
    assert!(plots.join("attention-ensemble-2.png").exists());

    // A run with another vocabulary is refused by name.
    let vocab = Path::new(copy).join("target_vocab.json");
    let swapped = std::fs::read_to_string(&vocab)
        .unwrap()
        .replacen("\"AH\"", "\"@@\"", 1)
        .replacen("\"N\"", "\"AH\"", 1)
        .replacen("\"@@\"", "\"N\"", 1);
    std::fs::write(&vocab, swapped).unwrap();
    fails_with(
        &seq2seq(&["predict", "--run", &run, "--run", copy, "read"], None),
        &["copy/target_vocab.json", "differs"],
    );
    // A run named twice (here by another spelling of its path) is refused, not averaged with
    // itself.
    let again = format!("{copy}/../copy");
    fails_with(
        &seq2seq(&["predict", "--run", copy, "--run", &again, "read"], None),
        &["is named twice"],
    );
}

#[test]
fn a_megabyte_line_is_refused_unread_and_the_next_line_predicted() {
    // Apart and together: the long line first, then a word, as a user's pipe would send them.
    let mut input = "a".repeat(1 << 20).into_bytes();
    input.extend_from_slice(b"\nattention\n");
    let out = seq2seq(&["predict", "--run", &model(), "--beam", "1"], Some(&input));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\nAH T EH N SH AH N\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: line 1: has 1048577 bytes, more than an input within the input limit of 88 tokens can have (11264 bytes): it was not read"),
        "{err}"
    );
    assert!(
        err.contains("error: 1 of 2 inputs could not be predicted (line 1: "),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn max_input_tokens_sets_the_limit_for_predict_plot_and_eval() {
    let run = model();
    let out = seq2seq(
        &[
            "predict",
            "--run",
            &run,
            "--max-input-tokens",
            "5",
            "attention",
            "hello",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\nHH EH L OW\n");
    assert!(text(&out.stderr).contains(
        "warning: input 1: the input (\"attention\") has 9 tokens, more than the input limit of 5 tokens"
    ));
    let plotted = seq2seq(
        &[
            "plot",
            "--run",
            &run,
            "--max-input-tokens",
            "5",
            "attention",
            "--out",
            "/nonexistent",
        ],
        None,
    );
    fails_with(
        &plotted,
        &["input 1: the input (\"attention\") has 9 tokens"],
    );
    let zero = seq2seq(
        &["predict", "--run", &run, "--max-input-tokens", "0", "a"],
        None,
    );
    fails_with(
        &zero,
        &["--max-input-tokens = 0 is invalid: must be at least 1"],
    );
    let dir = tempfile::tempdir().unwrap();
    let lexicon = dir.path().join("long.dict");
    std::fs::write(&lexicon, "cat\tK AE T\nattention\tAH T EH N SH AH N\n").unwrap();
    let lexicon = lexicon.display().to_string();
    let eval = seq2seq(
        &[
            "eval",
            "--run",
            &run,
            "--data",
            &lexicon,
            "--max-input-tokens",
            "5",
            "--out",
            "/nonexistent/e.json",
        ],
        None,
    );
    fails_with(
        &eval,
        &[
            "long.dict: item 2 (\"attention\") has 9 source tokens, more than the input limit of 5: nothing was scored",
        ],
    );
}

#[test]
fn a_lexicon_is_looked_up_first_and_the_json_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let lexicon = dir.path().join("my.dict");
    std::fs::write(
        &lexicon,
        ";;; stress digits are dropped: the model writes none\nPHONEME  F OW1 N IY0 M\nREAD  R IY1 D\nREAD(2)  R EH1 D\n",
    )
    .unwrap();
    let lexicon = lexicon.display().to_string();
    let run = model();
    let out = seq2seq(
        &[
            "predict",
            "--run",
            &run,
            "--lexicon",
            &lexicon,
            "--json",
            "Phoneme",
            "attention",
        ],
        None,
    );
    assert_ok(&out);
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["output"], "F OW N IY M");
    assert_eq!(lines[0]["origin"], "lexicon");
    assert_eq!(lines[0]["weights"], serde_json::json!([]));
    assert_eq!(lines[1]["origin"], "model");
    assert_eq!(lines[1]["output"], "AH T EH N SH AH N");

    // --nbest: every listed pronunciation first (log-probability 0), then the model's.
    let out = seq2seq(
        &[
            "predict",
            "--run",
            &run,
            "--lexicon",
            &lexicon,
            "--nbest",
            "3",
            "read",
        ],
        None,
    );
    assert_ok(&out);
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    assert_eq!(lines[..2], ["R IY D\t0.0000", "R EH D\t0.0000"]);
    assert_eq!(lines.len(), 3);
    assert!(!lines[2].starts_with("R IY D\t") && !lines[2].starts_with("R EH D\t"));

    let plotted = seq2seq(
        &[
            "plot",
            "--run",
            &run,
            "--lexicon",
            &lexicon,
            "phoneme",
            "--out",
            &dir.path().display().to_string(),
        ],
        None,
    );
    assert_ok(&plotted);
    assert!(text(&plotted.stdout).contains(
        "\"phoneme\" is in the lexicon (F OW N IY M); the pictures show the model's own prediction"
    ));
}

#[test]
fn a_bad_lexicon_or_one_for_another_task_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.dict");
    std::fs::write(&bad, "CAT K AE T\nDOG\n").unwrap();
    let bad = bad.display().to_string();
    let out = seq2seq(
        &["predict", "--run", &model(), "--lexicon", &bad, "cat"],
        None,
    );
    fails_with(
        &out,
        &["bad.dict: line 2: the word \"DOG\" has no pronunciation"],
    );
    let missing = seq2seq(
        &[
            "predict",
            "--run",
            &model(),
            "--lexicon",
            "/nonexistent.dict",
            "cat",
        ],
        None,
    );
    fails_with(&missing, &["/nonexistent.dict: No such file or directory"]);
    let good = dir.path().join("good.dict");
    std::fs::write(&good, "CAT K AE T\n").unwrap();
    let translation = repo().join("models/multi30k-de-en").display().to_string();
    let out = seq2seq(
        &[
            "predict",
            "--run",
            &translation,
            "--lexicon",
            &good.display().to_string(),
            "Hallo",
        ],
        None,
    );
    fails_with(
        &out,
        &[
            "--lexicon = (given) is invalid: a pronunciation lexicon applies to g2p runs; this run's task is translate",
        ],
    );
}

#[test]
fn running_text_is_pronounced_word_by_word_with_numbers_spelled_and_punctuation_kept() {
    let dir = tempfile::tempdir().unwrap();
    let lexicon = dir.path().join("my.dict");
    std::fs::write(&lexicon, "HELLO  HH AH0 L OW1\n").unwrap();
    let lexicon = lexicon.display().to_string();
    let run = model();
    let input = b"Hello, world! It's 2026.\n\nphoneme\n";
    let out = seq2seq(
        &[
            "predict",
            "--run",
            &run,
            "--lexicon",
            &lexicon,
            "--beam",
            "1",
            "--running-text",
        ],
        Some(input),
    );
    assert_ok(&out);
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let words = seq2seq(
        &[
            "predict", "--run", &run, "--beam", "1", "world", "it's", "twenty", "six", "phoneme",
        ],
        None,
    );
    let w: Vec<String> = text(&words.stdout).lines().map(String::from).collect();
    assert_eq!(
        lines[0],
        format!(
            "HH AH L OW | , | {} | ! | {} | {} | {} | {} | .",
            w[0], w[1], w[2], w[2], w[3]
        )
    );
    assert_eq!(lines[1], "", "a blank line stays blank");
    assert_eq!(lines[2], w[4]);

    let json = seq2seq(
        &[
            "predict",
            "--run",
            &run,
            "--lexicon",
            &lexicon,
            "--running-text",
            "--json",
            "Hi, 2nd!",
        ],
        None,
    );
    assert_ok(&json);
    let value: serde_json::Value = serde_json::from_str(text(&json.stdout).trim()).unwrap();
    let tokens = value["tokens"].as_array().unwrap();
    let texts: Vec<&str> = tokens.iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["hi", ",", "second", "!"]);
    assert_eq!(tokens[1]["pronunciation"], serde_json::Value::Null);
    assert_eq!(tokens[2]["from"], "2nd");
    assert_eq!(tokens[2]["origin"], "model");

    let translation = repo().join("models/multi30k-de-en").display().to_string();
    let refused = seq2seq(
        &["predict", "--run", &translation, "--running-text", "Hallo"],
        None,
    );
    fails_with(
        &refused,
        &["--running-text = (given) is invalid: reads text for a g2p run"],
    );
}
