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
use crate::labels::{
    Attribution, BaseLabels, Change, DetachedStore, LabelStore, ServerState, StoreError,
    export_over,
};
use crossbeam_channel::{RecvTimeoutError, Sender};

/// What a request to a stopped worker gets.
pub const STOPPED: &str =
    "the label store stopped after a failure; reopen the catalogue to edit (saved edits are kept)";

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
                // A failure to look is said once, not at every look, and again only when it
                // changes; a team store's server away is not one (the window says offline).
                let mut last_failure: Option<String> = None;
                let mut server = None;
                loop {
                    let interval = workspace.store.sync_interval();
                    match inbox.recv_timeout(interval) {
                        Ok(request) => handle(&mut workspace, &author, request, &events),
                        Err(RecvTimeoutError::Timeout) => match look(&mut workspace, &events) {
                            Ok(()) | Err(StoreError::Unreachable { .. }) => last_failure = None,
                            Err(e) => {
                                let message = e.to_string();
                                if last_failure.as_ref() != Some(&message) {
                                    last_failure = Some(message.clone());
                                    events.send(Event::StoreFailed {
                                        request: None,
                                        message,
                                    });
                                }
                            }
                        },
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                    tell_server(&mut workspace.store, &mut server, &events);
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

/// Tells the window how a team store's link to its server changed since `last`, and of the
/// edits its server refused.
fn tell_server(store: &mut LabelStore, last: &mut Option<ServerState>, events: &EventSender) {
    let lost = store.take_lost();
    if !lost.is_empty() {
        events.send(Event::EditsLost(lost));
    }
    let now = store.server_state();
    if now != *last {
        if let Some(state) = &now {
            events.send(Event::ServerChanged(state.clone()));
        }
        *last = now;
    }
}

/// Picks up the edits and reviews others made since the last look.
fn look(workspace: &mut DetachedStore, events: &EventSender) -> Result<(), StoreError> {
    let edits = workspace.store.new_edits()?;
    if !edits.is_empty() {
        events.send(Event::LabelsSaved {
            request: None,
            edits,
            kind: SaveKind::Elsewhere,
        });
    }
    let changes = workspace.store.new_reviews()?;
    if !changes.is_empty() {
        events.send(Event::ReviewsChanged(changes));
    }
    if workspace.store.verdicts_changed()? {
        events.send(Event::VerdictsChanged);
    }
    Ok(())
}

/// Answers a request no worker can take, as the worker answers a failed one.
pub fn refuse(request: StoreRequest, events: &EventSender) {
    let message = STOPPED.to_string();
    events.send(match request {
        StoreRequest::Set { id, .. }
        | StoreRequest::Keep { id, .. }
        | StoreRequest::Withdraw { id, .. }
        | StoreRequest::Undo(id)
        | StoreRequest::Judge { id, .. }
        | StoreRequest::Redo(id) => Event::StoreFailed {
            request: Some(id),
            message,
        },
        StoreRequest::History(_) => Event::StoreFailed {
            request: None,
            message,
        },
        StoreRequest::Changes(_) => Event::ChangesLoaded(Err(message)),
        StoreRequest::Export { .. } => Event::ExportFailed(message),
        StoreRequest::NotDuplicates(_) => {
            Event::Duplicates(crate::app::event::DuplicatesEvent::Marks(Err(message)))
        }
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
            reason,
        } => {
            let changes: Vec<Change> = changes
                .into_iter()
                .map(|(product, value)| Change {
                    product,
                    task,
                    value,
                })
                .collect();
            let by = Attribution {
                reason,
                ..by(source)
            };
            saved(
                id,
                store.set_many_over(labels, &changes, &by),
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
        StoreRequest::History(product) => match store
            .history(&product)
            .and_then(|edits| Ok((edits, store.judgements(&product)?)))
        {
            Ok((edits, verdicts)) => events.send(Event::HistoryLoaded {
                product,
                edits,
                verdicts,
            }),
            Err(e) => events.send(Event::StoreFailed {
                request: None,
                message: e.to_string(),
            }),
        },
        StoreRequest::Changes(filter) => {
            let reviewer = store
                .role()
                .map_or_else(|| author.to_string(), String::from);
            let queue = store
                .change_queue(&filter, &reviewer)
                .map_err(|e| e.to_string());
            events.send(Event::ChangesLoaded(queue));
        }
        StoreRequest::Judge {
            id,
            ids,
            whole_batches,
            verdict,
        } => match store.judge_over(&ids, whole_batches, author, verdict) {
            Ok(judged) => events.send(Event::Judged {
                request: id,
                judged,
            }),
            Err(e) => events.send(Event::StoreFailed {
                request: Some(id),
                message: e.to_string(),
            }),
        },
        StoreRequest::NotDuplicates(pairs) => {
            let marks = if pairs.is_empty() {
                Ok(0)
            } else {
                store.mark_not_duplicates(labels, &pairs, author)
            }
            .and_then(|_| store.not_duplicates())
            .map_err(|e| e.to_string());
            events.send(Event::Duplicates(
                crate::app::event::DuplicatesEvent::Marks(marks),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Task;
    use crate::catalog::import::ImportOptions;
    use crate::labels::{Keep, open_workspace};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn the_worker_keeps_withdraws_and_picks_up_another_process_reviews() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.csv");
        std::fs::write(
            &manifest,
            "product_id,name,images,colour\np1,One,,Red\np2,Two,,Blue\n",
        )
        .unwrap();
        let options = ImportOptions::default();
        let (catalog, detached) = open_workspace(&manifest, &options, None).unwrap().detach();
        let (tx, rx) = crossbeam_channel::bounded(16);
        let events = EventSender {
            tx,
            wake: Arc::new(|| {}),
        };
        let worker = StoreWorker::start(detached, "ada".into(), events).unwrap();
        let next = || rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let keep = |product: &str, label: &str| Keep {
            product: product.into(),
            task: Task::Colour,
            label: label.into(),
            photos: catalog.product(product).unwrap().photo_signature(),
        };
        worker.send(StoreRequest::Keep {
            id: RequestId(1),
            keep: keep("p1", "Red"),
        });
        let review = match next() {
            Event::ReviewSaved {
                request: RequestId(1),
                review,
            } => review,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (review.author.as_str(), review.label.as_str()),
            ("ada", "Red")
        );
        worker.send(StoreRequest::Withdraw {
            id: RequestId(2),
            review: review.id,
        });
        match next() {
            Event::ReviewWithdrawn {
                request: RequestId(2),
                withdrawn,
            } => assert_eq!((withdrawn.review.id, withdrawn.standing), (review.id, None)),
            other => panic!("{other:?}"),
        }
        worker.send(StoreRequest::Withdraw {
            id: RequestId(3),
            review: review.id,
        });
        match next() {
            Event::StoreFailed {
                request: Some(RequestId(3)),
                message,
            } => assert!(message.contains("already withdrawn by ada"), "{message}"),
            other => panic!("{other:?}"),
        }
        // Another process keeps p2: the worker reports it at its next look.
        let mut other = open_workspace(&manifest, &options, None).unwrap();
        let theirs = other
            .store
            .keep(&other.catalog, &keep("p2", "Blue"), "bob")
            .unwrap();
        match next() {
            Event::ReviewsChanged(changes) => {
                assert_eq!(changes.len(), 1);
                assert_eq!(changes[0].review.as_ref(), Some(&theirs));
            }
            other => panic!("{other:?}"),
        }
    }
}
