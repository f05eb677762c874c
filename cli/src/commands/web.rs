//! `web`: the page of `web/` built for the browser (wasm32, wasm-bindgen) into a folder with
//! runs' files (each in `OUT/models/NAME/`, listed in `OUT/models/index.json`), and served on
//! localhost.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;
use trainer::{RunDir, TrainerError};

/// The wasm-bindgen this project's `wasm-bindgen` dependency needs: the CLI must match it.
const WASM_BINDGEN: &str = "0.2.130";
/// The target the page's model is compiled for.
const TARGET: &str = "wasm32-unknown-unknown";

#[derive(Args, Debug)]
pub struct WebArgs {
    /// The runs the page offers, the first one loaded first (each run's config.json,
    /// vocabularies, model.bpk, and manifest.json and tokenizer.json where it has them, are
    /// copied into OUT/models/NAME/, NAME being the directory's name). Repeatable.
    #[arg(long = "run", value_name = "RUN", default_values = ["models/g2p-cmudict", "models/multi30k-de-en", "models/g2p-cmudict-stress"])]
    runs: Vec<PathBuf>,
    /// Where the page is written.
    #[arg(long, default_value = "dist", value_name = "OUT")]
    out: PathBuf,
    /// The port to serve on, on 127.0.0.1 (0: any free one, printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Build the page, do not serve it.
    #[arg(long, conflicts_with = "no_build")]
    no_serve: bool,
    /// Serve OUT as it is, without building.
    #[arg(long)]
    no_build: bool,
    /// Also build the Node.js module (`wasm-bindgen --target nodejs`) into OUT/node/.
    #[arg(long)]
    node: bool,
}

/// `cargo xtask web`.
pub fn run(args: WebArgs) -> Result<(), TrainerError> {
    if !args.no_build {
        build(&args)?;
        println!("built the page into {}", args.out.display());
    }
    if args.no_serve {
        return Ok(());
    }
    serve(&args.out, args.port)
}

/// The workspace's root (where `web/` and `target/` are).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build(args: &WebArgs) -> Result<(), TrainerError> {
    let runs = args
        .runs
        .iter()
        .map(|dir| PageRun::new(dir))
        .collect::<Result<Vec<_>, _>>()?;
    for (k, run) in runs.iter().enumerate() {
        if runs[..k].iter().any(|other| other.name == run.name) {
            return Err(TrainerError::invalid(
                "--run",
                run.dir.display(),
                format!(
                    "another run is also named {:?}: the page names runs by their directory",
                    run.name
                ),
            ));
        }
    }
    if !workspace().join("web/Cargo.toml").is_file() {
        return Err(TrainerError::run(
            workspace().join("web"),
            "missing: the page is built from the repository's sources; run `cargo xtask web` in a checkout",
        ));
    }
    check_tools()?;
    run_tool(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace())
            .args([
                "build",
                "--release",
                "-p",
                "seq2seq-web",
                "--target",
                TARGET,
            ]),
        "cargo build",
    )?;
    let wasm = workspace().join(format!("target/{TARGET}/release/seq2seq_web.wasm"));
    let targets: &[(&str, &str)] = if args.node {
        &[("web", "pkg"), ("nodejs", "node")]
    } else {
        &[("web", "pkg")]
    };
    for (target, dir) in targets {
        run_tool(
            Command::new("wasm-bindgen")
                .args(["--target", target, "--no-typescript", "--out-dir"])
                .arg(args.out.join(dir))
                .arg(&wasm),
            "wasm-bindgen",
        )?;
    }
    copy_into(&workspace().join("web/static"), &args.out, None)?;
    let models = args.out.join("models");
    if models.exists() {
        std::fs::remove_dir_all(&models).map_err(|e| TrainerError::io(&models, e))?;
    }
    let mut index = Vec::new();
    for run in &runs {
        copy_into(&run.dir, &models.join(&run.name), Some(&run.files))?;
        index.push(serde_json::json!({
            "name": run.name,
            "task": run.task,
            "path": format!("models/{}/", run.name),
        }));
    }
    let index = serde_json::to_vec_pretty(&index).expect("the index serialises");
    let path = models.join("index.json");
    std::fs::write(&path, index).map_err(|e| TrainerError::io(&path, e))
}

/// A run the page offers: its directory, the name it gets in `OUT/models/`, its task and the
/// files copied.
struct PageRun {
    dir: PathBuf,
    name: String,
    task: &'static str,
    files: Vec<PathBuf>,
}

impl PageRun {
    /// Checks that `dir` is a run directory and lists its files for the page.
    fn new(dir: &Path) -> Result<Self, TrainerError> {
        let run = RunDir::new(dir);
        let required = [
            run.config(),
            run.source_vocab(),
            run.target_vocab(),
            run.model(),
        ];
        if let Some(missing) = required.iter().find(|f| !f.is_file()) {
            return Err(TrainerError::run(
                missing,
                "missing: --run must be a run directory (config.json, source_vocab.json, target_vocab.json, model.bpk)",
            ));
        }
        let config = run.read_config()?;
        run.read_subwords(&config)?;
        let name = dir
            .canonicalize()
            .map_err(|e| TrainerError::io(dir, e))?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        let optional = [run.manifest(), run.tokenizer()];
        let files = required
            .into_iter()
            .chain(optional.into_iter().filter(|f| f.is_file()))
            .collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            name,
            task: config.task.kind.name(),
            files,
        })
    }
}

/// The wasm32 target and a wasm-bindgen CLI of the right version, or an error saying how to
/// install them.
fn check_tools() -> Result<(), TrainerError> {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if !libdir.is_some_and(|d| d.is_dir()) {
        return Err(TrainerError::run(
            TARGET,
            format!("the Rust target is not installed: run `rustup target add {TARGET}`"),
        ));
    }
    let version = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !version.ends_with(WASM_BINDGEN) {
        let found = if version.is_empty() { "none" } else { &version };
        return Err(TrainerError::run(
            "wasm-bindgen",
            format!(
                "the page needs version {WASM_BINDGEN} (found: {found}): run `cargo install wasm-bindgen-cli --version {WASM_BINDGEN}`"
            ),
        ));
    }
    Ok(())
}

/// Runs `command`, an error naming `what` if it cannot start or fails.
fn run_tool(command: &mut Command, what: &str) -> Result<(), TrainerError> {
    let status = command.status().map_err(|e| TrainerError::io(what, e))?;
    if !status.success() {
        return Err(TrainerError::run(
            what,
            format!("failed ({status}); its output is above"),
        ));
    }
    Ok(())
}

/// Copies the files of `from` (only `only` among them, if given; missing ones skipped) into
/// `to`, created if need be.
fn copy_into(from: &Path, to: &Path, only: Option<&[PathBuf]>) -> Result<(), TrainerError> {
    std::fs::create_dir_all(to).map_err(|e| TrainerError::io(to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| TrainerError::io(from, e))?;
    for entry in entries {
        let path = entry.map_err(|e| TrainerError::io(from, e))?.path();
        let wanted = only.is_none_or(|files| files.contains(&path));
        if wanted && path.is_file() {
            let name = path.file_name().expect("a file has a name");
            std::fs::copy(&path, to.join(name)).map_err(|e| TrainerError::io(&path, e))?;
        }
    }
    Ok(())
}

/// Serves the files under `root` on 127.0.0.1:`port` until interrupted.
fn serve(root: &Path, port: u16) -> Result<(), TrainerError> {
    if !root.join("index.html").is_file() {
        return Err(TrainerError::run(
            root.join("index.html"),
            "missing: build the page first (without --no-build)",
        ));
    }
    let server = tiny_http::Server::http(("127.0.0.1", port))
        .map_err(|e| TrainerError::invalid("--port", port, format!("cannot listen: {e}")))?;
    let port = server.server_addr().to_ip().map_or(port, |a| a.port());
    println!(
        "serving {} on http://127.0.0.1:{port}/ (Ctrl-C stops)",
        root.display()
    );
    for request in server.incoming_requests() {
        let response = respond(root, request.url());
        // A client that went away is its own business.
        let _ = request.respond(response);
    }
    Ok(())
}

/// The file the URL `url` names under `root`, or 404.
fn respond(root: &Path, url: &str) -> tiny_http::ResponseBox {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    };
    let safe = !relative
        .split('/')
        .any(|part| part == ".." || part.is_empty());
    let file = root.join(&relative);
    match (safe, std::fs::read(&file)) {
        (true, Ok(bytes)) => {
            let header = tiny_http::Header::from_bytes("Content-Type", content_type(&file))
                .expect("valid header");
            tiny_http::Response::from_data(bytes)
                .with_header(header)
                .boxed()
        }
        _ => tiny_http::Response::from_string(format!("{path}: not found"))
            .with_status_code(404)
            .boxed(),
    }
}

/// The media type of a file the page uses.
fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_to_files_under_the_root_and_nothing_above_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>").unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/a.wasm"), [0, 97, 115, 109]).unwrap();
        assert_eq!(respond(dir.path(), "/").status_code(), 200);
        assert_eq!(respond(dir.path(), "/index.html?x=1").status_code(), 200);
        assert_eq!(respond(dir.path(), "/pkg/a.wasm").status_code(), 200);
        assert_eq!(respond(dir.path(), "/../Cargo.toml").status_code(), 404);
        assert_eq!(respond(dir.path(), "/pkg//a.wasm").status_code(), 404);
        assert_eq!(respond(dir.path(), "/missing.js").status_code(), 404);
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
    }
}
