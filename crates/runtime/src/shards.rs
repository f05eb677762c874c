//! Work cut into shards, each on its own thread, results in shard order.
//!
//! Why threads of our own: Burn's flex backend runs each tensor operation on one core, and its
//! multi-threaded GEMM costs more than it gives at these matrix sizes (`docs/performance.md`).
//! Whole shards of a batch are big, independent pieces of work, so `n` threads come close to
//! `n` times the throughput.

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
pub fn map_shards<S, T, E, F>(shards: Vec<S>, f: F) -> Result<Vec<T>, E>
where
    S: Send,
    T: Send,
    E: Send,
    F: Fn(S) -> Result<T, E> + Sync,
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

#[cfg(test)]
mod tests {
    use super::{map_shards, split};

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

    #[test]
    fn map_shards_keeps_shard_order_and_reports_the_first_error() {
        let squares = map_shards(vec![1, 2, 3, 4], |x| Ok::<_, String>(x * x));
        assert_eq!(squares, Ok(vec![1, 4, 9, 16]));
        let failed = map_shards(vec![1, 2, 3], |x| {
            if x >= 2 {
                Err(format!("shard {x}"))
            } else {
                Ok(x)
            }
        });
        assert_eq!(failed, Err("shard 2".to_string()));
        assert_eq!(map_shards(Vec::<u8>::new(), Ok::<_, ()>), Ok(vec![]));
    }
}
