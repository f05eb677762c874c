//! The loops written with AVX-512 intrinsics, on [`Split`] operands: per (query, key) pair
//! `tanh` is a product, a sum, `vscalefps` (2^n without exponent arithmetic) and `vrcp14ps`
//! with one Newton step (no division); the tail of a row under a lane mask.

use std::arch::x86_64::*;

use super::Split;
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

/// `tanh(q + k) = 2σ − 1`, `σ = 1 / (1 + m_q m_k · 2^(n_q + n_k))`, the exponent clamped to
/// `[−64, 64]` (beyond it `tanh` is ±1 in f32). The reciprocal: `vrcp14ps` (relative error
/// below 2⁻¹⁴) and one Newton step. NaN stays NaN.
#[inline]
#[target_feature(enable = "avx512f")]
fn tanh(qm: __m512, qn: __m512, km: __m512, kn: __m512) -> __m512 {
    // `max`/`min` give their second operand when one is NaN: NaN passes through.
    let n = _mm512_min_ps(
        _mm512_set1_ps(64.0),
        _mm512_max_ps(_mm512_set1_ps(-64.0), _mm512_add_ps(qn, kn)),
    );
    let one = _mm512_set1_ps(1.0);
    let d = _mm512_add_ps(one, _mm512_scalef_ps(_mm512_mul_ps(qm, km), n));
    let y = _mm512_rcp14_ps(d);
    let y = _mm512_fmadd_ps(y, _mm512_fnmadd_ps(d, y, one), y);
    _mm512_fmadd_ps(_mm512_set1_ps(2.0), y, _mm512_set1_ps(-1.0))
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

/// [`Split::of`] of `x` into `m` and `n`.
///
/// # Safety
///
/// The CPU has AVX-512F; `m` and `n` are as long as `x`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn split(x: &[f32], m: &mut [f32], n: &mut [f32]) {
    let limit = (1u32 << 20) as f32;
    for (c, mask) in chunks(0, x.len()) {
        // SAFETY: lanes `c..c + 16` under `mask` lie within the three slices.
        let xc = unsafe { _mm512_maskz_loadu_ps(mask, x.as_ptr().add(c)) };
        let t = _mm512_mul_ps(xc, _mm512_set1_ps(-2.0 * std::f32::consts::LOG2_E));
        // NaN passes through (`max`/`min` give their second operand).
        let t = _mm512_min_ps(
            _mm512_set1_ps(limit),
            _mm512_max_ps(_mm512_set1_ps(-limit), t),
        );
        let nc = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
        let mc = exp2_fraction(_mm512_sub_ps(t, nc));
        unsafe {
            _mm512_mask_storeu_ps(m.as_mut_ptr().add(c), mask, mc);
            _mm512_mask_storeu_ps(n.as_mut_ptr().add(c), mask, nc);
        }
    }
}

/// See [`super::simd::forward`].
///
/// # Safety
///
/// The CPU has AVX-512F; `q`'s and `k`'s parts, `v`, `out` hold `b·t·a`, `b·s·a`, `a`,
/// `b·t·s` values.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn forward(q: &Split, k: &Split, v: &[f32], dims: [usize; 4], out: &mut [f32]) {
    let [b, t, s, a] = dims;
    for bi in 0..b {
        for ti in 0..t {
            let q_row = (bi * t + ti) * a;
            for si in 0..s {
                let k_row = (bi * s + si) * a;
                let mut acc = _mm512_setzero_ps();
                for (c, m) in chunks(0, a) {
                    // SAFETY: lanes `c..c + 16` under `m` lie within the rows of `a`.
                    let (qm, qn, km, kn, vc) = unsafe {
                        (
                            _mm512_maskz_loadu_ps(m, q.m.as_ptr().add(q_row + c)),
                            _mm512_maskz_loadu_ps(m, q.n.as_ptr().add(q_row + c)),
                            _mm512_maskz_loadu_ps(m, k.m.as_ptr().add(k_row + c)),
                            _mm512_maskz_loadu_ps(m, k.n.as_ptr().add(k_row + c)),
                            _mm512_maskz_loadu_ps(m, v.as_ptr().add(c)),
                        )
                    };
                    // Masked-off lanes: v = 0 adds nothing.
                    acc = _mm512_fmadd_ps(vc, tanh(qm, qn, km, kn), acc);
                }
                out[(bi * t + ti) * s + si] = _mm512_reduce_add_ps(acc);
            }
        }
    }
}

/// See [`super::simd::backward`]. For each query row and block of four chunks of lanes
/// (or one chunk, at the end of a row), the query, `v` and the sums into `gq` and `gv` stay
/// in registers over the source positions; only the keys and their gradient are read (and
/// the latter written) at each one, 256 contiguous bytes of each per position (a chunk at a
/// time, the strided walk over the keys waited on memory).
///
/// # Safety
///
/// The CPU has AVX-512F; `grad`, `q`'s parts, `k`'s parts, `v`, `gq`, `gk`, `gv` hold
/// `b·t·s`, `b·t·a`, `b·s·a`, `a`, `b·t·a`, `b·s·a`, `a` values.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn backward(
    grad: &[f32],
    q: &Split,
    k: &Split,
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
            for block in &blocks {
                // SAFETY: the blocks' lanes lie within rows of `a`; sizes as documented.
                unsafe {
                    match *block {
                        Block::Four(c) => backward_block::<4>(&mut at, g_row, c, [0xFFFF; 4]),
                        Block::One(c, m) => backward_block::<1>(&mut at, g_row, c, [m]),
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
    q: &'a Split,
    k: &'a Split,
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
/// source position.
///
/// # Safety
///
/// The CPU has AVX-512F; lanes `c..c + 16·N` under `masks` lie within rows of `a`.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn backward_block<const N: usize>(
    at: &mut Rows<'_>,
    g_row: &[f32],
    c: usize,
    masks: [__mmask16; N],
) {
    let one = _mm512_set1_ps(1.0);
    let lane = |i: usize| c + 16 * i;
    // SAFETY (every load and store below): lanes under `masks` lie within rows of `a`.
    let load = |x: &[f32], from: usize, i: usize| unsafe {
        _mm512_maskz_loadu_ps(masks[i], x.as_ptr().add(from + lane(i)))
    };
    let qm: [__m512; N] = std::array::from_fn(|i| load(&at.q.m, at.q_row, i));
    let qn: [__m512; N] = std::array::from_fn(|i| load(&at.q.n, at.q_row, i));
    let vc: [__m512; N] = std::array::from_fn(|i| load(at.v, 0, i));
    let mut gq_acc: [__m512; N] = std::array::from_fn(|i| load(at.gq, at.q_row, i));
    let mut gv_acc: [__m512; N] = std::array::from_fn(|i| load(at.gv, 0, i));
    for (si, &g) in g_row.iter().enumerate() {
        let row = at.k_rows + si * at.a;
        let g = _mm512_set1_ps(g);
        for i in 0..N {
            let y = tanh(qm[i], qn[i], load(&at.k.m, row, i), load(&at.k.n, row, i));
            // gx = g · v · (1 − y²); masked-off lanes (v = 0) are never stored.
            let gx = _mm512_mul_ps(_mm512_mul_ps(g, vc[i]), _mm512_fnmadd_ps(y, y, one));
            gq_acc[i] = _mm512_add_ps(gq_acc[i], gx);
            gv_acc[i] = _mm512_fmadd_ps(g, y, gv_acc[i]);
            let gk_c = load(at.gk, row, i);
            unsafe {
                let gk_at = at.gk.as_mut_ptr().add(row + lane(i));
                _mm512_mask_storeu_ps(gk_at, masks[i], _mm512_add_ps(gk_c, gx));
            }
        }
    }
    for i in 0..N {
        unsafe {
            let gq_at = at.gq.as_mut_ptr().add(at.q_row + lane(i));
            _mm512_mask_storeu_ps(gq_at, masks[i], gq_acc[i]);
            _mm512_mask_storeu_ps(at.gv.as_mut_ptr().add(lane(i)), masks[i], gv_acc[i]);
        }
    }
}
