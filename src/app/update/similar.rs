//! The Similar strip: the representations open with the predictions shown, and the
//! neighbours of the product in view (asked for once per product, answered by the similar
//! worker).

use super::{matches, workspace};
use crate::app::command::Command;
use crate::app::effect::{Effect, Queue};
use crate::app::event::SimilarEvent;
use crate::app::filter::{Filter, ProductSet, SortKey};
use crate::app::similar::{STRIP_NEIGHBOURS, SimilarProduct, SimilarState, SimilarStatus};
use crate::app::state::AppState;

/// The predictions shown changed (loaded, or opened with the catalogue): the strip searches
/// the representations of the run or audit they come from.
pub fn predictions_changed(state: &mut AppState, queue: &mut Queue) {
    let generation = state.similar.generation + 1;
    let path = predictions_path(state);
    // The photos' parts belong to the run shown.
    state.decided = Default::default();
    state.similar = SimilarState {
        generation,
        status: if path.is_some() {
            SimilarStatus::Loading
        } else {
            SimilarStatus::NoRun
        },
        ..SimilarState::default()
    };
    if let Some(path) = path {
        queue.effect(Effect::OpenSimilar { generation, path });
    }
}

/// Applies a Similar strip command.
pub fn apply(state: &mut AppState, command: Command, queue: &mut Queue) {
    match command {
        Command::WantSimilar(position) => want(state, position, queue),
        Command::FocusProduct(position) => {
            let known = state
                .session
                .as_ref()
                .is_some_and(|s| s.product(position).is_some());
            if known {
                let before = state.selection.focus;
                state.selection = Default::default();
                state.selection.focus = Some(position);
                state.locate_focus();
                state.scroll_to_focus = true;
                workspace::focus_changed(state, before, queue);
            }
        }
        Command::Decide(position) => {
            let predictions = predictions_path(state);
            let (Some(predictions), Some(id)) = (predictions, product_id(state, position)) else {
                return;
            };
            state.decided.asking = Some(position);
            queue.effect(Effect::Decide {
                predictions,
                product: position,
                id,
            });
        }
        Command::ShowSimilar(position) => {
            let positions = state.similar.positions(position);
            let Some(id) = product_id(state, position) else {
                return;
            };
            let mut order = vec![position];
            order.extend(positions);
            let count = order.len() - 1;
            state.filter = Filter {
                only: Some(ProductSet::ranked(
                    format!("{id} and its {count} most similar products"),
                    order,
                )),
                sort: SortKey::Set,
                ..Filter::default()
            };
            state.cockpit.view = crate::app::cockpit::View::Workspace;
            state.product_view = false;
            matches::refilter(state, queue);
            state.locate_focus();
            state.scroll_to_focus = true;
            state.notice(format!(
                "{id}: {count} most similar products, most similar first"
            ));
        }
        _ => {}
    }
}

/// The file of the predictions shown, if any.
fn predictions_path(state: &AppState) -> Option<std::path::PathBuf> {
    state.session.as_ref()?.predictions_path()
}

/// The id of the product at catalogue `position` of the open catalogue.
fn product_id(state: &AppState, position: u32) -> Option<String> {
    Some(state.session.as_ref()?.product(position)?.id.to_string())
}

fn want(state: &mut AppState, position: u32, queue: &mut Queue) {
    let similar = &state.similar;
    if !matches!(similar.status, SimilarStatus::Ready { .. }) || similar.requested == Some(position)
    {
        return;
    }
    let Some(id) = product_id(state, position) else {
        return;
    };
    state.similar.requested = Some(position);
    queue.effect(Effect::FindSimilar {
        generation: state.similar.generation,
        product: position,
        id,
        k: STRIP_NEIGHBOURS,
    });
}

/// Applies the similar worker's answer; answers about older representations are dropped.
pub fn apply_event(state: &mut AppState, event: SimilarEvent) {
    match event {
        SimilarEvent::Opened {
            generation,
            note,
            method,
            products,
            notes,
        } if generation == state.similar.generation => {
            state.similar.status = SimilarStatus::Ready {
                note,
                method,
                products,
            };
            for note in notes {
                state.notice(note);
            }
        }
        SimilarEvent::Unavailable { generation, reason }
            if generation == state.similar.generation =>
        {
            state.similar.status = SimilarStatus::Unavailable(reason);
        }
        SimilarEvent::Found {
            generation,
            product,
            neighbours,
        } if generation == state.similar.generation => {
            let Some(session) = &state.session else {
                return;
            };
            let found = neighbours.map(|list| {
                list.into_iter()
                    .map(|(id, similarity)| SimilarProduct {
                        position: session.catalog.position(&id).map(|p| p as u32),
                        id,
                        similarity,
                    })
                    .collect()
            });
            state.similar.found = Some((product, found));
        }
        _ => {}
    }
}
