//! File dialogs (rfd) on a thread of their own: they block until the user answers.

use super::{EventSender, spawn};
use crate::app::command::DialogPurpose;
use crate::app::event::Event;

/// Shows the dialog for `purpose` and reports the answer as [`Event::DialogClosed`]; fails
/// at once where no dialog can be shown (rfd would only answer "nothing chosen").
pub fn show(
    purpose: DialogPurpose,
    start_in: Option<std::path::PathBuf>,
    events: EventSender,
) -> Result<(), String> {
    if let Some(why) = unavailable() {
        return Err(why);
    }
    spawn(
        "vitrine-dialog",
        &events.clone(),
        Event::WorkerFailed,
        move || {
            let mut dialog = rfd::FileDialog::new();
            if let Some(folder) = start_in {
                dialog = dialog.set_directory(folder);
            }
            let path = match purpose {
                DialogPurpose::OpenFile => dialog
                    .set_title("Open a catalogue")
                    .add_filter("Catalogue", &["csv", "jsonl"])
                    .pick_file(),
                DialogPurpose::OpenFolder => {
                    dialog.set_title("Open a catalogue folder").pick_folder()
                }
                DialogPurpose::LoadPredictions => dialog
                    .set_title("Load predictions (predictions.jsonl)")
                    .add_filter("Predictions", &["jsonl"])
                    .pick_file(),
                DialogPurpose::Export => dialog
                    .set_title("Export the corrected catalogue")
                    .add_filter("Manifest", &["csv", "jsonl"])
                    .set_file_name("corrected.csv")
                    .save_file(),
                DialogPurpose::OpenRun => dialog
                    .set_title("Open a run folder (one with config.json)")
                    .pick_folder(),
                DialogPurpose::OpenAudit => dialog
                    .set_title("Open an audit folder (vitrine audit --out)")
                    .pick_folder(),
                DialogPurpose::ExportComparison { markdown } => {
                    let (name, extension) = if markdown {
                        ("comparison.md", "md")
                    } else {
                        ("comparison.csv", "csv")
                    };
                    dialog
                        .set_title("Export the comparison table")
                        .add_filter("Table", &[extension])
                        .set_file_name(name)
                        .save_file()
                }
                DialogPurpose::ExportMap => dialog
                    .set_title("Export the map as a picture")
                    .add_filter("PNG picture", &["png"])
                    .set_file_name("map.png")
                    .save_file(),
            };
            events.send(Event::DialogClosed { purpose, path });
        },
    )
}

/// Why no file dialog can be shown on this machine, when that can be told in advance. On
/// Linux rfd asks the XDG desktop portal over the session D-Bus and falls back to zenity; with
/// neither a session bus nor zenity it returns "nothing chosen" and the click would seem lost.
fn unavailable() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let session_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists());
    let zenity = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()));
    missing(session_bus, zenity)
}

fn missing(session_bus: bool, zenity: bool) -> Option<String> {
    (!session_bus && !zenity).then(|| {
        "no file dialog here (no desktop portal, no zenity): drop the file on the window or \
         run `vitrine open PATH`"
            .to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialog_needs_a_portal_session_or_zenity() {
        assert!(missing(true, false).is_none());
        assert!(missing(false, true).is_none());
        let why = missing(false, false).unwrap();
        assert!(why.contains("vitrine open"), "{why}");
    }
}
