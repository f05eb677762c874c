//! Inverted dropout with a mask drawn by a counter-based hash on Burn's flex backend (`flex`),
//! [`Dropout::forward`] everywhere else.

use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::Distribution;

/// `layer.forward(x)`: during training (the layer's training flag set, `x` on an autodiff
/// device, a probability `p > 0`) each element is kept with probability `1 − p` and scaled by
/// `1 / (1 − p)`, or zeroed; otherwise `x` unchanged.
///
/// With this crate's `flex` feature, f32 tensors on flex take a mask computed on the host from
/// one seed drawn from the device's generator (so `Device::seed` still makes runs repeatable):
/// element `i` is kept when the `i`-th 32-bit half of SplitMix64's output stream from that seed
/// falls below `(1 − p) · 2³²`, and the mask already holds `1 / (1 − p)`. Burn's own dropout
/// samples a Bernoulli per element with ChaCha while holding the backend's generator lock,
/// which `--threads` shards then queue on, and multiplies twice (`docs/performance.md`). Every
/// other tensor goes to [`Dropout::forward`].
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !layer.training.is_enabled() || !device.is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    #[cfg(feature = "flex")]
    if crate::flex::is_flex_f32(&x.clone().into_dispatch()) {
        let mask = keep_mask(seed(&device), x.shape().num_elements(), 1.0 - layer.prob);
        let mask = Tensor::<D>::from_data(burn::tensor::TensorData::new(mask, x.shape()), &device);
        return x * mask;
    }
    layer.forward(x)
}

/// A 64-bit seed from the device's generator: three draws of 22 bits.
#[cfg_attr(not(feature = "flex"), allow(dead_code))]
fn seed(device: &Device) -> u64 {
    const BITS: u32 = 22;
    let draws = Tensor::<1, Int>::random(
        [3],
        Distribution::Uniform(0.0, (1u64 << BITS) as f64),
        device,
    )
    .into_data();
    draws
        .iter::<i64>()
        .fold(0u64, |seed, d| (seed << BITS) ^ (d as u64))
}

/// SplitMix64's output for state `z` (Steele, Lea & Flood 2014): a bijective mix whose
/// consecutive outputs pass BigCrush.
#[inline(always)]
fn split_mix64(z: u64) -> u64 {
    let mut z = z;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` mask values: `1 / keep` with probability `keep`, else 0; element `i` decided by the
/// `i`-th 32-bit half of SplitMix64's stream from `seed`.
#[cfg_attr(not(feature = "flex"), allow(dead_code))]
pub(crate) fn keep_mask(seed: u64, n: usize, keep: f64) -> Vec<f32> {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
    // Kept when the 32-bit draw is below `keep · 2³²` (saturating at 2³² − 1 for keep → 1).
    let threshold = (keep * 4_294_967_296.0).min(u32::MAX as f64) as u32;
    let scale = (1.0 / keep) as f32;
    let mut mask = vec![0.0f32; n];
    for (pair, out) in mask.chunks_mut(2).enumerate() {
        let bits = split_mix64(seed.wrapping_add((pair as u64 + 1).wrapping_mul(GOLDEN)));
        for (half, value) in out.iter_mut().enumerate() {
            let draw = (bits >> (32 * half)) as u32;
            *value = if draw < threshold { scale } else { 0.0 };
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_mix64_matches_the_reference_stream() {
        // The reference implementation's first outputs from state 0 (state += GOLDEN, then mix).
        let golden = 0x9E37_79B9_7F4A_7C15u64;
        assert_eq!(split_mix64(golden), 0xE220_A839_7B1D_CDAF);
        assert_eq!(split_mix64(golden.wrapping_mul(2)), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn the_mask_keeps_about_keep_of_the_elements_scaled_by_its_inverse() {
        for keep in [0.9, 0.7, 0.5] {
            let mask = keep_mask(12345, 200_000, keep);
            let scale = (1.0 / keep) as f32;
            assert!(mask.iter().all(|&m| m == 0.0 || m == scale));
            let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
            // Binomial standard deviation at n = 200 000 is below 0.0012: six of them.
            assert!((kept - keep).abs() < 0.007, "keep {keep}: kept {kept}");
            // Neighbouring elements (two halves of one draw, and consecutive draws) are not
            // correlated: both kept as often as independence predicts.
            let both = mask
                .windows(2)
                .filter(|w| w[0] != 0.0 && w[1] != 0.0)
                .count() as f64
                / (mask.len() - 1) as f64;
            assert!(
                (both - keep * keep).abs() < 0.01,
                "keep {keep}: pairs {both}"
            );
        }
    }

    #[test]
    fn different_seeds_give_different_masks_and_one_seed_the_same() {
        assert_eq!(keep_mask(7, 1000, 0.5), keep_mask(7, 1000, 0.5));
        assert_ne!(keep_mask(7, 1000, 0.5), keep_mask(8, 1000, 0.5));
        assert_eq!(keep_mask(7, 1001, 0.5)[..1000], keep_mask(7, 1000, 0.5)[..]);
    }
}
