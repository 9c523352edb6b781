//! Label changes: what the moderator sets, picks or confirms goes to the label store as one
//! request with its own id; the store's answers (saved, refused, stopped) come back here.
//! A change is shown once it is durable, never before. So are reviews: a label kept ("checked,
//! it is right") and a keep withdrawn.

use super::matches;
use crate::app::effect::StoreRequest;
use crate::app::effect::{Effect, Queue};
use crate::app::event::{Event, RequestId, SaveKind};
use crate::app::state::{AppState, BulkChange, ProductHistory};
use crate::app::workers::store::STOPPED;
use crate::catalog::Task;
use crate::catalog::text::printable;
use crate::labels::{Edit, EditSource, Keep, Review};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Sends a request that changes labels, unless there is no store to send it to; its id.
pub(super) fn send_change(
    state: &mut AppState,
    request: impl FnOnce(RequestId) -> StoreRequest,
    queue: &mut Queue,
) -> Option<RequestId> {
    if state.session.is_none() {
        state.notice("no catalogue is open");
        None
    } else if state.store_stopped {
        state.error(STOPPED);
        None
    } else {
        let id = state.new_store_request();
        queue.effect(Effect::Store(request(id)));
        Some(id)
    }
}

/// Undoes the author's latest batch.
pub fn undo(state: &mut AppState, queue: &mut Queue) {
    send_change(state, StoreRequest::Undo, queue);
}

/// Redoes the author's latest undone batch.
pub fn redo(state: &mut AppState, queue: &mut Queue) {
    send_change(state, StoreRequest::Redo, queue);
}

/// Journals that the label of `task` of the product at `position` was checked and is right,
/// with the product's photos now; the request's id.
pub fn keep_label(
    state: &mut AppState,
    position: u32,
    task: Task,
    queue: &mut Queue,
) -> Option<RequestId> {
    let Some(session) = &state.session else {
        state.notice("no catalogue is open");
        return None;
    };
    let product = session.product(position)?;
    // A durable edit a filter job keeps from the catalogue is the label shown next frame.
    let waiting = session
        .unapplied
        .iter()
        .rev()
        .find(|e| *e.product == *product.id && e.task == task);
    let label = match waiting {
        Some(edit) => edit.new.clone(),
        None => session.label(position, task).map(String::from),
    };
    let Some(label) = label else {
        let text = format!("{} has no {task} label to keep", printable(&product.id));
        state.notice(text);
        return None;
    };
    keep_as(state, position, task, label, queue)
}

/// Journals that the label of `task` of the product at `position` is `label` (checked: a
/// label about to be set, or the one shown); the request's id.
pub(super) fn keep_as(
    state: &mut AppState,
    position: u32,
    task: Task,
    label: String,
    queue: &mut Queue,
) -> Option<RequestId> {
    let product = state.session.as_ref()?.product(position)?;
    let keep = Keep {
        product: product.id.to_string(),
        task,
        label,
        photos: product.photo_signature(),
    };
    send_change(state, |id| StoreRequest::Keep { id, keep }, queue)
}

/// Withdraws review `review` (undoes a keep); the request's id.
pub fn withdraw_review(state: &mut AppState, review: i64, queue: &mut Queue) -> Option<RequestId> {
    send_change(state, |id| StoreRequest::Withdraw { id, review }, queue)
}

/// Records what stands for `product` and `task` in the open session's reviews.
fn set_standing(state: &mut AppState, product: &str, task: Task, review: Option<Review>) {
    let Some(session) = &mut state.session else {
        return;
    };
    let Some(position) = session.catalog.position(product) else {
        return;
    };
    match review {
        Some(review) => session.reviews.insert((position as u32, task), review),
        None => session.reviews.remove(&(position as u32, task)),
    };
}

/// Writes the corrected catalogue to `path`.
pub fn export(state: &mut AppState, path: PathBuf, queue: &mut Queue) {
    let Some(session) = &state.session else {
        return;
    };
    if state.store_stopped {
        state.error(STOPPED);
        return;
    }
    let catalog = session.catalog.clone();
    state.exporting = Some(path.clone());
    queue.effect(Effect::Store(StoreRequest::Export { path, catalog }));
}

/// Asks the store for the focused product's journal entries.
pub fn request_history(state: &mut AppState, queue: &mut Queue) {
    let (Some(session), Some(focus)) = (&state.session, state.selection.focus) else {
        return;
    };
    if state.store_stopped {
        return;
    }
    if let Some(product) = session.product(focus) {
        queue.effect(Effect::Store(StoreRequest::History(product.id.to_string())));
    }
}

/// Sets `task` of `targets` to `value`, as one batch.
pub fn set_label(
    state: &mut AppState,
    task: Task,
    value: Option<String>,
    source: EditSource,
    targets: &[u32],
    queue: &mut Queue,
) {
    let changes: Vec<(u32, Option<String>)> = targets.iter().map(|&p| (p, value.clone())).collect();
    set_labels(state, task, source, &changes, None, queue);
}

/// The picker's class was chosen: set at once on one product, or ask to confirm on several.
pub fn choose(state: &mut AppState, value: String, queue: &mut Queue) {
    let Some(picker) = state.picker.take() else {
        return;
    };
    if picker.audit {
        super::audit::picked(state, &picker, value, queue);
    } else if picker.targets.len() > 1 {
        state.bulk = Some(BulkChange {
            task: picker.task,
            description: format!("\"{value}\""),
            values: vec![value; picker.targets.len()],
            targets: picker.targets,
            source: EditSource::Bulk,
        });
    } else {
        let source = EditSource::Human;
        set_label(
            state,
            picker.task,
            Some(value),
            source,
            &picker.targets,
            queue,
        );
    }
}

/// Applies the bulk change waiting for confirmation.
pub fn confirm_bulk(state: &mut AppState, queue: &mut Queue) {
    if let Some(bulk) = state.bulk.take() {
        let changes: Vec<(u32, Option<String>)> = bulk
            .targets
            .into_iter()
            .zip(bulk.values.into_iter().map(Some))
            .collect();
        set_labels(state, bulk.task, bulk.source, &changes, None, queue);
    }
}

/// Sends one batch of changes of `task` (catalogue position, new label), each journalled with
/// `reason`, to the store; the request's id.
pub(super) fn set_labels(
    state: &mut AppState,
    task: Task,
    source: EditSource,
    changes: &[(u32, Option<String>)],
    reason: Option<String>,
    queue: &mut Queue,
) -> Option<RequestId> {
    let session = state.session.as_ref()?;
    let changes: Vec<(String, Option<String>)> = changes
        .iter()
        .filter_map(|(p, value)| {
            session
                .product(*p)
                .map(|p| (p.id.to_string(), value.clone()))
        })
        .collect();
    if changes.is_empty() {
        return None;
    }
    send_change(
        state,
        |id| StoreRequest::Set {
            id,
            task,
            changes,
            source,
            reason,
        },
        queue,
    )
}

/// Sets the focused task to the model's class of `rank` (0 = its prediction): on the focused
/// product at once, or, with several products selected, each to its own predicted class after
/// one confirmation.
pub fn pick_prediction(state: &mut AppState, rank: usize, queue: &mut Queue) {
    let Some(session) = &state.session else {
        return;
    };
    let task = state.focused_task;
    if session.predictions.is_none() {
        state.notice("no predictions loaded: press E to pick a class (File > Load predictions…)");
        return;
    }
    let targets = state.selection.targets();
    let mut chosen = Vec::with_capacity(targets.len());
    for &target in &targets {
        if let Some((class, _)) = session.top(target, task).get(rank) {
            chosen.push((target, class.to_string()));
        }
    }
    if chosen.is_empty() {
        state.notice(format!("the model has no class #{} for {task}", rank + 1));
        return;
    }
    if targets.len() == 1 {
        let changes: Vec<(u32, Option<String>)> =
            chosen.into_iter().map(|(p, c)| (p, Some(c))).collect();
        set_labels(
            state,
            task,
            EditSource::AcceptedPrediction,
            &changes,
            None,
            queue,
        );
        return;
    }
    let description = if rank == 0 {
        "the model's prediction".to_string()
    } else {
        format!("the model's class #{}", rank + 1)
    };
    let (targets, values) = chosen.into_iter().unzip();
    state.bulk = Some(BulkChange {
        task,
        description,
        targets,
        values,
        source: EditSource::AcceptedPrediction,
    });
}

/// Applies an event of the label store worker.
pub fn apply(state: &mut AppState, event: Event, queue: &mut Queue) {
    match event {
        Event::LabelsSaved {
            request,
            edits,
            kind,
        } => {
            if let Some(id) = request {
                state.store_waiting.remove(&id);
                super::audit::change_saved(state, id, !edits.is_empty());
            }
            labels_saved(state, edits, kind, queue);
        }
        Event::ReviewSaved { request, review } => {
            state.store_waiting.remove(&request);
            super::audit::review_saved(state, request, review.id);
            // A review kept with a label change: the change's notice says it.
            if !state.audit.quiet.remove(&request) {
                state.notice(review.to_string());
            }
            let (product, task) = (review.product.clone(), review.task);
            set_standing(state, &product, task, Some(review));
        }
        Event::ReviewWithdrawn { request, withdrawn } => {
            state.store_waiting.remove(&request);
            let review = withdrawn.review;
            // A review withdrawn with the label change it came with: the change's notice says it.
            if !state.audit.quiet.remove(&request) {
                state.notice(format!(
                    "withdrew review #{} ({} of {} kept as {} by {})",
                    review.id,
                    review.task,
                    printable(&review.product),
                    printable(&review.label),
                    printable(&review.author)
                ));
            }
            set_standing(state, &review.product, review.task, withdrawn.standing);
        }
        Event::ReviewsChanged(changes) => {
            let text = format!("{} reviews changed by another window", changes.len());
            for change in changes {
                set_standing(state, &change.product, change.task, change.review);
            }
            state.notice(text);
        }
        Event::ServerChanged(server) => {
            if let Some(session) = &mut state.session {
                let was_offline = session.server.as_ref().is_some_and(|s| s.offline);
                let back = was_offline && !server.offline;
                session.server = Some(server);
                if back {
                    state.notice("the team store's server is back; waiting edits are sent");
                }
            }
        }
        Event::EditsLost(lost) => {
            let Some(session) = &mut state.session else {
                return;
            };
            session.overrides.lost(&lost);
            let text = match lost.as_slice() {
                [one] => one.to_string(),
                many => format!(
                    "{} edits made offline were not sent: their labels had changed meanwhile \
                     (marked in the product view; the others' labels stand)",
                    many.len()
                ),
            };
            state.error(text);
        }
        Event::StoreFailed { request, message } => {
            if let Some(id) = request {
                state.store_waiting.remove(&id);
                state.audit.quiet.remove(&id);
                super::audit::failed(state, id);
            }
            state.error(message);
        }
        Event::StoreStopped(text) => {
            // Requests it had not answered were not saved, and the window never showed them
            // as saved (it shows a change once it is durable); waiting on them would hang.
            state.store_stopped = true;
            state.store_waiting.clear();
            state.exporting = None;
            state.error(format!("{text}; {STOPPED}"));
        }
        Event::HistoryLoaded {
            product,
            edits,
            verdicts,
        } => {
            state.history = Some(ProductHistory {
                product,
                edits,
                verdicts: verdicts.into_iter().map(|v| (v.edit, v)).collect(),
            })
        }
        Event::Exported { path, summary } => {
            state.exporting = None;
            state.notice(format!(
                "exported {} products to {}",
                summary.products,
                path.display()
            ));
        }
        Event::ExportFailed(text) => {
            state.exporting = None;
            state.error(text);
        }
        _ => {}
    }
}

pub(super) fn labels_saved(
    state: &mut AppState,
    edits: Vec<Edit>,
    kind: SaveKind,
    queue: &mut Queue,
) {
    if edits.is_empty() {
        match kind {
            SaveKind::Undo => state.notice("nothing to undo"),
            SaveKind::Redo => state.notice("nothing to redo"),
            SaveKind::Change => state.notice("the label already has that value"),
            SaveKind::Elsewhere | SaveKind::Revert => {}
        }
        return;
    }
    let Some(session) = &mut state.session else {
        return;
    };
    let overrode = if kind == SaveKind::Elsewhere {
        session.overrides.elsewhere(&edits)
    } else {
        state.session_edits += edits.len();
        session.overrides.saved(&edits);
        0
    };
    let focused_product = state
        .selection
        .focus
        .and_then(|p| session.product(p))
        .map(|p| p.id.to_string());
    let touches_focus = edits
        .iter()
        .any(|e| Some(&e.product) == focused_product.as_ref());
    let positions: HashSet<u32> = edits
        .iter()
        .filter_map(|e| session.catalog.position(&e.product).map(|p| p as u32))
        .collect();
    Arc::make_mut(&mut session.edited).extend(positions);
    session.unapplied.extend(edits.iter().cloned());
    let text = match (kind, edits.len()) {
        (SaveKind::Undo, n) => format!("undone ({n} labels)"),
        (SaveKind::Revert, 1) => format!("reverted: {}", edits[0]),
        (SaveKind::Revert, n) => format!("reverted {n} changes"),
        (SaveKind::Redo, n) => format!("redone ({n} labels)"),
        (SaveKind::Elsewhere, 1) => {
            let e = &edits[0];
            let value = |v: &Option<String>| {
                v.as_deref().map_or_else(
                    || "(none)".into(),
                    |v| crate::catalog::text::excerpt(v).into_owned(),
                )
            };
            format!(
                "{} changed the {} of {}: {} -> {}",
                crate::catalog::text::excerpt(&e.author),
                e.task,
                crate::catalog::text::excerpt(&e.product),
                value(&e.old),
                value(&e.new)
            )
        }
        (SaveKind::Elsewhere, n) => {
            let mut authors: Vec<&str> = edits.iter().map(|e| e.author.as_str()).collect();
            authors.sort_unstable();
            authors.dedup();
            format!(
                "{n} labels changed by another window ({})",
                crate::catalog::text::excerpt_list(&authors)
            )
        }
        (SaveKind::Change, 1) => edits[0].to_string(),
        (SaveKind::Change, n) => format!("{n} labels changed"),
    };
    state.edit_log.extend(edits);
    if kind == SaveKind::Elsewhere {
        super::changes::refresh(state, queue);
    }
    matches::apply_unapplied(state);
    state.matches_stale = true;
    match overrode {
        0 => state.notice(text),
        1 => state.error(format!(
            "{text}, over your edit (marked in the product view)"
        )),
        n => state.error(format!(
            "{text}, {n} of them over your edits (marked in the product view)"
        )),
    }
    if touches_focus {
        request_history(state, queue);
    }
}
