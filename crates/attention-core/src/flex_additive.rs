//! Bahdanau's additive energy `e_bts = Σ_a v_a tanh(q_bta + k_bsa)` as one fused SIMD kernel
//! for Burn's flex backend, with its own backward pass.
//!
//! Why: composed from tensor ops, the energy writes the `[batch, tgt, src, attention]` sum,
//! passes over it for the `tanh`, multiplies by `v` with a one-column GEMM, and in the backward
//! pass builds `grad ⊗ v` with another GEMM, the `tanh` derivative and a reduction over the
//! source for the query's gradient: several full passes and allocations of the largest tensor
//! of the model, at every decoder step. Here the forward pass is one pass that writes only the
//! energies, and the backward pass is one pass that computes `tanh` again and gives the
//! gradients of `q`, `k` and `v`.
//!
//! [`energy`] takes f32 flex tensors (all three with autodiff or none); it gives every other
//! input back to the caller, whose composed ops compute the same function.

use std::sync::Arc;

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex_kernel::{Checkpointing, TrackedTensor, f32_tensor, run};
use crate::flex_step_source::{GradSum, StepSource};

/// `[batch, tgt, src]` energies of `queries` `[batch, tgt, attention]`, `keys`
/// `[batch, src, attention]` and `v` `[attention]` by the fused kernel, or the three inputs back
/// when their shapes do not match or [`route`](crate::flex_kernel::route) does not take them.
/// Under autodiff, with `keys_source` (a [`StepSource`] over the same `keys`), the keys' gradient
/// is added into its sum.
pub(crate) fn energy(
    queries: Tensor<3>,
    keys: Tensor<3>,
    v: Tensor<1>,
    keys_source: Option<&StepSource>,
) -> Result<Tensor<3>, Box<(Tensor<3>, Tensor<3>, Tensor<1>)>> {
    let [b, _, a] = queries.dims();
    let [bk, _, ak] = keys.dims();
    if bk != b || ak != a || v.dims() != [a] {
        return Err(Box::new((queries, keys, v)));
    }
    let inputs = [
        queries.into_dispatch(),
        keys.into_dispatch(),
        v.into_dispatch(),
    ];
    let plain_op = |inputs: [FlexTensor; 3]| {
        let [q, k, v] = inputs.map(|t| t.to_contiguous());
        forward(&q, &k, &v).0
    };
    let tracked_op = |[q, k, v]: [TrackedTensor; 3]| match keys_source {
        Some(source) => forward_tracked(q, source.relay(), v, Some(source.sum().clone())),
        None => forward_tracked(q, k, v, None),
    };
    match run(inputs, plain_op, tracked_op) {
        Ok(energy) => Ok(Tensor::from_dispatch(energy)),
        Err(inputs) => {
            let [q, k, v] = *inputs;
            Err(Box::new((
                Tensor::from_dispatch(q),
                Tensor::from_dispatch(k),
                Tensor::from_dispatch(v),
            )))
        }
    }
}

/// What the backward pass keeps: the inputs (contiguous), their sizes, and where the keys'
/// gradient goes when a [`StepSource`] sums it. `tanh(q + k)` is
/// computed again rather than kept: it is the largest tensor of a step (`[b, t, s, a]`, 3 MB
/// per decoder step at the benchmark's length 48), and reading it back cost more than the SIMD
/// `tanh`.
#[derive(Clone, Debug)]
struct Saved {
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    dims: [usize; 4],
    keys_sum: Option<Arc<GradSum>>,
}

#[derive(Debug)]
struct EnergyBackward;

impl Backward<Flex, 3> for EnergyBackward {
    type State = Saved;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [q_node, k_node, v_node] = ops.parents;
        let grad = grads.consume::<Flex>(&ops.node);
        let Saved {
            q,
            k,
            v,
            dims,
            keys_sum,
        } = ops.state;
        let [b, t, s, a] = dims;
        let grad = grad.to_contiguous();
        let mut gq = vec![0.0f32; b * t * a];
        let mut gv = vec![0.0f32; a];
        let mut backward = |gk: &mut [f32]| {
            simd::backward(
                grad.storage::<f32>(),
                q.storage::<f32>(),
                k.storage::<f32>(),
                v.storage::<f32>(),
                dims,
                &mut gq,
                gk,
                &mut gv,
            )
        };
        match keys_sum {
            Some(sum) => sum.add(backward),
            None => {
                let mut gk = vec![0.0f32; b * s * a];
                backward(&mut gk);
                if let Some(node) = k_node {
                    grads.register::<Flex>(node.id, f32_tensor(gk, &[b, s, a]));
                }
            }
        }
        if let Some(node) = q_node {
            grads.register::<Flex>(node.id, f32_tensor(gq, &[b, t, a]));
        }
        if let Some(node) = v_node {
            grads.register::<Flex>(node.id, f32_tensor(gv, &[a]));
        }
    }
}

fn forward_tracked(
    q: TrackedTensor,
    k: TrackedTensor,
    v: TrackedTensor,
    keys_sum: Option<Arc<GradSum>>,
) -> TrackedTensor {
    match EnergyBackward
        .prepare::<Checkpointing>([q.node(), k.node(), v.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().to_contiguous());
            let (out, dims) = forward(&q, &k, &v);
            prep.finish(
                Saved {
                    q,
                    k,
                    v,
                    dims,
                    keys_sum,
                },
                out,
            )
        }
        OpsKind::UnTracked(prep) => {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().to_contiguous());
            prep.finish(forward(&q, &k, &v).0)
        }
    }
}

/// The energies of contiguous `q`, `k`, `v`, and the sizes `[b, t, s, a]`.
fn forward(q: &FlexTensor, k: &FlexTensor, v: &FlexTensor) -> (FlexTensor, [usize; 4]) {
    let qs = q.layout().shape();
    let (b, t, a) = (qs[0], qs[1], qs[2]);
    let s = k.layout().shape()[1];
    let mut out = vec![0.0f32; b * t * s];
    simd::forward(
        q.storage::<f32>(),
        k.storage::<f32>(),
        v.storage::<f32>(),
        [b, t, s, a],
        &mut out,
    );
    (f32_tensor(out, &[b, t, s]), [b, t, s, a])
}

/// The loops: written out for AVX-512 (where the CPU has it), otherwise [`portable`].
mod simd {
    /// `out[b,t,s] = Σ_a v[a] tanh(q[b,t,a] + k[b,s,a])`.
    pub(super) fn forward(q: &[f32], k: &[f32], v: &[f32], dims: [usize; 4], out: &mut [f32]) {
        check(dims, [q.len(), k.len(), v.len()], out.len());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (detected just above); the slices' lengths were
            // checked against `dims`.
            return unsafe { super::avx512::forward(q, k, v, dims, out) };
        }
        super::portable::forward(q, k, v, dims, out)
    }

    /// With `y = tanh(q[b,t] + k[b,s])` and `gx = grad[b,t,s] · v ⊙ (1 − y²)`:
    /// `gq[b,t] += Σ_s gx`, `gk[b,s] += Σ_t gx`, `gv += Σ_{b,t,s} grad[b,t,s] · y`.
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
        check(dims, [q.len(), k.len(), v.len()], grad.len());
        check(dims, [gq.len(), gk.len(), gv.len()], grad.len());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (detected just above); the slices' lengths were
            // checked against `dims`.
            return unsafe { super::avx512::backward(grad, q, k, v, dims, gq, gk, gv) };
        }
        super::portable::backward(grad, q, k, v, dims, gq, gk, gv)
    }

    /// The kernels index by `dims`: `[b·t·a, b·s·a, a]` and `b·t·s`.
    fn check(dims: [usize; 4], qkv: [usize; 3], energies: usize) {
        let [b, t, s, a] = dims;
        assert_eq!(
            qkv,
            [b * t * a, b * s * a, a],
            "additive energy: input sizes"
        );
        assert_eq!(energies, b * t * s, "additive energy: energy size");
    }
}

/// The loops written with AVX-512 intrinsics: `tanh` from `vscalefps` (2^n without exponent
/// arithmetic) and `vrcp14ps` with one Newton step (no division), and the tail of a row under a
/// lane mask.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use crate::flex_kernel::lanes;

    /// `tanh x = 2σ(2x) − 1`, `σ(2x) = 1 / (1 + 2^t)`, `t = −2x·log₂e` clamped to `[−64, 64]`
    /// (beyond it `tanh` is ±1 in f32); `2^t = 2^n · 2^r` with `n = round(t)` and the same
    /// polynomial for `2^r` as [`lanes::sigmoid`]. The reciprocal: `vrcp14ps` (relative error
    /// below 2⁻¹⁴) and one Newton step. Within 3e-7 of the exact value; NaN stays NaN.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn tanh(x: __m512) -> __m512 {
        let t = _mm512_mul_ps(x, _mm512_set1_ps(-2.0 * std::f32::consts::LOG2_E));
        // `max`/`min` give their second operand when one is NaN: NaN passes through.
        let t = _mm512_min_ps(
            _mm512_set1_ps(64.0),
            _mm512_max_ps(_mm512_set1_ps(-64.0), t),
        );
        let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
        let r = _mm512_sub_ps(t, n);
        let c = lanes::EXP2_COEFFICIENTS;
        let mut p = _mm512_set1_ps(c[6]);
        for &ci in c[..6].iter().rev() {
            p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ci));
        }
        let one = _mm512_set1_ps(1.0);
        let d = _mm512_add_ps(one, _mm512_scalef_ps(p, n));
        let y = _mm512_rcp14_ps(d);
        let y = _mm512_fmadd_ps(y, _mm512_fnmadd_ps(d, y, one), y);
        _mm512_fmadd_ps(_mm512_set1_ps(2.0), y, _mm512_set1_ps(-1.0))
    }

    /// The chunks of 16 lanes of a row of `a`: `(first lane, mask)`, the full ones first (the
    /// compiler lifts their constant mask out of the loop), then the tail if any.
    #[inline]
    fn chunks(a: usize) -> impl Iterator<Item = (usize, __mmask16)> {
        let full = a / 16 * 16;
        let tail = (full < a).then(|| (full, (1u16 << (a - full)) - 1));
        (0..full).step_by(16).map(|c| (c, 0xFFFF)).chain(tail)
    }

    /// See [`super::simd::forward`].
    ///
    /// # Safety
    ///
    /// The CPU has AVX-512F; `q`, `k`, `v`, `out` hold `b·t·a`, `b·s·a`, `a`, `b·t·s` values.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn forward(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        dims: [usize; 4],
        out: &mut [f32],
    ) {
        let [b, t, s, a] = dims;
        for bi in 0..b {
            for ti in 0..t {
                let q_row = q[(bi * t + ti) * a..][..a].as_ptr();
                for si in 0..s {
                    let k_row = k[(bi * s + si) * a..][..a].as_ptr();
                    let mut acc = _mm512_setzero_ps();
                    for (c, m) in chunks(a) {
                        // SAFETY: lanes `c..c + 16` under `m` lie within the rows of `a`.
                        let (qc, kc, vc) = unsafe {
                            (
                                _mm512_maskz_loadu_ps(m, q_row.add(c)),
                                _mm512_maskz_loadu_ps(m, k_row.add(c)),
                                _mm512_maskz_loadu_ps(m, v.as_ptr().add(c)),
                            )
                        };
                        // Masked-off lanes: tanh(0) · 0 adds nothing.
                        acc = _mm512_fmadd_ps(vc, tanh(_mm512_add_ps(qc, kc)), acc);
                    }
                    out[(bi * t + ti) * s + si] = _mm512_reduce_add_ps(acc);
                }
            }
        }
    }

    /// See [`super::simd::backward`]. For each query row and chunk of lanes, the query, `v`
    /// and the sums into `gq` and `gv` stay in registers over the source positions; only the
    /// keys and their gradient are read (and the latter written) at each one.
    ///
    /// # Safety
    ///
    /// The CPU has AVX-512F; `grad`, `q`, `k`, `v`, `gq`, `gk`, `gv` hold `b·t·s`, `b·t·a`,
    /// `b·s·a`, `a`, `b·t·a`, `b·s·a`, `a` values.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn backward(
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
        let one = _mm512_set1_ps(1.0);
        for bi in 0..b {
            for ti in 0..t {
                let row = (bi * t + ti) * a;
                let g_row = &grad[(bi * t + ti) * s..][..s];
                for (c, m) in chunks(a) {
                    // SAFETY (every load and store below): lanes `c..c + 16` under `m` lie
                    // within rows of `a`.
                    let (qc, vc, mut gq_acc, mut gv_acc) = unsafe {
                        (
                            _mm512_maskz_loadu_ps(m, q.as_ptr().add(row + c)),
                            _mm512_maskz_loadu_ps(m, v.as_ptr().add(c)),
                            _mm512_maskz_loadu_ps(m, gq.as_ptr().add(row + c)),
                            _mm512_maskz_loadu_ps(m, gv.as_ptr().add(c)),
                        )
                    };
                    for (si, &g) in g_row.iter().enumerate() {
                        let at = (bi * s + si) * a + c;
                        let g = _mm512_set1_ps(g);
                        let kc = unsafe { _mm512_maskz_loadu_ps(m, k.as_ptr().add(at)) };
                        let y = tanh(_mm512_add_ps(qc, kc));
                        // gx = g · v · (1 − y²)
                        let gx = _mm512_mul_ps(_mm512_mul_ps(g, vc), _mm512_fnmadd_ps(y, y, one));
                        gq_acc = _mm512_add_ps(gq_acc, gx);
                        gv_acc = _mm512_fmadd_ps(g, y, gv_acc);
                        unsafe {
                            let gk_at = gk.as_mut_ptr().add(at);
                            let gk_c = _mm512_maskz_loadu_ps(m, gk_at);
                            _mm512_mask_storeu_ps(gk_at, m, _mm512_add_ps(gk_c, gx));
                        }
                    }
                    unsafe {
                        _mm512_mask_storeu_ps(gq.as_mut_ptr().add(row + c), m, gq_acc);
                        _mm512_mask_storeu_ps(gv.as_mut_ptr().add(c), m, gv_acc);
                    }
                }
            }
        }
    }
}

/// The loops in portable code, compiled for AVX2 or the baseline (and AVX-512 where
/// [`avx512`] is not compiled).
mod portable {
    use crate::flex_kernel::lanes;
    use crate::simd_dispatched;

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
}
