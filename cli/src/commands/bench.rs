//! `bench`: the benchmark workloads timed in a release build (the shared spec's, the presets'
//! training steps, the `g2p` decoding race against Phonetisaurus), side by side with their
//! references.

use std::path::PathBuf;

use clap::Args;
use trainer::{Backend, TrainerError};

use crate::train_args::backends;
use crate::{bench, bench_g2p};

/// `bench`'s arguments.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Backend to time.
    #[arg(long, default_value = "flex", value_parser = backends())]
    device: Backend,
    /// Timed iterations per workload (after two warm-up runs).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Also time train_step at source/target lengths 24 and 48.
    #[arg(long)]
    sweep: bool,
    /// Threads (ours: batch shards, one per thread; PyTorch: its intra-op threads). Default:
    /// every core, as the benchmark spec says.
    #[arg(long)]
    threads: Option<usize>,
    /// Also run the PyTorch reference with this Python, alternating with ours (--rounds times
    /// each, in separate processes), and print the medians side by side.
    #[arg(long, value_name = "PYTHON")]
    torch: Option<PathBuf>,
    /// The PyTorch reference script (with --torch).
    #[arg(long, default_value = "../shared/bench/torch_ref.py")]
    torch_ref: PathBuf,
    /// The PyTorch twin of the `g2p_train_step` workload (with --torch).
    #[arg(long, default_value = "bench/g2p_torch_ref.py")]
    g2p_torch_ref: PathBuf,
    /// The PyTorch twin of the `translate_train_step` workload (with --torch).
    #[arg(long, default_value = "bench/translate_torch_ref.py")]
    translate_torch_ref: PathBuf,
    /// Alternating rounds (with --torch or --phonetisaurus).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Time the `g2p` workload instead: `seq2seq predict` with the G2P model of --g2p-run
    /// decoding every word of --g2p-words on its standard input (greedy and beam 5, every
    /// core), in words per CPU-second with peak memory, each a process of its own; and greedy's
    /// multiply-adds per CPU-second against one core's GEMM peak.
    #[arg(long)]
    g2p: bool,
    /// With --g2p: the model's run directory.
    #[arg(long, default_value = "models/g2p-cmudict", value_name = "RUN")]
    g2p_run: PathBuf,
    /// With --g2p: the words (a CMUdict-format file; its pronunciations score the outputs).
    /// Default: the run's own test file (`task.test_data`, or its training file's `.test`
    /// sibling).
    #[arg(long, value_name = "FILE")]
    g2p_words: Option<PathBuf>,
    /// With --g2p: also run Phonetisaurus with this Python (bench/phonetisaurus_ref.py installs
    /// Phonetisaurus 0.3.0 into target/phonetisaurus/venv and trains it once on --g2p-train),
    /// alternating with ours, and print the medians side by side.
    #[arg(long, value_name = "PYTHON", requires = "g2p")]
    phonetisaurus: Option<PathBuf>,
    /// With --phonetisaurus: the reference script.
    #[arg(long, default_value = "bench/phonetisaurus_ref.py")]
    phonetisaurus_ref: PathBuf,
    /// With --phonetisaurus: the dictionary Phonetisaurus trains on. Default: the run's own
    /// training file (`task.data`).
    #[arg(long, value_name = "FILE")]
    g2p_train: Option<PathBuf>,
}

/// Runs `bench` with its arguments.
pub fn run(args: BenchArgs) -> Result<(), TrainerError> {
    if args.steps == 0 {
        return Err(TrainerError::invalid("--steps", 0, "must be at least 1"));
    }
    let threads = match args.threads {
        Some(0) => return Err(TrainerError::invalid("--threads", 0, "must be at least 1")),
        Some(n) => {
            crate::warn_if_oversubscribed(n);
            n
        }
        None => trainer::cores(),
    };
    if env!("SEQ2SEQ_BUILD_PROFILE") != "release" {
        // Figures are measured on the release build: run it instead, with the same arguments
        // (the test build is unoptimised; the dev build is optimised but not the same code).
        let mut command =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command.args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "seq2seq-cli",
            "--no-default-features",
            "--features",
        ]);
        command
            .arg(args.device.name())
            .arg("--")
            .args(std::env::args_os().skip(1));
        let status = command.status().map_err(|e| TrainerError::io("cargo", e))?;
        if !status.success() {
            return Err(TrainerError::invalid(
                "bench",
                status,
                "the release build or the benchmark failed",
            ));
        }
        return Ok(());
    }
    if args.rounds == 0 {
        return Err(TrainerError::invalid("--rounds", 0, "must be at least 1"));
    }
    if args.g2p {
        return bench_g2p::run(&bench_g2p::G2pBench {
            run: args.g2p_run,
            words: args.g2p_words,
            train: args.g2p_train,
            phonetisaurus: args.phonetisaurus,
            script: args.phonetisaurus_ref,
            rounds: args.rounds,
        });
    }
    match &args.torch {
        None => bench::run(args.device, args.steps, args.sweep, threads),
        Some(python) => bench::side_by_side(&bench::SideBySide {
            device: args.device,
            steps: args.steps,
            sweep: args.sweep,
            threads,
            python: python.clone(),
            script: args.torch_ref.clone(),
            g2p_script: args.g2p_torch_ref.clone(),
            translate_script: args.translate_torch_ref.clone(),
            rounds: args.rounds,
        }),
    }
}
