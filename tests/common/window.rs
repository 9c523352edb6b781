//! The window driven headless: a kittest harness around the real app, and a wait for workers.

use egui_kittest::Harness;
use std::path::Path;
use std::time::{Duration, Instant};
use vitrine::app::{Start, WorkspaceApp};

/// The app opening `start`, with its data folder in `data_dir`, in a 1400x900 harness.
pub fn harness<'a>(start: Start, data_dir: &Path) -> Harness<'a, WorkspaceApp> {
    let app = WorkspaceApp::new(&egui::Context::default(), start, data_dir.to_path_buf()).unwrap();
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(|ui, app: &mut WorkspaceApp| app.frame(ui), app)
}

/// Steps frames until `done` holds (workers run on their own threads meanwhile); an error in
/// the status bar, or `timeout`, fails the test.
pub fn wait(
    harness: &mut Harness<'_, WorkspaceApp>,
    what: &str,
    timeout: Duration,
    done: impl Fn(&WorkspaceApp) -> bool,
) {
    let started = Instant::now();
    loop {
        harness.step();
        if done(harness.state()) {
            // One more frame so the UI shows what the event changed.
            harness.step();
            return;
        }
        if let Some(m) = harness.state().state.message.as_ref().filter(|m| m.error) {
            panic!("while waiting for {what}: error: {}", m.text);
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
