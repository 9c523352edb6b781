//! Which class of a model's head a label counts as: the class of that name, else the head's
//! [`OTHER`] class (the labels too rare for an output of their own were merged into it), else
//! none. Training targets, the comparison, the grid's disagreement mark and the product view
//! all ask [`HeadClasses`], so they cannot score one label two ways.
//!
//! Pure: no egui, no burn.

use std::collections::HashMap;

/// Name of the class that rare classes are merged into.
pub const OTHER: &str = "other";

/// One head's classes, indexed by name, with the rule of [`HeadClasses::class_of`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadClasses {
    /// Each name's class (its first, should a file list a name twice).
    named: HashMap<Box<str>, u32>,
    /// The class named [`OTHER`], if the head has one.
    other: Option<u32>,
}

impl HeadClasses {
    /// The head whose classes, in output order, are `classes`.
    pub fn new<S: AsRef<str>>(classes: &[S]) -> Self {
        let mut named = HashMap::with_capacity(classes.len());
        for (i, name) in classes.iter().enumerate() {
            // A search from the front finds the first of a repeated name: so does every reader.
            named.entry(Box::from(name.as_ref())).or_insert(i as u32);
        }
        let other = named.get(OTHER).copied();
        HeadClasses { named, other }
    }

    /// The class `label` counts as: the class of that name, else the head's [`OTHER`] class,
    /// else none (the label cannot be scored by this head).
    pub fn class_of(&self, label: &str) -> Option<u32> {
        self.named.get(label).copied().or(self.other)
    }

    /// Whether a prediction of class `predicted` is right for `label` ([`HeadClasses::class_of`]).
    pub fn agrees(&self, predicted: u32, label: &str) -> bool {
        self.class_of(label) == Some(predicted)
    }

    /// The head's [`OTHER`] class, if it has one.
    pub fn other(&self) -> Option<u32> {
        self.other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_the_head_lacks_without_other_is_skipped() {
        assert_eq!(HeadClasses::new(&["Black", "White"]).class_of("Red"), None);
        assert_eq!(HeadClasses::new(&["Black", OTHER]).class_of("Red"), Some(1));
        assert_eq!(
            HeadClasses::new(&["Black", OTHER]).class_of("Black"),
            Some(0)
        );
    }

    /// The disagreement mark once compared names, so a label folded into `other` disagreed
    /// with an `other` prediction that the comparison scored right.
    #[test]
    fn a_label_folded_into_other_agrees_with_other_and_a_named_label_does_not() {
        let head = HeadClasses::new(&["Red", "Blue", OTHER]);
        assert_eq!(head.other(), Some(2));
        assert!(head.agrees(2, "Green"), "Green was too rare: it is `other`");
        assert!(!head.agrees(2, "Blue"), "Blue has a class of its own");
        assert!(head.agrees(1, "Blue"));
        assert!(!head.agrees(0, "Green"));
        assert!(
            head.agrees(2, OTHER),
            "a label named `other` is the `other` class"
        );
        let without = HeadClasses::new(&["Red", "Blue"]);
        assert_eq!(without.other(), None);
        assert!(!without.agrees(0, "Green") && !without.agrees(1, "Green"));
    }

    /// The training targets once looked names up in a map that kept the last of a repeated
    /// name while the comparison searched from the front: one label, two classes.
    #[test]
    fn a_name_listed_twice_counts_as_its_first_class() {
        let head = HeadClasses::new(&["Red", "Blue", "Red", OTHER, OTHER]);
        assert_eq!(head.class_of("Red"), Some(0));
        assert!(!head.agrees(2, "Red"));
        assert_eq!(head.other(), Some(3));
        assert_eq!(head.class_of("Green"), Some(3));
    }
}
