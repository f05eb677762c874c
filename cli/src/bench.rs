//! `cargo xtask bench`: the workloads of `shared/bench/SPEC.md` ("bahdanau-gru-bench") on our
//! own encoder, attention and decoder crates, printed as the JSON lines the spec defines.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use attention_core::ScoreKind;
use burn::prelude::*;
use burn::tensor::TensorData;
use decoder::{
    DecoderConfig, InitialState, MaxLength, QueryOrdering, SearchOptions, Seq2Seq, Seq2SeqConfig,
};
use encoder::{CellKind, EncoderConfig};
use trainer::data_parallel::{map_shards, sharded_gradients, split};
use trainer::{Backend, TrainerError, token_cross_entropy};

/// Vocabulary, embedding, hidden and attention sizes of the spec's model.
const V: usize = 64;
const E: usize = 128;
const H: usize = 256;

/// The spec's model: a 1-layer unidirectional GRU encoder (256), Bahdanau additive attention
/// (256), a GRU decoder fed `[embedding; context]`, output `[s_i; c_i]` → 64 logits.
pub fn spec_model(device: &Device) -> Result<Seq2Seq, TrainerError> {
    Ok(Seq2SeqConfig::new(
        EncoderConfig::new(V, E, H).with_cell(CellKind::Gru),
        DecoderConfig::new(V, E, H, H)
            .with_cell(CellKind::Gru)
            .with_score(Some(ScoreKind::Additive))
            .with_attention_size(Some(H))
            .with_ordering(QueryOrdering::Bahdanau)
            .with_initial_state(InitialState::EncoderFinal),
    )
    .init(device)?)
}

/// `src[k] = 7k mod 64`, `tgt[k] = 5k mod 64` over the row-major batch.
fn ids(batch: usize, len: usize, factor: usize, device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = (0..batch * len)
        .map(|k| ((factor * k) % V) as i64)
        .collect();
    Tensor::from_data(TensorData::new(data, [batch, len]), device)
}

/// Two untimed warm-up runs, then the mean milliseconds of `steps` timed runs.
fn timed(steps: usize, mut f: impl FnMut()) -> f64 {
    f();
    f();
    let start = Instant::now();
    for _ in 0..steps {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / steps as f64
}

/// The process's peak resident memory (VmHWM), MiB.
pub(crate) fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs the spec's workloads on `backend` and prints one JSON object per line. With more than
/// one thread, a batch is split into that many shards run side by side
/// ([`trainer::data_parallel`]), as `train --threads` does.
///
/// # Errors
///
/// A backend that is not compiled in; model errors.
pub fn run(
    backend: Backend,
    steps: usize,
    sweep: bool,
    threads: usize,
) -> Result<(), TrainerError> {
    let device = backend.device()?;
    let train_device = device.clone().autodiff();
    train_device.seed(0);
    let mut model = spec_model(&train_device)?;
    let mut optim = trainer::adam();
    let line = |bench: &str, batch: usize, len: usize, ms: f64| {
        emit(&serde_json::json!({
            "impl": "ours", "backend": backend.name(), "threads": threads, "bench": bench,
            "batch": batch, "src_len": len, "tgt_len": len, "ms": ms,
            "target_tok_per_s": (batch * len) as f64 / (ms / 1e3),
        }))
    };
    let lengths: &[usize] = if sweep { &[12, 24, 48] } else { &[12] };
    for &len in lengths {
        let batch = 64;
        let (src, tgt) = (
            ids(batch, len, 7, &train_device),
            ids(batch, len, 5, &train_device),
        );
        let ms = timed(steps, || {
            model = train_step(&model, &mut optim, (1e-3, 0.0), (&src, &tgt), threads);
            let _ = device.sync();
        });
        line("train_step", batch, len, ms)?;
    }
    let inference = model.valid();
    let search = SearchOptions {
        bos: 0,
        eos: usize::MAX,
        max_length: MaxLength {
            ratio: 0.0,
            extra: 12,
        },
    };
    for batch in [64, 1] {
        let src = ids(batch, 12, 7, &device);
        let rows: Vec<usize> = (0..batch).collect();
        let ms = timed(steps, || {
            let hyps = map_shards(split(&rows, threads), |shard| {
                let range = shard[0]..shard[0] + shard.len();
                inference.greedy(src.clone().slice(range), &vec![12; shard.len()], &search)
            })
            .expect("lengths fit");
            assert!(
                hyps.iter().flatten().all(|h| h.tokens.len() == 12),
                "exactly 12 steps"
            );
        });
        line(&format!("greedy_b{batch}"), batch, 12, ms)?;
    }
    emit(
        &serde_json::json!({"impl": "ours", "backend": backend.name(), "bench": "peak_rss", "mib": peak_rss_mib()}),
    )?;
    // After `peak_rss`, so that the spec's memory figure stays the spec model's alone.
    for workload in [G2P_STEP, TRANSLATE_STEP] {
        let ms = preset_train_step(&workload, &train_device, steps, threads)?;
        line(workload.bench, workload.batch, workload.len, ms)?;
    }
    Ok(())
}

/// A training step of a preset's model at the shape of its data.
struct PresetStep {
    /// The workload's name in the output.
    bench: &'static str,
    /// The preset whose model (and learning rate, label smoothing) is timed.
    preset: &'static str,
    /// Source and target vocabulary sizes, specials included.
    vocab: (usize, usize),
    /// Sentences per batch (the preset's).
    batch: usize,
    /// Source and target length.
    len: usize,
}

/// `g2p_train_step`: the shipped G2P model's shape (letters and phonemes; CMUdict words are
/// about 8 letters and 7 phonemes long); `bench/g2p_torch_ref.py` is its PyTorch twin.
const G2P_STEP: PresetStep = PresetStep {
    bench: "g2p_train_step",
    preset: "g2p-cmudict",
    vocab: (31, 43),
    batch: 64,
    len: 8,
};

/// `translate_train_step`: the `multi30k-de-en` preset's model with the subword vocabularies
/// its BPE 4000 learns on Multi30k (3 150 German and 2 517 English entries, specials included),
/// batch 128 of 16 pieces (a Multi30k sentence is 14–16 pieces long): the output layer and its
/// softmax over 2 517 pieces are a large share of the step. `bench/translate_torch_ref.py` is
/// its PyTorch twin.
const TRANSLATE_STEP: PresetStep = PresetStep {
    bench: "translate_train_step",
    preset: "multi30k-de-en",
    vocab: (3_150, 2_517),
    batch: 128,
    len: 16,
};

/// Mean milliseconds of a training step of `workload`'s preset model (its options read from
/// the preset itself; dropout and label smoothing on, as in training) on a `batch × len` batch
/// with the spec's deterministic ids, split over `threads` shards.
fn preset_train_step(
    workload: &PresetStep,
    device: &Device,
    steps: usize,
    threads: usize,
) -> Result<f64, TrainerError> {
    let config = crate::presets::run_config(workload.preset)?;
    let (source_vocab, target_vocab) = workload.vocab;
    let mut model = config
        .model
        .seq2seq(source_vocab, target_vocab)
        .init(device)?;
    let mut optim = trainer::adam();
    let (batch, len) = (workload.batch, workload.len);
    let ids = |factor: usize, vocab: usize| {
        let data: Vec<i64> = (0..batch * len)
            .map(|k| ((factor * k) % vocab) as i64)
            .collect();
        Tensor::<2, Int>::from_data(TensorData::new(data, [batch, len]), device)
    };
    let (src, tgt) = (ids(7, source_vocab), ids(5, target_vocab));
    let (learning_rate, smoothing) = (
        config.training.learning_rate,
        config.training.label_smoothing,
    );
    Ok(timed(steps, || {
        model = train_step(
            &model,
            &mut optim,
            (learning_rate, smoothing),
            (&src, &tgt),
            threads,
        );
        let _ = device.sync();
    }))
}

/// One Adam step of `model` at `learning_rate` on the batch `(src, tgt)` (`[batch, len]` each,
/// every row of full length), with label smoothing `smoothing`, its gradients summed over
/// `threads` shards. The loss counts every target token, as the spec's does (its ids include
/// 0, our `<pad>`).
fn train_step(
    model: &Seq2Seq,
    optim: &mut burn::optim::ModuleOptimizer,
    (learning_rate, smoothing): (f64, f64),
    (src, tgt): (&Tensor<2, Int>, &Tensor<2, Int>),
    threads: usize,
) -> Seq2Seq {
    let [batch, len] = src.dims();
    let rows: Vec<usize> = (0..batch).collect();
    let tokens = (batch * len) as f32;
    let (_, grads) = sharded_gradients(model, split(&rows, threads), |model, shard| {
        let range = shard[0]..shard[0] + shard.len();
        let (src, tgt) = (src.clone().slice(range.clone()), tgt.clone().slice(range));
        let out = model.forward(src, &vec![len; shard.len()], tgt.clone())?;
        let loss = token_cross_entropy(out.logits, tgt, None, smoothing);
        Ok(loss * ((shard.len() * len) as f32 / tokens))
    })
    .expect("lengths fit");
    optim.step(learning_rate, model.clone(), grads)
}

/// Prints one JSON line; a closed standard output (`| head`) is an error, not a panic.
pub(crate) fn emit(value: &serde_json::Value) -> Result<(), TrainerError> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")
        .and_then(|()| out.flush())
        .map_err(|e| TrainerError::io("<stdout>", e))
}

/// What [`side_by_side`] runs.
pub struct SideBySide {
    /// Our backend.
    pub device: Backend,
    /// Timed iterations per workload, for both.
    pub steps: usize,
    /// Time train_step at lengths 24 and 48 too.
    pub sweep: bool,
    /// Threads, for both.
    pub threads: usize,
    /// The Python that has PyTorch.
    pub python: PathBuf,
    /// `torch_ref.py`.
    pub script: PathBuf,
    /// `bench/g2p_torch_ref.py`, the `g2p_train_step` workload's PyTorch twin.
    pub g2p_script: PathBuf,
    /// `bench/translate_torch_ref.py`, the `translate_train_step` workload's PyTorch twin.
    pub translate_script: PathBuf,
    /// Alternating rounds.
    pub rounds: usize,
}

/// Runs `command`, returns its standard output's JSON lines (each echoed as it is read).
pub(crate) fn json_lines(
    mut command: Command,
    what: &str,
) -> Result<Vec<serde_json::Value>, TrainerError> {
    let output = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| TrainerError::io(what, e))?;
    if !output.status.success() {
        return Err(TrainerError::invalid(
            what,
            output.status,
            "the benchmark run failed",
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .map(|l| {
            println!("{l}");
            serde_json::from_str(l)
                .map_err(|e| TrainerError::invalid(what, l, format!("not a JSON line: {e}")))
        })
        .collect()
}

/// `train_step@12` style keys, and the measured value (`ms`, or `mib` for `peak_rss`).
fn keyed(lines: &[serde_json::Value]) -> Vec<(String, f64)> {
    lines
        .iter()
        .filter_map(|l| {
            let bench = l["bench"].as_str()?;
            if bench == "peak_rss" {
                return Some((bench.to_string(), l["mib"].as_f64()?));
            }
            Some((
                format!("{bench}@{}", l["src_len"].as_u64()?),
                l["ms"].as_f64()?,
            ))
        })
        .collect()
}

/// The median (the mean of the middle two for an even count).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Alternates our benchmark and the PyTorch reference, `rounds` times each (ours first), each
/// in its own process; prints every JSON line, then a Markdown table of the medians and the
/// ratio PyTorch / ours (above 1: we are faster, or smaller).
///
/// # Errors
///
/// A run that cannot start or fails, or output that is not JSON lines.
pub fn side_by_side(plan: &SideBySide) -> Result<(), TrainerError> {
    let exe = std::env::current_exe().map_err(|e| TrainerError::io("current_exe", e))?;
    for (flag, script, what) in [
        ("--torch-ref", &plan.script, "shared/bench/torch_ref.py"),
        (
            "--g2p-torch-ref",
            &plan.g2p_script,
            "bench/g2p_torch_ref.py",
        ),
        (
            "--translate-torch-ref",
            &plan.translate_script,
            "bench/translate_torch_ref.py",
        ),
    ] {
        if !script.is_file() {
            return Err(TrainerError::invalid(
                flag,
                script.display(),
                format!("no such file (it is {what})"),
            ));
        }
    }
    let mut ours: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut theirs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for _ in 0..plan.rounds {
        let mut command = Command::new(&exe);
        command.args(["bench", "--device", plan.device.name(), "--steps"]);
        command.arg(plan.steps.to_string());
        command.arg("--threads").arg(plan.threads.to_string());
        let torch = |script: &PathBuf| {
            let mut torch = Command::new(&plan.python);
            torch
                .arg(script)
                .arg("--steps")
                .arg(plan.steps.to_string())
                .arg("--threads")
                .arg(plan.threads.to_string());
            torch
        };
        let mut spec = torch(&plan.script);
        if plan.sweep {
            command.arg("--sweep");
            spec.arg("--sweep");
        }
        for (key, value) in keyed(&json_lines(command, "xtask bench")?) {
            ours.entry(key).or_default().push(value);
        }
        let twins = [
            (spec, "torch_ref.py"),
            (torch(&plan.g2p_script), "g2p_torch_ref.py"),
            (torch(&plan.translate_script), "translate_torch_ref.py"),
        ];
        for (command, what) in twins {
            for (key, value) in keyed(&json_lines(command, what)?) {
                theirs.entry(key).or_default().push(value);
            }
        }
    }
    println!(
        "\n| workload | ours ({}) | PyTorch | PyTorch / ours |\n|---|---:|---:|---:|",
        plan.device
    );
    for (key, values) in &mut ours {
        let Some(reference) = theirs.get_mut(key) else {
            continue;
        };
        let (a, b) = (median(values), median(reference));
        let unit = if key == "peak_rss" { "MiB" } else { "ms" };
        println!("| {key} | {a:.2} {unit} | {b:.2} {unit} | {:.2} |", b / a);
    }
    println!(
        "\nmedians of {} alternating rounds, {} timed steps each",
        plan.rounds, plan.steps
    );
    Ok(())
}
