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
//!     latest.json           {"epoch": 3, "model": ..., "optimizer": ..., "complete": true,
//!                           "model_file": {"bytes": ..., "sha256": ...}, "optimizer_file": ...,
//!                           "spec": {model.json as trained}, "backbone": ..., "image_size": ...,
//!                           "split": {"seed": ..., "validation_fraction": ..., ...}},
//!                           written last, replaced atomically
//!   predictions.jsonl       per-product predictions, the best classes (see predictions.rs)
//!   probabilities.jsonl     per-product probabilities of every class (see probabilities.rs)
//!   embeddings.json/.f32/.ids   the 1024-d product representations (see embeddings.rs)
//! ```

use super::config::{Backbone, RunConfig};
use super::folds::FoldSplit;
use crate::catalog::Task;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
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
    /// The folder holds files but no run: a new run would write over them.
    #[error("{}: holds files but no run (no config.json); a run writes model.json, predictions.jsonl and more there, so choose a new or empty folder", .0.display())]
    NotEmpty(PathBuf),
    /// The run's path is a file, not a folder.
    #[error("{}: not a folder; choose a new or empty folder for the run", .0.display())]
    NotAFolder(PathBuf),
    /// The folder already holds a run and resuming was not asked for.
    #[error("{}: already holds a run; pass --resume to continue it or choose another folder", .0.display())]
    Exists(PathBuf),
    /// A checkpoint file is not what was written.
    #[error("checkpoint {} is truncated or damaged: {detail}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// How it differs.
        detail: String,
    },
    /// `model.json` or `config.json` does not describe the checkpoint's model.
    #[error("{} does not match the checkpoint {}: {detail}", path.display(), checkpoint.display())]
    Mismatch {
        /// `model.json` or `config.json`.
        path: PathBuf,
        /// The checkpoint's model file.
        checkpoint: PathBuf,
        /// What differs.
        detail: String,
    },
}

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

/// Size and digest of a file, recorded when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl FileDigest {
    /// The size and digest of the file at `path`.
    pub fn of(path: &Path) -> Result<FileDigest, RunError> {
        let mut file = std::fs::File::open(path).map_err(io(path))?;
        let mut hash = Sha256::new();
        let bytes = std::io::copy(&mut file, &mut hash).map_err(io(path))?;
        Ok(FileDigest {
            bytes,
            sha256: format!("{:x}", hash.finalize()),
        })
    }
}

impl ModelSpec {
    /// How this spec differs from `trained`, the one a checkpoint was trained with (`None`:
    /// it does not): a class list edited, reordered or taken from another run.
    pub fn difference(&self, trained: &ModelSpec) -> Option<String> {
        let tasks: std::collections::BTreeSet<&Task> =
            self.classes.keys().chain(trained.classes.keys()).collect();
        for task in tasks {
            let detail = match (self.classes.get(task), trained.classes.get(task)) {
                (Some(_), None) => format!("it has a {task} head, the weights have none"),
                (None, Some(_)) => format!("it has no {task} head, the weights have one"),
                (Some(now), Some(then)) if now.len() != then.len() => format!(
                    "its {task} head has {} classes, the checkpoint's has {}",
                    now.len(),
                    then.len()
                ),
                (Some(now), Some(then)) => {
                    let Some(i) = now.iter().zip(then).position(|(a, b)| a != b) else {
                        continue;
                    };
                    format!(
                        "its {task} class {} is '{}', the weights were trained with '{}' there",
                        i + 1,
                        now[i],
                        then[i]
                    )
                }
                (None, None) => continue,
            };
            return Some(detail);
        }
        if self.channel_mean != trained.channel_mean {
            return Some("its channel mean is not the one the weights were trained with".into());
        }
        if self.merged_into_other != trained.merged_into_other {
            return Some(
                "its classes merged into other are not those the weights were trained with".into(),
            );
        }
        None
    }
}

/// What a checkpoint was trained with, recorded beside it to detect a `model.json` or a
/// `config.json` that no longer describes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckpointOf<'a> {
    /// The heads' classes and the channel mean.
    pub spec: &'a ModelSpec,
    /// The configuration (its backbone and image size).
    pub config: &'a RunConfig,
}

/// Where the latest checkpoint is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Size and digest of the model file (absent in runs of older builds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_file: Option<FileDigest>,
    /// Size and digest of the optimiser file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer_file: Option<FileDigest>,
    /// The `model.json` the weights were trained with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<ModelSpec>,
    /// The backbone the weights are of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone: Option<Backbone>,
    /// The image size the weights were trained at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u32>,
    /// What chose the products the weights were validated on (and did not train on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitSettings>,
}

/// The settings of a run that decide its split into training and validation products: a
/// `config.json` that changes them after training would evaluate on products it trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSettings {
    /// The split's seed.
    pub seed: u64,
    /// Share of products (or groups) held out.
    pub validation_fraction: f64,
    /// The attribute that keeps related products on one side.
    pub group_by: Option<String>,
    /// Whether the run trains on one-photo copies of the products.
    pub single_image: bool,
    /// The audit fold the run is the model of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldSplit>,
}

impl SplitSettings {
    /// The split settings of `config`.
    pub fn of(config: &RunConfig) -> SplitSettings {
        SplitSettings {
            seed: config.seed,
            validation_fraction: config.validation_fraction,
            group_by: config.group_by.clone(),
            single_image: config.single_image,
            fold: config.fold.clone(),
        }
    }

    /// How `now` differs from these, the settings the weights were trained with.
    fn difference(&self, now: &SplitSettings) -> Option<String> {
        let trained = self;
        if now.seed != trained.seed {
            Some(format!(
                "seed {}, the weights were trained with {}",
                now.seed, trained.seed
            ))
        } else if now.validation_fraction != trained.validation_fraction {
            Some(format!(
                "validation fraction {}, the weights were trained with {}",
                now.validation_fraction, trained.validation_fraction
            ))
        } else if now.group_by != trained.group_by {
            let name = |g: &Option<String>| g.clone().unwrap_or_else(|| "none".into());
            Some(format!(
                "group-by {}, the weights were trained with {}",
                name(&now.group_by),
                name(&trained.group_by)
            ))
        } else if now.single_image != trained.single_image {
            let mode = |single| {
                if single {
                    "single-image"
                } else {
                    "multi-image"
                }
            };
            Some(format!(
                "{}, the weights were trained {}",
                mode(now.single_image),
                mode(trained.single_image)
            ))
        } else if now.fold != trained.fold {
            let name = |f: &Option<FoldSplit>| {
                f.as_ref().map_or("no audit fold".to_string(), |f| {
                    format!("fold {} of {} ({})", f.held_out, f.count, f.file.display())
                })
            };
            Some(format!(
                "{}, the weights were trained with {}",
                name(&now.fold),
                name(&trained.fold)
            ))
        } else {
            None
        }
    }
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
    crate::atomic_file::write_atomically(path, io(path), |w| w.write_all(bytes).map_err(io(path)))
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

    /// Creates a new run in `root` with `config`; refuses a folder that already holds one, or
    /// holds anything else (a run writes files of fixed names into its folder).
    pub fn create(root: &Path, config: &RunConfig) -> Result<Self, RunError> {
        let run = RunFolder::at(root);
        if run.config_path().exists() {
            return Err(RunError::Exists(root.to_path_buf()));
        }
        if root.exists() {
            if !root.is_dir() {
                return Err(RunError::NotAFolder(root.to_path_buf()));
            }
            if std::fs::read_dir(root).map_err(io(root))?.next().is_some() {
                return Err(RunError::NotEmpty(root.to_path_buf()));
            }
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

    /// `probabilities.jsonl`.
    pub fn probabilities_path(&self) -> PathBuf {
        self.root.join(super::probabilities::FILE_NAME)
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
    /// or a resumed run never sees a half-written one; with the files' sizes and digests and
    /// what the weights were trained with, so damage or a mismatched `model.json` is found
    /// before the weights are read.
    pub fn commit_checkpoint(
        &self,
        epoch: usize,
        complete: bool,
        of: CheckpointOf<'_>,
    ) -> Result<CheckpointIndex, RunError> {
        let relative = |part: &str| format!("{}.mpk", checkpoint_name(epoch, complete, part));
        let (model, optimizer) = (relative("model"), relative("optim"));
        let index = CheckpointIndex {
            epoch,
            model_file: Some(FileDigest::of(&self.root.join(&model))?),
            optimizer_file: Some(FileDigest::of(&self.root.join(&optimizer))?),
            model,
            optimizer,
            complete,
            spec: Some(of.spec.clone()),
            backbone: Some(of.config.backbone),
            image_size: Some(of.config.image_size),
            split: Some(SplitSettings::of(of.config)),
        };
        write_json(&self.checkpoints().join("latest.json"), &index)?;
        Ok(index)
    }

    /// Checks the files of checkpoint `index` against the sizes and digests recorded when
    /// they were written, and `of` (the run's `model.json` and `config.json` now) against
    /// what the weights were trained with.
    pub fn verify_checkpoint(
        &self,
        index: &CheckpointIndex,
        of: CheckpointOf<'_>,
    ) -> Result<(), RunError> {
        for (relative, recorded) in [
            (&index.model, &index.model_file),
            (&index.optimizer, &index.optimizer_file),
        ] {
            let path = self.root.join(relative);
            let Some(recorded) = recorded else {
                continue;
            };
            let found = FileDigest::of(&path)?;
            let detail = if found.bytes != recorded.bytes {
                format!("{} bytes, {} when written", found.bytes, recorded.bytes)
            } else if found.sha256 != recorded.sha256 {
                "its content changed since it was written (SHA-256 differs)".to_string()
            } else {
                continue;
            };
            return Err(RunError::Damaged { path, detail });
        }
        let checkpoint = self.root.join(&index.model);
        let mismatch = |path: PathBuf, detail: String| {
            Err(RunError::Mismatch {
                path,
                checkpoint: checkpoint.clone(),
                detail,
            })
        };
        if let Some(detail) = index.spec.as_ref().and_then(|t| of.spec.difference(t)) {
            return mismatch(self.spec_path(), detail);
        }
        if let Some(backbone) = index.backbone.filter(|&b| b != of.config.backbone) {
            return mismatch(
                self.config_path(),
                format!(
                    "backbone {}, the weights are of {}",
                    of.config.backbone.name(),
                    backbone.name()
                ),
            );
        }
        if let Some(size) = index.image_size.filter(|&s| s != of.config.image_size) {
            return mismatch(
                self.config_path(),
                format!(
                    "image size {} px, the weights were trained at {size} px",
                    of.config.image_size
                ),
            );
        }
        let now = SplitSettings::of(of.config);
        if let Some(detail) = index.split.as_ref().and_then(|t| t.difference(&now)) {
            return mismatch(
                self.config_path(),
                format!("{detail} (the validation products would not be those held out)"),
            );
        }
        Ok(())
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
    fn create_refuses_a_folder_of_other_files_and_a_file_leaving_them_as_they_were() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("mine");
        std::fs::create_dir(&mine).unwrap();
        std::fs::write(mine.join("model.json"), "{\"my\":1}").unwrap();
        let err = RunFolder::create(&mine, &RunConfig::default()).unwrap_err();
        assert!(matches!(err, RunError::NotEmpty(_)), "{err}");
        assert!(err.to_string().contains("no config.json"), "{err}");
        assert_eq!(
            std::fs::read_to_string(mine.join("model.json")).unwrap(),
            "{\"my\":1}"
        );
        assert!(!mine.join("config.json").exists());
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let err = RunFolder::create(&file, &RunConfig::default()).unwrap_err();
        assert!(matches!(err, RunError::NotAFolder(_)), "{err}");
        // An empty folder made beforehand (the cockpit's, a user's mkdir) is fine.
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        RunFolder::create(&empty, &RunConfig::default()).unwrap();
    }

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
        let spec = ModelSpec {
            classes: [(Task::Colour, vec!["Red".into(), "Blue".into()])].into(),
            merged_into_other: BTreeMap::new(),
            channel_mean: [0.5; 3],
        };
        let of = CheckpointOf {
            spec: &spec,
            config: &config,
        };
        let write = |epoch: usize, complete: bool| {
            for part in ["model", "optim"] {
                let stem = run.checkpoint_stem(epoch, complete, part);
                std::fs::write(stem.with_extension("mpk"), b"weights").unwrap();
            }
            run.commit_checkpoint(epoch, complete, of).unwrap()
        };
        write(2, true);
        assert_eq!(run.latest_checkpoint().unwrap().unwrap().resume_epoch(), 3);
        write(3, false);
        let partial = run.latest_checkpoint().unwrap().unwrap();
        assert_eq!(
            (partial.resume_epoch(), partial.model.as_str()),
            (3, "checkpoints/epoch-0003-stopped-model.mpk")
        );
        assert_eq!(RunFolder::list(dir.path()), vec![run.clone()]);
        // What was written verifies; a truncated file, an edited class list or another image
        // size does not.
        run.verify_checkpoint(&partial, of).unwrap();
        let mut swapped = spec.clone();
        swapped.classes.get_mut(&Task::Colour).unwrap().swap(0, 1);
        let err = run
            .verify_checkpoint(
                &partial,
                CheckpointOf {
                    spec: &swapped,
                    config: &config,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model.json does not match the checkpoint"),
            "{err}"
        );
        assert!(
            err.ends_with(
                "its colour class 1 is 'Blue', the weights were trained with 'Red' there"
            ),
            "{err}"
        );
        let bigger = RunConfig {
            image_size: 96,
            ..config.clone()
        };
        let err = run
            .verify_checkpoint(
                &partial,
                CheckpointOf {
                    spec: &spec,
                    config: &bigger,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("config.json") && err.contains("96 px"),
            "{err}"
        );
        // Another split would evaluate on products the weights trained on.
        for (changed, expected) in [
            (
                RunConfig {
                    seed: config.seed + 92,
                    ..config.clone()
                },
                "seed",
            ),
            (
                RunConfig {
                    validation_fraction: 0.5,
                    ..config.clone()
                },
                "validation fraction 0.5",
            ),
            (
                RunConfig {
                    group_by: Some("style".into()),
                    ..config.clone()
                },
                "group-by style",
            ),
        ] {
            let err = run
                .verify_checkpoint(
                    &partial,
                    CheckpointOf {
                        spec: &spec,
                        config: &changed,
                    },
                )
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("config.json") && err.contains(expected),
                "{err}"
            );
        }
        let model = root.join(&partial.model);
        std::fs::write(&model, b"weig").unwrap();
        let err = run.verify_checkpoint(&partial, of).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "checkpoint {} is truncated or damaged: 4 bytes, 7 when written",
                model.display()
            )
        );
        std::fs::write(&model, b"WEIGHTS").unwrap();
        let err = run.verify_checkpoint(&partial, of).unwrap_err().to_string();
        assert!(err.contains("SHA-256 differs"), "{err}");
        std::fs::write(dir.path().join("run/model.json"), "{").unwrap();
        let err = RunFolder::at(&root).spec().unwrap_err().to_string();
        assert!(err.contains("model.json"), "{err}");
    }
}
