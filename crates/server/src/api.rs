//! The JSON bodies of requests and answers.

use serde::{Deserialize, Serialize};

/// `POST /v1/models/{name}/predict`'s body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// The inputs (words, sentences), predicted in order.
    pub inputs: Vec<String>,
    /// Beam width (default: the run's).
    #[serde(default)]
    pub beam: Option<usize>,
    /// How many best hypotheses each prediction lists (default 1: none listed).
    #[serde(default)]
    pub nbest: Option<usize>,
    /// Whether each prediction carries its attention weights.
    #[serde(default)]
    pub attention: bool,
}

/// The answer to a predict request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictResponse {
    /// The model's name.
    pub model: String,
    /// One prediction per input, in order.
    pub predictions: Vec<Prediction>,
}

/// One input's prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The input as given.
    pub input: String,
    /// The output as text.
    pub output: String,
    /// Its log-probability.
    pub log_prob: f32,
    /// Whether it ended with `<eos>` (rather than at the length limit).
    pub finished: bool,
    /// What the caller should know (unknown characters, a length beyond any training source,
    /// an output cut at the length limit).
    pub warnings: Vec<String>,
    /// With `nbest` > 1: the best hypotheses, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub n_best: Vec<Alternative>,
    /// `model`, or `lexicon` for a word the server's lexicon lists.
    pub origin: inference::Origin,
    /// With `attention`: the weights and their tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<AttentionWeights>,
}

/// One of the n best hypotheses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// The output as text.
    pub output: String,
    /// Its log-probability.
    pub log_prob: f32,
    /// Its ranking score (the log-probability over the length penalty).
    pub score: f32,
}

/// A prediction's attention: `weights[i][j]` of output row `i` on input token `j`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentionWeights {
    /// The input tokens read, one per column.
    pub inputs: Vec<String>,
    /// The output tokens, one per row (ending with `<eos>` when finished).
    pub outputs: Vec<String>,
    /// The weights; each row sums to 1.
    pub weights: Vec<Vec<f32>>,
}

/// One served model, as `GET /v1/models` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Its name in the URL.
    pub name: String,
    /// Its task (`g2p`, `translate`, `dates`).
    pub task: String,
    /// Its run directories (several for an ensemble).
    pub runs: Vec<String>,
    /// The beam width used unless a request gives one.
    pub beam: usize,
    /// The most tokens an input may have.
    pub input_limit: usize,
}

impl Prediction {
    /// The answer for one of the library's predictions.
    pub fn new(prediction: inference::Prediction, attention: bool) -> Self {
        let weights = attention.then(|| AttentionWeights {
            outputs: prediction.weight_rows(),
            inputs: prediction.source_tokens.clone(),
            weights: prediction.weights.clone(),
        });
        Self {
            origin: prediction.origin,
            input: prediction.input,
            output: prediction.output,
            log_prob: prediction.log_prob,
            finished: prediction.finished,
            warnings: prediction.warnings,
            n_best: prediction
                .n_best
                .into_iter()
                .map(|h| Alternative {
                    output: h.output,
                    log_prob: h.log_prob,
                    score: h.score,
                })
                .collect(),
            attention: weights,
        }
    }
}
