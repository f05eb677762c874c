//! A training step on several threads computes the whole batch's gradients.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use trainer::data_parallel::{sharded_gradients, split};
use trainer::{
    EncodedPair, ModelOptions, ResumeChanges, RunConfig, TaskKind, TrainRequest, batch_loss,
    make_batch, target_tokens,
};

use crate::end_to_end::{small_config, train};

/// Every parameter's gradient, flattened, in visiting order.
struct Collect<'a> {
    grads: &'a GradientsParams,
    out: Vec<Vec<f32>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let grad = self
            .grads
            .get::<D>(param.id)
            .expect("every parameter has a gradient");
        self.out.push(grad.into_data().try_to_vec::<f32>().unwrap());
    }
}

#[test]
fn shards_on_threads_give_the_whole_batch_s_gradients() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let options = ModelOptions {
        embedding: 8,
        encoder_hidden: 12,
        decoder_hidden: 16,
        ..ModelOptions::default()
    };
    let model = options.seq2seq(20, 20).init(&device).unwrap();
    // Ragged lengths, so that each shard pads differently from the whole batch.
    let pairs: Vec<EncodedPair> = (0..7)
        .map(|i| EncodedPair {
            source: (0..2 + i % 4).map(|j| 4 + (i + j) % 15).collect(),
            target: (0..1 + (i * 3) % 5).map(|j| 4 + (2 * i + j) % 15).collect(),
        })
        .collect();
    let refs: Vec<&EncodedPair> = pairs.iter().collect();
    let total = target_tokens(&refs);
    let gradients = |threads: usize| {
        let (loss, grads) = sharded_gradients(&model, split(&refs, threads), |model, shard| {
            let batch = make_batch(shard, &device);
            let share = batch.target_tokens as f32 / total as f32;
            Ok(batch_loss(model, batch, 0.0)? * share)
        })
        .unwrap();
        let mut collect = Collect {
            grads: &grads,
            out: Vec::new(),
        };
        model.visit(&mut collect);
        (loss, collect.out)
    };
    let (whole_loss, whole) = gradients(1);
    for threads in [2, 3, 7] {
        let (loss, sharded) = gradients(threads);
        assert!(
            (loss - whole_loss).abs() <= 1e-5 * whole_loss.abs(),
            "{threads} threads: loss {loss} vs {whole_loss}"
        );
        assert_eq!(sharded.len(), whole.len());
        for (p, (a, b)) in sharded.iter().zip(&whole).enumerate() {
            let scale = b.iter().fold(1e-3f32, |m, x| m.max(x.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-5 * scale,
                    "{threads} threads, parameter {p}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn a_run_on_two_threads_learns_like_one_and_is_reproducible() {
    let run = |threads: usize, name: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut config: RunConfig = small_config(2_000, 2);
        config.training.threads = threads;
        let out = dir.path().join(name);
        train(config, &out, false, None);
        let metrics = trainer::RunDir::new(&out).read_metrics().unwrap();
        let stored = trainer::RunDir::new(&out).read_config().unwrap();
        assert_eq!(
            stored.training.threads, threads,
            "config.json records the threads"
        );
        metrics
            .iter()
            .map(|m| (m.train_loss, m.valid_loss))
            .collect::<Vec<_>>()
    };
    let one = run(1, "one");
    let two = run(2, "two");
    let again = run(2, "again");
    assert_eq!(
        two, again,
        "no dropout: two threads give the same run twice"
    );
    // The same gradients up to float rounding (the test above); over two epochs of Adam that
    // rounding must stay in the last digits. (Forks that drew lazily initialised parameters in
    // their own order once made these differ by 18 %.)
    for ((a, b), (c, d)) in one.iter().zip(&two) {
        assert!(
            (a - c).abs() <= 1e-3 * a && (b - d).abs() <= 1e-3 * b,
            "train/valid loss: one thread {a}/{b}, two {c}/{d}"
        );
    }
    // Resumed on two threads: the change is recorded and the run continues as it was.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("resumed");
    train(small_config(2_000, 1), &out, false, None);
    let resume = |changes: ResumeChanges| {
        trainer::train(TrainRequest {
            config: small_config(2_000, 1),
            out: out.clone(),
            resume: Some(changes),
            quiet: true,
            stop: None,
        })
    };
    let refused = resume(ResumeChanges {
        epochs: Some(2),
        threads: Some(0),
        keep_checkpoints: None,
    });
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("training.threads")),
        "0 threads is refused: {refused:?}"
    );
    resume(ResumeChanges {
        epochs: Some(2),
        threads: Some(2),
        keep_checkpoints: Some(3),
    })
    .unwrap();
    let stored = trainer::RunDir::new(&out).read_config().unwrap();
    let training = &stored.training;
    assert_eq!(
        (training.epochs, training.threads, training.keep_checkpoints),
        (2, 2, 3)
    );
    let resumed = trainer::RunDir::new(&out).read_metrics().unwrap();
    assert_eq!(resumed.len(), 2);
    for (m, (a, b)) in resumed.iter().zip(&one) {
        assert!(
            (m.train_loss - a).abs() <= 1e-3 * a && (m.valid_loss - b).abs() <= 1e-3 * b,
            "resumed on two threads: {}/{} vs {a}/{b}",
            m.train_loss,
            m.valid_loss
        );
    }
    let default = RunConfig::new(TaskKind::Dates, trainer::Backend::Flex);
    assert_eq!(default.training.threads, 1, "one thread unless asked");
}
