//! The attention decoder (seed §5–6), its no-attention baseline, and one decoding step.

use attention_core::{Attention, AttentionConfig, AttentionMemory, ScoreKind};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use encoder::{
    CellKind, CellState, CellSteps, EncoderOutput, RecurrentCell, RecurrentCellConfig, TokenTable,
    run_cell,
};
use fused_ops::{SequenceSteps, dropout, linear};

use crate::{Combine, DecoderError, ProjectedContext, TokenInput};

/// Which decoder state asks the attention question, and where the context goes.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum QueryOrdering {
    /// Bahdanau et al. 2014: the query is the previous state `s_{i-1}`; the context `c_i` is
    /// fed into the RNN step together with the previous word.
    Bahdanau,
    /// Luong et al. 2015: the RNN steps first; its new state `s_i` is the query.
    Luong,
}

impl QueryOrdering {
    /// Every ordering, in the order of [`QueryOrdering::NAMES`].
    pub const ALL: [QueryOrdering; 2] = [QueryOrdering::Bahdanau, QueryOrdering::Luong];
    /// The names accepted on command lines: `bahdanau`, `luong`.
    pub const NAMES: [&'static str; 2] = ["bahdanau", "luong"];

    /// The ordering's short name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// How the decoder's first state `s_0` is made from the encoder.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum InitialState {
    /// `s_0 = 0`.
    Zero,
    /// `s_0` = the encoder's final state (needs equal sizes; an LSTM decoder also takes the
    /// encoder's memory cell when the encoder is an LSTM).
    EncoderFinal,
    /// `s_0 = tanh(W_b h_final + b_b)`, a learned bridge (memory cell, if any, starts at 0).
    Bridge,
}

impl InitialState {
    /// Every way, in the order of [`InitialState::NAMES`].
    pub const ALL: [InitialState; 3] = [
        InitialState::Zero,
        InitialState::EncoderFinal,
        InitialState::Bridge,
    ];
    /// The names accepted on command lines: `zero`, `encoder-final`, `bridge`.
    pub const NAMES: [&'static str; 3] = ["zero", "encoder-final", "bridge"];

    /// The way's short name.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Configuration of a [`Decoder`].
#[derive(Config, Debug)]
pub struct DecoderConfig {
    /// Number of target tokens (including the special ones).
    pub vocab_size: usize,
    /// Size of a target token embedding.
    pub embedding_size: usize,
    /// Size of the decoder state `s_i`.
    pub hidden_size: usize,
    /// Size of each encoder state `h_j` (the encoder's `output_size`).
    pub encoder_size: usize,
    /// GRU or LSTM. Default: `CellKind::Gru`.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// The attention score; `None` makes the no-attention baseline, whose context is always the
    /// encoder's final state (seed §1–2). Default: `Some(ScoreKind::Additive)`.
    #[config(default = "Some(ScoreKind::Additive)")]
    pub score: Option<ScoreKind>,
    /// Hidden size of the additive score. Default: `None` (the encoder state size).
    #[config(default = "None")]
    pub attention_size: Option<usize>,
    /// Which state asks the attention question. Default: `QueryOrdering::Bahdanau`.
    #[config(default = "QueryOrdering::Bahdanau")]
    pub ordering: QueryOrdering,
    /// Luong's input feeding: the previous step's combined vector joins the RNN input.
    /// Default: `false`.
    #[config(default = false)]
    pub input_feeding: bool,
    /// How `s_i` and `c_i` are joined before the output layer. Default: `Combine::Concat`.
    #[config(default = "Combine::Concat")]
    pub combine: Combine,
    /// How `s_0` is made. Default: `InitialState::EncoderFinal`.
    #[config(default = "InitialState::EncoderFinal")]
    pub initial_state: InitialState,
    /// Dropout on embeddings and on the combined vector (training only). Default: 0.
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl DecoderConfig {
    fn combined_size(&self) -> usize {
        self.combine
            .output_size(self.hidden_size, self.encoder_size)
    }

    /// Builds the decoder with parameters on `device`, checking that the options fit together.
    ///
    /// # Errors
    ///
    /// A [`DecoderError`] naming the field or the pair of options that do not fit.
    pub fn init(&self, device: &Device) -> Result<Decoder, DecoderError> {
        for (name, size) in [
            ("vocab_size", self.vocab_size),
            ("embedding_size", self.embedding_size),
            ("hidden_size", self.hidden_size),
            ("encoder_size", self.encoder_size),
        ] {
            if size == 0 {
                return Err(DecoderError::ZeroSize { name });
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(DecoderError::Dropout {
                value: self.dropout,
            });
        }
        let mismatch = |option, hint| DecoderError::SizeMismatch {
            option,
            hidden_size: self.hidden_size,
            encoder_size: self.encoder_size,
            hint,
        };
        if self.hidden_size != self.encoder_size {
            if self.combine == Combine::Add {
                return Err(mismatch("combine = add", "combine = concat"));
            }
            if self.initial_state == InitialState::EncoderFinal {
                return Err(mismatch(
                    "initial_state = encoder-final",
                    "initial_state = bridge or zero",
                ));
            }
        }
        if self.input_feeding && self.ordering == QueryOrdering::Bahdanau {
            return Err(DecoderError::InputFeedingNeedsLuong);
        }
        let attention = match self.score {
            Some(score) => Some(
                AttentionConfig::new(self.hidden_size, self.encoder_size)
                    .with_score(score)
                    .with_attention_size(self.attention_size)
                    .init(device)?,
            ),
            None => None,
        };
        let cell_input = self.embedding_size
            + match (self.ordering, self.input_feeding) {
                (QueryOrdering::Bahdanau, _) => self.encoder_size,
                (QueryOrdering::Luong, true) => self.combined_size(),
                (QueryOrdering::Luong, false) => 0,
            };
        Ok(Decoder {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embedding_size).init(device),
            cell: RecurrentCellConfig::new(cell_input, self.hidden_size)
                .with_kind(self.cell)
                .init(device),
            attention,
            bridge: (self.initial_state == InitialState::Bridge)
                .then(|| LinearConfig::new(self.encoder_size, self.hidden_size).init(device)),
            output: LinearConfig::new(self.combined_size(), self.vocab_size).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            config: self.clone(),
        })
    }
}

/// The encoder side as the decoder reads it, prepared once per batch: the attention memory, or
/// for the baseline the fixed context vector.
#[derive(Debug, Clone)]
pub struct SourceMemory {
    /// Encoder states with the score's keys projected, and the padding mask.
    pub attention: Option<AttentionMemory>,
    /// The baseline's fixed context `c` = the encoder's final state, `[batch, enc_hidden]`.
    pub fixed_context: Option<Tensor<2>>,
    /// Each row's true source length.
    pub lengths: Vec<usize>,
    /// The context's share of the cell input, made per source position
    /// ([`Decoder::projected_source`]); `None`: the cell reads the context itself.
    pub projected_context: Option<ProjectedContext>,
    /// The token's share of the cell input, looked up ([`Decoder::search_source`]); `None`:
    /// each step embeds the previous tokens and projects them.
    pub token_input: Option<TokenInput>,
}

impl SourceMemory {
    /// The rows `indices` (repeats allowed): how beam search gives each hypothesis its source.
    pub fn select(&self, indices: &[usize], device: &Device) -> Self {
        let idx = index_tensor(indices, device);
        Self {
            attention: self.attention.as_ref().map(|m| m.select(idx.clone())),
            fixed_context: self.fixed_context.clone().map(|c| c.select(0, idx.clone())),
            lengths: indices.iter().map(|&i| self.lengths[i]).collect(),
            projected_context: self.projected_context.as_ref().map(|p| p.select(indices)),
            token_input: self.token_input.clone(),
        }
    }
}

/// The previous tokens as a step reads them.
enum Token<'a> {
    /// Embedded: `[batch, emb]`.
    Embedded(Tensor<2>),
    /// Token ids `[batch]`, whose share of the cell input is looked up.
    Looked(&'a TokenInput, Tensor<1, Int>),
}

/// A 1-D index tensor of row numbers.
pub(crate) fn index_tensor(indices: &[usize], device: &Device) -> Tensor<1, Int> {
    let ids: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(burn::tensor::TensorData::new(ids, [indices.len()]), device)
}

/// What the decoder carries from one step to the next.
#[derive(Debug, Clone)]
pub struct DecoderState {
    /// The recurrent state `s_i` (and the LSTM's memory cell).
    pub cell: CellState,
    /// Input feeding only: the previous step's combined vector `o_{i-1}`, `[batch, combined]`.
    pub feed: Option<Tensor<2>>,
}

impl DecoderState {
    /// The rows `indices` (repeats allowed), to follow beam reordering.
    pub fn select(self, indices: &[usize], device: &Device) -> Self {
        let idx = index_tensor(indices, device);
        Self {
            cell: self.cell.select(idx.clone()),
            feed: self.feed.map(|f| f.select(0, idx)),
        }
    }
}

/// One decoding step's result.
#[derive(Debug, Clone)]
pub struct DecoderStep {
    /// Scores of the next token, `[batch, vocab]` (before softmax).
    pub logits: Tensor<2>,
    /// The state to feed the next step.
    pub state: DecoderState,
    /// The attention weights `α_i`, `[batch, src_len]`; `None` for the baseline.
    pub weights: Option<Tensor<2>>,
}

/// Teacher-forced decoding of whole target sequences.
#[derive(Debug, Clone)]
pub struct DecoderOutput {
    /// `[batch, tgt_len, vocab]`, before softmax.
    pub logits: Tensor<3>,
    /// `[batch, tgt_len, src_len]`, zero on source pads; `None` for the baseline.
    pub weights: Option<Tensor<3>>,
}

/// The RNN decoder with attention (seed §5–6): at each step it attends over the encoder states
/// with one of its states, joins state and context, and predicts the next token.
#[derive(Module, Debug)]
pub struct Decoder {
    /// Target token embeddings.
    pub embedding: Embedding,
    /// The recurrent cell.
    pub cell: RecurrentCell,
    /// The attention; `None` for the no-attention baseline.
    pub attention: Option<Attention>,
    /// The learned bridge from the encoder's final state to `s_0`, if configured.
    pub bridge: Option<Linear>,
    /// The affine layer from the combined vector to vocabulary logits.
    pub output: Linear,
    /// Dropout on embeddings and combined vectors.
    pub dropout: Dropout,
    /// The options this decoder was built with.
    #[module(skip)]
    pub config: DecoderConfig,
}

impl Decoder {
    /// Prepares the encoder side for decoding: the attention memory (keys projected once), or
    /// the baseline's fixed context.
    pub fn source(&self, encoded: &EncoderOutput) -> SourceMemory {
        let attention = self.attention.as_ref().map(|attention| {
            attention
                .memory(encoded.states.clone())
                .with_pad_mask(encoded.pad_mask.clone())
        });
        SourceMemory {
            fixed_context: attention
                .is_none()
                .then(|| encoded.final_state.hidden.clone()),
            attention,
            lengths: encoded.lengths.clone(),
            projected_context: None,
            token_input: None,
        }
    }

    /// [`source`](Self::source) with the context's share of the cell input made once per source
    /// position ([`ProjectedContext`]): what beam search reads. The same as `source` for a
    /// decoder whose cell does not read the context (Luong ordering, or no attention).
    pub fn projected_source(&self, encoded: &EncoderOutput) -> SourceMemory {
        let mut source = self.source(encoded);
        if self.config.ordering == QueryOrdering::Bahdanau && source.attention.is_some() {
            source.projected_context = Some(ProjectedContext::new(
                &self.cell,
                self.config.embedding_size,
                encoded.states.clone(),
            ));
        }
        source
    }

    /// What a search steps with: [`source`](Self::source), or with `project_context`
    /// [`projected_source`](Self::projected_source), and the cell input's token share looked up
    /// ([`TokenInput`]) when the batch has more `rows × source positions` than the target
    /// vocabulary has entries (and no autodiff).
    pub fn search_source(&self, encoded: &EncoderOutput, project_context: bool) -> SourceMemory {
        let mut source = match project_context {
            true => self.projected_source(encoded),
            false => self.source(encoded),
        };
        let [batch, src_len, _] = encoded.states.dims();
        let [vocab, _] = self.embedding.weight.dims();
        if TokenTable::pays(vocab, batch * src_len, &encoded.states.device()) {
            source.token_input = Some(TokenInput::new(&self.cell, &self.embedding));
        }
        source
    }

    /// The first state `s_0`, as [`InitialState`] says.
    pub fn initial_state(&self, encoded: &EncoderOutput) -> DecoderState {
        let [batch, _] = encoded.final_state.hidden.dims();
        let device = encoded.final_state.hidden.device();
        let zero = self.cell.zero_state(batch, &device);
        let cell = match (&self.config.initial_state, &self.bridge) {
            (InitialState::Zero, _) => zero,
            (InitialState::EncoderFinal, _) => CellState {
                hidden: encoded.final_state.hidden.clone(),
                cell: zero
                    .cell
                    .map(|z| encoded.final_state.cell.clone().unwrap_or(z)),
            },
            (InitialState::Bridge, Some(bridge)) => CellState {
                hidden: linear(bridge, encoded.final_state.hidden.clone()).tanh(),
                cell: zero.cell,
            },
            (InitialState::Bridge, None) => unreachable!("init builds the bridge"),
        };
        let feed = self.config.input_feeding.then(|| {
            Tensor::zeros([batch, self.config.combined_size()], &device) // [batch, combined]
        });
        DecoderState { cell, feed }
    }

    /// `c_i` and `α_i` for the query `[batch, hidden]`.
    fn attend(&self, source: &SourceMemory, query: Tensor<2>) -> (Tensor<2>, Option<Tensor<2>>) {
        match (&self.attention, &source.attention) {
            (Some(attention), Some(memory)) => {
                let out = attention.step(memory, query);
                (out.context, Some(out.weights))
            }
            _ => (
                source
                    .fixed_context
                    .clone()
                    .expect("a baseline source has a fixed context"),
                None,
            ),
        }
    }

    /// One step from an embedded previous token; returns the combined vector `o_i` (before
    /// the output layer), the weights and the new state.
    ///
    /// Bahdanau: `c_i = attend(s_{i-1})`, `s_i = cell([y_{i-1}; c_i], s_{i-1})`.
    /// Luong: `s_i = cell([y_{i-1}; o_{i-1}?], s_{i-1})`, `c_i = attend(s_i)`.
    /// Both: `o_i = combine(s_i, c_i)` (seed §5).
    fn advance(
        &self,
        cell: &CellSteps<'_>,
        token: Token<'_>,
        state: DecoderState,
        source: &SourceMemory,
    ) -> (Tensor<2>, Option<Tensor<2>>, DecoderState) {
        let (cell_state, context, weights) = match self.config.ordering {
            QueryOrdering::Bahdanau => {
                let (context, weights) = self.attend(source, state.cell.hidden.clone());
                let projected = match (token, &source.projected_context, &weights) {
                    (token, Some(projected), Some(w)) => {
                        let share = match token {
                            Token::Embedded(embedded) => projected.token_share(embedded),
                            Token::Looked(input, ids) => input.token_share(ids),
                        };
                        share + projected.context_share(w.clone())
                    }
                    (Token::Embedded(embedded), ..) => {
                        cell.project_input(Tensor::cat(vec![embedded, context.clone()], 1)) // [batch, emb + enc] in
                    }
                    (Token::Looked(input, ids), ..) => input.cell_input(ids, Some(context.clone())),
                };
                let next = cell.step(projected, state.cell);
                (next, context, weights)
            }
            QueryOrdering::Luong => {
                let projected = match (token, state.feed) {
                    (Token::Embedded(embedded), Some(feed)) => {
                        cell.project_input(Tensor::cat(vec![embedded, feed], 1)) // [batch, emb + combined]
                    }
                    (Token::Embedded(embedded), None) => cell.project_input(embedded),
                    (Token::Looked(input, ids), feed) => input.cell_input(ids, feed),
                };
                let next = cell.step(projected, state.cell);
                let (context, weights) = self.attend(source, next.hidden.clone());
                (next, context, weights)
            }
        };
        let combined = self
            .config
            .combine
            .apply(cell_state.hidden.clone(), context); // [batch, combined]
        let feed = self.config.input_feeding.then(|| combined.clone());
        let state = DecoderState {
            cell: cell_state,
            feed,
        };
        (combined, weights, state)
    }

    /// One decoding step: the previous tokens `[batch]` in, next-token logits out (seed §6:
    /// attention is recomputed at every step).
    pub fn step(
        &self,
        previous: Tensor<1, Int>,
        state: DecoderState,
        source: &SourceMemory,
    ) -> DecoderStep {
        let token = match &source.token_input {
            Some(input) => Token::Looked(input, previous),
            None => Token::Embedded(
                self.embedding
                    .forward(previous.unsqueeze_dim(1))
                    .squeeze_dim::<2>(1), // [batch, emb]
            ),
        };
        let (combined, weights, state) = self.advance(&self.cell.steps(), token, state, source);
        DecoderStep {
            logits: linear(&self.output, combined), // [batch, vocab]
            state,
            weights,
        }
    }

    /// Teacher-forced decoding: `inputs` are the target tokens shifted right (BOS first),
    /// `[batch, tgt_len]`; returns logits `[batch, tgt_len, vocab]` and attention weights
    /// `[batch, tgt_len, src_len]`.
    ///
    /// When the queries do not depend on earlier contexts (Luong without input feeding) the
    /// RNN runs first and attention answers all steps at once; otherwise step by step. The
    /// output layer always runs once over all steps.
    pub fn forward(&self, encoded: &EncoderOutput, inputs: Tensor<2, Int>) -> DecoderOutput {
        let source = self.source(encoded);
        let state = self.initial_state(encoded);
        let embedded = dropout(&self.dropout, self.embedding.forward(inputs)); // [batch, tgt_len, emb]
        let [batch, tgt_len, _] = embedded.dims();

        let (combined, weights) =
            if self.config.ordering == QueryOrdering::Luong && !self.config.input_feeding {
                let (states, _) = run_cell(&self.cell, embedded, None, false, state.cell); // [batch, tgt_len, hidden]
                let (contexts, weights) = match (&self.attention, &source.attention) {
                    (Some(attention), Some(memory)) => {
                        let out = attention.forward(memory, states.clone());
                        (out.context, Some(out.weights))
                    }
                    _ => {
                        let fixed = source.fixed_context.clone().expect("baseline context");
                        let [_, enc] = fixed.dims();
                        (
                            fixed.unsqueeze_dim::<3>(1).expand([batch, tgt_len, enc]),
                            None,
                        )
                    }
                };
                (self.config.combine.apply(states, contexts), weights) // [batch, tgt_len, combined]
            } else {
                let mut state = state;
                let mut combined = Vec::with_capacity(tgt_len);
                let mut weights = Vec::with_capacity(tgt_len);
                let steps = SequenceSteps::new(embedded);
                let cell = self.cell.steps();
                for t in 0..tgt_len {
                    let token = Token::Embedded(steps.get(t));
                    let (o, w, next) = self.advance(&cell, token, state, &source);
                    combined.push(o);
                    weights.extend(w);
                    state = next;
                }
                let weights = (!weights.is_empty()).then(|| Tensor::stack(weights, 1));
                (Tensor::stack(combined, 1), weights) // [batch, tgt_len, combined]
            };
        DecoderOutput {
            logits: linear(&self.output, dropout(&self.dropout, combined)), // [batch, tgt_len, vocab]
            weights,
        }
    }
}
