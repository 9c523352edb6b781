//! Existence checks for many image paths, by listing each folder once instead of one `stat`
//! per image (a 1,000,000-product manifest would otherwise cost millions of system calls).

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Lists folders on first use and answers "does this file exist" from memory.
#[derive(Debug)]
pub struct FileIndex {
    root: PathBuf,
    /// Relative folder (`""` for the root) -> names of the files in it (`None`: unreadable).
    folders: HashMap<Box<str>, Option<HashSet<OsString>>>,
}

impl FileIndex {
    /// An index of the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileIndex {
            root: root.into(),
            folders: HashMap::new(),
        }
    }

    /// Whether `relative` (a `/`-separated path under the root, as [`resolve_image_path`]
    /// returns) names a file, or a link to one, in an existing folder.
    pub fn exists(&mut self, relative: &str) -> bool {
        let (folder, name) = relative.rsplit_once('/').unwrap_or(("", relative));
        if !self.folders.contains_key(folder) {
            let names = std::fs::read_dir(self.root.join(folder))
                .ok()
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
                        .map(|e| e.file_name())
                        .collect()
                });
            self.folders.insert(folder.into(), names);
        }
        self.folders
            .get(folder)
            .and_then(Option::as_ref)
            .is_some_and(|names| names.contains(std::ffi::OsStr::new(name)))
    }
}

/// Why an image path given in a catalogue was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImagePathError {
    /// The path climbs out of the catalogue folder (`../..`) or is absolute elsewhere.
    #[error("image path '{0}' escapes the catalogue folder")]
    Escapes(String),
    /// The path is empty after trimming.
    #[error("empty image path")]
    Empty,
}

/// Resolves an image path given in a catalogue against `root`, lexically (no file access).
/// Returns the path relative to `root` with `/` separators. Relative paths that climb above
/// `root`, and absolute paths outside it, are refused: a catalogue must not make the app read
/// arbitrary files.
pub fn resolve_image_path(root: &Path, raw: &str) -> Result<String, ImagePathError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ImagePathError::Empty);
    }
    // Fast path for the common, already clean relative path.
    if !raw.starts_with('/')
        && !raw.contains('\\')
        && raw
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
    {
        return Ok(raw.to_string());
    }
    let given = Path::new(raw);
    let relative = if given.is_absolute() {
        given
            .strip_prefix(root)
            .map_err(|_| ImagePathError::Escapes(raw.to_string()))?
    } else {
        given
    };
    let mut parts: Vec<&str> = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().unwrap_or_default()),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(ImagePathError::Escapes(raw.to_string()));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ImagePathError::Escapes(raw.to_string()));
            }
        }
    }
    if parts.is_empty() {
        return Err(ImagePathError::Empty);
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_and_refuses_escapes() {
        let root = Path::new("/cat");
        assert_eq!(resolve_image_path(root, "a/./b.jpg").unwrap(), "a/b.jpg");
        assert_eq!(resolve_image_path(root, "a//b.jpg").unwrap(), "a/b.jpg");
        assert_eq!(resolve_image_path(root, " a/b.jpg ").unwrap(), "a/b.jpg");
        assert_eq!(resolve_image_path(root, "a/../b.jpg").unwrap(), "b.jpg");
        assert_eq!(resolve_image_path(root, "/cat/x/y.jpg").unwrap(), "x/y.jpg");
        assert!(matches!(
            resolve_image_path(root, "../secret.jpg"),
            Err(ImagePathError::Escapes(_))
        ));
        assert!(matches!(
            resolve_image_path(root, "/etc/passwd"),
            Err(ImagePathError::Escapes(_))
        ));
        assert_eq!(resolve_image_path(root, "  "), Err(ImagePathError::Empty));
    }

    #[test]
    fn index_lists_a_folder_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jpg"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/c.jpg"), b"x").unwrap();
        let mut index = FileIndex::new(dir.path());
        assert!(index.exists("a.jpg"));
        assert!(!index.exists("b.jpg"));
        assert!(index.exists("sub/c.jpg"));
        assert!(!index.exists("sub"), "a folder is not a file");
        assert!(!index.exists("missing/a.jpg"));
    }
}
