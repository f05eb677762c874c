//! `Wᵀ` for a loop's [`super::StepLinear`]: made by one loop alone, or once per training step
//! by the data-parallel shards together ([`super::SharedTransposes`]).
//!
//! Each shard of a step runs the model's loops on a fork of the same parameters, so without a
//! share every shard transposes every loop weight: at two threads the transposes doubled, 9 %
//! of the CPU time of a G2P training step (docs/performance.md). With a share, the first shard
//! to need a weight's `Wᵀ` starts it, any other that needs it meanwhile takes blocks of the
//! same work, and every later one reads the result.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use burn::backend::flex::FlexTensor;

use crate::flex::f32_tensor;

/// The side of [`transpose_block`]'s tiles, and the rows of `Wᵀ` in one block of work.
const TILE: usize = 16;

/// `w` `[k, n]` transposed into a contiguous `[n, k]`, from the share in force on this thread
/// ([`with_table`]) when there is one, else made here.
pub(super) fn loop_transpose(w: &FlexTensor) -> FlexTensor {
    match TABLE.with_borrow(Clone::clone) {
        Some(table) => table.transposed(w),
        None => transposed(w),
    }
}

/// `w` `[k, n]` transposed into a contiguous `[n, k]`.
fn transposed(w: &FlexTensor) -> FlexTensor {
    let (k, n) = dims(w);
    let mut out = vec![0.0f32; k * n];
    transpose(w.storage::<f32>(), k, n, &mut out);
    f32_tensor(out, &[n, k])
}

fn dims(w: &FlexTensor) -> (usize, usize) {
    let shape = w.layout().shape();
    (shape[0], shape[1])
}

/// `src` `[k, n]` (row-major) into `out` `[n, k]`, block by block.
fn transpose(src: &[f32], k: usize, n: usize, out: &mut [f32]) {
    if k == 0 {
        return;
    }
    for (block, chunk) in out.chunks_mut(TILE * k).enumerate() {
        transpose_block(src, k, n, block * TILE, chunk);
    }
}

/// Rows `j0 ..` of `src`'s transpose (at most [`TILE`], as many as `chunk` holds: `chunk` is
/// `out[j0 * k ..]` for those rows), in 16 × 16 tiles: a tile's 16 rows are read whole into a
/// local array and written out as its 16 columns, so that reads and writes are contiguous runs
/// of 16, which the compiler moves with vector loads, stores and shuffles (an
/// element-by-element copy in blocks took 1.5–2.5× longer in isolation on the G2P preset's
/// weight shapes). Past the last whole tile, element by element. (Compiled for the baseline
/// CPU: an AVX2 or AVX-512 build of the same loop was not faster.)
fn transpose_block(src: &[f32], k: usize, n: usize, j0: usize, chunk: &mut [f32]) {
    let cols = chunk.len() / k;
    let whole_k = if cols == TILE { k / TILE * TILE } else { 0 };
    for i0 in (0..whole_k).step_by(TILE) {
        let mut tile = [[0.0f32; TILE]; TILE];
        for (r, row) in tile.iter_mut().enumerate() {
            let start = (i0 + r) * n + j0;
            row.copy_from_slice(&src[start..start + TILE]);
        }
        for c in 0..TILE {
            let start = c * k + i0;
            for (value, row) in chunk[start..start + TILE].iter_mut().zip(&tile) {
                *value = row[c];
            }
        }
    }
    for i in whole_k..k {
        for c in 0..cols {
            chunk[c * k + i] = src[i * n + j0 + c];
        }
    }
}

thread_local! {
    /// The share in force on this thread ([`with_table`]).
    static TABLE: RefCell<Option<Arc<TransposeTable>>> = const { RefCell::new(None) };
}

/// `f()` with `table` in force on this thread (the one before it back afterwards, even if `f`
/// panics).
pub(super) fn with_table<R>(table: &Arc<TransposeTable>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<TransposeTable>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            TABLE.set(self.0.take());
        }
    }
    let _restore = Restore(TABLE.replace(Some(table.clone())));
    f()
}

/// The `Wᵀ` of every weight transposed under one share, by the weight's buffer and shape.
///
/// The key is the address of `W`'s values. Each entry holds a handle on `W` itself, so that no
/// other buffer can take that address while the share lives, and flex, which writes in place
/// only into a buffer it holds alone, cannot change `W` under it.
#[derive(Default)]
pub(super) struct TransposeTable(Mutex<HashMap<(usize, usize, usize), Arc<Pending>>>);

impl std::fmt::Debug for TransposeTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.0.lock().unwrap_or_else(PoisonError::into_inner).len();
        write!(f, "TransposeTable({entries} weights)")
    }
}

impl TransposeTable {
    /// `w`'s transpose, made here (alone or with the other threads that need it now) or read.
    fn transposed(&self, w: &FlexTensor) -> FlexTensor {
        let (k, n) = dims(w);
        if k == 0 || n == 0 {
            return transposed(w);
        }
        let src = w.storage::<f32>();
        let pending = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((src.as_ptr() as usize, k, n))
            .or_insert_with(|| Arc::new(Pending::new(w.clone(), k, n)))
            .clone();
        pending.make(src)
    }
}

/// One weight's `Wᵀ` `[n, k]`, made in blocks of [`TILE`] rows by whichever threads need it.
struct Pending {
    /// `W`, held so that its buffer (the table's key) stays where it is.
    _source: FlexTensor,
    k: usize,
    n: usize,
    /// The output's buffer until the last block is written; then it becomes `result`.
    buffer: Mutex<Option<Vec<f32>>>,
    /// `buffer`'s values, written block by block through this pointer (each block by the one
    /// thread that claimed it).
    out: *mut f32,
    /// The next block to claim.
    next: AtomicUsize,
    /// Blocks written.
    done: AtomicUsize,
    result: OnceLock<FlexTensor>,
}

// SAFETY: `out` points into `buffer`'s heap allocation, which does not move or get freed until
// the last block is written (the vector is only taken out of `buffer` then); each block's rows
// are written through it by the one thread whose `next.fetch_add` returned that block, and read
// only after `done` counts every block.
unsafe impl Send for Pending {}
unsafe impl Sync for Pending {}

impl Pending {
    fn new(source: FlexTensor, k: usize, n: usize) -> Self {
        let mut values = vec![0.0f32; k * n];
        let out = values.as_mut_ptr();
        Self {
            _source: source,
            k,
            n,
            buffer: Mutex::new(Some(values)),
            out,
            next: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            result: OnceLock::new(),
        }
    }

    /// Claims and writes blocks of `src` `[k, n]`'s transpose until none are left, then waits
    /// for the ones other threads claimed (at most one block each) and returns the whole.
    fn make(&self, src: &[f32]) -> FlexTensor {
        let (k, n) = (self.k, self.n);
        let blocks = n.div_ceil(TILE);
        loop {
            let block = self.next.fetch_add(1, Ordering::Relaxed);
            if block >= blocks {
                break;
            }
            let j0 = block * TILE;
            let rows = (n - j0).min(TILE);
            // SAFETY: rows `j0 .. j0 + rows` of the `[n, k]` output, inside `buffer`'s
            // allocation, written only by this thread (see the `Send`/`Sync` comment).
            let chunk = unsafe { std::slice::from_raw_parts_mut(self.out.add(j0 * k), rows * k) };
            transpose_block(src, k, n, j0, chunk);
            if self.done.fetch_add(1, Ordering::AcqRel) + 1 == blocks {
                let values = self
                    .buffer
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                if let Some(values) = values {
                    // Only this thread reaches here, so `set` cannot find a value.
                    let _ = self.result.set(f32_tensor(values, &[n, k]));
                }
            }
        }
        let mut spins = 0u32;
        loop {
            if let Some(t) = self.result.get() {
                return t.clone();
            }
            if spins < 256 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use burn::backend::flex::FlexTensor;

    use super::{TransposeTable, loop_transpose, transpose, with_table};
    use crate::flex::f32_tensor;

    fn numbers(k: usize, n: usize) -> Vec<f32> {
        (0..k * n).map(|x| x as f32).collect()
    }

    #[test]
    fn transpose_matches_the_definition_on_whole_tiles_and_edges() {
        for (k, n) in [
            (32, 48),
            (37, 21),
            (5, 70),
            (16, 16),
            (1, 1),
            (0, 3),
            (3, 0),
        ] {
            let src = numbers(k, n);
            let mut out = vec![-1.0; k * n];
            transpose(&src, k, n, &mut out);
            for i in 0..k {
                for j in 0..n {
                    assert_eq!(out[j * k + i], src[i * n + j], "[{i}, {j}] of {k} × {n}");
                }
            }
        }
    }

    fn values(t: &FlexTensor) -> Vec<f32> {
        t.storage::<f32>().to_vec()
    }

    #[test]
    fn threads_sharing_a_table_get_the_transpose_once() {
        // Weights of several shapes, each needed by four threads at once, twice each.
        let weights: Vec<FlexTensor> = [(37, 21), (256, 1024), (5, 70), (48, 3)]
            .iter()
            .map(|&(k, n)| f32_tensor(numbers(k, n), &[k, n]))
            .collect();
        let want: Vec<Vec<f32>> = weights.iter().map(|w| values(&loop_transpose(w))).collect();
        let table = Arc::new(TransposeTable::default());
        let got: Vec<Vec<FlexTensor>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (table, weights) = (&table, &weights);
                    scope.spawn(move || {
                        with_table(table, || {
                            let mut out: Vec<_> = weights.iter().map(loop_transpose).collect();
                            out.extend(weights.iter().map(loop_transpose));
                            out
                        })
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for per_thread in &got {
            for (which, t) in per_thread.iter().enumerate() {
                let w = which % weights.len();
                assert_eq!(values(t), want[w], "weight {w}");
                let first = &got[0][w];
                assert_eq!(
                    t.storage::<f32>().as_ptr(),
                    first.storage::<f32>().as_ptr(),
                    "weight {w}: one buffer for every thread"
                );
            }
        }
        // Outside the scope, the thread makes its own again.
        let own = loop_transpose(&weights[0]);
        assert_ne!(
            own.storage::<f32>().as_ptr(),
            got[0][0].storage::<f32>().as_ptr()
        );
    }
}
