//! The squared L2 norm of a tensor, for global gradient clipping: one pass without a temporary
//! on Burn's flex backend (`flex`), Burn's ops everywhere else.

use burn::prelude::*;

/// `Σ x²` over every element of `x`, as an `f64`.
///
/// With this crate's `flex` feature, an f32 tensor on flex (without autodiff) is read once,
/// summed in 64 f32 lanes and then added up in a tree; every other tensor takes Burn's
/// `square().sum()`. The two sum in different orders, so they agree to f32 rounding, not bit for
/// bit.
pub fn squared_norm<const D: usize>(x: &Tensor<D>) -> f64 {
    #[cfg(feature = "flex")]
    if let Some(sum) = flex::squared_norm(x) {
        return sum;
    }
    f64::from(x.clone().square().sum().into_scalar::<f32>())
}

#[cfg(feature = "flex")]
mod flex {
    use burn::prelude::*;

    use crate::flex::{Routed, route};

    /// The flex kernel's sum when `x` is a plain f32 flex tensor.
    pub(super) fn squared_norm<const D: usize>(x: &Tensor<D>) -> Option<f64> {
        match route([x.clone().into_dispatch()]) {
            Ok(Routed::Plain([x])) => {
                let x = x.to_contiguous();
                let mut sum = 0.0;
                simd::squared_sum(x.storage::<f32>(), &mut sum);
                Some(f64::from(sum))
            }
            _ => None,
        }
    }

    mod simd {
        use crate::flex::{lanes, simd_dispatched};

        simd_dispatched! {
            /// `sum ← Σ x²`.
            pub(super) fn squared_sum(x: &[f32], sum: &mut f32) {
                *sum = lanes::dot(x, x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as the reference backend.
    fn the_kernel_and_burns_ops_agree() {
        let values: Vec<f32> = (0..1003)
            .map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let exact: f64 = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let data = burn::tensor::TensorData::new(values, [17, 59]);
        let flex = Tensor::<2>::from_data(data.clone(), &Device::flex());
        let ndarray = Tensor::<2>::from_data(data, &Device::ndarray());
        for (name, sum) in [
            ("flex", squared_norm(&flex)),
            ("ndarray", squared_norm(&ndarray)),
        ] {
            assert!(
                (sum - exact).abs() < 1e-5 * exact,
                "{name}: {sum} against {exact}"
            );
        }
        // A strided view reads the same values.
        let t = flex.clone().transpose();
        assert!((squared_norm(&t) - squared_norm(&flex)).abs() < 1e-9 * exact);
    }
}
