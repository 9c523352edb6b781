//! Where the tests and benchmarks find the real catalogues: one setting, `VITRINE_REAL_DATA`,
//! defaulting to `../shared/data` beside the project. Included by `tests/common` and
//! `benches/common`.

use std::io::Write;
use std::path::PathBuf;

/// The environment variable that points the tests and benchmarks at the real catalogues.
pub const VARIABLE: &str = "VITRINE_REAL_DATA";

/// The folder the real catalogues are looked for in (it may not exist).
pub fn location() -> PathBuf {
    match std::env::var_os(VARIABLE) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    }
}

/// The real catalogues, or `None` after one line on standard error saying that `what` is
/// skipped. Under CI (`CI=true`) their absence is a failure, not a skip: CI must test them.
pub fn find(what: &str) -> Option<PathBuf> {
    let path = location();
    if path.join("myntra-fpi").is_dir() && path.join("magento-luma").is_dir() {
        return Some(path);
    }
    let absent = format!(
        "real catalogues not found at {} (set {VARIABLE} to the folder holding myntra-fpi/ \
         and magento-luma/)",
        path.display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{absent}; CI must run the real-data tests"
    );
    // Straight to the process's standard error, past the test harness's capture, so a run
    // without the data says which tests it skipped.
    let _ = writeln!(std::io::stderr().lock(), "skipped {what}: {absent}");
    None
}
