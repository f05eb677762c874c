//! Trained runs served over HTTP: what `seq2seq serve` runs.
//!
//! - [`ServedModel`]: a name and a [`runtime::Loaded`] run (or ensemble).
//! - [`ServerOptions`]: the limits and the batching wait, each with its default.
//! - [`router`] and [`serve`]: the axum application and its server with graceful shutdown.
//!
//! Endpoints (JSON in and out; errors are `{"error": "…"}` with the status below):
//!
//! | method, path | answer |
//! | --- | --- |
//! | `GET /health` | `{"status": "ok", "models": N}` |
//! | `GET /v1/models` | each model's name, task, runs, default beam and input limit |
//! | `POST /v1/models/{name}/predict` | `{"inputs": [...], "beam": K?, "nbest": N?, "attention": bool?}` → `{"model", "predictions": [...]}` |
//!
//! Requests to one model that arrive together are decoded as one batch ([`batcher`]): each
//! model has a thread that takes what is queued, waits [`ServerOptions::batch_wait`] for more,
//! and decodes it all on every core, so many clients sending one word each get close to
//! `predict`'s throughput. Every resource is bounded: a body over
//! [`ServerOptions::max_body_bytes`] is 413; more than [`ServerOptions::max_inputs`] inputs,
//! an input over the run's input limit, an empty input, malformed JSON or a bad option is 400
//! naming it; an unknown model is 404; a full queue is 503 with `Retry-After`; a request not
//! decoded within [`ServerOptions::deadline`] is 503. A panic answers 500 and takes nothing
//! else down.
//!
//! Sits on `runtime`: `inference` ← `runtime` ← `server` ← `seq2seq-cli`.
#![warn(missing_docs)]

mod api;
mod batcher;
mod error;
mod options;
mod routes;

use std::future::Future;
use std::sync::Arc;

pub use api::{
    Alternative, AttentionWeights, ModelInfo, PredictRequest, PredictResponse, Prediction,
};
pub use error::ApiError;
pub use options::ServerOptions;
pub use routes::router;

use runtime::Loaded;

/// A model the server answers for, under `name` (`/v1/models/{name}/predict`).
#[derive(Debug)]
pub struct ServedModel {
    /// The name in the URL.
    pub name: String,
    /// The run (or ensemble).
    pub loaded: Arc<Loaded>,
}

/// Serves `models` on `listener` until `shutdown` completes, then stops taking connections and
/// finishes the requests in flight before returning.
///
/// # Errors
///
/// The listener's I/O errors.
pub async fn serve(
    listener: tokio::net::TcpListener,
    models: Vec<ServedModel>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(models, options);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
