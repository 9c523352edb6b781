//! The keyboard map: which key does what, one table used by the key handler and the help
//! overlay. Pure.

use super::command::AuditCommand;
use super::selection::Step;
use egui::{Key, Modifiers};

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// Move the focus; with `extend`, grow the selection.
    Move {
        /// Where to.
        step: Step,
        /// Shift held.
        extend: bool,
    },
    /// Focus the next (+1) or previous (-1) task.
    CycleTask(i8),
    /// Set the focused task to the model's n-th best class (0-based).
    PickPrediction(u8),
    /// Set the focused task to the model's best class.
    AcceptPrediction,
    /// Open the class picker for the focused task.
    OpenPicker,
    /// Undo the latest change.
    Undo,
    /// Redo the latest undone change.
    Redo,
    /// Select every match.
    SelectAll,
    /// Back to just the focused product.
    ClearSelection,
    /// Show or hide the key list.
    ToggleHelp,
    /// Show the product view instead of the grid, or back.
    ToggleProductView,
    /// The product's next (+1) or previous (-1) image.
    CycleImage(i8),
    /// Zoom the product view in (+1) or out (-1).
    Zoom(i8),
    /// Put the cursor in the text filter.
    FocusSearch,
}

/// The keys as listed in the help overlay: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    (
        "Arrows, J / K",
        "move between products (Shift: extend the selection)",
    ),
    (
        "PageUp / PageDown, Home / End",
        "a screen up / down, first / last",
    ),
    ("T / Shift+T", "focus the next / previous task"),
    (
        "1 .. 5",
        "set the focused task to the model's 1st .. 5th class (on a selection: each product's own, after one confirmation)",
    ),
    (
        "Enter",
        "accept the model's prediction for the focused task (on a selection: each product's own, after one confirmation)",
    ),
    (
        "E",
        "pick any class (type to search; Tab: ignore the taxonomy)",
    ),
    (
        "Ctrl+Z / Ctrl+Shift+Z",
        "undo / redo (a bulk change as a whole)",
    ),
    ("Ctrl+A, Esc", "select all matches, back to one product"),
    (
        "Shift+click, Ctrl+click",
        "select a range, add or remove one",
    ),
    ("Space", "product view / grid"),
    (", / .", "previous / next image"),
    ("+ / -", "zoom the product view"),
    ("Ctrl+F or /", "search text"),
    ("? or F1", "this help"),
];

/// The review queue's keys as the Audit view lists them: (keys, what they do).
pub const AUDIT_HELP: &[(&str, &str)] = &[
    ("Enter", "accept the suggestion"),
    ("1 .. 5", "set the model's 1st .. 5th class"),
    ("E", "pick any class"),
    ("K", "keep the label: checked, it is right"),
    ("S", "skip (it comes back after the others)"),
    ("Ctrl+Z", "undo the queue's last action"),
    ("Up / Down", "browse the list"),
];

/// What pressing `key` with `modifiers` asks of the review queue (the Audit view has the
/// keyboard and no text field is edited).
pub fn audit_action(key: Key, modifiers: Modifiers) -> Option<AuditCommand> {
    if modifiers.command || modifiers.ctrl {
        return (key == Key::Z && !modifiers.shift).then_some(AuditCommand::Undo);
    }
    let rank = |r| Some(AuditCommand::Choose(r));
    match key {
        Key::Enter => Some(AuditCommand::Accept),
        Key::Num1 => rank(0),
        Key::Num2 => rank(1),
        Key::Num3 => rank(2),
        Key::Num4 => rank(3),
        Key::Num5 => rank(4),
        Key::E => Some(AuditCommand::Pick),
        Key::K => Some(AuditCommand::Keep),
        Key::S => Some(AuditCommand::Skip),
        Key::ArrowDown => Some(AuditCommand::Step(1)),
        Key::ArrowUp => Some(AuditCommand::Step(-1)),
        _ => None,
    }
}

/// The action of pressing `key` with `modifiers`, when no text field has the keyboard.
pub fn action(key: Key, modifiers: Modifiers) -> Option<KeyAction> {
    let extend = modifiers.shift;
    let command = modifiers.command || modifiers.ctrl;
    let moving = |step| Some(KeyAction::Move { step, extend });
    if command {
        return match key {
            Key::Z if modifiers.shift => Some(KeyAction::Redo),
            Key::Z => Some(KeyAction::Undo),
            Key::Y => Some(KeyAction::Redo),
            Key::A => Some(KeyAction::SelectAll),
            Key::F => Some(KeyAction::FocusSearch),
            _ => None,
        };
    }
    match key {
        Key::ArrowLeft => moving(Step::Left),
        Key::ArrowRight => moving(Step::Right),
        Key::ArrowUp => moving(Step::Up),
        Key::ArrowDown => moving(Step::Down),
        Key::J => moving(Step::Next),
        Key::K => moving(Step::Previous),
        Key::PageUp => moving(Step::PageUp),
        Key::PageDown => moving(Step::PageDown),
        Key::Home => moving(Step::First),
        Key::End => moving(Step::Last),
        Key::T => Some(KeyAction::CycleTask(if modifiers.shift { -1 } else { 1 })),
        Key::Num1 => Some(KeyAction::PickPrediction(0)),
        Key::Num2 => Some(KeyAction::PickPrediction(1)),
        Key::Num3 => Some(KeyAction::PickPrediction(2)),
        Key::Num4 => Some(KeyAction::PickPrediction(3)),
        Key::Num5 => Some(KeyAction::PickPrediction(4)),
        Key::Enter => Some(KeyAction::AcceptPrediction),
        Key::E => Some(KeyAction::OpenPicker),
        Key::Escape => Some(KeyAction::ClearSelection),
        Key::Questionmark | Key::F1 => Some(KeyAction::ToggleHelp),
        Key::Space => Some(KeyAction::ToggleProductView),
        Key::Comma | Key::OpenBracket => Some(KeyAction::CycleImage(-1)),
        Key::Period | Key::CloseBracket => Some(KeyAction::CycleImage(1)),
        Key::Plus | Key::Equals => Some(KeyAction::Zoom(1)),
        Key::Minus => Some(KeyAction::Zoom(-1)),
        Key::Slash => Some(KeyAction::FocusSearch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_covers_the_documented_keys() {
        let none = Modifiers::NONE;
        assert_eq!(
            action(Key::J, none),
            Some(KeyAction::Move {
                step: Step::Next,
                extend: false
            })
        );
        assert_eq!(
            action(Key::ArrowDown, Modifiers::SHIFT),
            Some(KeyAction::Move {
                step: Step::Down,
                extend: true
            })
        );
        assert_eq!(action(Key::Z, Modifiers::COMMAND), Some(KeyAction::Undo));
        assert_eq!(
            action(Key::Z, Modifiers::COMMAND | Modifiers::SHIFT),
            Some(KeyAction::Redo)
        );
        assert_eq!(action(Key::Z, Modifiers::CTRL), Some(KeyAction::Undo));
        assert_eq!(action(Key::Num3, none), Some(KeyAction::PickPrediction(2)));
        assert_eq!(
            action(Key::T, Modifiers::SHIFT),
            Some(KeyAction::CycleTask(-1))
        );
        assert_eq!(action(Key::Enter, none), Some(KeyAction::AcceptPrediction));
        assert_eq!(action(Key::Q, none), None);
    }

    #[test]
    fn the_audit_keys_act_on_the_card() {
        let none = Modifiers::NONE;
        assert_eq!(audit_action(Key::Enter, none), Some(AuditCommand::Accept));
        assert_eq!(audit_action(Key::Num2, none), Some(AuditCommand::Choose(1)));
        assert_eq!(audit_action(Key::K, none), Some(AuditCommand::Keep));
        assert_eq!(audit_action(Key::S, none), Some(AuditCommand::Skip));
        assert_eq!(audit_action(Key::E, none), Some(AuditCommand::Pick));
        assert_eq!(
            audit_action(Key::Z, Modifiers::COMMAND),
            Some(AuditCommand::Undo)
        );
        assert_eq!(
            audit_action(Key::Z, Modifiers::COMMAND | Modifiers::SHIFT),
            None
        );
        assert_eq!(audit_action(Key::K, Modifiers::CTRL), None);
    }
}
