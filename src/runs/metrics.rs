//! The append-only metrics log of a run (`metrics.jsonl`): one JSON object per line, written
//! and flushed as training goes, so another process (the app, possibly on another machine
//! through a shared folder) can follow it with [`MetricsReader`].

use crate::catalog::Task;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// One line of the metrics log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricsRecord {
    /// Training started (or resumed).
    Started {
        /// Milliseconds since the Unix epoch.
        time_ms: i64,
        /// Epochs planned in all.
        epochs: usize,
        /// Iterations per epoch.
        iterations_per_epoch: usize,
        /// Training samples (products, or images in single-image mode).
        train_samples: usize,
        /// Validation samples.
        validation_samples: usize,
        /// The classes of each head, in output order.
        classes: BTreeMap<Task, Vec<String>>,
        /// Per task, the rare classes merged into `other`.
        merged_into_other: BTreeMap<Task, Vec<String>>,
        /// The epoch training resumes at, when resumed from a checkpoint.
        resumed_at_epoch: Option<usize>,
        /// Devices used.
        devices: Vec<String>,
    },
    /// One optimisation step.
    Iteration {
        /// Epoch (0-based).
        epoch: usize,
        /// Iteration counted from the start of training.
        iteration: usize,
        /// Mean loss over the tasks.
        loss: f32,
        /// Loss of each task.
        task_losses: BTreeMap<Task, f32>,
        /// Learning rate used.
        learning_rate: f64,
        /// Training throughput, images per second.
        images_per_second: f32,
    },
    /// An epoch ended and was evaluated on the validation split. A run without validation
    /// products has `null` validation loss and mean accuracy, and empty per-task maps.
    Epoch {
        /// Epoch (0-based).
        epoch: usize,
        /// Mean training loss over the epoch.
        train_loss: f32,
        /// Mean validation loss (`None`: no validation split).
        validation_loss: Option<f32>,
        /// Validation loss of each task.
        validation_task_losses: BTreeMap<Task, f32>,
        /// Validation accuracy of each task (over labelled samples).
        accuracy: BTreeMap<Task, f32>,
        /// Mean of the task accuracies (`None`: no validation split).
        mean_accuracy: Option<f32>,
        /// Per task, rows = label, columns = prediction, in the order of `classes`.
        confusion: BTreeMap<Task, Vec<Vec<u32>>>,
        /// Training throughput over the epoch, images per second.
        #[serde(default)]
        images_per_second: f32,
        /// Share of the epoch's training time spent waiting for the data pipeline (0 = the
        /// device never waited).
        #[serde(default)]
        data_wait: f32,
        /// Seconds of the epoch's warm-up steps, left out of `images_per_second`: on a backend
        /// that tunes and compiles its kernels per tensor shape (cubecl on GPUs), the first
        /// step of each of the run's shapes, tuning and compiling included (0 on the CPU).
        #[serde(default)]
        warmup_seconds: f32,
        /// Wall-clock seconds the epoch took (training and validation).
        seconds: f32,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// The epoch it holds (training resumes at `epoch + 1`).
        epoch: usize,
        /// The model file, relative to the run folder.
        path: String,
    },
    /// Something the user should know that does not stop training (e.g. photos that cannot
    /// be decoded).
    Warning {
        /// What happened.
        message: String,
    },
    /// Training ended normally.
    Finished {
        /// Milliseconds since the Unix epoch.
        time_ms: i64,
    },
    /// Training was stopped by the user.
    Stopped {
        /// Milliseconds since the Unix epoch.
        time_ms: i64,
        /// Last completed epoch, if any.
        last_epoch: Option<usize>,
    },
    /// Training failed.
    Failed {
        /// Milliseconds since the Unix epoch.
        time_ms: i64,
        /// Why.
        message: String,
    },
}

/// The metrics log could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct MetricsError {
    /// The log file.
    pub path: PathBuf,
    /// The reason.
    pub reason: std::io::Error,
}

/// Appends records to a metrics log, one flushed line each.
#[derive(Debug)]
pub struct MetricsWriter {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsWriter {
    /// Opens `path` for appending (created if missing).
    pub fn append(path: &Path) -> Result<Self, MetricsError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|reason| MetricsError {
                path: path.to_path_buf(),
                reason,
            })?;
        Ok(MetricsWriter {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Writes one record as one line (a single `write` call, so readers never see half a
    /// record unless the writer dies mid-line; they skip such a line).
    pub fn write(&mut self, record: &MetricsRecord) -> Result<(), MetricsError> {
        let mut line = serde_json::to_vec(record).map_err(|e| MetricsError {
            path: self.path.clone(),
            reason: e.into(),
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.flush())
            .map_err(|reason| MetricsError {
                path: self.path.clone(),
                reason,
            })
    }
}

/// A line of the log that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub message: String,
}

/// Follows a metrics log that may still be growing: each [`poll`](Self::poll) returns the
/// complete lines written since the last one. A missing file is an empty log (the run may not
/// have started yet).
#[derive(Debug)]
pub struct MetricsReader {
    path: PathBuf,
    offset: u64,
    line: u64,
}

impl MetricsReader {
    /// A reader at the start of the log at `path`.
    pub fn new(path: &Path) -> Self {
        MetricsReader {
            path: path.to_path_buf(),
            offset: 0,
            line: 0,
        }
    }

    /// New complete records, and the lines that could not be parsed.
    pub fn poll(&mut self) -> Result<(Vec<MetricsRecord>, Vec<BadLine>), MetricsError> {
        let error = |reason| MetricsError {
            path: self.path.clone(),
            reason,
        };
        let mut file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
            Err(e) => return Err(error(e)),
        };
        let len = file.metadata().map_err(error)?.len();
        if len < self.offset {
            // The log was replaced (a new run in the same folder): start over.
            self.offset = 0;
            self.line = 0;
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(error)?;
        let mut reader = BufReader::new(file.take(len - self.offset));
        let (mut records, mut bad) = (Vec::new(), Vec::new());
        let mut buffer = Vec::new();
        loop {
            buffer.clear();
            let n = reader.read_until(b'\n', &mut buffer).map_err(error)?;
            if n == 0 || buffer.last() != Some(&b'\n') {
                break; // end, or a line still being written: read it next time
            }
            self.offset += n as u64;
            self.line += 1;
            match serde_json::from_slice::<MetricsRecord>(&buffer) {
                Ok(record) => records.push(record),
                Err(e) => bad.push(BadLine {
                    line: self.line,
                    message: e.to_string(),
                }),
            }
        }
        Ok((records, bad))
    }
}

/// Reads a whole log at once.
pub fn read_all(path: &Path) -> Result<(Vec<MetricsRecord>, Vec<BadLine>), MetricsError> {
    MetricsReader::new(path).poll()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iteration(i: usize) -> MetricsRecord {
        MetricsRecord::Iteration {
            epoch: 0,
            iteration: i,
            loss: 1.5,
            task_losses: [(Task::Colour, 1.5)].into(),
            learning_rate: 0.01,
            images_per_second: 100.0,
        }
    }

    #[test]
    fn round_trip_and_tailing_a_growing_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        let mut reader = MetricsReader::new(&path);
        assert!(reader.poll().unwrap().0.is_empty(), "no file yet");
        let mut writer = MetricsWriter::append(&path).unwrap();
        writer.write(&iteration(0)).unwrap();
        writer.write(&iteration(1)).unwrap();
        let (records, bad) = reader.poll().unwrap();
        assert_eq!(records, vec![iteration(0), iteration(1)]);
        assert!(bad.is_empty());
        // Half a line (a writer mid-write) is left for the next poll.
        let mut raw = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let text = serde_json::to_string(&iteration(2)).unwrap();
        raw.write_all(&text.as_bytes()[..10]).unwrap();
        assert!(reader.poll().unwrap().0.is_empty());
        raw.write_all(&text.as_bytes()[10..]).unwrap();
        raw.write_all(b"\nnot json\n").unwrap();
        let (records, bad) = reader.poll().unwrap();
        assert_eq!(records, vec![iteration(2)]);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 4);
        let epoch = MetricsRecord::Epoch {
            epoch: 0,
            train_loss: 1.0,
            validation_loss: Some(1.1),
            validation_task_losses: [(Task::Type, 0.5)].into(),
            accuracy: [(Task::Type, 0.75)].into(),
            mean_accuracy: Some(0.75),
            confusion: [(Task::Type, vec![vec![3, 1], vec![0, 4]])].into(),
            images_per_second: 40.0,
            data_wait: 0.1,
            warmup_seconds: 2.5,
            seconds: 2.0,
        };
        writer.write(&epoch).unwrap();
        assert_eq!(read_all(&path).unwrap().0.last(), Some(&epoch));
    }
}
