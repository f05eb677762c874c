//! `average`: a run's last K epochs averaged, parameter by parameter, into a new run.

use std::path::PathBuf;

use clap::Args;
use trainer::TrainerError;

/// `average`'s arguments.
#[derive(Args, Debug)]
pub struct AverageArgs {
    /// The run whose checkpoints to average.
    #[arg(long)]
    run: PathBuf,
    /// How many of the newest end-of-epoch checkpoints (train with --keep-checkpoints K or
    /// more to have K).
    #[arg(long, default_value_t = 5, value_name = "K")]
    last: usize,
    /// The new run directory (must not hold a run).
    #[arg(long)]
    out: PathBuf,
}

/// Runs `average` with its arguments.
pub fn run(args: AverageArgs) -> Result<(), TrainerError> {
    let averaged = trainer::average_checkpoints(&args.run, args.last, &args.out)?;
    let epochs: Vec<String> = averaged.epochs.iter().map(ToString::to_string).collect();
    println!(
        "averaged epochs {} of {} into {}",
        epochs.join(", "),
        args.run.display(),
        args.out.display()
    );
    Ok(())
}
