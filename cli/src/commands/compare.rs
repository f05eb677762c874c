//! `compare`: evaluated runs' scores by source length, as a table and a chart.

use std::path::PathBuf;

use clap::Args;
use trainer::TrainerError;

use crate::commands::labelled;

/// `compare`'s arguments.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Run directories, each already evaluated (`cargo xtask eval`); LABEL=DIR names a curve.
    #[arg(required = true, value_name = "[LABEL=]RUN")]
    runs: Vec<String>,
    /// Which evaluation: valid or test.
    #[arg(long, default_value = "test", value_parser = ["valid", "test"])]
    split: String,
    /// The score to compare (e.g. wer, per, bleu, chrf, exact_match).
    #[arg(long)]
    metric: String,
    /// Also draw the comparison into this PNG file.
    #[arg(long)]
    png: Option<PathBuf>,
}

/// Runs `compare` with its arguments.
pub fn run(args: CompareArgs) -> Result<(), TrainerError> {
    let mut curves = Vec::new();
    for run in &args.runs {
        let (label, dir) = labelled(run);
        let path = dir.join(format!("eval-{}.json", args.split));
        let bytes = std::fs::read(&path).map_err(|e| TrainerError::io(&path, e))?;
        let evaluation: trainer::Evaluation = serde_json::from_slice(&bytes).map_err(|e| {
            TrainerError::run(
                &path,
                format!("not an evaluation written by `cargo xtask eval`: {e}"),
            )
        })?;
        if evaluation.by_length.is_empty() {
            return Err(TrainerError::run(
                path,
                "no scores by length (an older version wrote it): run `cargo xtask eval` again",
            ));
        }
        curves.push(trainer::LengthCurve::new(label, &evaluation));
    }
    print!("{}", trainer::length_table(&curves, &args.metric)?);
    if let Some(png) = &args.png {
        trainer::write_length_plot(&curves, &args.metric, png)?;
        println!("wrote {}", png.display());
    }
    Ok(())
}
