//! Commands: what the UI asks for, as imperative verbs. Produced by the `ui` functions and the
//! key handler, applied by [`super::update::apply_command`].

use super::filter::Filter;
use super::keys::KeyAction;
use super::selection::ClickMode;
use super::workers::dialog::DialogPurpose;
use super::workers::open::OpenRequest;
use super::workers::thumbnails::ImageRequest;
use crate::catalog::Task;
use crate::labels::EditSource;
use std::path::PathBuf;

/// A panel that can be shown or hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The edit log.
    EditLog,
    /// Import, store and prediction warnings.
    Warnings,
    /// The key list.
    Help,
}

/// Something the user asked for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Open a catalogue.
    OpenCatalogue(OpenRequest),
    /// Open (generating on first use) the demo catalogue.
    OpenDemo,
    /// Show a file dialog.
    ShowDialog(DialogPurpose),
    /// Load a predictions file (or the `predictions.jsonl` in a run folder).
    LoadPredictions(PathBuf),
    /// Write the corrected catalogue.
    Export(PathBuf),
    /// Change the filter or sort.
    SetFilter(Filter),
    /// Re-run the filter on the current labels.
    RefreshFilter,
    /// Change the card width, in points.
    SetCardSize(f32),
    /// The grid's layout changed: columns per row and rows on screen.
    SetGridShape {
        /// Cards per row.
        columns: usize,
        /// Rows that fit on screen.
        visible_rows: usize,
    },
    /// The grid scrolled to where the focus is.
    ScrolledToFocus,
    /// A card was clicked.
    Click {
        /// Index into the matches.
        index: usize,
        /// Plain, Ctrl or Shift.
        mode: ClickMode,
    },
    /// A key was pressed (outside text fields).
    Key(KeyAction),
    /// Focus one task.
    FocusTask(Task),
    /// Set the focused task of the targets to a value (no confirmation; one product, or a
    /// confirmed bulk change).
    SetLabel {
        /// The task.
        task: Task,
        /// The new label (`None` clears it).
        value: Option<String>,
        /// Human, accepted prediction or bulk.
        source: EditSource,
        /// Catalogue positions.
        targets: Vec<u32>,
    },
    /// Open the class picker for a task on the current targets.
    OpenPicker(Task),
    /// The picker's text changed.
    PickerQuery(String),
    /// Move the picker's highlight.
    PickerMove(i32),
    /// Toggle "ignore the taxonomy" in the picker.
    PickerToggleTaxonomy,
    /// Choose a class in the picker.
    PickerChoose(String),
    /// Close the picker without choosing.
    ClosePicker,
    /// Apply the bulk change waiting for confirmation.
    ConfirmBulk,
    /// Drop the bulk change waiting for confirmation.
    CancelBulk,
    /// Stop opening the catalogue being opened.
    CancelOpen,
    /// Show or hide a panel.
    TogglePanel(Panel),
    /// Show image `index` of the focused product.
    ShowImage(usize),
    /// Set the product view's zoom.
    SetZoom(f32),
    /// The images the grid and the product view show now, most important first.
    WantImages(Vec<ImageRequest>),
    /// The search field took the keyboard.
    SearchFocused,
    /// Forget the message shown in the status bar.
    DismissMessage,
}
