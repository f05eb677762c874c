//! The encoder: embeddings and recurrent layers that keep every hidden state (seed §3).

use attention_core::{AttentionError, pad_mask_from_lengths};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig};
use burn::prelude::*;
use fused_ops::dropout;

use crate::{
    CellKind, CellState, EncoderError, RecurrentCell, RecurrentCellConfig, TokenTable, run_cell,
    run_projected_cell,
};

/// Configuration of an [`Encoder`].
#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// Number of source tokens (including the special ones).
    pub vocab_size: usize,
    /// Size of a token embedding.
    pub embedding_size: usize,
    /// Size of each direction's state.
    pub hidden_size: usize,
    /// GRU or LSTM. Default: `CellKind::Gru`.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// Read the sentence in both directions and concatenate the states. Default: `false`.
    #[config(default = false)]
    pub bidirectional: bool,
    /// Stacked recurrent layers. Default: 1.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Dropout on the states passed from one layer to the next (training only). Default: 0.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Dropout on the source embeddings (training only; JoeyNMT's `emb_dropout`). Default: 0.
    #[config(default = 0.0)]
    pub embedding_dropout: f64,
}

impl EncoderConfig {
    /// Size of each encoder state `h_j`: `hidden_size`, doubled when bidirectional.
    pub fn output_size(&self) -> usize {
        self.hidden_size * if self.bidirectional { 2 } else { 1 }
    }

    /// Builds the encoder with parameters on `device`.
    ///
    /// # Errors
    ///
    /// [`EncoderError::ZeroSize`] for a zero size, [`EncoderError::Dropout`] for a probability
    /// outside `[0, 1)`.
    pub fn init(&self, device: &Device) -> Result<Encoder, EncoderError> {
        for (name, size) in [
            ("vocab_size", self.vocab_size),
            ("embedding_size", self.embedding_size),
            ("hidden_size", self.hidden_size),
            ("num_layers", self.num_layers),
        ] {
            if size == 0 {
                return Err(EncoderError::ZeroSize { name });
            }
        }
        for value in [self.dropout, self.embedding_dropout] {
            if !(0.0..1.0).contains(&value) {
                return Err(EncoderError::Dropout { value });
            }
        }
        let layers = (0..self.num_layers)
            .map(|layer| {
                let input_size = if layer == 0 {
                    self.embedding_size
                } else {
                    self.output_size()
                };
                let cell =
                    RecurrentCellConfig::new(input_size, self.hidden_size).with_kind(self.cell);
                EncoderLayer {
                    forward: cell.init(device),
                    backward: self.bidirectional.then(|| cell.init(device)),
                }
            })
            .collect();
        Ok(Encoder {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embedding_size).init(device),
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
            embedding_dropout: DropoutConfig::new(self.embedding_dropout).init(),
        })
    }
}

/// One recurrent layer: a forward cell and, when bidirectional, a backward one.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    /// Reads left to right.
    pub forward: RecurrentCell,
    /// Reads right to left, from each row's true last token.
    pub backward: Option<RecurrentCell>,
}

/// What a layer reads: the layer below's states, or (the first layer, when decoding) tokens
/// whose projected embeddings each cell looks up in its [`TokenTable`].
#[allow(clippy::large_enum_variant)] // one value per forward pass, never stored in bulk
enum LayerInput<'a> {
    /// `[batch, len, in]`.
    States(Tensor<3>),
    /// `[batch, len]` token ids, and the embedding they index.
    Tokens(&'a Tensor<2, Int>, &'a Embedding),
}

impl EncoderLayer {
    /// Inputs → states `[batch, len, dirs · hidden]` and the final state (both directions'
    /// finals concatenated, `[batch, dirs · hidden]`).
    fn forward(
        &self,
        input: &LayerInput<'_>,
        pad_mask: &Tensor<2, Bool>,
    ) -> (Tensor<3>, CellState) {
        let [batch, _] = pad_mask.dims();
        let device = pad_mask.device();
        let run = |cell: &RecurrentCell, reverse: bool| {
            let zero = cell.zero_state(batch, &device);
            match input {
                LayerInput::States(x) => run_cell(cell, x.clone(), Some(pad_mask), reverse, zero),
                LayerInput::Tokens(tokens, embedding) => {
                    let steps = cell.token_table(embedding).steps(tokens);
                    run_projected_cell(cell, steps, Some(pad_mask), reverse, zero)
                }
            }
        };
        let (fwd, fwd_final) = run(&self.forward, false);
        let Some(backward) = &self.backward else {
            return (fwd, fwd_final);
        };
        let (bwd, bwd_final) = run(backward, true);
        let final_state = CellState {
            hidden: Tensor::cat(vec![fwd_final.hidden, bwd_final.hidden], 1),
            cell: fwd_final
                .cell
                .zip(bwd_final.cell)
                .map(|(f, b)| Tensor::cat(vec![f, b], 1)),
        };
        (Tensor::cat(vec![fwd, bwd], 2), final_state) // [batch, len, 2 · hidden]
    }
}

/// What the encoder hands the decoder.
#[derive(Debug, Clone)]
pub struct EncoderOutput {
    /// `H = [h_1 … h_S]` of the top layer: `[batch, src_len, output_size]`, zero at pads.
    pub states: Tensor<3>,
    /// The top layer's final state (at each row's true length; both directions concatenated):
    /// `[batch, output_size]` — the fixed-size context vector of a plain seq2seq (seed §1–2).
    pub final_state: CellState,
    /// `src_pad_mask`: `[batch, src_len]`, `true` = padded.
    pub pad_mask: Tensor<2, Bool>,
    /// Each row's true length.
    pub lengths: Vec<usize>,
}

/// Token embeddings and recurrent layers, keeping every hidden state (seed §3).
#[derive(Module, Debug)]
pub struct Encoder {
    /// Source token embeddings.
    pub embedding: Embedding,
    /// The recurrent layers, bottom first.
    pub layers: Vec<EncoderLayer>,
    /// Dropout between layers.
    pub dropout: Dropout,
    /// Dropout on the source embeddings.
    pub embedding_dropout: Dropout,
}

impl Encoder {
    /// Size of each state `h_j`.
    pub fn output_size(&self) -> usize {
        let layer = &self.layers[0];
        layer.forward.hidden_size() * if layer.backward.is_some() { 2 } else { 1 }
    }

    /// Encodes a padded batch.
    ///
    /// - `tokens`: `[batch, src_len]`, each row's tokens then padding (any id).
    /// - `lengths`: each row's true length, `<= src_len`.
    ///
    /// # Errors
    ///
    /// [`EncoderError::Lengths`] if there is not one length per row or one exceeds `src_len`.
    pub fn forward(
        &self,
        tokens: Tensor<2, Int>,
        lengths: &[usize],
    ) -> Result<EncoderOutput, EncoderError> {
        let [batch, src_len] = tokens.dims();
        if lengths.len() != batch {
            return Err(AttentionError::LengthCount {
                given: lengths.len(),
                batch,
            }
            .into());
        }
        let device = tokens.device();
        let pad_mask = pad_mask_from_lengths(lengths, src_len, &device)?;
        let [vocab, _] = self.embedding.weight.dims();
        let mut input = if TokenTable::pays(vocab, batch * src_len, &device) {
            LayerInput::Tokens(&tokens, &self.embedding)
        } else {
            let embedded = self.embedding.forward(tokens.clone()); // [batch, src_len, embedding]
            LayerInput::States(dropout(&self.embedding_dropout, embedded))
        };
        let (mut states, mut final_state) = self.layers[0].forward(&input, &pad_mask);
        for layer in &self.layers[1..] {
            input = LayerInput::States(dropout(&self.dropout, states));
            (states, final_state) = layer.forward(&input, &pad_mask); // [batch, src_len, output_size]
        }
        Ok(EncoderOutput {
            states,
            final_state,
            pad_mask,
            lengths: lengths.to_vec(),
        })
    }
}
