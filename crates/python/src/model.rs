//! `Model`: a loaded run (or ensemble) as a Python object; `Attention`: one input's weights.

use std::ffi::CString;

use inference::{DecodingOptions, InferenceError, InputError, Prediction, TextPrediction};
use pyo3::exceptions::{PyImportError, PyUserWarning};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use runtime::Loaded;

use crate::errors::to_py;

/// A trained run (or an ensemble of runs), ready to predict.
///
/// Made by `seq2seq_attention.load(path)` or `seq2seq_attention.G2p()`. Calls decode on every
/// core with the GIL released, so one model can be shared by several Python threads. Inputs
/// are normalised as the run's task reads them (G2P words trimmed and lower-cased; sentences
/// cut into the run's subword pieces). An input the model reads only in part (unknown
/// characters, a length beyond any training source, an output cut at the length limit) gives a
/// `UserWarning` naming it; an empty input, or one longer than the input limit (4 × the longest
/// training source unless `load(…, max_input_tokens=N)` says otherwise), raises `ValueError`.
#[pyclass(frozen, module = "seq2seq_attention")]
pub struct Model {
    loaded: Loaded,
}

/// One input's attention: `weights[i, j]` is how much output step `i` attended to input token
/// `j` (rows sum to 1; the last row is the step that produced `<eos>`).
#[pyclass(frozen, get_all, module = "seq2seq_attention")]
pub struct Attention {
    /// The weights, a NumPy float32 array of shape (len(outputs), len(inputs)).
    weights: Py<PyAny>,
    /// The input tokens the model read (letters, or subword pieces), one per column.
    inputs: Vec<String>,
    /// The output tokens, one per row, ending with `<eos>` when the output was finished.
    outputs: Vec<String>,
    /// The output as text.
    output: String,
}

impl Model {
    /// The Python object of a loaded run.
    pub fn new(loaded: Loaded) -> Self {
        Self { loaded }
    }

    /// The run's decoding options, at beam width `beam` if given.
    fn options(&self, beam: Option<usize>) -> DecodingOptions {
        let mut options = self.loaded.config.decoding.clone();
        if let Some(beam) = beam {
            options.beam = beam;
        }
        options
    }

    /// The predictions of `texts` (GIL released while decoding), each input's warnings issued as
    /// `UserWarning`s; the first input that cannot be predicted raises `ValueError`.
    fn decode(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        beam: Option<usize>,
        nbest: usize,
    ) -> PyResult<Vec<Prediction>> {
        let options = self.options(beam);
        let results = py
            .detach(|| self.loaded.predict_each(&texts, &options, nbest))
            .map_err(to_py)?;
        checked(py, results, |p: &Prediction| {
            let input = &p.input;
            p.warnings
                .iter()
                .map(|w| format!("{input:?}: {w}"))
                .collect()
        })
    }
}

#[pymethods]
impl Model {
    /// model(text, *, beam=None) -> str
    ///
    /// The output for one input (a word for G2P, a sentence for translation), at the run's
    /// beam width unless `beam` is given (1 is greedy search).
    #[pyo3(signature = (text, /, *, beam = None))]
    fn __call__(&self, py: Python<'_>, text: String, beam: Option<usize>) -> PyResult<String> {
        let mut predictions = self.decode(py, vec![text], beam, 1)?;
        Ok(predictions.swap_remove(0).output)
    }

    /// predict(texts, *, beam=None, nbest=1) -> list[str] | list[list[tuple[str, float]]]
    ///
    /// The outputs of a list of inputs, in order, decoded together on every core. With
    /// `nbest=N` (N at most the beam width) each input gets its N best hypotheses, best first,
    /// as (output, log-probability) pairs.
    #[pyo3(signature = (texts, *, beam = None, nbest = 1))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<String>,
        beam: Option<usize>,
        nbest: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let predictions = self.decode(py, texts, beam, nbest)?;
        if nbest == 1 {
            let outputs = predictions.into_iter().map(|p| p.output);
            return PyList::new(py, outputs);
        }
        let lists = predictions.into_iter().map(|p| {
            p.n_best
                .into_iter()
                .map(|h| (h.output, h.log_prob))
                .collect::<Vec<_>>()
        });
        PyList::new(py, lists)
    }

    /// predict_text(lines, *, beam=None) -> list[list[tuple[str, str | None]]]
    ///
    /// G2P runs: each line of running text ("Hello, world! It's 2026.") as its tokens in order,
    /// each `(word, pronunciation)`, or `(mark, None)` for punctuation kept as it is; numbers
    /// are spelled out as words first (`2026` → twenty, twenty, six), and a lexicon is looked up
    /// before the model.
    #[pyo3(signature = (lines, *, beam = None))]
    fn predict_text<'py>(
        &self,
        py: Python<'py>,
        lines: Vec<String>,
        beam: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        if self.loaded.config.task.kind != inference::TaskKind::G2p {
            return Err(to_py(InferenceError::invalid(
                "predict_text",
                self.task(),
                "reads running text for a g2p run",
            )));
        }
        let options = self.options(beam);
        let results = py
            .detach(|| self.loaded.predict_text(&lines, &options))
            .map_err(to_py)?;
        let predictions = checked(py, results, |p: &TextPrediction| p.warnings.clone())?;
        let lines = predictions.into_iter().map(|p| {
            p.tokens
                .into_iter()
                .map(|t| (t.text, t.pronunciation))
                .collect::<Vec<_>>()
        });
        PyList::new(py, lines)
    }

    /// attention(text, *, beam=None) -> Attention
    ///
    /// The attention weights of `text`'s output as a NumPy array (outputs × inputs, rows summing
    /// to 1) with the input and output tokens. Needs NumPy.
    #[pyo3(signature = (text, /, *, beam = None))]
    fn attention(&self, py: Python<'_>, text: String, beam: Option<usize>) -> PyResult<Attention> {
        let numpy = py.import("numpy").map_err(|e| {
            PyImportError::new_err(format!(
                "Model.attention returns a NumPy array, and NumPy could not be imported ({e}): pip install numpy"
            ))
        })?;
        let prediction = self.decode(py, vec![text], beam, 1)?.swap_remove(0);
        if prediction.weights.is_empty() {
            return Err(to_py(InferenceError::invalid(
                "attention",
                self.task(),
                "this model has no attention (the no-attention baseline): there are no weights",
            )));
        }
        let keywords = PyDict::new(py);
        keywords.set_item("dtype", "float32")?;
        let weights = numpy.call_method("array", (&prediction.weights,), Some(&keywords))?;
        Ok(Attention {
            weights: weights.unbind(),
            outputs: prediction.weight_rows(),
            inputs: prediction.source_tokens,
            output: prediction.output,
        })
    }

    /// The run's task: "g2p", "translate" or "dates".
    #[getter]
    fn task(&self) -> &'static str {
        self.loaded.config.task.kind.name()
    }

    /// The run directories (several for an ensemble).
    #[getter]
    fn runs(&self) -> Vec<String> {
        self.loaded
            .runs()
            .iter()
            .map(|r| r.display().to_string())
            .collect()
    }

    /// The beam width decoding uses unless a call gives one (the run's).
    #[getter]
    fn beam(&self) -> usize {
        self.loaded.config.decoding.beam
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<seq2seq_attention.Model task={} runs={} beam={}>",
            self.task().into_pyobject(py)?.repr()?,
            PyList::new(py, self.runs())?.repr()?,
            self.beam()
        ))
    }
}

/// Each input's result, its warnings (`warnings` of it) issued as `UserWarning`s named `input
/// N`; the first input that cannot be predicted raises its error, named the same way.
fn checked<T>(
    py: Python<'_>,
    results: Vec<Result<T, InputError>>,
    warnings: impl Fn(&T) -> Vec<String>,
) -> PyResult<Vec<T>> {
    let mut out = Vec::with_capacity(results.len());
    for (i, result) in results.into_iter().enumerate() {
        let label = format!("input {}", i + 1);
        let value = result.map_err(|source| {
            to_py(InferenceError::Input {
                label: label.clone(),
                source,
            })
        })?;
        for warning in warnings(&value) {
            warn(py, &format!("{label} {warning}"))?;
        }
        out.push(value);
    }
    Ok(out)
}

/// Issues `message` as a Python `UserWarning` from the caller's line.
fn warn(py: Python<'_>, message: &str) -> PyResult<()> {
    let message =
        CString::new(message.replace('\0', "\\0")).expect("no NUL byte is left in the message");
    PyErr::warn(py, &py.get_type::<PyUserWarning>(), &message, 2)
}

#[pymethods]
impl Attention {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<seq2seq_attention.Attention {} outputs x {} inputs, output={}>",
            self.outputs.len(),
            self.inputs.len(),
            self.output.as_str().into_pyobject(py)?.repr()?
        ))
    }
}
