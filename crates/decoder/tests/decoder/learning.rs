//! Every query ordering × score × cell learns to reverse sequences of 1–5 symbols, to 100%
//! exact match on held-out examples, within a fixed budget of training steps.

use attention_core::ScoreKind;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use decoder::{DecoderConfig, MaxLength, QueryOrdering, SearchOptions, Seq2Seq, Seq2SeqConfig};
use encoder::{CellKind, EncoderConfig};

use crate::task::{BOS, EOS, PAD, Rng, VOCAB, random_batch};

const BATCH: usize = 32;
const BUDGET: usize = 3000;
const CHECK_EVERY: usize = 50;
const LEARNING_RATE: f64 = 0.01;

/// Exact-match accuracy of greedy decoding on `held_out`.
fn exact_match(model: &Seq2Seq, held_out: &crate::task::Batch) -> f64 {
    let options = SearchOptions {
        bos: BOS,
        eos: EOS,
        max_length: MaxLength {
            ratio: 1.0,
            extra: 2,
        },
    };
    let hyps = model
        .greedy(held_out.source.clone(), &held_out.lengths, &options)
        .unwrap();
    let correct = hyps
        .iter()
        .zip(&held_out.sources)
        .filter(|(h, src)| h.finished && h.tokens.iter().eq(src.iter().rev()))
        .count();
    correct as f64 / hyps.len() as f64
}

/// Trains until 100% exact match on 200 held-out sentences; returns the steps it took, or the
/// best accuracy seen if the budget ran out.
fn steps_to_learn(ordering: QueryOrdering, score: ScoreKind, cell: CellKind) -> Result<usize, f64> {
    let device = Device::flex().autodiff();
    device.seed(7);
    let config = Seq2SeqConfig::new(
        EncoderConfig::new(VOCAB, 16, 32).with_cell(cell),
        DecoderConfig::new(VOCAB, 16, 32, 32)
            .with_cell(cell)
            .with_ordering(ordering)
            .with_score(Some(score)),
    );
    let mut model = config.init(&device).unwrap();
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new()
        .with_pad_tokens(Some(vec![PAD]))
        .init(&device);
    let mut rng = Rng::new(11);
    let held_out = random_batch(&mut Rng::new(99), 200, &device);
    let mut best = 0.0;
    for step in 1..=BUDGET {
        let batch = random_batch(&mut rng, BATCH, &device);
        let out = model
            .forward(batch.source, &batch.lengths, batch.target_inputs)
            .unwrap();
        let [b, t, v] = out.logits.dims();
        let loss = loss_fn.forward(
            out.logits.reshape([b * t, v]),
            batch.target_outputs.reshape([b * t]),
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(LEARNING_RATE, model, grads);
        if step % CHECK_EVERY == 0 {
            let accuracy = exact_match(&model.valid(), &held_out);
            if accuracy == 1.0 {
                return Ok(step);
            }
            best = f64::max(best, accuracy);
        }
    }
    Err(best)
}

macro_rules! learns {
    ($($name:ident: $ordering:ident, $score:ident, $cell:ident;)*) => {$(
        #[test]
        fn $name() {
            match steps_to_learn(QueryOrdering::$ordering, ScoreKind::$score, CellKind::$cell) {
                Ok(steps) => eprintln!("{}: 100% after {steps} steps", stringify!($name)),
                Err(best) => panic!(
                    "{} did not reach 100% exact match in {BUDGET} steps (best {:.1}%)",
                    stringify!($name),
                    best * 100.0
                ),
            }
        }
    )*};
}

learns! {
    bahdanau_dot_gru: Bahdanau, Dot, Gru;
    bahdanau_scaled_dot_gru: Bahdanau, ScaledDot, Gru;
    bahdanau_general_gru: Bahdanau, General, Gru;
    bahdanau_additive_gru: Bahdanau, Additive, Gru;
    bahdanau_dot_lstm: Bahdanau, Dot, Lstm;
    bahdanau_scaled_dot_lstm: Bahdanau, ScaledDot, Lstm;
    bahdanau_general_lstm: Bahdanau, General, Lstm;
    bahdanau_additive_lstm: Bahdanau, Additive, Lstm;
    luong_dot_gru: Luong, Dot, Gru;
    luong_scaled_dot_gru: Luong, ScaledDot, Gru;
    luong_general_gru: Luong, General, Gru;
    luong_additive_gru: Luong, Additive, Gru;
    luong_dot_lstm: Luong, Dot, Lstm;
    luong_scaled_dot_lstm: Luong, ScaledDot, Lstm;
    luong_general_lstm: Luong, General, Lstm;
    luong_additive_lstm: Luong, Additive, Lstm;
}
