//! Opening catalogues and loading predictions: the commands that start them and the events
//! their workers report.

use super::{audit, audit_runs, cockpit, labels, matches, similar};
use crate::app::command::ConnectCommand;
use crate::app::effect::{Effect, Queue};
use crate::app::event::Event;
use crate::app::opening::OpenRequest;
use crate::app::state::{AppState, Opening, Session};
use crate::labels::team::is_team;
use std::path::PathBuf;
use std::sync::Arc;

/// Starts opening a catalogue.
pub fn open(state: &mut AppState, request: OpenRequest, queue: &mut Queue) {
    state.opening = Some(Opening {
        what: request.source.catalogue.display().to_string(),
        progress: None,
        stage: None,
    });
    queue.effect(Effect::OpenCatalogue(request));
}

/// Applies a command of the "Connect to team store" dialog: connecting reopens the open
/// catalogue with the team store at the typed address (its labels, and its edits from then
/// on); "use the file" reopens it with its own file store.
pub fn connect(state: &mut AppState, command: ConnectCommand, queue: &mut Queue) {
    match command {
        ConnectCommand::Show => {
            let current = state
                .session
                .as_ref()
                .and_then(|s| s.request.store.as_ref())
                .and_then(|p| p.to_str())
                .filter(|p| is_team(p))
                .map(String::from);
            state.connect = Some(current.unwrap_or_else(|| "postgres://user@host/database".into()));
        }
        ConnectCommand::Edit(text) => state.connect = Some(text),
        ConnectCommand::Cancel => state.connect = None,
        ConnectCommand::Connect | ConnectCommand::UseFile => {
            let Some(session) = &state.session else {
                state.connect = None;
                return;
            };
            let store = match command {
                ConnectCommand::Connect => {
                    let address = state.connect.clone().unwrap_or_default();
                    let address = address.trim();
                    if !is_team(address) {
                        state.error(format!(
                            "'{address}' is not a team store address: postgres://[user@]host[:port]/database"
                        ));
                        return;
                    }
                    Some(PathBuf::from(address))
                }
                _ => None,
            };
            let request = OpenRequest {
                source: session.request.source.clone(),
                store,
            };
            state.connect = None;
            open(state, request, queue);
        }
    }
}

/// Starts opening the demo catalogue (generating it on first use).
pub fn open_demo(state: &mut AppState, queue: &mut Queue) {
    state.opening = Some(Opening {
        what: "the demo catalogue".into(),
        progress: None,
        stage: None,
    });
    queue.effect(Effect::OpenDemo);
}

/// Stops the open in progress, if any.
pub fn cancel(state: &mut AppState, queue: &mut Queue) {
    if state.opening.is_some() {
        queue.effect(Effect::CancelOpen);
    }
}

/// Starts loading a predictions file (or a run folder's) onto the open catalogue.
pub fn load_predictions(state: &mut AppState, path: PathBuf, queue: &mut Queue) {
    if let Some(session) = &state.session {
        state.loading_predictions = true;
        queue.effect(Effect::LoadPredictions {
            path,
            catalog: session.catalog.clone(),
        });
    }
}

/// Applies an event of the open and predictions workers.
pub fn apply(state: &mut AppState, event: Event, queue: &mut Queue) {
    match event {
        Event::DemoProgressed { done, total } => {
            if let Some(opening) = &mut state.opening {
                opening.what = format!("the demo catalogue: generating {done}/{total}");
                opening.progress = Some(done as f32 / total.max(1) as f32);
            }
        }
        Event::OpenProgressed { stage, fraction } => {
            if let Some(opening) = &mut state.opening {
                opening.stage = Some(stage);
                opening.progress = Some(fraction.clamp(0.0, 1.0));
            }
        }
        Event::OpenCancelled { path } => {
            state.opening = None;
            state.notice(format!("stopped opening {}", path.display()));
        }
        Event::CatalogueOpened(opened) => opened_catalogue(state, *opened, queue),
        Event::OpenFailed { path, message } => {
            state.opening = None;
            state.error(format!("cannot open {}: {message}", path.display()));
        }
        Event::RecentLoaded(recent) => state.recent = recent,
        Event::PredictionsLoaded(loaded) => {
            state.loading_predictions = false;
            if let Some(session) = &mut state.session {
                let path = loaded.predictions.path.clone().unwrap_or_default();
                session.predictions_note =
                    crate::app::opening::read_note(&loaded.predictions, &path);
                session.predictions = Some(loaded);
                similar::predictions_changed(state, queue);
                matches::refilter(state, queue);
                cockpit::resolve_pending(state, queue);
                // The Map view shows the map of the predictions shown.
                if state.cockpit.view == crate::app::cockpit::View::Map {
                    super::map::entered(state, queue);
                }
            }
        }
        Event::PredictionsFailed(text) => {
            state.loading_predictions = false;
            state.cockpit.pending = None;
            state.error(text);
        }
        _ => {}
    }
}

fn opened_catalogue(state: &mut AppState, opened: crate::app::opening::Opened, queue: &mut Queue) {
    state.opening = None;
    let import = opened.workspace.import.clone();
    let store_report = opened.workspace.store_report.clone();
    queue.effect(Effect::StartStore {
        workspace: Box::new(opened.workspace),
        author: state.author.clone(),
    });
    let warnings = import.warnings_total;
    cockpit::catalogue_changed(state, &import.source, queue);
    let previous = state.session.replace(Session {
        request: opened.request,
        catalog: opened.catalog,
        taxonomy: opened.taxonomy,
        import,
        store_report,
        predictions: opened.predictions,
        predictions_note: opened.predictions_note,
        edited: Arc::new(opened.edited),
        unapplied: Vec::new(),
        reviews: opened.reviews,
        folder: opened.folder,
        open_time: opened.elapsed,
        server: None,
        overrides: Default::default(),
    });
    audit_runs::catalogue_opened(state);
    if let Some(previous) = previous {
        // Freeing a large catalogue's millions of allocations takes a long frame.
        queue.effect(Effect::Discard(Box::new(previous)));
    }
    state.edit_log = opened.recent_edits;
    state.session_edits = 0;
    state.store_waiting.clear();
    state.store_stopped = false;
    state.selection = Default::default();
    state.picker = None;
    state.bulk = None;
    state.history = None;
    state.changes = crate::app::changes::ChangesState {
        filter: std::mem::take(&mut state.changes.filter),
        ..Default::default()
    };
    super::changes::refresh(state, queue);
    state.textures.clear();
    state.filter = Default::default();
    matches::refilter(state, queue);
    matches::focus_first(state);
    labels::request_history(state, queue);
    audit::catalogue_opened(state, queue);
    similar::predictions_changed(state, queue);
    // A report names catalogue positions: the new catalogue's need a new search.
    state.duplicates = crate::app::duplicates::DuplicatesState {
        generation: state.duplicates.generation + 1,
        ..Default::default()
    };
    if warnings > 0 {
        state.notice(format!(
            "opened with {warnings} import warnings (View > Warnings)"
        ));
    }
    for command in std::mem::take(&mut state.after_open) {
        queue.command(command);
    }
}
