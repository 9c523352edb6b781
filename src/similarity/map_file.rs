//! `map.json`: a finished map, saved beside the representations it lays out with the settings
//! it was computed with and the fingerprint of those representations (size, modification
//! time, shape of `embeddings.f32`, as the similar-product index keeps). A map whose
//! representations or settings changed is computed again, never shown stale.
//!
//! The same document is what `vitrine map --json` prints (see the README's formats).

use super::index::Fingerprint;
use super::map::{Map, MapSettings};
use super::{SimilarityError, Vectors};
use crate::runs::folder::RunError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The map's file beside the representations.
pub const FILE: &str = "map.json";
/// The document's `format`.
const FORMAT: &str = "vitrine-map";
/// The document's version.
const VERSION: u32 = 1;

/// One product's place on the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapPoint {
    /// The product id.
    pub product_id: String,
    /// Horizontal position, in t-SNE's units.
    pub x: f32,
    /// Vertical position.
    pub y: f32,
}

/// The document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MapDocument {
    format: String,
    version: u32,
    method: String,
    /// Which model's representation ("run X", "audit X, the model of fold 1").
    representation: String,
    /// The representations laid out; `None` when their file has no modification time.
    embeddings: Option<Fingerprint>,
    /// The settings asked for.
    settings: MapSettings,
    neighbours: String,
    /// The perplexity used (lowered on a small catalogue).
    perplexity: f32,
    epochs: usize,
    products: usize,
    points: Vec<MapPoint>,
}

/// What the map's method is, for the user.
pub fn method(settings: &MapSettings) -> String {
    format!("t-SNE, Barnes-Hut (bhtsne), theta {}", settings.theta)
}

/// The map as its JSON document, for `representation` (read from `folder`'s
/// `embeddings.f32` into `vectors`).
pub fn to_json(
    map: &Map,
    settings: &MapSettings,
    representation: &str,
    folder: &Path,
    vectors: &Vectors,
) -> serde_json::Value {
    let document = document(map, settings, representation, folder, vectors);
    // A document of strings and finite numbers always converts.
    serde_json::to_value(&document).unwrap_or(serde_json::Value::Null)
}

fn document(
    map: &Map,
    settings: &MapSettings,
    representation: &str,
    folder: &Path,
    vectors: &Vectors,
) -> MapDocument {
    MapDocument {
        format: FORMAT.into(),
        version: VERSION,
        method: method(settings),
        representation: representation.into(),
        embeddings: Fingerprint::of(folder, vectors),
        settings: settings.clone(),
        neighbours: map.neighbours.clone(),
        perplexity: map.perplexity,
        epochs: map.epochs,
        products: map.ids.len(),
        points: map
            .ids
            .iter()
            .zip(&map.points)
            .map(|(id, p)| MapPoint {
                product_id: id.clone(),
                x: p[0],
                y: p[1],
            })
            .collect(),
    }
}

/// Saves `map` as `folder/map.json` (atomically: a reader sees the old map or the new one).
pub fn save(
    folder: &Path,
    vectors: &Vectors,
    map: &Map,
    settings: &MapSettings,
    representation: &str,
) -> Result<(), SimilarityError> {
    let path = folder.join(FILE);
    let bytes = serde_json::to_vec(&document(map, settings, representation, folder, vectors))
        .map_err(|e| RunError::Malformed {
            path: path.clone(),
            message: e.to_string(),
        })?;
    crate::runs::folder::write_atomically(&path, &bytes)?;
    Ok(())
}

/// The map saved in `folder` for `vectors` (read from its `embeddings.f32`) and `settings`,
/// or why there is none that can be shown: none saved, other settings, changed
/// representations, a damaged file.
pub fn load(folder: &Path, vectors: &Vectors, settings: &MapSettings) -> Result<Map, String> {
    let path = folder.join(FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("none was saved".into());
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let document: MapDocument = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
    if document.format != FORMAT || document.version != VERSION {
        return Err(format!("{} is of another version", path.display()));
    }
    if document.settings != *settings {
        return Err("the saved one was computed with other settings".into());
    }
    let fingerprint = Fingerprint::of(folder, vectors);
    if fingerprint.is_none() || document.embeddings != fingerprint {
        return Err("the representations changed since it was computed".into());
    }
    let same_products = document.points.len() == vectors.len()
        && document
            .points
            .iter()
            .zip(vectors.ids())
            .all(|(point, id)| point.product_id == *id);
    if !same_products {
        return Err("the representations changed since it was computed".into());
    }
    if let Some(bad) = document
        .points
        .iter()
        .position(|p| !(p.x.is_finite() && p.y.is_finite()))
    {
        return Err(format!(
            "{} is damaged (point {} is not a finite position)",
            path.display(),
            bad + 1
        ));
    }
    Ok(Map {
        points: document.points.iter().map(|p| [p.x, p.y]).collect(),
        ids: document.points.into_iter().map(|p| p.product_id).collect(),
        perplexity: document.perplexity,
        epochs: document.epochs,
        neighbours: document.neighbours,
    })
}

/// Where [`load_or_compute`]'s map came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// Read from the saved `map.json`.
    Read,
    /// Laid out afresh because the saved one could not be shown (`why`); `saved` says
    /// whether the new one was saved in its place, or why not.
    Computed {
        /// Why the saved map was not used.
        why: String,
        /// Saved, or the reason it was not.
        saved: Result<(), String>,
    },
}

/// The map of `searcher`'s representations (read from `folder`'s `embeddings.f32`) for
/// `settings`: the one saved in `folder` when it is for the same representations and
/// settings (unless `fresh`), otherwise laid out (reporting `progress`, stopped by `cancel`:
/// `None`) and saved for next time. A map that cannot be saved is still returned.
pub fn load_or_compute(
    folder: &Path,
    searcher: &super::Searcher,
    settings: &MapSettings,
    representation: &str,
    fresh: bool,
    progress: &mut dyn FnMut(super::map::MapProgress),
    cancel: &std::sync::atomic::AtomicBool,
) -> Result<Option<(Map, Origin)>, SimilarityError> {
    let saved = if fresh {
        Err("a fresh layout was asked for".to_string())
    } else {
        load(folder, searcher.vectors(), settings)
    };
    let why = match saved {
        Ok(map) => return Ok(Some((map, Origin::Read))),
        Err(why) => why,
    };
    let Some(map) = super::map::compute_map(searcher, settings, progress, cancel)? else {
        return Ok(None);
    };
    let saved =
        save(folder, searcher.vectors(), &map, settings, representation).map_err(|e| e.to_string());
    Ok(Some((map, Origin::Computed { why, saved })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors_in(folder: &Path) -> Vectors {
        let ids: Vec<String> = (0..6).map(|i| format!("p{i}")).collect();
        let values: Vec<f32> = (0..6 * 4).map(|i| ((i * 7) % 5) as f32 + 1.0).collect();
        std::fs::write(folder.join("embeddings.f32"), vec![0u8; 6 * 4 * 4]).unwrap();
        Vectors::from_values(ids, 4, values).unwrap()
    }

    fn map_of(vectors: &Vectors) -> Map {
        Map {
            ids: vectors.ids().to_vec(),
            points: (0..vectors.len())
                .map(|i| [i as f32, -(i as f32)])
                .collect(),
            perplexity: 1.0,
            epochs: 10,
            neighbours: "exact".into(),
        }
    }

    #[test]
    fn a_saved_map_loads_for_the_same_settings_only() {
        let dir = tempfile::tempdir().unwrap();
        let vectors = vectors_in(dir.path());
        let map = map_of(&vectors);
        let settings = MapSettings::default();
        save(dir.path(), &vectors, &map, &settings, "run r").unwrap();
        assert_eq!(load(dir.path(), &vectors, &settings).unwrap(), map);
        let other = MapSettings {
            seed: 9,
            ..settings.clone()
        };
        assert!(
            load(dir.path(), &vectors, &other)
                .unwrap_err()
                .contains("other settings")
        );
    }

    #[test]
    fn changed_representations_or_a_damaged_file_are_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let vectors = vectors_in(dir.path());
        let settings = MapSettings::default();
        assert_eq!(
            load(dir.path(), &vectors, &settings).unwrap_err(),
            "none was saved"
        );
        save(dir.path(), &vectors, &map_of(&vectors), &settings, "run r").unwrap();
        // Rewritten representations of another size.
        std::fs::write(dir.path().join("embeddings.f32"), vec![0u8; 6 * 4 * 4 + 4]).unwrap();
        assert!(
            load(dir.path(), &vectors, &settings)
                .unwrap_err()
                .contains("changed")
        );
        std::fs::write(dir.path().join(FILE), b"{\"format\": \"vitrine-map\", ").unwrap();
        assert!(
            load(dir.path(), &vectors, &settings)
                .unwrap_err()
                .contains("damaged")
        );
    }
}
