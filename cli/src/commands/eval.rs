//! `eval`: a run (or ensemble) scored on a split or a file of the user's, the report saved as JSON.

use std::path::PathBuf;

use clap::Args;
use trainer::TrainerError;

use crate::decode_args::{DecodeArgs, decoding, ensemble_suffix, load_runs};
use crate::report::print_scores;

/// `eval`'s arguments.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Which split: valid or test.
    #[arg(long, default_value = "test", value_parser = ["valid", "test"])]
    split: String,
    /// Score this file instead of a split, in the run's task format: g2p, a CMUdict-format
    /// lexicon; translate, the stem of parallel files (`DIR/STEM` for DIR/STEM.SRC and
    /// DIR/STEM.TGT, plain or .gz); dates, lines `INPUT<TAB>OUTPUT`.
    #[arg(long, value_name = "FILE", conflicts_with = "split")]
    data: Option<PathBuf>,
    /// Where the evaluation JSON goes (default: RUN/eval-SPLIT.json, or with --data
    /// RUN/eval-data-NAME.json; for an ensemble of N runs, in the first run, with
    /// `-ensemble-N` before `.json`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Keep only the first N items' predictions in the JSON (default: every item); the scores
    /// always cover the whole split.
    #[arg(long, value_name = "N")]
    examples: Option<usize>,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Runs `eval` with its arguments.
pub fn run(args: EvalArgs) -> Result<(), TrainerError> {
    let trained = load_runs(&args.decode)?;
    let options = decoding(&trained, &args.decode)?;
    let (mut evaluation, name) = match &args.data {
        Some(file) => {
            let name = file
                .file_name()
                .map_or("data".into(), |n| n.to_string_lossy());
            (
                trained.evaluate_file(file, &options)?,
                format!("data-{name}"),
            )
        }
        None => (trained.evaluate(&args.split, &options)?, args.split.clone()),
    };
    if let Some(n) = args.examples {
        evaluation.examples.truncate(n);
    }
    let path = args.out.unwrap_or_else(|| {
        trained.runs()[0].join(format!("eval-{name}{}.json", ensemble_suffix(&trained)))
    });
    evaluation.save(&path)?;
    print_scores(&evaluation);
    println!("wrote {}", path.display());
    Ok(())
}
