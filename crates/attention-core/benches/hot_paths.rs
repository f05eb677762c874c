//! Micro-benchmarks of attention-core's hot paths at the shape of `shared/bench/SPEC.md`
//! (batch 64, source length 12, states and attention size 256) on burn-flex.
//!
//! `cargo bench -p attention-core` (divan). What a decoder does once per step: the scores, the
//! masked softmax, the context, all three together ([`Attention::step`]), and that step with
//! its backward pass as in training.

use attention_core::{
    Attention, AttentionConfig, AttentionMemory, ScoreKind, context, masked_softmax,
};
use burn::prelude::*;
use burn::tensor::Distribution;

const BATCH: usize = 64;
const SRC_LEN: usize = 12;
const SIZE: usize = 256;

fn main() {
    divan::main();
}

struct Setup {
    attention: Attention,
    memory: AttentionMemory,
    query: Tensor<2>,
}

fn setup(score: &str, device: &Device) -> Setup {
    device.seed(7);
    let score: ScoreKind = score.parse().expect("a score name");
    let attention = AttentionConfig::new(SIZE, SIZE)
        .with_score(score)
        .with_attention_size((score == ScoreKind::Additive).then_some(SIZE))
        .init(device)
        .expect("valid sizes");
    let values = Tensor::<3>::random([BATCH, SRC_LEN, SIZE], Distribution::Default, device);
    let lengths: Vec<usize> = (0..BATCH).map(|b| SRC_LEN - b % 4).collect();
    let memory = attention
        .memory(values)
        .with_lengths(&lengths)
        .expect("lengths fit");
    let query = Tensor::<2>::random([BATCH, SIZE], Distribution::Default, device);
    Setup {
        attention,
        memory,
        query,
    }
}

const SCORES: [&str; 4] = ["dot", "scaled-dot", "general", "additive"];

/// The scores `e_ij` of one query per sentence against its keys.
#[divan::bench(args = SCORES)]
fn scores(bencher: divan::Bencher, score: &str) {
    let s = setup(score, &Device::flex());
    let keys = s.attention.score.project_keys(s.memory.values().clone());
    bencher.bench_local(|| {
        s.attention
            .score
            .scores(s.query.clone().unsqueeze_dim(1), keys.clone())
            .into_data()
    });
}

/// Padding-masked softmax over the source positions.
#[divan::bench]
fn softmax(bencher: divan::Bencher) {
    let device = Device::flex();
    let scores = Tensor::<3>::random([BATCH, 1, SRC_LEN], Distribution::Default, &device);
    let s = setup("dot", &device);
    let mask = s
        .memory
        .pad_mask()
        .expect("lengths give a mask")
        .clone()
        .unsqueeze_dim::<3>(1); // [batch, 1, src_len]
    bencher.bench_local(|| masked_softmax(scores.clone(), Some(mask.clone())).into_data());
}

/// The weighted sum `c_i = Σ_j α_ij h_j`.
#[divan::bench]
fn weighted_context(bencher: divan::Bencher) {
    let device = Device::flex();
    let s = setup("dot", &device);
    let weights = Tensor::<3>::random([BATCH, 1, SRC_LEN], Distribution::Default, &device);
    bencher.bench_local(|| context(weights.clone(), s.memory.values().clone()).into_data());
}

/// Scores, softmax and context for one decoder step, inference.
#[divan::bench(args = SCORES)]
fn step(bencher: divan::Bencher, score: &str) {
    let s = setup(score, &Device::flex());
    bencher.bench_local(|| {
        s.attention
            .step(&s.memory, s.query.clone())
            .context
            .into_data()
    });
}

/// One decoder step's attention with its backward pass, as in training.
#[divan::bench(args = SCORES)]
fn step_with_backward(bencher: divan::Bencher, score: &str) {
    let device = Device::flex().autodiff();
    bencher
        .with_inputs(|| setup(score, &device))
        .bench_local_values(|s| {
            let query = s.query.require_grad();
            let out = s.attention.step(&s.memory, query.clone());
            let grads = out.context.sum().backward();
            query
                .grad(&grads)
                .expect("the query has a gradient")
                .into_data()
        });
}
