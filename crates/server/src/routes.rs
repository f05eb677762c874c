//! The axum application: routes, request checks, and the answers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use runtime::Loaded;
use tokio::sync::oneshot;
use tower_http::catch_panic::CatchPanicLayer;

use crate::ServedModel;
use crate::api::{ModelInfo, PredictRequest, PredictResponse, Prediction};
use crate::batcher::{Batcher, Job};
use crate::error::ApiError;
use crate::options::ServerOptions;

/// A served model with its batching queue.
struct Entry {
    loaded: Arc<Loaded>,
    batcher: Batcher,
}

/// What every handler shares.
struct Shared {
    models: HashMap<String, Entry>,
    /// Model names in the order given.
    order: Vec<String>,
    options: ServerOptions,
}

/// The application serving `models` with `options`: `/health`, `/v1/models`,
/// `/v1/models/{name}/predict`; each model's batching thread starts here.
pub fn router(models: Vec<ServedModel>, options: ServerOptions) -> Router {
    let order = models.iter().map(|m| m.name.clone()).collect();
    let models = models
        .into_iter()
        .map(|m| {
            let batcher = Batcher::start(&m.name, m.loaded.clone(), &options);
            (
                m.name,
                Entry {
                    loaded: m.loaded,
                    batcher,
                },
            )
        })
        .collect();
    let body_limit = options.max_body_bytes;
    let shared = Arc::new(Shared {
        models,
        order,
        options,
    });
    Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(list_models))
        .route("/v1/models/{name}/predict", post(predict))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no such endpoint: see GET /v1/models",
            )
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request failed unexpectedly (a panic); the server goes on",
            ))
        }))
        .with_state(shared)
}

/// `GET /health`.
async fn health(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "models": shared.models.len() }))
}

/// `GET /v1/models`.
async fn list_models(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let models: Vec<ModelInfo> = shared
        .order
        .iter()
        .map(|name| {
            let loaded = &shared.models[name].loaded;
            ModelInfo {
                name: name.clone(),
                task: loaded.config.task.kind.name().to_string(),
                runs: loaded
                    .runs()
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect(),
                beam: loaded.config.decoding.beam,
                input_limit: loaded.input_limit,
            }
        })
        .collect();
    Json(serde_json::json!({ "models": models }))
}

/// `POST /v1/models/{name}/predict`: checked here, decoded in the model's next batch.
async fn predict(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PredictResponse>, ApiError> {
    let entry = shared.models.get(&name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!(
                "no model named {name:?}; the server has: {}",
                shared.order.join(", ")
            ),
        )
    })?;
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let request: PredictRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not a predict request: {e}")))?;
    let job_parts = check(&entry.loaded, &request, &shared.options)?;
    let (reply, answer) = oneshot::channel();
    let deadline = Instant::now() + shared.options.deadline;
    entry.batcher.submit(Job {
        inputs: request.inputs,
        decoding: job_parts.0,
        n_best: job_parts.1,
        deadline,
        reply,
    })?;
    let predictions = match tokio::time::timeout_at(deadline.into(), answer).await {
        Ok(Ok(result)) => result?,
        Ok(Err(_)) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the model's decoding thread dropped the request",
            ));
        }
        Err(_) => {
            return Err(ApiError::unavailable(
                format!(
                    "no answer within the deadline of {} ms; the server is busy",
                    shared.options.deadline.as_millis()
                ),
                1,
            ));
        }
    };
    Ok(Json(PredictResponse {
        model: name,
        predictions: predictions
            .into_iter()
            .map(|p| Prediction::new(p, request.attention))
            .collect(),
    }))
}

/// The request's decoding options and n-best count, once its inputs and options are checked:
/// at least one input and at most [`ServerOptions::max_inputs`], each readable within the
/// model's input limit, the beam and n-best in range.
fn check(
    model: &Loaded,
    request: &PredictRequest,
    options: &ServerOptions,
) -> Result<(inference::DecodingOptions, usize), ApiError> {
    if request.inputs.is_empty() {
        return Err(ApiError::bad_request(
            "inputs is empty: give at least one input",
        ));
    }
    if request.inputs.len() > options.max_inputs {
        return Err(ApiError::bad_request(format!(
            "{} inputs, more than the {} one request may carry: split them",
            request.inputs.len(),
            options.max_inputs
        )));
    }
    let mut decoding = model.config.decoding.clone();
    if let Some(beam) = request.beam {
        decoding.beam = beam;
    }
    let n_best = request.nbest.unwrap_or(1);
    decoding
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !(1..=decoding.beam).contains(&n_best) {
        return Err(ApiError::bad_request(format!(
            "nbest = {n_best} is invalid: must be between 1 and the beam width ({})",
            decoding.beam
        )));
    }
    for (i, input) in request.inputs.iter().enumerate() {
        model
            .read_source(input)
            .map_err(|e| ApiError::bad_request(format!("inputs[{i}]: {e}")))?;
    }
    Ok((decoding, n_best))
}
