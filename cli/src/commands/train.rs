//! `train`: a run trained, then scored on its test split, with examples and attention pictures.

use std::path::{Path, PathBuf};

use trainer::{TrainRequest, Trained, TrainerError, write_attention_pictures};

use crate::report::print_scores;
use crate::train_args::TrainArgs;

/// Runs `train` with its arguments.
pub fn run(args: TrainArgs) -> Result<(), TrainerError> {
    let config = args.run_config()?;
    if args.print_config {
        println!(
            "{}",
            serde_json::to_string_pretty(&config).expect("serialisable")
        );
        return Ok(());
    }
    crate::warn_if_oversubscribed(config.training.threads);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| first_free(config.task.kind.name()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        // First Ctrl-C: finish the current batch, write a checkpoint, exit cleanly.
        // Second Ctrl-C: leave at once (the last checkpoint stays intact).
        let stop = stop.clone();
        let installed = ctrlc::set_handler(move || {
            if stop.swap(true, std::sync::atomic::Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: exiting without a new checkpoint");
                std::process::exit(130);
            }
            eprintln!(
                "\ninterrupt: stopping after this batch and writing a checkpoint (Ctrl-C again to exit now)"
            );
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will not checkpoint before exiting: {e}");
        }
    }
    let summary = trainer::train(TrainRequest {
        config,
        out: out.clone(),
        // A resumed run keeps its own configuration but for these (given) flags.
        resume: args.resume.then(|| args.resume_changes()),
        quiet: args.quiet,
        stop: Some(stop),
    })?;
    println!(
        "trained {} epochs in {:.0} s{}; run directory: {}",
        summary.epochs,
        summary.seconds,
        if summary.stopped_early {
            " (stopped early: no improvement)"
        } else {
            ""
        },
        out.display()
    );
    if summary.interrupted {
        println!(
            "interrupted: resume with `cargo xtask train --resume --out {}`",
            out.display()
        );
        return Ok(());
    }
    let trained = Trained::load(&out, None)?;
    // The run's own decoding options: on --resume, its configuration, not this command's
    // default --beam.
    let options = trained.config.decoding.clone();
    let evaluation = trained.evaluate("test", &options)?;
    evaluation.save(&out.join("eval-test.json"))?;
    print_scores(&evaluation);
    println!("examples:");
    for example in evaluation.examples.iter().take(5) {
        println!(
            "  {} {:?} -> {:?}",
            if example.correct { "✓" } else { "✗" },
            example.source,
            example.prediction
        );
    }
    if trained.config.model.score.is_some() {
        let first = evaluation
            .examples
            .first()
            .map(|e| e.source.clone())
            .unwrap_or_default();
        let prediction = trained.predict(&[first], &options)?.remove(0);
        let files = write_attention_pictures(&prediction, &out.join("plots"), "attention")?;
        println!("attention pictures for {:?}:", prediction.input);
        for path in [&files.png, &files.svg, &files.gif, &files.json] {
            println!("  {}", path.display());
        }
    }
    Ok(())
}

fn first_free(task: &str) -> PathBuf {
    (1..)
        .map(|n| Path::new("runs").join(format!("{task}-{n}")))
        .find(|p| !p.exists())
        .expect("some run name is free")
}
