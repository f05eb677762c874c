//! What the binary's integration tests share.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Runs the binary with `args` in the repository's root, `stdin` written to it from another
/// thread (so that a large input and the output the binary streams meanwhile cannot block each
/// other), and waits for it.
#[allow(dead_code)] // Not every test binary that shares this module runs the binary this way.
pub fn seq2seq(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seq2seq"))
        .current_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.unwrap_or_default().to_vec();
    let writer = std::thread::spawn(move || input.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    out
}

/// Asserts a clean failure: exit 1, no panic, an `error:` line containing every `needle`.
#[allow(dead_code)] // Not every test binary that shares this module checks failures.
pub fn fails_with(out: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit status; stderr: {err}");
    assert!(!err.contains("panicked"), "a panic: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {err}"));
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} not in {line:?}");
    }
}
