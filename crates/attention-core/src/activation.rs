//! `tanh`, computed through the logistic sigmoid.

use burn::prelude::*;
use burn::tensor::activation::sigmoid;

/// `tanh(x) = 2σ(2x) − 1`, the same function (to f32 rounding, ≤ 2.4e-7 absolute) and the same
/// gradient `1 − tanh²(x)`.
///
/// Why not [`Tensor::tanh`]: on burn-flex, Burn's fastest CPU backend, `tanh` is a scalar libm
/// `tanhf` per element while `sigmoid` is a cheaper `expf`; the additive score's `tanh` over
/// `[batch, src_len, attention]` at every decoder step made `tanhf` ~40% of a training step
/// (`docs/performance.md`). The extra scalar multiplications are SIMD.
pub fn tanh_via_sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    sigmoid(x * 2.0) * 2.0 - 1.0
}
