//! Opening an audit on a thread of its own: reading its probabilities and building the report
//! against the window's current labels and standing reviews (seconds at 1,000,000 products),
//! then remembering it as the catalogue's last audit, reopened with the catalogue.

use super::{EventSender, spawn};
use crate::app::audit_queue::LoadedAudit;
use crate::app::effect::AuditJob;
use crate::app::event::Event;
use crate::app::state::review_holds;
use crate::audit::confident::RankBy;
use crate::audit::report::build;
use crate::runs::audit::AuditFolder;
use crate::runs::probabilities::{self, Probabilities};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the per-catalogue file of [`crate::paths::last_audit`] holds.
#[derive(Debug, Serialize, Deserialize)]
struct LastAudit {
    /// The audit folder.
    audit: PathBuf,
}

/// Opens the audit of `job` on a worker; reports [`Event::AuditOpened`] or
/// [`Event::AuditFailed`].
pub fn open(job: AuditJob, events: &EventSender) {
    let (generation, what) = (job.generation, job.folder.clone());
    let failed = move |message| Event::AuditFailed {
        generation,
        path: what.clone(),
        message,
    };
    let reply = events.clone();
    if let Err(message) = spawn("vitrine-audit", events, failed.clone(), move || {
        reply.send(load(job))
    }) {
        events.send(failed(message));
    }
}

/// Looks for the audit last opened on the catalogue whose source file is `source`, on a
/// worker; reports [`Event::AuditRemembered`], or nothing when there is none.
pub fn find_last(generation: u64, data_dir: PathBuf, source: PathBuf, events: &EventSender) {
    let reply = events.clone();
    let started = spawn("vitrine-audit", events, Event::WorkerFailed, move || {
        if let Some(folder) = last(&data_dir, &source) {
            reply.send(Event::AuditRemembered { generation, folder });
        }
    });
    if let Err(message) = started {
        events.send(Event::WorkerFailed(message));
    }
}

/// The audit last opened on the catalogue whose source file is `source`, if any.
pub fn last(data_dir: &Path, source: &Path) -> Option<PathBuf> {
    remembered(&crate::paths::last_audit(data_dir, source))
}

/// Does the job on the calling thread (the worker, or a test): the event to report.
pub fn load(job: AuditJob) -> Event {
    let AuditJob {
        generation,
        folder,
        reopening,
        catalog,
        reviews,
        data_dir,
        source,
        duplicates,
    } = job;
    // A probabilities file named instead of its folder opens the folder.
    let folder = if folder.is_file() {
        folder.parent().map(Path::to_path_buf).unwrap_or(folder)
    } else {
        folder
    };
    let failed = |message: String| Event::AuditFailed {
        generation,
        path: folder.clone(),
        message,
    };
    let audit = AuditFolder::at(&folder);
    let path = audit.probabilities_path();
    if !path.is_file() {
        return failed(format!(
            "{}: no {} here: open an audit folder (vitrine audit --out) or a run folder that has one{}",
            folder.display(),
            probabilities::FILE_NAME,
            if reopening {
                " (this was the catalogue's last audit)"
            } else {
                ""
            }
        ));
    }
    let probabilities = match Probabilities::read(&path) {
        Ok(p) => p,
        Err(e) => return failed(e.to_string()),
    };
    if probabilities.is_empty() {
        let first = probabilities
            .warnings
            .first()
            .map(|w| format!(": line {}: {}", w.line, w.message))
            .unwrap_or_default();
        return failed(format!(
            "{}: no product line to audit ({} skipped){first}",
            path.display(),
            probabilities.warnings_total
        ));
    }
    let kept = |position: usize, task| {
        reviews
            .get(&(position as u32, task))
            .is_some_and(|review| review_holds(review, &catalog, position as u32, task))
    };
    let report = build(
        &probabilities,
        &catalog,
        RankBy::NormalizedMargin,
        &kept,
        &duplicates,
    );
    // Let go of the catalogue before reporting, so the UI can apply label edits in place.
    drop(catalog);
    let report = match report {
        Ok(report) => report,
        Err(e) => return failed(e.to_string()),
    };
    // Not remembering the audit is no reason to fail its opening.
    let _ = remember(&crate::paths::last_audit(&data_dir, &source), &folder);
    Event::AuditOpened {
        generation,
        audit: Box::new(LoadedAudit {
            name: audit.name(),
            folder,
            report,
            probabilities: Arc::new(probabilities),
        }),
    }
}

/// The audit folder remembered in `memory`, if any.
fn remembered(memory: &Path) -> Option<PathBuf> {
    let bytes = std::fs::read(memory).ok()?;
    // A damaged file just forgets: it is a convenience.
    serde_json::from_slice::<LastAudit>(&bytes)
        .ok()
        .map(|last| last.audit)
}

/// Remembers `folder` (made absolute) in `memory`.
fn remember(memory: &Path, folder: &Path) -> std::io::Result<()> {
    let audit = std::path::absolute(folder)?;
    let json = serde_json::to_vec_pretty(&LastAudit { audit }).map_err(std::io::Error::other)?;
    crate::atomic_file::write_atomically(memory, |e| e, |w| std::io::Write::write_all(w, &json))
}
