//! `serve`: runs served over HTTP on localhost (JSON endpoints, dynamic batching, bounded
//! everything), until Ctrl-C or SIGTERM, which finish the requests in flight.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use server::{ServedModel, ServerOptions};
use trainer::{Backend, Loaded, TrainerError};

use crate::train_args::backends;

/// `serve`'s arguments.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// A model to serve: a run directory (named after the directory), NAME=DIR, or
    /// NAME=DIR,DIR,… for an ensemble. Repeatable.
    #[arg(long = "run", value_name = "[NAME=]DIR[,DIR…]", required = true)]
    runs: Vec<String>,
    /// The address to listen on (default: this machine only).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// The port (0: any free port; the one taken is printed).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Largest request body in bytes (larger: 413).
    #[arg(long, default_value_t = ServerOptions::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Most inputs per request (more: 400).
    #[arg(long, default_value_t = ServerOptions::default().max_inputs)]
    max_inputs: usize,
    /// How long a batch waits for more requests, in milliseconds.
    #[arg(long, default_value_t = ServerOptions::default().batch_wait.as_millis() as u64)]
    batch_wait_ms: u64,
    /// Most inputs decoded in one batch.
    #[arg(long, default_value_t = ServerOptions::default().max_batch_inputs)]
    max_batch_inputs: usize,
    /// Requests that may wait per model (one more: 503 with Retry-After).
    #[arg(long, default_value_t = ServerOptions::default().queue_capacity)]
    queue: usize,
    /// A request's deadline in milliseconds (past it: 503).
    #[arg(long, default_value_t = ServerOptions::default().deadline.as_millis() as u64)]
    deadline_ms: u64,
    /// Refuse inputs of more than N tokens (default: 4 × each run's longest training source).
    #[arg(long, value_name = "N")]
    max_input_tokens: Option<usize>,
    /// A pronunciation lexicon (CMUdict form) looked up before the model by every G2P model
    /// served. Repeatable.
    #[arg(long, value_name = "FILE")]
    lexicon: Vec<PathBuf>,
    /// Backend to run on (default: each run's, if compiled in).
    #[arg(long, value_parser = backends())]
    device: Option<Backend>,
}

/// Loads the runs, serves them until Ctrl-C or SIGTERM, and finishes the requests in flight.
pub fn run(args: ServeArgs) -> Result<(), TrainerError> {
    let models = load_models(&args)?;
    let options = ServerOptions {
        max_body_bytes: args.max_body_bytes,
        max_inputs: args.max_inputs,
        batch_wait: Duration::from_millis(args.batch_wait_ms),
        max_batch_inputs: args.max_batch_inputs,
        queue_capacity: args.queue,
        deadline: Duration::from_millis(args.deadline_ms),
    };
    let address = SocketAddr::new(args.host, args.port);
    // HTTP work is light: two threads answer requests; decoding runs on each model's batching
    // thread and the cores it shards batches over.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| TrainerError::io("the server's runtime", e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(|e| TrainerError::io(address.to_string(), e))?;
        let bound = listener
            .local_addr()
            .map_err(|e| TrainerError::io(address.to_string(), e))?;
        let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
        eprintln!(
            "serving {} on http://{bound}/ (Ctrl-C to stop)",
            names.join(", ")
        );
        server::serve(listener, models, options, shutdown_signal())
            .await
            .map_err(|e| TrainerError::io(bound.to_string(), e))?;
        eprintln!("stopped: every request in flight was answered");
        Ok(())
    })
}

/// The models of `--run`, each with its name.
fn load_models(args: &ServeArgs) -> Result<Vec<ServedModel>, TrainerError> {
    let lexicon = trainer::read_lexicons(&args.lexicon)?;
    let mut models: Vec<ServedModel> = Vec::new();
    for spec in &args.runs {
        let (name, dirs) = match spec.split_once('=') {
            Some((name, dirs)) => (name.to_string(), dirs),
            None => (String::new(), spec.as_str()),
        };
        let dirs: Vec<PathBuf> = dirs.split(',').map(PathBuf::from).collect();
        let name = if name.is_empty() {
            dirs[0]
                .file_name()
                .map_or_else(|| spec.clone(), |n| n.to_string_lossy().into_owned())
        } else {
            name
        };
        if models.iter().any(|m| m.name == name) {
            return Err(TrainerError::invalid(
                "--run",
                spec,
                format!("the name {name:?} is taken by an earlier --run: give one NAME=DIR"),
            ));
        }
        let mut loaded = Loaded::load_all(&dirs, args.device)?;
        if let Some(limit) = args.max_input_tokens {
            loaded.set_input_limit(limit)?;
        }
        if lexicon.is_some() && loaded.config.task.kind == trainer::TaskKind::G2p {
            loaded.set_lexicon(lexicon.clone())?;
        }
        models.push(ServedModel {
            name,
            loaded: Arc::new(loaded),
        });
    }
    Ok(models)
}

/// Completes at Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    eprintln!("shutting down: no new connections; finishing the requests in flight");
}
