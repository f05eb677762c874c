//! An affine layer applied at every step of a recurrent loop, whose weight gradient is one
//! matrix product over all the steps.

use burn::nn::Linear;
use burn::prelude::*;

use crate::linear::linear;

#[cfg(feature = "flex")]
mod flex;

/// `layer` made ready for a loop that applies it once per step ([`StepLinear::forward`] is
/// `x_t W + b`, as [`linear`]).
///
/// Why: the weight gradient of a layer applied at `T` steps is `Σ_t x_tᵀ g_t`. Step by step,
/// each step's backward pass makes a zeroed `[in, out]` product of a few rows and adds it to
/// the sum so far: `T` small products and `T` passes over the whole weight. With the `flex`
/// feature, under autodiff on flex, the steps instead leave `(x_t, g_t)` with a relay between
/// the parameters and the loop (`step_linear/flex.rs`, as [`crate::SequenceSteps`] does for a
/// sequence), which computes `Xᵀ G` (`X`, `G`: every step's rows stacked) and `Σ_rows G` once,
/// after the loop's backward pass. Everywhere else — other backends, no autodiff (decoding),
/// parameters without gradients — each step is [`linear`].
///
/// Make one per forward pass of the loop (the relay belongs to one autodiff graph). It holds
/// its own handle on the layer's parameters (a clone of `Linear` shares their tensors).
#[derive(Debug, Clone)]
pub struct StepLinear {
    layer: Linear,
    #[cfg(feature = "flex")]
    relay: Option<flex::RelayedLinear>,
}

impl StepLinear {
    /// `layer`, ready to be applied at every step of one loop.
    pub fn new(layer: &Linear) -> Self {
        Self {
            layer: layer.clone(),
            #[cfg(feature = "flex")]
            relay: flex::RelayedLinear::new(layer),
        }
    }

    /// `x W + b` for one step: `[rows, in]` → `[rows, out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        #[cfg(feature = "flex")]
        let x = match &self.relay {
            Some(relay) => match relay.forward(x) {
                Ok(y) => return y,
                Err(x) => *x,
            },
            None => x,
        };
        // A step the relay does not take registers its weight gradient directly, which Burn
        // adds to the relay's sum.
        linear(&self.layer, x)
    }
}
