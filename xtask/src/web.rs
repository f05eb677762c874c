//! `web`: the page of `web/` built for the browser (wasm32, wasm-bindgen) into a folder with a
//! run's files, and served on localhost.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;
use trainer::{RunDir, TrainerError};

/// The wasm-bindgen this project's `wasm-bindgen` dependency needs: the CLI must match it.
const WASM_BINDGEN: &str = "0.2.130";
/// The target the page's model is compiled for.
const TARGET: &str = "wasm32-unknown-unknown";

#[derive(Args, Debug)]
pub(crate) struct WebArgs {
    /// The run the page loads (its config.json, vocabularies, model.bpk and manifest.json are
    /// copied into OUT/model/).
    #[arg(long, default_value = "models/g2p-cmudict", value_name = "RUN")]
    run: PathBuf,
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
pub(crate) fn cmd_web(args: WebArgs) -> Result<(), TrainerError> {
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
    let run = RunDir::new(&args.run);
    let files = [
        run.config(),
        run.source_vocab(),
        run.target_vocab(),
        run.model(),
    ];
    if let Some(missing) = files.iter().find(|f| !f.is_file()) {
        return Err(TrainerError::run(
            missing,
            "missing: --run must be a run directory (config.json, source_vocab.json, target_vocab.json, model.bpk)",
        ));
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
    let model_dir = args.out.join("model");
    let mut copied = files.to_vec();
    copied.push(run.manifest());
    copy_into(&args.run, &model_dir, Some(&copied))
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
