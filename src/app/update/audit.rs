//! The review queue: opening an audit (on a worker, and again when its catalogue opens), the
//! card's actions (accept, choose, pick, keep, skip, undo), the noise-matrix cells, and the
//! label store's answers to the queue's requests.
//!
//! Every label change goes through the normal label path ([`labels::set_labels`]), journalled
//! with a reason naming the audit; a changed label is also kept (a review of the new label), so
//! an audit rebuilt after a restart leaves it out as it leaves out a kept one.

use super::labels;
use crate::app::audit_queue::{AuditQueue, CellBatch, Outcome};
use crate::app::command::{AuditCommand, Command};
use crate::app::effect::{AuditJob, Effect, Queue};
use crate::app::event::{Event, RequestId};
use crate::app::picker::Picker;
use crate::app::state::AppState;
use crate::audit::combine::Tier;
use crate::catalog::Task;
use crate::catalog::text::printable;
use crate::labels::EditSource;
use crate::runs::classes::OTHER;
use crate::runs::predictions::FILE_NAME;
use std::path::PathBuf;

/// Starts opening the audit in `folder` on the open catalogue.
pub fn open(state: &mut AppState, folder: PathBuf, queue: &mut Queue) {
    start(state, folder, false, queue);
}

/// The catalogue changed: its previous queue goes, and its last audit, if any, is looked for
/// (then reopened).
pub fn catalogue_opened(state: &mut AppState, queue: &mut Queue) {
    state.audit.queue = None;
    state.audit.loading = None;
    state.audit.confirm = None;
    state.audit.generation += 1;
    if let Some(session) = &state.session {
        queue.effect(Effect::FindLastAudit {
            generation: state.audit.generation,
            data_dir: state.data_dir.clone(),
            source: session.import.source.clone(),
        });
    }
}

/// The clusters of the Duplicates view's last search, for the queue's third witness (none
/// when no search was made).
fn duplicate_groups(state: &AppState) -> Vec<crate::audit::duplicate::DuplicateGroup> {
    match &state.duplicates.report {
        Some(Ok((report, _))) => report.clusters.iter().map(|c| c.group()).collect(),
        _ => Vec::new(),
    }
}

/// The Duplicates view found its clusters: the audit shown is read again, so that they
/// speak in its queue as the third witness.
pub fn duplicates_found(state: &mut AppState, queue: &mut Queue) {
    if let Some(folder) = state.audit.queue.as_ref().map(|q| q.folder.clone())
        && state.audit.loading.is_none()
    {
        start(state, folder, false, queue);
    }
}

fn start(state: &mut AppState, folder: PathBuf, reopening: bool, queue: &mut Queue) {
    let Some(session) = &state.session else {
        state.notice("open a catalogue first: an audit is read against its labels");
        return;
    };
    state.audit.generation += 1;
    state.audit.loading = Some(folder.clone());
    queue.effect(Effect::OpenAudit(AuditJob {
        generation: state.audit.generation,
        folder,
        reopening,
        catalog: session.catalog.clone(),
        reviews: session.reviews.clone(),
        data_dir: state.data_dir.clone(),
        source: session.import.source.clone(),
        duplicates: duplicate_groups(state),
    }));
}

/// Applies the audit worker's answer; older jobs' answers are ignored.
pub fn apply_event(state: &mut AppState, event: Event, queue: &mut Queue) {
    match event {
        Event::AuditOpened { generation, audit } if generation == state.audit.generation => {
            state.audit.loading = None;
            state.audit.confirm = None;
            let predictions = audit.folder.join(FILE_NAME);
            let queue_state = AuditQueue::new(*audit);
            let counts: Vec<String> = queue_state
                .tasks()
                .map(|(t, _)| format!("{} {}", t.task, t.queue.len()))
                .collect();
            let provenance = queue_state
                .report
                .provenance
                .map_or("unknown provenance", |p| p.label());
            state.notice(format!(
                "audit {}: suspected issues {} ({provenance})",
                queue_state.name,
                counts.join(", ")
            ));
            state.audit.queue = Some(queue_state);
            // The grid and the product view show the audit's predictions.
            queue.command(Command::LoadPredictions(predictions));
        }
        Event::AuditRemembered { generation, folder } if generation == state.audit.generation => {
            start(state, folder, true, queue);
        }
        Event::AuditFailed {
            generation,
            message,
            ..
        } if generation == state.audit.generation => {
            state.audit.loading = None;
            state.error(format!("cannot open the audit: {message}"));
        }
        _ => {}
    }
}

/// Applies a review queue command.
pub fn apply(state: &mut AppState, command: AuditCommand, queue: &mut Queue) {
    let Some(audit) = &mut state.audit.queue else {
        state.notice("no audit is open (File > Open audit…)");
        return;
    };
    match command {
        AuditCommand::SetTask(task) => {
            audit.select_task(task);
            state.audit.confirm = None;
        }
        AuditCommand::Select(row) => audit.select(row),
        AuditCommand::Step(delta) => audit.step(delta),
        AuditCommand::Accept => accept(state, None, queue),
        AuditCommand::Choose(rank) => accept(state, Some(rank), queue),
        AuditCommand::Pick => pick(state),
        AuditCommand::Keep => keep(state, queue),
        AuditCommand::Skip => match audit.card() {
            Some(card) if card.done.is_none() => audit.record(vec![card.index], None, None, vec![]),
            _ => audit.next_open(),
        },
        AuditCommand::Undo => undo(state, queue),
        AuditCommand::FilterCell(cell) => {
            audit.set_cell(cell);
            state.audit.confirm = None;
        }
        AuditCommand::AskAcceptCell => ask_accept_cell(state),
        AuditCommand::ConfirmAcceptCell => accept_cell(state, queue),
        AuditCommand::CancelAcceptCell => state.audit.confirm = None,
    }
}

/// The current card, if it is open for an action (else why not, as a notice).
fn open_card(state: &mut AppState) -> Option<(Task, u32, u32)> {
    let card = state.audit.queue.as_ref()?.card();
    match card {
        None => {
            state.notice("no card: this queue is empty");
            None
        }
        Some(card) if card.done.is_some() => {
            state.notice("this card is reviewed already (Ctrl+Z undoes the last action)");
            None
        }
        Some(card) => Some((card.task, card.index, card.position)),
    }
}

/// Sets the card's label to its suggestion (`rank` `None`) or to the model's class of `rank`.
fn accept(state: &mut AppState, rank: Option<usize>, queue: &mut Queue) {
    let Some((task, index, position)) = open_card(state) else {
        return;
    };
    let Some(audit) = &state.audit.queue else {
        return;
    };
    let (Some(card), Some((report, _))) = (audit.card(), audit.current()) else {
        return;
    };
    let suspect = card.suspect;
    let chosen = match rank {
        None => {
            let class = suspect.suggestion();
            let (source, why) = match suspect.tier {
                Tier::BothAgree => (EditSource::AcceptedPrediction, "image and text agree"),
                Tier::Both => (EditSource::AcceptedPrediction, "the image's"),
                Tier::ImageOnly => (EditSource::AcceptedPrediction, "the image's"),
                Tier::DuplicateOnly => (EditSource::Human, "its duplicates'"),
                Tier::TextOnly => (EditSource::Human, "the text's"),
            };
            report
                .classes
                .get(class)
                .map(|name| (name.clone(), source, format!("suggestion, {why}")))
        }
        Some(rank) => audit.top_classes(suspect).get(rank).map(|&(_, name, _)| {
            let why = format!("the model's class #{}", rank + 1);
            (name.to_string(), EditSource::AcceptedPrediction, why)
        }),
    };
    let Some((value, source, why)) = chosen else {
        state.notice(format!(
            "the model has no class #{} for this product",
            rank.unwrap_or(0) + 1
        ));
        return;
    };
    if value == OTHER {
        state.notice(format!(
            "the suggestion is the model's '{OTHER}' (a rare {task}): press E to pick the class"
        ));
        return;
    }
    change(
        state,
        task,
        vec![(index, position)],
        value,
        source,
        why,
        queue,
    );
}

/// Opens the class picker on the card's product.
fn pick(state: &mut AppState) {
    let Some((task, _, position)) = open_card(state) else {
        return;
    };
    state.picker = Some(Picker {
        task,
        query: String::new(),
        ignore_taxonomy: false,
        highlighted: 0,
        targets: vec![position],
        audit: true,
    });
}

/// The picker opened on the card chose `value`.
pub fn picked(state: &mut AppState, picker: &Picker, value: String, queue: &mut Queue) {
    let Some((task, index, position)) = open_card(state) else {
        return;
    };
    if picker.task != task || picker.targets.first() != Some(&position) {
        state.notice("the card changed while the picker was open: press E again");
        return;
    }
    let why = "picked".to_string();
    change(
        state,
        task,
        vec![(index, position)],
        value,
        EditSource::Human,
        why,
        queue,
    );
}

/// Keeps the card's label.
fn keep(state: &mut AppState, queue: &mut Queue) {
    let Some((task, index, position)) = open_card(state) else {
        return;
    };
    if let Some(review) = labels::keep_label(state, position, task, queue)
        && let Some(audit) = &mut state.audit.queue
    {
        audit.record(vec![index], Some(Outcome::Kept), None, vec![review]);
    }
}

/// Sets `task` of the `cards` (queue index, catalogue position) of the current task to `value`
/// as one batch, keeps the new label of each, and records the action.
fn change(
    state: &mut AppState,
    task: Task,
    cards: Vec<(u32, u32)>,
    value: String,
    source: EditSource,
    why: String,
    queue: &mut Queue,
) {
    let Some(name) = state.audit.queue.as_ref().map(|a| a.name.clone()) else {
        return;
    };
    let changes: Vec<(u32, Option<String>)> = cards
        .iter()
        .map(|&(_, p)| (p, Some(value.clone())))
        .collect();
    let reason = format!("audit {name}: {why}");
    let Some(request) = labels::set_labels(state, task, source, &changes, Some(reason), queue)
    else {
        return;
    };
    let reviews: Vec<RequestId> = cards
        .iter()
        .filter_map(|&(_, position)| labels::keep_as(state, position, task, value.clone(), queue))
        .collect();
    state.audit.quiet.extend(reviews.iter().copied());
    if let Some(audit) = &mut state.audit.queue {
        let indices = cards.into_iter().map(|(i, _)| i).collect();
        audit.record(indices, Some(Outcome::Changed), Some(request), reviews);
    }
}

/// Undoes the queue's latest action: its label change through the store's undo, its reviews
/// withdrawn.
fn undo(state: &mut AppState, queue: &mut Queue) {
    let Some(audit) = &mut state.audit.queue else {
        return;
    };
    match audit.undo() {
        Err(why) => state.notice(why),
        Ok(None) => state.notice("nothing to undo in the queue"),
        Ok(Some(undo)) => {
            if undo.store_undo {
                labels::undo(state, queue);
            }
            for review in undo.withdraw {
                let request = labels::withdraw_review(state, review, queue);
                if undo.store_undo {
                    state.audit.quiet.extend(request);
                }
            }
        }
    }
}

/// Asks to accept every open card of the noise-matrix cell the list shows.
fn ask_accept_cell(state: &mut AppState) {
    let Some(audit) = &state.audit.queue else {
        return;
    };
    let Some((report, task_queue)) = audit.current() else {
        return;
    };
    let Some((given, suggested)) = task_queue.cell else {
        state.notice("click a cell of the noise matrix first");
        return;
    };
    let cards = audit.open_cards();
    let name = |c: usize| report.classes.get(c).cloned().unwrap_or_default();
    let (given, suggested) = (name(given), name(suggested));
    if cards.is_empty() {
        state.notice(format!(
            "no open product given {given} that looks {suggested}"
        ));
        return;
    }
    if suggested == OTHER {
        state.notice(format!(
            "the model's '{OTHER}' is no class to set: pick each product's class with E"
        ));
        return;
    }
    state.audit.confirm = Some(CellBatch {
        task: report.task,
        given,
        suggested,
        cards,
    });
}

/// Accepts the cell's batch waiting for confirmation.
fn accept_cell(state: &mut AppState, queue: &mut Queue) {
    let Some(batch) = state.audit.confirm.take() else {
        return;
    };
    let Some(audit) = &state.audit.queue else {
        return;
    };
    if audit.current().map(|(t, _)| t.task) != Some(batch.task) {
        return;
    }
    let cards: Vec<(u32, u32)> = batch
        .cards
        .iter()
        .filter_map(|&card| Some((card, audit.position(card)?)))
        .collect();
    let why = format!(
        "noise cell {} -> {}",
        printable(&batch.given),
        printable(&batch.suggested)
    );
    change(
        state,
        batch.task,
        cards,
        batch.suggested,
        EditSource::AcceptedPrediction,
        why,
        queue,
    );
}

/// The store saved label change `request` (`wrote`: it wrote journal entries).
pub fn change_saved(state: &mut AppState, request: RequestId, wrote: bool) {
    if let Some(audit) = &mut state.audit.queue {
        audit.change_saved(request, wrote);
    }
}

/// The store saved the review `request` asked for as number `review`.
pub fn review_saved(state: &mut AppState, request: RequestId, review: i64) {
    if let Some(audit) = &mut state.audit.queue {
        audit.review_saved(request, review);
    }
}

/// The store refused `request`.
pub fn failed(state: &mut AppState, request: RequestId) {
    if let Some(audit) = &mut state.audit.queue {
        audit.failed(request);
    }
}
