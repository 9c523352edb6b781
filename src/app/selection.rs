//! Focus and multi-selection over the matches, and keyboard movement in the grid. Pure.

use std::collections::HashSet;

/// How a click changes the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickMode {
    /// Focus the product and select only it.
    Replace,
    /// Add or remove the product (Ctrl+click).
    Toggle,
    /// Select from the anchor to the product (Shift+click).
    Range,
}

/// A movement of the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One card left.
    Left,
    /// One card right.
    Right,
    /// One row up.
    Up,
    /// One row down.
    Down,
    /// The next product in order (J).
    Next,
    /// The previous product in order (K).
    Previous,
    /// One screen up.
    PageUp,
    /// One screen down.
    PageDown,
    /// The first match.
    First,
    /// The last match.
    Last,
}

/// Where `step` takes the focus from `current` (an index into the matches) in a grid of
/// `columns` columns showing `page_rows` rows, with `len` matches.
pub fn step_index(
    current: Option<usize>,
    step: Step,
    columns: usize,
    page_rows: usize,
    len: usize,
) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let last = len - 1;
    let Some(i) = current else {
        return Some(if step == Step::Last { last } else { 0 });
    };
    let columns = columns.max(1);
    let page = columns * page_rows.max(1);
    let next = match step {
        Step::Left | Step::Previous => i.saturating_sub(1),
        Step::Right | Step::Next => (i + 1).min(last),
        Step::Up => i.checked_sub(columns).unwrap_or(i),
        Step::Down => {
            if i + columns <= last {
                i + columns
            } else {
                i
            }
        }
        Step::PageUp => i.saturating_sub(page),
        Step::PageDown => (i + page).min(last),
        Step::First => 0,
        Step::Last => last,
    };
    Some(next)
}

/// The focused product and the selected ones, by catalogue position (stable when the filter
/// changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The product the keyboard acts on.
    pub focus: Option<u32>,
    /// Where a Shift range starts.
    pub anchor: Option<u32>,
    /// Selected products; empty means "just the focused one".
    pub selected: HashSet<u32>,
}

impl Selection {
    /// Moves the focus to `matches[index]`; with `extend`, selects the range from the anchor.
    pub fn focus_index(&mut self, matches: &[u32], index: usize, extend: bool) {
        let Some(&position) = matches.get(index) else {
            return;
        };
        if extend {
            self.select_range(matches, index);
        } else {
            self.selected.clear();
            self.anchor = Some(position);
        }
        self.focus = Some(position);
    }

    /// Applies a click on `matches[index]`.
    pub fn click(&mut self, matches: &[u32], index: usize, mode: ClickMode) {
        let Some(&position) = matches.get(index) else {
            return;
        };
        match mode {
            ClickMode::Replace => {
                self.selected.clear();
                self.anchor = Some(position);
            }
            ClickMode::Toggle => {
                // The focused product counts as selected when nothing else is, so the first
                // Ctrl+click keeps it.
                if self.selected.is_empty()
                    && let Some(focus) = self.focus
                {
                    self.selected.insert(focus);
                }
                if !self.selected.remove(&position) {
                    self.selected.insert(position);
                }
                self.anchor = Some(position);
            }
            ClickMode::Range => self.select_range(matches, index),
        }
        self.focus = Some(position);
    }

    fn select_range(&mut self, matches: &[u32], index: usize) {
        let anchor = self
            .anchor
            .or(self.focus)
            .and_then(|a| matches.iter().position(|&p| p == a))
            .unwrap_or(index);
        let (from, to) = (anchor.min(index), anchor.max(index));
        self.selected = matches[from..=to].iter().copied().collect();
        if self.anchor.is_none() {
            self.anchor = matches.get(anchor).copied();
        }
    }

    /// Selects every match.
    pub fn select_all(&mut self, matches: &[u32]) {
        self.selected = matches.iter().copied().collect();
        if self.focus.is_none() {
            self.focus = matches.first().copied();
        }
    }

    /// Keeps only the focus.
    pub fn clear(&mut self) {
        self.selected.clear();
    }

    /// Whether `position` is selected (or is the focus with nothing else selected).
    pub fn contains(&self, position: u32) -> bool {
        if self.selected.is_empty() {
            self.focus == Some(position)
        } else {
            self.selected.contains(&position)
        }
    }

    /// The products a label change applies to, in catalogue order.
    pub fn targets(&self) -> Vec<u32> {
        if self.selected.is_empty() {
            return self.focus.into_iter().collect();
        }
        let mut targets: Vec<u32> = self.selected.iter().copied().collect();
        targets.sort_unstable();
        targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_steps_stay_inside() {
        // 10 matches in 4 columns: rows 0-3, 4-7, 8-9.
        let s = |i, step| step_index(Some(i), step, 4, 2, 10);
        assert_eq!(s(0, Step::Left), Some(0));
        assert_eq!(s(3, Step::Right), Some(4), "right wraps to the next row");
        assert_eq!(s(9, Step::Next), Some(9));
        assert_eq!(s(5, Step::Down), Some(9));
        assert_eq!(s(6, Step::Down), Some(6), "no card below");
        assert_eq!(s(5, Step::Up), Some(1));
        assert_eq!(s(2, Step::Up), Some(2));
        assert_eq!(s(1, Step::PageDown), Some(9));
        assert_eq!(s(9, Step::PageUp), Some(1));
        assert_eq!(s(4, Step::First), Some(0));
        assert_eq!(s(4, Step::Last), Some(9));
        assert_eq!(step_index(None, Step::Down, 4, 2, 10), Some(0));
        assert_eq!(step_index(None, Step::Last, 4, 2, 10), Some(9));
        assert_eq!(step_index(Some(0), Step::Down, 4, 2, 0), None);
    }

    #[test]
    fn clicks_and_ranges() {
        let matches = [10, 11, 12, 13, 14];
        let mut s = Selection::default();
        s.click(&matches, 1, ClickMode::Replace);
        assert_eq!(s.targets(), vec![11]);
        assert!(s.contains(11) && !s.contains(12));
        s.click(&matches, 3, ClickMode::Range);
        assert_eq!(s.targets(), vec![11, 12, 13]);
        assert_eq!(s.focus, Some(13));
        s.click(&matches, 2, ClickMode::Toggle);
        assert_eq!(s.targets(), vec![11, 13]);
        s.click(&matches, 4, ClickMode::Toggle);
        assert_eq!(s.targets(), vec![11, 13, 14]);
        s.click(&matches, 0, ClickMode::Replace);
        assert_eq!(s.targets(), vec![10]);
        // Ctrl+click on a second product keeps the focused one.
        s.click(&matches, 2, ClickMode::Toggle);
        assert_eq!(s.targets(), vec![10, 12]);
    }

    #[test]
    fn keyboard_extend_select_all_and_clear() {
        let matches = [5, 6, 7, 8];
        let mut s = Selection::default();
        s.focus_index(&matches, 1, false);
        s.focus_index(&matches, 2, true);
        s.focus_index(&matches, 3, true);
        assert_eq!(s.targets(), vec![6, 7, 8]);
        s.focus_index(&matches, 0, false);
        assert_eq!(s.targets(), vec![5]);
        s.select_all(&matches);
        assert_eq!(s.targets(), vec![5, 6, 7, 8]);
        s.clear();
        assert_eq!(s.targets(), vec![5]);
    }
}
