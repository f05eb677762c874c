//! `sigmoid` and `tanh_via_sigmoid` are σ and `tanh`: values and gradients over the whole useful
//! range, on flex (this crate's SIMD kernels, with `flex` on as in these tests) and on ndarray
//! (Burn's own ops), for contiguous, shared and strided inputs.

use burn::prelude::*;
use burn::tensor::TensorData;
use fused_ops::{sigmoid, tanh_via_sigmoid};

#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as the reference backend.
fn devices() -> [Device; 2] {
    [Device::flex(), Device::ndarray()]
}

/// -20 … 20 in steps of 0.01, plus values around 0 where `2σ(2x) − 1` cancels most.
fn inputs() -> Vec<f32> {
    let mut xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 * 0.01).collect();
    xs.extend([1e-8, -1e-8, 1e-4, -1e-4, 88.0, -88.0, 1e4, -1e4]);
    xs
}

fn sigmoid_f64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// A function under test with its f64 value and derivative.
struct Case {
    name: &'static str,
    f: fn(Tensor<1>) -> Tensor<1>,
    value: fn(f64) -> f64,
    derivative: fn(f64) -> f64,
}

fn functions() -> [Case; 2] {
    [
        Case {
            name: "sigmoid",
            f: sigmoid::<1>,
            value: sigmoid_f64,
            derivative: |x| sigmoid_f64(x) * (1.0 - sigmoid_f64(x)),
        },
        Case {
            name: "tanh_via_sigmoid",
            f: tanh_via_sigmoid::<1>,
            value: f64::tanh,
            derivative: |x| 1.0 - x.tanh() * x.tanh(),
        },
    ]
}

#[test]
fn values_match_f64_on_every_backend() {
    let xs = inputs();
    let n = xs.len();
    for device in devices() {
        for Case {
            name,
            f,
            value: want,
            ..
        } in functions()
        {
            let out = to_vec(f(Tensor::<1>::from_data(
                TensorData::new(xs.clone(), [n]),
                &device,
            )));
            for (x, y) in xs.iter().zip(&out) {
                let w = want(f64::from(*x));
                assert!(
                    (f64::from(*y) - w).abs() <= 2.5e-7,
                    "{name}({x}) = {w}, got {y} on {device:?}"
                );
            }
        }
    }
}

#[test]
fn gradients_match_f64_on_every_backend() {
    let xs = inputs();
    let n = xs.len();
    for device in devices() {
        let device = device.autodiff();
        for Case {
            name,
            f,
            derivative: want,
            ..
        } in functions()
        {
            let x =
                Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), &device).require_grad();
            // A weighted sum, so that the incoming gradient is not all ones.
            let weights = Tensor::<1>::from_data(
                TensorData::new((0..n).map(|i| (i % 7) as f32 - 3.0).collect(), [n]),
                &device,
            );
            let grads = (f(x.clone()) * weights).sum().backward();
            let grad = to_vec(x.grad(&grads).unwrap());
            for (i, (x, g)) in xs.iter().zip(&grad).enumerate() {
                let w = want(f64::from(*x)) * ((i % 7) as f64 - 3.0);
                assert!(
                    (f64::from(*g) - w).abs() <= 3e-6,
                    "{name}'({x}) · weight = {w}, got {g} on {device:?}"
                );
            }
        }
    }
}

#[test]
fn special_values() {
    for device in devices() {
        let x =
            Tensor::<1>::from_floats([f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0], &device);
        let s = to_vec(sigmoid(x.clone()));
        assert!(s[0].is_nan(), "σ(NaN) must be NaN on {device:?}");
        assert_eq!(&s[1..], &[1.0, 0.0, 0.5], "on {device:?}");
        let t = to_vec(tanh_via_sigmoid(x));
        assert!(t[0].is_nan(), "tanh(NaN) must be NaN on {device:?}");
        assert_eq!(&t[1..], &[1.0, -1.0, 0.0], "on {device:?}");
    }
}

/// The kernel may work in place only on a buffer nobody else holds: a kept clone, a slice and a
/// transposed view must all give Burn's answer and leave the input as it was.
#[test]
fn shared_sliced_and_strided_inputs() {
    let [flex, ndarray] = devices();
    let values: Vec<f32> = (0..48).map(|i| (i as f32 - 24.0) / 5.0).collect();
    let on =
        |device: &Device| Tensor::<2>::from_data(TensorData::new(values.clone(), [6, 8]), device);
    type View = fn(Tensor<2>) -> Tensor<2>;
    let cases: [(&str, View); 3] = [
        ("clone", |t| t),
        ("slice", |t| t.slice([1..4, 2..7])),
        ("transpose", |t| t.transpose()),
    ];
    for (name, view) in cases {
        for f in [sigmoid::<2>, tanh_via_sigmoid::<2>] {
            let input = on(&flex);
            let out = to_vec(f(view(input.clone())));
            let want = to_vec(f(view(on(&ndarray))));
            for (a, b) in out.iter().zip(&want) {
                assert!((a - b).abs() <= 5e-7, "{name}: {a} vs {b}");
            }
            assert_eq!(to_vec(input), values, "{name}: the input changed");
        }
    }
}
