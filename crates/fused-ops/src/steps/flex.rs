//! A sequence that a recurrent loop reads one step at a time, with its gradient summed in one
//! buffer by the kernels that read it, on Burn's flex backend under autodiff.
//!
//! Why: when a loop slices step `t` out of `x: [batch, len, features]` (`x.narrow(1, t, 1)`,
//! `chunk`), Burn's backward pass of each slice writes a zeroed gradient of `x`'s full size with
//! the step's rows in it, and adds it to the gradient so far: `len` full-size tensors for a
//! sequence, work that grows with `len²`. The attention memory is worse: every decoder step's
//! energy and context give a full `[batch, src_len, _]` gradient of the keys and the values.
//!
//! A [`StepSource`] puts one node between `x` and its readers (a relay: the identity, sharing
//! `x`'s buffer). Its readers — [`StepSource::step`], the fused additive energy and the context
//! kernel — add their share of the gradient straight into one buffer of `x`'s size; the relay's
//! backward pass, which Burn runs after all of its readers' (they are deeper in the graph),
//! hands that sum to `x` once. A reader whose backward pass never runs (its output did not reach
//! the loss) adds nothing, which is its true gradient. The relay tensor is never given out, so
//! no other op can register a gradient on it that the relay would not pass on.

use std::sync::{Arc, Mutex, PoisonError};

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::prelude::*;

use crate::flex::{Checkpointing, Routed, TrackedTensor, f32_tensor, route, tracked};
use crate::linear::flex::gemm_into;

/// The gradient of a [`StepSource`]'s sequence, summed by its readers.
#[derive(Debug)]
pub(crate) struct GradSum {
    /// `[batch, len, features]`.
    shape: [usize; 3],
    /// Zeros until the first reader adds to it.
    sum: Mutex<Option<Vec<f32>>>,
    /// Outer products left for the relay to add, all steps' at once.
    outer: Mutex<Vec<Outer>>,
}

/// `Σ_t w[b,t,:]ᵀ g[b,t,:]` for every batch row `b`, to be added to the sum.
#[derive(Debug)]
struct Outer {
    /// `t`'s extent.
    steps: usize,
    /// `[batch, steps, len]`.
    w: Vec<f32>,
    /// `[batch, steps, features]`.
    g: Vec<f32>,
}

impl GradSum {
    /// `[batch, len, features]`.
    pub(crate) fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Lets `add` add a gradient into the buffer (zeros the first time).
    pub(crate) fn add(&self, add: impl FnOnce(&mut [f32])) {
        let mut sum = self.sum.lock().unwrap_or_else(PoisonError::into_inner);
        let [b, len, f] = self.shape;
        add(sum.get_or_insert_with(|| vec![0.0; b * len * f]));
    }

    /// Adds `Σ_t w[b,t,:]ᵀ g[b,t,:]` (`w: [batch, steps, len]`, `g: [batch, steps, features]`)
    /// to the sum's rows of batch row `b`: not now, but when the relay hands the sum on, as one
    /// matrix product per batch row over every reader's steps. (Added step by step, each step
    /// would read and write the whole sum.)
    pub(crate) fn add_outer_later(&self, steps: usize, w: Vec<f32>, g: Vec<f32>) {
        let [b, len, f] = self.shape;
        assert!(
            w.len() == b * steps * len && g.len() == b * steps * f,
            "outer product operands of {} and {} values for {steps} steps of {:?}",
            w.len(),
            g.len(),
            self.shape
        );
        self.outer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Outer { steps, w, g });
    }

    /// The sum, with the outer products left for later added; `None` when no reader gave any
    /// gradient.
    fn take(&self) -> Option<Vec<f32>> {
        let outer = std::mem::take(&mut *self.outer.lock().unwrap_or_else(PoisonError::into_inner));
        let sum = self
            .sum
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if outer.is_empty() {
            return sum;
        }
        let [b, len, f] = self.shape;
        let mut sum = sum.unwrap_or_else(|| vec![0.0; b * len * f]);
        let steps: usize = outer.iter().map(|o| o.steps).sum();
        // One batch row's operands, every reader's steps in a row: `[steps, len]`, `[steps, f]`.
        let (mut w, mut g) = (
            Vec::with_capacity(steps * len),
            Vec::with_capacity(steps * f),
        );
        for bi in 0..b {
            w.clear();
            g.clear();
            for o in &outer {
                w.extend_from_slice(&o.w[bi * o.steps * len..][..o.steps * len]);
                g.extend_from_slice(&o.g[bi * o.steps * f..][..o.steps * f]);
            }
            // sum[b] += wᵀ g: lhs[i, t] = w[t·len + i], rhs[t, j] = g[t·f + j].
            let rows = &mut sum[bi * len * f..][..len * f];
            gemm_into(rows, true, len, f, steps, &w, (1, len), &g, (f, 1));
        }
        Some(sum)
    }
}

/// A sequence `x: [batch, len, features]` read step by step, whose gradient its readers sum in
/// one buffer (see the module's documentation). Made by [`StepSource::new`] for f32 flex
/// tensors under autodiff; a loop reads step `t` with [`StepSource::step`].
#[derive(Clone, Debug)]
pub struct StepSource {
    /// The identity of `x`, whose backward pass hands `sum` to `x`.
    relay: TrackedTensor,
    sum: Arc<GradSum>,
}

impl StepSource {
    /// A step source over `x: [batch, len, features]` when `x` is an f32 flex tensor under
    /// autodiff that needs a gradient; `None` otherwise (other backends, no autodiff, gradient
    /// checkpointing, or nothing to differentiate), where the caller slices `x` with Burn's ops.
    pub fn new(x: &Tensor<3>) -> Option<Self> {
        let shape = x.dims();
        let Ok(Routed::Tracked([x])) = route([x.clone().into_dispatch()]) else {
            return None;
        };
        let sum = Arc::new(GradSum {
            shape,
            sum: Mutex::new(None),
            outer: Mutex::new(Vec::new()),
        });
        match RelayBackward
            .prepare::<Checkpointing>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = x.into_primitive().to_contiguous();
                Some(Self {
                    relay: prep.finish(sum.clone(), x),
                    sum,
                })
            }
            OpsKind::UnTracked(_) => None,
        }
    }

    /// `[batch, len, features]`.
    pub fn dims(&self) -> [usize; 3] {
        self.sum.shape
    }

    /// Step `t` of the sequence, `x[:, t, :]`: `[batch, features]`. Its backward pass adds the
    /// step's gradient into the sequence's rows of `t`.
    ///
    /// # Panics
    ///
    /// If `t` is not below `len`.
    pub fn step(&self, t: usize) -> Tensor<2> {
        let [b, len, f] = self.sum.shape;
        assert!(t < len, "step {t} of a sequence of {len} steps");
        let slice = |x: &FlexTensor| {
            let x = x.storage::<f32>();
            let mut out = Vec::with_capacity(b * f);
            for bi in 0..b {
                out.extend_from_slice(&x[(bi * len + t) * f..][..f]);
            }
            f32_tensor(out, &[b, f])
        };
        let out = match (StepBackward { t })
            .prepare::<Checkpointing>([self.relay.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = slice(self.relay.primitive());
                prep.finish(self.sum.clone(), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(slice(self.relay.primitive())),
        };
        Tensor::from_dispatch(tracked(out))
    }

    /// The relay tensor, for a reader kernel's parents (never given out of the crate).
    pub(crate) fn relay(&self) -> TrackedTensor {
        self.relay.clone()
    }

    /// The buffer a reader kernel adds its gradient into.
    pub(crate) fn sum(&self) -> &Arc<GradSum> {
        &self.sum
    }
}

/// The relay: hands the readers' summed gradient to `x`. It takes no gradient of its own: only
/// the readers use the relay tensor, and they add into the sum instead.
#[derive(Debug)]
struct RelayBackward;

impl Backward<Flex, 1> for RelayBackward {
    type State = Arc<GradSum>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [parent] = ops.parents;
        if let (Some(node), Some(sum)) = (parent, ops.state.take()) {
            grads.register::<Flex>(node.id, f32_tensor(sum, &ops.state.shape));
        }
    }
}

/// One step's slice: its gradient goes into the rows of step `t`.
#[derive(Debug)]
struct StepBackward {
    t: usize,
}

impl Backward<Flex, 1> for StepBackward {
    type State = Arc<GradSum>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let grad = grad.storage::<f32>();
        let [b, len, f] = ops.state.shape;
        let t = self.t;
        ops.state.add(|sum| {
            for bi in 0..b {
                let rows = sum[(bi * len + t) * f..][..f].iter_mut();
                for (s, g) in rows.zip(&grad[bi * f..][..f]) {
                    *s += g;
                }
            }
        });
    }
}
