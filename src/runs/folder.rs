//! The layout of a run folder:
//!
//! ```text
//! RUN_DIR/
//!   config.json             RunConfig
//!   model.json              what the trained model needs beyond its weights (ModelSpec)
//!   metrics.jsonl           append-only metrics log (see metrics.rs)
//!   checkpoints/
//!     epoch-0003-model.mpk  weights after epoch 3 (burn's named MessagePack record)
//!     epoch-0003-optim.mpk  optimiser state (momentum) for resuming
//!     epoch-0004-stopped-model.mpk / -optim.mpk   a run stopped during epoch 4
//!     latest.json           {"epoch": 3, "model": ..., "optimizer": ..., "complete": true},
//!                           written last, replaced atomically
//!   predictions.jsonl       per-product predictions (see predictions.rs)
//!   embeddings.json/.f32/.ids   the 1024-d product representations (see embeddings.rs)
//! ```

use super::config::RunConfig;
use crate::catalog::Task;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A run folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// File access failed.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// A JSON file of the run is malformed.
    #[error("{}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parse error.
        message: String,
    },
    /// The folder already holds a run and resuming was not asked for.
    #[error("{}: already holds a run; pass --resume to continue it or choose another folder", .0.display())]
    Exists(PathBuf),
}

/// Name of the class that rare classes are merged into.
pub const OTHER: &str = "other";

/// What the trained model needs beyond its weights to make predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Classes of each head, in output order (a trailing `other` when rare classes merged).
    pub classes: BTreeMap<Task, Vec<String>>,
    /// Per task, the rare classes merged into `other`.
    pub merged_into_other: BTreeMap<Task, Vec<String>>,
    /// Per-channel mean (0-255 scale) subtracted from the images, from the training split.
    pub channel_mean: [f32; 3],
}

/// Where the latest checkpoint is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointIndex {
    /// The epoch whose weights it holds (0-based).
    pub epoch: usize,
    /// Model weights, relative to the run folder.
    pub model: String,
    /// Optimiser state, relative to the run folder.
    pub optimizer: String,
    /// Whether the epoch ran to its end; a run stopped mid-epoch saves the weights it has
    /// with `complete: false`, and resuming starts that epoch again.
    #[serde(default = "complete_by_default")]
    pub complete: bool,
}

/// A run folder.
fn complete_by_default() -> bool {
    true
}

impl CheckpointIndex {
    /// The epoch training resumes at from this checkpoint.
    pub fn resume_epoch(&self) -> usize {
        if self.complete {
            self.epoch + 1
        } else {
            self.epoch
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    root: PathBuf,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> RunError + '_ {
    move |reason| RunError::Io {
        path: path.to_path_buf(),
        reason,
    }
}

/// No dot in the stem: burn's file recorders replace the extension of the path they are given.
fn checkpoint_name(epoch: usize, complete: bool, part: &str) -> String {
    let stopped = if complete { "" } else { "-stopped" };
    format!("checkpoints/epoch-{epoch:04}{stopped}-{part}")
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers and crashes
/// see the old or the new content, never half of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes).map_err(io(&temporary))?;
    std::fs::File::open(&temporary)
        .and_then(|f| f.sync_all())
        .map_err(io(&temporary))?;
    std::fs::rename(&temporary, path).map_err(io(path))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| RunError::Malformed {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| RunError::Malformed {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomically(path, &text)
}

impl RunFolder {
    /// The run in `root` (not checked).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        RunFolder { root: root.into() }
    }

    /// Creates a new run in `root` with `config`; refuses a folder that already holds one.
    pub fn create(root: &Path, config: &RunConfig) -> Result<Self, RunError> {
        let run = RunFolder::at(root);
        if run.config_path().exists() {
            return Err(RunError::Exists(root.to_path_buf()));
        }
        std::fs::create_dir_all(run.checkpoints()).map_err(io(root))?;
        write_json(&run.config_path(), config)?;
        Ok(run)
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Name shown for the run: the folder name.
    pub fn name(&self) -> String {
        self.root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.root.display().to_string())
    }

    /// `config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// `model.json`.
    pub fn spec_path(&self) -> PathBuf {
        self.root.join("model.json")
    }

    /// `metrics.jsonl`.
    pub fn metrics_path(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// `predictions.jsonl`.
    pub fn predictions_path(&self) -> PathBuf {
        self.root.join("predictions.jsonl")
    }

    /// The checkpoints folder.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// Reads `config.json`.
    pub fn config(&self) -> Result<RunConfig, RunError> {
        read_json(&self.config_path())
    }

    /// Replaces `config.json` (resuming with more epochs).
    pub fn write_config(&self, config: &RunConfig) -> Result<(), RunError> {
        write_json(&self.config_path(), config)
    }

    /// Reads `model.json`.
    pub fn spec(&self) -> Result<ModelSpec, RunError> {
        read_json(&self.spec_path())
    }

    /// Writes `model.json`.
    pub fn write_spec(&self, spec: &ModelSpec) -> Result<(), RunError> {
        write_json(&self.spec_path(), spec)
    }

    /// The latest checkpoint, if one was written.
    pub fn latest_checkpoint(&self) -> Result<Option<CheckpointIndex>, RunError> {
        let path = self.checkpoints().join("latest.json");
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// File stem (without burn's `.mpk`) of the checkpoint files of `epoch` (`complete: false`
    /// for the weights of an epoch stopped part-way).
    pub fn checkpoint_stem(&self, epoch: usize, complete: bool, part: &str) -> PathBuf {
        self.root.join(checkpoint_name(epoch, complete, part))
    }

    /// Records that the checkpoint of `epoch` is written (after its files are), so a reader
    /// or a resumed run never sees a half-written one.
    pub fn commit_checkpoint(
        &self,
        epoch: usize,
        complete: bool,
    ) -> Result<CheckpointIndex, RunError> {
        let relative = |part: &str| format!("{}.mpk", checkpoint_name(epoch, complete, part));
        let index = CheckpointIndex {
            epoch,
            model: relative("model"),
            optimizer: relative("optim"),
            complete,
        };
        write_json(&self.checkpoints().join("latest.json"), &index)?;
        Ok(index)
    }

    /// Runs in the subfolders of `folder` (those with a `config.json`), by name.
    pub fn list(folder: &Path) -> Vec<RunFolder> {
        let mut runs: Vec<RunFolder> = std::fs::read_dir(folder)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| RunFolder::at(e.path()))
            .filter(|r| r.config_path().is_file())
            .collect();
        runs.sort_by_key(|r| r.root.clone());
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_refuses_an_existing_run_and_checkpoints_commit_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("run");
        let config = RunConfig::default();
        let run = RunFolder::create(&root, &config).unwrap();
        assert!(matches!(
            RunFolder::create(&root, &config),
            Err(RunError::Exists(_))
        ));
        assert_eq!(run.config().unwrap(), config);
        assert_eq!(run.latest_checkpoint().unwrap(), None);
        run.commit_checkpoint(2, true).unwrap();
        assert_eq!(run.latest_checkpoint().unwrap().unwrap().resume_epoch(), 3);
        run.commit_checkpoint(3, false).unwrap();
        let partial = run.latest_checkpoint().unwrap().unwrap();
        assert_eq!(
            (partial.resume_epoch(), partial.model.as_str()),
            (3, "checkpoints/epoch-0003-stopped-model.mpk")
        );
        assert_eq!(RunFolder::list(dir.path()), vec![run]);
        std::fs::write(dir.path().join("run/model.json"), "{").unwrap();
        let err = RunFolder::at(&root).spec().unwrap_err().to_string();
        assert!(err.contains("model.json"), "{err}");
    }
}
