//! Audits launched from the window: each runs on the engine's `vitrine-audit` thread
//! (`vitrine::ml::audit::start`), and a `vitrine-audit-events` thread passes its events on to
//! the window. The folds' records are not passed on: each fold is an ordinary run folder, read
//! from its log by the runs follower like any other run (so a fold's curves look the same
//! whether the audit trains here or in `vitrine audit`).

use super::{EventSender, spawn};
use crate::app::event::{Event, RunEvent};
use crate::ml::TrainingEvent;
use crate::ml::audit::{AuditEvent, AuditHandle, AuditRequest};
use crate::runs::MetricsRecord;
use crate::runs::audit::AuditFolder;
use crossbeam_channel::{Receiver, Sender, unbounded};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The stop flags of the audits training in this window.
pub struct AuditsWorker {
    /// Per audit training here: its stop flag and the number of its launch.
    stoppers: HashMap<PathBuf, (Arc<AtomicBool>, u64)>,
    /// Launches so far (an audit stopped and resumed is launched twice).
    launches: u64,
    /// Each relay reports its audit's end here too (for [`AuditsWorker::shutdown`]).
    done_tx: Sender<(PathBuf, u64)>,
    done_rx: Receiver<(PathBuf, u64)>,
}

impl Default for AuditsWorker {
    fn default() -> Self {
        let (done_tx, done_rx) = unbounded();
        AuditsWorker {
            stoppers: HashMap::new(),
            launches: 0,
            done_tx,
            done_rx,
        }
    }
}

impl AuditsWorker {
    /// Starts (or resumes) an audit on the engine's thread; its events come back as
    /// [`RunEvent::AuditReported`], then [`RunEvent::AuditThreadEnded`].
    pub fn launch(&mut self, request: AuditRequest, events: EventSender) -> Result<(), String> {
        let audit = request.dir.clone();
        if self.stoppers.contains_key(&audit) {
            return Err(format!("{} is already training", audit.display()));
        }
        let handle = crate::ml::audit::start(request)
            .map_err(|e| format!("cannot start the audit thread: {e}"))?;
        self.launches += 1;
        let launch = self.launches;
        let stop = handle.stop_flag();
        self.stoppers.insert(audit.clone(), (stop.clone(), launch));
        let thread_audit = audit.clone();
        let done = self.done_tx.clone();
        let started = spawn(
            "vitrine-audit-events",
            &events.clone(),
            Event::WorkerFailed,
            move || {
                if let Err(panic) = crate::threads::catch(|| relay(&handle, &thread_audit, &events))
                {
                    // The audit must not look as if it trained forever.
                    handle.stop();
                    events.send(Event::Run(RunEvent::AuditReported {
                        audit: thread_audit.clone(),
                        event: AuditEvent::Failed {
                            fold: None,
                            message: format!("the vitrine-audit-events thread failed: {panic}"),
                        },
                    }));
                }
                handle.join();
                let _ = done.send((thread_audit.clone(), launch));
                events.send(Event::Run(RunEvent::AuditThreadEnded {
                    audit: thread_audit,
                }));
            },
        );
        if let Err(e) = started {
            if let Some((stop, _)) = self.stoppers.remove(&audit) {
                stop.store(true, Ordering::Relaxed);
            }
            return Err(e);
        }
        Ok(())
    }

    /// Asks the audit in `audit` to stop (nothing when it is not training in this window).
    pub fn stop(&self, audit: &Path) {
        if let Some((stop, _)) = self.stoppers.get(audit) {
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// The engine's thread of `audit` ended.
    pub fn ended(&mut self, audit: &Path) {
        self.stoppers.remove(audit);
    }

    /// Asks every audit training in this window to stop.
    pub fn stop_all(&self) {
        for (stop, _) in self.stoppers.values() {
            stop.store(true, Ordering::Relaxed);
        }
    }

    /// Stops every audit training in this window and waits, at most `timeout`, for each to
    /// save its fold's checkpoint (the window is closing). Returns how many did not end in
    /// time.
    pub fn shutdown(&mut self, timeout: Duration) -> usize {
        self.stop_all();
        super::runs::wait_for_ends(&mut self.stoppers, &self.done_rx, timeout)
    }
}

impl Drop for AuditsWorker {
    /// Closing the window stops its audits cleanly (the fold training saves a checkpoint).
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Passes an audit's events on to the window: its own as they are, a fold's preparation and
/// failure as that fold run's.
fn relay(handle: &AuditHandle, audit: &Path, events: &EventSender) {
    let folder = AuditFolder::at(audit);
    for event in handle.events().iter() {
        match event {
            AuditEvent::Fold { fold, event } => {
                let run = folder.fold(fold).root().to_path_buf();
                match event {
                    TrainingEvent::Preparing { stage, done, total } => {
                        let stage = if total > 0 {
                            format!("{stage} {done}/{total}")
                        } else {
                            stage
                        };
                        events.offer(Event::Run(RunEvent::RunPreparing { run, stage }));
                    }
                    TrainingEvent::Record(MetricsRecord::Failed { message, .. }) => {
                        events.send(Event::Run(RunEvent::RunFailed { run, message }));
                    }
                    TrainingEvent::Record(_) => {}
                }
            }
            event => events.send(Event::Run(RunEvent::AuditReported {
                audit: audit.to_path_buf(),
                event,
            })),
        }
    }
}
