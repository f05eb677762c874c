//! Reading a sequence step by step through `SequenceSteps` and an attention memory step by step
//! (on flex under autodiff: step sources whose readers sum the gradient in one buffer) gives
//! the gradients of Burn's composed ops (ndarray: slices and matrix products).

use attention_core::{Attention, AttentionConfig, ScoreKind};
use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Gradients;
use fused_ops::SequenceSteps;

use crate::reference::{assert_close, tensor2, tensor3, values};

const BATCH: usize = 3;
const SRC_LEN: usize = 5;
const STEPS: usize = 4;
const QUERY: usize = 6;
const KEY: usize = 7;

#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as a second reference backend.
fn ndarray() -> Device {
    Device::ndarray().autodiff()
}

fn numbers(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 37 + seed * 101) % 29) as f32 - 14.0) / 9.0)
        .collect()
}

/// Every parameter's gradient, in visiting order.
struct Collect<'a> {
    grads: &'a Gradients,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // A parameter without a gradient shows as an empty one (and fails the comparison).
        self.out
            .push(param.val().grad(self.grads).map(values).unwrap_or_default());
    }
}

/// Gradients of the values, the query sequence and every parameter of a loss over attention
/// asked one step at a time, the queries read through `SequenceSteps`. Steps 1 and 3 read
/// query step 1 (step 3 never reads query 3), the loss leaves out step 2's output, and the
/// values also reach the loss directly: readers that give no gradient, and a second
/// consumer of the memory's tensor.
fn gradients(attention: &Attention, device: &Device) -> Vec<Vec<f32>> {
    let query = attention.query_size;
    let values_t = tensor3(
        &numbers(BATCH * SRC_LEN * KEY, 1),
        [BATCH, SRC_LEN, KEY],
        device,
    )
    .require_grad();
    let queries = tensor3(
        &numbers(BATCH * STEPS * query, 2),
        [BATCH, STEPS, query],
        device,
    )
    .require_grad();
    let probe = tensor2(&numbers(BATCH * KEY, 3), [BATCH, KEY], device);
    let weights_probe = tensor2(&numbers(BATCH * SRC_LEN, 4), [BATCH, SRC_LEN], device);
    let memory = attention
        .memory(values_t.clone())
        .with_lengths(&[5, 3, 1])
        .unwrap();
    let steps = SequenceSteps::new(queries.clone());
    let mut loss = (values_t.clone() * values_t.clone()).sum() * 0.25;
    for (step, read) in [0, 1, 2, 1].into_iter().enumerate() {
        let out = attention.step(&memory, steps.get(read) * (step as f32 + 1.0));
        if step != 2 {
            loss = loss
                + (out.context * probe.clone()).sum()
                + (out.weights * weights_probe.clone()).sum();
        }
    }
    let grads = loss.backward();
    let mut collect = Collect {
        grads: &grads,
        out: vec![
            values(values_t.grad(&grads).unwrap()),
            values(queries.grad(&grads).unwrap()),
        ],
    };
    attention.visit(&mut collect);
    collect.out
}

#[test]
fn step_sources_give_the_composed_ops_gradients() {
    for kind in ScoreKind::ALL {
        let (query, key) = if kind.needs_equal_sizes() {
            (KEY, KEY)
        } else {
            (QUERY, KEY)
        };
        let on_flex = AttentionConfig::new(query, key)
            .with_score(kind)
            .init(&Device::flex().autodiff())
            .unwrap();
        // `fork` keeps the parameters tracked on the new device (`to_device` does not).
        let on_ndarray = on_flex.clone().fork(&ndarray());
        let flex = gradients(&on_flex, &Device::flex().autodiff());
        let reference = gradients(&on_ndarray, &ndarray());
        assert_eq!(flex.len(), reference.len(), "{kind:?}: gradient count");
        for (i, (got, want)) in flex.iter().zip(&reference).enumerate() {
            let want: Vec<f64> = want.iter().map(|&x| f64::from(x)).collect();
            // Absolute 1e-5 on values of order 1 (assert_close scales by 1 + |expected|).
            assert_close(got, &want, 1e-5, &format!("{kind:?} gradient {i}"));
        }
    }
}
