//! `cargo xtask bench --g2p`: the shipped G2P model decoding a word list as `predict` does,
//! in words per CPU-second, with its peak memory and load time — raced against Phonetisaurus
//! (`bench/phonetisaurus_ref.py`) when `--phonetisaurus PYTHON` is given.
//!
//! Every measurement is a process of its own (`bench --g2p-once K`), so that its CPU
//! time and peak resident memory are its own; rounds alternate ours and Phonetisaurus.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use trainer::metrics::g2p_scores;
use trainer::tasks::cmudict::Dictionary;
use trainer::{Trained, TrainerError};

use crate::bench::{emit, json_lines, median, peak_rss_mib};

/// Beam widths timed: greedy and the shipped model's beam.
const BEAMS: [usize; 2] = [1, 5];

/// What [`run`] measures.
pub struct G2pBench {
    /// The run directory of the model.
    pub run: PathBuf,
    /// The words, a CMUdict-format file (its pronunciations score the outputs).
    pub words: PathBuf,
    /// The training file Phonetisaurus learns from.
    pub train: PathBuf,
    /// The Python that runs `bench/phonetisaurus_ref.py` (it installs Phonetisaurus itself).
    pub phonetisaurus: Option<PathBuf>,
    /// The reference script.
    pub script: PathBuf,
    /// Alternating rounds.
    pub rounds: usize,
}

/// Process CPU time (user + system, every thread) in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// One measurement in this process: load the model, predict every word of `words` with beam
/// `beam` as `predict` does, print one JSON line.
///
/// # Errors
///
/// Unreadable model or word list.
pub fn once(run: &Path, words: &Path, beam: usize) -> Result<(), TrainerError> {
    let dictionary = Dictionary::read(words)?;
    let inputs: Vec<String> = dictionary.entries.iter().map(|(w, _)| w.clone()).collect();
    let references: Vec<Vec<Vec<String>>> =
        dictionary.entries.iter().map(|(_, p)| p.clone()).collect();
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let trained = Trained::load(run, None)?;
    let load_s = wall.elapsed().as_secs_f64();
    let mut options = trained.config.decoding.clone();
    options.beam = beam;
    let predictions = trained.predict_each(&inputs, &options, 1)?;
    let (cpu, wall) = (cpu_seconds() - cpu, wall.elapsed().as_secs_f64());
    let outputs: Vec<Vec<String>> = predictions
        .into_iter()
        .map(|p| p.map(|p| p.output_tokens).unwrap_or_default())
        .collect();
    let scores = g2p_scores(&outputs, &references);
    emit(&serde_json::json!({
        "impl": "ours", "bench": "g2p", "beam": beam, "words": inputs.len(),
        "cpu_s": cpu, "wall_s": wall, "words_per_cpu_s": inputs.len() as f64 / cpu,
        "peak_rss_mib": peak_rss_mib(), "load_s": load_s, "wer": scores.wer, "per": scores.per,
    }))
}

/// `g2p@K` keys with their measured values.
fn keyed(lines: &[serde_json::Value]) -> Vec<(String, &'static str, f64)> {
    let mut out = Vec::new();
    for line in lines.iter().filter(|l| l["bench"] == "g2p") {
        let beam = line["beam"].as_u64().unwrap_or(0);
        for field in ["words_per_cpu_s", "peak_rss_mib"] {
            if let Some(value) = line[field].as_f64() {
                out.push((format!("g2p@{beam}"), field, value));
            }
        }
    }
    out
}

/// Runs our measurements (and Phonetisaurus's), `rounds` times alternating, then prints the
/// medians as a Markdown table.
///
/// # Errors
///
/// A run that fails or prints something other than JSON lines.
pub fn run(plan: &G2pBench) -> Result<(), TrainerError> {
    let exe = std::env::current_exe().map_err(|e| TrainerError::io("current_exe", e))?;
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
    type Medians = BTreeMap<(String, &'static str), Vec<f64>>;
    let (mut ours, mut theirs): (Medians, Medians) = Default::default();
    for _ in 0..plan.rounds {
        for beam in BEAMS {
            let mut command = Command::new(&exe);
            command.args(["bench", "--g2p-once", &beam.to_string()]);
            command.arg("--g2p-run").arg(&plan.run);
            command.arg("--g2p-words").arg(&plan.words);
            for (key, field, value) in keyed(&json_lines(command, "xtask bench --g2p-once")?) {
                ours.entry((key, field)).or_default().push(value);
            }
        }
        if let Some(python) = &plan.phonetisaurus {
            let mut command = Command::new(python);
            command.arg(&plan.script);
            command.arg("--train").arg(&plan.train);
            command.arg("--test").arg(&plan.words);
            for (key, field, value) in keyed(&json_lines(command, "phonetisaurus_ref.py")?) {
                theirs.entry((key, field)).or_default().push(value);
            }
        }
    }
    println!("\n| workload | ours | Phonetisaurus | ours / Phonetisaurus |\n|---|---:|---:|---:|");
    for ((key, field), values) in &mut ours {
        let a = median(values);
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
        "\nmedians of {} alternating rounds; Phonetisaurus decodes its 1-best (its own beam \
         search), compared with each of our beams; memory ratio: Phonetisaurus / ours",
        plan.rounds
    );
    Ok(())
}
