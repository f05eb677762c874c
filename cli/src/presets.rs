//! Named training recipes: `cargo xtask train --preset NAME` is the same as writing the
//! preset's flags first; flags the user writes after them win.

/// A named set of `train` flags.
pub struct Preset {
    /// The name `--preset` takes.
    pub name: &'static str,
    /// What it trains, for `--help`.
    pub about: &'static str,
    /// The preset whose flags come first, so that this one only says how it differs.
    pub base: Option<&'static str>,
    /// The flags, as on the command line (after the base's, so they win).
    pub flags: &'static [&'static str],
}

impl Preset {
    /// The preset called `name`, if there is one.
    pub fn named(name: &str) -> Option<&'static Preset> {
        PRESETS.iter().find(|p| p.name == name)
    }

    /// Every flag the preset stands for: its base's, then its own.
    pub fn all_flags(&self) -> Vec<&'static str> {
        let mut flags = self
            .base
            .and_then(Preset::named)
            .map(Preset::all_flags)
            .unwrap_or_default();
        flags.extend_from_slice(self.flags);
        flags
    }
}

/// Every preset. Results of each are in `docs/results.md`.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "g2p-cmudict",
        about: "CMUdict grapheme-to-phoneme (g014b2b): bidirectional LSTM encoder 256 per direction, LSTM 256 \
                decoder, additive attention 128, dropout 0.3 (also on the letters), 30 epochs, beam 5 on test",
        base: None,
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
        name: "g2p-cmudict-quick",
        about: "g2p-cmudict with dropout 0.1 (none on the letters) on 2 threads: its development WER passes \
                Phonetisaurus's 24.48 in about half an hour on 2 cores (docs/results.md)",
        base: Some("g2p-cmudict"),
        flags: &[
            "--dropout",
            "0.1",
            "--source-dropout",
            "0",
            "--threads",
            "2",
        ],
    },
    Preset {
        name: "g2p-cmudict-stress",
        about: "The shipped G2P recipe (g2p-cmudict-quick with a 2-layer encoder and label smoothing 0.1) \
                keeping stress digits: train it on g014b2b-stress.train (`cargo xtask data cmudict-stress`)",
        base: Some("g2p-cmudict-quick"),
        flags: &[
            "--label-smoothing",
            "0.1",
            "--encoder-layers",
            "2",
            "--stress",
        ],
    },
    Preset {
        name: "multi30k-de-en",
        about: "Multi30k German->English: a joint BPE vocabulary of 4000 pieces, 2-layer bidirectional GRU \
                encoder 256 per direction, GRU 512 decoder, additive attention 256, embeddings 256, dropout 0.5, \
                label smoothing 0.1, up to 20 epochs on two threads, beam 5 on test",
        base: None,
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
            "20",
            "--beam",
            "5",
            "--vocabulary",
            "bpe:4000",
            "--label-smoothing",
            "0.1",
            "--encoder-layers",
            "2",
            "--keep-checkpoints",
            "5",
            "--threads",
            "2",
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
    #[command(args_override_self = true)]
    struct Train {
        #[command(flatten)]
        args: crate::train_args::TrainArgs,
    }
    let preset = Preset::named(name)
        .ok_or_else(|| trainer::TrainerError::invalid("preset", name, "no such preset"))?;
    // The data path only has to be there: nothing is read.
    let flags = preset.all_flags();
    let args = ["train"].iter().chain(&flags).chain(&["--data", "-"]);
    let parsed = <Train as clap::Parser>::try_parse_from(args)
        .map_err(|e| trainer::TrainerError::invalid("preset", name, e.to_string()))?;
    parsed.args.run_config()
}

/// `args` (a whole command line, program name first) with preset `name`'s flags inserted right
/// after the `train` subcommand, so that the user's own flags, coming later, override them.
/// `None` for an unknown name or a command line without `train`.
pub fn expand(args: &[std::ffi::OsString], name: &str) -> Option<Vec<std::ffi::OsString>> {
    let preset = Preset::named(name)?;
    let at = args.iter().skip(1).position(|a| a == "train")? + 2;
    let mut out = args[..at].to_vec();
    out.extend(preset.all_flags().into_iter().map(std::ffi::OsString::from));
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
        assert!(PRESETS[0].base.is_none());
        let n = flags.len();
        assert_eq!(out[..2], args[..2]);
        assert_eq!(out[2..2 + n], flags[..]);
        assert_eq!(out[2 + n..], args[2..]);
        assert!(expand(&args, "no-such-preset").is_none());
    }

    #[test]
    fn every_base_is_a_preset_and_every_preset_parses() {
        for preset in PRESETS {
            if let Some(base) = preset.base {
                assert!(
                    Preset::named(base).is_some(),
                    "{}: base {base}",
                    preset.name
                );
            }
            run_config(preset.name).unwrap();
        }
    }

    #[test]
    fn the_quick_g2p_preset_is_the_g2p_preset_with_less_dropout_on_two_threads() {
        let full = run_config("g2p-cmudict").unwrap();
        let mut quick = run_config("g2p-cmudict-quick").unwrap();
        assert_eq!(
            (
                quick.model.dropout,
                quick.model.source_dropout,
                quick.training.threads
            ),
            (0.1, 0.0, 2)
        );
        quick.model.dropout = full.model.dropout;
        quick.model.source_dropout = full.model.source_dropout;
        quick.training.threads = full.training.threads;
        assert_eq!(quick, full);
    }
}
