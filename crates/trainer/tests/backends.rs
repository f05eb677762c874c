//! The same model on every compiled backend: same outputs from one record, and the same loss
//! curve over 20 training steps from the same start.
//!
//! `cargo test --workspace` compares `flex` and `ndarray` (this crate's tests enable both);
//! CI adds `wgpu` on Mesa's software Vulkan driver:
//! `CUBECL_WGPU_DEFAULT_DEVICE=Cpu cargo test -p trainer --features wgpu --test backends`.
#![recursion_limit = "256"]

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use decoder::Seq2Seq;
use encoder::CellKind;
use trainer::{Backend, EncodedPair, ModelOptions, batch_loss, make_batch, model_bytes};

/// Outputs of different backends agree to this (absolute, on logits and weights).
const OUTPUT_TOLERANCE: f32 = 1e-4;
/// Loss curves agree to this (absolute, per step, on losses of order 1).
const LOSS_TOLERANCE: f64 = 1e-3;

fn backends() -> Vec<(Backend, Device)> {
    let compiled: Vec<(Backend, Device)> = Backend::compiled()
        .into_iter()
        .map(|b| (b, b.device().unwrap()))
        .collect();
    assert!(
        compiled.len() >= 2,
        "these tests compare backends: compile at least two (flex, ndarray, wgpu)"
    );
    eprintln!(
        "backends: {:?}",
        compiled.iter().map(|(b, _)| b.name()).collect::<Vec<_>>()
    );
    compiled
}

/// A small model of the default shape (bidirectional encoder, additive attention, Bahdanau
/// ordering) with `cell` on both sides.
fn model_options(cell: CellKind) -> ModelOptions {
    ModelOptions {
        embedding: 16,
        encoder_hidden: 24,
        decoder_hidden: 32,
        cell,
        ..ModelOptions::default()
    }
}

/// A fixed batch of 12-token dates-like sequences over a 20-token vocabulary.
fn pairs(n: usize, seed: usize) -> Vec<EncodedPair> {
    (0..n)
        .map(|i| {
            let len = 3 + (i * 7 + seed) % 9;
            EncodedPair {
                source: (0..len).map(|k| 4 + (i * 5 + k * 3 + seed) % 16).collect(),
                target: (0..len.min(6))
                    .map(|k| 4 + (i + k * 7 + seed) % 16)
                    .collect(),
            }
        })
        .collect()
}

/// The model built on `device` with the parameters in `bytes`.
fn load(bytes: &[u8], device: &Device, cell: CellKind) -> Seq2Seq {
    let model = model_options(cell).seq2seq(20, 20).init(device).unwrap();
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec())).unwrap();
    model.try_load_record(record).unwrap()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn one_record_gives_the_same_logits_and_weights_everywhere() {
    let backends = backends();
    let start = model_options(CellKind::Gru)
        .seq2seq(20, 20)
        .init(&backends[0].1)
        .unwrap();
    let bytes = model_bytes(&start).unwrap();
    let data = pairs(8, 1);
    let refs: Vec<&EncodedPair> = data.iter().collect();
    let mut reference: Option<(Vec<f32>, Vec<f32>)> = None;
    for (backend, device) in &backends {
        let model = load(&bytes, device, CellKind::Gru);
        let batch = make_batch(&refs, device);
        let out = model
            .forward(batch.source, &batch.source_lengths, batch.target_inputs)
            .unwrap();
        let (logits, weights) = (host(out.logits), host(out.weights.unwrap()));
        match &reference {
            None => reference = Some((logits, weights)),
            Some((l0, w0)) => {
                let worst = |a: &[f32], b: &[f32]| {
                    a.iter()
                        .zip(b)
                        .map(|(x, y)| (x - y).abs())
                        .fold(0.0, f32::max)
                };
                let (dl, dw) = (worst(&logits, l0), worst(&weights, w0));
                eprintln!(
                    "{}: max |Δ| logits {dl:.2e}, weights {dw:.2e}",
                    backend.name()
                );
                assert!(
                    dl <= OUTPUT_TOLERANCE && dw <= OUTPUT_TOLERANCE,
                    "{}: {dl} {dw}",
                    backend.name()
                );
            }
        }
    }
}

#[test]
fn twenty_training_steps_give_the_same_loss_curve_everywhere() {
    // Both cells: on flex each step's projections and the attention's query projection take
    // the relays of `fused_ops::StepLinear`, which ndarray and wgpu do not have. (No dropout:
    // flex draws its masks differently.)
    for cell in CellKind::ALL {
        same_loss_curves(cell);
    }
}

fn same_loss_curves(cell: CellKind) {
    let backends = backends();
    let start = model_options(cell)
        .seq2seq(20, 20)
        .init(&backends[0].1)
        .unwrap();
    let bytes = model_bytes(&start).unwrap();
    let mut curves: Vec<(Backend, Vec<f64>)> = Vec::new();
    for (backend, device) in &backends {
        let device = device.clone().autodiff();
        let mut model = load(&bytes, &device, cell);
        let mut optim = trainer::adam();
        let mut losses = Vec::new();
        for step in 0..20 {
            let data = pairs(16, step);
            let refs: Vec<&EncodedPair> = data.iter().collect();
            let batch = make_batch(&refs, &device);
            let loss = batch_loss(&model, batch, 0.0).unwrap();
            losses.push(f64::from(loss.clone().into_scalar::<f32>()));
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(3e-3, model, grads);
        }
        curves.push((*backend, losses));
    }
    let (first, reference) = &curves[0];
    assert!(
        reference.last().unwrap() < &reference[0],
        "{}: the loss falls: {reference:?}",
        first.name()
    );
    for (backend, losses) in &curves[1..] {
        let worst = reference
            .iter()
            .zip(losses)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "{} vs {}, {}: max |Δ loss| over 20 steps {worst:.2e}",
            backend.name(),
            first.name(),
            cell.name()
        );
        assert!(
            worst <= LOSS_TOLERANCE,
            "{}: {losses:?} vs {reference:?}",
            backend.name()
        );
    }
}
