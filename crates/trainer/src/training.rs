//! The training loop: Adam with gradient clipping and a decaying learning rate, teacher
//! forcing, validation and a checkpoint every epoch, early stopping, exact resumption.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use decoder::Seq2Seq;

use crate::batch::{EncodedPair, bucketed_batches, make_batch, target_tokens};
use crate::checkpoint::{self, Best, TrainingState};
use crate::config::RunConfig;
use crate::data_parallel;
use crate::evaluate::{decode, mean_loss, selection_score, task_scores};
use crate::progress::Progress;
use crate::run::{EpochMetrics, Manifest, RunDir, git_commit, write_atomic};
use crate::tasks;
use crate::vocab::Vocab;
use crate::{Result, TrainerError};

/// Checkpoints kept on disk (older ones are removed once a newer one is complete).
const KEEP_CHECKPOINTS: usize = 2;

/// Held for the whole of a training run. Burn's CPU random generator is process-wide (seeding
/// one device seeds them all), so two runs interleaving their initialisation or dropout draws
/// would each stop being a function of its own seed: runs in one process take turns instead.
static ONE_RUN_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What to train, where, and how to report.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// The configuration of a new run. Ignored when resuming: a run keeps its own
    /// `config.json`, but for [`ResumeChanges`].
    pub config: RunConfig,
    /// The run directory.
    pub out: PathBuf,
    /// `Some`: continue the run in `out` from its latest checkpoint, with these changes.
    pub resume: Option<ResumeChanges>,
    /// No progress output.
    pub quiet: bool,
    /// Set (e.g. by a Ctrl-C handler) to stop after the current batch, with a checkpoint.
    pub stop: Option<Arc<AtomicBool>>,
}

/// What a resumed run may change in its configuration; a change is written to the run's
/// `config.json`, so that the directory keeps describing the run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumeChanges {
    /// Train to this many epochs (`None`: the run's own count).
    pub epochs: Option<usize>,
    /// Run each step on this many threads (`None`: the run's own).
    pub threads: Option<usize>,
}

/// How a training run ended.
#[derive(Debug, Clone)]
pub struct TrainSummary {
    /// The run directory.
    pub run: RunDir,
    /// Epochs completed (over the whole run, resumptions included).
    pub epochs: usize,
    /// The best epoch and its validation scores.
    pub best: Option<(usize, BTreeMap<String, f64>)>,
    /// Stopped because validation stopped improving.
    pub stopped_early: bool,
    /// Stopped by a stop request (Ctrl-C); a checkpoint holds the exact position.
    pub interrupted: bool,
    /// Wall-clock seconds of this invocation.
    pub seconds: f64,
}

/// A run's data and vocabularies, ready for the model.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The task's data as read.
    pub data: crate::data::TaskData,
    /// Source vocabulary.
    pub source_vocab: Vocab,
    /// Target vocabulary.
    pub target_vocab: Vocab,
    /// Training pairs as ids (over-long pairs removed).
    pub train: Vec<EncodedPair>,
    /// Validation pairs (first reference) as ids, for the validation loss.
    pub valid: Vec<EncodedPair>,
}

/// Reads the task's data and builds (or, given, reuses) its vocabularies.
///
/// # Errors
///
/// The task's reading errors; [`TrainerError::Empty`]-like errors when nothing is left.
pub fn prepare(config: &RunConfig, vocabs: Option<(Vocab, Vocab)>) -> Result<Prepared> {
    let data = tasks::load(&config.task, config.training.seed)?;
    let (source_vocab, target_vocab) = vocabs.unwrap_or_else(|| {
        let min = config.task.min_count;
        (
            Vocab::build(data.train.iter().map(|p| &p.source[..]), min, None),
            Vocab::build(data.train.iter().map(|p| &p.target[..]), min, None),
        )
    });
    let max = config.task.max_train_len.unwrap_or(usize::MAX);
    let encode = |source: &[String], target: &[String]| {
        EncodedPair::encode(&source_vocab, &target_vocab, source, target)
    };
    let train: Vec<EncodedPair> = data
        .train
        .iter()
        .filter(|p| !p.source.is_empty() && p.source.len() <= max && p.target.len() <= max)
        .map(|p| encode(&p.source, &p.target))
        .collect();
    if train.is_empty() {
        return Err(TrainerError::invalid(
            "--max-train-len",
            max,
            "no training pair is that short",
        ));
    }
    let valid = data
        .valid
        .iter()
        .map(|i| encode(&i.source, &i.references[0]))
        .collect();
    Ok(Prepared {
        data,
        source_vocab,
        target_vocab,
        train,
        valid,
    })
}

/// Sums the squares of every parameter's gradient.
struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: f64,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            self.sum += f64::from(grad.square().sum().into_scalar::<f32>());
        }
    }
}

/// Multiplies every gradient by `scale`.
struct ScaleGrads<'a> {
    grads: &'a mut GradientsParams,
    scale: f32,
}

impl ModuleMapper for ScaleGrads<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad * self.scale);
        }
        param
    }
}

/// Clips the gradients to a global L2 norm of at most `max_norm` (all parameters together, as
/// `torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
pub fn clip_global_norm(model: &Seq2Seq, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut norm = SquaredNorm { grads, sum: 0.0 };
    model.visit(&mut norm);
    let total = norm.sum.sqrt();
    if total > max_norm {
        let scale = (max_norm / (total + 1e-6)) as f32;
        model.clone().map(&mut ScaleGrads { grads, scale });
    }
    total
}

/// Trains a model as `request` says, writing the run directory as it goes. On CPU the result
/// is a function of the seed; concurrent calls in one process run one after the other.
///
/// # Errors
///
/// Bad options or data, a run directory that already holds a run (without `resume`) or holds
/// none (with it), file errors, or [`TrainerError::Diverged`] when the loss stops being finite
/// (the last checkpoint is kept).
pub fn train(request: TrainRequest) -> Result<TrainSummary> {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let started = Instant::now();
    let run = RunDir::new(&request.out);
    let config = if let Some(changes) = &request.resume {
        let mut stored = RunConfig::load(&run.config()).map_err(|e| match e {
            TrainerError::Io { path, .. } => {
                TrainerError::run(path, "no run to resume here (config.json is missing)")
            }
            other => other,
        })?;
        let before = stored.clone();
        stored.training.epochs = changes.epochs.unwrap_or(stored.training.epochs);
        stored.training.threads = changes.threads.unwrap_or(stored.training.threads);
        if stored != before {
            stored.validate()?;
            stored.save(&run.config())?;
        }
        stored
    } else {
        if run.config().exists() {
            return Err(TrainerError::run(
                run.config(),
                "this directory already holds a run; pass --resume to continue it, or choose another --out",
            ));
        }
        request.config.clone()
    };
    config.validate()?;
    let vocabs = if request.resume.is_some() {
        Some((
            Vocab::load(&run.source_vocab())?,
            Vocab::load(&run.target_vocab())?,
        ))
    } else {
        None
    };
    let prepared = prepare(&config, vocabs)?;
    let seed = config.training.seed;

    let device = config.backend.device()?;
    let train_device = device.clone().autodiff();
    train_device.seed(seed);
    let model_config = config
        .model
        .seq2seq(prepared.source_vocab.len(), prepared.target_vocab.len());
    let mut model = model_config.init(&train_device)?;
    let mut optimizer = AdamConfig::new().init();
    let mut state = TrainingState {
        epoch: 0,
        batches_done: 0,
        step: 0,
        epoch_loss: (0.0, 0),
        learning_rate: config.training.learning_rate,
        best: None,
        bad_epochs: 0,
    };
    let mut last_checkpoint = None;
    if request.resume.is_some() {
        if let Some(&step) = run.checkpoint_steps().last() {
            let dir = run.checkpoint(step);
            (model, optimizer, state) = checkpoint::load(&dir, model, optimizer)?;
            last_checkpoint = Some(dir);
        }
    } else {
        run.create()?;
        config.save(&run.config())?;
        prepared.source_vocab.save(&run.source_vocab())?;
        prepared.target_vocab.save(&run.target_vocab())?;
        let manifest = Manifest {
            program_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: git_commit(),
            backend: config.backend.name().to_string(),
            seed,
            data_checksums: prepared.data.checksums.clone(),
            examples: (
                prepared.train.len(),
                prepared.data.valid.len(),
                prepared.data.test.len(),
            ),
            parameters: model.num_params(),
            longest_source: prepared
                .train
                .iter()
                .map(|p| p.source.len())
                .max()
                .unwrap_or(0),
        };
        write_atomic(
            &run.manifest(),
            &serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
        )?;
    }

    let loss_fn = CrossEntropyLossConfig::new()
        .with_pad_tokens(Some(vec![Vocab::PAD_ID]))
        .init(&train_device);
    let (_, target_tokenizer) = tasks::tokenizers(&config.task);
    let valid_limit = config.training.valid_limit.unwrap_or(usize::MAX);
    let valid_items = &prepared.data.valid[..prepared.data.valid.len().min(valid_limit)];
    let valid_pairs = &prepared.valid[..valid_items.len()];
    let mut progress = Progress::new(request.quiet);
    let stop_requested = || {
        request
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::SeqCst))
    };
    let mut summary = TrainSummary {
        run: run.clone(),
        epochs: state.epoch,
        best: None,
        stopped_early: false,
        interrupted: false,
        seconds: 0.0,
    };

    let save_checkpoint = |model: &Seq2Seq,
                           optimizer: &burn::optim::ModuleOptimizer,
                           state: &TrainingState|
     -> Result<PathBuf> {
        let dir = checkpoint::save(&run, model, optimizer, state)?;
        let steps = run.checkpoint_steps();
        for &old in steps.iter().rev().skip(KEEP_CHECKPOINTS) {
            let _ = std::fs::remove_dir_all(run.checkpoint(old));
        }
        Ok(dir)
    };

    while state.epoch < config.training.epochs && state.bad_epochs < config.training.patience {
        let epoch = state.epoch + 1;
        let epoch_started = Instant::now();
        let batches = bucketed_batches(
            &prepared.train,
            config.training.batch_size,
            seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        progress.start_epoch(epoch, config.training.epochs, batches.len());
        progress.resume_epoch(state.epoch_loss.0, state.epoch_loss.1);
        for indices in &batches[state.batches_done..] {
            if stop_requested() {
                progress.finish();
                state.epoch_loss = progress.epoch_loss();
                save_checkpoint(&model, &optimizer, &state)?;
                summary.interrupted = true;
                break;
            }
            // Dropout draws from the device's generator, seeded per step so that a resumed run
            // draws what an uninterrupted one would.
            train_device.seed(seed.wrapping_add(state.step as u64 + 1));
            let pairs: Vec<&EncodedPair> = indices.iter().map(|&i| &prepared.train[i]).collect();
            let batch_tokens = target_tokens(&pairs);
            let shards = data_parallel::split(&pairs, config.training.threads);
            let (loss_value, mut grads) =
                data_parallel::sharded_gradients(&model, shards, |model, shard| {
                    let batch = make_batch(shard, &train_device);
                    let out =
                        model.forward(batch.source, &batch.source_lengths, batch.target_inputs)?;
                    let [b, t, v] = out.logits.dims();
                    let loss = loss_fn.forward(
                        out.logits.reshape([b * t, v]),
                        batch.target_outputs.reshape([b * t]),
                    );
                    // The loss is a mean over target tokens: weighted by the shard's share, the
                    // shards' losses (and gradients) sum to the whole batch's.
                    Ok(loss * (batch.target_tokens as f32 / batch_tokens as f32))
                })?;
            if !loss_value.is_finite() {
                progress.finish();
                return Err(TrainerError::Diverged {
                    loss: loss_value,
                    epoch,
                    step: state.step + 1,
                    checkpoint: last_checkpoint,
                });
            }
            if let Some(max_norm) = config.training.clip_norm {
                clip_global_norm(&model, &mut grads, max_norm);
            }
            model = optimizer.step(state.learning_rate, model, grads);
            state.step += 1;
            state.batches_done += 1;
            progress.batch(f64::from(loss_value), batch_tokens);
        }
        if summary.interrupted {
            break;
        }
        progress.finish();

        // Validation: loss under teacher forcing, and the task's scores of greedy outputs.
        let valid_model = model.valid();
        let valid_loss = mean_loss(
            &valid_model,
            valid_pairs,
            config.training.batch_size,
            &device,
        )?;
        let sources: Vec<Vec<usize>> = valid_pairs.iter().map(|p| p.source.clone()).collect();
        let greedy = crate::config::DecodingOptions {
            beam: 1,
            ..config.decoding.clone()
        };
        let hyps = decode(&valid_model, &sources, &greedy, &device)?;
        let predictions: Vec<Vec<String>> = hyps
            .iter()
            .map(|h| prepared.target_vocab.decode(&h.tokens))
            .collect();
        let scores = task_scores(
            config.task.kind,
            &predictions,
            valid_items,
            target_tokenizer,
        );
        let score = selection_score(config.task.kind, &scores);

        let learning_rate = state.learning_rate;
        let improved = state
            .best
            .is_none_or(|best| best.beaten_by(score, valid_loss));
        if improved {
            state.best = Some(Best {
                score,
                valid_loss,
                epoch,
            });
            state.bad_epochs = 0;
            write_atomic(&run.model(), &checkpoint::model_bytes(&valid_model)?)?;
        } else {
            state.bad_epochs += 1;
            state.learning_rate *= config.training.lr_decay;
        }
        state.epoch = epoch;
        state.batches_done = 0;
        state.epoch_loss = (0.0, 0);
        last_checkpoint = Some(save_checkpoint(&model, &optimizer, &state)?);
        let metrics = EpochMetrics {
            epoch,
            train_loss: progress.mean_loss(),
            valid_loss,
            valid_perplexity: valid_loss.exp(),
            valid: scores.clone(),
            learning_rate,
            tokens_per_second: progress.tokens_per_second(),
            seconds: epoch_started.elapsed().as_secs_f64(),
        };
        run.record_metrics(&metrics)?;
        let shown: Vec<String> = scores.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
        progress.line(&format!(
            "epoch {epoch}: train loss {:.4}, valid loss {valid_loss:.4} (ppl {:.2}), {}{}",
            metrics.train_loss,
            metrics.valid_perplexity,
            shown.join(", "),
            if improved { " *" } else { "" }
        ));
        summary.epochs = epoch;
    }
    summary.stopped_early = state.bad_epochs >= config.training.patience;
    let metrics = run.read_metrics()?;
    summary.best = state.best.and_then(|best| {
        metrics
            .iter()
            .find(|m| m.epoch == best.epoch)
            .map(|m| (best.epoch, m.valid.clone()))
    });
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
