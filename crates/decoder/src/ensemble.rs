//! Several models with one target vocabulary decoding as one: at every step the search ranks
//! tokens by the mean of the models' log-probabilities.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use encoder::EncoderOutput;

use crate::decoder::index_tensor;
use crate::greedy::host_rows;
use crate::{
    BeamOptions, Decoder, DecoderError, DecoderState, Hypothesis, SearchOptions, Seq2Seq,
    SourceMemory, beam_search, greedy,
};

/// Models trained apart (other seeds, other sizes) that share source and target vocabularies,
/// decoding together. At output step `i` each model `m` reads the same previous token and its
/// own state and source memory; the search ranks the next token by
///
/// ```text
/// log p(y_i = w) = (1/M) Σ_m log p_m(y_i = w | y_<i, x)
/// ```
///
/// and the hypotheses' attention weights are the models' mean `α_ij = (1/M) Σ_m α^m_ij` (still a
/// distribution over the source; the baseline members, which have none, are left out).
#[derive(Debug, Clone)]
pub struct Ensemble {
    members: Vec<Seq2Seq>,
}

impl From<Seq2Seq> for Ensemble {
    /// An ensemble of one: decodes exactly as the model does alone.
    fn from(model: Seq2Seq) -> Self {
        Self {
            members: vec![model],
        }
    }
}

impl Ensemble {
    /// The models, in order (the first is the one whose options a caller reports).
    ///
    /// # Errors
    ///
    /// [`DecoderError::Ensemble`] for no models, or for models whose vocabularies differ in
    /// size (their outputs cannot be averaged).
    pub fn new(members: Vec<Seq2Seq>) -> Result<Self, DecoderError> {
        let Some(first) = members.first() else {
            return Err(DecoderError::Ensemble {
                why: "an ensemble needs at least one model".into(),
            });
        };
        let sizes = |m: &Seq2Seq| {
            (
                m.encoder.embedding.weight.val().dims()[0],
                m.decoder.config.vocab_size,
            )
        };
        if let Some((i, other)) = members
            .iter()
            .enumerate()
            .find(|(_, m)| sizes(m) != sizes(first))
        {
            return Err(DecoderError::Ensemble {
                why: format!(
                    "model {} has vocabularies of {:?} (source, target) tokens, model 1 has {:?}: \
                     an ensemble's models must share their vocabularies",
                    i + 1,
                    sizes(other),
                    sizes(first)
                ),
            });
        }
        Ok(Self { members })
    }

    /// The models, the first one first.
    pub fn members(&self) -> &[Seq2Seq] {
        &self.members
    }

    /// The first model.
    pub fn first(&self) -> &Seq2Seq {
        &self.members[0]
    }

    /// Greedy decoding with the averaged log-probabilities, one hypothesis per sentence (call
    /// on inference copies, `model.valid()`).
    ///
    /// # Errors
    ///
    /// [`DecoderError::Encoder`] if the lengths do not fit the source.
    pub fn greedy(
        &self,
        source: Tensor<2, Int>,
        source_lengths: &[usize],
        options: &SearchOptions,
    ) -> Result<Vec<Hypothesis>, DecoderError> {
        let encoded = self.encode(source, source_lengths)?;
        Ok(greedy(&self.parts(&encoded), options))
    }

    /// Beam search with the averaged log-probabilities, `n_best` hypotheses per sentence, best
    /// first (call on inference copies, `model.valid()`).
    ///
    /// # Errors
    ///
    /// [`DecoderError::Encoder`] if the lengths do not fit the source,
    /// [`DecoderError::Search`] for bad beam options.
    pub fn beam(
        &self,
        source: Tensor<2, Int>,
        source_lengths: &[usize],
        options: &SearchOptions,
        beam: &BeamOptions,
    ) -> Result<Vec<Vec<Hypothesis>>, DecoderError> {
        let encoded = self.encode(source, source_lengths)?;
        beam_search(&self.parts(&encoded), options, beam)
    }

    /// Every model's encoding of the source.
    fn encode(
        &self,
        source: Tensor<2, Int>,
        source_lengths: &[usize],
    ) -> Result<Vec<EncoderOutput>, DecoderError> {
        self.members
            .iter()
            .map(|m| Ok(m.encoder.forward(source.clone(), source_lengths)?))
            .collect()
    }

    /// Each decoder with its model's encoding.
    fn parts<'a>(&'a self, encoded: &'a [EncoderOutput]) -> Vec<(&'a Decoder, &'a EncoderOutput)> {
        self.members
            .iter()
            .map(|m| &m.decoder)
            .zip(encoded)
            .collect()
    }
}

/// The decoders of one search, each with its source memory and state, stepped together.
pub(crate) struct Steps<'a> {
    decoders: Vec<&'a Decoder>,
    sources: Vec<SourceMemory>,
    states: Vec<DecoderState>,
    /// Each row's true source length.
    pub(crate) lengths: Vec<usize>,
    device: Device,
}

/// One step's outputs on the host, averaged over the models.
pub(crate) struct StepRows {
    /// `[rows][vocab]` log-probabilities.
    pub(crate) log_probs: Vec<Vec<f32>>,
    /// `[rows][src_len]` attention weights; `None` when no model attends.
    pub(crate) weights: Option<Vec<Vec<f32>>>,
}

impl<'a> Steps<'a> {
    /// The first step's memories and states of every `(decoder, its encoding)` part; with
    /// `project_context`, the memories hold the context's share of the cell input
    /// ([`Decoder::projected_source`]), worth it when a sentence has several rows.
    ///
    /// # Panics
    ///
    /// With no parts.
    pub(crate) fn new(parts: &[(&'a Decoder, &EncoderOutput)], project_context: bool) -> Self {
        let (_, first) = parts.first().expect("a search needs at least one model");
        let source = |(d, e): &(&Decoder, &EncoderOutput)| d.search_source(e, project_context);
        Self {
            decoders: parts.iter().map(|(d, _)| *d).collect(),
            sources: parts.iter().map(source).collect(),
            states: parts.iter().map(|(d, e)| d.initial_state(e)).collect(),
            lengths: first.lengths.clone(),
            device: first.states.device(),
        }
    }

    /// Sources, states and lengths of the rows `indices` (repeats allowed): a beam's live rows.
    pub(crate) fn select_rows(&mut self, indices: &[usize]) {
        for source in &mut self.sources {
            *source = source.select(indices, &self.device);
        }
        self.states = std::mem::take(&mut self.states)
            .into_iter()
            .map(|s| s.select(indices, &self.device))
            .collect();
        self.lengths = indices.iter().map(|&i| self.lengths[i]).collect();
    }

    /// Steps every model from the tokens `previous` (one per row) and returns the mean
    /// log-probabilities and attention weights.
    pub(crate) fn step(&mut self, previous: &[usize]) -> StepRows {
        let previous = index_tensor(previous, &self.device);
        let mut log_probs: Option<Tensor<2>> = None;
        let mut weights: Option<Tensor<2>> = None;
        let mut attending = 0;
        let states = std::mem::take(&mut self.states);
        for ((decoder, source), state) in self.decoders.iter().zip(&self.sources).zip(states) {
            let step = decoder.step(previous.clone(), state, source);
            self.states.push(step.state);
            let lp = log_softmax(step.logits, 1);
            log_probs = Some(match log_probs {
                Some(sum) => sum + lp,
                None => lp,
            });
            if let Some(w) = step.weights {
                attending += 1;
                weights = Some(match weights {
                    Some(sum) => sum + w,
                    None => w,
                });
            }
        }
        let mean = |sum: Tensor<2>, n: usize| if n > 1 { sum / n as f32 } else { sum };
        StepRows {
            log_probs: host_rows(mean(
                log_probs.expect("at least one model"),
                self.decoders.len(),
            )),
            weights: weights.map(|w| host_rows(mean(w, attending))),
        }
    }
}
