//! Positions found by a text key that lives elsewhere (a product's id in the catalogue, a line's
//! id in the predictions' one buffer): 4 bytes per entry and no copy of any key, where a
//! `HashMap<Box<str>, usize>` costs an allocation and 24 bytes per entry at 1,000,000 products.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// A hash table of positions; the caller says which key each position has.
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    table: HashTable<u32>,
    // Seeded per process (foldhash): a catalogue cannot choose ids that all collide.
    hasher: DefaultHashBuilder,
}

impl KeyIndex {
    /// The position whose key (by `key_at`) is `key`.
    pub fn find<'a>(&self, key: &str, key_at: impl Fn(u32) -> &'a str) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        self.table.find(hash, |&p| key_at(p) == key).copied()
    }

    /// Records `position` under `key`, which must not be in the index yet ([`KeyIndex::find`]
    /// first); `key_at` gives the key of every position already in it.
    pub fn insert<'a>(&mut self, key: &str, position: u32, key_at: impl Fn(u32) -> &'a str) {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(key);
        self.table
            .insert_unique(hash, position, |&p| hasher.hash_one(key_at(p)));
    }

    /// Makes room for `more` entries at once (a table growing by doubling rehashes each time).
    pub fn reserve<'a>(&mut self, more: usize, key_at: impl Fn(u32) -> &'a str) {
        let hasher = &self.hasher;
        self.table.reserve(more, |&p| hasher.hash_one(key_at(p)));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_positions_by_their_keys() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("P{i:07}")).collect();
        let mut index = KeyIndex::default();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(index.find(key, |p| &keys[p as usize]), None);
            index.insert(key, i as u32, |p| &keys[p as usize]);
        }
        assert_eq!(index.len(), keys.len());
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(index.find(key, |p| &keys[p as usize]), Some(i as u32));
        }
        assert_eq!(index.find("P", |p| &keys[p as usize]), None);
    }
}
