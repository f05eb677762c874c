//! What a run records about the code it was made from.

use std::path::Path;
use std::process::Command;

use trainer::git_commit_in;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn the_commit_is_marked_dirty_when_tracked_files_changed() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(git_commit_in(dir.path()), None, "not a checkout");

    git(dir.path(), &["init", "--quiet"]);
    std::fs::write(dir.path().join("model.rs"), "fn a() {}\n").unwrap();
    git(dir.path(), &["add", "model.rs"]);
    git(dir.path(), &["commit", "--quiet", "-m", "first"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    assert_eq!(git_commit_in(dir.path()), Some(head.clone()));

    std::fs::write(
        dir.path().join("notes.txt"),
        "untracked files do not count\n",
    )
    .unwrap();
    assert_eq!(git_commit_in(dir.path()), Some(head.clone()));

    std::fs::write(dir.path().join("model.rs"), "fn b() {}\n").unwrap();
    assert_eq!(git_commit_in(dir.path()), Some(format!("{head}-dirty")));
}
