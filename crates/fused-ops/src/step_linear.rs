//! An affine layer applied at every step of a recurrent loop, whose weight gradient is one
//! matrix product over all the steps.

#[cfg(feature = "flex")]
use std::sync::Arc;

use burn::nn::Linear;
use burn::prelude::*;

use crate::linear::linear;

#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
mod transpose;

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

/// Lets the data-parallel shards of one training step share each loop weight's `Wᵀ`.
///
/// Why: on flex under autodiff every [`StepLinear`] transposes its weight once per loop, for the
/// steps' `∂x = g Wᵀ`. Shards of a batch run the same loops on forks of the same parameters, so
/// each shard transposed every weight again (9 % of the CPU time of a two-thread G2P training
/// step, docs/performance.md). Inside [`SharedTransposes::scope`] on each shard's thread, the
/// shards make each `Wᵀ` once between them: the first to need it starts it, any other that needs
/// it meanwhile takes blocks of the same work, and later ones read it.
///
/// Make one per step, and drop it before the optimizer steps: a share knows a weight by the
/// address of its values and holds a handle on each weight it saw, so while it lives an update
/// in place would have to copy the weight instead. Elsewhere than on flex under autodiff it
/// changes nothing.
#[derive(Debug, Clone, Default)]
pub struct SharedTransposes {
    #[cfg(feature = "flex")]
    table: Arc<transpose::TransposeTable>,
}

impl SharedTransposes {
    /// A new share, holding nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `f()` with this share in force on the calling thread: every [`StepLinear`] made in it
    /// takes its `Wᵀ` from the share.
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(feature = "flex")]
        return transpose::with_table(&self.table, f);
        #[cfg(not(feature = "flex"))]
        f()
    }
}
