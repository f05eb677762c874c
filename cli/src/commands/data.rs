//! `data`: a public data set downloaded, every file's SHA-256 checked.

use std::path::PathBuf;

use clap::Args;
use trainer::TrainerError;

/// `data`'s arguments.
#[derive(Args, Debug)]
pub struct DataArgs {
    /// The data set: `cmudict` (the g014b2b G2P split), `cmudict-full` (today's whole CMUdict,
    /// with stress: a lexicon for `--lexicon`), `cmudict-stress` (g014b2b's words with today's
    /// stressed pronunciations, built from the two), `multi30k` (German–English).
    #[arg(value_parser = ["cmudict", "cmudict-full", "cmudict-stress", "multi30k"])]
    set: String,
    /// Directory to put the files in.
    #[arg(long)]
    out: PathBuf,
    /// Fetch from this address instead of the upstream repository (a mirror holding the files
    /// by name).
    #[arg(long)]
    base_url: Option<String>,
}

/// Runs `data` with its arguments.
pub fn run(args: DataArgs) -> Result<(), TrainerError> {
    let base_url = args.base_url.as_deref();
    let written = match args.set.as_str() {
        "cmudict-full" => vec![trainer::fetch_dictionary(&args.out, base_url)?],
        "cmudict-stress" => trainer::build_stressed_split(&args.out, base_url)?,
        name => trainer::download(&trainer::data_set(name)?, &args.out, base_url)?,
    };
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}
