//! The loops written with AVX-512 intrinsics, on [`Exps`] operands: per (query, key) pair the
//! sigmoid behind `tanh` is a product, a clamp, a sum and `vrcp14ps` with one Newton step (no
//! exponential, no division); the tail of a row under a lane mask.

use std::arch::x86_64::*;

use super::{EXP_LIMIT, Exps};
use crate::flex::lanes;

/// `2^r` for `r ∈ [−½, ½]`: the polynomial of [`lanes::sigmoid`].
#[inline]
#[target_feature(enable = "avx512f")]
fn exp2_fraction(r: __m512) -> __m512 {
    let c = lanes::EXP2_COEFFICIENTS;
    let mut p = _mm512_set1_ps(c[6]);
    for &ci in c[..6].iter().rev() {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ci));
    }
    p
}

/// `σ = 1 / (1 + e^(−2q) e^(−2k))`, so that `tanh(q + k) = 2σ − 1`. The product is clamped to
/// 2⁶⁴ (it overflows to +∞ from `q + k < −44`, where `σ` is below 10⁻¹⁹ and `tanh` is −1 in
/// f32, and +∞ would make the Newton step NaN). The reciprocal: `vrcp14ps` (relative error
/// below 2⁻¹⁴) and one Newton step. [`Exps`] hold no NaN, so none arises here.
#[inline]
#[target_feature(enable = "avx512f")]
fn sigmoid(eq: __m512, ek: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    let d = _mm512_add_ps(
        one,
        _mm512_min_ps(
            _mm512_mul_ps(eq, ek),
            _mm512_set1_ps(18_446_744_073_709_551_616.0),
        ),
    );
    let y = _mm512_rcp14_ps(d);
    _mm512_fmadd_ps(y, _mm512_fnmadd_ps(d, y, one), y)
}

/// The chunks of 16 lanes from lane `from` to the end of a row of `a`: `(first lane,
/// mask)`, the full ones first (the compiler lifts their constant mask out of the loop),
/// then the tail if any.
#[inline]
fn chunks(from: usize, a: usize) -> impl Iterator<Item = (usize, __mmask16)> {
    let full = from + (a - from) / 16 * 16;
    let tail = (full < a).then(|| (full, (1u16 << (a - full)) - 1));
    (from..full).step_by(16).map(|c| (c, 0xFFFF)).chain(tail)
}

/// `out[i] = e^(−2 x[i])`, or `false` (with `out` partly written) as soon as a value is not
/// within `±EXP_LIMIT` (NaN included): there `e^(−2x)` may leave the normal floats.
///
/// # Safety
///
/// The CPU has AVX-512F; `out` is as long as `x`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn exps(x: &[f32], out: &mut [f32]) -> bool {
    for (c, mask) in chunks(0, x.len()) {
        // SAFETY: lanes `c..c + 16` under `mask` lie within both slices.
        let xc = unsafe { _mm512_maskz_loadu_ps(mask, x.as_ptr().add(c)) };
        // `|x| ≤ limit`, ordered: false for NaN.
        let abs = _mm512_abs_ps(xc);
        let within = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(abs, _mm512_set1_ps(EXP_LIMIT));
        if within & mask != mask {
            return false;
        }
        // e^(−2x) = 2^t, t = −2x·log₂e = n + r with n an integer and |r| ≤ ½.
        let t = _mm512_mul_ps(xc, _mm512_set1_ps(-2.0 * std::f32::consts::LOG2_E));
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
        let e = _mm512_scalef_ps(exp2_fraction(_mm512_sub_ps(t, n)), n);
        unsafe { _mm512_mask_storeu_ps(out.as_mut_ptr().add(c), mask, e) };
    }
    true
}

/// See [`super::simd::forward`]: `Σ_a v tanh = 2 Σ_a v σ − Σ_a v`, the affine part of `tanh`
/// moved onto the energy.
///
/// # Safety
///
/// The CPU has AVX-512F; `q`, `k`, `v`, `out` hold `b·t·a`, `b·s·a`, `a`, `b·t·s` values.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn forward(q: &Exps, k: &Exps, v: &[f32], dims: [usize; 4], out: &mut [f32]) {
    let [b, t, s, a] = dims;
    let v_sum: f32 = v.iter().sum();
    for bi in 0..b {
        for ti in 0..t {
            let q_row = (bi * t + ti) * a;
            for si in 0..s {
                let k_row = (bi * s + si) * a;
                let mut acc = _mm512_setzero_ps();
                for (c, m) in chunks(0, a) {
                    // SAFETY: lanes `c..c + 16` under `m` lie within the rows of `a`.
                    let (eq, ek, vc) = unsafe {
                        (
                            _mm512_maskz_loadu_ps(m, q.0.as_ptr().add(q_row + c)),
                            _mm512_maskz_loadu_ps(m, k.0.as_ptr().add(k_row + c)),
                            _mm512_maskz_loadu_ps(m, v.as_ptr().add(c)),
                        )
                    };
                    // Masked-off lanes: v = 0 adds nothing.
                    acc = _mm512_fmadd_ps(vc, sigmoid(eq, ek), acc);
                }
                out[(bi * t + ti) * s + si] = 2.0 * _mm512_reduce_add_ps(acc) - v_sum;
            }
        }
    }
}

/// See [`super::simd::backward`], with `1 − y² = 4σ(1 − σ)` and `y = 2σ − 1`: per pair,
/// `u = g σ(1 − σ)` goes into the keys' gradient as `4v u` and into sums over the source
/// positions for the query (`Σ u`, times `4v` once per row) and for `v` (`Σ g σ`, then
/// `2 Σ g σ − Σ g`). For each query row and block of four chunks of lanes (or one chunk, at
/// the end of a row), those sums, the query and `4v` stay in registers over the source
/// positions; only the keys and their gradient are read (and the latter written) at each
/// one, 256 contiguous bytes of each per position.
///
/// # Safety
///
/// The CPU has AVX-512F; `grad`, `q`, `k`, `v`, `gq`, `gk`, `gv` hold `b·t·s`, `b·t·a`,
/// `b·s·a`, `a`, `b·t·a`, `b·s·a`, `a` values.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn backward(
    grad: &[f32],
    q: &Exps,
    k: &Exps,
    v: &[f32],
    dims: [usize; 4],
    gq: &mut [f32],
    gk: &mut [f32],
    gv: &mut [f32],
) {
    let [b, t, s, a] = dims;
    // Blocks of 64 lanes, then the rest chunk by chunk.
    let fours = a / 64 * 64;
    let blocks: Vec<Block> = (0..fours)
        .step_by(64)
        .map(Block::Four)
        .chain(chunks(fours, a).map(|(c, m)| Block::One(c, m)))
        .collect();
    let mut at = Rows {
        q,
        k,
        v,
        gq,
        gk,
        gv,
        a,
        q_row: 0,
        k_rows: 0,
    };
    for bi in 0..b {
        at.k_rows = bi * s * a;
        for ti in 0..t {
            at.q_row = (bi * t + ti) * a;
            let g_row = &grad[(bi * t + ti) * s..][..s];
            let g_sum: f32 = g_row.iter().sum();
            for block in &blocks {
                // SAFETY: the blocks' lanes lie within rows of `a`; sizes as documented.
                unsafe {
                    match *block {
                        Block::Four(c) => {
                            backward_block::<4>(&mut at, g_row, g_sum, c, [0xFFFF; 4])
                        }
                        Block::One(c, m) => backward_block::<1>(&mut at, g_row, g_sum, c, [m]),
                    }
                }
            }
        }
    }
}

/// Lanes of a row handled together by [`backward_block`].
enum Block {
    /// Four full chunks from this lane.
    Four(usize),
    /// One chunk from this lane, under this mask.
    One(usize, __mmask16),
}

/// [`backward`]'s operands and the rows it is at.
struct Rows<'a> {
    q: &'a Exps,
    k: &'a Exps,
    v: &'a [f32],
    gq: &'a mut [f32],
    gk: &'a mut [f32],
    gv: &'a mut [f32],
    a: usize,
    /// The query row's first value.
    q_row: usize,
    /// The first value of the batch row's keys.
    k_rows: usize,
}

/// [`backward`] for the `N` chunks from lane `c` of the current query row, against every
/// source position; `g_sum` is `Σ g_row`.
///
/// # Safety
///
/// The CPU has AVX-512F; lanes `c..c + 16·N` under `masks` lie within rows of `a`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn backward_block<const N: usize>(
    at: &mut Rows<'_>,
    g_row: &[f32],
    g_sum: f32,
    c: usize,
    masks: [__mmask16; N],
) {
    let lane = |i: usize| c + 16 * i;
    // SAFETY (every load and store below): lanes under `masks` lie within rows of `a`.
    let load = |x: &[f32], from: usize, i: usize| unsafe {
        _mm512_maskz_loadu_ps(masks[i], x.as_ptr().add(from + lane(i)))
    };
    let store = |x: &mut [f32], from: usize, i: usize, value: __m512| unsafe {
        _mm512_mask_storeu_ps(x.as_mut_ptr().add(from + lane(i)), masks[i], value)
    };
    let four = _mm512_set1_ps(4.0);
    let eq: [__m512; N] = std::array::from_fn(|i| load(&at.q.0, at.q_row, i));
    let v4: [__m512; N] = std::array::from_fn(|i| _mm512_mul_ps(four, load(at.v, 0, i)));
    let mut u_sum = [_mm512_setzero_ps(); N];
    let mut gs_sum = [_mm512_setzero_ps(); N];
    for (si, &g) in g_row.iter().enumerate() {
        let row = at.k_rows + si * at.a;
        let g = _mm512_set1_ps(g);
        for i in 0..N {
            let sigma = sigmoid(eq[i], load(&at.k.0, row, i));
            // u = g σ(1 − σ); masked-off lanes are never stored.
            let u = _mm512_mul_ps(g, _mm512_fnmadd_ps(sigma, sigma, sigma));
            u_sum[i] = _mm512_add_ps(u_sum[i], u);
            gs_sum[i] = _mm512_fmadd_ps(g, sigma, gs_sum[i]);
            let gk = _mm512_fmadd_ps(v4[i], u, load(at.gk, row, i));
            store(at.gk, row, i, gk);
        }
    }
    let two = _mm512_set1_ps(2.0);
    let g_sum = _mm512_set1_ps(g_sum);
    for i in 0..N {
        let gq = _mm512_fmadd_ps(v4[i], u_sum[i], load(at.gq, at.q_row, i));
        store(at.gq, at.q_row, i, gq);
        let gv = _mm512_add_ps(load(at.gv, 0, i), _mm512_fmsub_ps(two, gs_sum[i], g_sum));
        store(at.gv, 0, i, gv);
    }
}
