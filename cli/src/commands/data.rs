//! `data`: a public data set downloaded, every file's SHA-256 checked.

use std::path::PathBuf;

use clap::Args;
use trainer::TrainerError;

/// `data`'s arguments.
#[derive(Args, Debug)]
pub struct DataArgs {
    /// The data set.
    #[arg(value_parser = ["cmudict", "multi30k"])]
    set: String,
    /// Directory to put the files in.
    #[arg(long)]
    out: PathBuf,
    /// Fetch from this address instead of the upstream repository (a mirror).
    #[arg(long)]
    base_url: Option<String>,
}

/// Runs `data` with its arguments.
pub fn run(args: DataArgs) -> Result<(), TrainerError> {
    let set = trainer::data_set(&args.set)?;
    for path in trainer::download(&set, &args.out, args.base_url.as_deref())? {
        println!("{}", path.display());
    }
    Ok(())
}
