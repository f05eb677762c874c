//! Data parallelism on the CPU: a batch split into shards, each on its own thread, with their
//! results (losses and gradients, or decoded outputs) put back together.
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

/// `items` in at most `shards` contiguous, non-empty parts whose sizes differ by at most one
/// (fewer parts when there are fewer items; none for no items).
pub fn split<T>(items: &[T], shards: usize) -> Vec<&[T]> {
    let parts = shards.max(1).min(items.len());
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 0..parts {
        let len = items.len() / parts + usize::from(k < items.len() % parts);
        out.push(&items[start..start + len]);
        start += len;
    }
    out
}

/// `f` of each shard, each on its own thread (the first on the caller's), in shard order.
///
/// # Errors
///
/// The first shard's error, in shard order.
pub fn map_shards<S, T, F>(shards: Vec<S>, f: F) -> Result<Vec<T>>
where
    S: Send,
    T: Send,
    F: Fn(S) -> Result<T> + Sync,
{
    let mut shards = shards.into_iter();
    let Some(first) = shards.next() else {
        return Ok(Vec::new());
    };
    std::thread::scope(|scope| {
        let f = &f;
        let workers: Vec<_> = shards.map(|s| scope.spawn(move || f(s))).collect();
        let mut out = vec![f(first)];
        for worker in workers {
            // A worker that panicked re-raises its panic here, as on one thread.
            out.push(
                worker
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
        }
        out.into_iter().collect()
    })
}

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
        Ok((value, GradientsParams::from_grads(loss.backward(), worker)))
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

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_covers_everything_in_order_and_evenly() {
        let items: Vec<usize> = (0..10).collect();
        let parts = split(&items, 3);
        assert_eq!(parts, vec![&items[0..4], &items[4..7], &items[7..10]]);
        assert_eq!(split(&items, 1), vec![&items[..]]);
        assert_eq!(split(&items[..2], 4).len(), 2, "never an empty shard");
        assert!(split::<usize>(&[], 2).is_empty());
        assert_eq!(split(&items, 0), vec![&items[..]], "0 shards means 1");
    }
}
