//! The command sized to its machine: `seq2seq serve` as users start it (a free port of
//! 127.0.0.1, answering, stopped by SIGTERM with exit status 0), and `--threads` beyond the
//! cores the process may use.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn serve_answers_on_localhost_and_stops_cleanly_on_sigterm() {
    let lexicon = std::env::temp_dir().join(format!("serve-lexicon-{}.dict", std::process::id()));
    std::fs::write(&lexicon, "PHONEME  F OW1 N IY0 M\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "serve",
            "--run",
            "models/g2p-cmudict",
            "--port",
            "0",
            "--lexicon",
        ])
        .arg(&lexicon)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let address = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{first}");

    let body = r#"{"inputs": ["attention", "phoneme"]}"#;
    let mut stream = TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "POST /v1/models/g2p-cmudict/predict HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#""output":"AH T EH N SH AH N""#),
        "{answer}"
    );

    // SAFETY: kill only sends a signal to the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}: {rest}");
    assert!(
        rest.contains("stopped: every request in flight was answered"),
        "{rest}"
    );
}

#[test]
fn threads_beyond_the_cores_the_process_may_use_warn() {
    let dir = std::env::temp_dir().join(format!("seq2seq-threads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new("taskset")
        .args([
            "-c",
            "0",
            env!("CARGO_BIN_EXE_seq2seq"),
            "train",
            "--threads",
            "2",
            "--epochs",
            "1",
        ])
        .args(["--dates-sizes", "200,50,50", "--quiet", "--out"])
        .arg(&dir)
        .output()
        .expect("taskset (util-linux) runs");
    let _ = std::fs::remove_dir_all(&dir);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: --threads 2 is more than the 1 core(s) this process may use"),
        "{err}"
    );
}
