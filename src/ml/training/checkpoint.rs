//! Checkpoints: the model and optimiser written after every epoch (and on a stop, mid-epoch),
//! and the weights of a checkpoint loaded back after its files are checked.

use super::{Job, Reporter, TrainError, model_config, now_ms};
use crate::ml::model::Model;
use crate::ml::model_backend::TrainingBackend;
use crate::runs::folder::{CheckpointIndex, CheckpointOf};
use crate::runs::{MetricsRecord, ModelSpec, RunConfig, RunError, RunFolder};
use burn::optim::Optimizer;
use burn::prelude::*;
use burn::record::{DefaultRecorder, Recorder};
use std::path::PathBuf;

/// A checkpoint file burn cannot read: after the recorded sizes and digests were checked (or
/// in a run of an older build, without them), damage or another version.
pub(super) fn unreadable(path: PathBuf, e: impl std::fmt::Display) -> TrainError {
    RunError::Damaged {
        path,
        detail: format!("it cannot be read, or was written by another version ({e})"),
    }
    .into()
}

/// The weights of checkpoint `index` of `folder`, in a model of `config` and `spec`: the
/// files are checked against what was recorded when they were written, and the heads of the
/// weights against `model.json`, so a mismatched or damaged run is refused, named, rather
/// than scored wrong.
pub fn load_weights<B: Backend>(
    folder: &RunFolder,
    index: &CheckpointIndex,
    config: &RunConfig,
    spec: &ModelSpec,
    device: &B::Device,
) -> Result<Model<B>, TrainError> {
    folder.verify_checkpoint(index, CheckpointOf { spec, config })?;
    let path = folder.root().join(&index.model);
    let model = model_config(config, spec)
        .init::<B>(device)
        .load_file(path.with_extension(""), &DefaultRecorder::new(), device)
        .map_err(|e| unreadable(path.clone(), e))?;
    // Checkpoints of older builds record no spec digest: their heads' sizes still tell.
    for ((task, classes), found) in spec.classes.iter().zip(model.head_classes()) {
        if classes.len() != found {
            return Err(RunError::Mismatch {
                path: folder.spec_path(),
                checkpoint: path,
                detail: format!(
                    "its {task} head has {} classes, the checkpoint's has {found}",
                    classes.len()
                ),
            }
            .into());
        }
    }
    Ok(model)
}

impl Job<'_> {
    pub(super) fn checkpoint_error(&self, path: PathBuf, e: impl std::fmt::Display) -> TrainError {
        TrainError::Checkpoint {
            path,
            message: e.to_string(),
        }
    }

    pub(super) fn save<B: TrainingBackend, O: Optimizer<Model<B>, B>>(
        &self,
        model: &Model<B>,
        optimizer: &O,
        epoch: usize,
        complete: bool,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        let recorder = DefaultRecorder::new();
        let model_stem = self.folder.checkpoint_stem(epoch, complete, "model");
        std::fs::create_dir_all(self.folder.checkpoints())?;
        model
            .clone()
            .save_file(&model_stem, &recorder)
            .map_err(|e| self.checkpoint_error(model_stem.clone(), e))?;
        let optim_stem = self.folder.checkpoint_stem(epoch, complete, "optim");
        recorder
            .record(optimizer.to_record(), optim_stem.clone())
            .map_err(|e| self.checkpoint_error(optim_stem.clone(), e))?;
        let of = CheckpointOf {
            spec: &self.prepared.spec,
            config: self.config,
        };
        let index = self.folder.commit_checkpoint(epoch, complete, of)?;
        reporter.record(MetricsRecord::Checkpoint {
            epoch,
            path: index.model,
        })
    }

    pub(super) fn stopped<B: TrainingBackend, O: Optimizer<Model<B>, B>>(
        &self,
        model: Model<B>,
        optimizer: &O,
        epoch: usize,
        last_complete: Option<usize>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        // The weights trained so far in this epoch are kept; resuming starts the epoch again.
        self.save(&model, optimizer, epoch, false, reporter)?;
        reporter.record(MetricsRecord::Stopped {
            time_ms: now_ms(),
            last_epoch: last_complete,
        })
    }
}
