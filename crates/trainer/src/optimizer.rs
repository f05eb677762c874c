//! The optimizer: Adam as Burn's `AdamConfig::new()` sets it up (β₁ 0.9, β₂ 0.999, ε 1e-5, no
//! weight decay), each parameter's update one pass of [`fused_ops::adam_update`].
//!
//! Its state per parameter is Burn's own [`AdamState`], so checkpoints written with Burn's `Adam`
//! resume here and the other way round; the updates agree bit for bit (tested).

use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::prelude::*;
use fused_ops::{AdamStep, adam_update};

/// Adam with [`fused_ops::adam_update`] as its step (see the module's documentation).
#[derive(Clone, Debug)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
}

impl Default for FusedAdam {
    /// Burn's `AdamConfig::new()` defaults.
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
        }
    }
}

/// The optimizer [`train`](crate::train) steps a model with: [`FusedAdam`] for every parameter.
pub fn adam() -> ModuleOptimizer {
    ModuleOptimizer::from(FusedAdam::default())
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (time, moments) = match state {
            Some(AdamState { momentum }) => (
                momentum.time + 1,
                Some((momentum.moment_1, momentum.moment_2)),
            ),
            None => (1, None),
        };
        let step = AdamStep {
            learning_rate: lr as f32,
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            time,
        };
        let (tensor, moment_1, moment_2) = adam_update(&step, tensor, grad, moments);
        let momentum = AdaptiveMomentumState::new(time, moment_1, moment_2);
        (tensor, Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdamState::new(state.momentum.to_device(device))
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamConfig, GradientsParams};

    use super::*;

    /// Values in [-0.5, 0.5) from `seed`, made here rather than drawn from the device's random
    /// generator, which tests running at the same time share (their draws could fall between
    /// a seed set here and the draw, and the two optimizers would then see other values).
    fn fixed<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
        let mut state = seed;
        let values: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect();
        Tensor::from_data(burn::tensor::TensorData::new(values, shape), device)
    }

    /// The gradients of a loss of `layer` on inputs made from `seed`.
    fn grads(layer: &Linear, device: &Device, seed: u64) -> GradientsParams {
        let x = fixed([5, 37], seed, device);
        let loss = layer.forward(x).powi_scalar(2).mean();
        GradientsParams::from_grads(loss.backward(), layer)
    }

    /// A layer's values after five steps of `optim`, each on fresh gradients.
    fn five_steps(device: &Device, mut optim: ModuleOptimizer) -> Vec<Vec<f32>> {
        let mut layer = LinearConfig::new(37, 19).init(device);
        layer.weight = burn::module::Param::from_tensor(fixed([37, 19], 1, device));
        layer.bias = Some(burn::module::Param::from_tensor(fixed([19], 2, device)));
        let start = values(&layer);
        for step in 0..5 {
            let grads = grads(&layer, device, 10 + step);
            layer = optim.step(1e-2, layer, grads);
        }
        let end = values(&layer);
        assert_ne!(end, start, "the steps moved the layer");
        end
    }

    fn values(layer: &Linear) -> Vec<Vec<f32>> {
        let mut out = vec![layer.weight.val().into_data().iter::<f32>().collect()];
        if let Some(b) = &layer.bias {
            out.push(b.val().into_data().iter::<f32>().collect());
        }
        out
    }

    #[test]
    fn fused_adam_is_burns_adam_bit_for_bit() {
        let flex = Device::flex().autodiff();
        let burn_adam = five_steps(&flex, AdamConfig::new().init());
        let fused = five_steps(&flex, adam());
        assert_eq!(fused, burn_adam, "flex kernel");
        let ndarray = crate::Backend::Ndarray.device().unwrap().autodiff();
        let burn_adam = five_steps(&ndarray, AdamConfig::new().init());
        let composed = five_steps(&ndarray, adam());
        assert_eq!(composed, burn_adam, "Burn's ops on ndarray");
    }
}
