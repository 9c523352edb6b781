//! The label store worker: owns the label store (its SQLite connection) with what it needs of
//! the catalogue to write over it ([`BaseLabels`]), makes every change (label edits, reviews)
//! durable and reports each one back; also picks up the edits and reviews other processes
//! make.
//!
//! It holds no catalogue: the window's is the only one (at 1,000,000 products a second copy
//! was 156 MB, and copying it 0.3 s of the open). The window applies the edits the worker
//! reports, as it does those of other processes; the worker's own labels are those the
//! catalogue was opened with, which is all a new edit needs (its old value), since a label any
//! edit changed has a row in the store that is read instead. An export borrows the window's
//! catalogue for its names, images and attributes, with the store's current labels over its
//! own (the window may not show the latest edits yet).

use super::{EventSender, spawn};
use crate::app::effect::StoreRequest;
use crate::app::event::{Event, RequestId, SaveKind};
use crate::labels::{Attribution, BaseLabels, Change, DetachedStore, export_over};
use crossbeam_channel::{RecvTimeoutError, Sender};
use std::time::Duration;

/// What a request to a stopped worker gets.
pub const STOPPED: &str =
    "the label store stopped after a failure; reopen the catalogue to edit (saved edits are kept)";

/// How often the worker looks for edits written by other processes.
const SYNC_INTERVAL: Duration = Duration::from_secs(2);

/// The handle of a running store worker; dropping it ends the worker.
pub struct StoreWorker {
    requests: Sender<StoreRequest>,
    events: EventSender,
}

impl StoreWorker {
    /// Starts the worker for `workspace`, writing as `author`.
    pub fn start(
        workspace: DetachedStore,
        author: String,
        events: EventSender,
    ) -> Result<StoreWorker, String> {
        let (requests, inbox) = crossbeam_channel::unbounded();
        let worker_events = events.clone();
        // A panic mid-request may leave the store's view of what it reported unlike the store
        // (SQLite rolls back the transaction it was in), so the worker stops rather than go on
        // from it.
        spawn(
            "vitrine-store",
            &worker_events,
            Event::StoreStopped,
            move || {
                let mut workspace = workspace;
                // Left by the open for here, so the grid did not wait for it; the first
                // request waits instead.
                if let Err(e) = workspace.record_products() {
                    events.send(Event::StoreFailed {
                        request: None,
                        message: e.to_string(),
                    });
                }
                loop {
                    match inbox.recv_timeout(SYNC_INTERVAL) {
                        Ok(request) => handle(&mut workspace, &author, request, &events),
                        Err(RecvTimeoutError::Timeout) => {
                            match workspace.store.new_edits() {
                                Ok(edits) if !edits.is_empty() => events.send(Event::LabelsSaved {
                                    request: None,
                                    edits,
                                    kind: SaveKind::Elsewhere,
                                }),
                                Ok(_) => {}
                                Err(e) => events.send(Event::StoreFailed {
                                    request: None,
                                    message: e.to_string(),
                                }),
                            }
                            match workspace.store.new_reviews() {
                                Ok(changes) if !changes.is_empty() => {
                                    events.send(Event::ReviewsChanged(changes))
                                }
                                Ok(_) => {}
                                Err(e) => events.send(Event::StoreFailed {
                                    request: None,
                                    message: e.to_string(),
                                }),
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            },
        )?;
        Ok(StoreWorker {
            requests,
            events: worker_events,
        })
    }

    /// Queues a request; once the worker has stopped (after a failure, reported as
    /// [`Event::StoreStopped`]) the request is refused with an event.
    pub fn send(&self, request: StoreRequest) {
        if let Err(refused) = self.requests.send(request) {
            refuse(refused.into_inner(), &self.events);
        }
    }
}

/// Answers a request no worker can take, as the worker answers a failed one.
pub fn refuse(request: StoreRequest, events: &EventSender) {
    let message = STOPPED.to_string();
    events.send(match request {
        StoreRequest::Set { id, .. }
        | StoreRequest::Keep { id, .. }
        | StoreRequest::Withdraw { id, .. }
        | StoreRequest::Undo(id)
        | StoreRequest::Redo(id) => Event::StoreFailed {
            request: Some(id),
            message,
        },
        StoreRequest::History(_) => Event::StoreFailed {
            request: None,
            message,
        },
        StoreRequest::Export { .. } => Event::ExportFailed(message),
    });
}

fn handle(
    workspace: &mut DetachedStore,
    author: &str,
    request: StoreRequest,
    events: &EventSender,
) {
    let DetachedStore {
        store,
        import,
        labels,
        ..
    } = workspace;
    let labels: &BaseLabels = labels;
    let by = |source| Attribution {
        author: author.to_string(),
        source,
        reason: None,
    };
    let saved = |id: RequestId,
                 result: Result<Vec<crate::labels::Edit>, crate::labels::StoreError>,
                 kind| match result {
        Ok(edits) => events.send(Event::LabelsSaved {
            request: Some(id),
            edits,
            kind,
        }),
        Err(e) => events.send(Event::StoreFailed {
            request: Some(id),
            message: e.to_string(),
        }),
    };
    match request {
        StoreRequest::Set {
            id,
            task,
            changes,
            source,
        } => {
            let changes: Vec<Change> = changes
                .into_iter()
                .map(|(product, value)| Change {
                    product,
                    task,
                    value,
                })
                .collect();
            saved(
                id,
                store.set_many_over(labels, &changes, &by(source)),
                SaveKind::Change,
            );
        }
        StoreRequest::Keep { id, keep } => match store.keep(labels, &keep, author) {
            Ok(review) => events.send(Event::ReviewSaved {
                request: id,
                review,
            }),
            Err(e) => events.send(Event::StoreFailed {
                request: Some(id),
                message: e.to_string(),
            }),
        },
        StoreRequest::Withdraw { id, review } => match store.withdraw_review(review, author) {
            Ok(withdrawn) => events.send(Event::ReviewWithdrawn {
                request: id,
                withdrawn,
            }),
            Err(e) => events.send(Event::StoreFailed {
                request: Some(id),
                message: e.to_string(),
            }),
        },
        StoreRequest::Undo(id) => saved(id, store.undo_edits(author), SaveKind::Undo),
        StoreRequest::Redo(id) => saved(id, store.redo_edits(author), SaveKind::Redo),
        StoreRequest::History(product) => match store.history(&product) {
            Ok(edits) => events.send(Event::HistoryLoaded { product, edits }),
            Err(e) => events.send(Event::StoreFailed {
                request: None,
                message: e.to_string(),
            }),
        },
        StoreRequest::Export { path, catalog } => {
            let exported = store
                .current_labels()
                .map_err(|e| e.to_string())
                .and_then(|edited| {
                    export_over(&catalog, &edited, &import.source, store.path(), &path)
                        .map_err(|e| e.to_string())
                });
            drop(catalog);
            match exported {
                Ok(summary) => events.send(Event::Exported { path, summary }),
                Err(e) => events.send(Event::ExportFailed(e)),
            }
        }
    }
}
