//! The logistic sigmoid and `tanh`: a SIMD kernel on Burn's flex backend (`flex`), Burn's own
//! ops everywhere else.

use burn::prelude::*;

#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
use flex::apply;

/// Which member of the logistic family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Logistic {
    /// `σ(a·x) = 1 / (1 + e^(−a·x))`.
    Sigmoid {
        /// The `a` in `σ(a·x)`.
        scale: f32,
    },
    /// `tanh x = 2σ(2x) − 1`.
    Tanh,
}

/// Without the `flex` feature every tensor takes Burn's ops.
#[cfg(not(feature = "flex"))]
fn apply<const D: usize>(
    x: Tensor<D>,
    _: Logistic,
    otherwise: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    otherwise(x)
}

/// `σ(x) = 1 / (1 + e^(−x))`, element-wise.
///
/// With this crate's `flex` feature, an f32 tensor on Burn's flex backend (with or without
/// autodiff) goes through a SIMD kernel whose backward pass reuses the output
/// (`σ' = σ(1 − σ)`), within 2e-7 of Burn's `sigmoid`; every other tensor goes to Burn's
/// [`sigmoid`](burn::tensor::activation::sigmoid).
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    apply(x, Logistic::Sigmoid { scale: 1.0 }, |x| {
        burn::tensor::activation::sigmoid(x)
    })
}

/// `σ(2x)`, the sigmoid that [`tanh_via_sigmoid`] and the additive score are built on, without
/// a separate pass for the doubling where the SIMD kernel applies.
pub(crate) fn sigmoid_of_double<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    apply(x, Logistic::Sigmoid { scale: 2.0 }, |x| {
        burn::tensor::activation::sigmoid(x * 2.0)
    })
}

/// `tanh(x) = 2σ(2x) − 1`, the same function (to f32 rounding, ≤ 2.4e-7 absolute) and the same
/// gradient `1 − tanh²(x)`.
///
/// Why not [`Tensor::tanh`]: on burn-flex, Burn's fastest CPU backend, `tanh` is a scalar libm
/// `tanhf` per element while `sigmoid` is a cheaper `expf`, and the additive score's `tanh` over
/// `[batch, src_len, attention]` at every decoder step made `tanhf` a large share of a training
/// step (`docs/performance.md#what-was-tried-and-what-it-gave`).
/// With the `flex` feature, flex tensors take one SIMD pass instead (see [`sigmoid`]).
pub fn tanh_via_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    apply(x, Logistic::Tanh, |x| sigmoid_of_double(x) * 2.0 - 1.0)
}
