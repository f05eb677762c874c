//! The runs and decoding flags that `eval`, `predict` and `plot` share, and the runs they load.

use std::path::PathBuf;

use clap::Args;
use trainer::{Backend, DecodingOptions, Trained, TrainerError};

use crate::train_args::backends;

/// The runs and decoding flags shared by `eval`, `predict` and `plot`.
#[derive(Args, Debug)]
pub struct DecodeArgs {
    /// The run directory. Given several times (`--run A --run B …`, runs with one vocabulary)
    /// the runs decode as an ensemble, on their models' mean log-probabilities; attention
    /// pictures then show the models' mean weights, and options default to the first run's.
    #[arg(long = "run", value_name = "DIR", required = true)]
    pub(crate) runs: Vec<PathBuf>,
    /// Beam width, 1 (greedy) to 64 (default: the run's).
    #[arg(long)]
    beam: Option<usize>,
    /// GNMT length penalty α for beam search (default: the run's).
    #[arg(long)]
    length_penalty: Option<f32>,
    /// Backend to run on (default: the run's, if compiled in).
    #[arg(long, value_parser = backends())]
    pub(crate) device: Option<Backend>,
    /// Refuse inputs of more than N tokens (letters, or subword pieces), each with a warning
    /// naming it (default: 4 × the run's longest training source; 1024 for a run that does not
    /// record it).
    #[arg(long, value_name = "N")]
    pub(crate) max_input_tokens: Option<usize>,
    /// G2P: a pronunciation lexicon in CMUdict form (`WORD PH PH …`, `WORD(2) …`); a word it
    /// lists gets its listed pronunciations (all of them, first, with --nbest) and only the
    /// others go to the model. Repeatable (earlier files' pronunciations first).
    #[arg(long, value_name = "FILE")]
    pub(crate) lexicon: Vec<PathBuf>,
}

/// The run's decoding options with the flags' changes (the library checks them).
pub(crate) fn decoding(
    trained: &Trained,
    args: &DecodeArgs,
) -> Result<DecodingOptions, TrainerError> {
    let mut options = trained.config.decoding.clone();
    if let Some(beam) = args.beam {
        options.beam = beam;
    }
    if let Some(alpha) = args.length_penalty {
        options.length_penalty = alpha;
    }
    Ok(options)
}

/// The runs of `args` loaded (an ensemble for several).
pub(crate) fn load_runs(args: &DecodeArgs) -> Result<Trained, TrainerError> {
    let mut trained = Trained::load_all(&args.runs, args.device)?;
    if let Some(limit) = args.max_input_tokens {
        trained.set_input_limit(limit)?;
    }
    if let Some(lexicon) = trainer::read_lexicons(&args.lexicon)? {
        eprintln!("lexicon: {} words listed", lexicon.len());
        trained.set_lexicon(Some(lexicon))?;
    }
    if args.runs.len() > 1 {
        eprintln!(
            "an ensemble of {} runs: {}",
            args.runs.len(),
            args.runs
                .iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(trained)
}

/// What names an output of several runs apart from the first run's own: `-ensemble-N`, or
/// nothing for one run.
pub(crate) fn ensemble_suffix(trained: &Trained) -> String {
    match trained.runs().len() {
        1 => String::new(),
        n => format!("-ensemble-{n}"),
    }
}
