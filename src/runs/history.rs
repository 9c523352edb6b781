//! A run's metrics log folded into what the training cockpit draws: status, per-iteration and
//! per-epoch series, and an estimate of the time left. Pure: no egui, no burn.
//!
//! Records arrive in log order, from the engine's events or from a [`super::MetricsReader`]
//! following a log another process writes. A resumed run appends a second `started` record; the
//! work after its last checkpoint is done again, so the points it replaces are dropped and the
//! curves stay monotonic in time.

use super::metrics::MetricsRecord;
use crate::catalog::Task;
use std::collections::BTreeMap;

/// Where a run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStatus {
    /// No record yet (the run folder exists but the log is empty).
    Waiting,
    /// Before the first iteration: what is being prepared.
    Preparing(String),
    /// Iterations are coming.
    Running,
    /// Ended normally.
    Finished,
    /// Stopped by the user; can be resumed.
    Stopped,
    /// Failed: why.
    Failed(String),
}

impl RunStatus {
    /// Whether the run will not write again (unless resumed).
    pub fn ended(&self) -> bool {
        matches!(
            self,
            RunStatus::Finished | RunStatus::Stopped | RunStatus::Failed(_)
        )
    }

    /// A short word for lists.
    pub fn word(&self) -> &'static str {
        match self {
            RunStatus::Waiting => "waiting",
            RunStatus::Preparing(_) => "preparing",
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Failed(_) => "failed",
        }
    }
}

/// One optimisation step.
#[derive(Debug, Clone, PartialEq)]
pub struct IterationPoint {
    /// Iteration counted from the start of training.
    pub iteration: usize,
    /// Epoch (0-based).
    pub epoch: usize,
    /// Mean loss over the tasks.
    pub loss: f32,
    /// Per task (indexed by [`Task::index`]), when the run has that head.
    pub task_losses: [Option<f32>; 5],
    /// Learning rate.
    pub learning_rate: f64,
    /// Images per second.
    pub images_per_second: f32,
    /// When the record arrived, in the caller's clock (seconds).
    pub arrived: f64,
}

/// One evaluated epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochPoint {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f32,
    /// Mean validation loss (`None`: the run has no validation split).
    pub validation_loss: Option<f32>,
    /// Validation loss per task.
    pub validation_task_losses: [Option<f32>; 5],
    /// Validation accuracy per task.
    pub accuracy: [Option<f32>; 5],
    /// Mean of the task accuracies (`None`: the run has no validation split).
    pub mean_accuracy: Option<f32>,
    /// Per task, rows = label class, columns = predicted class.
    pub confusion: BTreeMap<Task, Vec<Vec<u32>>>,
    /// Training images per second over the epoch.
    pub images_per_second: f32,
    /// Share of training time spent waiting for data.
    pub data_wait: f32,
    /// Seconds of warm-up steps (tuning and compiling), left out of `images_per_second`.
    pub warmup_seconds: f32,
    /// Wall-clock seconds of the epoch.
    pub seconds: f32,
}

/// Everything known about a run from its log.
#[derive(Debug, Clone, PartialEq)]
pub struct RunHistory {
    /// Status.
    pub status: RunStatus,
    /// Epochs planned.
    pub epochs_planned: usize,
    /// Iterations per epoch.
    pub iterations_per_epoch: usize,
    /// Training and validation samples.
    pub samples: (usize, usize),
    /// Classes of each head.
    pub classes: BTreeMap<Task, Vec<String>>,
    /// Devices of the latest start.
    pub devices: Vec<String>,
    /// Steps, in order.
    pub iterations: Vec<IterationPoint>,
    /// Evaluated epochs, in order.
    pub epochs: Vec<EpochPoint>,
    /// Latest checkpoint's epoch.
    pub checkpoint: Option<usize>,
    /// Warnings, in order.
    pub warnings: Vec<String>,
    /// Lines of the log that could not be read.
    pub bad_lines: usize,
    /// Records folded in (to tell whether anything changed).
    pub records: usize,
    /// How many times a resume dropped points (so derived series know to rebuild).
    pub truncations: usize,
}

impl Default for RunHistory {
    fn default() -> Self {
        RunHistory {
            status: RunStatus::Waiting,
            epochs_planned: 0,
            iterations_per_epoch: 0,
            samples: (0, 0),
            classes: BTreeMap::new(),
            devices: Vec::new(),
            iterations: Vec::new(),
            epochs: Vec::new(),
            checkpoint: None,
            warnings: Vec::new(),
            bad_lines: 0,
            records: 0,
            truncations: 0,
        }
    }
}

fn per_task(values: &BTreeMap<Task, f32>) -> [Option<f32>; 5] {
    let mut out = [None; 5];
    for (task, &v) in values {
        out[task.index()] = Some(v);
    }
    out
}

/// Iterations used to estimate the current speed.
const RATE_WINDOW: usize = 50;

impl RunHistory {
    /// Folds one record in; `now` is the caller's clock in seconds (for the time estimate).
    pub fn push(&mut self, record: &MetricsRecord, now: f64) {
        self.records += 1;
        match record {
            MetricsRecord::Started {
                epochs,
                iterations_per_epoch,
                train_samples,
                validation_samples,
                classes,
                resumed_at_epoch,
                devices,
                ..
            } => {
                self.status = RunStatus::Running;
                self.epochs_planned = *epochs;
                self.iterations_per_epoch = *iterations_per_epoch;
                self.samples = (*train_samples, *validation_samples);
                self.classes = classes.clone();
                self.devices = devices.clone();
                let from = resumed_at_epoch.unwrap_or(0);
                let before = self.iterations.len() + self.epochs.len();
                self.iterations.retain(|p| p.epoch < from);
                self.epochs.retain(|p| p.epoch < from);
                if self.iterations.len() + self.epochs.len() < before {
                    self.truncations += 1;
                }
            }
            MetricsRecord::Iteration {
                epoch,
                iteration,
                loss,
                task_losses,
                learning_rate,
                images_per_second,
            } => {
                self.status = RunStatus::Running;
                self.iterations.push(IterationPoint {
                    iteration: *iteration,
                    epoch: *epoch,
                    loss: *loss,
                    task_losses: per_task(task_losses),
                    learning_rate: *learning_rate,
                    images_per_second: *images_per_second,
                    arrived: now,
                });
            }
            MetricsRecord::Epoch {
                epoch,
                train_loss,
                validation_loss,
                validation_task_losses,
                accuracy,
                mean_accuracy,
                confusion,
                images_per_second,
                data_wait,
                warmup_seconds,
                seconds,
            } => self.epochs.push(EpochPoint {
                epoch: *epoch,
                train_loss: *train_loss,
                validation_loss: *validation_loss,
                validation_task_losses: per_task(validation_task_losses),
                accuracy: per_task(accuracy),
                mean_accuracy: *mean_accuracy,
                confusion: confusion.clone(),
                images_per_second: *images_per_second,
                data_wait: *data_wait,
                warmup_seconds: *warmup_seconds,
                seconds: *seconds,
            }),
            MetricsRecord::Checkpoint { epoch, .. } => self.checkpoint = Some(*epoch),
            MetricsRecord::Warning { message } => self.warnings.push(message.clone()),
            MetricsRecord::Finished { .. } => self.status = RunStatus::Finished,
            MetricsRecord::Stopped { .. } => self.status = RunStatus::Stopped,
            MetricsRecord::Failed { message, .. } => {
                self.status = RunStatus::Failed(message.clone())
            }
        }
    }

    /// A history made of a whole log.
    pub fn from_records(records: &[MetricsRecord]) -> Self {
        let mut history = RunHistory::default();
        for record in records {
            history.push(record, 0.0);
        }
        history
    }

    /// Tasks with a head, in the fixed task order.
    pub fn tasks(&self) -> Vec<Task> {
        self.classes.keys().copied().collect()
    }

    /// Training progress in epochs (fractional), from the latest iteration or epoch.
    pub fn progress(&self) -> f64 {
        let done_epochs = self.epochs.last().map_or(0.0, |e| e.epoch as f64 + 1.0);
        let by_iteration = self
            .iterations
            .last()
            .map_or(0.0, |p| self.epoch_position(p.iteration + 1));
        done_epochs.max(by_iteration)
    }

    /// An iteration number as a fractional epoch (the x axis shared by all curves).
    pub fn epoch_position(&self, iteration: usize) -> f64 {
        iteration as f64 / self.iterations_per_epoch.max(1) as f64
    }

    /// Seconds left, estimated from the recent iteration rate (records that arrived live) and
    /// the time validation took, or from the mean epoch duration when the log was read at once.
    /// `None` when the run is not running or nothing can be estimated yet.
    pub fn eta_seconds(&self) -> Option<f64> {
        if self.status != RunStatus::Running || self.epochs_planned == 0 {
            return None;
        }
        let remaining_epochs = (self.epochs_planned as f64 - self.progress()).max(0.0);
        // Records read in one go (the log's backlog when following starts) arrive together and
        // say nothing about the speed: only those that came after the first batch count.
        let backlog = self.iterations.first().map_or(0.0, |p| p.arrived);
        let live: Vec<&IterationPoint> = self.iterations
            [self.iterations.len().saturating_sub(RATE_WINDOW)..]
            .iter()
            .filter(|p| p.arrived > backlog)
            .collect();
        if let (Some(first), Some(last)) = (live.first(), live.last()) {
            let span = last.arrived - first.arrived;
            let steps = (last.iteration - first.iteration) as f64;
            if span > 0.0 && steps > 0.0 {
                let per_epoch = self.iterations_per_epoch as f64 * span / steps;
                return Some(remaining_epochs * per_epoch);
            }
        }
        if self.epochs.is_empty() {
            return None;
        }
        let mean =
            self.epochs.iter().map(|e| e.seconds as f64).sum::<f64>() / self.epochs.len() as f64;
        Some(remaining_epochs * mean)
    }

    /// The epoch record of `epoch`, if evaluated.
    pub fn epoch(&self, epoch: usize) -> Option<&EpochPoint> {
        self.epochs.iter().find(|e| e.epoch == epoch)
    }
}

/// Most points per series of [`Curves`].
pub const MAX_POINTS: usize = 600;

/// A per-iteration series built as points arrive: exponentially smoothed, then averaged over
/// buckets whose size doubles whenever the series would exceed [`MAX_POINTS`], so a point
/// costs O(1) amortised and drawing costs at most [`MAX_POINTS`] points, however long the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    weight: f64,
    average: f64,
    correction: f64,
    bucket: usize,
    sum: [f64; 2],
    count: usize,
    points: Vec<[f64; 2]>,
}

impl Series {
    /// An empty series smoothed with EMA `weight` (0: raw values).
    pub fn new(weight: f64) -> Self {
        Series {
            weight: weight.clamp(0.0, 0.999),
            average: 0.0,
            correction: 1.0,
            bucket: 1,
            sum: [0.0; 2],
            count: 0,
            points: Vec::new(),
        }
    }

    /// Adds the point (`x`, `y`).
    pub fn push(&mut self, x: f64, y: f64) {
        self.average = self.weight * self.average + (1.0 - self.weight) * y;
        self.correction *= self.weight;
        let smoothed = self.average / (1.0 - self.correction).max(f64::EPSILON);
        self.sum[0] += x;
        self.sum[1] += smoothed;
        self.count += 1;
        if self.count < self.bucket {
            return;
        }
        let n = self.count as f64;
        self.points.push([self.sum[0] / n, self.sum[1] / n]);
        self.sum = [0.0; 2];
        self.count = 0;
        if self.points.len() >= MAX_POINTS {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| {
                    let n = pair.len() as f64;
                    let (x, y) = pair
                        .iter()
                        .fold((0.0, 0.0), |(x, y), p| (x + p[0], y + p[1]));
                    [x / n, y / n]
                })
                .collect();
            self.bucket *= 2;
        }
    }

    /// The points to draw (the bucket being filled included).
    pub fn points(&self) -> Vec<[f64; 2]> {
        let mut points = self.points.clone();
        if self.count > 0 {
            let n = self.count as f64;
            points.push([self.sum[0] / n, self.sum[1] / n]);
        }
        points
    }
}

/// The series the cockpit draws for one run, `[epoch, value]` points (fractional epochs for
/// iterations). Kept up to date as records arrive ([`Curves::update`]), not rebuilt per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Curves {
    smoothing: f64,
    /// Iterations folded in so far.
    iterations: usize,
    /// The history's truncations when last updated.
    truncations: usize,
    /// Training loss per iteration, smoothed.
    pub train_loss: Series,
    /// Training loss per task, smoothed.
    pub task_losses: Vec<(Task, Series)>,
    /// Learning rate.
    pub learning_rate: Series,
    /// Training images per second, smoothed.
    pub speed: Series,
    /// Validation loss at the end of each epoch.
    pub validation_loss: Vec<[f64; 2]>,
    /// Mean training loss of each epoch.
    pub epoch_train_loss: Vec<[f64; 2]>,
    /// Validation loss per task.
    pub validation_task_losses: Vec<(Task, Vec<[f64; 2]>)>,
    /// Validation accuracy per task.
    pub accuracy: Vec<(Task, Vec<[f64; 2]>)>,
    /// Mean validation accuracy.
    pub mean_accuracy: Vec<[f64; 2]>,
}

impl Default for Curves {
    fn default() -> Self {
        Curves::empty(0.0)
    }
}

impl Curves {
    fn empty(smoothing: f64) -> Self {
        Curves {
            smoothing,
            iterations: 0,
            truncations: 0,
            train_loss: Series::new(smoothing),
            task_losses: Vec::new(),
            learning_rate: Series::new(0.0),
            speed: Series::new(smoothing),
            validation_loss: Vec::new(),
            epoch_train_loss: Vec::new(),
            validation_task_losses: Vec::new(),
            accuracy: Vec::new(),
            mean_accuracy: Vec::new(),
        }
    }

    /// The curves of `history` with EMA `smoothing` (0 = raw, close to 1 = smooth), built
    /// from scratch.
    pub fn of(history: &RunHistory, smoothing: f64) -> Curves {
        let mut curves = Curves::empty(smoothing);
        curves.update(history);
        curves
    }

    /// The smoothing weight the curves were built with.
    pub fn smoothing(&self) -> f64 {
        self.smoothing
    }

    /// Folds in what `history` gained since the last update: the new iterations one by one,
    /// or everything again when the history lost points (a resumed run redoes an epoch).
    pub fn update(&mut self, history: &RunHistory) {
        if history.truncations != self.truncations || history.iterations.len() < self.iterations {
            *self = Curves::empty(self.smoothing);
            self.truncations = history.truncations;
        }
        if self.task_losses.is_empty() {
            self.task_losses = history
                .tasks()
                .into_iter()
                .map(|t| (t, Series::new(self.smoothing)))
                .collect();
        }
        for p in &history.iterations[self.iterations..] {
            let x = history.epoch_position(p.iteration + 1);
            self.train_loss.push(x, p.loss as f64);
            for (task, series) in &mut self.task_losses {
                if let Some(loss) = p.task_losses[task.index()] {
                    series.push(x, loss as f64);
                }
            }
            self.learning_rate.push(x, p.learning_rate);
            self.speed.push(x, p.images_per_second as f64);
        }
        self.iterations = history.iterations.len();
        let end = |epoch: usize| epoch as f64 + 1.0;
        let epochs = &history.epochs;
        self.validation_loss = epochs
            .iter()
            .filter_map(|e| Some([end(e.epoch), e.validation_loss? as f64]))
            .collect();
        self.epoch_train_loss = epochs
            .iter()
            .map(|e| [end(e.epoch), e.train_loss as f64])
            .collect();
        self.mean_accuracy = epochs
            .iter()
            .filter_map(|e| Some([end(e.epoch), e.mean_accuracy? as f64]))
            .collect();
        let per_task = |value: &dyn Fn(&EpochPoint) -> [Option<f32>; 5]| {
            history
                .tasks()
                .into_iter()
                .map(|task| {
                    let points = epochs
                        .iter()
                        .filter_map(|e| Some([end(e.epoch), value(e)[task.index()]? as f64]))
                        .collect();
                    (task, points)
                })
                .collect::<Vec<_>>()
        };
        self.validation_task_losses = per_task(&|e| e.validation_task_losses);
        self.accuracy = per_task(&|e| e.accuracy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(resumed: Option<usize>) -> MetricsRecord {
        MetricsRecord::Started {
            time_ms: 0,
            epochs: 4,
            iterations_per_epoch: 10,
            train_samples: 100,
            validation_samples: 20,
            classes: [(Task::Colour, vec!["Black".into(), "White".into()])].into(),
            merged_into_other: BTreeMap::new(),
            resumed_at_epoch: resumed,
            devices: vec!["cpu".into()],
        }
    }

    fn iteration(iteration: usize, loss: f32) -> MetricsRecord {
        MetricsRecord::Iteration {
            epoch: iteration / 10,
            iteration,
            loss,
            task_losses: [(Task::Colour, loss)].into(),
            learning_rate: 0.01,
            images_per_second: 100.0,
        }
    }

    fn epoch(epoch: usize) -> MetricsRecord {
        MetricsRecord::Epoch {
            epoch,
            train_loss: 1.0,
            validation_loss: Some(1.1),
            validation_task_losses: [(Task::Colour, 1.1)].into(),
            accuracy: [(Task::Colour, 0.5)].into(),
            mean_accuracy: Some(0.5),
            confusion: [(Task::Colour, vec![vec![1, 1], vec![0, 2]])].into(),
            images_per_second: 100.0,
            data_wait: 0.0,
            warmup_seconds: 0.0,
            seconds: 20.0,
        }
    }

    #[test]
    fn status_series_and_resume_drop_redone_work() {
        let mut h = RunHistory::default();
        assert_eq!(h.status, RunStatus::Waiting);
        h.push(&started(None), 0.0);
        for i in 0..15 {
            h.push(&iteration(i, 2.0 - i as f32 * 0.1), i as f64);
        }
        h.push(&epoch(0), 15.0);
        h.push(
            &MetricsRecord::Stopped {
                time_ms: 0,
                last_epoch: Some(0),
            },
            15.0,
        );
        assert_eq!(h.status, RunStatus::Stopped);
        assert!(h.status.ended());
        assert_eq!(h.progress(), 1.5);
        assert_eq!(h.eta_seconds(), None, "a stopped run has no time left");
        // Resumed at epoch 1: the five iterations of the unfinished epoch are done again.
        h.push(&started(Some(1)), 20.0);
        assert_eq!(h.status, RunStatus::Running);
        assert_eq!(h.iterations.len(), 10);
        assert_eq!(h.epochs.len(), 1);
        assert_eq!(h.iterations[3].task_losses[Task::Colour.index()], Some(1.7));
        assert_eq!(
            h.epoch(0).map(|e| e.accuracy[Task::Colour.index()]),
            Some(Some(0.5))
        );
        h.push(
            &MetricsRecord::Failed {
                time_ms: 0,
                message: "disk full".into(),
            },
            21.0,
        );
        assert_eq!(h.status, RunStatus::Failed("disk full".into()));
        assert_eq!(h.records, 20);
    }

    #[test]
    fn eta_from_the_live_rate_or_the_epoch_durations() {
        let mut live = RunHistory::default();
        live.push(&started(None), 0.0);
        for i in 0..20 {
            // One iteration every half second: an epoch takes 5 s.
            live.push(&iteration(i, 1.0), i as f64 * 0.5);
        }
        // 2 of 4 epochs done: 10 s left.
        let eta = live.eta_seconds().unwrap();
        assert!((eta - 10.0).abs() < 1e-9, "{eta}");
        // A backlog read at once, then live records at the same pace: the backlog is ignored.
        let mut followed = RunHistory::default();
        followed.push(&started(None), 0.0);
        for i in 0..10 {
            followed.push(&iteration(i, 1.0), 100.0);
        }
        for i in 10..20 {
            followed.push(&iteration(i, 1.0), 100.0 + (i - 9) as f64 * 0.5);
        }
        let eta = followed.eta_seconds().unwrap();
        assert!((eta - 10.0).abs() < 1e-9, "{eta}");
        // Read at once (no live rate): from the 20 s epochs.
        let mut read = vec![started(None)];
        read.extend((0..10).map(|i| iteration(i, 1.0)));
        read.push(epoch(0));
        let h = RunHistory::from_records(&read);
        assert_eq!(h.eta_seconds(), Some(60.0));
        assert_eq!(RunHistory::default().eta_seconds(), None);
    }

    #[test]
    fn curves_put_iterations_and_epochs_on_one_axis_with_bounded_points() {
        let mut records = vec![started(None)];
        records.extend((0..2000).map(|i| iteration(i, 1.0)));
        records.push(epoch(0));
        let h = RunHistory::from_records(&records);
        let curves = Curves::of(&h, 0.0);
        let n = curves.train_loss.points().len();
        assert!(n <= MAX_POINTS && n > MAX_POINTS / 2, "{n}");
        assert_eq!(
            curves.learning_rate.points().first().map(|p| p[1]),
            Some(0.01)
        );
        assert_eq!(curves.validation_loss, vec![[1.0, 1.1f32 as f64]]);
        assert_eq!(curves.accuracy, vec![(Task::Colour, vec![[1.0, 0.5]])]);
        assert_eq!(
            curves.validation_task_losses,
            vec![(Task::Colour, vec![[1.0, 1.1f32 as f64]])]
        );
        assert_eq!(curves.task_losses.len(), 1);
        // Ten iterations per epoch: the last of 2000 ends epoch 200.
        let last = *curves.train_loss.points().last().unwrap();
        assert!((last[0] - 200.0).abs() < 2.0, "{last:?}");
        // Built point by point, the curves equal those built at once.
        let mut h = RunHistory::default();
        let mut live = Curves::of(&h, 0.0);
        for record in &records {
            h.push(record, 0.0);
            live.update(&h);
        }
        assert_eq!(live, curves);
        // A resume that drops points rebuilds them, even when as many new ones came with it.
        h.push(&started(Some(0)), 0.0);
        for i in 0..2000 {
            h.push(&iteration(i, 5.0), 0.0);
        }
        live.update(&h);
        assert_eq!(live, Curves::of(&h, 0.0));
        assert!(live.validation_loss.is_empty());
    }

    #[test]
    fn a_series_keeps_its_shape_within_the_point_budget() {
        let mut series = Series::new(0.0);
        for i in 0..10_000 {
            series.push(i as f64, i as f64);
        }
        let points = series.points();
        assert!(points.len() <= MAX_POINTS && points.len() > MAX_POINTS / 2);
        assert!(points.windows(2).all(|w| w[0][0] < w[1][0]));
        assert!(
            points.iter().all(|p| (p[0] - p[1]).abs() < 1e-9),
            "a line stays a line"
        );
        let mut flat = Series::new(0.9);
        for i in 0..100 {
            flat.push(i as f64, 3.0);
        }
        assert!(flat.points().iter().all(|p| (p[1] - 3.0).abs() < 1e-9));
    }
}
