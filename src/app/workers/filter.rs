//! The filter worker: runs filters over large catalogues off the UI thread, always the latest
//! job only.

use super::{EventSender, spawn};
use crate::app::effect::FilterJob;
use crate::app::event::Event;
use crate::app::filter::{FilterInputs, apply};
use crossbeam_channel::Sender;
use std::time::Instant;

/// The worker's handle; dropping it stops the thread.
pub struct FilterWorker {
    jobs: Sender<FilterJob>,
}

impl FilterWorker {
    /// Starts the thread.
    pub fn start(events: EventSender) -> Result<FilterWorker, String> {
        let (jobs, inbox) = crossbeam_channel::unbounded::<FilterJob>();
        let worker_events = events.clone();
        spawn(
            "vitrine-filter",
            &worker_events,
            Event::WorkerFailed,
            move || {
                while let Ok(mut job) = inbox.recv() {
                    // Only the newest filter matters; older ones were superseded while waiting.
                    while let Ok(newer) = inbox.try_recv() {
                        job = newer;
                    }
                    let started = Instant::now();
                    // A job only reads its snapshot, so one that fails leaves nothing behind and
                    // the worker goes on with the next.
                    let matches = crate::threads::catch(|| {
                        apply(
                            &job.filter,
                            FilterInputs {
                                catalog: &job.catalog,
                                predictions: job.predictions.as_deref(),
                                prediction_rows: &job.rows,
                                edited: &job.edited,
                            },
                        )
                    });
                    let generation = job.generation;
                    // Let go of the snapshot before reporting, so the UI can edit its catalogue
                    // in place again as soon as it reads the result.
                    drop(job);
                    events.send(match matches {
                        Ok(matches) => Event::FilterFinished {
                            generation,
                            matches,
                            elapsed: started.elapsed(),
                        },
                        Err(panic) => Event::FilterFailed {
                            generation,
                            message: format!("filtering failed: {panic}"),
                        },
                    });
                }
            },
        )?;
        Ok(FilterWorker { jobs })
    }

    /// Queues a job.
    pub fn run(&self, job: FilterJob) {
        // The thread lives as long as this handle: each job's failure is caught inside it.
        let _ = self.jobs.send(job);
    }
}
