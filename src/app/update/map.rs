//! The Map view: computing the map of the run shown on the map worker (or reading the one
//! saved in its folder), placing its points on the open catalogue's products, and their
//! colours.

use crate::app::cockpit::View;
use crate::app::command::MapCommand;
use crate::app::effect::{Effect, Queue};
use crate::app::event::MapEvent;
use crate::app::map::ShownMap;
use crate::app::state::AppState;

/// Applies a Map view command.
pub fn apply(state: &mut AppState, command: MapCommand, queue: &mut Queue) {
    match command {
        MapCommand::Compute => start(state, queue),
        MapCommand::Cancel => {
            if state.map.running.take().is_some() {
                // Answers of the cancelled computation are dropped by their number.
                state.map.generation += 1;
                queue.effect(Effect::CancelMap);
                state.notice("map cancelled");
            }
        }
        MapCommand::SetColourBy(colour_by) => {
            state.map.colour_by = colour_by;
            recolour(state);
        }
        MapCommand::SetSelectTool(tool) => state.map.select = tool,
        MapCommand::WritePng(path) => {
            let Some(map) = state.map.map() else {
                state.notice("compute the map first");
                return;
            };
            let highlight = state.selection.focus.and_then(|p| map.point_of(p));
            queue.effect(Effect::WriteMapPicture {
                path,
                points: map.points.clone(),
                colours: map.colours.clone(),
                highlight,
            });
        }
    }
}

/// The view was opened: computes the map of the run shown, unless it is shown already.
pub fn entered(state: &mut AppState, queue: &mut Queue) {
    let wanted = state.session.as_ref().and_then(|s| s.predictions_path());
    let shown = state
        .map
        .shown
        .as_ref()
        .map(|shown| shown.as_ref().map(|m| m.predictions.clone()).ok());
    let current = matches!((&shown, &wanted), (Some(Some(a)), Some(b)) if a == b);
    if wanted.is_some() && !current && state.map.running.is_none() {
        start(state, queue);
    }
}

/// Works out the colours of the map shown again (the labels, the predictions or the
/// colouring changed).
pub fn recolour(state: &mut AppState) {
    let (Some(session), Some(Ok(map))) = (&state.session, &mut state.map.shown) else {
        return;
    };
    map.recolour(session, state.map.colour_by);
}

fn start(state: &mut AppState, queue: &mut Queue) {
    let Some(predictions) = state.session.as_ref().and_then(|s| s.predictions_path()) else {
        state.notice("load a run's predictions first: the map lays out that run's representation");
        return;
    };
    if state.map.running.is_some() {
        return;
    }
    state.map.generation += 1;
    state.map.running = Some(None);
    queue.effect(Effect::ComputeMap {
        generation: state.map.generation,
        predictions,
    });
}

/// Applies the map worker's report.
pub fn apply_event(state: &mut AppState, event: MapEvent) {
    let map = &mut state.map;
    match event {
        MapEvent::Progressed {
            generation,
            progress,
        } if generation == map.generation && map.running.is_some() => {
            map.running = Some(Some(progress));
        }
        MapEvent::Computed { generation, result } if generation == map.generation => {
            map.running = None;
            let Some(session) = &state.session else {
                return;
            };
            map.shown = Some(result.and_then(|computed| {
                let mut points = Vec::with_capacity(computed.map.points.len());
                let mut positions = Vec::with_capacity(computed.map.points.len());
                for (id, point) in computed.map.ids.iter().zip(&computed.map.points) {
                    if let Some(position) = session.catalog.position(id) {
                        points.push(*point);
                        positions.push(position as u32);
                    }
                }
                if points.is_empty() {
                    return Err(format!(
                        "{}: none of its products is in the open catalogue",
                        computed.note
                    ));
                }
                let missing = computed.map.ids.len() - points.len();
                let mut note = computed.note;
                if missing > 0 {
                    note.push_str(&format!(
                        "; {missing} of its products are not in this catalogue"
                    ));
                }
                Ok(ShownMap {
                    predictions: computed.predictions,
                    note,
                    points,
                    positions,
                    colours: Vec::new(),
                    legend: Vec::new(),
                    revision: 0,
                })
            }));
            recolour(state);
            if state.cockpit.view == View::Map
                && let Some(Err(message)) = &state.map.shown
            {
                let message = message.clone();
                state.error(format!("map: {message}"));
            }
        }
        MapEvent::Cancelled { generation } if generation == map.generation => {
            map.running = None;
        }
        _ => {}
    }
}
