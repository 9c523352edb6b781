//! An audit on disk: K fold runs and their merged out-of-fold predictions.
//!
//! ```text
//! AUDIT_DIR/
//!   audit.json           AuditSettings: the folds, the runs' configuration (catalogue, recipe)
//!   folds.csv            which fold holds out each product (see folds.rs)
//!   fold-1/ ... fold-K/  ordinary run folders, each validated on its own fold
//!   predictions.jsonl    merged: every product's line from the run that held it out, with
//!                        its `fold` (header kind `out-of-fold`)
//!   probabilities.jsonl  the same products' full probability rows, with their `fold`
//!   summary.json         per task: out-of-fold accuracy, issues raised, estimated errors
//! ```
//!
//! Pure: no egui, no burn.

use super::config::RunConfig;
use super::folder::{RunError, RunFolder, write_atomically};
use super::folds::{self, FoldSplit};
use super::metrics::{MetricsRecord, read_all};
use super::predictions::{
    Header, MAX_TOP, Predictions, PredictionsWriter, ProductPrediction, Split, TaskPrediction,
};
use super::probabilities::{
    Probabilities, ProbabilitiesHeader, ProbabilitiesWriter, ProductProbabilities,
};
use super::provenance::FileKind;
use crate::catalog::Task;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The value of `audit.json`'s `format`.
pub const FORMAT: &str = "vitrine-audit";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// The settings file's name.
pub const SETTINGS: &str = "audit.json";
/// The summary file's name.
pub const SUMMARY: &str = "summary.json";

/// What an audit was started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSettings {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] for this build.
    pub version: u32,
    /// How many folds.
    pub folds: u32,
    /// The configuration every fold's run starts from (its `fold` set per run).
    pub config: RunConfig,
    /// When the audit started, milliseconds since the Unix epoch.
    pub created_ms: i64,
}

impl AuditSettings {
    /// Settings for a new audit of `folds` folds with `config`.
    pub fn new(folds: u32, config: RunConfig, created_ms: i64) -> Self {
        AuditSettings {
            format: FORMAT.into(),
            version: VERSION,
            folds,
            config,
            created_ms,
        }
    }
}

/// How far a fold's run got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldState {
    /// Its folder does not exist yet.
    NotStarted,
    /// Started, stopped or interrupted: resumable.
    Unfinished,
    /// Its last attempt failed, with the reason (resumable once fixed).
    Failed(String),
    /// Finished, with its predictions written.
    Finished,
}

/// An audit folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFolder {
    root: PathBuf,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> RunError + '_ {
    move |reason| RunError::Io {
        path: path.to_path_buf(),
        reason,
    }
}

impl AuditFolder {
    /// The audit in `root` (not checked).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        AuditFolder { root: root.into() }
    }

    /// Whether `path` holds an audit.
    pub fn is_audit(path: &Path) -> bool {
        path.join(SETTINGS).is_file()
    }

    /// Creates the folder of a new audit; refuses one that holds an audit or anything else.
    pub fn create(root: &Path, settings: &AuditSettings) -> Result<Self, RunError> {
        let audit = AuditFolder::at(root);
        if Self::is_audit(root) {
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
        std::fs::create_dir_all(root).map_err(io(root))?;
        audit.write_settings(settings)?;
        Ok(audit)
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The audit's name: its folder's.
    pub fn name(&self) -> String {
        RunFolder::at(&self.root).name()
    }

    /// `audit.json`.
    pub fn settings_path(&self) -> PathBuf {
        self.root.join(SETTINGS)
    }

    /// `folds.csv`.
    pub fn folds_path(&self) -> PathBuf {
        self.root.join(folds::FILE_NAME)
    }

    /// The merged `predictions.jsonl`.
    pub fn predictions_path(&self) -> PathBuf {
        self.root.join(super::predictions::FILE_NAME)
    }

    /// The merged `probabilities.jsonl`.
    pub fn probabilities_path(&self) -> PathBuf {
        self.root.join(super::probabilities::FILE_NAME)
    }

    /// `summary.json`.
    pub fn summary_path(&self) -> PathBuf {
        self.root.join(SUMMARY)
    }

    /// The run folder of fold `fold` (from 1).
    pub fn fold(&self, fold: u32) -> RunFolder {
        RunFolder::at(self.root.join(format!("fold-{fold}")))
    }

    /// Reads `audit.json`, refusing another format or a newer version.
    pub fn settings(&self) -> Result<AuditSettings, RunError> {
        let path = self.settings_path();
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let malformed = |message: String| RunError::Malformed {
            path: path.clone(),
            message,
        };
        let settings: AuditSettings =
            serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        if settings.format != FORMAT {
            return Err(malformed(format!(
                "format is '{}', expected '{FORMAT}'",
                settings.format
            )));
        }
        if settings.version > VERSION {
            return Err(malformed(format!(
                "written by a newer vitrine (audit version {}, this build reads {VERSION})",
                settings.version
            )));
        }
        if settings.folds < 2 {
            return Err(malformed(format!(
                "an audit has at least 2 folds, found {}",
                settings.folds
            )));
        }
        Ok(settings)
    }

    /// Writes `audit.json`.
    pub fn write_settings(&self, settings: &AuditSettings) -> Result<(), RunError> {
        let path = self.settings_path();
        let text = serde_json::to_vec_pretty(settings).map_err(|e| RunError::Malformed {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_atomically(&path, &text)
    }

    /// The configuration of fold `fold`'s run: the audit's, holding out that fold.
    pub fn fold_config(&self, settings: &AuditSettings, fold: u32) -> Result<RunConfig, RunError> {
        let file = std::path::absolute(self.folds_path()).map_err(io(&self.root))?;
        Ok(RunConfig {
            fold: Some(FoldSplit {
                file,
                held_out: fold,
                count: settings.folds,
            }),
            ..settings.config.clone()
        })
    }

    /// How far fold `fold`'s run got, from its folder and its metrics log.
    pub fn fold_state(&self, fold: u32) -> FoldState {
        let run = self.fold(fold);
        if !run.config_path().is_file() {
            return FoldState::NotStarted;
        }
        let last = read_all(&run.metrics_path()).ok().and_then(|(records, _)| {
            records.into_iter().rev().find(|r| {
                matches!(
                    r,
                    MetricsRecord::Finished { .. }
                        | MetricsRecord::Stopped { .. }
                        | MetricsRecord::Failed { .. }
                        | MetricsRecord::Started { .. }
                )
            })
        });
        match last {
            Some(MetricsRecord::Finished { .. }) if run.predictions_path().is_file() => {
                FoldState::Finished
            }
            Some(MetricsRecord::Failed { message, .. }) => FoldState::Failed(message),
            _ => FoldState::Unfinished,
        }
    }
}

/// What merging the folds found.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// Products with an out-of-fold prediction.
    pub products: usize,
    /// Per fold, its held-out products predicted.
    pub per_fold: Vec<usize>,
}

/// Merges the folds' predictions: each product's line from the fold that held it out, with
/// its `fold`, into the audit's `probabilities.jsonl` and `predictions.jsonl`. Folds whose
/// heads differ (labels changed between two folds' starts) are merged on the union of their
/// classes, a class a fold's head lacks getting probability 0 from it.
pub fn merge(audit: &AuditFolder, settings: &AuditSettings) -> Result<Merged, RunError> {
    let bad = |path: &Path, message: String| RunError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    let mut folds = Vec::new();
    for fold in 1..=settings.folds {
        let run = audit.fold(fold);
        let path = run.probabilities_path();
        let probabilities = Probabilities::read(&path).map_err(|e| bad(&path, e.to_string()))?;
        let path = run.predictions_path();
        let predictions = Predictions::read(&path).map_err(|e| bad(&path, e.to_string()))?;
        folds.push((fold, probabilities, predictions));
    }
    let mut classes: BTreeMap<Task, Vec<String>> = BTreeMap::new();
    for (_, probabilities, _) in &folds {
        for (task, names) in &probabilities.header.classes {
            let union = classes.entry(*task).or_default();
            for name in names {
                if !union.contains(name) {
                    union.push(name.clone());
                }
            }
        }
    }
    let name = audit.name();
    let mut header = ProbabilitiesHeader::new(name.clone(), classes.clone());
    header.kind = Some(FileKind::OutOfFold);
    let mut out = ProbabilitiesWriter::create(&audit.probabilities_path(), header)
        .map_err(|e| bad(&audit.probabilities_path(), e.to_string()))?;
    let mut prediction_header = Header::new(name, classes.clone());
    prediction_header.kind = Some(FileKind::OutOfFold);
    let mut top = PredictionsWriter::create(&audit.predictions_path(), prediction_header)
        .map_err(|e| bad(&audit.predictions_path(), e.to_string()))?;
    let mut per_fold = Vec::new();
    for (fold, probabilities, predictions) in &folds {
        let mut count = 0;
        // Where each of this fold's classes sits in the union.
        let places: BTreeMap<Task, Vec<usize>> = probabilities
            .header
            .classes
            .iter()
            .map(|(task, names)| {
                let union = &classes[task];
                let at = names
                    .iter()
                    .map(|n| union.iter().position(|u| u == n).unwrap_or(0))
                    .collect();
                (*task, at)
            })
            .collect();
        for row in 0..probabilities.len() as u32 {
            if probabilities.split_at(row) != Some(Split::Validation) {
                continue;
            }
            let Some(id) = probabilities.product_id(row) else {
                continue;
            };
            let mut tasks = BTreeMap::new();
            let mut tops = BTreeMap::new();
            for (task, at) in &places {
                let Some(values) = probabilities.probabilities_at(row, *task) else {
                    continue;
                };
                let mut full = vec![0.0f32; classes[task].len()];
                for (&place, &p) in at.iter().zip(values) {
                    full[place] = p;
                }
                let mut ranked: Vec<(usize, f32)> = full.iter().copied().enumerate().collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
                tops.insert(
                    *task,
                    TaskPrediction {
                        label: predictions
                            .label_at_prediction(id, *task)
                            .map(str::to_string),
                        top: ranked
                            .into_iter()
                            .take(MAX_TOP)
                            .map(|(c, p)| (classes[task][c].clone(), p))
                            .collect(),
                    },
                );
                tasks.insert(*task, full);
            }
            out.write(&ProductProbabilities {
                product_id: id.to_string(),
                split: Some(Split::Validation),
                fold: Some(*fold),
                tasks,
            })
            .map_err(|e| bad(&audit.probabilities_path(), e.to_string()))?;
            top.write(&ProductPrediction {
                product_id: id.to_string(),
                split: Some(Split::Validation),
                fold: Some(*fold),
                tasks: tops,
                photos: None,
            })
            .map_err(|e| bad(&audit.predictions_path(), e.to_string()))?;
            count += 1;
        }
        per_fold.push(count);
    }
    out.finish()
        .map_err(|e| bad(&audit.probabilities_path(), e.to_string()))?;
    top.finish()
        .map_err(|e| bad(&audit.predictions_path(), e.to_string()))?;
    Ok(Merged {
        products: per_fold.iter().sum(),
        per_fold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_folder_is_created_once_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("audit");
        let settings = AuditSettings::new(3, RunConfig::default(), 5);
        let audit = AuditFolder::create(&root, &settings).unwrap();
        assert_eq!(audit.settings().unwrap(), settings);
        assert!(matches!(
            AuditFolder::create(&root, &settings),
            Err(RunError::Exists(_))
        ));
        let config = audit.fold_config(&settings, 2).unwrap();
        let fold = config.fold.unwrap();
        assert_eq!((fold.held_out, fold.count), (2, 3));
        assert!(fold.file.is_absolute() && fold.file.ends_with("audit/folds.csv"));
        assert_eq!(audit.fold_state(1), FoldState::NotStarted);
        RunFolder::create(audit.fold(1).root(), &RunConfig::default()).unwrap();
        assert_eq!(audit.fold_state(1), FoldState::Unfinished);
        std::fs::write(
            audit.fold(1).metrics_path(),
            "{\"kind\":\"failed\",\"time_ms\":1,\"message\":\"out of memory\"}\n",
        )
        .unwrap();
        assert_eq!(
            audit.fold_state(1),
            FoldState::Failed("out of memory".into())
        );
        // Another file, or a newer version, is refused by name.
        std::fs::write(audit.settings_path(), "{\"format\":\"x\"}").unwrap();
        let message = audit.settings().unwrap_err().to_string();
        assert!(message.contains("audit.json"), "{message}");
    }
}
