//! Named training recipes: `cargo xtask train --preset NAME` is the same as writing the
//! preset's flags first; flags the user writes after them win.

/// A named set of `train` flags.
pub struct Preset {
    /// The name `--preset` takes.
    pub name: &'static str,
    /// What it trains, for `--help`.
    pub about: &'static str,
    /// The flags, as on the command line.
    pub flags: &'static [&'static str],
}

/// Every preset. Results of each are in `docs/results.md`.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "g2p-cmudict",
        about: "CMUdict grapheme-to-phoneme (g014b2b): bidirectional LSTM encoder 256 per direction, LSTM 256 \
                decoder, additive attention 128, dropout 0.3 (also on the letters), 30 epochs, beam 5 on test",
        flags: &[
            "--task",
            "g2p",
            "--cell",
            "lstm",
            "--embedding",
            "64",
            "--encoder-hidden",
            "256",
            "--decoder-hidden",
            "256",
            "--attention-size",
            "128",
            "--dropout",
            "0.3",
            "--source-dropout",
            "0.3",
            "--epochs",
            "30",
            "--beam",
            "5",
        ],
    },
    Preset {
        name: "multi30k-de-en",
        about: "Multi30k German->English: bidirectional GRU encoder 256 per direction, GRU 512 decoder, additive \
                attention 256, embeddings 256, dropout 0.5, beam 5 on test",
        flags: &[
            "--task",
            "translate",
            "--languages",
            "de,en",
            "--embedding",
            "256",
            "--encoder-hidden",
            "256",
            "--decoder-hidden",
            "512",
            "--attention-size",
            "256",
            "--dropout",
            "0.5",
            "--batch-size",
            "128",
            "--learning-rate",
            "1e-3",
            "--epochs",
            "10",
            "--beam",
            "5",
        ],
    },
];

/// The values `--preset` accepts, each with its description for `--help`.
pub fn parser() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        PRESETS
            .iter()
            .map(|p| clap::builder::PossibleValue::new(p.name).help(p.about)),
    )
}

/// The run configuration preset `name` makes with no other flag (`train --preset NAME
/// --print-config`), for the benchmark that races the preset's model.
///
/// # Errors
///
/// An unknown preset; the configuration's own checks.
pub fn run_config(name: &str) -> Result<trainer::RunConfig, trainer::TrainerError> {
    #[derive(clap::Parser)]
    struct Train {
        #[command(flatten)]
        args: crate::train_args::TrainArgs,
    }
    let preset = PRESETS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| trainer::TrainerError::invalid("preset", name, "no such preset"))?;
    // The data path only has to be there: nothing is read.
    let args = ["train"].iter().chain(preset.flags).chain(&["--data", "-"]);
    let parsed = <Train as clap::Parser>::try_parse_from(args)
        .map_err(|e| trainer::TrainerError::invalid("preset", name, e.to_string()))?;
    parsed.args.run_config()
}

/// `args` (a whole command line, program name first) with preset `name`'s flags inserted right
/// after the `train` subcommand, so that the user's own flags, coming later, override them.
/// `None` for an unknown name or a command line without `train`.
pub fn expand(args: &[std::ffi::OsString], name: &str) -> Option<Vec<std::ffi::OsString>> {
    let preset = PRESETS.iter().find(|p| p.name == name)?;
    let at = args.iter().skip(1).position(|a| a == "train")? + 2;
    let mut out = args[..at].to_vec();
    out.extend(preset.flags.iter().map(std::ffi::OsString::from));
    out.extend_from_slice(&args[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preset_flags_come_before_the_users_own() {
        let args: Vec<std::ffi::OsString> =
            ["xtask", "train", "--preset", "g2p-cmudict", "--epochs", "2"]
                .into_iter()
                .map(Into::into)
                .collect();
        let out = expand(&args, "g2p-cmudict").unwrap();
        let flags: Vec<std::ffi::OsString> = PRESETS[0].flags.iter().map(Into::into).collect();
        let n = flags.len();
        assert_eq!(out[..2], args[..2]);
        assert_eq!(out[2..2 + n], flags[..]);
        assert_eq!(out[2 + n..], args[2..]);
        assert!(expand(&args, "no-such-preset").is_none());
    }
}
