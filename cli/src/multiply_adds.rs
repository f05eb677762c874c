//! How many multiply-adds a model spends on one input decoded greedily: what `bench --g2p`
//! divides by CPU time to say how close `predict` runs to the core's GEMM peak.
//!
//! Only matrix products are counted (gates, projections, scores, contexts, the output layer):
//! the element-wise work (non-linearities, softmax) is a few per cent and is left out.

use attention_core::ScoreKind;
use decoder::{Combine, InitialState, QueryOrdering};
use encoder::CellKind;
use trainer::ModelOptions;

/// The sizes a count needs: the model's options and its target vocabulary.
pub struct ModelShape<'a> {
    /// The model's options.
    pub model: &'a ModelOptions,
    /// Target vocabulary size (the output layer's width).
    pub target_vocab: usize,
    /// Decoding looks up the cell inputs' token shares (`encoder::TokenTable`, made once per
    /// batch when it has more positions than the vocabulary has entries, as a G2P batch does):
    /// the first encoder layer's and the decoder cell's products with the embeddings are not
    /// made per token. The tables themselves (vocabulary × embedding × gates, once per batch
    /// of 80 words: under 1 % for a G2P model) are left out.
    pub token_tables: bool,
}

impl ModelShape<'_> {
    /// Gates per recurrent step: 4 for an LSTM, 3 for a GRU.
    fn gates(&self) -> usize {
        match self.model.cell {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// Width of an encoder state: per direction times directions.
    fn encoder_size(&self) -> usize {
        self.model.encoder_hidden * if self.model.bidirectional { 2 } else { 1 }
    }

    /// The encoder over `letters` source tokens, keys of the score projected once.
    pub fn encoder(&self, letters: usize) -> usize {
        let m = self.model;
        let directions = if m.bidirectional { 2 } else { 1 };
        let mut input = if self.token_tables { 0 } else { m.embedding };
        let mut total = 0;
        for _ in 0..m.encoder_layers {
            total +=
                letters * directions * self.gates() * m.encoder_hidden * (input + m.encoder_hidden);
            input = self.encoder_size();
        }
        let keys = match m.score {
            Some(ScoreKind::Additive) => self.encoder_size() * self.attention_size(),
            Some(ScoreKind::General) => self.encoder_size() * m.decoder_hidden,
            Some(ScoreKind::Dot | ScoreKind::ScaledDot) | None => 0,
        };
        let bridge = match m.initial_state {
            InitialState::Bridge => self.encoder_size() * m.decoder_hidden,
            _ => 0,
        };
        total + letters * keys + bridge
    }

    /// One decoder step over a source of `letters` tokens: cell, score, context, output layer.
    pub fn decoder_step(&self, letters: usize) -> usize {
        let m = self.model;
        let enc = self.encoder_size();
        let combined = match m.combine {
            Combine::Concat => m.decoder_hidden + enc,
            Combine::Add => m.decoder_hidden,
        };
        let token = if self.token_tables { 0 } else { m.embedding };
        let cell_input = token
            + match (m.ordering, m.input_feeding) {
                (QueryOrdering::Bahdanau, _) => enc,
                (QueryOrdering::Luong, true) => combined,
                (QueryOrdering::Luong, false) => 0,
            };
        let cell = self.gates() * m.decoder_hidden * (cell_input + m.decoder_hidden);
        let attention = match m.score {
            Some(ScoreKind::Additive) => {
                m.decoder_hidden * self.attention_size() + letters * self.attention_size()
            }
            Some(ScoreKind::General) => letters * m.decoder_hidden,
            Some(ScoreKind::Dot | ScoreKind::ScaledDot) => letters * enc,
            None => 0,
        };
        let context = if m.score.is_some() { letters * enc } else { 0 };
        cell + attention + context + combined * self.target_vocab
    }

    /// A greedy decoding of `letters` source tokens into `outputs` tokens (one more step
    /// writes the end).
    pub fn greedy(&self, letters: usize, outputs: usize) -> usize {
        self.encoder(letters) + (outputs + 1) * self.decoder_step(letters)
    }

    fn attention_size(&self) -> usize {
        self.model.attention_size.unwrap_or(self.encoder_size())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_g2p_model_costs_what_its_matrices_say() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../models/g2p-cmudict/config.json");
        let config = trainer::RunConfig::parse(&path, &std::fs::read(&path).unwrap()).unwrap();
        let shape = ModelShape {
            model: &config.model,
            target_vocab: 42,
            token_tables: false,
        };
        // Two bidirectional LSTM layers of 256: 2·2·4·256·(64+256) + 2·2·4·256·(512+256) per
        // letter; additive keys 512·128 per letter; a bridge 512·256 once.
        let per_letter = 2 * 4 * 256 * (64 + 256) + 2 * 4 * 256 * (512 + 256) + 512 * 128;
        assert_eq!(shape.encoder(8), 8 * per_letter + 512 * 256);
        // LSTM 256 fed embedding 64 and context 512; query 256·128, energies 8·128, context
        // 8·512, output (256+512)·42.
        let step = 4 * 256 * (64 + 512 + 256) + 256 * 128 + 8 * 128 + 8 * 512 + 768 * 42;
        assert_eq!(shape.decoder_step(8), step);
        assert_eq!(shape.greedy(8, 6), shape.encoder(8) + 7 * step);
        // Looked up, the embeddings' products (64 wide) leave the first layer and the cell.
        let looked_up = ModelShape {
            token_tables: true,
            ..shape
        };
        assert_eq!(
            looked_up.encoder(8),
            shape.encoder(8) - 8 * 2 * 4 * 256 * 64
        );
        assert_eq!(looked_up.decoder_step(8), step - 4 * 256 * 64);
    }
}
