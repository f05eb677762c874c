//! One attention step, with `attention-core` and `burn` alone.
//!
//! Three source words, the second sentence padded after two; one decoder query per sentence.
//! Prints each sentence's attention weights (zero on padding, summing to 1) and context.
//!
//! ```text
//! cargo run -p attention-step                      # flex (default)
//! cargo run -p attention-step -- general           # any score: dot, scaled-dot, general, additive
//! cargo run -p attention-step --no-default-features --features ndarray
//! ```
#![recursion_limit = "256"]

use std::process::ExitCode;

use attention_core::{AttentionConfig, ScoreKind};
use burn::prelude::*;
use burn::tensor::TensorData;

/// The backend chosen by cargo feature, first enabled of flex, ndarray, wgpu.
fn select_device() -> Device {
    #[cfg(feature = "flex")]
    return Device::flex();
    #[cfg(all(feature = "ndarray", not(feature = "flex")))]
    #[allow(deprecated)] // burn-ndarray is deprecated upstream; kept for the design's sake.
    return Device::ndarray();
    #[cfg(all(feature = "wgpu", not(any(feature = "flex", feature = "ndarray"))))]
    return Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    #[cfg(not(any(feature = "flex", feature = "ndarray", feature = "wgpu")))]
    compile_error!("enable one backend feature: flex, ndarray or wgpu");
}

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_else(|| "dot".to_string());
    match run(&name) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(score_name: &str) -> Result<(), attention_core::AttentionError> {
    let device = select_device();
    let score: ScoreKind = score_name.parse()?;
    let attention = AttentionConfig::new(2, 2).with_score(score).init(&device)?;

    // Encoder states h_j: [batch = 2, src_len = 3, key_size = 2].
    let states = [
        [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
        [[0.5, 0.5], [-1.0, 0.0], [9.0, 9.0]],
    ];
    let words = [["le", "chat", "noir"], ["bonjour", "monde", "<pad>"]];
    let memory = attention
        .memory(Tensor::from_data(TensorData::from(states), &device))
        .with_lengths(&[3, 2])?;
    // One decoder query s per sentence: [batch = 2, query_size = 2].
    let query = Tensor::<2>::from_data(TensorData::from([[1.0, 2.0], [-1.0, 0.5]]), &device);
    let out = attention.step(&memory, query);

    let weights = out
        .weights
        .into_data()
        .try_into_vec::<f32>()
        .expect("f32 weights");
    let context = out
        .context
        .into_data()
        .try_into_vec::<f32>()
        .expect("f32 context");
    println!("score: {} on {device:?}", score.name());
    for (b, sentence) in words.iter().enumerate() {
        println!("sentence {b}:");
        for (j, word) in sentence.iter().enumerate() {
            let w = weights[b * 3 + j];
            println!(
                "  {word:>8}  {w:.4}  {}",
                "#".repeat((w * 40.0).round() as usize)
            );
        }
        println!(
            "  context  [{:.4}, {:.4}]",
            context[b * 2],
            context[b * 2 + 1]
        );
    }
    Ok(())
}
