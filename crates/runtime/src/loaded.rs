//! A run directory (or several, an ensemble) read from disk, predicting on every core.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use inference::{
    Backend, DecodingOptions, InferenceError, InputError, Prediction, Predictor, RunConfig,
    RunFiles, TOKENIZER_FILE, TextPrediction,
};

use crate::parallel_decode::{cores, decode_n_best};
use crate::{Result, RuntimeError};

/// A run loaded for inference: the [`Predictor`] of its directory's files (its fields and
/// methods are `Loaded`'s through `Deref`), decoding on every core. Several runs with one
/// vocabulary load as an ensemble ([`Loaded::load_all`]).
#[derive(Debug)]
pub struct Loaded {
    predictor: Predictor,
    /// The run directories, the first run's first.
    runs: Vec<PathBuf>,
}

impl Deref for Loaded {
    type Target = Predictor;

    fn deref(&self) -> &Predictor {
        &self.predictor
    }
}

/// Settings such as [`Predictor::set_input_limit`].
impl DerefMut for Loaded {
    fn deref_mut(&mut self) -> &mut Predictor {
        &mut self.predictor
    }
}

impl Loaded {
    /// Loads the model of the run in `dir` onto `backend` (default: the run's own backend if
    /// compiled in, else the first compiled one).
    ///
    /// # Errors
    ///
    /// No such directory; missing or malformed `config.json`, vocabularies or `model.bpk`
    /// (each error names its file); a config from a newer version; weights that do not fit
    /// the configuration or vocabularies; a backend that is not compiled in.
    pub fn load(dir: &Path, backend: Option<Backend>) -> Result<Self> {
        Self::load_all(&[dir.to_path_buf()], backend)
    }

    /// Loads the runs in `dirs` as one ensemble (see [`Predictor::join`]): the first run's
    /// configuration, decoding options and backend (`backend`, as for [`Loaded::load`]), every
    /// run's model.
    ///
    /// # Errors
    ///
    /// As [`Loaded::load`] for each run; no runs; a run named twice; a run whose task or
    /// vocabularies are not the first one's.
    pub fn load_all(dirs: &[PathBuf], backend: Option<Backend>) -> Result<Self> {
        let Some((first, others)) = dirs.split_first() else {
            return Err(InferenceError::invalid(
                "run",
                "(none)",
                "name at least one run directory",
            )
            .into());
        };
        for (k, dir) in dirs.iter().enumerate() {
            let same = |other: &PathBuf| {
                other == dir
                    || matches!((other.canonicalize(), dir.canonicalize()), (Ok(a), Ok(b)) if a == b)
            };
            if dirs[..k].iter().any(same) {
                return Err(InferenceError::invalid(
                    "run",
                    dir.display(),
                    "is named twice: an ensemble of a model with itself decodes as the model alone",
                )
                .into());
            }
        }
        let (mut predictor, backend) = load_predictor(first, backend)?;
        for dir in others {
            let (other, _) = load_predictor(dir, Some(backend))?;
            predictor = predictor.join(other, dir)?;
        }
        Ok(Self {
            predictor,
            runs: dirs.to_vec(),
        })
    }

    /// A run already in memory (e.g. built from files compiled into the program), known by
    /// the name `run`.
    pub fn from_predictor(predictor: Predictor, run: PathBuf) -> Self {
        Self {
            predictor,
            runs: vec![run],
        }
    }

    /// The run directories, the first run's first (several for an ensemble).
    pub fn runs(&self) -> &[PathBuf] {
        &self.runs
    }

    /// Predicts each input, the first input that cannot be predicted being an error (see
    /// [`Loaded::predict_each`] to keep going past it).
    ///
    /// # Errors
    ///
    /// [`InferenceError::Input`] naming the first input that cannot be predicted (`input N`,
    /// 1-based: empty, or over the input limit); decoding errors.
    pub fn predict(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
    ) -> Result<Vec<Prediction>> {
        self.predict_each(inputs, decoding, 1)?
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                p.map_err(|source| {
                    InferenceError::Input {
                        label: format!("input {}", i + 1),
                        source,
                    }
                    .into()
                })
            })
            .collect()
    }

    /// [`Predictor::predict_text_with`] (running text, a G2P run), decoding on every core.
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_each`].
    pub fn predict_text(
        &self,
        lines: &[String],
        decoding: &DecodingOptions,
    ) -> Result<Vec<std::result::Result<TextPrediction, InputError>>> {
        self.predictor
            .predict_text_with(lines, decoding, |sources| {
                decode_n_best(&self.models, sources, decoding, 1, &self.device, cores())
            })
    }

    /// [`Predictor::predict_each`], decoding on every core the process may use ([`cores`]);
    /// the outputs do not depend on how many.
    ///
    /// # Errors
    ///
    /// As [`Predictor::predict_each`].
    pub fn predict_each(
        &self,
        inputs: &[String],
        decoding: &DecodingOptions,
        n_best: usize,
    ) -> Result<Vec<std::result::Result<Prediction, InputError>>> {
        self.predictor
            .predict_each_with(inputs, decoding, n_best, |sources| {
                decode_n_best(
                    &self.models,
                    sources,
                    decoding,
                    n_best,
                    &self.device,
                    cores(),
                )
            })
    }
}

/// The [`Predictor`] of the run in `dir` on `backend` (default: the run's own if compiled in,
/// else the first compiled one), and that backend.
fn load_predictor(dir: &Path, backend: Option<Backend>) -> Result<(Predictor, Backend)> {
    if !dir.is_dir() {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such run directory");
        return Err(RuntimeError::io(dir, missing));
    }
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| RuntimeError::io(path, e))
    };
    let config = read("config.json")?;
    let config_parsed = RunConfig::parse(&dir.join("config.json"), &config)?;
    let backend = match backend {
        Some(backend) => backend,
        None if config_parsed.backend.is_compiled() => config_parsed.backend,
        None => Backend::default_compiled()
            .ok_or(InferenceError::BackendNotCompiled { name: "flex" })?,
    };
    let (source_vocab, target_vocab) = (read("source_vocab.json")?, read("target_vocab.json")?);
    let model = read("model.bpk")?;
    let (tokenizer, manifest) = (
        read_if_present(&dir.join(TOKENIZER_FILE))?,
        read_if_present(&dir.join("manifest.json"))?,
    );
    let files = RunFiles {
        config: &config,
        source_vocab: &source_vocab,
        target_vocab: &target_vocab,
        model: &model,
        tokenizer: tokenizer.as_deref(),
        manifest: manifest.as_deref(),
    };
    let predictor = Predictor::from_files(dir, files, backend.device()?)?;
    Ok((predictor, backend))
}

/// The bytes of the file at `path`, or `None` if there is no such file.
fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RuntimeError::io(path, e)),
    }
}
