//! Data parallelism on the CPU: a batch split into shards ([`split`]), each on its own thread
//! ([`map_shards`], from `runtime`), with their results (losses and gradients, or decoded
//! outputs) put back together.
//!
//! Why: Burn's flex backend runs each tensor operation on one core, and its multi-threaded GEMM
//! costs more than it gives at these matrix sizes (`docs/performance.md`). Whole shards of a
//! batch are big, independent pieces of work, so `n` threads come close to `n` times the
//! throughput.
//!
//! A training step's gradients are those of the whole batch: the loss is a mean over target
//! tokens, so each shard's mean is weighted by its share of the batch's tokens before its
//! backward pass, and the shards' gradients are summed. Each worker runs on a *fork* of the
//! model, its parameters new autodiff leaves over the same values and ids: Burn merges the
//! graphs of operations that share a node, and would then run the shards' backward passes one
//! after the other under one lock.

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use decoder::Seq2Seq;

use crate::error::Result;

pub use runtime::{map_shards, split};

/// The gradients of one training step over shards of its batch: `loss_of(model, shard)` gives
/// a shard's loss already weighted by its share of the batch (so the shards' losses sum to the
/// batch's); returns that sum's value and its gradients. One shard runs on the caller's thread
/// on `model` itself.
///
/// Burn draws a lazily initialised parameter at its first use, so a fresh model's values depend
/// on the order its forward pass reaches them. Before forking a model that still has such
/// parameters, the first shard's forward pass runs once on `model` itself (no backward pass), so
/// that its values are those a one-thread step would have drawn.
///
/// # Errors
///
/// The first error of `loss_of`, in shard order.
pub fn sharded_gradients<S, F>(
    model: &Seq2Seq,
    shards: Vec<S>,
    loss_of: F,
) -> Result<(f32, GradientsParams)>
where
    S: Send + Clone,
    F: Fn(&Seq2Seq, S) -> Result<Tensor<1>> + Sync,
{
    let single = shards.len() <= 1;
    if !single {
        let mut all = AllInitialized(true);
        model.visit(&mut all);
        if !all.0 {
            drop(loss_of(model, shards[0].clone())?);
        }
    }
    let parts = map_shards(shards, |shard| {
        let fork;
        let worker = if single {
            model
        } else {
            fork = model.clone().map(&mut Fork);
            &fork
        };
        let loss = loss_of(worker, shard)?;
        let value = loss.clone().into_scalar::<f32>();
        Ok::<_, crate::TrainerError>((value, GradientsParams::from_grads(loss.backward(), worker)))
    })?;
    let mut loss = 0.0;
    let mut total = GradientsParams::new();
    for (value, grads) in parts {
        loss += value;
        model.visit(&mut Accumulate {
            into: &mut total,
            from: grads,
        });
    }
    Ok((loss, total))
}

/// Whether every float parameter has its value.
struct AllInitialized(bool);

impl ModuleVisitor for AllInitialized {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0 &= param.is_initialized();
    }
}

/// New autodiff leaves over the same parameter values and ids.
struct Fork;

impl ModuleMapper for Fork {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if param.is_require_grad() {
            param.map(|t| t.detach().require_grad())
        } else {
            param
        }
    }
}

/// Adds `from`'s gradient of each parameter into `into`.
struct Accumulate<'a> {
    into: &'a mut GradientsParams,
    from: GradientsParams,
}

impl ModuleVisitor for Accumulate<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.from.remove::<D>(param.id) else {
            return;
        };
        let sum = match self.into.remove::<D>(param.id) {
            Some(before) => before + grad,
            None => grad,
        };
        self.into.register(param.id, sum);
    }
}
