//! `seq2seq <command>` (`cargo xtask <command>` in the repository): train, evaluate, predict,
//! serve, draw attention, download data.
//!
//! A thin shell over the `trainer` library: it parses flags, builds the run configuration and
//! prints results. Each command is one file in `commands/` (its arguments and `run`); this file
//! only dispatches. `seq2seq <command> --help` documents every flag.
#![recursion_limit = "256"]

mod bench;
mod bench_g2p;
mod commands;
mod decode_args;
mod multiply_adds;
mod presets;
mod report;
mod train_args;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use commands::{
    average, bench as bench_command, compare, curve, data, eval, pack, plot, predict, serve, train,
    web,
};
use train_args::TrainArgs;
use trainer::{InferenceError, TrainerError};

/// Sequence-to-sequence models with attention: train, evaluate, predict, and see the attention.
#[derive(Parser, Debug)]
#[command(name = "seq2seq", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model (with no flags: the `dates` task, about a few minutes on a laptop CPU),
    /// then print its test scores, example predictions and attention pictures.
    #[command(args_override_self = true)]
    Train(Box<TrainArgs>),
    /// Score a trained run on its validation or test split; writes RUN/eval-SPLIT.json.
    Eval(eval::EvalArgs),
    /// Predict outputs for TEXT arguments, or for each line of standard input.
    Predict(predict::PredictArgs),
    /// Serve runs over HTTP on localhost: JSON endpoints to list models and predict, requests
    /// that arrive together decoded as one batch, every input and queue bounded.
    Serve(serve::ServeArgs),
    /// Draw the attention of one prediction: heatmap PNG and SVG, decoding GIF, weights JSON.
    Plot(plot::PlotArgs),
    /// Download a public data set (cmudict, multi30k), checking every file's SHA-256.
    Data(data::DataArgs),
    /// Compare runs' scores by source length (from each RUN/eval-SPLIT.json): a Markdown table,
    /// and a PNG line chart with --png.
    Compare(compare::CompareArgs),
    /// Average a run's last K epochs (parameter by parameter) into a new run directory, which
    /// eval, predict, plot and ensembles take like any run.
    Average(average::AverageArgs),
    /// Copy a run for shipping: its files but checkpoints, the model optionally in half
    /// precision (--precision f16).
    Pack(pack::PackArgs),
    /// Draw runs' validation score against wall-clock training minutes (from each
    /// RUN/metrics.jsonl), with other systems marked: a Markdown table, and a PNG with --png.
    Curve(curve::CurveArgs),
    /// Time the workloads of shared/bench/SPEC.md, and a training step of the g2p-cmudict
    /// preset's model (g2p_train_step), on our model (built with optimisations) and
    /// print them as JSON lines.
    Bench(bench_command::BenchArgs),
    /// Build the in-browser demo (web/: the model in WebAssembly, attention drawn as you type)
    /// into a folder with a run's files, and serve it on localhost.
    Web(web::WebArgs),
}

/// Keeps freed tensor buffers in the process instead of handing each back to the kernel.
///
/// glibc serves allocations above 128 KiB (most of a batch's tensors) with their own `mmap`
/// and returns them with `munmap` on free, so every step faulted its buffers in again and, with
/// `--threads`, made the kernel stop every core to flush its TLB. Raising the thresholds keeps
/// them for reuse, a training step faster on one thread and more so on two (measured in
/// `docs/performance.md#what-was-tried-and-what-it-gave`). The cost
/// is memory freed late, bounded by the run's own peak.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    const LARGE: libc::c_int = 256 << 20;
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LARGE);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    // Rust ignores SIGPIPE, so printing into a closed pipe (`| head`) would panic; restore the
    // default action: the process ends quietly, as `cat` does.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = parse(&args);
    if let Command::Train(train) = &cli.command
        && let Some(name) = &train.preset
    {
        // Parse again with the preset's flags in front of the user's, so the user's win.
        let expanded = presets::expand(&args, name).expect("clap checked the preset name");
        cli = parse(&expanded);
    }
    let result: Result<(), String> = match cli.command {
        Command::Train(args) => train::run(*args).map_err(explain),
        Command::Eval(args) => eval::run(args).map_err(explain),
        Command::Predict(args) => predict::run(args).map_err(|e| match e {
            predict::PredictError::Trainer(e) => explain(e),
            other => other.to_string(),
        }),
        Command::Plot(args) => plot::run(args).map_err(explain),
        Command::Serve(args) => serve::run(args).map_err(explain),
        Command::Data(args) => data::run(args).map_err(explain),
        Command::Compare(args) => compare::run(args).map_err(explain),
        Command::Average(args) => average::run(args).map_err(explain),
        Command::Pack(args) => pack::run(args).map_err(explain),
        Command::Curve(args) => curve::run(args).map_err(explain),
        Command::Bench(args) => bench_command::run(args).map_err(explain),
        Command::Web(args) => web::run(args).map_err(explain),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Warns when `--threads` asks for more threads than the cores this process may use (its CPU
/// affinity and cgroup quota): they would take turns on the cores, each step slower.
pub(crate) fn warn_if_oversubscribed(threads: usize) {
    let cores = trainer::cores();
    if threads > cores {
        eprintln!(
            "warning: --threads {threads} is more than the {cores} core(s) this process may use (its CPU affinity and quota): the threads will take turns, and each step will be slower, not faster"
        );
    }
}

/// The command line, with `train`'s defaults (read from the run configuration) in its help.
fn parse(args: &[std::ffi::OsString]) -> Cli {
    let command = Cli::command().mut_subcommand("train", train_args::with_defaults);
    let matches = command.get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// A library error in the command line's words: a configuration field (`training.lr_decay`)
/// as the flag that sets it (`--lr-decay`), and what to type for a run that already exists.
fn explain(error: TrainerError) -> String {
    match error {
        TrainerError::Inference(InferenceError::InvalidOption { name, value, why }) => {
            let flag = match name.as_str() {
                "task.kind" => "--task".to_string(),
                "n_best" => "--nbest".to_string(),
                "metric" => "--metric".to_string(),
                "last" => "--last".to_string(),
                "max_input_tokens" => "--max-input-tokens".to_string(),
                "lexicon" => "--lexicon".to_string(),
                field => match field.rsplit_once('.') {
                    Some((_, field)) => format!("--{}", field.replace('_', "-")),
                    None => field.to_string(),
                },
            };
            format!("{flag} = {value} is invalid: {why}")
        }
        TrainerError::RunExists { path } => format!(
            "{} already holds a run; pass --resume to continue it, or choose another --out",
            path.display()
        ),
        other => other.to_string(),
    }
}
