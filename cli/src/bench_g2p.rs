//! `cargo xtask bench --g2p`: a G2P model decoding a word list through `seq2seq predict` as
//! users run it (every core, the words on its standard input), in words per CPU-second with its
//! peak memory, raced against Phonetisaurus (`bench/phonetisaurus_ref.py`) when
//! `--phonetisaurus PYTHON` is given; and how many multiply-adds per CPU-second greedy decoding
//! achieves against one core's peak, measured by a GEMM in this process.
//!
//! Every measurement is a process of its own, whose CPU time (user + system, every thread)
//! and peak resident memory the kernel reports when it is reaped; rounds alternate ours and
//! Phonetisaurus.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use burn::prelude::*;
use trainer::metrics::g2p_scores;
use trainer::tasks::cmudict::Dictionary;
use trainer::{Backend, RunConfig, TrainerError, Vocab};

use crate::bench::{json_lines, median};
use crate::multiply_adds::ModelShape;

/// Beam widths timed: greedy and the shipped model's beam.
const BEAMS: [usize; 2] = [1, 5];

/// What [`run`] measures.
pub struct G2pBench {
    /// The run directory of the model.
    pub run: PathBuf,
    /// The words, a CMUdict-format file (its pronunciations score the outputs); `None`: the
    /// run's own test file.
    pub words: Option<PathBuf>,
    /// The training file Phonetisaurus learns from; `None`: the run's own.
    pub train: Option<PathBuf>,
    /// The Python that runs `bench/phonetisaurus_ref.py` (it installs Phonetisaurus itself).
    pub phonetisaurus: Option<PathBuf>,
    /// The reference script.
    pub script: PathBuf,
    /// Alternating rounds.
    pub rounds: usize,
}

/// A finished process's CPU seconds (user + system) and peak resident memory in MiB.
struct Usage {
    cpu_s: f64,
    peak_rss_mib: f64,
}

/// Waits for `child` and returns its resource use as the kernel counted it.
fn reap(child: Child, what: &str) -> Result<Usage, TrainerError> {
    let mut status = 0;
    // SAFETY: wait4 writes the status and the zeroed rusage we own; `child` is ours, unreaped.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let pid = libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        if pid < 0 {
            return Err(TrainerError::io(what, std::io::Error::last_os_error()));
        }
        usage
    };
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(TrainerError::invalid(what, status, "the process failed"));
    }
    Ok(Usage {
        cpu_s: cpu_of(&usage),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}

/// The CPU seconds (user + system) a resource count holds.
fn cpu_of(usage: &libc::rusage) -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// `seq2seq predict --run RUN --beam BEAM` with `words` on its standard input: the outputs,
/// one token list per word, and what it cost.
fn predict(
    run: &Path,
    words: &[String],
    beam: usize,
) -> Result<(Vec<Vec<String>>, Usage, f64), TrainerError> {
    let exe = std::env::current_exe().map_err(|e| TrainerError::io("current_exe", e))?;
    let what = "seq2seq predict";
    let wall = Instant::now();
    let mut child = Command::new(exe)
        .args(["predict", "--beam", &beam.to_string(), "--run"])
        .arg(run)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| TrainerError::io(what, e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input: String = words.iter().map(|w| format!("{w}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut text = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut text)
        .map_err(|e| TrainerError::io(what, e))?;
    writer
        .join()
        .expect("the writer does not panic")
        .map_err(|e| TrainerError::io(what, e))?;
    let usage = reap(child, what)?;
    let wall_s = wall.elapsed().as_secs_f64();
    let outputs: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    if outputs.len() != words.len() {
        return Err(TrainerError::invalid(
            what,
            outputs.len(),
            format!("lines written for {} words", words.len()),
        ));
    }
    Ok((outputs, usage, wall_s))
}

/// One core's multiply-adds per CPU-second in a 512 × 512 × 512 matrix product on the run's
/// backend, the best of five timings of ten products each.
fn gemm_peak(backend: Backend) -> Result<f64, TrainerError> {
    let device = backend.device()?;
    let n = 512;
    let a = Tensor::<2>::ones([n, n], &device);
    let b = Tensor::<2>::ones([n, n], &device);
    let mut best = 0.0f64;
    for _ in 0..5 {
        let cpu = cpu_seconds();
        for _ in 0..10 {
            let product = a.clone().matmul(b.clone());
            let _ = product.into_data();
        }
        let spent = cpu_seconds() - cpu;
        best = best.max(10.0 * (n * n * n) as f64 / spent);
    }
    Ok(best)
}

/// This process's CPU time (user + system, every thread) in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    cpu_of(&usage)
}

/// The configuration of `run` and its target vocabulary's size.
fn model_of(run: &Path) -> Result<(RunConfig, usize), TrainerError> {
    let read = |name: &str| {
        let path = run.join(name);
        std::fs::read(&path)
            .map(|bytes| (path.clone(), bytes))
            .map_err(|e| TrainerError::io(&path, e))
    };
    let (path, bytes) = read("config.json")?;
    let config = RunConfig::parse(&path, &bytes)?;
    let (path, bytes) = read("target_vocab.json")?;
    Ok((config, Vocab::from_json(&path, &bytes)?.len()))
}

/// One measurement of ours at `beam`, as one JSON line's fields.
fn measure_ours(
    plan: &G2pBench,
    dictionary: &Dictionary,
    shape: &ModelShape,
    beam: usize,
) -> Result<serde_json::Value, TrainerError> {
    let words: Vec<String> = dictionary.entries.iter().map(|(w, _)| w.clone()).collect();
    let references: Vec<Vec<Vec<String>>> =
        dictionary.entries.iter().map(|(_, p)| p.clone()).collect();
    let (outputs, usage, wall_s) = predict(&plan.run, &words, beam)?;
    let scores = g2p_scores(&outputs, &references);
    let mut line = serde_json::json!({
        "impl": "ours", "bench": "g2p", "beam": beam, "words": words.len(),
        "cpu_s": usage.cpu_s, "wall_s": wall_s, "words_per_cpu_s": words.len() as f64 / usage.cpu_s,
        "peak_rss_mib": usage.peak_rss_mib, "wer": scores.wer, "per": scores.per,
    });
    if beam == 1 {
        let macs: usize = words
            .iter()
            .zip(&outputs)
            .map(|(w, o)| shape.greedy(w.chars().count(), o.len()))
            .sum();
        line["multiply_adds_per_word"] = (macs as f64 / words.len() as f64).into();
        line["multiply_adds_per_cpu_s"] = (macs as f64 / usage.cpu_s).into();
    }
    println!("{line}");
    Ok(line)
}

/// `g2p@K` keys with their measured values.
fn keyed(lines: &[serde_json::Value]) -> Vec<(String, &'static str, f64)> {
    let mut out = Vec::new();
    for line in lines.iter().filter(|l| l["bench"] == "g2p") {
        let beam = line["beam"].as_u64().unwrap_or(0);
        for field in ["words_per_cpu_s", "peak_rss_mib", "multiply_adds_per_cpu_s"] {
            if let Some(value) = line[field].as_f64() {
                out.push((format!("g2p@{beam}"), field, value));
            }
        }
    }
    out
}

/// Runs our measurements (and Phonetisaurus's), `rounds` times alternating, then prints the
/// medians as a Markdown table, with the achieved share of the GEMM peak.
///
/// # Errors
///
/// A run that fails or prints something other than JSON lines.
pub fn run(plan: &G2pBench) -> Result<(), TrainerError> {
    if let Some(python) = &plan.phonetisaurus
        && !plan.script.is_file()
    {
        return Err(TrainerError::invalid(
            "--phonetisaurus-ref",
            plan.script.display(),
            format!(
                "no such file (run with {} from the repository root)",
                python.display()
            ),
        ));
    }
    let (config, target_vocab) = model_of(&plan.run)?;
    let task = &config.task;
    let missing = |what: &str| {
        TrainerError::invalid(
            what,
            "(none)",
            format!(
                "{} names no such file: give one",
                plan.run.join("config.json").display()
            ),
        )
    };
    let words = plan
        .words
        .clone()
        .or_else(|| trainer::tasks::g2p_test_path(task))
        .ok_or_else(|| missing("--g2p-words"))?;
    let train = plan
        .train
        .clone()
        .or_else(|| task.data.clone())
        .ok_or_else(|| missing("--g2p-train"))?;
    let dictionary = trainer::tasks::read_dictionary(task, &words)?;
    // `predict` decodes G2P batches of 80 words, more letters than the alphabet has.
    let shape = ModelShape {
        model: &config.model,
        target_vocab,
        token_tables: true,
    };
    type Medians = BTreeMap<(String, &'static str), Vec<f64>>;
    let (mut ours, mut theirs): (Medians, Medians) = Default::default();
    for _ in 0..plan.rounds {
        for beam in BEAMS {
            let line = measure_ours(plan, &dictionary, &shape, beam)?;
            for (key, field, value) in keyed(&[line]) {
                ours.entry((key, field)).or_default().push(value);
            }
        }
        if let Some(python) = &plan.phonetisaurus {
            let mut command = Command::new(python);
            command.arg(&plan.script);
            command.arg("--train").arg(&train);
            command.arg("--test").arg(&words);
            if config.task.stress {
                command.arg("--stress");
            }
            for (key, field, value) in keyed(&json_lines(command, "phonetisaurus_ref.py")?) {
                theirs.entry((key, field)).or_default().push(value);
            }
        }
    }
    let peak = gemm_peak(config.backend)?;
    println!(
        "{}",
        serde_json::json!({"impl": "ours", "bench": "gemm_peak", "multiply_adds_per_cpu_s": peak})
    );
    print_table(&mut ours, &mut theirs, peak, plan.rounds);
    Ok(())
}

/// The medians side by side, as Markdown.
fn print_table(
    ours: &mut BTreeMap<(String, &'static str), Vec<f64>>,
    theirs: &mut BTreeMap<(String, &'static str), Vec<f64>>,
    peak: f64,
    rounds: usize,
) {
    println!("\n| workload | ours | Phonetisaurus | ours / Phonetisaurus |\n|---|---:|---:|---:|");
    for ((key, field), values) in ours.iter_mut() {
        let a = median(values);
        if *field == "multiply_adds_per_cpu_s" {
            println!(
                "| {key} GMAC per CPU-s | {:.2} ({:.0} % of one core's GEMM peak, {:.2}) | – | – |",
                a / 1e9,
                100.0 * a / peak,
                peak / 1e9
            );
            continue;
        }
        let (b, ratio) = match theirs.get_mut(&("g2p@1".to_string(), *field)) {
            Some(reference) => {
                let b = median(reference);
                // Throughput: higher is better; memory: lower is better.
                let ratio = if *field == "peak_rss_mib" {
                    b / a
                } else {
                    a / b
                };
                (format!("{b:.1}"), format!("{ratio:.2}"))
            }
            None => ("–".into(), "–".into()),
        };
        println!("| {key} {field} | {a:.1} | {b} | {ratio} |");
    }
    println!(
        "\nmedians of {rounds} alternating rounds, each `seq2seq predict` on every core with the \
         words on its standard input (loading included); Phonetisaurus decodes its 1-best (its \
         own beam search), compared with each of our beams; memory ratio: Phonetisaurus / ours"
    );
}
