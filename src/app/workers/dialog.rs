//! File dialogs (rfd) on a thread of their own: they block until the user answers.

use super::{EventSender, spawn};
use crate::app::event::Event;

/// What a file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Open a catalogue file (CSV, JSONL).
    OpenFile,
    /// Open a catalogue folder.
    OpenFolder,
    /// Load a predictions file.
    LoadPredictions,
    /// Choose where to export the corrected catalogue.
    Export,
    /// Open a run folder to follow.
    OpenRun,
    /// Choose where to write the comparison table (Markdown, else CSV).
    ExportComparison {
        /// Markdown rather than CSV.
        markdown: bool,
    },
}

/// Shows the dialog for `purpose` and reports the answer as [`Event::DialogClosed`].
pub fn show(
    purpose: DialogPurpose,
    start_in: Option<std::path::PathBuf>,
    events: EventSender,
) -> Result<(), String> {
    spawn("vitrine-dialog", move || {
        let mut dialog = rfd::FileDialog::new();
        if let Some(folder) = start_in {
            dialog = dialog.set_directory(folder);
        }
        let path = match purpose {
            DialogPurpose::OpenFile => dialog
                .set_title("Open a catalogue")
                .add_filter("Catalogue", &["csv", "jsonl"])
                .pick_file(),
            DialogPurpose::OpenFolder => dialog.set_title("Open a catalogue folder").pick_folder(),
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
        };
        events.send(Event::DialogClosed { purpose, path });
    })
}
