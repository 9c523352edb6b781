//! Existence checks for many image paths, by listing each folder once instead of one `stat`
//! per image (a 1,000,000-product manifest would otherwise cost millions of system calls), and
//! the containment rule: an image must be a regular file inside the image folder once links
//! are followed, whatever way the paths were written.

use super::text::excerpt;
use hashbrown::HashMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// What a folder entry is, from its listing (no `stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Link,
    Folder,
    Special,
}

/// A folder under the root, as listed.
#[derive(Debug)]
enum Folder {
    /// Missing or unreadable.
    Unreadable,
    /// Reached through a link that leads out of the root (to this folder).
    Outside(PathBuf),
    /// Its entries.
    Listed(HashMap<OsString, Kind>),
}

/// Why an image a catalogue lists is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageFileError {
    /// No such file.
    #[error("not found")]
    Missing,
    /// A folder.
    #[error("is a folder, not a file")]
    Folder,
    /// A FIFO, socket or device (or a link to one): reading it could block or never end.
    #[error("is not a regular file (a FIFO, socket or device)")]
    Special,
    /// A link (or a linked folder) that leads out of the image folder.
    #[error("leads outside the image folder, to {}", .0.display())]
    Outside(PathBuf),
}

/// Lists folders on first use and answers "is this a usable image file" from memory.
#[derive(Debug)]
pub struct FileIndex {
    root: PathBuf,
    /// The root with its links resolved, found on first use (`None` inside: unresolvable).
    canonical_root: Option<Option<PathBuf>>,
    /// Relative folder (`""` for the root) -> what it holds.
    folders: HashMap<Box<str>, Folder>,
}

impl FileIndex {
    /// An index of the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root: PathBuf = root.into();
        FileIndex {
            // A catalogue opened by a bare file name has the empty path as its folder.
            root: if root.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                root
            },
            canonical_root: None,
            folders: HashMap::new(),
        }
    }

    fn canonical_root(&mut self) -> Option<&Path> {
        self.canonical_root
            .get_or_insert_with(|| std::fs::canonicalize(&self.root).ok())
            .as_deref()
    }

    /// Checks that `relative` (a `/`-separated path under the root, as [`FileIndex::resolve`]
    /// returns) names a regular file inside the root once links are followed. Only links cost a
    /// `stat` of their own; folders are listed once.
    pub fn find(&mut self, relative: &str) -> Result<(), ImageFileError> {
        let (folder, name) = relative.rsplit_once('/').unwrap_or(("", relative));
        if !self.folders.contains_key(folder) {
            let listed = self.list(folder);
            self.folders.insert(folder.into(), listed);
        }
        let kind = match &self.folders[folder] {
            Folder::Unreadable => return Err(ImageFileError::Missing),
            Folder::Outside(target) => return Err(ImageFileError::Outside(target.join(name))),
            Folder::Listed(names) => names.get(std::ffi::OsStr::new(name)).copied(),
        };
        match kind {
            None => Err(ImageFileError::Missing),
            Some(Kind::File) => Ok(()),
            Some(Kind::Folder) => Err(ImageFileError::Folder),
            Some(Kind::Special) => Err(ImageFileError::Special),
            Some(Kind::Link) => {
                let target = std::fs::canonicalize(self.root.join(relative))
                    .map_err(|_| ImageFileError::Missing)?;
                let meta = std::fs::metadata(&target).map_err(|_| ImageFileError::Missing)?;
                if meta.is_dir() {
                    return Err(ImageFileError::Folder);
                }
                if !meta.is_file() {
                    return Err(ImageFileError::Special);
                }
                match self.canonical_root() {
                    Some(root) if target.starts_with(root) => Ok(()),
                    _ => Err(ImageFileError::Outside(target)),
                }
            }
        }
    }

    fn list(&mut self, folder: &str) -> Folder {
        let path = self.root.join(folder);
        if !folder.is_empty() {
            // A folder on the way may be a link out of the root.
            let Ok(target) = std::fs::canonicalize(&path) else {
                return Folder::Unreadable;
            };
            if !self
                .canonical_root()
                .is_some_and(|root| target.starts_with(root))
            {
                return Folder::Outside(target);
            }
        }
        let Ok(entries) = std::fs::read_dir(&path) else {
            return Folder::Unreadable;
        };
        let names = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let t = e.file_type().ok()?;
                let kind = if t.is_symlink() {
                    Kind::Link
                } else if t.is_file() {
                    Kind::File
                } else if t.is_dir() {
                    Kind::Folder
                } else {
                    Kind::Special
                };
                Some((e.file_name(), kind))
            })
            .collect();
        Folder::Listed(names)
    }

    /// Resolves an image path given in a catalogue (see [`resolve_image_path`]); an absolute
    /// path is also compared with the root with links resolved on both sides, so the answer
    /// does not depend on how the catalogue's path was written (relative or absolute).
    pub fn resolve(&mut self, raw: &str) -> Result<String, ImagePathError> {
        let lexical = resolve_image_path(&self.root, raw);
        let given = Path::new(raw.trim());
        if !matches!(lexical, Err(ImagePathError::Escapes(_))) || !given.is_absolute() {
            return lexical;
        }
        let Some(root) = self.canonical_root().map(Path::to_path_buf) else {
            return lexical;
        };
        let resolved = resolve_links(given);
        match resolved.strip_prefix(&root).ok().and_then(Path::to_str) {
            Some(relative) => resolve_image_path(&root, relative)
                .map_err(|_| ImagePathError::Escapes(raw.to_string())),
            None => lexical,
        }
    }
}

/// `path` absolute, with `.` and `..` resolved and links followed as far as it exists.
pub fn resolve_links(path: &Path) -> PathBuf {
    // The folder of a bare file name is the empty path: the current folder.
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                normal.pop();
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    // The longest part that exists is resolved by the file system; the rest as written.
    let mut rest = Vec::new();
    let mut existing = normal.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |path, part| path.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return normal,
        }
    }
}

/// Whether `path` lies inside `folder` once both are resolved ([`resolve_links`]).
pub fn is_inside(folder: &Path, path: &Path) -> bool {
    resolve_links(path).starts_with(resolve_links(folder))
}

/// Why an image path given in a catalogue was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImagePathError {
    /// The path climbs out of the catalogue folder (`../..`) or is absolute elsewhere.
    #[error("image path '{}' escapes the catalogue folder", excerpt(.0))]
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
        assert!(index.find("a.jpg").is_ok());
        assert_eq!(index.find("b.jpg"), Err(ImageFileError::Missing));
        assert!(index.find("sub/c.jpg").is_ok());
        assert_eq!(index.find("sub"), Err(ImageFileError::Folder));
        assert_eq!(index.find("missing/a.jpg"), Err(ImageFileError::Missing));
    }
}
