//! `cargo xtask <command>`: the project's task runner (alias in `.cargo/config.toml`).
//!
//! Today it has no commands: `train`, `eval`, `predict`, `plot` and `data` come with the
//! trainer, `bench` with the benchmark. It already sits where they will live, above `trainer`
//! in the crate graph, so that it stays a thin shell over the library.

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

No commands exist yet. The trainer (`cargo xtask train`, `eval`, `predict`, `plot`, `data`) and
the benchmark (`cargo xtask bench`) are being built. Today you can run one attention step:

    cargo run -p attention-step -- additive

and the tests:

    cargo test --workspace";

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None | Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(command) => {
            eprintln!("error: unknown command {command:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
