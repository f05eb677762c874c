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
//! Two kernels compute it: on AVX-512, from the keys' `e^(−2k)` made once per attention memory
//! ([`Exps`], [`KeysCache`]) with intrinsics; otherwise (no AVX-512, no memory, or values
//! beyond [`EXP_LIMIT`]) portable
//! loops compiled for the widest SIMD the CPU has. Under autodiff with a memory, the keys'
//! gradient goes into the memory's [`StepSource`] sum instead of a full-size tensor per step.
//!
//! [`energy`] takes f32 flex tensors (all three with autodiff or none); it gives every other
//! input back to the caller, whose composed ops compute the same function.

use std::sync::{Arc, OnceLock};

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex::{Checkpointing, TrackedTensor, f32_tensor, run};
use crate::steps::flex::{GradSum, StepSource};

/// `[batch, tgt, src]` energies of `queries` `[batch, tgt, attention]`, `keys`
/// `[batch, src, attention]` and `v` `[attention]` by the fused kernel, or the three inputs back
/// when their shapes do not match or [`route`](crate::flex::route) does not take them.
///
/// With `memory` (an attention memory's aids for these `keys`): the keys' [`Exps`] are kept in
/// its cache for later steps, and under autodiff the keys' gradient is added into its
/// [`StepSource`] sum.
pub(crate) fn energy(
    queries: Tensor<3>,
    keys: Tensor<3>,
    v: Tensor<1>,
    memory: Option<&KeysAids>,
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
    let cache = memory.map(|m| &m.cache);
    let plain_op = |inputs: [FlexTensor; 3]| {
        let [q, k, v] = inputs.map(|t| t.to_contiguous());
        forward(&q, &k, &v, cache).0
    };
    let tracked_op = |[q, k, v]: [TrackedTensor; 3]| match memory.and_then(|m| m.source.as_ref()) {
        Some(source) => forward_tracked(q, source.relay(), v, Some(source.sum().clone()), cache),
        None => forward_tracked(q, k, v, None, cache),
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

/// What an attention memory keeps for the energy kernel of its keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeysAids {
    /// Under autodiff: the keys as a [`StepSource`], whose sum takes their gradient.
    pub(crate) source: Option<StepSource>,
    /// The keys' [`Exps`], made at the first step.
    pub(crate) cache: KeysCache,
}

/// What the backward pass keeps: the inputs (contiguous), the [`Exps`] the forward pass used (if
/// any), the sizes, and where the keys' gradient goes when a [`StepSource`] sums it.
/// `tanh(q + k)` is computed again rather than kept: it is the largest tensor of a step
/// (`[b, t, s, a]`, 3 MB per decoder step at the benchmark's length 48), and reading it back
/// cost more than the SIMD `tanh`.
#[derive(Clone, Debug)]
struct Saved {
    q: FlexTensor,
    k: FlexTensor,
    v: FlexTensor,
    exps: Option<(Arc<Exps>, Arc<Exps>)>,
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
            exps,
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
                exps.as_ref().map(|(q, k)| (&**q, &**k)),
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
    cache: Option<&KeysCache>,
) -> TrackedTensor {
    match EnergyBackward
        .prepare::<Checkpointing>([q.node(), k.node(), v.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().to_contiguous());
            let (out, dims, exps) = forward(&q, &k, &v, cache);
            let state = Saved {
                q,
                k,
                v,
                exps,
                dims,
                keys_sum,
            };
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => {
            let [q, k, v] = [q, k, v].map(|t| t.into_primitive().to_contiguous());
            prep.finish(forward(&q, &k, &v, cache).0)
        }
    }
}

/// The energies of contiguous `q`, `k`, `v`, the sizes `[b, t, s, a]`, and the [`Exps`] of `q`
/// and `k` the kernel used: with AVX-512, a memory's `cache` (the keys' kept there) and every
/// value within [`EXP_LIMIT`], else none (the portable kernel).
#[allow(clippy::type_complexity)]
fn forward(
    q: &FlexTensor,
    k: &FlexTensor,
    v: &FlexTensor,
    cache: Option<&KeysCache>,
) -> (FlexTensor, [usize; 4], Option<(Arc<Exps>, Arc<Exps>)>) {
    let qs = q.layout().shape();
    let (b, t, a) = (qs[0], qs[1], qs[2]);
    let s = k.layout().shape()[1];
    let (q, k) = (q.storage::<f32>(), k.storage::<f32>());
    // Without a memory's cache the keys' `Exps` would be made at every call, which costs as
    // much as the portable kernel's exponentials (and a key-sized buffer).
    // The keys first: when theirs are beyond the limit, the query's are not made at all.
    let exps = cache.and_then(|cache| {
        let keys = cache.get(k)?;
        Some((Arc::new(Exps::of(q)?), keys))
    });
    let mut out = vec![0.0f32; b * t * s];
    simd::forward(
        q,
        k,
        exps.as_ref().map(|(q, k)| (&**q, &**k)),
        v.storage::<f32>(),
        [b, t, s, a],
        &mut out,
    );
    (f32_tensor(out, &[b, t, s]), [b, t, s, a], exps)
}

/// The keys in the form the AVX-512 kernels read them ([`Exps`]), computed at the first decoder
/// step that asks and shared by the later ones: one per attention memory. Keys that have no
/// [`Exps`] (a value beyond [`EXP_LIMIT`]) take the portable kernel at every step.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeysCache(Arc<OnceLock<Option<Arc<Exps>>>>);

impl KeysCache {
    fn get(&self, keys: &[f32]) -> Option<Arc<Exps>> {
        self.0.get_or_init(|| Exps::of(keys).map(Arc::new)).clone()
    }
}

/// The largest `|x|` that [`Exps`] take: `e^(−2x)` stays a normal f32 up to `|x| ≈ 43.6`.
// Read by the AVX-512 loops and the tests only; elsewhere (wasm32, aarch64) none is made.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const EXP_LIMIT: f32 = 40.0;

/// `e^(−2x)` of each value `x`, where every `|x| ≤ EXP_LIMIT`.
///
/// Why: `tanh(q + k) = 2σ − 1` with `σ = 1 / (1 + e^(−2q) e^(−2k))`, so with the keys' `Exps`
/// made once per sentence and the query's once per step, each of the
/// `batch × tgt × src × attention` pairs costs a product and a reciprocal instead of an
/// exponential, and reads one key-sized buffer. Within the limit each factor is a normal
/// float (their product may overflow, which the kernels clamp). The rounding of `−2x·log₂e`
/// costs accuracy in proportion to `|q| + |k|`: about `1e-7 · (|q| + |k|)` absolute in
/// `tanh`, against `1e-7` for `tanh` of the sum. Beyond the limit (and for NaN or ±∞) there
/// are no `Exps`, and the portable kernel computes `tanh` of the sum.
pub(crate) struct Exps(
    // Read by the AVX-512 loops only; elsewhere (wasm32, aarch64) none is ever made.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] Vec<f32>,
);

impl std::fmt::Debug for Exps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Exps({} values)", self.0.len())
    }
}

impl Exps {
    /// `e^(−2x)` of `x`, or `None` without AVX-512F or where a value is not within
    /// `±EXP_LIMIT`.
    fn of(x: &[f32]) -> Option<Self> {
        if !simd::avx512() {
            return None;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let mut out = vec![0.0; x.len()];
            // SAFETY: the CPU has AVX-512F (checked above); `out` is as long as `x`.
            unsafe { avx512::exps(x, &mut out) }.then_some(Exps(out))
        }
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!(
            "AVX-512F exists on x86_64 only (checked above), {} values",
            x.len()
        )
    }
}

/// The loops: written out for AVX-512 (where the CPU has it) on [`Exps`] operands, otherwise
/// [`portable`] on the values.
mod simd {
    use super::Exps;

    /// Whether the CPU has AVX-512F (the [`Exps`] kernels).
    pub(super) fn avx512() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx512f");
        #[cfg(not(target_arch = "x86_64"))]
        false
    }

    /// `out[b,t,s] = Σ_a v[a] tanh(q[b,t,a] + k[b,s,a])`, from the [`Exps`] of `q` and `k`
    /// when given (AVX-512), else from their values.
    pub(super) fn forward(
        q: &[f32],
        k: &[f32],
        exps: Option<(&Exps, &Exps)>,
        v: &[f32],
        dims: [usize; 4],
        out: &mut [f32],
    ) {
        check(dims, [q.len(), k.len(), v.len()], out.len());
        #[cfg(target_arch = "x86_64")]
        if let Some((qs, ks)) = exps {
            check_exps(q, k, qs, ks);
            // SAFETY: `Exps` exist only where the CPU has AVX-512F; the slices' lengths were
            // checked against `dims`.
            return unsafe { super::avx512::forward(qs, ks, v, dims, out) };
        }
        let _ = exps;
        super::portable::forward(q, k, v, dims, out)
    }

    /// With `y = tanh(q[b,t] + k[b,s])` and `gx = grad[b,t,s] · v ⊙ (1 − y²)`:
    /// `gq[b,t] += Σ_s gx`, `gk[b,s] += Σ_t gx`, `gv += Σ_{b,t,s} grad[b,t,s] · y`; `y` from the
    /// [`Exps`] when given, as in [`forward`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn backward(
        grad: &[f32],
        q: &[f32],
        k: &[f32],
        exps: Option<(&Exps, &Exps)>,
        v: &[f32],
        dims: [usize; 4],
        gq: &mut [f32],
        gk: &mut [f32],
        gv: &mut [f32],
    ) {
        check(dims, [q.len(), k.len(), v.len()], grad.len());
        check(dims, [gq.len(), gk.len(), gv.len()], grad.len());
        #[cfg(target_arch = "x86_64")]
        if let Some((qs, ks)) = exps {
            check_exps(q, k, qs, ks);
            // SAFETY: `Exps` exist only where the CPU has AVX-512F; the slices' lengths were
            // checked against `dims`.
            return unsafe { super::avx512::backward(grad, qs, ks, v, dims, gq, gk, gv) };
        }
        let _ = exps;
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

    /// Each [`Exps`] as long as its values.
    #[cfg(target_arch = "x86_64")]
    fn check_exps(q: &[f32], k: &[f32], qs: &Exps, ks: &Exps) {
        assert!(
            qs.0.len() == q.len() && ks.0.len() == k.len(),
            "additive energy: exponentials of other sizes than their values"
        );
    }
}

/// The loops written with AVX-512 intrinsics, on [`Exps`] operands.
#[cfg(target_arch = "x86_64")]
mod avx512;
/// The loops in portable code, compiled for AVX2 or the baseline.
mod portable;

#[cfg(test)]
mod tests {
    use super::{EXP_LIMIT, Exps, simd};

    /// `Σ_a v tanh(q + k)` in f64.
    fn reference(q: &[f32], k: &[f32], v: &[f32]) -> f64 {
        q.iter()
            .zip(k)
            .zip(v)
            .map(|((&q, &k), &v)| f64::from(v) * (f64::from(q) + f64::from(k)).tanh())
            .sum()
    }

    /// The energies and the gradients `(out, gq, gk, gv)` of the sizes `dims` for an upstream
    /// gradient `grad`, by the portable kernel and, where the CPU has AVX-512 and every value
    /// is within the limit, by the [`Exps`] one (second).
    #[allow(clippy::type_complexity)]
    fn kernels(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        dims: [usize; 4],
        grad: &[f32],
    ) -> Vec<(Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>)> {
        let [b, t, s, a] = dims;
        let mut exps = vec![None];
        if let (Some(qe), Some(ke)) = (Exps::of(q), Exps::of(k)) {
            exps.push(Some((qe, ke)));
        }
        exps.iter()
            .map(|exps| {
                let exps = exps.as_ref().map(|(q, k)| (q, k));
                let mut out = vec![0.0f32; b * t * s];
                simd::forward(q, k, exps, v, dims, &mut out);
                let (mut gq, mut gk, mut gv) =
                    (vec![0.0; b * t * a], vec![0.0; b * s * a], vec![0.0; a]);
                simd::backward(grad, q, k, exps, v, dims, &mut gq, &mut gk, &mut gv);
                (out, gq, gk, gv)
            })
            .collect()
    }

    /// One query row against one key row: the energy and the query's gradient, by each kernel.
    fn energies(q: &[f32], k: &[f32], v: &[f32]) -> Vec<(f32, Vec<f32>)> {
        kernels(q, k, v, [1, 1, 1, q.len()], &[1.0])
            .into_iter()
            .map(|(out, gq, gk, _)| {
                let bits = |g: &[f32]| g.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&gq), bits(&gk), "q and k enter the sum alike");
                (out[0], gq)
            })
            .collect()
    }

    #[test]
    fn energy_and_gradient_match_f64_with_a_ragged_tail() {
        // 101 lanes: a block of four chunks of 16 (the backward pass's blocks), two chunks and
        // a tail of 5. Opposite large values cancel.
        let q: Vec<f32> = (0..101).map(|i| (i as f32 - 50.0) * 0.6).collect();
        let k: Vec<f32> = (0..101)
            .map(|i| 30.0 - i as f32 * 0.58 - (i % 3) as f32)
            .collect();
        let v: Vec<f32> = (0..101)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) / 4.0)
            .collect();
        let want = reference(&q, &k, &v);
        let got = energies(&q, &k, &v);
        assert_eq!(got.len(), 1 + usize::from(simd::avx512()), "kernels run");
        for (got, gq) in got {
            assert!((f64::from(got) - want).abs() < 1e-5, "{got} vs {want}");
            for (i, g) in gq.iter().enumerate() {
                let y = (f64::from(q[i]) + f64::from(k[i])).tanh();
                let want = f64::from(v[i]) * (1.0 - y * y);
                assert!(
                    (f64::from(*g) - want).abs() < 1e-5,
                    "lane {i}: {g} vs {want}"
                );
            }
        }
    }

    #[test]
    fn sums_over_rows_and_positions_match_f64() {
        // 2 batch rows, 3 queries, 4 source positions, 37 lanes (two chunks and a tail).
        let [b, t, s, a] = [2, 3, 4, 37];
        let wave = |n: usize, scale: f32, phase: f32| -> Vec<f32> {
            (0..n)
                .map(|i| scale * (i as f32 * 0.37 + phase).sin())
                .collect()
        };
        let (q, k, v) = (
            wave(b * t * a, 2.5, 0.1),
            wave(b * s * a, 3.0, 1.3),
            wave(a, 0.8, 2.0),
        );
        let grad = wave(b * t * s, 1.5, 0.7);
        let tanh = |bi: usize, ti: usize, si: usize, i: usize| {
            (f64::from(q[(bi * t + ti) * a + i]) + f64::from(k[(bi * s + si) * a + i])).tanh()
        };
        let close = |got: f32, want: f64, what: &str| {
            assert!(
                (f64::from(got) - want).abs() < 2e-5,
                "{what}: {got} vs {want}"
            );
        };
        let got = kernels(&q, &k, &v, [b, t, s, a], &grad);
        assert_eq!(got.len(), 1 + usize::from(simd::avx512()), "kernels run");
        for (out, gq, gk, gv) in got {
            let mut want_gk = vec![0.0f64; b * s * a];
            let mut want_gv = vec![0.0f64; a];
            for (bi, ti) in (0..b).flat_map(|bi| (0..t).map(move |ti| (bi, ti))) {
                let row = bi * t + ti;
                for si in 0..s {
                    let e: f64 = (0..a).map(|i| f64::from(v[i]) * tanh(bi, ti, si, i)).sum();
                    close(out[row * s + si], e, "energy");
                }
                for i in 0..a {
                    let mut want_gq = 0.0;
                    for si in 0..s {
                        let (g, y) = (f64::from(grad[row * s + si]), tanh(bi, ti, si, i));
                        let gx = g * f64::from(v[i]) * (1.0 - y * y);
                        want_gq += gx;
                        want_gk[(bi * s + si) * a + i] += gx;
                        want_gv[i] += g * y;
                    }
                    close(gq[row * a + i], want_gq, "gq");
                }
            }
            gk.iter()
                .zip(&want_gk)
                .for_each(|(&g, &w)| close(g, w, "gk"));
            gv.iter()
                .zip(&want_gv)
                .for_each(|(&g, &w)| close(g, w, "gv"));
        }
    }

    #[test]
    fn values_beyond_the_limit_take_the_portable_kernel() {
        for x in [EXP_LIMIT * 1.01, -EXP_LIMIT * 1.5, f32::NAN, f32::INFINITY] {
            assert!(Exps::of(&[0.0, 1.0, x]).is_none(), "{x} taken");
        }
        // q + k = 2 from values far beyond the limit: the portable kernel's tanh of the sum.
        let v = [1.0, 0.5];
        let got = energies(&[50.0, -3.0], &[-48.0, 2.0], &v);
        assert_eq!(got.len(), 1);
        let want = reference(&[50.0, -3.0], &[-48.0, 2.0], &v);
        assert!(
            (f64::from(got[0].0) - want).abs() < 1e-5,
            "{} vs {want}",
            got[0].0
        );
        if simd::avx512() {
            let at_limit = Exps::of(&[EXP_LIMIT, -EXP_LIMIT]).expect("within the limit");
            assert!(at_limit.0.iter().all(|e| e.is_normal()), "{at_limit:?}");
        }
    }

    #[test]
    fn infinities_saturate_and_nan_propagates() {
        let v = [1.0, 1.0, 1.0];
        for (got, _) in energies(
            &[f32::INFINITY, 0.0, -3.0],
            &[2.0, f32::NEG_INFINITY, 1.0],
            &v,
        ) {
            let want = 1.0 - 1.0 + (-2.0f64).tanh();
            assert!((f64::from(got) - want).abs() < 1e-6, "{got} vs {want}");
        }
        for (got, _) in energies(&[f32::NAN, 0.0, 0.0], &[0.0; 3], &v) {
            assert!(got.is_nan(), "NaN gave {got}");
        }
        // Within the limit, sums whose product of exponentials overflows or underflows
        // saturate to ∓1 without NaN.
        for (got, gq) in energies(&[-39.0, 39.0], &[-38.0, 38.0], &[1.0, 2.0]) {
            assert!((got - 1.0).abs() < 1e-6, "{got}");
            assert!(gq.iter().all(|g| g.abs() < 1e-6), "{gq:?}");
        }
    }
}
