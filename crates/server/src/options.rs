//! The server's limits and batching wait.

use std::time::Duration;

/// The limits of a server and how long a batch waits for more requests; every field has a
/// default ([`ServerOptions::default`]).
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The largest request body in bytes (a larger one is 413). Default 1 MiB.
    pub max_body_bytes: usize,
    /// The most inputs one request may carry (more is 400). Default 1024.
    pub max_inputs: usize,
    /// How long a model's batch waits for more requests after the first, when the queue is
    /// empty. Default 2 ms.
    pub batch_wait: Duration,
    /// The most inputs decoded in one batch. Default 2048.
    pub max_batch_inputs: usize,
    /// Requests waiting per model (one more is 503 with `Retry-After`). Default 256.
    pub queue_capacity: usize,
    /// A request not answered within this time is 503, and is not decoded if it is still
    /// queued then. Default 30 s.
    pub deadline: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_inputs: 1024,
            batch_wait: Duration::from_millis(2),
            max_batch_inputs: 2048,
            queue_capacity: 256,
            deadline: Duration::from_secs(30),
        }
    }
}
