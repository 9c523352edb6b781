//! The one place that changes [`AppState`]: commands from the UI and events from the workers.

use super::cockpit_update;
use super::command::{Command, Panel};
use super::event::{Event, SaveKind};
use super::filter::{FilterInputs, apply};
use super::keys::KeyAction;
use super::picker::{Picker, choices, parent_of};
use super::selection::step_index;
use super::state::{AppState, BulkChange, Message, Opening, Picture, Session};
use super::workers::Workers;
use super::workers::dialog::{self, DialogPurpose};
use super::workers::filter::FilterJob;
use super::workers::open::{self, LoadedPredictions, OpenRequest};
use super::workers::store::{STOPPED, StoreRequest, StoreWorker};
use crate::catalog::Task;
use crate::labels::{Edit, EditSource};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Catalogues up to this size are filtered on the UI thread: it takes well under a frame.
pub const SYNC_FILTER_LIMIT: usize = 50_000;
/// Zoom range of the product view.
const ZOOM_RANGE: (f32, f32) = (0.25, 8.0);

/// Applies one command.
pub fn apply_command(state: &mut AppState, workers: &mut Workers, command: Command) {
    match command {
        Command::Cockpit(command) => cockpit_update::apply_cockpit_command(state, workers, command),
        Command::OpenCatalogue(request) => start_open(state, workers, request),
        Command::OpenDemo => {
            state.opening = Some(Opening {
                what: "the demo catalogue".into(),
                progress: None,
                stage: None,
            });
            let cancel = Arc::new(AtomicBool::new(false));
            workers.open_cancel = Some(cancel.clone());
            report(
                state,
                open::start_demo(workers.data_dir.clone(), workers.sender(), cancel),
            );
        }
        Command::ShowDialog(purpose) => {
            let start_in = state.session.as_ref().map(|s| s.folder.clone());
            report(state, dialog::show(purpose, start_in, workers.sender()));
        }
        Command::LoadPredictions(path) => {
            if let Some(session) = &state.session {
                state.loading_predictions = true;
                let result =
                    open::load_predictions(path, session.catalog.clone(), workers.sender());
                report(state, result);
            }
        }
        Command::Export(path) => {
            if let (Some(store), Some(session)) = (&workers.store, &state.session) {
                let catalog = session.catalog.clone();
                match store.send(StoreRequest::Export {
                    path: path.clone(),
                    catalog,
                }) {
                    Ok(()) => state.exporting = Some(path),
                    Err(text) => report(state, Err(text)),
                }
            }
        }
        Command::SetFilter(filter) => {
            if filter != state.filter {
                state.filter = filter;
                refilter(state, workers);
            }
        }
        Command::RefreshFilter => refilter(state, workers),
        Command::SetCardSize(size) => state.card_size = size.clamp(100.0, 400.0),
        Command::SetGridShape {
            columns,
            visible_rows,
        } => {
            state.columns = columns.max(1);
            state.visible_rows = visible_rows.max(1);
        }
        Command::ScrolledToFocus => state.scroll_to_focus = false,
        Command::Click { index, mode } => {
            let before = state.selection.focus;
            state.selection.click(&state.matches, index, mode);
            state.focus_at = Some(index).filter(|&i| i < state.matches.len());
            focus_changed(state, workers, before);
        }
        Command::Key(action) => apply_key(state, workers, action),
        Command::FocusTask(task) => state.focused_task = task,
        Command::SetLabel {
            task,
            value,
            source,
            targets,
        } => set_label(state, workers, task, value, source, &targets),
        Command::OpenPicker(task) => open_picker(state, task),
        Command::PickerQuery(query) => {
            if let Some(picker) = &mut state.picker {
                picker.query = query;
                picker.highlighted = 0;
            }
        }
        Command::PickerMove(delta) => {
            let count = picker_choices(state).len();
            if let Some(picker) = &mut state.picker {
                let last = count.saturating_sub(1) as i64;
                picker.highlighted =
                    (picker.highlighted as i64 + delta as i64).clamp(0, last) as usize;
            }
        }
        Command::PickerToggleTaxonomy => {
            if let Some(picker) = &mut state.picker {
                picker.ignore_taxonomy = !picker.ignore_taxonomy;
                picker.highlighted = 0;
            }
        }
        Command::PickerChoose(value) => {
            if let Some(picker) = state.picker.take() {
                if picker.targets.len() > 1 {
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
                        workers,
                        picker.task,
                        Some(value),
                        source,
                        &picker.targets,
                    );
                }
            }
        }
        Command::ClosePicker => state.picker = None,
        Command::ConfirmBulk => {
            if let Some(bulk) = state.bulk.take() {
                let changes: Vec<(u32, Option<String>)> = bulk
                    .targets
                    .into_iter()
                    .zip(bulk.values.into_iter().map(Some))
                    .collect();
                set_labels(state, workers, bulk.task, bulk.source, &changes);
            }
        }
        Command::CancelBulk => state.bulk = None,
        Command::CancelOpen => {
            if let Some(cancel) = &workers.open_cancel {
                cancel.store(true, Ordering::Relaxed);
            }
        }
        Command::TogglePanel(panel) => {
            let flag = match panel {
                Panel::EditLog => &mut state.panels.edit_log,
                Panel::Warnings => &mut state.panels.warnings,
                Panel::Help => &mut state.panels.help,
            };
            *flag = !*flag;
        }
        Command::ShowImage(index) => state.image_index = index,
        Command::SetZoom(zoom) => state.zoom = zoom.clamp(ZOOM_RANGE.0, ZOOM_RANGE.1),
        Command::WantImages(wanted) => {
            let missing: Vec<_> = wanted
                .into_iter()
                .filter(|key| !state.textures.touch(key))
                .collect();
            state.images_pending = missing.len();
            workers.thumbnails.want(missing);
        }
        Command::SearchFocused => state.focus_search = false,
        Command::DismissMessage => state.message = None,
    }
}

/// The classes the open picker offers.
pub fn picker_choices(state: &AppState) -> Vec<super::picker::Choice> {
    let (Some(picker), Some(session)) = (&state.picker, &state.session) else {
        return Vec::new();
    };
    let parent = state
        .selection
        .focus
        .and_then(|p| session.product(p))
        .and_then(|p| parent_of(p, picker.task));
    choices(
        &session.catalog,
        &session.taxonomy,
        picker.task,
        parent,
        &picker.query,
        picker.ignore_taxonomy,
    )
}

/// Shows a worker's start failure, if any, as an error in the status bar.
pub(super) fn report(state: &mut AppState, result: Result<(), String>) {
    if let Err(text) = result {
        state.message = Some(Message { text, error: true });
    }
}

/// Shows `text` in the status bar.
pub(super) fn notice(state: &mut AppState, text: impl Into<String>) {
    state.message = Some(Message {
        text: text.into(),
        error: false,
    });
}

fn start_open(state: &mut AppState, workers: &mut Workers, request: OpenRequest) {
    state.opening = Some(Opening {
        what: request.path.display().to_string(),
        progress: None,
        stage: None,
    });
    let cancel = Arc::new(AtomicBool::new(false));
    workers.open_cancel = Some(cancel.clone());
    report(
        state,
        open::start(request, workers.data_dir.clone(), workers.sender(), cancel),
    );
}

fn apply_key(state: &mut AppState, workers: &mut Workers, action: KeyAction) {
    match action {
        KeyAction::Move { step, extend } => {
            let current = state.focus_index();
            let next = step_index(
                current,
                step,
                state.columns,
                state.visible_rows,
                state.matches.len(),
            );
            if let Some(index) = next {
                let before = state.selection.focus;
                state.selection.focus_index(&state.matches, index, extend);
                state.focus_at = Some(index);
                state.scroll_to_focus = true;
                focus_changed(state, workers, before);
            }
        }
        KeyAction::CycleTask(delta) => {
            let i = state.focused_task.index() as i32 + delta as i32;
            state.focused_task = Task::ALL[i.rem_euclid(Task::ALL.len() as i32) as usize];
        }
        KeyAction::PickPrediction(rank) => pick_prediction(state, workers, rank as usize),
        KeyAction::AcceptPrediction => pick_prediction(state, workers, 0),
        KeyAction::OpenPicker => open_picker(state, state.focused_task),
        KeyAction::Undo => store_request(state, workers, StoreRequest::Undo),
        KeyAction::Redo => store_request(state, workers, StoreRequest::Redo),
        KeyAction::SelectAll => {
            state.selection.select_all(&state.matches);
            state.locate_focus();
        }
        KeyAction::ClearSelection => {
            if state.panels.help {
                state.panels.help = false;
            } else {
                state.selection.clear();
            }
        }
        KeyAction::ToggleHelp => state.panels.help = !state.panels.help,
        KeyAction::ToggleProductView => state.product_view = !state.product_view,
        KeyAction::CycleImage(delta) => {
            let count = focused_image_count(state);
            if count > 0 {
                let i = state.image_index as i64 + delta as i64;
                state.image_index = i.rem_euclid(count as i64) as usize;
            }
        }
        KeyAction::Zoom(delta) => {
            let factor = if delta > 0 { 1.25 } else { 0.8 };
            state.zoom = (state.zoom * factor).clamp(ZOOM_RANGE.0, ZOOM_RANGE.1);
        }
        KeyAction::FocusSearch => state.focus_search = true,
    }
}

/// Focuses (and anchors the selection at) the first match, the only product selected.
pub(super) fn focus_first(state: &mut AppState) {
    let first = state.matches.first().copied();
    state.selection = Default::default();
    state.selection.focus = first;
    state.selection.anchor = first;
    state.locate_focus();
}

fn focused_image_count(state: &AppState) -> usize {
    let (Some(session), Some(focus)) = (&state.session, state.selection.focus) else {
        return 0;
    };
    session.product(focus).map_or(0, |p| p.images.len())
}

fn focus_changed(state: &mut AppState, workers: &mut Workers, before: Option<u32>) {
    if state.selection.focus != before {
        state.image_index = 0;
        request_history(state, workers);
    }
}

fn request_history(state: &mut AppState, workers: &mut Workers) {
    let (Some(session), Some(focus), Some(store)) =
        (&state.session, state.selection.focus, &workers.store)
    else {
        return;
    };
    if let Some(product) = session.product(focus) {
        let sent = store.send(StoreRequest::History(product.id.to_string()));
        report(state, sent);
    }
}

fn store_request(state: &mut AppState, workers: &mut Workers, request: StoreRequest) {
    match &workers.store {
        Some(store) => match store.send(request) {
            Ok(()) => state.store_pending += 1,
            Err(text) => report(state, Err(text)),
        },
        None if state.session.is_some() => report(state, Err(STOPPED.to_string())),
        None => notice(state, "no catalogue is open"),
    }
}

/// Sets the focused task to the model's class of `rank` (0 = its prediction): on the focused
/// product at once, or, with several products selected, each to its own predicted class after
/// one confirmation.
fn pick_prediction(state: &mut AppState, workers: &mut Workers, rank: usize) {
    let Some(session) = &state.session else {
        return;
    };
    let task = state.focused_task;
    if session.predictions.is_none() {
        notice(
            state,
            "no predictions loaded: press E to pick a class (File > Load predictions…)",
        );
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
        notice(
            state,
            format!("the model has no class #{} for {task}", rank + 1),
        );
        return;
    }
    if targets.len() == 1 {
        let changes: Vec<(u32, Option<String>)> =
            chosen.into_iter().map(|(p, c)| (p, Some(c))).collect();
        set_labels(
            state,
            workers,
            task,
            EditSource::AcceptedPrediction,
            &changes,
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

fn open_picker(state: &mut AppState, task: Task) {
    let targets = state.selection.targets();
    if targets.is_empty() || state.session.is_none() {
        return;
    }
    state.focused_task = task;
    state.picker = Some(Picker {
        task,
        query: String::new(),
        ignore_taxonomy: false,
        highlighted: 0,
        targets,
    });
}

fn set_label(
    state: &mut AppState,
    workers: &mut Workers,
    task: Task,
    value: Option<String>,
    source: EditSource,
    targets: &[u32],
) {
    let changes: Vec<(u32, Option<String>)> = targets.iter().map(|&p| (p, value.clone())).collect();
    set_labels(state, workers, task, source, &changes);
}

/// Sends one batch of changes of `task` (catalogue position, new label) to the store.
fn set_labels(
    state: &mut AppState,
    workers: &mut Workers,
    task: Task,
    source: EditSource,
    changes: &[(u32, Option<String>)],
) {
    let Some(session) = &state.session else {
        return;
    };
    let changes: Vec<(String, Option<String>)> = changes
        .iter()
        .filter_map(|(p, value)| {
            session
                .product(*p)
                .map(|p| (p.id.to_string(), value.clone()))
        })
        .collect();
    if changes.is_empty() {
        return;
    }
    store_request(
        state,
        workers,
        StoreRequest::Set {
            task,
            changes,
            source,
        },
    );
}

/// Re-runs the filter: here for small catalogues, on the filter worker for large ones.
pub fn refilter(state: &mut AppState, workers: &mut Workers) {
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
        workers.filter.run(FilterJob {
            generation: state.filter_generation,
            filter: state.filter.clone(),
            catalog: session.catalog.clone(),
            predictions,
            rows,
            edited: session.edited.clone(),
        });
    }
}

/// Applies one worker event; `ctx` creates textures.
pub fn apply_event(state: &mut AppState, workers: &mut Workers, ctx: &egui::Context, event: Event) {
    apply_one_event(state, workers, ctx, event);
    // Edits wait while a worker reads the catalogue (predictions, comparison, filter); such a
    // worker lets go of it before it reports, so any event may be the moment to apply them.
    apply_unapplied(state);
}

fn apply_one_event(state: &mut AppState, workers: &mut Workers, ctx: &egui::Context, event: Event) {
    match event {
        Event::Run(event) => cockpit_update::apply_run_event(state, workers, ctx, event),
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
            workers.open_cancel = None;
            notice(state, format!("stopped opening {}", path.display()));
        }
        Event::CatalogueOpened(opened) => {
            let opened = *opened;
            state.opening = None;
            workers.open_cancel = None;
            let import = opened.workspace.import.clone();
            let store_report = opened.workspace.store_report.clone();
            // Dropping the old worker ends it once its queue is done: its edits are durable.
            workers.store = None;
            match StoreWorker::start(opened.workspace, state.author.clone(), workers.sender()) {
                Ok(store) => workers.store = Some(store),
                Err(text) => {
                    state.message = Some(Message { text, error: true });
                    return;
                }
            }
            let warnings = import.warnings_total;
            cockpit_update::catalogue_changed(state, workers, &import.source);
            state.session = Some(Session {
                request: opened.request,
                catalog: opened.catalog,
                taxonomy: opened.taxonomy,
                import,
                store_report,
                predictions: opened.predictions,
                predictions_note: opened.predictions_note,
                edited: Arc::new(opened.edited),
                unapplied: Vec::new(),
                folder: opened.folder,
                open_time: opened.elapsed,
            });
            state.edit_log = opened.recent_edits;
            state.session_edits = 0;
            state.store_pending = 0;
            state.selection = Default::default();
            state.picker = None;
            state.bulk = None;
            state.history = None;
            state.textures.clear();
            state.filter = Default::default();
            refilter(state, workers);
            focus_first(state);
            request_history(state, workers);
            if warnings > 0 {
                notice(
                    state,
                    format!("opened with {warnings} import warnings (View > Warnings)"),
                );
            }
        }
        Event::OpenFailed { path, message } => {
            state.opening = None;
            workers.open_cancel = None;
            state.message = Some(Message {
                text: format!("cannot open {}: {message}", path.display()),
                error: true,
            });
        }
        Event::RecentLoaded(recent) => state.recent = recent,
        Event::PredictionsLoaded { predictions, rows } => {
            state.loading_predictions = false;
            if let Some(session) = &mut state.session {
                let path = predictions.path.clone().unwrap_or_default();
                session.predictions_note = open::read_note(&predictions, &path);
                session.predictions = Some(LoadedPredictions { predictions, rows });
                refilter(state, workers);
                cockpit_update::resolve_pending(state, workers);
            }
        }
        Event::PredictionsFailed(text) => {
            state.loading_predictions = false;
            state.cockpit.pending = None;
            state.message = Some(Message { text, error: true });
        }
        Event::LabelsSaved { edits, kind } => labels_saved(state, workers, edits, kind),
        Event::StoreFailed(text) => {
            state.store_pending = state.store_pending.saturating_sub(1);
            state.message = Some(Message { text, error: true });
        }
        Event::StoreStopped(text) => {
            // Requests it had not answered were not saved, and the window never showed them
            // as saved (it shows a change once it is durable); waiting on them would hang.
            workers.store = None;
            state.store_pending = 0;
            state.exporting = None;
            state.message = Some(Message {
                text: format!("{text}; {STOPPED}"),
                error: true,
            });
        }
        Event::FilterFailed {
            generation,
            message,
        } => {
            if generation == state.filter_generation {
                state.filtering = false;
                state.message = Some(Message {
                    text: message,
                    error: true,
                });
            }
        }
        Event::WorkerFailed(text) => state.message = Some(Message { text, error: true }),
        Event::HistoryLoaded { product, edits } => state.history = Some((product, edits)),
        Event::Exported { path, summary } => {
            state.exporting = None;
            notice(
                state,
                format!(
                    "exported {} products to {}",
                    summary.products,
                    path.display()
                ),
            );
        }
        Event::ExportFailed(text) => {
            state.exporting = None;
            state.message = Some(Message { text, error: true });
        }
        Event::ThumbnailDecoded { key, image } => {
            let bytes = image.pixels.len() * 4;
            let name = key.path.to_string_lossy().into_owned();
            let texture = ctx.load_texture(name, image, egui::TextureOptions::LINEAR);
            state.textures.insert(key, Picture::Ready(texture), bytes);
        }
        Event::ThumbnailFailed { key, reason } => {
            state.textures.insert(key, Picture::Failed(reason), 64);
        }
        Event::FilterFinished {
            generation,
            matches,
            elapsed,
        } => {
            if generation == state.filter_generation {
                state.matches = matches;
                state.filtering = false;
                state.locate_focus();
                state.filter_time = elapsed;
            }
        }
        Event::DialogClosed { purpose, path } => {
            let Some(path) = path else { return };
            let command = match purpose {
                DialogPurpose::OpenFile | DialogPurpose::OpenFolder => {
                    Command::OpenCatalogue(OpenRequest::path(path))
                }
                DialogPurpose::LoadPredictions => Command::LoadPredictions(path),
                DialogPurpose::Export => Command::Export(path),
                other => match cockpit_update::dialog_command(other, path) {
                    Some(command) => command,
                    None => return,
                },
            };
            apply_command(state, workers, command);
        }
    }
}

fn labels_saved(state: &mut AppState, workers: &mut Workers, edits: Vec<Edit>, kind: SaveKind) {
    if kind != SaveKind::Elsewhere {
        state.store_pending = state.store_pending.saturating_sub(1);
    }
    if edits.is_empty() {
        match kind {
            SaveKind::Undo => notice(state, "nothing to undo"),
            SaveKind::Redo => notice(state, "nothing to redo"),
            SaveKind::Change => notice(state, "the label already has that value"),
            SaveKind::Elsewhere => {}
        }
        return;
    }
    let Some(session) = &mut state.session else {
        return;
    };
    if kind != SaveKind::Elsewhere {
        state.session_edits += edits.len();
    }
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
        (SaveKind::Redo, n) => format!("redone ({n} labels)"),
        (SaveKind::Elsewhere, n) => format!("{n} labels changed by another window"),
        (SaveKind::Change, 1) => edits[0].to_string(),
        (SaveKind::Change, n) => format!("{n} labels changed"),
    };
    state.edit_log.extend(edits);
    apply_unapplied(state);
    state.matches_stale = true;
    notice(state, text);
    if touches_focus {
        request_history(state, workers);
    }
}

/// Applies durable edits to the UI's catalogue, unless a filter job still reads it (then they
/// wait for its result, rather than copying the whole catalogue).
fn apply_unapplied(state: &mut AppState) {
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
}
