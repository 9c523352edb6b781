//! The workspace's own commands (the grid, the focus and selection, the keys, the picker,
//! panels and images) and the events of the filter, thumbnail and dialog workers.

use super::{labels, matches};
use crate::app::cockpit::View;
use crate::app::command::{CockpitCommand, Command, DialogPurpose, MapCommand, Panel};
use crate::app::effect::{Effect, Queue};
use crate::app::event::Event;
use crate::app::keys::KeyAction;
use crate::app::opening::OpenRequest;
use crate::app::picker::{Choice, Picker, choices, parent_of};
use crate::app::selection::step_index;
use crate::app::state::{AppState, Picture};
use crate::catalog::Task;

/// Zoom range of the product view.
const ZOOM_RANGE: (f32, f32) = (0.25, 8.0);

/// Applies a workspace command that neither opens nor changes labels.
pub fn apply(state: &mut AppState, command: Command, queue: &mut Queue) {
    match command {
        Command::ShowDialog(purpose) => {
            let start_in = state.session.as_ref().map(|s| s.folder.clone());
            queue.effect(Effect::ShowDialog { purpose, start_in });
        }
        Command::SetFilter(filter) => {
            if filter != state.filter {
                state.filter = filter;
                matches::refilter(state, queue);
            }
        }
        Command::RefreshFilter => matches::refilter(state, queue),
        Command::SetCardSize(size) => state.card_size = size.clamp(100.0, 400.0),
        Command::SetCardPhoto(task) => state.card_photo = task,
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
            focus_changed(state, before, queue);
        }
        Command::Key(action) => apply_key(state, action, queue),
        Command::FocusTask(task) => state.focused_task = task,
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
        Command::ClosePicker => state.picker = None,
        Command::CancelBulk => state.bulk = None,
        Command::TogglePanel(panel) => {
            let flag = match panel {
                Panel::EditLog => &mut state.panels.edit_log,
                Panel::Warnings => &mut state.panels.warnings,
                Panel::Help => &mut state.panels.help,
                Panel::Changes => &mut state.panels.changes,
            };
            *flag = !*flag;
            if panel == Panel::Changes {
                super::changes::refresh(state, queue);
            }
        }
        Command::ShowImage(index) => state.image_index = index,
        Command::SetZoom(zoom) => state.zoom = zoom.clamp(ZOOM_RANGE.0, ZOOM_RANGE.1),
        Command::WantImages(wanted) => {
            let missing: Vec<_> = wanted
                .into_iter()
                .filter(|key| !state.textures.touch(key))
                .collect();
            state.images_pending = missing.len();
            queue.effect(Effect::WantImages(missing));
        }
        Command::SearchFocused => state.focus_search = false,
        Command::DismissMessage => state.message = None,
        // Routed to their own files by `update::apply_command`.
        Command::Cockpit(_)
        | Command::Changes(_)
        | Command::OpenCatalogue(_)
        | Command::OpenDemo
        | Command::Connect(_)
        | Command::CancelOpen
        | Command::LoadPredictions(_)
        | Command::Export(_)
        | Command::SetLabel { .. }
        | Command::PickerChoose(_)
        | Command::ConfirmBulk
        | Command::KeepLabel { .. }
        | Command::WithdrawReview { .. }
        | Command::OpenAudit(_)
        | Command::Audit(_)
        | Command::WantSimilar(_)
        | Command::FocusProduct(_)
        | Command::ShowSimilar(_)
        | Command::Duplicates(_)
        | Command::Map(_)
        | Command::Decide(_) => {}
    }
}

/// Applies an event of the filter, thumbnail and dialog workers, or a worker's failure.
pub fn apply_event(state: &mut AppState, ctx: &egui::Context, event: Event, queue: &mut Queue) {
    match event {
        Event::ThumbnailDecoded { key, image } => {
            let bytes = image.pixels.len() * 4;
            let name = key.path.to_string_lossy().into_owned();
            let texture = ctx.load_texture(name, image, egui::TextureOptions::LINEAR);
            state.textures.insert(key, Picture::Ready(texture), bytes);
        }
        Event::ThumbnailFailed { key, reason } => {
            state.textures.insert(key, Picture::Failed(reason), 64);
        }
        // An older job's answer is ignored: a newer filter is on its way.
        Event::FilterFinished {
            generation,
            matches,
            elapsed,
        } if generation == state.filter_generation => {
            state.matches = matches;
            state.filtering = false;
            state.locate_focus();
            state.filter_time = elapsed;
        }
        Event::FilterFailed {
            generation,
            message,
        } if generation == state.filter_generation => {
            state.filtering = false;
            state.error(message);
        }
        Event::WorkerFailed(text) => state.error(text),
        Event::DialogClosed { purpose, path } => {
            let Some(path) = path else { return };
            if purpose == DialogPurpose::OpenAudit {
                // Opened by hand: show it.
                queue.command(CockpitCommand::SetView(View::Audit));
            }
            queue.command(match purpose {
                DialogPurpose::OpenFile | DialogPurpose::OpenFolder => {
                    Command::OpenCatalogue(OpenRequest::path(path))
                }
                DialogPurpose::LoadPredictions => Command::LoadPredictions(path),
                DialogPurpose::Export => Command::Export(path),
                DialogPurpose::OpenRun => CockpitCommand::FollowRun(path).into(),
                DialogPurpose::OpenAudit => Command::OpenAudit(path),
                DialogPurpose::ExportComparison { markdown } => {
                    CockpitCommand::WriteComparison { path, markdown }.into()
                }
                DialogPurpose::ExportMap => Command::Map(MapCommand::WritePng(path)),
            });
        }
        _ => {}
    }
}

/// The classes the open picker offers.
pub fn picker_choices(state: &AppState) -> Vec<Choice> {
    let (Some(picker), Some(session)) = (&state.picker, &state.session) else {
        return Vec::new();
    };
    // The taxonomy restricts the classes under the parent of the product relabelled: the
    // focused one, or the review queue's card.
    let anchor = if picker.audit {
        picker.targets.first().copied()
    } else {
        state.selection.focus
    };
    let parent = anchor
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

fn apply_key(state: &mut AppState, action: KeyAction, queue: &mut Queue) {
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
                focus_changed(state, before, queue);
            }
        }
        KeyAction::CycleTask(delta) => {
            let i = state.focused_task.index() as i32 + delta as i32;
            state.focused_task = Task::ALL[i.rem_euclid(Task::ALL.len() as i32) as usize];
        }
        KeyAction::PickPrediction(rank) => labels::pick_prediction(state, rank as usize, queue),
        KeyAction::AcceptPrediction => labels::pick_prediction(state, 0, queue),
        KeyAction::OpenPicker => open_picker(state, state.focused_task),
        KeyAction::Undo => labels::undo(state, queue),
        KeyAction::Redo => labels::redo(state, queue),
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

fn focused_image_count(state: &AppState) -> usize {
    let (Some(session), Some(focus)) = (&state.session, state.selection.focus) else {
        return 0;
    };
    session.product(focus).map_or(0, |p| p.images.len())
}

/// After the focus moved from `before`: the first image, and the new product's history.
pub(super) fn focus_changed(state: &mut AppState, before: Option<u32>, queue: &mut Queue) {
    if state.selection.focus != before {
        state.image_index = 0;
        labels::request_history(state, queue);
    }
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
        audit: false,
    });
}
