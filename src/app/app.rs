//! The eframe application: each frame applies the worker events, draws, applies the commands
//! the panels produced, then drains the queue of follow-ups and hands its effects to the
//! workers.

use super::command::Command;
use super::effect::{COMMANDS_PER_DRAIN, Effect, Queue};
use super::event::Event;
use super::opening::OpenRequest;
use super::state::AppState;
use super::update::{apply_command, apply_event};
use super::workers::{Waker, Workers};
use std::path::PathBuf;
use std::sync::Arc;

/// How long closing the window waits for its training runs to save a checkpoint.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Most events applied in one frame, so a flood of thumbnails cannot stall a frame.
const EVENTS_PER_FRAME: usize = 256;

/// What the window opens first.
#[derive(Debug, Clone)]
pub enum Start {
    /// The demo catalogue (generated on first use).
    Demo,
    /// A catalogue.
    Open(OpenRequest),
    /// A catalogue, then these commands once it is open (`vitrine open --predictions FILE
    /// --view map`: load the predictions, show the view).
    OpenThen(OpenRequest, Vec<Command>),
    /// Nothing: the start view.
    Nothing,
}

/// The moderator workspace: state plus workers.
pub struct WorkspaceApp {
    /// Everything shown.
    pub state: AppState,
    /// The worker threads.
    pub workers: Workers,
    /// Follow-up commands and effects not yet drained.
    queue: Queue,
}

/// Who edits are attributed to: `$VITRINE_AUTHOR`, else the login name.
pub fn author() -> String {
    ["VITRINE_AUTHOR", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "moderator".into())
}

impl WorkspaceApp {
    /// Starts the workers (waking `ctx` on each event) and opens `start`.
    pub fn new(ctx: &egui::Context, start: Start, data_dir: PathBuf) -> Result<Self, String> {
        let repaint = ctx.clone();
        let wake: Waker = Arc::new(move || repaint.request_repaint());
        let workers = Workers::start(wake, data_dir.clone())?;
        let mut app = WorkspaceApp {
            state: AppState::new(author(), data_dir),
            workers,
            queue: Queue::default(),
        };
        app.queue.effect(Effect::LoadRecent);
        match start {
            Start::Demo => app.apply(Command::OpenDemo),
            Start::Open(request) => app.apply(Command::OpenCatalogue(request)),
            Start::OpenThen(request, then) => {
                app.state.after_open = then;
                app.apply(Command::OpenCatalogue(request));
            }
            Start::Nothing => app.drain(),
        }
        Ok(app)
    }

    /// Applies one command and what follows from it (also how tests drive the app).
    pub fn apply(&mut self, command: impl Into<Command>) {
        apply_command(&mut self.state, command.into(), &mut self.queue);
        self.drain();
    }

    /// Applies one event as if a worker had sent it, and what follows from it (for tests of
    /// answers no worker gives on demand, such as a dialog's).
    pub fn handle(&mut self, ctx: &egui::Context, event: Event) {
        apply_event(&mut self.state, ctx, event, &mut self.queue);
        self.drain();
    }

    /// Applies the queued commands (each may queue more), then hands the effects to the
    /// workers, in the order they were queued.
    fn drain(&mut self) {
        for _ in 0..COMMANDS_PER_DRAIN {
            let Some(command) = self.queue.next_command() else {
                break;
            };
            apply_command(&mut self.state, command, &mut self.queue);
        }
        for effect in self.queue.take_effects() {
            self.workers.perform(effect);
        }
    }

    /// Applies the waiting worker events.
    pub fn logic(&mut self, ctx: &egui::Context) {
        let mut more = true;
        for _ in 0..EVENTS_PER_FRAME {
            let Some(event) = self.workers.try_event() else {
                more = false;
                break;
            };
            apply_event(&mut self.state, ctx, event, &mut self.queue);
        }
        self.drain();
        if more {
            ctx.request_repaint();
        }
    }

    /// Draws the window and applies what the user did.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let mut commands = Vec::new();
        super::ui::root_ui(ui, &self.state, &mut commands);
        // Several panels want images: one list, in the order they asked, replaces the queue.
        let mut wanted = Vec::new();
        let mut any = false;
        commands.retain_mut(|c| match c {
            Command::WantImages(keys) => {
                wanted.append(keys);
                any = true;
                false
            }
            _ => true,
        });
        for command in commands {
            apply_command(&mut self.state, command, &mut self.queue);
        }
        if any {
            apply_command(
                &mut self.state,
                Command::WantImages(wanted),
                &mut self.queue,
            );
        }
        self.drain();
    }

    /// One whole frame: events, then drawing.
    pub fn frame(&mut self, ui: &mut egui::Ui) {
        self.logic(ui.ctx());
        self.ui(ui);
    }
}

impl eframe::App for WorkspaceApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        WorkspaceApp::logic(self, ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        WorkspaceApp::ui(self, ui);
    }

    /// Closing the window stops its runs and audits, each after a checkpoint to resume from.
    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Both are asked to stop at once, then waited for.
        self.workers.audits.stop_all();
        self.workers.runs.shutdown(SHUTDOWN_WAIT);
        self.workers.audits.shutdown(SHUTDOWN_WAIT);
    }
}

/// Opens the window and runs until it is closed.
pub fn run_native(start: Start, data_dir: PathBuf) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("vitrine")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "vitrine",
        options,
        Box::new(move |cc| {
            let app = WorkspaceApp::new(&cc.egui_ctx, start, data_dir)?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| e.to_string())
}
