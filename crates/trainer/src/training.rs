//! The training loop: Adam with gradient clipping and a decaying learning rate, teacher
//! forcing, validation and a checkpoint every epoch, early stopping, exact resumption.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::prelude::*;
use decoder::{Ensemble, Seq2Seq};

use crate::batch::{EncodedPair, bucketed_batches, make_batch, target_tokens};
use crate::checkpoint::{self, Best, TrainingState};
use crate::clipping::clip_global_norm;
use crate::data_parallel;
use crate::evaluate::{mean_loss, selection_score, task_scores};
use crate::loss::batch_loss;
use crate::progress::Progress;
use crate::run::{EpochMetrics, Manifest, RunDir, write_atomic};
use crate::tasks;
use crate::{Result, TrainerError};
use inference::RunConfig;
use inference::{Subwords, Vocab};
use runtime::decode;

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
    /// Keep this many newest checkpoints from now on (`None`: the run's own).
    pub keep_checkpoints: Option<usize>,
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
    /// The subword vocabulary the text is cut with (`tokenizer.json`), if the run has one.
    pub subwords: Option<Subwords>,
    /// Training pairs as ids (over-long pairs removed).
    pub train: Vec<EncodedPair>,
    /// Validation pairs (first reference) as ids, for the validation loss.
    pub valid: Vec<EncodedPair>,
}

/// Reads the task's data, cut by `subwords` when the run has them, and builds (or, given,
/// reuses) its vocabularies.
///
/// # Errors
///
/// The task's reading errors; [`TrainerError::Empty`]-like errors when nothing is left.
pub fn prepare(
    config: &RunConfig,
    vocabs: Option<(Vocab, Vocab)>,
    subwords: Option<Subwords>,
) -> Result<Prepared> {
    let data = tasks::load(&config.task, config.training.seed, subwords.as_ref())?;
    let (source_vocab, target_vocab) = vocabs.unwrap_or_else(|| {
        // Every piece of a subword vocabulary seen in training is kept: rare pieces are what
        // spell rare words.
        let min = if subwords.is_some() {
            1
        } else {
            config.task.min_count
        };
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
            "task.max_train_len",
            max,
            "no training pair is that short",
        ));
    }
    // A validation sentence may hold a piece its side never had in training (the joint
    // vocabulary learned it from the other language): spelled in known pieces, as at prediction.
    let known = |source: &[String]| match subwords {
        Some(_) => source_vocab.split_unknown(source),
        None => source.to_vec(),
    };
    let valid = data
        .valid
        .iter()
        .map(|i| encode(&known(&i.source), &i.references[0]))
        .collect();
    Ok(Prepared {
        data,
        source_vocab,
        target_vocab,
        subwords,
        train,
        valid,
    })
}

/// Trains a model as `request` says, writing the run directory as it goes. On CPU the result
/// is a function of the seed; concurrent calls in one process run one after the other.
///
/// The loop's phases: open the run (a new one, or a resumed one at its checkpoint), train an
/// epoch one step per batch, validate, and end the epoch (best model, learning rate, checkpoint,
/// metrics).
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
    let mut session = Session::open(&request)?;
    let mut interrupted = false;
    while session.wants_another_epoch() {
        let epoch_started = Instant::now();
        if session.train_epoch(request.stop.as_deref())? == EpochEnd::Interrupted {
            interrupted = true;
            break;
        }
        let validation = session.validate()?;
        session.end_epoch(validation, epoch_started)?;
    }
    Ok(session.summary(interrupted, started))
}

/// How [`Session::train_epoch`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EpochEnd {
    /// Every batch trained.
    Complete,
    /// A stop request; a checkpoint holds the position within the epoch.
    Interrupted,
}

/// An epoch's validation: loss under teacher forcing and the task's scores of greedy outputs.
struct Validation {
    loss: f64,
    scores: BTreeMap<String, f64>,
    /// The score that picks the best epoch (higher is better).
    score: f64,
}

/// A training run in progress: its directory, data, model, optimizer and position.
struct Session {
    run: RunDir,
    config: RunConfig,
    prepared: Prepared,
    /// Validation uses at most `valid_limit` items.
    valid_len: usize,
    device: Device,
    train_device: Device,
    /// Always `Some` between steps: [`Session::step`] takes it out so that the optimizer holds
    /// the only handle on the parameters and updates them in their own buffers.
    model: Option<Seq2Seq>,
    optimizer: burn::optim::ModuleOptimizer,
    state: TrainingState,
    /// The best epoch's validation scores (for the summary).
    best_scores: Option<BTreeMap<String, f64>>,
    last_checkpoint: Option<PathBuf>,
    progress: Progress,
}

impl Session {
    /// The model (see the field's documentation).
    fn model(&self) -> &Seq2Seq {
        self.model
            .as_ref()
            .expect("the model is back in place after every optimizer step")
    }

    /// Opens the run of `request`: a new one (its directory, configuration, vocabularies and
    /// manifest written) or, with `resume`, the run in `out` at its latest checkpoint.
    fn open(request: &TrainRequest) -> Result<Self> {
        let run = RunDir::new(&request.out);
        let config = match &request.resume {
            Some(changes) => resumed_config(&run, changes)?,
            None => new_config(&run, &request.config)?,
        };
        config.validate()?;
        let resuming = request.resume.is_some();
        let (vocabs, subwords) = if resuming {
            (Some(run.read_vocabs()?), run.read_subwords(&config)?)
        } else {
            (None, tasks::learn_subwords(&config.task)?)
        };
        let prepared = prepare(&config, vocabs, subwords)?;
        let device = config.backend.device()?;
        let train_device = device.clone().autodiff();
        train_device.seed(config.training.seed);
        let model = config
            .model
            .seq2seq(prepared.source_vocab.len(), prepared.target_vocab.len())
            .init(&train_device)?;
        let valid_len = prepared
            .valid
            .len()
            .min(config.training.valid_limit.unwrap_or(usize::MAX));
        let mut session = Session {
            state: TrainingState::start(config.training.learning_rate),
            run,
            config,
            prepared,
            valid_len,
            device,
            train_device,
            model: Some(model),
            optimizer: crate::adam(),
            best_scores: None,
            last_checkpoint: None,
            progress: Progress::new(request.quiet),
        };
        if resuming {
            session.restore()?;
        } else {
            session.create_run()?;
        }
        Ok(session)
    }

    /// Loads the latest checkpoint, if the run wrote one, and the best epoch's scores.
    fn restore(&mut self) -> Result<()> {
        if let Some(&step) = self.run.checkpoint_steps().last() {
            let dir = self.run.checkpoint(step);
            let (model, optimizer, state) =
                checkpoint::load(&dir, self.model().clone(), self.optimizer.clone())?;
            (self.model, self.optimizer, self.state) = (Some(model), optimizer, state);
            self.last_checkpoint = Some(dir);
        }
        if let Some(best) = &self.state.best {
            let metrics = self.run.read_metrics()?;
            self.best_scores = metrics
                .into_iter()
                .find(|m| m.epoch == best.epoch)
                .map(|m| m.valid);
        }
        Ok(())
    }

    /// Writes a new run's directory: configuration, vocabularies and manifest.
    fn create_run(&self) -> Result<()> {
        let (run, prepared) = (&self.run, &self.prepared);
        run.create()?;
        run.write_config(&self.config)?;
        run.write_vocabs(&prepared.source_vocab, &prepared.target_vocab)?;
        if let Some(subwords) = &prepared.subwords {
            write_atomic(&run.tokenizer(), &subwords.to_json())?;
        }
        let manifest = Manifest::new(&self.config, prepared, self.model().num_params());
        write_atomic(
            &run.manifest(),
            &serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
        )
    }

    /// Whether the run goes on: epochs left and validation still improving.
    fn wants_another_epoch(&self) -> bool {
        self.state.epoch < self.config.training.epochs
            && self.state.bad_epochs < self.config.training.patience
    }

    /// Trains on the next epoch's batches (from where a mid-epoch checkpoint left off), until
    /// they end or `stop` is set.
    fn train_epoch(&mut self, stop: Option<&AtomicBool>) -> Result<EpochEnd> {
        let epoch = self.state.epoch + 1;
        let training = &self.config.training;
        let batches = bucketed_batches(
            &self.prepared.train,
            training.batch_size,
            training.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        self.progress
            .start_epoch(epoch, training.epochs, batches.len());
        self.progress
            .resume_epoch(self.state.epoch_loss.0, self.state.epoch_loss.1);
        for indices in &batches[self.state.batches_done..] {
            if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                self.progress.finish();
                self.state.epoch_loss = self.progress.epoch_loss();
                self.save_checkpoint()?;
                return Ok(EpochEnd::Interrupted);
            }
            self.step(indices)?;
        }
        self.progress.finish();
        Ok(EpochEnd::Complete)
    }

    /// One optimiser step on the training pairs `indices`: the loss and gradients (summed over
    /// `threads` shards), clipping, Adam.
    fn step(&mut self, indices: &[usize]) -> Result<()> {
        let training = &self.config.training;
        // Dropout draws from the device's generator, seeded per step so that a resumed run
        // draws what an uninterrupted one would.
        self.train_device
            .seed(training.seed.wrapping_add(self.state.step as u64 + 1));
        let pairs: Vec<&EncodedPair> = indices.iter().map(|&i| &self.prepared.train[i]).collect();
        let batch_tokens = target_tokens(&pairs);
        let shards = data_parallel::split(&pairs, training.threads);
        let device = &self.train_device;
        let (loss, mut grads) =
            data_parallel::sharded_gradients(self.model(), shards, |model, shard| {
                let batch = make_batch(shard, device);
                // The loss is a mean over target tokens: weighted by the shard's share, the
                // shards' losses (and gradients) sum to the whole batch's.
                let share = batch.target_tokens as f32 / batch_tokens as f32;
                Ok(batch_loss(model, batch, training.label_smoothing)? * share)
            })?;
        if !loss.is_finite() {
            self.progress.finish();
            return Err(TrainerError::Diverged {
                loss,
                epoch: self.state.epoch + 1,
                step: self.state.step + 1,
                checkpoint: self.last_checkpoint.clone(),
            });
        }
        if let Some(max_norm) = training.clip_norm {
            clip_global_norm(self.model(), &mut grads, max_norm);
        }
        if let Some(model) = self.model.take() {
            let model = self.optimizer.step(self.state.learning_rate, model, grads);
            self.model = Some(model);
        }
        self.state.step += 1;
        self.state.batches_done += 1;
        self.progress.batch(f64::from(loss), batch_tokens);
        Ok(())
    }

    /// The validation loss under teacher forcing, and the task's scores of greedy outputs.
    fn validate(&self) -> Result<Validation> {
        let model = Ensemble::from(self.model().valid());
        let pairs = &self.prepared.valid[..self.valid_len];
        let items = &self.prepared.data.valid[..self.valid_len];
        let loss = mean_loss(&model, pairs, self.config.training.batch_size, &self.device)?;
        let sources: Vec<Vec<usize>> = pairs.iter().map(|p| p.source.clone()).collect();
        let greedy = inference::DecodingOptions {
            beam: 1,
            ..self.config.decoding.clone()
        };
        let predictions: Vec<Vec<String>> = decode(&model, &sources, &greedy, &self.device)?
            .iter()
            .map(|h| self.prepared.target_vocab.decode(&h.tokens))
            .collect();
        let task = self.config.task.kind;
        let (_, target_tokenizer) =
            tasks::tokenizers(&self.config.task, self.prepared.subwords.as_ref());
        let scores = task_scores(task, &predictions, items, &target_tokenizer);
        Ok(Validation {
            loss,
            score: selection_score(task, &scores),
            scores,
        })
    }

    /// Ends an epoch: keeps the model if it is the best so far (else decays the learning
    /// rate), writes a checkpoint and the epoch's metrics, prints its line.
    fn end_epoch(&mut self, validation: Validation, started: Instant) -> Result<()> {
        let epoch = self.state.epoch + 1;
        let learning_rate = self.state.learning_rate;
        let improved = self
            .state
            .best
            .is_none_or(|best| best.beaten_by(validation.score, validation.loss));
        if improved {
            self.state.best = Some(Best {
                score: validation.score,
                valid_loss: validation.loss,
                epoch,
            });
            self.best_scores = Some(validation.scores.clone());
            self.state.bad_epochs = 0;
            let bytes = checkpoint::model_bytes(&self.model().valid())?;
            write_atomic(&self.run.model(), &bytes)?;
        } else {
            self.state.bad_epochs += 1;
            self.state.learning_rate *= self.config.training.lr_decay;
        }
        self.state.epoch = epoch;
        self.state.batches_done = 0;
        self.state.epoch_loss = (0.0, 0);
        self.last_checkpoint = Some(self.save_checkpoint()?);
        let metrics = EpochMetrics {
            epoch,
            train_loss: self.progress.mean_loss(),
            valid_loss: validation.loss,
            valid_perplexity: validation.loss.exp(),
            valid: validation.scores,
            learning_rate,
            tokens_per_second: self.progress.tokens_per_second(),
            seconds: started.elapsed().as_secs_f64(),
        };
        self.run.record_metrics(&metrics)?;
        let shown: Vec<String> = metrics
            .valid
            .iter()
            .map(|(k, v)| format!("{k} {v:.2}"))
            .collect();
        self.progress.line(&format!(
            "epoch {epoch}: train loss {:.4}, valid loss {:.4} (ppl {:.2}), {}{}",
            metrics.train_loss,
            metrics.valid_loss,
            metrics.valid_perplexity,
            shown.join(", "),
            if improved { " *" } else { "" }
        ));
        Ok(())
    }

    /// Writes a checkpoint of where training stands, keeping the newest
    /// `training.keep_checkpoints`.
    fn save_checkpoint(&self) -> Result<PathBuf> {
        let dir = checkpoint::save(&self.run, self.model(), &self.optimizer, &self.state)?;
        let steps = self.run.checkpoint_steps();
        for &old in steps
            .iter()
            .rev()
            .skip(self.config.training.keep_checkpoints)
        {
            let _ = std::fs::remove_dir_all(self.run.checkpoint(old));
        }
        Ok(dir)
    }

    /// How the run ended.
    fn summary(self, interrupted: bool, started: Instant) -> TrainSummary {
        TrainSummary {
            epochs: self.state.epoch,
            best: self
                .state
                .best
                .zip(self.best_scores)
                .map(|(b, s)| (b.epoch, s)),
            stopped_early: self.state.bad_epochs >= self.config.training.patience,
            interrupted,
            seconds: started.elapsed().as_secs_f64(),
            run: self.run,
        }
    }
}

/// The configuration of a new run in `run`, which must not hold one yet.
fn new_config(run: &RunDir, config: &RunConfig) -> Result<RunConfig> {
    if run.config().exists() {
        return Err(TrainerError::RunExists {
            path: run.root.clone(),
        });
    }
    Ok(config.clone())
}

/// The stored configuration of the run in `run` with `changes`, written back when they change
/// it (so that the directory keeps describing the run).
fn resumed_config(run: &RunDir, changes: &ResumeChanges) -> Result<RunConfig> {
    let mut stored = run.read_config().map_err(|e| match e {
        TrainerError::Io { path, .. } => {
            TrainerError::run(path, "no run to resume here (config.json is missing)")
        }
        other => other,
    })?;
    let before = stored.clone();
    stored.training.epochs = changes.epochs.unwrap_or(stored.training.epochs);
    stored.training.threads = changes.threads.unwrap_or(stored.training.threads);
    stored.training.keep_checkpoints = changes
        .keep_checkpoints
        .unwrap_or(stored.training.keep_checkpoints);
    if stored != before {
        stored.validate()?;
        run.write_config(&stored)?;
    }
    Ok(stored)
}
