//! Encoder tests: the fused cells against the textbook equations, and padding that never leaks.

use burn::prelude::*;
use burn::tensor::TensorData;
use encoder::{
    CellKind, CellState, Encoder, EncoderConfig, EncoderError, RecurrentCell, RecurrentCellConfig,
    TokenTable,
};

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `x · W + b` with `W: [in, out]` row-major, in f64.
fn affine(x: &[f64], w: &[f32], b: &[f32]) -> Vec<f64> {
    let out = b.len();
    (0..out)
        .map(|o| {
            f64::from(b[o])
                + x.iter()
                    .enumerate()
                    .map(|(i, xi)| xi * f64::from(w[i * out + o]))
                    .sum::<f64>()
        })
        .collect()
}

/// One step of the textbook GRU / LSTM (PyTorch's gate order and equations), in f64.
fn reference_step(cell: &RecurrentCell, x: &[f64], h: &[f64], c: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let gates = match cell {
        RecurrentCell::Gru(g) | RecurrentCell::Lstm(g) => g,
    };
    let param = |l: &burn::nn::Linear| {
        (
            values(l.weight.val()),
            values(l.bias.as_ref().unwrap().val()),
        )
    };
    let (wx, bx) = param(&gates.input);
    let (wh, bh) = param(&gates.hidden);
    let (xp, hp) = (affine(x, &wx, &bx), affine(h, &wh, &bh));
    let n = h.len();
    match cell {
        RecurrentCell::Gru(_) => {
            let h2 = (0..n)
                .map(|k| {
                    let r = sigmoid(xp[k] + hp[k]);
                    let z = sigmoid(xp[n + k] + hp[n + k]);
                    let cand = (xp[2 * n + k] + r * hp[2 * n + k]).tanh();
                    (1.0 - z) * cand + z * h[k]
                })
                .collect();
            (h2, vec![])
        }
        RecurrentCell::Lstm(_) => {
            let mut h2 = vec![0.0; n];
            let mut c2 = vec![0.0; n];
            for k in 0..n {
                let g = |b: usize| xp[b * n + k] + hp[b * n + k];
                c2[k] = sigmoid(g(1)) * c[k] + sigmoid(g(0)) * g(2).tanh();
                h2[k] = sigmoid(g(3)) * c2[k].tanh();
            }
            (h2, c2)
        }
    }
}

#[test]
fn fused_cells_match_the_textbook_equations() {
    let device = Device::flex();
    for kind in [CellKind::Gru, CellKind::Lstm] {
        let cell = RecurrentCellConfig::new(3, 4).with_kind(kind).init(&device);
        let x = [0.5f32, -1.0, 2.0];
        let h = [0.1f32, -0.2, 0.3, 0.0];
        let c = [1.0f32, -0.5, 0.25, 2.0];
        let state = CellState {
            hidden: Tensor::from_data(TensorData::new(h.to_vec(), [1, 4]), &device),
            cell: (kind == CellKind::Lstm)
                .then(|| Tensor::from_data(TensorData::new(c.to_vec(), [1, 4]), &device)),
        };
        let projected = cell.project_inputs(Tensor::<2>::from_data(
            TensorData::new(x.to_vec(), [1, 3]),
            &device,
        ));
        let next = cell.step(projected, state);
        let f = |v: &[f32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>();
        let (want_h, want_c) = reference_step(&cell, &f(&x), &f(&h), &f(&c));
        for (got, want) in values(next.hidden).iter().zip(&want_h) {
            assert!(
                (f64::from(*got) - want).abs() < 1e-6,
                "{kind:?} h: {got} vs {want}"
            );
        }
        if let Some(cell_state) = next.cell {
            for (got, want) in values(cell_state).iter().zip(&want_c) {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-6,
                    "{kind:?} c: {got} vs {want}"
                );
            }
        }
    }
}

/// Every float parameter's gradient, flattened, in visiting order.
struct Gradients<'a> {
    grads: &'a burn::tensor::Gradients,
    out: Vec<Vec<f32>>,
}

impl burn::module::ModuleVisitor for Gradients<'_> {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        self.out
            .push(param.grad(self.grads).map(values).unwrap_or_default());
    }
}

/// The same encoder on flex (the fused GRU kernel and attention-core's SIMD sigmoid and tanh,
/// with their own backward passes) and on ndarray (Burn's composed ops): the same outputs and
/// the same gradients for every parameter, through padding, both directions and two layers.
#[test]
#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as the reference backend.
fn flex_kernels_give_the_composed_ops_gradients() {
    use burn::module::Module;
    let flex = Device::flex().autodiff();
    let ndarray = Device::ndarray().autodiff();
    for cell in [CellKind::Gru, CellKind::Lstm] {
        let on_flex = EncoderConfig::new(12, 5, 6)
            .with_cell(cell)
            .with_bidirectional(true)
            .with_num_layers(2)
            .init(&flex)
            .unwrap();
        let on_ndarray = on_flex.clone().fork(&ndarray);
        let run = |encoder: &encoder::Encoder, device: &Device| {
            let out = encoder
                .forward(
                    Tensor::from_ints([[2, 4, 6, 8, 10], [3, 7, 1, 11, 9]], device),
                    &[5, 3],
                )
                .unwrap();
            let [b, t, d] = out.states.dims();
            let weights: Vec<f32> = (0..b * t * d)
                .map(|i| ((i * 7) % 11) as f32 - 5.0)
                .collect();
            let weights = Tensor::<3>::from_data(TensorData::new(weights, [b, t, d]), device);
            let outputs = values(out.states.clone());
            let grads = (out.states * weights).sum().backward();
            let mut collect = Gradients {
                grads: &grads,
                out: Vec::new(),
            };
            encoder.visit(&mut collect);
            (outputs, collect.out)
        };
        let (flex_out, flex_grads) = run(&on_flex, &flex);
        let (nd_out, nd_grads) = run(&on_ndarray, &ndarray);
        for (a, b) in flex_out.iter().zip(&nd_out) {
            assert!((a - b).abs() < 1e-5, "{cell:?} output: {a} vs {b}");
        }
        assert_eq!(flex_grads.len(), nd_grads.len());
        for (p, (a, b)) in flex_grads.iter().zip(&nd_grads).enumerate() {
            assert!(
                !a.is_empty() && a.len() == b.len(),
                "{cell:?} parameter {p}: a gradient on both backends"
            );
        }
        for (p, (a, b)) in flex_grads.iter().zip(&nd_grads).enumerate() {
            let scale = b.iter().fold(1e-2f32, |m, x| m.max(x.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-5 * scale.max(1.0),
                    "{cell:?} parameter {p}: {x} vs {y}"
                );
            }
        }
    }
}

/// An encoder of `vocab` tokens (embedding 5, hidden 6) of the variant, and its name.
fn variant(
    vocab: usize,
    cell: CellKind,
    bidirectional: bool,
    num_layers: usize,
    device: &Device,
) -> (Encoder, String) {
    let encoder = EncoderConfig::new(vocab, 5, 6)
        .with_cell(cell)
        .with_bidirectional(bidirectional)
        .with_num_layers(num_layers)
        .init(device)
        .unwrap();
    (
        encoder,
        format!("{cell:?} bi={bidirectional} layers={num_layers}"),
    )
}

/// Every encoder variant: a sentence encoded alone and inside a padded batch (with junk ids in
/// the padding) gives the same states at its real positions and the same final state.
#[test]
fn padding_never_leaks_into_real_positions() {
    let device = Device::flex();
    for cell in [CellKind::Gru, CellKind::Lstm] {
        for bidirectional in [false, true] {
            for num_layers in [1, 2] {
                let (encoder, what) = variant(12, cell, bidirectional, num_layers, &device);
                let alone = encoder
                    .forward(Tensor::from_ints([[3, 7, 1]], &device), &[3])
                    .unwrap();
                let batch = encoder
                    .forward(
                        Tensor::from_ints([[2, 4, 6, 8, 10], [3, 7, 1, 11, 9]], &device),
                        &[5, 3],
                    )
                    .unwrap();
                let d = encoder.output_size();
                let alone_states = values(alone.states);
                let batch_states = values(batch.states);
                let row = &batch_states[5 * d..];
                for (a, b) in alone_states.iter().zip(&row[..3 * d]) {
                    assert!((a - b).abs() <= 1e-6, "{what}: state {a} vs {b}");
                }
                assert!(
                    row[3 * d..].iter().all(|x| *x == 0.0),
                    "{what}: states at pads are zero"
                );
                let alone_final = values(alone.final_state.hidden);
                let batch_final = values(batch.final_state.hidden);
                for (a, b) in alone_final.iter().zip(&batch_final[d..]) {
                    assert!((a - b).abs() <= 1e-6, "{what}: final {a} vs {b}");
                }
                // The forward direction's final state is its state at the true last token.
                let h = d / if bidirectional { 2 } else { 1 };
                assert_eq!(&batch_final[d..d + h], &row[2 * d..2 * d + h], "{what}");
                if bidirectional {
                    // The backward direction ends at the first token.
                    assert_eq!(&batch_final[d + h..2 * d], &row[h..d], "{what}");
                }
            }
        }
    }
}

/// When decoding a batch with more positions than the vocabulary has entries, the first layer
/// looks its projected inputs up in a [`TokenTable`]; the states are those of the direct
/// projection (each row encoded alone, too few positions for a table), every variant.
#[test]
fn token_tables_give_the_direct_projection_states() {
    let device = Device::flex();
    let rows: [&[i64]; 4] = [&[3, 7, 1, 5], &[2, 4, 6, 8], &[11, 9, 10, 0], &[4, 4]];
    let lengths = [4, 4, 4, 2];
    let vocab = 12;
    // The batch looks up (4 × 4 positions ≥ 12 entries); a row alone projects (4 < 12).
    assert!(TokenTable::pays(vocab, rows.len() * 4, &device));
    assert!(!TokenTable::pays(vocab, 4, &device));
    assert!(!TokenTable::pays(vocab, 16, &device.clone().autodiff()));
    for cell in [CellKind::Gru, CellKind::Lstm] {
        for (bidirectional, num_layers) in [(false, 1), (true, 2)] {
            let (encoder, what) = variant(vocab, cell, bidirectional, num_layers, &device);
            let padded: Vec<i64> = rows
                .iter()
                .flat_map(|r| r.iter().copied().chain(std::iter::repeat(0)).take(4))
                .collect();
            let batch = encoder
                .forward(
                    Tensor::from_data(TensorData::new(padded, [rows.len(), 4]), &device),
                    &lengths,
                )
                .unwrap();
            let d = encoder.output_size();
            let (states, finals) = (values(batch.states), values(batch.final_state.hidden));
            for (k, row) in rows.iter().enumerate() {
                let len = lengths[k];
                let ids = TensorData::new(row[..len].to_vec(), [1, len]);
                let alone = encoder
                    .forward(Tensor::from_data(ids, &device), &[len])
                    .unwrap();
                let batch_row = &states[k * 4 * d..(k * 4 + len) * d];
                for (a, b) in values(alone.states).iter().zip(batch_row) {
                    assert!((a - b).abs() <= 1e-5, "{what}, row {k}: state {a} vs {b}");
                }
                let batch_final = &finals[k * d..(k + 1) * d];
                for (a, b) in values(alone.final_state.hidden).iter().zip(batch_final) {
                    assert!((a - b).abs() <= 1e-5, "{what}, row {k}: final {a} vs {b}");
                }
            }
        }
    }
}

#[test]
fn bad_configurations_and_lengths_are_errors() {
    let device = Device::flex();
    assert_eq!(
        EncoderConfig::new(10, 4, 0).init(&device).unwrap_err(),
        EncoderError::ZeroSize {
            name: "hidden_size"
        }
    );
    assert_eq!(
        EncoderConfig::new(10, 4, 4)
            .with_num_layers(0)
            .init(&device)
            .unwrap_err(),
        EncoderError::ZeroSize { name: "num_layers" }
    );
    assert_eq!(
        EncoderConfig::new(10, 4, 4)
            .with_dropout(1.0)
            .init(&device)
            .unwrap_err(),
        EncoderError::Dropout { value: 1.0 }
    );
    let encoder = EncoderConfig::new(10, 4, 4).init(&device).unwrap();
    let err = encoder
        .forward(Tensor::from_ints([[1, 2]], &device), &[3])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("length 3 of batch row 0 exceeds the padded source length 2"),
        "{err}"
    );
    assert!(
        encoder
            .forward(Tensor::from_ints([[1, 2]], &device), &[2, 1])
            .is_err()
    );
}

#[test]
fn empty_source_row_gives_zero_states() {
    let device = Device::flex();
    let encoder = EncoderConfig::new(10, 4, 4)
        .with_bidirectional(true)
        .init(&device)
        .unwrap();
    let out = encoder
        .forward(Tensor::from_ints([[1, 2], [3, 4]], &device), &[2, 0])
        .unwrap();
    let states = values(out.states);
    assert!(states[2 * 8..].iter().all(|x| *x == 0.0));
    assert!(
        values(out.final_state.hidden)[8..]
            .iter()
            .all(|x| *x == 0.0)
    );
}

#[test]
fn source_embedding_dropout_is_its_own_knob_and_training_only() {
    let tokens = |device: &Device| Tensor::<2, Int>::from_ints([[1, 2, 3]], device);
    let twice = |config: EncoderConfig, device: &Device| {
        let encoder = config.init(device).unwrap();
        let a = values(encoder.forward(tokens(device), &[3]).unwrap().states);
        let b = values(encoder.forward(tokens(device), &[3]).unwrap().states);
        (encoder, a, b)
    };
    let training = Device::flex().autodiff();
    // One layer: `dropout` (between layers) has nowhere to act.
    let (_, a, b) = twice(EncoderConfig::new(10, 8, 8).with_dropout(0.5), &training);
    assert_eq!(a, b);
    let config = EncoderConfig::new(10, 8, 8).with_embedding_dropout(0.5);
    let (encoder, a, b) = twice(config, &training);
    assert_ne!(a, b, "the source embeddings are dropped while training");

    let inference = Device::flex();
    let encoder = encoder.valid();
    let a = values(encoder.forward(tokens(&inference), &[3]).unwrap().states);
    let b = values(encoder.forward(tokens(&inference), &[3]).unwrap().states);
    assert_eq!(a, b, "no dropout at inference");
    assert_eq!(
        EncoderConfig::new(10, 4, 4)
            .with_embedding_dropout(1.0)
            .init(&inference)
            .unwrap_err(),
        EncoderError::Dropout { value: 1.0 }
    );
}
