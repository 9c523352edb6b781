//! Where the app keeps its files: the data folder and, under it, the folders named after a
//! catalogue by [`catalogue_key`] (its training runs, and the label store of a catalogue whose
//! own folder is read-only).

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

/// The name the files of the catalogue whose source file is `source` start with: its stem (a
/// folder catalogue is named by the file the importer read).
pub fn catalogue_stem(source: &Path) -> String {
    source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "catalogue".into())
}

/// A file-name-safe key for the catalogue source file `source`: its stem and a hash of its
/// canonical path (two catalogues named alike in different folders get different keys).
pub fn catalogue_key(source: &Path) -> String {
    let canonical = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let key: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let stem: String = catalogue_stem(source)
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

/// The folder the app keeps the training runs of the catalogue whose source file is `source`
/// in, under the data directory `data` (a catalogue folder may be read-only, and runs are
/// large).
pub fn runs_dir(data: &Path, source: &Path) -> PathBuf {
    data.join("runs").join(catalogue_key(source))
}

/// Where the demo catalogue is generated, under the data directory `data`.
pub fn demo_dir(data: &Path) -> PathBuf {
    data.join("demo")
}

/// The decoded-photo cache: photos decoded and scaled for training, kept across GPU runs
/// (safe to delete; it fills again).
pub fn decoded_cache(data: &Path) -> PathBuf {
    data.join("decoded")
}

/// The on-disk thumbnail cache, under the data directory `data`.
pub fn thumbnail_cache(data: &Path) -> PathBuf {
    data.join("thumbs")
}

/// The list of recently opened catalogues, under the data directory `data`.
pub fn recent_list(data: &Path) -> PathBuf {
    data.join("recent.json")
}

/// The run folders the user opened by hand (followed in every session), under the data
/// directory `data`.
pub fn opened_runs(data: &Path) -> PathBuf {
    data.join("runs").join("opened.json")
}

/// The file remembering the audit last opened on the catalogue whose source file is `source`
/// (reopened with the catalogue), under the data directory `data`.
pub fn last_audit(data: &Path, source: &Path) -> PathBuf {
    data.join("audits")
        .join(format!("{}.json", catalogue_key(source)))
}
