//! Named worker threads and the channel their events come back on. The UI thread never
//! waits on them: it sends requests (unbounded, it is the sender) and drains events (bounded,
//! so a runaway worker blocks itself, not the UI).

pub mod audit;
pub mod audit_runs;
pub mod dialog;
pub mod filter;
pub mod jobs;
pub mod open;
pub mod runs;
pub mod similar;
pub mod store;
pub mod thumbnails;

use super::effect::Effect;
use super::event::{Event, RunEvent};
use crossbeam_channel::{Receiver, Sender};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How many events may wait for the UI thread.
const EVENT_CAPACITY: usize = 1024;

/// Wakes the UI thread (asks egui for a repaint) after an event was sent.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The sending end workers report through.
#[derive(Clone)]
pub struct EventSender {
    tx: Sender<Event>,
    wake: Waker,
}

impl EventSender {
    /// Sends `event`, waiting while the queue is full; a closed window drops it.
    pub fn send(&self, event: Event) {
        if self.tx.send(event).is_ok() {
            (self.wake)();
        }
    }

    /// Sends `event` unless the queue is full (for progress reports, which the next one
    /// replaces anyway).
    pub fn offer(&self, event: Event) {
        if self.tx.try_send(event).is_ok() {
            (self.wake)();
        }
    }
}

/// Spawns a named thread. A panic in `work` is caught at the thread's boundary and reported
/// as the event `failed` makes of its message (so the window resets whatever waited on the
/// thread); failing to spawn one (out of resources) is reported, not a panic.
pub fn spawn(
    name: &str,
    events: &EventSender,
    failed: impl FnOnce(String) -> Event + Send + 'static,
    work: impl FnOnce() + Send + 'static,
) -> Result<(), String> {
    let events = events.clone();
    let thread = name.to_string();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(message) = crate::threads::catch(work) {
                events.send(failed(format!("the {thread} thread failed: {message}")));
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the {name} thread: {e}"))
}

/// The workers of one window, and the one owner of every background job: effects queued by
/// the update are carried out here, and nowhere else starts a thread.
pub struct Workers {
    events: Receiver<Event>,
    sender: EventSender,
    /// The thumbnail decoding pool.
    pub thumbnails: thumbnails::ThumbnailPool,
    /// The filter worker.
    pub filter: filter::FilterWorker,
    /// Training runs: launched here, or followed on disk.
    pub runs: runs::RunsWorker,
    /// Audits launched here (their folders and folds are followed by `runs`).
    pub audits: audit_runs::AuditsWorker,
    /// The store worker of the open catalogue.
    pub store: Option<store::StoreWorker>,
    /// The Similar strip's searches.
    pub similar: similar::SimilarWorker,
    /// The data folder (demo, thumbnail cache, recent list).
    pub data_dir: PathBuf,
    /// Set to cancel the catalogue being opened.
    pub open_cancel: Option<Arc<AtomicBool>>,
    /// Set to cancel the duplicate search running.
    pub duplicates_cancel: Option<Arc<AtomicBool>>,
    /// Stops the map's computation running.
    pub map_cancel: Option<Arc<AtomicBool>>,
}

impl Workers {
    /// Starts the long-lived workers; `wake` asks the UI for a repaint.
    pub fn start(wake: Waker, data_dir: PathBuf) -> Result<Workers, String> {
        let (tx, events) = crossbeam_channel::bounded(EVENT_CAPACITY);
        let sender = EventSender { tx, wake };
        let thumbnails = thumbnails::ThumbnailPool::start(
            sender.clone(),
            Some(crate::paths::thumbnail_cache(&data_dir)),
        )?;
        let filter = filter::FilterWorker::start(sender.clone())?;
        let similar = similar::SimilarWorker::start(sender.clone())?;
        let runs = runs::RunsWorker::start(sender.clone(), crate::paths::opened_runs(&data_dir))?;
        let devices = sender.clone();
        spawn("vitrine-devices", &sender, Event::WorkerFailed, move || {
            devices.send(Event::Run(RunEvent::DevicesFound(
                crate::ml::backend::gpu_count(),
            )))
        })?;
        Ok(Workers {
            runs,
            audits: audit_runs::AuditsWorker::default(),
            events,
            sender,
            thumbnails,
            filter,
            similar,
            store: None,
            data_dir,
            open_cancel: None,
            duplicates_cancel: None,
            map_cancel: None,
        })
    }

    /// The next event, if one is waiting.
    pub fn try_event(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// A sender for a new one-off worker.
    pub fn sender(&self) -> EventSender {
        self.sender.clone()
    }

    /// Carries out one effect. What cannot be done (a thread that cannot start, a stopped
    /// worker) comes back as the event its job would have failed with.
    pub fn perform(&mut self, effect: Effect) {
        let events = self.sender.clone();
        match effect {
            Effect::OpenCatalogue(request) => {
                let path = request.source.catalogue.clone();
                let cancel = self.new_open();
                let started = open::start(request, self.data_dir.clone(), events.clone(), cancel);
                if let Err(message) = started {
                    events.send(Event::OpenFailed { path, message });
                }
            }
            Effect::OpenDemo => {
                let cancel = self.new_open();
                let started = open::start_demo(self.data_dir.clone(), events.clone(), cancel);
                if let Err(message) = started {
                    let path = crate::paths::demo_dir(&self.data_dir);
                    events.send(Event::OpenFailed { path, message });
                }
            }
            Effect::CancelOpen => {
                if let Some(cancel) = &self.open_cancel {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            Effect::LoadRecent => {
                if let Err(text) = open::load_recent(self.data_dir.clone(), events.clone()) {
                    events.send(Event::WorkerFailed(text));
                }
            }
            Effect::ShowDialog { purpose, start_in } => {
                if let Err(text) = dialog::show(purpose, start_in, events.clone()) {
                    events.send(Event::WorkerFailed(text));
                }
            }
            Effect::LoadPredictions { path, catalog } => {
                if let Err(text) = open::load_predictions(path, catalog, events.clone()) {
                    events.send(Event::PredictionsFailed(text));
                }
            }
            Effect::StartStore { workspace, author } => {
                // Dropping the old worker ends it once its queue is done: its edits are durable.
                self.store = None;
                match store::StoreWorker::start(*workspace, author, events.clone()) {
                    Ok(worker) => self.store = Some(worker),
                    Err(text) => events.send(Event::StoreStopped(text)),
                }
            }
            Effect::Store(request) => match &self.store {
                Some(worker) => worker.send(request),
                None => store::refuse(request, &events),
            },
            Effect::Filter(job) => self.filter.run(job),
            Effect::WantImages(wanted) => self.thumbnails.want(wanted),
            Effect::OpenAudit(job) => audit::open(job, &events),
            Effect::FindLastAudit {
                generation,
                data_dir,
                source,
            } => audit::find_last(generation, data_dir, source, &events),
            Effect::Compare { a, b, catalog } => jobs::compare(a, b, catalog, &events),
            Effect::Predict(run) => jobs::predict(run, &events),
            Effect::OpenSimilar { generation, path } => self.similar.open(generation, path),
            Effect::FindDuplicates(job) => {
                let cancel = Arc::new(AtomicBool::new(false));
                self.duplicates_cancel = Some(cancel.clone());
                jobs::find_duplicates(job, cancel, &events);
            }
            Effect::Decide {
                predictions,
                product,
                id,
            } => jobs::decide(predictions, product, id, &events),
            Effect::ComputeMap {
                generation,
                predictions,
            } => {
                let cancel = Arc::new(AtomicBool::new(false));
                // One map at a time: a new one stops the last.
                if let Some(old) = self.map_cancel.replace(cancel.clone()) {
                    old.store(true, Ordering::Relaxed);
                }
                jobs::compute_map(generation, predictions, cancel, &events);
            }
            Effect::CancelMap => {
                if let Some(cancel) = &self.map_cancel {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            Effect::WriteMapPicture {
                path,
                points,
                colours,
                highlight,
            } => jobs::write_map_picture(path, points, colours, highlight, &events),
            Effect::CancelDuplicates => {
                if let Some(cancel) = &self.duplicates_cancel {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
            Effect::FindSimilar {
                generation,
                product,
                id,
                k,
            } => self.similar.find(generation, product, id, k),
            Effect::ReadKernels(run) => jobs::read_kernels(run, &events),
            Effect::WriteFile { path, text } => jobs::write_file(path, text, &events),
            Effect::LaunchRun(request) => {
                let run = request.run_dir.clone();
                if let Err(message) = self.runs.launch(*request, events.clone()) {
                    events.send(Event::Run(RunEvent::RunFailed {
                        run: run.clone(),
                        message,
                    }));
                    events.send(Event::Run(RunEvent::RunThreadEnded { run }));
                }
            }
            Effect::StopRun(run) => self.runs.stop(&run),
            Effect::LaunchAudit(request) => {
                let audit = request.dir.clone();
                // Followed first: the folder, its settings and its folds appear as written.
                self.runs.follow_audit(audit.clone());
                if let Err(message) = self.audits.launch(*request, events.clone()) {
                    events.send(Event::Run(RunEvent::AuditReported {
                        audit: audit.clone(),
                        event: crate::ml::audit::AuditEvent::Failed {
                            fold: None,
                            message,
                        },
                    }));
                    events.send(Event::Run(RunEvent::AuditThreadEnded { audit }));
                }
            }
            Effect::StopAudit(audit) => self.audits.stop(&audit),
            Effect::AuditEnded(audit) => self.audits.ended(&audit),
            Effect::OpenRun(run) => self.runs.open(run),
            Effect::ForgetRun(run) => self.runs.forget(run),
            Effect::FollowCatalogueRuns { runs_dir, keep } => {
                self.runs.forget_all();
                for run in keep {
                    self.runs.follow(run);
                }
                self.runs.scan(runs_dir);
            }
            Effect::RunEnded(run) => self.runs.ended(&run),
            Effect::Discard(session) => jobs::discard(session),
        }
    }

    /// A fresh cancel flag for the open about to start (the previous open's is dropped).
    fn new_open(&mut self) -> Arc<AtomicBool> {
        let cancel = Arc::new(AtomicBool::new(false));
        self.open_cancel = Some(cancel.clone());
        cancel
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_thread_that_panics_reports_the_event_its_owner_chose() {
        let (tx, rx) = crossbeam_channel::bounded(4);
        let events = EventSender {
            tx,
            wake: Arc::new(|| {}),
        };
        spawn("vitrine-test", &events, Event::StoreStopped, || {
            panic!("disk on fire")
        })
        .unwrap();
        match rx.recv_timeout(Duration::from_secs(10)).unwrap() {
            Event::StoreStopped(message) => {
                assert_eq!(message, "the vitrine-test thread failed: disk on fire")
            }
            other => panic!("{other:?}"),
        }
        // A thread that ends normally reports nothing.
        spawn("vitrine-test", &events, Event::WorkerFailed, || {}).unwrap();
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err());
    }
}
