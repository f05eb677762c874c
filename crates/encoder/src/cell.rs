//! Recurrent cells with fused gates: one input projection and one hidden projection per step,
//! each covering every gate at once.
//!
//! Burn's own `Gru`/`Lstm` keep one pair of `Linear`s per gate (six or eight small matrix
//! products a step). Fusing them measured no faster on `flex` at the benchmark's shape (the
//! step's element-wise gate arithmetic dominates), and projecting all time steps' inputs in one
//! product before the loop measured *slower* under autodiff, because each step's slice of the
//! big product costs a full-size gradient in the backward pass (both measured in
//! `docs/performance.md`, "Measured and not kept"). We own the cell for what Burn's lacks: a
//! state that padded steps leave untouched ([`CellState::keep_where`]), one place to optimise
//! the step, and a loop's form of the cell ([`CellSteps`]) whose projections' weight gradients
//! are one product per loop.

use burn::nn::{Embedding, Linear, LinearConfig};
use burn::prelude::*;
use fused_ops::{StepLinear, gru_update, linear, lstm_update};

use crate::TokenTable;

/// Which recurrent cell: GRU (Cho et al. 2014) or LSTM (Hochreiter & Schmidhuber 1997).
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum CellKind {
    /// Gated recurrent unit: state `h`.
    Gru,
    /// Long short-term memory: state `(h, c)`.
    Lstm,
}

impl CellKind {
    /// Every cell, in the order of [`CellKind::NAMES`].
    pub const ALL: [CellKind; 2] = [CellKind::Gru, CellKind::Lstm];
    /// The names accepted on command lines: `gru`, `lstm`.
    pub const NAMES: [&'static str; 2] = ["gru", "lstm"];

    /// The cell's short name: `gru` or `lstm`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// Number of gate blocks in the fused projections: 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o).
    pub fn gates(self) -> usize {
        match self {
            CellKind::Gru => 3,
            CellKind::Lstm => 4,
        }
    }
}

/// The state a cell carries between steps.
#[derive(Debug, Clone)]
pub struct CellState {
    /// `h`: `[batch, hidden]`, the output of the step.
    pub hidden: Tensor<2>,
    /// `c`: `[batch, hidden]`, the LSTM's memory cell; `None` for a GRU.
    pub cell: Option<Tensor<2>>,
}

impl CellState {
    /// The all-zero state of `kind` for `batch` rows.
    pub fn zeros(kind: CellKind, batch: usize, hidden: usize, device: &Device) -> Self {
        Self {
            hidden: Tensor::zeros([batch, hidden], device),
            cell: (kind == CellKind::Lstm).then(|| Tensor::zeros([batch, hidden], device)),
        }
    }

    /// Where `keep` (`[batch, hidden]`, `true` = keep the old row) is set, the rows of `old`;
    /// elsewhere the rows of `self`. How padded steps leave a state untouched.
    pub fn keep_where(self, keep: &Tensor<2, Bool>, old: CellState) -> Self {
        Self {
            hidden: self.hidden.mask_where(keep.clone(), old.hidden),
            cell: match (self.cell, old.cell) {
                (Some(new), Some(old)) => Some(new.mask_where(keep.clone(), old)),
                (new, _) => new,
            },
        }
    }

    /// The rows `indices` of the state (repeats allowed), e.g. to follow beam reordering.
    pub fn select(self, indices: Tensor<1, Int>) -> Self {
        Self {
            hidden: self.hidden.select(0, indices.clone()),
            cell: self.cell.map(|c| c.select(0, indices)),
        }
    }
}

/// Configuration of a [`RecurrentCell`].
#[derive(Config, Debug)]
pub struct RecurrentCellConfig {
    /// Size of an input vector `x_t`.
    pub input_size: usize,
    /// Size of the state `h`.
    pub hidden_size: usize,
    /// GRU or LSTM. Default: `CellKind::Gru`.
    #[config(default = "CellKind::Gru")]
    pub kind: CellKind,
}

impl RecurrentCellConfig {
    /// Builds the cell with parameters on `device` (uniform in `±1/√hidden`, as PyTorch does).
    pub fn init(&self, device: &Device) -> RecurrentCell {
        let gates = self.kind.gates() * self.hidden_size;
        let bound = 1.0 / (self.hidden_size as f64).sqrt();
        let init = burn::nn::Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        let input = LinearConfig::new(self.input_size, gates)
            .with_initializer(init.clone())
            .init(device);
        let hidden = LinearConfig::new(self.hidden_size, gates)
            .with_initializer(init)
            .init(device);
        let fused = FusedGates { input, hidden };
        match self.kind {
            CellKind::Gru => RecurrentCell::Gru(fused),
            CellKind::Lstm => RecurrentCell::Lstm(fused),
        }
    }
}

/// The two fused projections of a cell: `W_x x + b_x` and `W_h h + b_h`, every gate side by side.
#[derive(Module, Debug)]
pub struct FusedGates {
    /// `input_size → gates · hidden`.
    pub input: Linear,
    /// `hidden → gates · hidden`.
    pub hidden: Linear,
}

/// A GRU or LSTM cell with fused gates.
#[derive(Module, Debug)]
pub enum RecurrentCell {
    /// GRU, gate blocks ordered `[r, z, n]` as in PyTorch.
    Gru(FusedGates),
    /// LSTM, gate blocks ordered `[i, f, g, o]` as in PyTorch.
    Lstm(FusedGates),
}

impl RecurrentCell {
    fn gates(&self) -> &FusedGates {
        match self {
            RecurrentCell::Gru(g) | RecurrentCell::Lstm(g) => g,
        }
    }

    /// GRU or LSTM.
    pub fn kind(&self) -> CellKind {
        match self {
            RecurrentCell::Gru(_) => CellKind::Gru,
            RecurrentCell::Lstm(_) => CellKind::Lstm,
        }
    }

    /// Size of the state `h`.
    pub fn hidden_size(&self) -> usize {
        self.gates().hidden.weight.dims()[0]
    }

    /// Size of an input `x_t`.
    pub fn input_size(&self) -> usize {
        self.gates().input.weight.dims()[0]
    }

    /// The zero state for `batch` rows.
    pub fn zero_state(&self, batch: usize, device: &Device) -> CellState {
        CellState::zeros(self.kind(), batch, self.hidden_size(), device)
    }

    /// The input half of every gate, `W_x x_t + b_x`, for any number of leading axes:
    /// `[..., input_size]` → `[..., gates · hidden]`.
    pub fn project_inputs<const D: usize>(&self, inputs: Tensor<D>) -> Tensor<D> {
        linear(&self.gates().input, inputs)
    }

    /// The input projection of every entry of `embedding` (whose size must be the cell's input
    /// size): what a cell reading embedded tokens can look up instead of projecting.
    pub fn token_table(&self, embedding: &Embedding) -> TokenTable {
        TokenTable::new(embedding, &self.gates().input)
    }

    /// The input projection cut in two along the input, at `at`: for `x = [a; b]`,
    /// `W_x x + b_x = (W_a a + b_x) + W_b b`. Returns `(W_a with b_x, W_b without a bias)`, so
    /// that a caller can move the `b` share of a product elsewhere (a decoder projects its
    /// context's share once per source position for beam search).
    ///
    /// # Panics
    ///
    /// If `at` is not inside `0..=input_size`.
    pub fn split_input(&self, at: usize) -> (Linear, Linear) {
        let input = &self.gates().input;
        let [inputs, outputs] = input.weight.dims();
        assert!(at <= inputs, "cannot split {inputs} inputs at {at}");
        let weight = input.weight.val();
        let head = Linear {
            weight: burn::module::Param::from_tensor(weight.clone().slice([0..at, 0..outputs])),
            bias: input.bias.clone(),
        };
        let tail = Linear {
            weight: burn::module::Param::from_tensor(weight.slice([at..inputs, 0..outputs])),
            bias: None,
        };
        (head, tail)
    }

    /// One step from an input already projected by [`RecurrentCell::project_inputs`].
    ///
    /// GRU (gates `[r, z, n]`, `x̂ = W_x x + b_x`, `ĥ = W_h h + b_h`): `h' = (1 − z) ⊙ n + z ⊙ h`,
    /// by [`fused_ops::gru_update`] (its documentation has the gates' equations).
    ///
    /// LSTM (gates `[i, f, g, o]`): `c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)`, `h' = σ(o) ⊙ tanh(c')`, by
    /// [`fused_ops::lstm_update`].
    ///
    /// - `projected`: `[batch, gates · hidden]`; `state`: `[batch, hidden]` each.
    ///
    /// A loop over many steps under autodiff should use [`RecurrentCell::steps`] instead.
    pub fn step(&self, projected: Tensor<2>, state: CellState) -> CellState {
        let from_state = linear(&self.gates().hidden, state.hidden.clone()); // [batch, gates · hidden]
        self.update(projected, from_state, state)
    }

    /// The cell made ready for one loop over many steps: the same step, with each projection's
    /// weight gradient computed once for the whole loop ([`fused_ops::StepLinear`]).
    pub fn steps(&self) -> CellSteps<'_> {
        CellSteps {
            cell: self,
            input: StepLinear::new(&self.gates().input),
            hidden: StepLinear::new(&self.gates().hidden),
        }
    }

    /// The gates after both projections: `x̂`, `ĥ` `[batch, gates · hidden]` and the old state.
    fn update(&self, projected: Tensor<2>, from_state: Tensor<2>, state: CellState) -> CellState {
        match self {
            RecurrentCell::Gru(_) => CellState {
                hidden: gru_update(projected, from_state, state.hidden),
                cell: None,
            },
            RecurrentCell::Lstm(_) => {
                let old_cell = state.cell.expect("an LSTM state carries a memory cell");
                let (hidden, cell) = lstm_update(projected, from_state, old_cell);
                CellState {
                    hidden,
                    cell: Some(cell),
                }
            }
        }
    }
}

/// A [`RecurrentCell`] made ready for one loop ([`RecurrentCell::steps`]): it computes what
/// [`RecurrentCell::project_inputs`] and [`RecurrentCell::step`] do, and under autodiff on flex
/// each projection's weight gradient is one matrix product over every step of the loop instead
/// of one small product per step. Make one per forward pass.
#[derive(Debug, Clone)]
pub struct CellSteps<'a> {
    cell: &'a RecurrentCell,
    input: StepLinear,
    hidden: StepLinear,
}

impl CellSteps<'_> {
    /// Size of the state `h`.
    pub fn hidden_size(&self) -> usize {
        self.cell.hidden_size()
    }

    /// `W_x x_t + b_x` for one step: `[batch, input_size]` → `[batch, gates · hidden]`.
    pub fn project_input(&self, input: Tensor<2>) -> Tensor<2> {
        self.input.forward(input)
    }

    /// One step from an input already projected (by [`CellSteps::project_input`] or, for all
    /// steps at once, [`RecurrentCell::project_inputs`]); as [`RecurrentCell::step`].
    pub fn step(&self, projected: Tensor<2>, state: CellState) -> CellState {
        let from_state = self.hidden.forward(state.hidden.clone()); // [batch, gates · hidden]
        self.cell.update(projected, from_state, state)
    }
}
