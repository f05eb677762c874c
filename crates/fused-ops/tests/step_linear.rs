//! `StepLinear` in a recurrent loop gives the gradients of `Linear::forward` at every step: on
//! flex under autodiff (the relay that sums the weight's gradient in one product) against
//! ndarray's composed ops, with and without a bias, with a step whose output never reaches the
//! loss, and mixed with plain `Linear::forward` steps on the same layer.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::TensorData;
use fused_ops::StepLinear;

const BATCH: usize = 3;
const WIDTH: usize = 6;
const STEPS: usize = 5;

fn numbers(n: usize, seed: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 37 + seed * 101) % 29) as f32 - 14.0) / 14.0 * scale)
        .collect()
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec().unwrap()
}

/// How the loop applies the layer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    /// `StepLinear` at every step.
    Steps,
    /// `Linear::forward` at every step.
    Composed,
    /// `StepLinear` at even steps, `Linear::forward` at odd ones.
    Mixed,
}

/// The gradients of `W`, `b` (if any), the inputs and `h_0` of
/// `h_{t+1} = tanh(h_t W + b + x_t)`, loss `Σ_t Σ u_t ⊙ h_{t+1}` over every step but the
/// `skipped` one (its state still feeds the next step, whose output the loss reads).
fn gradients(device: &Device, bias: bool, way: Way, skipped: usize) -> Vec<Vec<f32>> {
    let weight = tensor(numbers(WIDTH * WIDTH, 1, 0.6), [WIDTH, WIDTH], device).require_grad();
    let b = tensor(numbers(WIDTH, 2, 0.3), [WIDTH], device).require_grad();
    let layer = Linear {
        weight: Param::from_tensor(weight),
        bias: bias.then(|| Param::from_tensor(b)),
    };
    let inputs = tensor(
        numbers(BATCH * STEPS * WIDTH, 3, 1.0),
        [BATCH, STEPS, WIDTH],
        device,
    )
    .require_grad();
    let h0 = tensor(numbers(BATCH * WIDTH, 4, 0.8), [BATCH, WIDTH], device).require_grad();
    let steps = StepLinear::new(&layer);
    let mut h = h0.clone();
    let mut loss = Tensor::<1>::zeros([1], device);
    for t in 0..STEPS {
        let x = inputs.clone().narrow(1, t, 1).squeeze_dim::<2>(1);
        let projected = match way {
            Way::Steps => steps.forward(h),
            Way::Composed => layer.forward(h),
            Way::Mixed if t % 2 == 0 => steps.forward(h),
            Way::Mixed => layer.forward(h),
        };
        h = (projected + x).tanh();
        if t != skipped {
            let u = tensor(numbers(BATCH * WIDTH, 10 + t, 1.0), [BATCH, WIDTH], device);
            loss = loss + (h.clone() * u).sum();
        }
    }
    // The last step's output reaches the loss only when it is not the skipped one.
    let grads = loss.backward();
    let mut out = vec![
        host(layer.weight.val().grad(&grads).expect("∂W")),
        host(inputs.grad(&grads).expect("∂x")),
        host(h0.grad(&grads).expect("∂h_0")),
    ];
    if let Some(b) = &layer.bias {
        out.push(host(b.val().grad(&grads).expect("∂b")));
    }
    out
}

fn assert_close(got: &[Vec<f32>], want: &[Vec<f32>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: gradient count");
    for (which, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: gradient {which}'s length");
        for (k, (g, w)) in g.iter().zip(w).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                "{what}: gradient {which}[{k}]: {g} vs {w}"
            );
        }
    }
}

#[test]
#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as the reference backend.
fn the_relay_gives_every_steps_gradients() {
    let flex = Device::flex().autodiff();
    let ndarray = Device::ndarray().autodiff();
    for bias in [true, false] {
        // The last step skipped: its backward pass never runs, so it must leave nothing.
        for skipped in [1, STEPS - 1, STEPS] {
            let want = gradients(&ndarray, bias, Way::Composed, skipped);
            for way in [Way::Steps, Way::Mixed, Way::Composed] {
                let got = gradients(&flex, bias, way, skipped);
                assert_close(
                    &got,
                    &want,
                    &format!("{way:?}, bias {bias}, skip {skipped}"),
                );
            }
        }
    }
}

#[test]
fn without_autodiff_a_step_is_the_layer() {
    let device = Device::flex();
    let layer = Linear {
        weight: Param::from_tensor(tensor(numbers(WIDTH * 4, 5, 0.7), [WIDTH, 4], &device)),
        bias: Some(Param::from_tensor(tensor(numbers(4, 6, 0.2), [4], &device))),
    };
    let x = tensor(numbers(BATCH * WIDTH, 7, 1.0), [BATCH, WIDTH], &device);
    let got = host(StepLinear::new(&layer).forward(x.clone()));
    let want = host(layer.forward(x));
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{g} vs {w}");
    }
}
