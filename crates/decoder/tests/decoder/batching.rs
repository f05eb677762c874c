//! Decoding is the same alone and in a padded batch; beam k = 1 is greedy; teacher forcing
//! equals step-by-step decoding; source pads get no attention.

use attention_core::ScoreKind;
use burn::prelude::*;
use decoder::{
    BeamOptions, DecoderConfig, Hypothesis, InitialState, MaxLength, QueryOrdering, SearchOptions,
    Seq2Seq, Seq2SeqConfig,
};
use encoder::{CellKind, EncoderConfig};

use crate::task::{BOS, EOS, VOCAB, batch_of, ints};

/// The variants worth telling apart: both orderings, input feeding, the baseline, both cells,
/// a bidirectional two-layer encoder and a bridge.
pub(crate) fn variants() -> Vec<(&'static str, Seq2SeqConfig)> {
    let enc = |cell, bi: bool, layers| {
        EncoderConfig::new(VOCAB, 6, 8)
            .with_cell(cell)
            .with_bidirectional(bi)
            .with_num_layers(layers)
    };
    let dec = |encoder_size| DecoderConfig::new(VOCAB, 6, encoder_size, encoder_size);
    vec![
        (
            "bahdanau additive gru",
            Seq2SeqConfig::new(enc(CellKind::Gru, false, 1), dec(8)),
        ),
        (
            "bahdanau dot lstm, bidirectional 2-layer encoder",
            Seq2SeqConfig::new(
                enc(CellKind::Lstm, true, 2),
                dec(16)
                    .with_cell(CellKind::Lstm)
                    .with_score(Some(ScoreKind::Dot)),
            ),
        ),
        (
            "luong general gru",
            Seq2SeqConfig::new(
                enc(CellKind::Gru, true, 1),
                dec(16)
                    .with_ordering(QueryOrdering::Luong)
                    .with_score(Some(ScoreKind::General)),
            ),
        ),
        (
            "luong general lstm, input feeding, bridge, hidden != encoder size",
            Seq2SeqConfig::new(
                enc(CellKind::Lstm, false, 1),
                DecoderConfig::new(VOCAB, 6, 10, 8)
                    .with_cell(CellKind::Lstm)
                    .with_ordering(QueryOrdering::Luong)
                    .with_input_feeding(true)
                    .with_initial_state(InitialState::Bridge)
                    .with_score(Some(ScoreKind::General)),
            ),
        ),
        (
            "no-attention baseline",
            Seq2SeqConfig::new(enc(CellKind::Gru, false, 1), dec(8).with_score(None)),
        ),
        (
            "no-attention baseline, luong",
            Seq2SeqConfig::new(
                enc(CellKind::Gru, false, 1),
                dec(8).with_score(None).with_ordering(QueryOrdering::Luong),
            ),
        ),
    ]
}

pub(crate) fn search() -> SearchOptions {
    SearchOptions {
        bos: BOS,
        eos: EOS,
        max_length: MaxLength {
            ratio: 1.5,
            extra: 2,
        },
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

pub(crate) fn assert_same(a: &Hypothesis, b: &Hypothesis, what: &str) {
    assert_eq!(a.tokens, b.tokens, "{what}: tokens");
    assert_eq!(a.finished, b.finished, "{what}: finished");
    assert!(
        (a.log_prob - b.log_prob).abs() <= 1e-4,
        "{what}: log P {} vs {}",
        a.log_prob,
        b.log_prob
    );
    assert_eq!(a.weights.len(), b.weights.len(), "{what}: weight rows");
    for (ra, rb) in a.weights.iter().zip(&b.weights) {
        assert_eq!(ra.len(), rb.len(), "{what}: weight row length");
        for (x, y) in ra.iter().zip(rb) {
            assert!((x - y).abs() <= 1e-5, "{what}: weight {x} vs {y}");
        }
    }
}

pub(crate) fn models() -> Vec<(&'static str, Seq2Seq)> {
    let device = Device::flex();
    variants()
        .into_iter()
        .map(|(name, config)| (name, config.init(&device).unwrap().valid()))
        .collect()
}

#[test]
fn a_sentence_decodes_the_same_alone_and_in_a_padded_batch() {
    let device = Device::flex();
    let sentence = vec![4, 8, 5];
    let alone = batch_of(vec![sentence.clone()], &device);
    let padded = batch_of(vec![vec![3, 4, 5, 6, 7], sentence, vec![6]], &device);
    let beam = BeamOptions {
        width: 3,
        length_penalty: 0.6,
        n_best: 3,
    };
    for (name, model) in models() {
        let a = model
            .greedy(alone.source.clone(), &alone.lengths, &search())
            .unwrap();
        let b = model
            .greedy(padded.source.clone(), &padded.lengths, &search())
            .unwrap();
        assert_same(&a[0], &b[1], &format!("{name}, greedy"));
        if !name.contains("baseline") {
            assert_eq!(
                a[0].weights[0].len(),
                3,
                "{name}: weights cover the real source only"
            );
        }

        let a = model
            .beam(alone.source.clone(), &alone.lengths, &search(), &beam)
            .unwrap();
        let b = model
            .beam(padded.source.clone(), &padded.lengths, &search(), &beam)
            .unwrap();
        assert_eq!(a[0].len(), 3, "{name}: n-best");
        for (i, (x, y)) in a[0].iter().zip(&b[1]).enumerate() {
            assert_same(x, y, &format!("{name}, beam hypothesis {i}"));
        }
        let scores: Vec<f32> = b[1].iter().map(|h| h.score).collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "{name}: n-best sorted, {scores:?}"
        );
    }
}

#[test]
fn beam_of_width_one_is_greedy() {
    let device = Device::flex();
    let batch = batch_of(vec![vec![3, 4, 5, 6, 7], vec![4, 8, 5], vec![6]], &device);
    for (name, model) in models() {
        let greedy = model
            .greedy(batch.source.clone(), &batch.lengths, &search())
            .unwrap();
        for length_penalty in [0.0, 1.0] {
            let beam = BeamOptions {
                width: 1,
                length_penalty,
                n_best: 1,
            };
            let beamed = model
                .beam(batch.source.clone(), &batch.lengths, &search(), &beam)
                .unwrap();
            for (b, (g, hyps)) in greedy.iter().zip(&beamed).enumerate() {
                assert_same(
                    g,
                    &hyps[0],
                    &format!("{name}, sentence {b}, alpha {length_penalty}"),
                );
            }
        }
    }
}

#[test]
fn teacher_forcing_equals_decoding_step_by_step() {
    let device = Device::flex();
    let batch = batch_of(vec![vec![3, 4, 5, 6, 7], vec![4, 8, 5]], &device);
    let targets = ints(&[vec![BOS, 5, 6, 7, 8], vec![BOS, 3, 3, 4, 0]], 5, &device);
    for (name, model) in models() {
        let encoded = model
            .encoder
            .forward(batch.source.clone(), &batch.lengths)
            .unwrap();
        let forced = model.decoder.forward(&encoded, targets.clone());
        let source = model.decoder.source(&encoded);
        let mut state = model.decoder.initial_state(&encoded);
        let mut logits = Vec::new();
        let mut weights = Vec::new();
        for t in 0..5 {
            let previous = targets.clone().narrow(1, t, 1).squeeze_dim::<1>(1);
            let step = model.decoder.step(previous, state, &source);
            logits.push(step.logits);
            weights.extend(step.weights);
            state = step.state;
        }
        let stepped = values(Tensor::stack::<3>(logits, 1));
        for (x, y) in values(forced.logits).iter().zip(&stepped) {
            assert!((x - y).abs() <= 1e-5, "{name}: logits {x} vs {y}");
        }
        match forced.weights {
            Some(w) => {
                let stepped = values(Tensor::stack::<3>(weights, 1));
                for (x, y) in values(w).iter().zip(&stepped) {
                    assert!((x - y).abs() <= 1e-5, "{name}: weights {x} vs {y}");
                }
            }
            None => assert!(weights.is_empty(), "{name}: the baseline has no weights"),
        }
    }
}

/// Beam search's source ([`Decoder::projected_source`]) and the sources searches step with
/// ([`Decoder::search_source`], whose token shares of the cell input are looked up) step as
/// the plain one does, through row selections that repeat, reorder and drop sentences (the last
/// leaves fewer than half of them, so the projected states are compacted).
#[test]
fn projected_source_steps_as_the_plain_source() {
    let device = Device::flex();
    let batch = batch_of(
        vec![
            vec![3, 4, 5, 6, 7],
            vec![4, 8, 5],
            vec![6, 6],
            vec![7, 3, 4, 5],
        ],
        &device,
    );
    let selections: [&[usize]; 3] = [&[0, 0, 1, 2, 2, 2, 3], &[6, 5, 0, 1, 2, 3], &[1, 1]];
    for (name, model) in models() {
        let encoded = model
            .encoder
            .forward(batch.source.clone(), &batch.lengths)
            .unwrap();
        let mut plain = model.decoder.source(&encoded);
        let mut others = [
            model.decoder.projected_source(&encoded),
            model.decoder.search_source(&encoded, false),
            model.decoder.search_source(&encoded, true),
        ];
        // 4 sentences × 5 positions ≥ the 9 target tokens: the searches' sources look up.
        assert!(
            others[1..].iter().all(|s| s.token_input.is_some()),
            "{name}"
        );
        let mut states = [
            model.decoder.initial_state(&encoded),
            model.decoder.initial_state(&encoded),
            model.decoder.initial_state(&encoded),
            model.decoder.initial_state(&encoded),
        ];
        let mut previous = vec![BOS; 4];
        for (t, rows) in std::iter::once(None)
            .chain(selections.map(Some))
            .enumerate()
        {
            if let Some(rows) = rows {
                plain = plain.select(rows, &device);
                others = others.map(|s| s.select(rows, &device));
                states = states.map(|s| s.select(rows, &device));
                previous = rows.iter().map(|&r| previous[r]).collect();
            }
            let [a, rest @ ..] = states;
            let tokens = ints(&[previous.clone()], previous.len(), &device).squeeze_dim::<1>(0);
            let x = model.decoder.step(tokens.clone(), a, &plain);
            let expected = values(x.logits);
            let mut next = vec![x.state];
            for (k, (state, source)) in rest.into_iter().zip(&others).enumerate() {
                let y = model.decoder.step(tokens.clone(), state, source);
                for (u, v) in expected.iter().zip(&values(y.logits)) {
                    assert!(
                        (u - v).abs() <= 1e-5,
                        "{name}, source {k}, step {t}: logits {u} vs {v}"
                    );
                }
                next.push(y.state);
            }
            states = next.try_into().expect("four states");
            previous = previous.iter().map(|p| (p + 3) % VOCAB).collect();
        }
    }
}

#[test]
fn source_pads_get_zero_weight_at_every_step() {
    let device = Device::flex();
    let batch = batch_of(
        vec![vec![3, 4, 5, 6, 7], vec![4, 8], vec![6, 6, 6]],
        &device,
    );
    for (name, model) in models() {
        let out = model
            .forward(
                batch.source.clone(),
                &batch.lengths,
                batch.target_inputs.clone(),
            )
            .unwrap();
        let Some(weights) = out.weights else { continue };
        let [rows, tgt_len, src_len] = weights.dims();
        let w = values(weights);
        for b in 0..rows {
            for t in 0..tgt_len {
                let row = &w[(b * tgt_len + t) * src_len..][..src_len];
                assert!(
                    row[batch.lengths[b]..].iter().all(|x| *x == 0.0),
                    "{name}: row {b} step {t}: {row:?}"
                );
                assert!(
                    (row.iter().sum::<f32>() - 1.0).abs() < 1e-5,
                    "{name}: row {b} step {t} sums to 1"
                );
            }
        }
    }
}

/// Every beam hypothesis, re-scored by teacher forcing its own tokens, has the log-probability
/// and the attention weights the search reported: the weights followed it through reordering.
#[test]
fn beam_hypotheses_carry_their_own_weights_and_scores() {
    let device = Device::flex();
    let batch = batch_of(vec![vec![3, 4, 5, 6, 7], vec![4, 8, 5], vec![6]], &device);
    let beam = BeamOptions {
        width: 4,
        length_penalty: 0.0,
        n_best: 4,
    };
    for (name, model) in models() {
        let results = model
            .beam(batch.source.clone(), &batch.lengths, &search(), &beam)
            .unwrap();
        for (b, hyps) in results.iter().enumerate() {
            let alone = batch_of(vec![batch.sources[b].clone()], &device);
            for (i, hyp) in hyps.iter().enumerate() {
                let what = format!("{name}, sentence {b}, hypothesis {i}");
                let inputs: Vec<usize> = [&[BOS][..], &hyp.tokens].concat();
                let out = model
                    .forward(
                        alone.source.clone(),
                        &alone.lengths,
                        ints(std::slice::from_ref(&inputs), inputs.len(), &device),
                    )
                    .unwrap();
                let log_probs = values(burn::tensor::activation::log_softmax(out.logits, 2));
                let mut next: Vec<usize> = hyp.tokens.clone();
                if hyp.finished {
                    next.push(EOS);
                }
                let log_prob: f32 = next
                    .iter()
                    .enumerate()
                    .map(|(t, &tok)| log_probs[t * VOCAB + tok])
                    .sum();
                assert!(
                    (log_prob - hyp.log_prob).abs() <= 1e-4,
                    "{what}: log P {log_prob} vs {}",
                    hyp.log_prob
                );
                if let Some(weights) = out.weights {
                    let src_len = batch.lengths[b];
                    let forced = values(weights);
                    assert_eq!(
                        hyp.weights.len(),
                        next.len(),
                        "{what}: one weight row per output step"
                    );
                    for (t, row) in hyp.weights.iter().enumerate() {
                        for (x, y) in row.iter().zip(&forced[t * src_len..(t + 1) * src_len]) {
                            assert!((x - y).abs() <= 1e-5, "{what}: step {t} weight {x} vs {y}");
                        }
                    }
                }
            }
        }
    }
}
