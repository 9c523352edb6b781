//! Per-task class vocabularies: interned class names with their counts.

use hashbrown::HashMap;
use serde::Serialize;

/// Index of a class inside one task's [`Vocabulary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ClassId(pub u32);

/// The classes seen for one task, in order of first appearance, with how many products carry each.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    names: Vec<String>,
    counts: Vec<u64>,
    index: HashMap<String, ClassId>,
}

impl Vocabulary {
    /// Returns the id of `name`, adding it (with a count of zero) if it is new.
    pub fn intern(&mut self, name: &str) -> ClassId {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = ClassId(self.names.len() as u32);
        self.names.push(name.to_string());
        self.counts.push(0);
        self.index.insert(name.to_string(), id);
        id
    }

    /// The id of `name`, if the class exists.
    pub fn get(&self, name: &str) -> Option<ClassId> {
        self.index.get(name).copied()
    }

    /// The name of class `id`.
    pub fn name(&self, id: ClassId) -> &str {
        &self.names[id.0 as usize]
    }

    /// Number of classes.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no class was seen.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Number of products labelled with class `id`.
    pub fn count(&self, id: ClassId) -> u64 {
        self.counts[id.0 as usize]
    }

    /// Adds one to the count of class `id`.
    pub fn add_count(&mut self, id: ClassId) {
        self.counts[id.0 as usize] += 1;
    }

    /// Removes one from the count of class `id` (used when a label is changed).
    pub fn remove_count(&mut self, id: ClassId) {
        let count = &mut self.counts[id.0 as usize];
        *count = count.saturating_sub(1);
    }

    /// Sets every count back to zero, keeping the classes and their ids.
    pub fn clear_counts(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
    }

    /// Classes and counts, most frequent first (ties by name).
    pub fn by_frequency(&self) -> Vec<(ClassId, &str, u64)> {
        let mut rows: Vec<_> = (0..self.names.len())
            .map(|i| (ClassId(i as u32), self.names[i].as_str(), self.counts[i]))
            .collect();
        rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(b.1)));
        rows
    }

    /// Total number of labelled products.
    pub fn labelled(&self) -> u64 {
        self.counts.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_counts_are_per_class() {
        let mut v = Vocabulary::default();
        let red = v.intern("Red");
        let blue = v.intern("Blue");
        assert_eq!(v.intern("Red"), red);
        v.add_count(red);
        v.add_count(red);
        v.add_count(blue);
        v.remove_count(blue);
        v.remove_count(blue);
        assert_eq!(v.count(red), 2);
        assert_eq!(v.count(blue), 0);
        assert_eq!(v.by_frequency()[0].1, "Red");
        assert_eq!(v.labelled(), 2);
        assert_eq!(v.get("Green"), None);
    }
}
