//! One model on every compiled backend: its parameters are saved once, loaded on each backend,
//! and the logits and attention weights of one batch are compared with the first backend's.
//!
//! ```text
//! cargo run -p backend-swap                                   # flex and ndarray
//! CUBECL_WGPU_DEFAULT_DEVICE=Cpu cargo run -p backend-swap --features wgpu
//! ```
#![recursion_limit = "256"]

use std::process::ExitCode;

use burn::module::Module;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use trainer::{Backend, EncodedPair, ModelOptions, TrainerError, make_batch, model_bytes};

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("float data")
}

fn run() -> Result<(), TrainerError> {
    let options = ModelOptions::default();
    let backends = Backend::compiled();
    let first = backends[0].device()?;
    let model = options.seq2seq(40, 40).init(&first)?;
    let bytes = model_bytes(&model)?;
    println!(
        "one model, {} parameters, on: {:?}",
        model.num_params(),
        backends.iter().map(|b| b.name()).collect::<Vec<_>>()
    );

    let pairs: Vec<EncodedPair> = (0..6)
        .map(|i| EncodedPair {
            source: (0..4 + i).map(|k| 4 + (3 * i + 5 * k) % 36).collect(),
            target: (0..3 + i % 3).map(|k| 4 + (7 * i + k) % 36).collect(),
        })
        .collect();
    let refs: Vec<&EncodedPair> = pairs.iter().collect();
    let mut reference: Option<(Vec<f32>, Vec<f32>)> = None;
    for backend in backends {
        let device = backend.device()?;
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.clone()))
            .map_err(|e| TrainerError::run("model", e.to_string()))?;
        let model = options
            .seq2seq(40, 40)
            .init(&device)?
            .try_load_record(record)
            .map_err(|e| TrainerError::run("model", e.to_string()))?;
        let batch = make_batch(&refs, &device);
        let started = std::time::Instant::now();
        let out = model.forward(batch.source, &batch.source_lengths, batch.target_inputs)?;
        let logits = host(out.logits);
        let weights = out.weights.map(host).unwrap_or_default();
        let ms = started.elapsed().as_secs_f64() * 1e3;
        match &reference {
            None => {
                println!("{:>8}: reference ({ms:.1} ms)", backend.name());
                reference = Some((logits, weights));
            }
            Some((l0, w0)) => {
                let worst = |a: &[f32], b: &[f32]| {
                    a.iter()
                        .zip(b)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0f32, f32::max)
                };
                println!(
                    "{:>8}: max |Δ logits| {:.2e}, max |Δ weights| {:.2e} ({ms:.1} ms)",
                    backend.name(),
                    worst(&logits, l0),
                    worst(&weights, w0)
                );
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
