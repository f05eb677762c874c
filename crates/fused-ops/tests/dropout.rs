//! `dropout` on flex (the counter-hash mask) and elsewhere (Burn's `Dropout::forward`): the
//! output is `x / keep` or 0 element by element, the gradient is the same mask, a seeded device
//! repeats its masks, and outside training it is the identity.

use std::sync::{Mutex, MutexGuard, PoisonError};

use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use burn::tensor::TensorData;
use fused_ops::dropout;

const N: usize = 40_000;

/// Held by every test that seeds or draws from a backend's generator: flex's (like ndarray's)
/// is one per process, and the test harness runs tests on parallel threads, so a test's draws
/// would otherwise interleave with another's and break its seeded sequence.
static GENERATOR: Mutex<()> = Mutex::new(());

fn generator() -> MutexGuard<'static, ()> {
    GENERATOR.lock().unwrap_or_else(PoisonError::into_inner)
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec().unwrap()
}

/// `x` (all in [1, 2)), `dropout(x)` and `∂ Σ dropout(x) / ∂x`, on `device` under autodiff.
fn run(layer: &Dropout, device: &Device) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let values: Vec<f32> = (0..N).map(|i| 1.0 + (i % 97) as f32 / 97.0).collect();
    let x = Tensor::<2>::from_data(TensorData::new(values.clone(), [200, N / 200]), device)
        .require_grad();
    let y = dropout(layer, x.clone());
    let out = host(y.clone());
    let grads = y.sum().backward();
    let grad = host(x.grad(&grads).expect("x has a gradient"));
    (values, out, grad)
}

fn check_mask(prob: f64, device: &Device) {
    let layer = DropoutConfig::new(prob).init();
    let keep = 1.0 - prob;
    let (x, y, grad) = run(&layer, device);
    let scale = (1.0 / keep) as f32;
    let mut kept = 0;
    for i in 0..N {
        if y[i] == 0.0 {
            assert_eq!(grad[i], 0.0, "element {i}: dropped, yet a gradient");
        } else {
            kept += 1;
            assert!(
                (y[i] - x[i] * scale).abs() < 1e-5,
                "element {i}: {} for {}",
                y[i],
                x[i]
            );
            assert!(
                (grad[i] - scale).abs() < 1e-5,
                "element {i}: gradient {}",
                grad[i]
            );
        }
    }
    let share = kept as f64 / N as f64;
    // Six binomial standard deviations at N = 40 000 is under 0.015.
    assert!((share - keep).abs() < 0.015, "p {prob}: kept {share}");
}

#[test]
fn flex_keeps_about_one_minus_p_scaled_and_the_gradient_is_the_mask() {
    let _generator = generator();
    let device = Device::flex().autodiff();
    device.seed(3);
    for prob in [0.1, 0.3, 0.5] {
        check_mask(prob, &device);
    }
}

#[test]
#[allow(deprecated)] // ndarray: the portable path, Burn's own dropout
fn other_backends_take_burns_dropout_with_the_same_contract() {
    let _generator = generator();
    let device = Device::ndarray().autodiff();
    device.seed(3);
    check_mask(0.3, &device);
}

#[test]
fn a_seeded_device_repeats_its_masks_and_successive_calls_differ() {
    let _generator = generator();
    let device = Device::flex().autodiff();
    let layer = DropoutConfig::new(0.5).init();
    device.seed(11);
    let (_, first, _) = run(&layer, &device);
    let (_, second, _) = run(&layer, &device);
    device.seed(11);
    let (_, again, _) = run(&layer, &device);
    assert_eq!(first, again);
    assert_ne!(first, second);
}

#[test]
fn outside_training_it_is_the_identity() {
    let values = Tensor::<2>::from_data([[1.0, 2.0], [3.0, 4.0]], &Device::flex());
    let layer = DropoutConfig::new(0.5).init();
    // No autodiff: inference.
    assert_eq!(host(dropout(&layer, values.clone())), [1.0, 2.0, 3.0, 4.0]);
    // p = 0.
    let device = Device::flex().autodiff();
    let x = Tensor::<2>::from_data([[1.0, 2.0], [3.0, 4.0]], &device);
    let none = DropoutConfig::new(0.0).init();
    assert_eq!(host(dropout(&none, x.clone())), [1.0, 2.0, 3.0, 4.0]);
    // The training flag off (`Module::valid` clears it).
    let mut off = layer.clone();
    off.training = burn::module::Param::from_bool(false);
    assert_eq!(host(dropout(&off, x)), [1.0, 2.0, 3.0, 4.0]);
}
