//! A sequence read one step at a time by a recurrent loop.

use burn::prelude::*;

#[cfg(feature = "flex")]
pub(crate) mod flex;

/// The steps of `x: [batch, len, features]`, for a loop that reads step `t` as
/// `[batch, features]`.
///
/// With the `flex` feature, under autodiff on flex, the steps come from a step source
/// (`steps/flex.rs`) whose backward pass sums the steps' gradients in one buffer; otherwise they
/// are `x`'s slices, each of whose backward passes gives a gradient of `x`'s full size.
#[derive(Debug, Clone)]
pub struct SequenceSteps(Inner);

#[derive(Debug, Clone)]
enum Inner {
    #[cfg(feature = "flex")]
    Source(flex::StepSource),
    Slices(Vec<Tensor<2>>),
}

impl SequenceSteps {
    /// The steps of `x: [batch, len, features]`.
    pub fn new(x: Tensor<3>) -> Self {
        #[cfg(feature = "flex")]
        if let Some(source) = flex::StepSource::new(&x) {
            return Self(Inner::Source(source));
        }
        let [_, len, _] = x.dims();
        Self(Inner::Slices(
            x.chunk(len, 1)
                .into_iter()
                .map(|step| step.squeeze_dim::<2>(1))
                .collect(),
        ))
    }

    /// Step `t`: `[batch, features]`.
    ///
    /// # Panics
    ///
    /// If `t` is not below the sequence's length.
    pub fn get(&self, t: usize) -> Tensor<2> {
        match &self.0 {
            #[cfg(feature = "flex")]
            Inner::Source(source) => source.step(t),
            Inner::Slices(steps) => steps[t].clone(),
        }
    }
}
