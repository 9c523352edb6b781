//! The epochs of a run: each epoch's iterations and validation with their metrics records,
//! a checkpoint after each, and the predictions at the end.

use super::checkpoint::{load_weights, unreadable};
use super::parallel::step;
use super::warmup::Warmup;
use super::{
    Job, Reporter, TrainError, adamw_config, iterations_per_epoch, model_config, now_ms, sgd_config,
};
use crate::catalog::Task;
use crate::ml::data::{Loader, epoch_order};
use crate::ml::evaluate::{Evaluation, Scoring, evaluate, predict};
use crate::ml::model::Model;
use crate::ml::model_backend::TrainingBackend;
use crate::runs::MetricsRecord;
use crate::runs::config::Optimizer as OptimizerKind;
use crate::runs::predictions::Split;
use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::Optimizer;
use burn::prelude::*;
use burn::record::{DefaultRecorder, Recorder};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Makes every lazily initialised parameter exist now, so clones share the same weights.
struct Materialise;

impl<B: Backend> ModuleVisitor<B> for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

impl Job<'_> {
    /// Trains the epochs left on `devices` (the first holds the model), then predicts every
    /// product into the run folder.
    pub(super) fn train<B: TrainingBackend>(
        &self,
        devices: Vec<B::Device>,
        names: Vec<String>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        let config = self.config;
        match config.optimizer {
            OptimizerKind::Sgd => {
                let optimizer = sgd_config(config).init::<B, Model<B>>();
                self.epochs(optimizer, devices, names, reporter)
            }
            OptimizerKind::Adamw => {
                let optimizer = adamw_config(config).init::<B, Model<B>>();
                self.epochs(optimizer, devices, names, reporter)
            }
        }
    }

    /// [`Job::train`] with `optimizer`: the model and the optimiser's state from the
    /// checkpoint resumed (fresh weights otherwise), the epochs left, then the predictions.
    fn epochs<B: TrainingBackend, O: Optimizer<Model<B>, B>>(
        &self,
        mut optimizer: O,
        devices: Vec<B::Device>,
        names: Vec<String>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        let config = self.config;
        let dataset = &self.prepared.dataset;
        let spec = &self.prepared.spec;
        let main = devices[0].clone();
        B::seed(&main, config.seed);
        let model_config = model_config(config, spec);
        let mut model: Model<B> = match &self.checkpoint {
            Some(index) => load_weights(self.folder, index, config, spec, &main)?,
            None => model_config.init(&main),
        };
        model.visit(&mut Materialise);
        let recorder = DefaultRecorder::new();
        let mut start_epoch = 0;
        if let Some(index) = &self.checkpoint {
            let optim_path = self.folder.root().join(&index.optimizer);
            let record = recorder
                .load(optim_path.with_extension(""), &main)
                .map_err(|e| unreadable(optim_path.clone(), e))?;
            optimizer = optimizer.load_record(record);
            start_epoch = index.resume_epoch();
        }
        let train = dataset.indices(Split::Train);
        let validation = dataset.indices(Split::Validation);
        let per_epoch = iterations_per_epoch(self.prepared, config);
        let workers = self.workers;
        reporter.record(MetricsRecord::Started {
            time_ms: now_ms(),
            epochs: config.epochs,
            iterations_per_epoch: per_epoch,
            train_samples: train.len(),
            validation_samples: validation.len(),
            classes: spec.classes.clone(),
            merged_into_other: spec.merged_into_other.clone(),
            resumed_at_epoch: self.checkpoint.as_ref().map(|c| c.resume_epoch()),
            devices: names,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut last_complete = start_epoch.checked_sub(1);
        let mut reported_failures = 0;
        let mut warmup = Warmup::default();
        for epoch in start_epoch..config.epochs {
            let started = Instant::now();
            let loader = Loader::start(
                dataset.clone(),
                epoch_order(&train, config.seed, epoch),
                config.batch,
                Some(config.seed ^ ((epoch as u64) << 32)),
                workers,
                stop.clone(),
            )?;
            let (mut loss_sum, mut steps, mut images, mut waited) =
                (0.0f64, 0usize, 0usize, 0.0f64);
            let mut wait_started = Instant::now();
            for (i, batch) in loader.enumerate() {
                let batch = batch?;
                waited += wait_started.elapsed().as_secs_f64();
                if self.stop.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::Relaxed);
                    return self.stopped(model, &optimizer, epoch, last_complete, reporter);
                }
                let step_started = Instant::now();
                let sizes = batch.sizes();
                let iteration = epoch * per_epoch + i;
                let learning_rate = config.learning_rate_at(epoch, iteration);
                let (next, loss) = step(
                    model,
                    &mut optimizer,
                    &batch,
                    &devices,
                    learning_rate,
                    config.label_smoothing as f32,
                )?;
                model = next;
                if !loss.total.is_finite() {
                    stop.store(true, Ordering::Relaxed);
                    return Err(TrainError::Diverged {
                        value: loss.total,
                        epoch,
                        iteration,
                        learning_rate,
                    });
                }
                loss_sum += loss.total as f64;
                steps += 1;
                images += batch.image_count();
                let seconds = step_started.elapsed().as_secs_f32().max(1e-6);
                warmup.step(
                    sizes,
                    batch.shape.is_some(),
                    batch.image_count(),
                    seconds as f64,
                );
                reporter.record(MetricsRecord::Iteration {
                    epoch,
                    iteration,
                    loss: loss.total,
                    task_losses: dataset.heads().iter().copied().zip(loss.heads).collect(),
                    learning_rate,
                    images_per_second: batch.image_count() as f32 / seconds,
                })?;
                wait_started = Instant::now();
            }
            let train_seconds = started.elapsed().as_secs_f64();
            let epoch_warmup = warmup.end_epoch();
            // Without validation products (training on all the data) there is nothing to
            // score, and between `validate_every` epochs nothing is scored: the record says
            // so rather than logging zeros.
            let evaluation = if validation.is_empty() || !config.validates_after(epoch) {
                None
            } else {
                Some(evaluate(
                    &model.valid(),
                    dataset,
                    spec,
                    &validation,
                    Scoring::Samples,
                    config.batch,
                    &main,
                    workers,
                )?)
            };
            let heads = dataset.heads();
            let per_head = |values: &dyn Fn(&Evaluation) -> Vec<f32>| {
                evaluation.as_ref().map_or_else(BTreeMap::new, |e| {
                    heads.iter().copied().zip(values(e)).collect()
                })
            };
            reporter.record(MetricsRecord::Epoch {
                epoch,
                train_loss: (loss_sum / steps.max(1) as f64) as f32,
                validation_loss: evaluation.as_ref().map(|e| e.mean_loss()),
                validation_task_losses: per_head(&|e| e.losses.clone()),
                accuracy: evaluation
                    .as_ref()
                    .map_or_else(BTreeMap::new, |e| e.accuracies()),
                mean_accuracy: evaluation.as_ref().map(|e| e.mean_accuracy()),
                confusion: evaluation.as_ref().map_or_else(BTreeMap::new, |e| {
                    heads
                        .iter()
                        .copied()
                        .zip(e.confusion.clone())
                        .collect::<BTreeMap<Task, _>>()
                }),
                images_per_second: epoch_warmup.throughput(images, train_seconds),
                data_wait: (waited / train_seconds.max(1e-6)) as f32,
                warmup_seconds: epoch_warmup.seconds as f32,
                seconds: started.elapsed().as_secs_f32(),
            })?;
            self.save(&model, &optimizer, epoch, true, reporter)?;
            last_complete = Some(epoch);
            let (failures, first) = dataset.failures();
            if failures > reported_failures {
                reporter.record(MetricsRecord::Warning {
                    message: format!(
                        "{failures} photos could not be decoded and were left out (first: {})",
                        first.unwrap_or_default()
                    ),
                })?;
                reported_failures = failures;
            }
        }
        let name = self.folder.name();
        predict(
            &model.valid(),
            dataset,
            &self.prepared.catalog,
            spec,
            &name,
            self.folder.root(),
            config.batch,
            &main,
            workers,
        )?;
        reporter.record(MetricsRecord::Finished { time_ms: now_ms() })
    }
}
