//! `plot`: one prediction's attention drawn (heatmap PNG and SVG, decoding GIF, weights JSON).

use std::path::PathBuf;

use clap::Args;
use trainer::{TrainerError, write_attention_pictures};

use crate::decode_args::{DecodeArgs, decoding, ensemble_suffix, load_runs};

/// `plot`'s arguments.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The input to decode and draw.
    text: String,
    /// Where the pictures go (default: RUN/plots, of the first run).
    #[arg(long)]
    out: Option<PathBuf>,
    /// File name stem of the pictures (default: `attention`, for an ensemble of N runs
    /// `attention-ensemble-N`).
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Runs `plot` with its arguments.
pub fn run(args: PlotArgs) -> Result<(), TrainerError> {
    let mut trained = load_runs(&args.decode)?;
    let options = decoding(&trained, &args.decode)?;
    // A listed word has no attention of its own: draw the model's, and say what the lexicon says.
    if let Some(listed) = trained.lexicon_entry(&args.text) {
        println!(
            "{:?} is in the lexicon ({}); the pictures show the model's own prediction",
            args.text,
            listed.join(" | ")
        );
        trained.set_lexicon(None)?;
    }
    let prediction = trained
        .predict(std::slice::from_ref(&args.text), &options)?
        .remove(0);
    let dir = args.out.unwrap_or_else(|| trained.runs()[0].join("plots"));
    let name = args
        .name
        .unwrap_or_else(|| format!("attention{}", ensemble_suffix(&trained)));
    let files = write_attention_pictures(&prediction, &dir, &name)?;
    if trained.runs().len() > 1 {
        println!(
            "attention: the mean of the {} models' weights",
            trained.runs().len()
        );
    }
    println!("{:?} -> {:?}", prediction.input, prediction.output);
    for path in [&files.png, &files.svg, &files.gif, &files.json] {
        println!("{}", path.display());
    }
    Ok(())
}
