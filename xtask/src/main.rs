//! `cargo xtask <command>`: train, evaluate, predict, draw attention, download data.
//!
//! A thin shell over the `trainer` library: it parses flags, builds the run configuration and
//! prints results. `cargo xtask <command> --help` documents every flag.
#![recursion_limit = "256"]

mod bench;
mod bench_g2p;
mod pack;
mod predict;
mod presets;
mod train_args;
mod web;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use train_args::{TrainArgs, backends};
use trainer::{
    Backend, DecodingOptions, InferenceError, TrainRequest, Trained, TrainerError,
    write_attention_pictures,
};

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
    Eval(EvalArgs),
    /// Predict outputs for TEXT arguments, or for each line of standard input.
    Predict(predict::PredictArgs),
    /// Draw the attention of one prediction: heatmap PNG and SVG, decoding GIF, weights JSON.
    Plot(PlotArgs),
    /// Download a public data set (cmudict, multi30k), checking every file's SHA-256.
    Data(DataArgs),
    /// Compare runs' scores by source length (from each RUN/eval-SPLIT.json): a Markdown table,
    /// and a PNG line chart with --png.
    Compare(CompareArgs),
    /// Average a run's last K epochs (parameter by parameter) into a new run directory, which
    /// eval, predict, plot and ensembles take like any run.
    Average(AverageArgs),
    /// Copy a run for shipping: its files but checkpoints, the model optionally in half
    /// precision (--precision f16).
    Pack(pack::PackArgs),
    /// Draw runs' validation score against wall-clock training minutes (from each
    /// RUN/metrics.jsonl), with other systems marked: a Markdown table, and a PNG with --png.
    Curve(CurveArgs),
    /// Time the workloads of shared/bench/SPEC.md, and a training step of the g2p-cmudict
    /// preset's model (g2p_train_step), on our model (built with optimisations) and
    /// print them as JSON lines.
    Bench(BenchArgs),
    /// Build the in-browser demo (web/: the model in WebAssembly, attention drawn as you type)
    /// into a folder with a run's files, and serve it on localhost.
    Web(web::WebArgs),
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Run directories, each already evaluated (`cargo xtask eval`); LABEL=DIR names a curve.
    #[arg(required = true, value_name = "[LABEL=]RUN")]
    runs: Vec<String>,
    /// Which evaluation: valid or test.
    #[arg(long, default_value = "test", value_parser = ["valid", "test"])]
    split: String,
    /// The score to compare (e.g. wer, per, bleu, chrf, exact_match).
    #[arg(long)]
    metric: String,
    /// Also draw the comparison into this PNG file.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct AverageArgs {
    /// The run whose checkpoints to average.
    #[arg(long)]
    run: PathBuf,
    /// How many of the newest end-of-epoch checkpoints (train with --keep-checkpoints K or
    /// more to have K).
    #[arg(long, default_value_t = 5, value_name = "K")]
    last: usize,
    /// The new run directory (must not hold a run).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct CurveArgs {
    /// Run directories (finished or still training); LABEL=DIR names a curve.
    #[arg(required = true, value_name = "[LABEL=]RUN")]
    runs: Vec<String>,
    /// The validation score to draw (e.g. wer, per, bleu, exact_match).
    #[arg(long, default_value = "wer")]
    metric: String,
    /// Another system's training time and score, drawn as a cross with a dotted line at its
    /// score; the table says when each run first reaches it. Repeatable.
    #[arg(long, value_name = "LABEL=MINUTES,SCORE")]
    mark: Vec<trainer::Mark>,
    /// Also draw the curves into this PNG file.
    #[arg(long)]
    png: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BenchArgs {
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
    /// Time the `g2p` workload instead: the G2P model of --g2p-run predicting every word of
    /// --g2p-words as `predict` does (greedy and beam 5), in words per CPU-second, with peak
    /// memory and load time, each measurement in a process of its own.
    #[arg(long)]
    g2p: bool,
    /// With --g2p: the model's run directory.
    #[arg(long, default_value = "models/g2p-cmudict", value_name = "RUN")]
    g2p_run: PathBuf,
    /// With --g2p: the words (a CMUdict-format file; its pronunciations score the outputs).
    #[arg(
        long,
        default_value = "../shared/data/cmudict/g014b2b.test",
        value_name = "FILE"
    )]
    g2p_words: PathBuf,
    /// With --g2p: also run Phonetisaurus with this Python (bench/phonetisaurus_ref.py installs
    /// Phonetisaurus 0.3.0 into target/phonetisaurus/venv and trains it once on --g2p-train),
    /// alternating with ours, and print the medians side by side.
    #[arg(long, value_name = "PYTHON", requires = "g2p")]
    phonetisaurus: Option<PathBuf>,
    /// With --phonetisaurus: the reference script.
    #[arg(long, default_value = "bench/phonetisaurus_ref.py")]
    phonetisaurus_ref: PathBuf,
    /// With --phonetisaurus: the dictionary Phonetisaurus trains on.
    #[arg(
        long,
        default_value = "../shared/data/cmudict/g014b2b.train",
        value_name = "FILE"
    )]
    g2p_train: PathBuf,
    /// One `g2p` measurement in this process at this beam width (what --g2p runs).
    #[arg(long, hide = true, value_name = "K")]
    g2p_once: Option<usize>,
}

/// The runs and decoding flags shared by `eval`, `predict` and `plot`.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The run directory. Given several times (`--run A --run B …`, runs with one vocabulary)
    /// the runs decode as an ensemble, on their models' mean log-probabilities; attention
    /// pictures then show the models' mean weights, and options default to the first run's.
    #[arg(long = "run", value_name = "DIR", required = true)]
    pub(crate) runs: Vec<PathBuf>,
    /// Beam width, 1 (greedy) to 64 (default: the run's).
    #[arg(long)]
    beam: Option<usize>,
    /// GNMT length penalty α for beam search (default: the run's).
    #[arg(long)]
    length_penalty: Option<f32>,
    /// Backend to run on (default: the run's, if compiled in).
    #[arg(long, value_parser = backends())]
    pub(crate) device: Option<Backend>,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// Which split: valid or test.
    #[arg(long, default_value = "test", value_parser = ["valid", "test"])]
    split: String,
    /// Score this file instead of a split, in the run's task format: g2p, a CMUdict-format
    /// lexicon; translate, the stem of parallel files (`DIR/STEM` for DIR/STEM.SRC and
    /// DIR/STEM.TGT, plain or .gz); dates, lines `INPUT<TAB>OUTPUT`.
    #[arg(long, value_name = "FILE", conflicts_with = "split")]
    data: Option<PathBuf>,
    /// Where the evaluation JSON goes (default: RUN/eval-SPLIT.json, or with --data
    /// RUN/eval-data-NAME.json; for an ensemble of N runs, in the first run, with
    /// `-ensemble-N` before `.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep only the first N items' predictions in the JSON (default: every item); the scores
    /// always cover the whole split.
    #[arg(long, value_name = "N")]
    examples: Option<usize>,
    #[command(flatten)]
    decode: DecodeArgs,
}

#[derive(Args, Debug)]
struct PlotArgs {
    /// The input to decode and draw.
    text: String,
    /// Where the pictures go (default: RUN/plots, of the first run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// File name stem of the pictures (default: `attention`, for an ensemble of N runs
    /// `attention-ensemble-N`).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    decode: DecodeArgs,
}

#[derive(Args, Debug)]
struct DataArgs {
    /// The data set.
    #[arg(value_parser = ["cmudict", "multi30k"])]
    set: String,
    /// Directory to put the files in.
    #[arg(long)]
    out: PathBuf,
    /// Fetch from this address instead of the upstream repository (a mirror).
    #[arg(long)]
    base_url: Option<String>,
}

fn first_free(task: &str) -> PathBuf {
    (1..)
        .map(|n| Path::new("runs").join(format!("{task}-{n}")))
        .find(|p| !p.exists())
        .expect("some run name is free")
}

/// The run's decoding options with the flags' changes (the library checks them).
pub(crate) fn decoding(
    trained: &Trained,
    args: &DecodeArgs,
) -> Result<DecodingOptions, TrainerError> {
    let mut options = trained.config.decoding.clone();
    if let Some(beam) = args.beam {
        options.beam = beam;
    }
    if let Some(alpha) = args.length_penalty {
        options.length_penalty = alpha;
    }
    Ok(options)
}

/// `name value, name value, …` with two decimals.
fn format_scores(scores: &std::collections::BTreeMap<String, f64>) -> String {
    let parts: Vec<String> = scores.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
    parts.join(", ")
}

fn print_scores(evaluation: &trainer::Evaluation) {
    println!(
        "{} scores ({} items, {}): {}; perplexity {:.2}",
        evaluation.split,
        evaluation.items,
        if evaluation.beam > 1 {
            format!("beam {}", evaluation.beam)
        } else {
            "greedy".into()
        },
        format_scores(&evaluation.scores),
        evaluation.perplexity
    );
    for bucket in &evaluation.by_length {
        println!(
            "  source length {:>6} ({:>5} items): {}",
            trainer::bucket_label(bucket),
            bucket.items,
            format_scores(&bucket.scores)
        );
    }
}

fn cmd_train(args: TrainArgs) -> Result<(), TrainerError> {
    let config = args.run_config()?;
    if args.print_config {
        println!(
            "{}",
            serde_json::to_string_pretty(&config).expect("serialisable")
        );
        return Ok(());
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| first_free(config.task.kind.name()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        // First Ctrl-C: finish the current batch, write a checkpoint, exit cleanly.
        // Second Ctrl-C: leave at once (the last checkpoint stays intact).
        let stop = stop.clone();
        let installed = ctrlc::set_handler(move || {
            if stop.swap(true, std::sync::atomic::Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: exiting without a new checkpoint");
                std::process::exit(130);
            }
            eprintln!(
                "\ninterrupt: stopping after this batch and writing a checkpoint (Ctrl-C again to exit now)"
            );
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will not checkpoint before exiting: {e}");
        }
    }
    let summary = trainer::train(TrainRequest {
        config,
        out: out.clone(),
        // A resumed run keeps its own configuration but for these (given) flags.
        resume: args.resume.then(|| args.resume_changes()),
        quiet: args.quiet,
        stop: Some(stop),
    })?;
    println!(
        "trained {} epochs in {:.0} s{}; run directory: {}",
        summary.epochs,
        summary.seconds,
        if summary.stopped_early {
            " (stopped early: no improvement)"
        } else {
            ""
        },
        out.display()
    );
    if summary.interrupted {
        println!(
            "interrupted: resume with `cargo xtask train --resume --out {}`",
            out.display()
        );
        return Ok(());
    }
    let trained = Trained::load(&out, None)?;
    // The run's own decoding options: on --resume, its configuration, not this command's
    // default --beam.
    let options = trained.config.decoding.clone();
    let evaluation = trained.evaluate("test", &options)?;
    evaluation.save(&out.join("eval-test.json"))?;
    print_scores(&evaluation);
    println!("examples:");
    for example in evaluation.examples.iter().take(5) {
        println!(
            "  {} {:?} -> {:?}",
            if example.correct { "✓" } else { "✗" },
            example.source,
            example.prediction
        );
    }
    if trained.config.model.score.is_some() {
        let first = evaluation
            .examples
            .first()
            .map(|e| e.source.clone())
            .unwrap_or_default();
        let prediction = trained.predict(&[first], &options)?.remove(0);
        let files = write_attention_pictures(&prediction, &out.join("plots"), "attention")?;
        println!("attention pictures for {:?}:", prediction.input);
        for path in [&files.png, &files.svg, &files.gif, &files.json] {
            println!("  {}", path.display());
        }
    }
    Ok(())
}

/// The runs of `args` loaded (an ensemble for several).
pub(crate) fn load_runs(args: &DecodeArgs) -> Result<Trained, TrainerError> {
    let trained = Trained::load_all(&args.runs, args.device)?;
    if args.runs.len() > 1 {
        eprintln!(
            "an ensemble of {} runs: {}",
            args.runs.len(),
            args.runs
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(trained)
}

/// What names an output of several runs apart from the first run's own: `-ensemble-N`, or
/// nothing for one run.
fn ensemble_suffix(trained: &Trained) -> String {
    match trained.runs().len() {
        1 => String::new(),
        n => format!("-ensemble-{n}"),
    }
}

fn cmd_eval(args: EvalArgs) -> Result<(), TrainerError> {
    let trained = load_runs(&args.decode)?;
    let options = decoding(&trained, &args.decode)?;
    let (mut evaluation, name) = match &args.data {
        Some(file) => {
            let name = file
                .file_name()
                .map_or("data".into(), |n| n.to_string_lossy());
            (
                trained.evaluate_file(file, &options)?,
                format!("data-{name}"),
            )
        }
        None => (trained.evaluate(&args.split, &options)?, args.split.clone()),
    };
    if let Some(n) = args.examples {
        evaluation.examples.truncate(n);
    }
    let path = args.out.unwrap_or_else(|| {
        trained.runs()[0].join(format!("eval-{name}{}.json", ensemble_suffix(&trained)))
    });
    evaluation.save(&path)?;
    print_scores(&evaluation);
    println!("wrote {}", path.display());
    Ok(())
}

fn cmd_plot(args: PlotArgs) -> Result<(), TrainerError> {
    let trained = load_runs(&args.decode)?;
    let options = decoding(&trained, &args.decode)?;
    let prediction = trained
        .predict(std::slice::from_ref(&args.text), &options)?
        .remove(0);
    let dir = args.out.unwrap_or_else(|| trained.runs()[0].join("plots"));
    let name = args
        .name
        .unwrap_or_else(|| format!("attention{}", ensemble_suffix(&trained)));
    let files = write_attention_pictures(&prediction, &dir, &name)?;
    if trained.runs().len() > 1 {
        println!(
            "attention: the mean of the {} models' weights",
            trained.runs().len()
        );
    }
    println!("{:?} -> {:?}", prediction.input, prediction.output);
    for path in [&files.png, &files.svg, &files.gif, &files.json] {
        println!("{}", path.display());
    }
    Ok(())
}

fn cmd_data(args: DataArgs) -> Result<(), TrainerError> {
    let set = trainer::data_set(&args.set)?;
    for path in trainer::download(&set, &args.out, args.base_url.as_deref())? {
        println!("{}", path.display());
    }
    Ok(())
}

/// `LABEL=DIR` as its label and directory; a plain `DIR` is its own label.
fn labelled(run: &str) -> (String, PathBuf) {
    match run.split_once('=') {
        Some((label, dir)) => (label.to_string(), PathBuf::from(dir)),
        None => (run.to_string(), PathBuf::from(run)),
    }
}

fn cmd_average(args: AverageArgs) -> Result<(), TrainerError> {
    let averaged = trainer::average_checkpoints(&args.run, args.last, &args.out)?;
    let epochs: Vec<String> = averaged.epochs.iter().map(ToString::to_string).collect();
    println!(
        "averaged epochs {} of {} into {}",
        epochs.join(", "),
        args.run.display(),
        args.out.display()
    );
    Ok(())
}

fn cmd_curve(args: CurveArgs) -> Result<(), TrainerError> {
    let curves = args
        .runs
        .iter()
        .map(|run| {
            let (label, dir) = labelled(run);
            if !dir.is_dir() {
                return Err(TrainerError::run(&dir, "no such run directory"));
            }
            let metrics = trainer::RunDir::new(&dir).read_metrics()?;
            trainer::TimeCurve::from_metrics(&label, &metrics, &args.metric)
        })
        .collect::<Result<Vec<_>, _>>()?;
    print!("{}", trainer::time_table(&curves, &args.mark, &args.metric));
    if let Some(png) = &args.png {
        trainer::write_time_plot(&curves, &args.mark, &args.metric, png)?;
        println!("wrote {}", png.display());
    }
    Ok(())
}

fn cmd_compare(args: CompareArgs) -> Result<(), TrainerError> {
    let mut curves = Vec::new();
    for run in &args.runs {
        let (label, dir) = labelled(run);
        let path = dir.join(format!("eval-{}.json", args.split));
        let bytes = std::fs::read(&path).map_err(|e| TrainerError::io(&path, e))?;
        let evaluation: trainer::Evaluation = serde_json::from_slice(&bytes).map_err(|e| {
            TrainerError::run(
                &path,
                format!("not an evaluation written by `cargo xtask eval`: {e}"),
            )
        })?;
        if evaluation.by_length.is_empty() {
            return Err(TrainerError::run(
                path,
                "no scores by length (an older version wrote it): run `cargo xtask eval` again",
            ));
        }
        curves.push(trainer::LengthCurve::new(label, &evaluation));
    }
    print!("{}", trainer::length_table(&curves, &args.metric)?);
    if let Some(png) = &args.png {
        trainer::write_length_plot(&curves, &args.metric, png)?;
        println!("wrote {}", png.display());
    }
    Ok(())
}

fn cmd_bench(args: BenchArgs) -> Result<(), TrainerError> {
    if args.steps == 0 {
        return Err(TrainerError::invalid("--steps", 0, "must be at least 1"));
    }
    let threads = match args.threads {
        Some(0) => return Err(TrainerError::invalid("--threads", 0, "must be at least 1")),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
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
            "xtask",
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
    if let Some(beam) = args.g2p_once {
        return bench_g2p::once(&args.g2p_run, &args.g2p_words, beam);
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
        Command::Train(args) => cmd_train(*args).map_err(explain),
        Command::Eval(args) => cmd_eval(args).map_err(explain),
        Command::Predict(args) => predict::cmd_predict(args).map_err(|e| match e {
            predict::PredictError::Trainer(e) => explain(e),
            other => other.to_string(),
        }),
        Command::Plot(args) => cmd_plot(args).map_err(explain),
        Command::Data(args) => cmd_data(args).map_err(explain),
        Command::Compare(args) => cmd_compare(args).map_err(explain),
        Command::Average(args) => cmd_average(args).map_err(explain),
        Command::Pack(args) => pack::cmd_pack(args).map_err(explain),
        Command::Curve(args) => cmd_curve(args).map_err(explain),
        Command::Bench(args) => cmd_bench(args).map_err(explain),
        Command::Web(args) => web::cmd_web(args).map_err(explain),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
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
