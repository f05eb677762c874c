//! An ensemble of one model, or of a model with itself, decodes as the model alone; two models
//! decode on the mean of their log-probabilities and attention weights.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use decoder::{
    BeamOptions, DecoderConfig, DecoderError, Ensemble, Hypothesis, Seq2Seq, Seq2SeqConfig,
};
use encoder::EncoderConfig;

use crate::batching::{assert_same, models, search, variants};
use crate::task::{BOS, EOS, VOCAB, batch_of, ints};

fn beam() -> BeamOptions {
    BeamOptions {
        width: 3,
        length_penalty: 0.6,
        n_best: 3,
    }
}

fn sentences() -> Vec<Vec<usize>> {
    vec![vec![3, 4, 5, 6, 7], vec![4, 8, 5], vec![6]]
}

/// Greedy and beam outputs of `ensemble` equal those of `model` on every sentence.
fn assert_decodes_as(ensemble: &Ensemble, model: &Seq2Seq, what: &str) {
    let batch = batch_of(sentences(), &Device::flex());
    let a = ensemble
        .greedy(batch.source.clone(), &batch.lengths, &search())
        .unwrap();
    let b = model
        .greedy(batch.source.clone(), &batch.lengths, &search())
        .unwrap();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_same(x, y, &format!("{what}, greedy sentence {i}"));
    }
    let a = ensemble
        .beam(batch.source.clone(), &batch.lengths, &search(), &beam())
        .unwrap();
    let b = model
        .beam(batch.source.clone(), &batch.lengths, &search(), &beam())
        .unwrap();
    for (i, (xs, ys)) in a.iter().zip(&b).enumerate() {
        assert_eq!(xs.len(), ys.len(), "{what}: n-best of sentence {i}");
        for (j, (x, y)) in xs.iter().zip(ys).enumerate() {
            assert_same(x, y, &format!("{what}, beam sentence {i} hypothesis {j}"));
        }
    }
}

#[test]
fn an_ensemble_of_one_or_of_a_model_with_itself_decodes_as_the_model_alone() {
    for (name, model) in models() {
        assert_decodes_as(
            &Ensemble::from(model.clone()),
            &model,
            &format!("{name}, alone"),
        );
        let twice = Ensemble::new(vec![model.clone(), model.clone()]).unwrap();
        assert_decodes_as(&twice, &model, &format!("{name}, twice"));
    }
}

/// Teacher-forced log P of `hyp`'s tokens (and EOS when finished) under `model`, and its
/// attention weights, step by step.
fn forced(model: &Seq2Seq, source: &[usize], hyp: &Hypothesis) -> (f32, Vec<Vec<f32>>) {
    let device = Device::flex();
    let mut outputs = hyp.tokens.clone();
    if hyp.finished {
        outputs.push(EOS);
    }
    let inputs: Vec<usize> = [&[BOS][..], &outputs[..outputs.len() - 1]].concat();
    let out = model
        .forward(
            ints(&[source.to_vec()], source.len(), &device),
            &[source.len()],
            ints(&[inputs], outputs.len(), &device),
        )
        .unwrap();
    let log_probs = log_softmax(out.logits, 2)
        .into_data()
        .try_into_vec::<f32>()
        .unwrap();
    let log_p = outputs
        .iter()
        .enumerate()
        .map(|(i, &t)| log_probs[i * VOCAB + t])
        .sum();
    let weights = out
        .weights
        .unwrap()
        .into_data()
        .try_into_vec::<f32>()
        .unwrap()
        .chunks(source.len())
        .map(<[f32]>::to_vec)
        .collect();
    (log_p, weights)
}

#[test]
fn two_models_decode_on_the_mean_of_their_log_probabilities_and_weights() {
    let device = Device::flex();
    let configs = variants();
    // An additive GRU and a Luong general GRU with a bidirectional encoder: other sizes, other
    // initial parameters, one vocabulary.
    let a = configs[0].1.init(&device).unwrap().valid();
    let b = configs[2].1.init(&device).unwrap().valid();
    let ensemble = Ensemble::new(vec![a.clone(), b.clone()]).unwrap();
    let batch = batch_of(sentences(), &device);
    let hyps = ensemble
        .greedy(batch.source.clone(), &batch.lengths, &search())
        .unwrap();
    let mut differ = false;
    for (source, hyp) in sentences().iter().zip(&hyps) {
        let (lp_a, w_a) = forced(&a, source, hyp);
        let (lp_b, w_b) = forced(&b, source, hyp);
        differ |= (lp_a - lp_b).abs() > 1e-3;
        let mean = (lp_a + lp_b) / 2.0;
        assert!(
            (hyp.log_prob - mean).abs() <= 1e-4,
            "{source:?}: ensemble log P {} vs the models' mean {mean}",
            hyp.log_prob
        );
        assert_eq!(
            hyp.weights.len(),
            w_a.len(),
            "{source:?}: one weight row per step"
        );
        for (i, row) in hyp.weights.iter().enumerate() {
            for (j, w) in row.iter().enumerate() {
                let mean = (w_a[i][j] + w_b[i][j]) / 2.0;
                assert!(
                    (w - mean).abs() <= 1e-5,
                    "{source:?} α[{i}][{j}]: {w} vs {mean}"
                );
            }
            let sum: f32 = row.iter().sum();
            assert!(
                (sum - 1.0).abs() <= 1e-5,
                "{source:?}: row {i} sums to {sum}"
            );
        }
    }
    assert!(differ, "the two models must disagree for the test to tell");
    // Beam search at width 1 is greedy search, for ensembles too.
    let one = BeamOptions {
        width: 1,
        length_penalty: 0.0,
        n_best: 1,
    };
    let beamed = ensemble
        .beam(batch.source.clone(), &batch.lengths, &search(), &one)
        .unwrap();
    for (i, (x, y)) in beamed.iter().zip(&hyps).enumerate() {
        assert_same(&x[0], y, &format!("beam 1 vs greedy, sentence {i}"));
    }
}

#[test]
fn models_with_other_vocabularies_or_none_are_no_ensemble() {
    let device = Device::flex();
    let small = Seq2SeqConfig::new(
        EncoderConfig::new(VOCAB, 6, 8),
        DecoderConfig::new(VOCAB, 6, 8, 8),
    );
    let bigger = Seq2SeqConfig::new(
        EncoderConfig::new(VOCAB, 6, 8),
        DecoderConfig::new(VOCAB + 1, 6, 8, 8),
    );
    let err = Ensemble::new(vec![
        small.init(&device).unwrap(),
        bigger.init(&device).unwrap(),
    ])
    .unwrap_err();
    let DecoderError::Ensemble { why } = &err else {
        panic!("{err:?}")
    };
    assert!(why.contains("model 2") && why.contains("(9, 10)"), "{why}");
    assert!(matches!(
        Ensemble::new(vec![]),
        Err(DecoderError::Ensemble { .. })
    ));
}
