//! `lstm_update` is the textbook LSTM step: values and gradients of its flex kernels (and, on
//! ndarray, of its composed ops) against a plain-Rust f64 evaluation of the equations, with
//! gradients by central differences of that evaluation.

use burn::prelude::*;
use burn::tensor::TensorData;
use fused_ops::lstm_update;

const BATCH: usize = 2;
const HIDDEN: usize = 5;

/// `(h', c')` of the textbook LSTM in f64, gates `[i, f, g, o]`.
fn textbook(x: &[f64], hh: &[f64], c: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let (mut h_next, mut c_next) = (vec![0.0; BATCH * HIDDEN], vec![0.0; BATCH * HIDDEN]);
    for b in 0..BATCH {
        for j in 0..HIDDEN {
            let a = |k: usize| x[(b * 4 + k) * HIDDEN + j] + hh[(b * 4 + k) * HIDDEN + j];
            let (i, f, g, o) = (sigmoid(a(0)), sigmoid(a(1)), a(2).tanh(), sigmoid(a(3)));
            let cell = f * c[b * HIDDEN + j] + i * g;
            c_next[b * HIDDEN + j] = cell;
            h_next[b * HIDDEN + j] = o * cell.tanh();
        }
    }
    (h_next, c_next)
}

/// The loss whose gradients are compared: `Σ w_h h' + Σ w_c c'`.
fn loss(x: &[f64], hh: &[f64], c: &[f64], w_h: &[f64], w_c: &[f64]) -> f64 {
    let (h, cell) = textbook(x, hh, c);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(a, b)| a * b).sum::<f64>();
    dot(&h, w_h) + dot(&cell, w_c)
}

fn numbers(n: usize, seed: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| (((i * 37 + seed * 101) % 29) as f64 - 14.0) / 14.0 * scale)
        .collect()
}

fn tensor(values: &[f64], shape: [usize; 2], device: &Device) -> Tensor<2> {
    let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn host(t: Tensor<2>) -> Vec<f64> {
    let values: Vec<f32> = t.into_data().try_into_vec().unwrap();
    values.into_iter().map(f64::from).collect()
}

/// Central differences of `loss` with respect to each of `inputs[which]`.
fn numeric_gradient(inputs: &[Vec<f64>; 5], which: usize) -> Vec<f64> {
    let step = 1e-6;
    (0..inputs[which].len())
        .map(|k| {
            let at = |delta: f64| {
                let mut moved = inputs.clone();
                moved[which][k] += delta;
                let [x, hh, c, w_h, w_c] = &moved;
                loss(x, hh, c, w_h, w_c)
            };
            (at(step) - at(-step)) / (2.0 * step)
        })
        .collect()
}

fn assert_close(got: &[f64], want: &[f64], tolerance: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "{what}[{k}]: {g} vs {w}"
        );
    }
}

#[test]
#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as the reference backend.
fn values_and_gradients_are_the_textbook_lstm_s() {
    // Pre-activations up to ±4, so that saturation and the linear middle are both exercised.
    let inputs = [
        numbers(BATCH * 4 * HIDDEN, 1, 2.5),
        numbers(BATCH * 4 * HIDDEN, 2, 1.5),
        numbers(BATCH * HIDDEN, 3, 2.0),
        numbers(BATCH * HIDDEN, 4, 1.0),
        numbers(BATCH * HIDDEN, 5, 1.0),
    ];
    let [x, hh, c, w_h, w_c] = &inputs;
    let (want_h, want_c) = textbook(x, hh, c);
    let want_grads = [0, 1, 2].map(|which| numeric_gradient(&inputs, which));
    // flex: the kernels; ndarray: the composed ops.
    for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
        let gates = [BATCH, 4 * HIDDEN];
        let state = [BATCH, HIDDEN];
        let x = tensor(x, gates, &device).require_grad();
        let hh = tensor(hh, gates, &device).require_grad();
        let c = tensor(c, state, &device).require_grad();
        let (h_next, c_next) = lstm_update(x.clone(), hh.clone(), c.clone());
        assert_close(&host(h_next.clone()), &want_h, 1e-6, "h'");
        assert_close(&host(c_next.clone()), &want_c, 1e-6, "c'");
        let loss = (h_next * tensor(w_h, state, &device)).sum()
            + (c_next * tensor(w_c, state, &device)).sum();
        let grads = loss.backward();
        for (name, input, want) in [("∂x̂", x, &want_grads[0]), ("∂ĥ", hh, &want_grads[1])] {
            let got = host(input.grad(&grads).expect("a gradient"));
            assert_close(&got, want, 1e-5, name);
        }
        let got = host(c.grad(&grads).expect("a gradient"));
        assert_close(&got, &want_grads[2], 1e-5, "∂c");
    }
}

#[test]
fn without_autodiff_the_kernels_give_the_same_step() {
    let device = Device::flex();
    let x = numbers(BATCH * 4 * HIDDEN, 7, 3.0);
    let hh = numbers(BATCH * 4 * HIDDEN, 8, 1.0);
    let c = numbers(BATCH * HIDDEN, 9, 2.0);
    let (want_h, want_c) = textbook(&x, &hh, &c);
    let (h, cell) = lstm_update(
        tensor(&x, [BATCH, 4 * HIDDEN], &device),
        tensor(&hh, [BATCH, 4 * HIDDEN], &device),
        tensor(&c, [BATCH, HIDDEN], &device),
    );
    assert_close(&host(h), &want_h, 1e-6, "h'");
    assert_close(&host(cell), &want_c, 1e-6, "c'");
}
