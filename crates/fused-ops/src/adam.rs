//! Adam's update of one parameter (Kingma & Ba 2015) in one pass over its values on Burn's flex
//! backend (`flex`), the same arithmetic as Burn's ops everywhere else.
//!
//! Why: Burn's `Adam` updates each parameter with about a dozen element-wise ops, each a pass
//! over the parameter's size and most a fresh buffer. With `--threads 2`, that update runs on
//! one thread after the shards' gradients are in, while the other core waits
//! (`docs/performance.md`).

use burn::prelude::*;

/// Adam's hyper-parameters and one step's position in time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    /// The learning rate `η`.
    pub learning_rate: f32,
    /// The first moment's decay `β₁`.
    pub beta_1: f32,
    /// The second moment's decay `β₂`.
    pub beta_2: f32,
    /// `ε`, added to `√v̂`.
    pub epsilon: f32,
    /// The step's number `t`, from 1.
    pub time: usize,
}

impl AdamStep {
    /// `(√(1 − β₂ᵗ) / (1 − β₁ᵗ), ε √(1 − β₂ᵗ))`: the bias corrections folded into one factor on
    /// `m` and one term beside `√v`, as Burn's `Adam` computes them.
    fn corrections(&self) -> (f32, f32) {
        let time = i32::try_from(self.time).unwrap_or(i32::MAX);
        let bias_2_sqrt = (1.0 - self.beta_2.powi(time)).sqrt();
        (
            bias_2_sqrt / (1.0 - self.beta_1.powi(time)),
            self.epsilon * bias_2_sqrt,
        )
    }
}

/// One Adam step of `param` with gradient `grad` and moments `(m, v)` from the step before
/// (`None` at the first step: both zero). Returns the new parameter and moments:
///
/// `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
/// `θ ← θ − η · m̂ / (√v̂ + ε)` with `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`,
///
/// computed as Burn's `Adam` does, operation for operation (bias corrections folded as in
/// [`AdamStep`]), so that the two agree bit for bit. With this crate's `flex` feature, f32
/// tensors on flex take one pass that writes over `param`'s and the moments' buffers (copied
/// first where shared); every other tensor takes Burn's ops. No autodiff: `param` and `grad`
/// are plain values, as an optimizer sees them.
pub fn adam_update<const D: usize>(
    step: &AdamStep,
    param: Tensor<D>,
    grad: Tensor<D>,
    moments: Option<(Tensor<D>, Tensor<D>)>,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let (m, v) = moments.unwrap_or_else(|| (param.zeros_like(), param.zeros_like()));
    #[cfg(feature = "flex")]
    let [param, grad, m, v] = match flex::apply(step, [param, grad, m, v]) {
        Ok([param, m, v]) => return (param, m, v),
        Err(inputs) => *inputs,
    };
    composed(step, param, grad, m, v)
}

/// [`adam_update`] in Burn's ops, in the order Burn's `Adam` applies them.
fn composed<const D: usize>(
    step: &AdamStep,
    param: Tensor<D>,
    grad: Tensor<D>,
    m: Tensor<D>,
    v: Tensor<D>,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let (factor, epsilon) = step.corrections();
    let m = m
        .mul_scalar(step.beta_1)
        .add(grad.clone().mul_scalar(1.0 - step.beta_1));
    let v = v
        .mul_scalar(step.beta_2)
        .add(grad.square().mul_scalar(1.0 - step.beta_2));
    let update = m
        .clone()
        .mul_scalar(factor)
        .div(v.clone().sqrt().add_scalar(epsilon));
    (param - update.mul_scalar(step.learning_rate), m, v)
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::flex::FlexTensor;
    use burn::prelude::*;

    use super::AdamStep;
    use crate::flex::{Routed, owned, plain, route, tracked};

    /// The update by [`simd::update`] when the four tensors are plain f32 flex tensors of one
    /// shape; otherwise the tensors, unchanged.
    pub(super) fn apply<const D: usize>(
        step: &AdamStep,
        tensors: [Tensor<D>; 4],
    ) -> Result<[Tensor<D>; 3], Box<[Tensor<D>; 4]>> {
        let same_shape = tensors.iter().all(|t| t.shape() == tensors[0].shape());
        let inputs = tensors.map(Tensor::into_dispatch);
        let routed = if same_shape {
            route(inputs)
        } else {
            Err(Box::new(inputs))
        };
        let give_back = |inputs: [burn::backend::DispatchTensor; 4]| {
            Err(Box::new(inputs.map(Tensor::from_dispatch)))
        };
        match routed {
            Ok(Routed::Plain([param, grad, m, v])) => {
                Ok(update(step, param, &grad, m, v).map(|x| Tensor::from_dispatch(plain(x))))
            }
            Ok(Routed::Tracked(tensors)) => give_back(tensors.map(tracked)),
            Err(inputs) => give_back(*inputs),
        }
    }

    fn update(
        step: &AdamStep,
        param: FlexTensor,
        grad: &FlexTensor,
        m: FlexTensor,
        v: FlexTensor,
    ) -> [FlexTensor; 3] {
        let (mut param, mut m, mut v) = (owned(param), owned(m), owned(v));
        let grad = grad.to_contiguous();
        let (factor, epsilon) = step.corrections();
        simd::update(
            param.storage_mut::<f32>(),
            grad.storage::<f32>(),
            m.storage_mut::<f32>(),
            v.storage_mut::<f32>(),
            [
                step.beta_1,
                step.beta_2,
                factor,
                epsilon,
                step.learning_rate,
            ],
        );
        [param, m, v]
    }

    /// The element loop.
    mod simd {
        use crate::flex::simd_dispatched;

        simd_dispatched! {
            /// Adam's update of each element, each product and sum rounded as Burn's ops round
            /// them (no fused multiply-add): `constants` are `[β₁, β₂, factor, ε′, η]`.
            pub(super) fn update(
                param: &mut [f32],
                grad: &[f32],
                m: &mut [f32],
                v: &mut [f32],
                constants: [f32; 5],
            ) {
                let [beta_1, beta_2, factor, epsilon, learning_rate] = constants;
                let (keep_1, keep_2) = (1.0 - beta_1, 1.0 - beta_2);
                let n = param.len();
                let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
                for i in 0..n {
                    let g = grad[i];
                    let mi = m[i] * beta_1 + g * keep_1;
                    let vi = v[i] * beta_2 + (g * g) * keep_2;
                    m[i] = mi;
                    v[i] = vi;
                    param[i] -= ((mi * factor) / (vi.sqrt() + epsilon)) * learning_rate;
                }
            }
        }
    }
}
