//! The affine layer `y = x W + b`: one GEMM from the bias on Burn's flex backend (`flex`),
//! [`Linear::forward`] everywhere else.

use burn::nn::Linear;
use burn::prelude::*;

#[cfg(feature = "flex")]
pub(crate) mod flex;

/// `layer.forward(x)`: `x W + b` over the last axis, `[..., in]` → `[..., out]`.
///
/// With this crate's `flex` feature, f32 tensors on flex (with or without autodiff) take one
/// GEMM that starts from the bias, and a backward pass that reads the transposes through strides
/// (`linear/flex.rs`): the same numbers as [`Linear::forward`] to f32 rounding, without Burn's
/// zero-fill-then-copy of each product and its separate bias pass. Every other tensor goes to
/// [`Linear::forward`].
pub fn linear<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    let x = {
        let dims = x.dims();
        let [inputs, outputs] = layer.weight.dims();
        if D == 0 || dims[D - 1] != inputs {
            return layer.forward(x);
        }
        let rows = dims[..D - 1].iter().product();
        let bias = layer.bias.as_ref().map(|b| b.val());
        match flex::affine(x.reshape([rows, inputs]), layer.weight.val(), bias) {
            Ok(y) => {
                let mut out = dims;
                out[D - 1] = outputs;
                return y.reshape(out);
            }
            Err(back) => back.0.reshape(dims),
        }
    };
    layer.forward(x)
}
