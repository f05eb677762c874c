//! Dynamic batching: one thread per model takes the requests that are queued, waits a moment
//! for more, and decodes them together on every core.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::Instant;

use axum::http::StatusCode;
use inference::{DecodingOptions, InferenceError, Prediction};
use runtime::{Loaded, RuntimeError};
use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::options::ServerOptions;

/// One request's work: its inputs (already checked), how to decode them, until when the answer
/// is wanted, and where it goes.
pub struct Job {
    /// The inputs.
    pub inputs: Vec<String>,
    /// The decoding options (the run's, with the request's beam).
    pub decoding: DecodingOptions,
    /// Hypotheses per input.
    pub n_best: usize,
    /// After this the job is answered 503 and not decoded.
    pub deadline: Instant,
    /// Where the predictions go.
    pub reply: oneshot::Sender<Result<Vec<Prediction>, ApiError>>,
}

/// The queue of one model's batching thread.
#[derive(Clone, Debug)]
pub struct Batcher {
    sender: SyncSender<Job>,
}

impl Batcher {
    /// Starts the batching thread of `model` (named `name`, for the thread's name).
    pub fn start(name: &str, model: Arc<Loaded>, options: &ServerOptions) -> Self {
        let (sender, receiver) = sync_channel(options.queue_capacity.max(1));
        let options = options.clone();
        std::thread::Builder::new()
            .name(format!("batch-{name}"))
            .spawn(move || run(&model, &receiver, &options))
            .expect("a thread can be started");
        Self { sender }
    }

    /// Queues `job`, or answers why not: 503 with `Retry-After` when the queue is full.
    ///
    /// # Errors
    ///
    /// [`ApiError`] 503 (queue full), 500 (the batching thread is gone).
    pub fn submit(&self, job: Job) -> Result<(), ApiError> {
        self.sender.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => ApiError::unavailable(
                "the model's queue is full: too many requests are waiting; retry shortly",
                1,
            ),
            TrySendError::Disconnected(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the model's decoding thread has stopped",
            ),
        })
    }
}

/// The batching loop: until every sender is gone, take a batch and decode it.
fn run(model: &Loaded, receiver: &Receiver<Job>, options: &ServerOptions) {
    while let Ok(first) = receiver.recv() {
        let batch = gather(first, receiver, options);
        decode(model, batch);
    }
}

/// `first` and the jobs that arrive within the batch wait (or are queued already), up to
/// [`ServerOptions::max_batch_inputs`] inputs.
fn gather(first: Job, receiver: &Receiver<Job>, options: &ServerOptions) -> Vec<Job> {
    let until = Instant::now() + options.batch_wait;
    let mut inputs = first.inputs.len();
    let mut batch = vec![first];
    while inputs < options.max_batch_inputs {
        let job = match receiver.try_recv() {
            Ok(job) => job,
            Err(_) => {
                match receiver.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(job) => job,
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        inputs += job.inputs.len();
        batch.push(job);
    }
    batch
}

/// Decodes a batch: jobs past their deadline are answered 503 undecoded; the others are grouped
/// by decoding options, each group decoded in one call, and every job gets its predictions.
fn decode(model: &Loaded, batch: Vec<Job>) {
    let now = Instant::now();
    let mut groups: BTreeMap<(usize, usize), Vec<Job>> = BTreeMap::new();
    for job in batch {
        if job.deadline <= now {
            let _ = job.reply.send(Err(ApiError::unavailable(
                "the request's deadline passed while it waited in the queue; it was not decoded",
                1,
            )));
            continue;
        }
        groups
            .entry((job.decoding.beam, job.n_best))
            .or_default()
            .push(job);
    }
    for mut jobs in groups.into_values() {
        let counts: Vec<usize> = jobs.iter().map(|j| j.inputs.len()).collect();
        let inputs: Vec<String> = jobs
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.inputs))
            .collect();
        let (decoding, n_best) = (jobs[0].decoding.clone(), jobs[0].n_best);
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            model.predict_each(&inputs, &decoding, n_best)
        }));
        let mut results = match decoded {
            Ok(Ok(results)) => results.into_iter(),
            Ok(Err(e)) => return answer_all(jobs, &failure(&e)),
            Err(_) => {
                let panic = ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "decoding failed unexpectedly (a panic); the server goes on",
                );
                return answer_all(jobs, &panic);
            }
        };
        for (job, count) in jobs.into_iter().zip(counts) {
            let predictions: Result<Vec<Prediction>, ApiError> = results
                .by_ref()
                .take(count)
                .enumerate()
                .map(|(i, p)| p.map_err(|e| ApiError::bad_request(format!("inputs[{i}]: {e}"))))
                .collect();
            let _ = job.reply.send(predictions);
        }
    }
}

/// Every job of a group answered with `error`.
fn answer_all(jobs: Vec<Job>, error: &ApiError) {
    for job in jobs {
        let _ = job.reply.send(Err(error.clone()));
    }
}

/// A library error as an answer: a bad option is the request's fault (400), anything else 500.
fn failure(error: &RuntimeError) -> ApiError {
    match error {
        RuntimeError::Inference(InferenceError::InvalidOption { .. }) => {
            ApiError::bad_request(error.to_string())
        }
        other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}
