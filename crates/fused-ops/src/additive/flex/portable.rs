//! The loops in portable code, compiled for AVX2 or the baseline (and AVX-512 where
//! [`avx512`](super::avx512) is not compiled).

use crate::flex::lanes;
use crate::flex::simd_dispatched;

simd_dispatched! {
    /// `out[b,t,s] = Σ_a v[a] tanh(q[b,t,a] + k[b,s,a])`.
    pub(super) fn forward(q: &[f32], k: &[f32], v: &[f32], dims: [usize; 4], out: &mut [f32]) {
        let [b, t, s, a] = dims;
        let mut y = vec![0.0f32; a];
        for bi in 0..b {
            for ti in 0..t {
                let q_row = &q[(bi * t + ti) * a..][..a];
                for si in 0..s {
                    let k_row = &k[(bi * s + si) * a..][..a];
                    for ((y, &q), &k) in y.iter_mut().zip(q_row).zip(k_row) {
                        *y = lanes::tanh(q + k);
                    }
                    out[(bi * t + ti) * s + si] = lanes::dot(&y, v);
                }
            }
        }
    }
}

simd_dispatched! {
    /// With `y = tanh(q[b,t] + k[b,s])` and `gx = grad[b,t,s] · v ⊙ (1 − y²)`:
    /// `gq[b,t] += Σ_s gx`, `gk[b,s] += Σ_t gx`,
    /// `gv = Σ_{b,t,s} grad[b,t,s] · y`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn backward(
        grad: &[f32],
        q: &[f32],
        k: &[f32],
        v: &[f32],
        dims: [usize; 4],
        gq: &mut [f32],
        gk: &mut [f32],
        gv: &mut [f32],
    ) {
        let [b, t, s, a] = dims;
        let mut gk_row = vec![0.0f32; a];
        for bi in 0..b {
            for si in 0..s {
                let k_row = &k[(bi * s + si) * a..][..a];
                gk_row.fill(0.0);
                for ti in 0..t {
                    let g = grad[(bi * t + ti) * s + si];
                    let q_row = &q[(bi * t + ti) * a..][..a];
                    let gq_row = &mut gq[(bi * t + ti) * a..][..a];
                    for i in 0..a {
                        let y = lanes::tanh(q_row[i] + k_row[i]);
                        let gx = g * v[i] * (1.0 - y * y);
                        gq_row[i] += gx;
                        gk_row[i] += gx;
                        gv[i] += g * y;
                    }
                }
                let out = &mut gk[(bi * s + si) * a..][..a];
                for (o, g) in out.iter_mut().zip(&gk_row) {
                    *o += g;
                }
            }
        }
    }
}
