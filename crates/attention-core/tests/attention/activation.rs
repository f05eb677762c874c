//! `tanh_via_sigmoid` is `tanh`: values and gradients over the whole useful range.

use attention_core::tanh_via_sigmoid;
use burn::prelude::*;
use burn::tensor::TensorData;

/// -20 … 20 in steps of 0.01, plus values around 0 where `2σ(2x) − 1` cancels most.
fn inputs() -> Vec<f32> {
    let mut xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.01).collect();
    xs.extend([1e-8, -1e-8, 1e-4, -1e-4, 88.0, -88.0, 1e4, -1e4]);
    xs
}

#[test]
fn values_match_tanh() {
    let device = Device::flex();
    let xs = inputs();
    let n = xs.len();
    let out = tanh_via_sigmoid(Tensor::<1>::from_data(
        TensorData::new(xs.clone(), [n]),
        &device,
    ));
    let out: Vec<f32> = out.into_data().try_to_vec::<f32>().unwrap();
    for (x, y) in xs.iter().zip(&out) {
        let want = (*x as f64).tanh();
        assert!(
            (*y as f64 - want).abs() <= 2.5e-7,
            "tanh({x}) = {want}, got {y}"
        );
    }
}

#[test]
fn gradients_match_tanh() {
    let device = Device::flex().autodiff();
    let xs = inputs();
    let n = xs.len();
    let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), &device).require_grad();
    let grads = tanh_via_sigmoid(x.clone()).sum().backward();
    let grad: Vec<f32> = x
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for (x, g) in xs.iter().zip(&grad) {
        let t = (*x as f64).tanh();
        let want = 1.0 - t * t;
        assert!(
            (*g as f64 - want).abs() <= 1e-6,
            "tanh'({x}) = {want}, got {g}"
        );
    }
}
