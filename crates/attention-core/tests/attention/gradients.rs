//! The gradients of each score (through softmax and context) against central finite
//! differences, for the queries, the encoder states and every parameter.

use attention_core::{Attention, AttentionConfig, ScoreKind};
use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::{Gradients, TensorData};

use crate::reference::{tensor3, values};

const BATCH: usize = 2;
const SRC_LEN: usize = 4;
const TGT_LEN: usize = 2;
const LENGTHS: [usize; BATCH] = [4, 2];

/// Deterministic pseudo-random numbers in [-1, 1).
fn numbers(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
        })
        .collect()
}

struct Problem {
    queries: Vec<f32>,
    values: Vec<f32>,
    /// Random weights that turn context and attention weights into one scalar loss.
    context_probe: Vec<f32>,
    weights_probe: Vec<f32>,
    query_size: usize,
    key_size: usize,
}

impl Problem {
    fn new(query_size: usize, key_size: usize) -> Self {
        Self {
            queries: numbers(BATCH * TGT_LEN * query_size, 1),
            values: numbers(BATCH * SRC_LEN * key_size, 2),
            context_probe: numbers(BATCH * TGT_LEN * key_size, 3),
            weights_probe: numbers(BATCH * TGT_LEN * SRC_LEN, 4),
            query_size,
            key_size,
        }
    }

    /// `L = Σ c ⊙ P_c + Σ α ⊙ P_α` for the given inputs.
    fn loss(&self, attention: &Attention, queries: Tensor<3>, values: Tensor<3>) -> Tensor<1> {
        let device = queries.device();
        let memory = attention.memory(values).with_lengths(&LENGTHS).unwrap();
        let out = attention.forward(&memory, queries);
        let pc = tensor3(
            &self.context_probe,
            [BATCH, TGT_LEN, self.key_size],
            &device,
        );
        let pw = tensor3(&self.weights_probe, [BATCH, TGT_LEN, SRC_LEN], &device);
        (out.context * pc).sum() + (out.weights * pw).sum()
    }

    fn loss_value(&self, attention: &Attention, queries: &[f32], values: &[f32]) -> f64 {
        let device = Device::flex();
        let q = tensor3(queries, [BATCH, TGT_LEN, self.query_size], &device);
        let v = tensor3(values, [BATCH, SRC_LEN, self.key_size], &device);
        f64::from(self.loss(attention, q, v).into_scalar::<f32>())
    }
}

/// Collects the gradient of every float parameter, in visiting order.
struct CollectGrads<'a> {
    grads: &'a Gradients,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for CollectGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = param
            .val()
            .grad(self.grads)
            .expect("every parameter has a gradient");
        self.out.push(values(grad));
    }
}

/// Adds `delta` to element `index` of the `param`-th float parameter.
struct Nudge {
    param: usize,
    index: usize,
    delta: f32,
    seen: usize,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let this = self.seen;
        self.seen += 1;
        if this != self.param {
            return param;
        }
        let (index, delta) = (self.index, self.delta);
        param.map(move |tensor| {
            let dims = tensor.dims();
            let device = tensor.device();
            let mut data = values(tensor);
            data[index] += delta;
            Tensor::from_data(TensorData::new(data, dims), &device)
        })
    }
}

fn central_difference(f: impl Fn(f32) -> f64, eps: f32) -> f64 {
    (f(eps) - f(-eps)) / (2.0 * f64::from(eps))
}

fn assert_grad(analytic: &[f32], numeric: &[f64], what: &str) {
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        let a = f64::from(*a);
        assert!(
            (a - n).abs() <= 2e-3 + 1e-2 * n.abs(),
            "{what}[{i}]: backward gives {a}, finite differences {n}"
        );
    }
}

fn check_gradients(kind: ScoreKind, query_size: usize, key_size: usize) {
    const EPS: f32 = 1e-2;
    let problem = Problem::new(query_size, key_size);
    let device = Device::flex().autodiff();
    let attention = AttentionConfig::new(query_size, key_size)
        .with_score(kind)
        .init(&device)
        .unwrap();

    let queries = tensor3(&problem.queries, [BATCH, TGT_LEN, query_size], &device).require_grad();
    let values_t = tensor3(&problem.values, [BATCH, SRC_LEN, key_size], &device).require_grad();
    let grads = problem
        .loss(&attention, queries.clone(), values_t.clone())
        .backward();
    let mut collect = CollectGrads {
        grads: &grads,
        out: Vec::new(),
    };
    attention.visit(&mut collect);
    let param_grads = collect.out;

    // Finite differences run without autodiff, on the inference copy of the same weights.
    let plain = attention.valid();
    let fd_input = |which: usize, n: usize| -> Vec<f64> {
        (0..n)
            .map(|i| {
                central_difference(
                    |d| {
                        let (mut q, mut v) = (problem.queries.clone(), problem.values.clone());
                        if which == 0 {
                            q[i] += d
                        } else {
                            v[i] += d
                        }
                        problem.loss_value(&plain, &q, &v)
                    },
                    EPS,
                )
            })
            .collect()
    };
    let dq = values(queries.grad(&grads).unwrap());
    assert_grad(
        &dq,
        &fd_input(0, problem.queries.len()),
        &format!("{kind:?} d/dqueries"),
    );
    let dv = values(values_t.grad(&grads).unwrap());
    assert_grad(
        &dv,
        &fd_input(1, problem.values.len()),
        &format!("{kind:?} d/dvalues"),
    );

    let expected_params = match kind {
        ScoreKind::Dot | ScoreKind::ScaledDot => 0,
        ScoreKind::General => 1,
        ScoreKind::Additive => 4,
    };
    assert_eq!(
        param_grads.len(),
        expected_params,
        "{kind:?}: parameter count"
    );
    for (p, grad) in param_grads.iter().enumerate() {
        let numeric: Vec<f64> = (0..grad.len())
            .map(|index| {
                central_difference(
                    |delta| {
                        let nudged = plain.clone().map(&mut Nudge {
                            param: p,
                            index,
                            delta,
                            seen: 0,
                        });
                        problem.loss_value(&nudged, &problem.queries, &problem.values)
                    },
                    EPS,
                )
            })
            .collect();
        assert_grad(grad, &numeric, &format!("{kind:?} parameter {p}"));
    }
}

#[test]
fn dot_gradients() {
    check_gradients(ScoreKind::Dot, 3, 3);
}

#[test]
fn scaled_dot_gradients() {
    check_gradients(ScoreKind::ScaledDot, 3, 3);
}

#[test]
fn general_gradients() {
    check_gradients(ScoreKind::General, 3, 5);
}

#[test]
fn additive_gradients() {
    check_gradients(ScoreKind::Additive, 3, 5);
}
