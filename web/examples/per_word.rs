//! Milliseconds per word, natively, predicting one word at a time as the page does: the native
//! side of the browser timing in `docs/performance.md`.
//!
//! `cargo run --release -p seq2seq-web --example per_word -- WORDS_FILE [RUN]` (a CMUdict-format
//! file's first column; RUN defaults to `models/g2p-cmudict`).

use std::path::PathBuf;
use std::time::Instant;

use inference::RunFiles;
use seq2seq_web::Model;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let words_file = args.next().ok_or("usage: per_word WORDS_FILE [RUN]")?;
    let run = PathBuf::from(args.next().unwrap_or_else(|| "models/g2p-cmudict".into()));
    let read = |name: &str| std::fs::read(run.join(name));
    let (config, source, target, model) = (
        read("config.json")?,
        read("source_vocab.json")?,
        read("target_vocab.json")?,
        read("model.bpk")?,
    );
    let tokenizer = read("tokenizer.json").ok();
    let manifest = read("manifest.json").ok();
    let files = RunFiles {
        config: &config,
        source_vocab: &source,
        target_vocab: &target,
        model: &model,
        tokenizer: tokenizer.as_deref(),
        manifest: manifest.as_deref(),
    };
    let model = Model::load(files)?;
    let text = std::fs::read_to_string(&words_file)?;
    let words: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for beam in [1, 1, 5] {
        let started = Instant::now();
        for word in &words {
            model.predict_line(word, beam, 1)?;
        }
        let ms = started.elapsed().as_secs_f64() * 1e3 / words.len() as f64;
        println!("beam {beam}: {ms:.3} ms per word ({} words)", words.len());
    }
    Ok(())
}
