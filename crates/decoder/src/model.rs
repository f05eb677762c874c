//! The whole model: an encoder and an attention decoder, with teacher-forced training and
//! greedy or beam decoding.

use burn::prelude::*;
use encoder::{Encoder, EncoderConfig};

use crate::{
    BeamOptions, Decoder, DecoderConfig, DecoderError, DecoderOutput, Hypothesis, SearchOptions,
    beam_search, greedy,
};

/// Configuration of a [`Seq2Seq`] model.
#[derive(Config, Debug)]
pub struct Seq2SeqConfig {
    /// The encoder.
    pub encoder: EncoderConfig,
    /// The decoder; its `encoder_size` must be the encoder's `output_size()`.
    pub decoder: DecoderConfig,
}

impl Seq2SeqConfig {
    /// Builds the model with parameters on `device`.
    ///
    /// # Errors
    ///
    /// The encoder's or decoder's configuration error, or [`DecoderError::SizeMismatch`] if the
    /// decoder's `encoder_size` is not the encoder's output size.
    pub fn init(&self, device: &Device) -> Result<Seq2Seq, DecoderError> {
        if self.decoder.encoder_size != self.encoder.output_size() {
            return Err(DecoderError::SizeMismatch {
                option: "encoder_size",
                hidden_size: self.decoder.encoder_size,
                encoder_size: self.encoder.output_size(),
                hint: "the encoder's output size (hidden_size, doubled when bidirectional)",
            });
        }
        Ok(Seq2Seq {
            encoder: self.encoder.init(device)?,
            decoder: self.decoder.init(device)?,
        })
    }
}

/// An RNN encoder–decoder with attention (seed §7).
#[derive(Module, Debug)]
pub struct Seq2Seq {
    /// Reads the source and keeps every state.
    pub encoder: Encoder,
    /// Attends and writes the target.
    pub decoder: Decoder,
}

impl Seq2Seq {
    /// Teacher-forced forward pass.
    ///
    /// - `source`: `[batch, src_len]` token ids, padded after each row's `source_lengths`.
    /// - `target_inputs`: `[batch, tgt_len]`, the targets shifted right (BOS first).
    ///
    /// # Errors
    ///
    /// [`DecoderError::Encoder`] if the lengths do not fit the source.
    pub fn forward(
        &self,
        source: Tensor<2, Int>,
        source_lengths: &[usize],
        target_inputs: Tensor<2, Int>,
    ) -> Result<DecoderOutput, DecoderError> {
        let encoded = self.encoder.forward(source, source_lengths)?;
        Ok(self.decoder.forward(&encoded, target_inputs))
    }

    /// Greedy decoding, one hypothesis per sentence (call on `model.valid()`).
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
        let encoded = self.encoder.forward(source, source_lengths)?;
        Ok(greedy(&[(&self.decoder, &encoded)], options))
    }

    /// Beam search, `n_best` hypotheses per sentence, best first (call on `model.valid()`).
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
        let encoded = self.encoder.forward(source, source_lengths)?;
        beam_search(&[(&self.decoder, &encoded)], options, beam)
    }
}
