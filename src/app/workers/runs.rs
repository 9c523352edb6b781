//! Training runs seen from the window: runs launched here go through the engine's event API
//! (`vitrine::ml::start`), and every run, launched here or written by another process (a CLI
//! run on a GPU server writing into a shared folder), is followed by tailing its metrics log on
//! the `vitrine-runs` thread. One path for both: the curves of a run look the same wherever it
//! trains, and a run resumed here after being followed is never read twice.
//!
//! An audit folder is followed too: its settings and whether it finished are reported, and
//! each of its folds is followed as an ordinary run as soon as its run folder exists.

use super::{EventSender, spawn};
use crate::app::event::{Event, RunEvent};
use crate::ml::{Stopper, TrainRequest, TrainingEvent};
use crate::runs::audit::AuditFolder;
use crate::runs::{MetricsReader, MetricsRecord, RunFolder};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often followed logs are read: at most this many batches of records per second and run
/// reach the UI, however fast the run writes.
const POLL: Duration = Duration::from_millis(250);
/// An ended run is read once every this many polls (another process may resume it).
const ENDED_EVERY: u32 = 20;

enum Request {
    /// Follow the run (or audit) in this folder (a no-op when already followed).
    Follow(PathBuf),
    /// Follow the audit in this folder (it may not exist yet: an audit just launched).
    FollowAudit(PathBuf),
    /// Follow a run folder the user opened, and remember it for the next sessions.
    Open(PathBuf),
    /// Follow every run and audit in this folder, then say it was scanned.
    Scan(PathBuf),
    /// Stop following this run folder, and forget it if it was opened by hand.
    Forget(PathBuf),
    /// Stop following every run.
    ForgetAll,
}

struct Followed {
    folder: RunFolder,
    reader: MetricsReader,
    ended: bool,
    has_predictions: bool,
    /// The configuration was read (a run launched here writes it a moment after).
    config_read: bool,
    /// The folder has existed (a run launched here creates it a moment after it is followed).
    existed: bool,
}

struct FollowedAudit {
    folder: AuditFolder,
    /// Its folds, once its settings were read.
    folds: Option<u32>,
    /// Its settings could not be read (reported once).
    broken: bool,
    /// Its summary exists.
    finished: bool,
    /// The folder has existed.
    existed: bool,
}

/// The follower thread, and the stoppers of the runs launched from this window.
pub struct RunsWorker {
    tx: Sender<Request>,
    /// Per run training here: its stopper and the number of its launch.
    stoppers: HashMap<PathBuf, (Stopper, u64)>,
    /// Launches so far (a run stopped and resumed is launched twice).
    launches: u64,
    /// Each engine thread reports its end here too, with its launch number (for
    /// [`RunsWorker::shutdown`], which cannot wait on the window's event queue and must not
    /// take an earlier launch's end for the current one's).
    done_tx: Sender<(PathBuf, u64)>,
    done_rx: Receiver<(PathBuf, u64)>,
}

impl RunsWorker {
    /// Starts the follower thread; the run folders opened by hand are remembered in
    /// `remembered` (a JSON list).
    pub fn start(events: EventSender, remembered: PathBuf) -> Result<RunsWorker, String> {
        let (tx, rx) = unbounded();
        let failed = |message| {
            // A failure here would leave every run looking as it last was: say so instead.
            Event::WorkerFailed(format!("runs are no longer followed: {message}"))
        };
        spawn("vitrine-runs", &events.clone(), failed, move || {
            follow_loop(&rx, &events, &remembered)
        })?;
        let (done_tx, done_rx) = unbounded();
        Ok(RunsWorker {
            tx,
            stoppers: HashMap::new(),
            launches: 0,
            done_tx,
            done_rx,
        })
    }

    /// Follows the run (or audit) in `folder`.
    pub fn follow(&self, folder: PathBuf) {
        let _ = self.tx.send(Request::Follow(folder));
    }

    /// Follows the audit in `folder`, and each of its folds once it exists.
    pub fn follow_audit(&self, folder: PathBuf) {
        let _ = self.tx.send(Request::FollowAudit(folder));
    }

    /// Follows a run folder the user opened (e.g. one a CLI run on a GPU server writes into a
    /// shared folder); it is listed again in later sessions, beside the catalogue's own runs.
    pub fn open(&self, folder: PathBuf) {
        let _ = self.tx.send(Request::Open(folder));
    }

    /// Follows every run and audit found in `folder`, and every run folder opened before;
    /// then reports [`RunEvent::RunsScanned`].
    pub fn scan(&self, folder: PathBuf) {
        let _ = self.tx.send(Request::Scan(folder));
    }

    /// Stops following the run in `folder` and drops it from the folders opened by hand; the
    /// folder itself is left as it is.
    pub fn forget(&self, folder: PathBuf) {
        let _ = self.tx.send(Request::Forget(folder));
    }

    /// Forgets every followed run and audit (another catalogue was opened); runs and audits
    /// launched here go on.
    pub fn forget_all(&self) {
        let _ = self.tx.send(Request::ForgetAll);
    }

    /// Starts (or resumes) a run on the engine's thread and follows it. The engine's events
    /// report preparation progress and failures that happen before the log exists; its
    /// records are read from the log like any other run's.
    pub fn launch(&mut self, request: TrainRequest, events: EventSender) -> Result<(), String> {
        let run = request.run_dir.clone();
        if self.stoppers.contains_key(&run) {
            return Err(format!("{} is already training", run.display()));
        }
        let handle = crate::ml::start(request)
            .map_err(|e| format!("cannot start the training thread: {e}"))?;
        self.launches += 1;
        let launch = self.launches;
        self.stoppers
            .insert(run.clone(), (handle.stopper(), launch));
        self.follow(run.clone());
        let thread_run = run.clone();
        let done = self.done_tx.clone();
        let started = spawn(
            "vitrine-run-events",
            &events.clone(),
            Event::WorkerFailed,
            move || {
                if let Err(panic) = crate::threads::catch(|| relay(&handle, &thread_run, &events)) {
                    // The run must not look as if it trained forever.
                    handle.stop();
                    events.send(Event::Run(RunEvent::RunFailed {
                        run: thread_run.clone(),
                        message: format!("the vitrine-run-events thread failed: {panic}"),
                    }));
                }
                handle.join();
                let _ = done.send((thread_run.clone(), launch));
                events.send(Event::Run(RunEvent::RunThreadEnded { run: thread_run }));
            },
        );
        if let Err(e) = started {
            if let Some((stopper, _)) = self.stoppers.remove(&run) {
                stopper.stop();
            }
            return Err(e);
        }
        Ok(())
    }

    /// Asks the run in `run` to stop (nothing when it is not training in this window).
    pub fn stop(&self, run: &Path) {
        if let Some((stopper, _)) = self.stoppers.get(run) {
            stopper.stop();
        }
    }

    /// The engine's thread of `run` ended.
    pub fn ended(&mut self, run: &Path) {
        self.stoppers.remove(run);
    }

    /// Stops every run training in this window and waits, at most `timeout`, for each to save
    /// its checkpoint (the window is closing). Returns how many did not end in time.
    pub fn shutdown(&mut self, timeout: Duration) -> usize {
        for (stopper, _) in self.stoppers.values() {
            stopper.stop();
        }
        wait_for_ends(&mut self.stoppers, &self.done_rx, timeout)
    }
}

/// Waits, at most `timeout`, for the jobs in `running` (by folder: a stopper and the launch
/// number) to report their end on `done`, each end removing its job (an end of an earlier
/// launch of the same folder removes nothing). Returns how many did not end in time.
pub(super) fn wait_for_ends<S>(
    running: &mut HashMap<PathBuf, (S, u64)>,
    done: &Receiver<(PathBuf, u64)>,
    timeout: Duration,
) -> usize {
    let deadline = std::time::Instant::now() + timeout;
    while !running.is_empty() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match done.recv_timeout(left) {
            Ok((folder, launch)) => {
                if running.get(&folder).is_some_and(|(_, l)| *l == launch) {
                    running.remove(&folder);
                }
            }
            Err(_) => break,
        }
    }
    running.len()
}

impl Drop for RunsWorker {
    /// Closing the window stops its runs cleanly (each saves a checkpoint to resume from).
    fn drop(&mut self) {
        for (stopper, _) in self.stoppers.values() {
            stopper.stop();
        }
    }
}

/// Passes the engine's events of a run launched here on to the window.
fn relay(handle: &crate::ml::TrainingHandle, run: &Path, events: &EventSender) {
    for event in handle.events().iter() {
        match event {
            TrainingEvent::Preparing { stage, done, total } => {
                let stage = if total > 0 {
                    format!("{stage} {done}/{total}")
                } else {
                    stage
                };
                events.offer(Event::Run(RunEvent::RunPreparing {
                    run: run.to_path_buf(),
                    stage,
                }));
            }
            TrainingEvent::Record(MetricsRecord::Failed { message, .. }) => {
                events.send(Event::Run(RunEvent::RunFailed {
                    run: run.to_path_buf(),
                    message,
                }));
            }
            TrainingEvent::Record(_) => {}
        }
    }
}

/// The run folders opened by hand, from `file` (none when missing or unreadable).
fn read_remembered(file: &Path) -> Vec<PathBuf> {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Adds `root` to the run folders opened by hand (`keep`), or removes it.
fn remember(file: &Path, root: &Path, keep: bool, events: &EventSender) {
    let mut list = read_remembered(file);
    if list.iter().any(|p| p == root) == keep {
        return;
    }
    if keep {
        list.push(root.to_path_buf());
    } else {
        list.retain(|p| p != root);
    }
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(|e| e.to_string())
        .and_then(|()| serde_json::to_vec_pretty(&list).map_err(|e| e.to_string()))
        .and_then(|bytes| {
            crate::runs::folder::write_atomically(file, &bytes).map_err(|e| e.to_string())
        });
    if let Err(why) = written {
        events.send(Event::Run(RunEvent::WriteFailed(format!(
            "cannot remember the run folder in {}: {why}",
            file.display()
        ))));
    }
}

/// What the follower follows: runs, and audits (whose folds are among the runs).
#[derive(Default)]
struct Following {
    runs: Vec<Followed>,
    audits: Vec<FollowedAudit>,
}

impl Following {
    /// Follows the run or audit in `root` (an audit is told by its `audit.json`).
    fn add(&mut self, root: PathBuf, events: &EventSender) {
        if AuditFolder::is_audit(&root) {
            self.add_audit(root, events);
        } else {
            add(&mut self.runs, root, events);
        }
    }

    fn add_audit(&mut self, root: PathBuf, events: &EventSender) {
        if self.audits.iter().any(|a| a.folder.root() == root) {
            return;
        }
        let mut audit = FollowedAudit {
            existed: root.is_dir(),
            folder: AuditFolder::at(root),
            folds: None,
            broken: false,
            finished: false,
        };
        poll_audit(&mut audit, &mut self.runs, events);
        self.audits.push(audit);
    }
}

fn follow_loop(rx: &Receiver<Request>, events: &EventSender, remembered: &Path) {
    let mut following = Following::default();
    let mut tick: u32 = 0;
    loop {
        match rx.recv_timeout(POLL) {
            Ok(Request::Follow(root)) => following.add(root, events),
            Ok(Request::FollowAudit(root)) => following.add_audit(root, events),
            Ok(Request::Open(root)) => {
                remember(remembered, &root, true, events);
                following.add(root, events);
            }
            Ok(Request::Forget(root)) => {
                remember(remembered, &root, false, events);
                following.runs.retain(|f| f.folder.root() != root);
                following.audits.retain(|a| a.folder.root() != root);
                events.send(Event::Run(RunEvent::RunGone {
                    run: root,
                    deleted: false,
                }));
            }
            Ok(Request::Scan(folder)) => {
                for run in RunFolder::list(&folder) {
                    following.add(run.root().to_path_buf(), events);
                }
                for audit in audits_in(&folder) {
                    following.add_audit(audit, events);
                }
                for root in read_remembered(remembered) {
                    if root.is_dir() {
                        following.add(root, events);
                    }
                }
                events.send(Event::Run(RunEvent::RunsScanned { runs_dir: folder }));
            }
            Ok(Request::ForgetAll) => following = Following::default(),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        tick = tick.wrapping_add(1);
        let Following { runs, audits } = &mut following;
        audits.retain_mut(|audit| {
            let root = audit.folder.root();
            let there = root.is_dir();
            if audit.existed && !there {
                events.send(Event::Run(RunEvent::RunGone {
                    run: root.to_path_buf(),
                    deleted: true,
                }));
                return false;
            }
            audit.existed |= there;
            if !audit.finished || tick.is_multiple_of(ENDED_EVERY) {
                poll_audit(audit, runs, events);
            }
            true
        });
        let followed = runs;
        // A run folder deleted meanwhile leaves the list.
        followed.retain_mut(|run| {
            let root = run.folder.root();
            let there = root.is_dir();
            if run.existed && !there {
                events.send(Event::Run(RunEvent::RunGone {
                    run: root.to_path_buf(),
                    deleted: true,
                }));
                return false;
            }
            run.existed |= there;
            true
        });
        for run in followed.iter_mut() {
            if !run.ended || tick.is_multiple_of(ENDED_EVERY) {
                poll(run, events);
            }
        }
    }
}

/// The audit folders directly in `folder`, in name order.
fn audits_in(folder: &Path) -> Vec<PathBuf> {
    let mut audits: Vec<PathBuf> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| AuditFolder::is_audit(p))
        .collect();
    audits.sort();
    audits
}

/// Reports an audit's settings once they can be read (or why they cannot, once), and again
/// when it finishes; follows each of its folds once its run folder exists.
fn poll_audit(audit: &mut FollowedAudit, runs: &mut Vec<Followed>, events: &EventSender) {
    let finished = audit.folder.summary_path().is_file();
    if audit.folds.is_none() && !audit.broken && AuditFolder::is_audit(audit.folder.root()) {
        let settings = audit.folder.settings().map_err(|e| e.to_string());
        audit.folds = settings.as_ref().ok().map(|s| s.folds);
        audit.broken = settings.is_err();
        audit.finished = finished;
        events.send(Event::Run(RunEvent::AuditFound {
            audit: audit.folder.root().to_path_buf(),
            settings: Box::new(settings),
            finished,
        }));
    } else if audit.folds.is_some() && finished != audit.finished {
        audit.finished = finished;
        if let Ok(settings) = audit.folder.settings() {
            events.send(Event::Run(RunEvent::AuditFound {
                audit: audit.folder.root().to_path_buf(),
                settings: Box::new(Ok(settings)),
                finished,
            }));
        }
    }
    for fold in 1..=audit.folds.unwrap_or(0) {
        let run = audit.folder.fold(fold);
        let root = run.root();
        if run.config_path().is_file() && !runs.iter().any(|f| f.folder.root() == root) {
            add(runs, root.to_path_buf(), events);
        }
    }
}

fn add(followed: &mut Vec<Followed>, root: PathBuf, events: &EventSender) {
    if followed.iter().any(|f| f.folder.root() == root) {
        return;
    }
    let folder = RunFolder::at(&root);
    let existed = root.is_dir();
    let mut run = Followed {
        reader: MetricsReader::new(&folder.metrics_path()),
        folder,
        ended: false,
        has_predictions: false,
        config_read: false,
        existed,
    };
    read_config(&mut run, events, true);
    poll(&mut run, events);
    followed.push(run);
}

/// Reports the run's configuration once it can be read (and, with `always`, its absence).
fn read_config(run: &mut Followed, events: &EventSender, always: bool) {
    let config = run.folder.config().map_err(|e| e.to_string());
    run.config_read = config.is_ok();
    if always || run.config_read {
        events.send(Event::Run(RunEvent::RunFound {
            run: run.folder.root().to_path_buf(),
            config: Box::new(config),
        }));
    }
}

fn poll(run: &mut Followed, events: &EventSender) {
    if !run.config_read {
        read_config(run, events, false);
    }
    let has_predictions = run.folder.predictions_path().is_file();
    let (records, bad_lines, error) = match run.reader.poll() {
        Ok((records, bad)) => (records, bad.len(), None),
        Err(e) => (Vec::new(), 0, Some(e.to_string())),
    };
    let nothing_new = records.is_empty() && bad_lines == 0 && error.is_none();
    if nothing_new && has_predictions == run.has_predictions {
        return;
    }
    if let Some(last) = records.iter().rev().find(|r| {
        matches!(
            r,
            MetricsRecord::Started { .. }
                | MetricsRecord::Finished { .. }
                | MetricsRecord::Stopped { .. }
                | MetricsRecord::Failed { .. }
        )
    }) {
        run.ended = !matches!(last, MetricsRecord::Started { .. });
    }
    run.has_predictions = has_predictions;
    events.send(Event::Run(RunEvent::RunRecords {
        run: run.folder.root().to_path_buf(),
        records,
        bad_lines,
        has_predictions,
        error,
    }));
}
