//! Where a catalogue's label store lives.
//!
//! Beside the catalogue when its folder is writable (so the fixes travel with the data), else
//! in the user's data directory under a name derived from the catalogue's path (so a read-only
//! catalogue, such as shared data in CI, still gets a store). `--store PATH` overrides both.
//! The data directory and the catalogue's key come from [`crate::paths`].

use crate::paths::{catalogue_key, catalogue_stem, data_dir};
use std::path::{Path, PathBuf};

/// The store path beside the catalogue source file `source`.
pub fn beside(source: &Path) -> PathBuf {
    source.with_file_name(format!("{}.labels.sqlite", catalogue_stem(source)))
}

/// The store path in the data directory for the catalogue source file `source`.
pub fn in_data_dir(source: &Path) -> PathBuf {
    data_dir()
        .join("stores")
        .join(format!("{}.labels.sqlite", catalogue_key(source)))
}

/// The outbox of a team store (`store`: its address and the catalogue's identity) for the
/// catalogue whose source file is `source`: where its edits wait while the server is away.
/// Beside the catalogue when its folder is writable, else in the data directory, as a store.
pub fn outbox(source: &Path, store: &str) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(store.as_bytes());
    let key: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let beside = source.with_file_name(format!("{}.outbox-{key}.sqlite", catalogue_stem(source)));
    let folder = folder_or_here(source);
    if beside.exists() || writable(folder) {
        beside
    } else {
        data_dir()
            .join("outboxes")
            .join(format!("{}-{key}.sqlite", catalogue_key(source)))
    }
}

/// The folder of `source` (`.` for a bare file name).
fn folder_or_here(source: &Path) -> &Path {
    match source.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    }
}

/// Whether a file can be created in `folder`. A folder without write permission bits counts as
/// read-only even where the process could write anyway (as root): shared data stays untouched.
fn writable(folder: &Path) -> bool {
    match std::fs::metadata(folder) {
        Ok(meta) if !meta.permissions().readonly() => {}
        _ => return false,
    }
    let probe = folder.join(format!(".vitrine-write-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => std::fs::remove_file(&probe).is_ok(),
        Err(_) => false,
    }
}

/// An explicit path, else the existing store of the catalogue whose source file is `source`
/// (beside, then in the data directory).
fn existing(source: &Path, explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_path_buf());
    }
    [beside(source), in_data_dir(source)]
        .into_iter()
        .find(|p| p.exists())
}

/// The store to read the catalogue whose source file is `source` from, creating nothing: an
/// explicit path, else an existing store, else the path beside it (where there is none yet).
pub fn locate_for_reading(source: &Path, explicit: Option<&Path>) -> PathBuf {
    existing(source, explicit).unwrap_or_else(|| beside(source))
}

/// Chooses the store of the catalogue whose source file is `source`: an explicit path, else an
/// existing store (beside, then in the data directory), else beside when the folder is
/// writable, else in the data directory.
pub fn locate(source: &Path, explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = existing(source, explicit) {
        return path;
    }
    let beside = beside(source);
    let fallback = in_data_dir(source);
    if source.parent().is_some() && writable(folder_or_here(source)) {
        beside
    } else {
        fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_when_writable_and_data_dir_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("manifest.csv");
        std::fs::write(&source, "product_id\n").unwrap();
        assert_eq!(
            locate(&source, None),
            dir.path().join("manifest.labels.sqlite")
        );
        let explicit = dir.path().join("x.sqlite");
        assert_eq!(locate(&source, Some(&explicit)), explicit);
        let missing = Path::new("/nonexistent-folder-vitrine/styles.csv");
        let chosen = locate(missing, None);
        assert!(
            chosen.starts_with(data_dir().join("stores")),
            "{}",
            chosen.display()
        );
        assert_eq!(in_data_dir(missing), chosen, "the key is stable");
    }

    #[cfg(unix)]
    #[test]
    fn read_only_folder_is_never_written() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("manifest.csv");
        std::fs::write(&source, "product_id\n").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        let chosen = locate(&source, None);
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(chosen, in_data_dir(&source));
    }
}
