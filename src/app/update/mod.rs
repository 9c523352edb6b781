//! The one place that changes [`AppState`]: commands from the UI and events from the workers.
//!
//! Nothing here blocks, starts a thread or calls itself: a transition changes the state and
//! puts follow-up commands and effects on the [`Queue`], which the app drains once per frame
//! (see [`super::effect`]). So every transition can be tested on a plain state, with no
//! worker running: apply a command or an event, then look at the state and the queue.
//!
//! This file only routes; each file beside it applies one part: [`opening`] (catalogues and
//! predictions), [`labels`] (label changes, reviews and the store's answers), [`workspace`] (the grid,
//! the keys, the picker, images), [`matches`] (the filter's results and the focus in them),
//! [`audit`] (the review queue), [`cockpit`] (training commands), [`runs`] (training events),
//! [`audit_runs`] (audits launched and followed in the cockpit, and the demo's own) and
//! [`similar`] (the product view's Similar strip), [`duplicates`] and [`map`] (their views).

mod audit;
#[cfg(test)]
mod audit_run_tests;
mod audit_runs;
#[cfg(test)]
mod audit_tests;
mod changes;
mod cockpit;
mod duplicates;
mod labels;
mod map;
mod matches;
mod opening;
mod runs;
mod similar;
#[cfg(test)]
mod tests;
mod workspace;

use super::command::Command;
use super::effect::Queue;
use super::event::Event;
use super::state::AppState;

pub use matches::SYNC_FILTER_LIMIT;
pub use workspace::picker_choices;

/// Applies one command; follow-ups go on `queue`.
pub fn apply_command(state: &mut AppState, command: Command, queue: &mut Queue) {
    match command {
        Command::Cockpit(command) => cockpit::apply(state, command, queue),
        Command::OpenCatalogue(request) => opening::open(state, request, queue),
        Command::OpenDemo => opening::open_demo(state, queue),
        Command::Connect(command) => opening::connect(state, command, queue),
        Command::Changes(command) => changes::apply(state, command, queue),
        Command::CancelOpen => opening::cancel(state, queue),
        Command::LoadPredictions(path) => opening::load_predictions(state, path, queue),
        Command::Export(path) => labels::export(state, path, queue),
        Command::SetLabel {
            task,
            value,
            source,
            targets,
        } => labels::set_label(state, task, value, source, &targets, queue),
        Command::PickerChoose(value) => labels::choose(state, value, queue),
        Command::ConfirmBulk => labels::confirm_bulk(state, queue),
        Command::KeepLabel { product, task } => {
            labels::keep_label(state, product, task, queue);
        }
        Command::OpenAudit(path) => audit::open(state, path, queue),
        Command::Audit(command) => audit::apply(state, command, queue),
        Command::WithdrawReview { review } => {
            labels::withdraw_review(state, review, queue);
        }
        Command::Duplicates(command) => duplicates::apply(state, command, queue),
        Command::Map(command) => map::apply(state, command, queue),
        Command::WantSimilar(_)
        | Command::FocusProduct(_)
        | Command::ShowSimilar(_)
        | Command::Decide(_) => similar::apply(state, command, queue),
        command => workspace::apply(state, command, queue),
    }
}

/// Applies one worker event (`ctx` turns decoded pixels into textures); follow-ups go on
/// `queue`.
pub fn apply_event(state: &mut AppState, ctx: &egui::Context, event: Event, queue: &mut Queue) {
    match event {
        Event::Run(event) => runs::apply(state, ctx, event, queue),
        Event::DemoProgressed { .. }
        | Event::OpenProgressed { .. }
        | Event::OpenCancelled { .. }
        | Event::CatalogueOpened(_)
        | Event::OpenFailed { .. }
        | Event::RecentLoaded(_)
        | Event::PredictionsLoaded(_)
        | Event::PredictionsFailed(_) => opening::apply(state, event, queue),
        Event::LabelsSaved { .. }
        | Event::ReviewSaved { .. }
        | Event::ReviewWithdrawn { .. }
        | Event::ReviewsChanged(_)
        | Event::ServerChanged(_)
        | Event::EditsLost(_)
        | Event::StoreFailed { .. }
        | Event::StoreStopped(_)
        | Event::HistoryLoaded { .. }
        | Event::Exported { .. }
        | Event::ExportFailed(_) => labels::apply(state, event, queue),
        Event::AuditOpened { .. } | Event::AuditRemembered { .. } | Event::AuditFailed { .. } => {
            audit::apply_event(state, event, queue)
        }
        Event::ChangesLoaded(_) | Event::Judged { .. } | Event::VerdictsChanged => {
            changes::apply_event(state, event, queue)
        }
        Event::Similar(event) => similar::apply_event(state, event),
        Event::Decided { product, result } => {
            if state.decided.asking == Some(product) {
                state.decided.asking = None;
            }
            state.decided.answer = Some((product, result));
        }
        Event::Duplicates(event) => duplicates::apply_event(state, event, queue),
        Event::Map(event) => map::apply_event(state, event),
        event => workspace::apply_event(state, ctx, event, queue),
    }
    // Edits wait while a worker reads the catalogue (predictions, comparison, filter); such a
    // worker lets go of it before it reports, so any event may be the moment to apply them.
    matches::apply_unapplied(state);
}
