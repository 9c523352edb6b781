//! Where a catalogue's label store lives.
//!
//! Beside the catalogue when its folder is writable (so the fixes travel with the data), else
//! in the user's data directory under a name derived from the catalogue's path (so a read-only
//! catalogue, such as shared data in CI, still gets a store). `--store PATH` overrides both.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Environment variable that replaces the user's data directory (tests, portable installs).
pub const DATA_DIR_VARIABLE: &str = "VITRINE_DATA_DIR";

/// The app's data directory: `$VITRINE_DATA_DIR`, else the platform's (for example
/// `~/.local/share/vitrine` on Linux), else `./.vitrine`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_VARIABLE).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("", "", "vitrine")
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".vitrine"))
}

/// The catalogue's source file: a folder catalogue is named by the file the importer read.
fn file_stem(source: &Path) -> String {
    source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "catalogue".into())
}

/// The store path beside the catalogue source file `source`.
pub fn beside(source: &Path) -> PathBuf {
    source.with_file_name(format!("{}.labels.sqlite", file_stem(source)))
}

/// A file-name-safe key for the catalogue source file `source`: its stem and a hash of its
/// canonical path (two catalogues named alike in different folders get different keys).
fn catalogue_key(source: &Path) -> String {
    let canonical = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let key: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let stem: String = file_stem(source)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}-{key}")
}

/// The store path in the data directory for the catalogue source file `source`.
pub fn in_data_dir(source: &Path) -> PathBuf {
    data_dir()
        .join("stores")
        .join(format!("{}.labels.sqlite", catalogue_key(source)))
}

/// The folder the app keeps the training runs of the catalogue whose source file is `source`
/// in, under the data directory `data` (a catalogue folder may be read-only, and runs are
/// large).
pub fn runs_dir(data: &Path, source: &Path) -> PathBuf {
    data.join("runs").join(catalogue_key(source))
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
    match source.parent() {
        Some(folder)
            if writable(if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            }) =>
        {
            beside
        }
        _ => fallback,
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
