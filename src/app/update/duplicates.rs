//! The Duplicates view: a search waits for the store's "not duplicates" marks, then runs on a
//! worker over the catalogue (and the representation of the run shown); marking a cluster
//! journals its pairs and drops it from the list.

use crate::app::command::DuplicatesCommand;
use crate::app::effect::{DuplicatesJob, Effect, Queue, StoreRequest};
use crate::app::event::DuplicatesEvent;
use crate::app::state::AppState;

/// Applies a Duplicates view command.
pub fn apply(state: &mut AppState, command: DuplicatesCommand, queue: &mut Queue) {
    let duplicates = &mut state.duplicates;
    match command {
        DuplicatesCommand::SetFraction(f) => duplicates.fraction = f.clamp(0.01, 0.99),
        DuplicatesCommand::SetExactOnly(exact) => duplicates.exact_only = exact,
        DuplicatesCommand::Find => {
            if state.session.is_none() || duplicates.running.is_some() {
                return;
            }
            duplicates.waiting_for_marks = true;
            duplicates.running = Some((0, 0));
            queue.effect(Effect::Store(StoreRequest::NotDuplicates(Vec::new())));
        }
        DuplicatesCommand::Cancel => {
            queue.effect(Effect::CancelDuplicates);
            if duplicates.waiting_for_marks {
                duplicates.waiting_for_marks = false;
                duplicates.running = None;
            }
        }
        DuplicatesCommand::MarkApart(index) => {
            let Some(Ok((report, _))) = &mut duplicates.report else {
                return;
            };
            let Some(session) = &state.session else {
                return;
            };
            if index >= report.clusters.len() {
                return;
            }
            let cluster = report.clusters.remove(index);
            let id = |p: u32| session.product(p).map(|p| p.id.to_string());
            let pairs: Vec<(String, String)> = cluster
                .links
                .iter()
                .filter_map(|l| Some((id(l.a)?, id(l.b)?)))
                .collect();
            let count = cluster.members.len();
            queue.effect(Effect::Store(StoreRequest::NotDuplicates(pairs)));
            state.notice(format!(
                "{count} products marked not duplicates: they are not raised again"
            ));
        }
    }
}

/// Applies the search's and the store's answers.
pub fn apply_event(state: &mut AppState, event: DuplicatesEvent, queue: &mut Queue) {
    let duplicates = &mut state.duplicates;
    match event {
        DuplicatesEvent::Marks(Ok(apart)) => {
            duplicates.apart = apart;
            if duplicates.waiting_for_marks {
                duplicates.waiting_for_marks = false;
                start(state, queue);
            }
        }
        DuplicatesEvent::Marks(Err(message)) => {
            if duplicates.waiting_for_marks {
                duplicates.waiting_for_marks = false;
                duplicates.running = None;
            }
            state.error(format!("not duplicates: {message}"));
        }
        DuplicatesEvent::Progressed {
            generation,
            done,
            total,
        } if generation == duplicates.generation && duplicates.running.is_some() => {
            duplicates.running = Some((done, total));
        }
        DuplicatesEvent::Found { generation, result } if generation == duplicates.generation => {
            duplicates.running = None;
            let found = result.is_ok();
            duplicates.report = Some(result);
            if found {
                super::audit::duplicates_found(state, queue);
            }
        }
        DuplicatesEvent::Cancelled { generation } if generation == duplicates.generation => {
            duplicates.running = None;
            state.notice("duplicate search cancelled");
        }
        _ => {}
    }
}

fn start(state: &mut AppState, queue: &mut Queue) {
    let Some(session) = &state.session else {
        state.duplicates.running = None;
        return;
    };
    let duplicates = &mut state.duplicates;
    duplicates.generation += 1;
    let predictions = if duplicates.exact_only {
        None
    } else {
        session.predictions_path()
    };
    queue.effect(Effect::FindDuplicates(DuplicatesJob {
        generation: duplicates.generation,
        catalog: session.catalog.clone(),
        predictions,
        fraction: duplicates.fraction,
        apart: duplicates.apart.clone(),
    }));
}
