//! The filter's results and the focus in them: re-running the filter (here for small
//! catalogues, on the filter worker for large ones) and applying durable edits to the UI's
//! catalogue.

use crate::app::effect::{Effect, FilterJob, Queue};
use crate::app::filter::{FilterInputs, apply};
use crate::app::state::AppState;
use std::sync::Arc;

/// Catalogues up to this size are filtered on the UI thread: it takes well under a frame.
pub const SYNC_FILTER_LIMIT: usize = 50_000;

/// Re-runs the filter: here for small catalogues, on the filter worker for large ones.
pub fn refilter(state: &mut AppState, queue: &mut Queue) {
    let Some(session) = &state.session else {
        return;
    };
    state.matches_stale = false;
    state.filter_generation += 1;
    let (predictions, rows) = match &session.predictions {
        Some(p) => (Some(p.predictions.clone()), p.rows.clone()),
        None => (None, Arc::new(Vec::new())),
    };
    if state.filter.is_identity() {
        // Everything in catalogue order: no need to look at a single product.
        state.matches = (0..session.catalog.len() as u32).collect();
        state.filter_time = std::time::Duration::ZERO;
        state.filtering = false;
        state.locate_focus();
    } else if session.catalog.len() <= SYNC_FILTER_LIMIT {
        let started = std::time::Instant::now();
        state.matches = apply(
            &state.filter,
            FilterInputs {
                catalog: &session.catalog,
                predictions: predictions.as_deref(),
                prediction_rows: &rows,
                edited: &session.edited,
            },
        );
        state.filter_time = started.elapsed();
        state.filtering = false;
        state.locate_focus();
    } else {
        state.filtering = true;
        queue.effect(Effect::Filter(FilterJob {
            generation: state.filter_generation,
            filter: state.filter.clone(),
            catalog: session.catalog.clone(),
            predictions,
            rows,
            edited: session.edited.clone(),
        }));
    }
}

/// Focuses (and anchors the selection at) the first match, the only product selected.
pub fn focus_first(state: &mut AppState) {
    let first = state.matches.first().copied();
    state.selection = Default::default();
    state.selection.focus = first;
    state.selection.anchor = first;
    state.locate_focus();
}

/// Applies durable edits to the UI's catalogue, unless a worker still reads it (then they
/// wait for its result, rather than copying the whole catalogue).
pub fn apply_unapplied(state: &mut AppState) {
    let Some(session) = &mut state.session else {
        return;
    };
    if session.unapplied.is_empty() {
        return;
    }
    let Some(catalog) = Arc::get_mut(&mut session.catalog) else {
        return;
    };
    for edit in session.unapplied.drain(..) {
        if let Some(position) = catalog.position(&edit.product) {
            catalog.set_label(position, edit.task, edit.new.as_deref());
        }
    }
    if catalog.len() <= SYNC_FILTER_LIMIT {
        session.taxonomy = catalog.taxonomy();
    }
    // A label coloured on the map may have changed.
    super::map::recolour(state);
}
