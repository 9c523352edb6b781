//! Labels this window set that another moderator changed afterwards (the later change wins,
//! in every window) or that the team store's server refused when the outbox sent them (the
//! label had changed meanwhile): the product view marks each, so the moderator who lost sees
//! it at once. A mark goes when this window sets the label again.

use crate::catalog::Task;
use crate::labels::{Edit, Lost};
use std::collections::HashMap;

/// One label this window set and no longer has its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    /// The value this window set.
    pub mine: Option<String>,
    /// The value that stands.
    pub theirs: Option<String>,
    /// Who set it.
    pub by: String,
    /// Whether this window's value reached the journal (an edit made offline and refused did
    /// not).
    pub journalled: bool,
}

/// The labels this window set this session, and those of them others changed since.
#[derive(Debug, Default)]
pub struct Overrides {
    mine: HashMap<(String, Task), Option<String>>,
    marks: HashMap<(String, Task), Overridden>,
}

impl Overrides {
    /// Notes this window's own durable edits.
    pub fn saved(&mut self, edits: &[Edit]) {
        for edit in edits {
            let key = (edit.product.clone(), edit.task);
            self.marks.remove(&key);
            self.mine.insert(key, edit.new.clone());
        }
    }

    /// Notes edits another window made; returns how many of them overrode a label this window
    /// set.
    pub fn elsewhere(&mut self, edits: &[Edit]) -> usize {
        let mut overrode = 0;
        for edit in edits {
            let key = (edit.product.clone(), edit.task);
            let Some(mine) = self.mine.get(&key) else {
                continue;
            };
            if *mine == edit.new {
                // They agree with this window (or set it back): nothing was lost.
                self.marks.remove(&key);
                continue;
            }
            overrode += 1;
            self.marks.insert(
                key,
                Overridden {
                    mine: mine.clone(),
                    theirs: edit.new.clone(),
                    by: edit.author.clone(),
                    journalled: true,
                },
            );
        }
        overrode
    }

    /// Notes edits made offline that the server refused.
    pub fn lost(&mut self, lost: &[Lost]) {
        for lost in lost {
            let key = (lost.product.clone(), lost.task);
            self.mine.insert(key.clone(), lost.wanted.clone());
            self.marks.insert(
                key,
                Overridden {
                    mine: lost.wanted.clone(),
                    theirs: lost.found.clone(),
                    by: lost.by.clone(),
                    journalled: false,
                },
            );
        }
    }

    /// The mark of `product`'s `task` label, if any.
    pub fn get(&self, product: &str, task: Task) -> Option<&Overridden> {
        self.marks.get(&(product.to_string(), task))
    }

    /// How many labels are marked.
    pub fn len(&self) -> usize {
        self.marks.len()
    }

    /// Whether no label is marked.
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

impl Overridden {
    /// One line for the product view's hover.
    pub fn describe(&self) -> String {
        let value = |v: &Option<String>| {
            v.as_deref().map_or_else(
                || "(none)".into(),
                |v| format!("'{}'", crate::catalog::text::excerpt(v)),
            )
        };
        if self.journalled {
            format!(
                "you set {}; {} set {} after you, which stands",
                value(&self.mine),
                crate::catalog::text::excerpt(&self.by),
                value(&self.theirs)
            )
        } else {
            format!(
                "your {} (made offline) was not sent: {} had set {} meanwhile, which stands",
                value(&self.mine),
                crate::catalog::text::excerpt(&self.by),
                value(&self.theirs)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::EditSource;

    fn edit(product: &str, new: &str, author: &str) -> Edit {
        Edit {
            id: 1,
            batch: 1,
            product: product.into(),
            task: Task::Colour,
            old: None,
            new: Some(new.into()),
            author: author.into(),
            time_ms: 0,
            source: EditSource::Human,
            reason: None,
            reverts: None,
        }
    }

    #[test]
    fn a_later_change_by_another_marks_the_label_until_this_window_sets_it_again() {
        let mut overrides = Overrides::default();
        overrides.saved(&[edit("p1", "Red", "ann")]);
        assert_eq!(
            overrides.elsewhere(&[edit("p2", "Blue", "bob")]),
            0,
            "not ours"
        );
        assert_eq!(overrides.elsewhere(&[edit("p1", "Blue", "bob")]), 1);
        let mark = overrides.get("p1", Task::Colour).unwrap();
        assert_eq!(
            mark.describe(),
            "you set 'Red'; bob set 'Blue' after you, which stands"
        );
        assert_eq!(overrides.elsewhere(&[edit("p1", "Red", "cy")]), 0);
        assert!(overrides.is_empty(), "set back to ours");
        overrides.elsewhere(&[edit("p1", "Green", "bob")]);
        overrides.saved(&[edit("p1", "Black", "ann")]);
        assert!(overrides.get("p1", Task::Colour).is_none());
    }

    #[test]
    fn a_refused_offline_edit_is_marked_as_not_sent() {
        let mut overrides = Overrides::default();
        overrides.lost(&[Lost {
            product: "p1".into(),
            task: Task::Colour,
            wanted: Some("Red".into()),
            found: Some("Blue".into()),
            by: "bob".into(),
        }]);
        assert_eq!(overrides.len(), 1);
        let mark = overrides.get("p1", Task::Colour).unwrap();
        assert!(!mark.journalled);
        assert!(
            mark.describe()
                .starts_with("your 'Red' (made offline) was not sent")
        );
    }
}
