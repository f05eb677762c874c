//! Every score on one tiny example, against values worked out by hand (and checked with Python's
//! `math`): query `s`, keys `h = [[1, 0], [0, 1], [1, 1]]`.

use std::f64::consts::{FRAC_1_SQRT_2, SQRT_2};

use attention_core::{AttentionConfig, Score, ScoreKind, masked_softmax};
use burn::module::Param;
use burn::prelude::*;

use crate::reference::{assert_close, mask2, tensor2, tensor3, values};

const H: [f32; 6] = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];

struct Expected {
    scores: [f64; 3],
    weights: [f64; 3],
    context: [f64; 2],
}

fn check(kind: ScoreKind, query: &[f32], set_params: impl FnOnce(&mut Score), expected: Expected) {
    let device = Device::flex();
    let mut attention = AttentionConfig::new(query.len(), 2)
        .with_score(kind)
        .with_attention_size((kind == ScoreKind::Additive).then_some(2))
        .init(&device)
        .unwrap();
    set_params(&mut attention.score);
    let memory = attention.memory(tensor3(&H, [1, 3, 2], &device));
    let query = tensor2(query, [1, query.len()], &device);

    let keys = attention
        .score
        .project_keys(tensor3(&H, [1, 3, 2], &device));
    let scores = attention.score.scores(query.clone().unsqueeze_dim(1), keys);
    assert_close(&values(scores), &expected.scores, 1e-6, "scores");

    let out = attention.step(&memory, query);
    assert_close(&values(out.weights), &expected.weights, 1e-6, "weights");
    assert_close(&values(out.context), &expected.context, 1e-6, "context");
}

fn param(data: &[f32], dims: [usize; 2]) -> Param<Tensor<2>> {
    Param::from_tensor(tensor2(data, dims, &Device::flex()))
}

#[test]
fn dot_score() {
    // e = [1·1 + 2·0, 1·0 + 2·1, 1·1 + 2·1] = [1, 2, 3]
    check(
        ScoreKind::Dot,
        &[1.0, 2.0],
        |_| {},
        Expected {
            scores: [1.0, 2.0, 3.0],
            weights: [0.09003057, 0.24472847, 0.66524096],
            context: [0.75527153, 0.90996943],
        },
    );
}

#[test]
fn scaled_dot_score() {
    // e = [1, 2, 3] / √2
    check(
        ScoreKind::ScaledDot,
        &[1.0, 2.0],
        |_| {},
        Expected {
            scores: [FRAC_1_SQRT_2, SQRT_2, 3.0 * FRAC_1_SQRT_2],
            weights: [0.14002925, 0.28399541, 0.57597535],
            context: [0.71600459, 0.85997075],
        },
    );
}

#[test]
fn general_score_with_different_sizes() {
    // W h_j with Wᵀ = [[1, 0, 2], [0, 1, -1]]: [1, 0, 2], [0, 1, -1], [1, 1, 1];
    // s = [1, 2, 0.5] gives e = [2, 1.5, 3.5].
    let set = |score: &mut Score| {
        let Score::General(general) = score else {
            unreachable!()
        };
        general.key_proj.weight = param(&[1.0, 0.0, 2.0, 0.0, 1.0, -1.0], [2, 3]);
    };
    check(
        ScoreKind::General,
        &[1.0, 2.0, 0.5],
        set,
        Expected {
            scores: [2.0, 1.5, 3.5],
            weights: [0.16425163, 0.09962365, 0.73612472],
            context: [0.90037635, 0.83574837],
        },
    );
}

#[test]
fn additive_score() {
    // W_q = I, W_k = diag(1, -1), b = [0.5, -0.5], v = [1, 2], s = [0.2, -0.1]:
    // e_1 = tanh(1.7) + 2 tanh(-0.6), e_2 = tanh(0.7) + 2 tanh(-1.6), e_3 = tanh(1.7) + 2 tanh(-1.6).
    let set = |score: &mut Score| {
        let Score::Additive(additive) = score else {
            unreachable!()
        };
        additive.query_proj.weight = param(&[1.0, 0.0, 0.0, 1.0], [2, 2]);
        additive.key_proj.weight = param(&[1.0, 0.0, 0.0, -1.0], [2, 2]);
        additive.key_proj.bias = Some(Param::from_tensor(Tensor::from_floats(
            [0.5, -0.5],
            &Device::flex(),
        )));
        additive.energy.weight = param(&[1.0, 2.0], [2, 1]);
    };
    check(
        ScoreKind::Additive,
        &[0.2, -0.1],
        set,
        Expected {
            scores: [-0.13869006, -1.23896933, -0.90792804],
            weights: [0.55674818, 0.18527362, 0.25797820],
            context: [0.81472638, 0.44325182],
        },
    );
}

#[test]
fn padded_key_gets_zero_weight_and_the_rest_renormalise() {
    // Dot example with h_3 padded: softmax([1, 2]) = [0.26894142, 0.73105858].
    let device = Device::flex();
    let attention = AttentionConfig::new(2, 2)
        .with_score(ScoreKind::Dot)
        .init(&device)
        .unwrap();
    let memory = attention
        .memory(tensor3(&H, [1, 3, 2], &device))
        .with_lengths(&[2])
        .unwrap();
    let out = attention.step(&memory, tensor2(&[1.0, 2.0], [1, 2], &device));
    let weights = values(out.weights);
    assert_eq!(weights[2], 0.0, "a padded key's weight is exactly zero");
    assert_close(&weights, &[0.26894142, 0.73105858, 0.0], 1e-6, "weights");
    assert_close(
        &values(out.context),
        &[0.26894142, 0.73105858],
        1e-6,
        "context",
    );
}

#[test]
fn masked_softmax_of_huge_scores() {
    // ±1e4 would overflow exp without the max shift: softmax([1e4, 1e4 - 1]) = [0.7310586, 0.2689414].
    let device = Device::flex();
    let scores = tensor2(
        &[1e4, 1e4 - 1.0, -1e4, -1e4, -1e4 + 2.0, 5.0],
        [2, 3],
        &device,
    );
    let pad = mask2(&[false, false, true, false, false, true], [2, 3], &device);
    let weights = values(masked_softmax(scores, Some(pad)));
    assert_close(
        &weights,
        &[0.73105858, 0.26894142, 0.0, 0.11920292, 0.88079708, 0.0],
        1e-6,
        "weights",
    );
}

#[test]
fn configuration_errors_are_reported_not_panicked() {
    use attention_core::AttentionError;
    let device = Device::flex();
    let err = AttentionConfig::new(3, 4)
        .with_score(ScoreKind::Dot)
        .init(&device)
        .unwrap_err();
    assert_eq!(
        err,
        AttentionError::SizeMismatch {
            score: "dot",
            query_size: 3,
            key_size: 4
        }
    );
    assert!(
        err.to_string().contains("query_size = 3 and key_size = 4"),
        "{err}"
    );
    assert!(
        AttentionConfig::new(3, 4)
            .with_score(ScoreKind::ScaledDot)
            .init(&device)
            .is_err()
    );
    assert!(
        AttentionConfig::new(3, 4)
            .with_score(ScoreKind::General)
            .init(&device)
            .is_ok()
    );
    assert!(
        AttentionConfig::new(3, 4)
            .with_score(ScoreKind::Additive)
            .init(&device)
            .is_ok()
    );
    assert_eq!(
        AttentionConfig::new(0, 4).init(&device).unwrap_err(),
        AttentionError::ZeroSize { name: "query_size" }
    );
    assert_eq!(
        AttentionConfig::new(4, 4)
            .with_attention_size(Some(0))
            .init(&device)
            .unwrap_err(),
        AttentionError::ZeroSize {
            name: "attention_size"
        }
    );
    assert_eq!(
        AttentionConfig::new(4, 4)
            .with_score(ScoreKind::General)
            .with_attention_size(Some(8))
            .init(&device)
            .unwrap_err(),
        AttentionError::AttentionSizeUnused {
            score: "general",
            attention_size: 8
        }
    );
    let memory = AttentionConfig::new(2, 2)
        .init(&device)
        .unwrap()
        .memory(tensor3(&H, [1, 3, 2], &device));
    assert_eq!(
        memory.clone().with_lengths(&[4]).unwrap_err(),
        AttentionError::LengthTooLong {
            row: 0,
            length: 4,
            src_len: 3
        }
    );
    assert_eq!(
        memory.with_lengths(&[1, 2]).unwrap_err(),
        AttentionError::LengthCount { given: 2, batch: 1 }
    );
}

#[test]
fn score_names_round_trip() {
    for kind in ScoreKind::ALL {
        assert_eq!(kind.name().parse::<ScoreKind>().unwrap(), kind);
    }
    let err = "luong".parse::<ScoreKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown score \"luong\"; expected one of dot, scaled-dot, general, additive"
    );
}
