//! `curve`: runs' validation score against wall-clock training minutes, other systems marked.

use std::path::PathBuf;

use clap::Args;
use trainer::TrainerError;

use crate::commands::labelled;

/// `curve`'s arguments.
#[derive(Args, Debug)]
pub struct CurveArgs {
    /// Run directories (finished or still training); LABEL=DIR names a curve.
    #[arg(required = true, value_name = "[LABEL=]RUN")]
    runs: Vec<String>,
    /// The validation score to draw (e.g. wer, per, bleu, exact_match).
    #[arg(long, default_value = "wer")]
    metric: String,
    /// Another system's training time and score, drawn as a cross with a dotted line at its
    /// score; the table says when each run first reaches it. Repeatable.
    #[arg(long, value_name = "LABEL=MINUTES,SCORE")]
    mark: Vec<trainer::Mark>,
    /// Also draw the curves into this PNG file.
    #[arg(long)]
    png: Option<PathBuf>,
}

/// Runs `curve` with its arguments.
pub fn run(args: CurveArgs) -> Result<(), TrainerError> {
    let curves = args
        .runs
        .iter()
        .map(|run| {
            let (label, dir) = labelled(run);
            if !dir.is_dir() {
                return Err(TrainerError::run(&dir, "no such run directory"));
            }
            let metrics = trainer::RunDir::new(&dir).read_metrics()?;
            trainer::TimeCurve::from_metrics(&label, &metrics, &args.metric)
        })
        .collect::<Result<Vec<_>, _>>()?;
    print!("{}", trainer::time_table(&curves, &args.mark, &args.metric));
    if let Some(png) = &args.png {
        trainer::write_time_plot(&curves, &args.mark, &args.metric, png)?;
        println!("wrote {}", png.display());
    }
    Ok(())
}
