//! Reviewing others' changes: the Changes panel's commands and the store worker's answers.

use super::labels;
use crate::app::command::ChangesCommand;
use crate::app::effect::{Effect, Queue, StoreRequest};
use crate::app::event::{Event, SaveKind};
use crate::app::state::AppState;
use crate::labels::change_review::Verdict;

/// Applies a command of the Changes panel.
pub fn apply(state: &mut AppState, command: ChangesCommand, queue: &mut Queue) {
    match command {
        ChangesCommand::Refresh => refresh(state, queue),
        ChangesCommand::Filter(filter) => {
            state.changes.filter = filter;
            refresh(state, queue);
        }
        ChangesCommand::Judge {
            ids,
            whole_batches,
            verdict,
        } => {
            if state.session.is_none() || state.store_stopped || ids.is_empty() {
                return;
            }
            let id = state.new_store_request();
            queue.effect(Effect::Store(StoreRequest::Judge {
                id,
                ids,
                whole_batches,
                verdict,
            }));
        }
    }
}

/// Reads the queue again, if the panel shows it (once the read on its way is answered, if
/// one is).
pub fn refresh(state: &mut AppState, queue: &mut Queue) {
    if !state.panels.changes || state.session.is_none() || state.store_stopped {
        return;
    }
    if state.changes.asking {
        state.changes.stale = true;
        return;
    }
    state.changes.asking = true;
    state.changes.stale = false;
    queue.effect(Effect::Store(StoreRequest::Changes(
        state.changes.filter.clone(),
    )));
}

/// Applies the store worker's answers about changes.
pub fn apply_event(state: &mut AppState, event: Event, queue: &mut Queue) {
    match event {
        Event::ChangesLoaded(result) => {
            state.changes.asking = false;
            match result {
                Ok(loaded) => {
                    state.changes.queue = Some(loaded);
                    state.changes.error = None;
                }
                Err(message) => state.changes.error = Some(message),
            }
            if state.changes.stale {
                refresh(state, queue);
            }
        }
        Event::VerdictsChanged => {
            refresh(state, queue);
            labels::request_history(state, queue);
        }
        Event::Judged { request, judged } => {
            state.store_waiting.remove(&request);
            let approved = judged
                .judgements
                .iter()
                .filter(|j| j.verdict == Verdict::Approved)
                .count();
            if !judged.reverts.is_empty() {
                labels::labels_saved(state, judged.reverts, SaveKind::Revert, queue);
            } else if approved > 0 {
                state.notice(format!(
                    "approved {approved} change{}",
                    if approved == 1 { "" } else { "s" }
                ));
            }
            if let Some(first) = judged.refused.first() {
                let more = judged.refused.len() - 1;
                state.error(if more == 0 {
                    format!("left as it was: {first}")
                } else {
                    format!("left as they were: {first}, and {more} more")
                });
            }
            refresh(state, queue);
            labels::request_history(state, queue);
        }
        _ => {}
    }
}
