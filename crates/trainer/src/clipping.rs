//! Global gradient clipping: every gradient scaled by one factor so that their joint L2 norm is
//! at most a bound (as `torch.nn.utils.clip_grad_norm_`).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Sums the squares of every parameter's gradient.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            self.sum += fused_ops::squared_norm(&grad);
        }
    }
}

/// Multiplies every gradient by `scale`.
struct ScaleGrads<'a> {
    grads: &'a mut GradientsParams,
    scale: f32,
}

impl ModuleMapper for ScaleGrads<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad * self.scale);
        }
        param
    }
}

/// Clips the gradients to a global L2 norm of at most `max_norm` (all parameters together, as
/// `torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
pub fn clip_global_norm<M: Module>(model: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut norm = SquaredNorm { grads, sum: 0.0 };
    model.visit(&mut norm);
    let total = norm.sum.sqrt();
    if total > max_norm {
        let scale = (max_norm / (total + 1e-6)) as f32;
        model.clone().map(&mut ScaleGrads { grads, scale });
    }
    total
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    /// The gradients of a fixed loss of `layer`. The input is fixed values, not a draw from
    /// the device's random generator, which other tests running at the same time share (a
    /// seed set here could be followed by their draws before ours).
    fn grads_of(layer: &Linear, device: &Device) -> GradientsParams {
        let values: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32) / 11.0).collect();
        let x = Tensor::<2>::from_data(burn::tensor::TensorData::new(values, [4, 6]), device);
        let loss = layer.forward(x).sum() * 10.0;
        GradientsParams::from_grads(loss.backward(), layer)
    }

    fn squared_sum(layer: &Linear, grads: &GradientsParams) -> f64 {
        let mut norm = SquaredNorm { grads, sum: 0.0 };
        layer.visit(&mut norm);
        norm.sum
    }

    /// The values of `grads`' gradient of parameter `id`.
    fn values<const D: usize>(grads: &GradientsParams, id: burn::module::ParamId) -> Vec<f32> {
        grads.get::<D>(id).unwrap().into_data().iter().collect()
    }

    #[test]
    fn clipping_scales_every_gradient_to_the_bound_and_leaves_small_ones() {
        let device = Device::flex().autodiff();
        let layer = LinearConfig::new(6, 3).init(&device);
        let grads = grads_of(&layer, &device);
        let weight = values::<2>(&grads, layer.weight.id);
        let bias = values::<1>(&grads, layer.bias.as_ref().unwrap().id);
        let exact: f64 = weight
            .iter()
            .chain(&bias)
            .map(|&g| f64::from(g).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            exact > 1.0,
            "the test needs a norm above the bound: {exact}"
        );

        let mut clipped = grads_of(&layer, &device);
        let norm = clip_global_norm(&layer, &mut clipped, 1.0);
        assert!(
            (norm - exact).abs() < 1e-5 * exact,
            "{norm} against {exact}"
        );
        let after = squared_sum(&layer, &clipped).sqrt();
        assert!((after - 1.0).abs() < 1e-5, "norm after clipping: {after}");
        let scaled = values::<2>(&clipped, layer.weight.id);
        for (s, g) in scaled.iter().zip(&weight) {
            assert!(
                (f64::from(*s) - f64::from(*g) / exact).abs() < 1e-6,
                "{s} against {g}"
            );
        }

        let mut unclipped = grads_of(&layer, &device);
        clip_global_norm(&layer, &mut unclipped, 2.0 * exact);
        assert_eq!(squared_sum(&layer, &unclipped), squared_sum(&layer, &grads));
    }
}
