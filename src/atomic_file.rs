//! Files written whole or not at all: the one way vitrine replaces a file that something else
//! may be reading (exports, run records, predictions, cached thumbnails, the recent list).
//!
//! The content goes to a new temporary file in the same folder (created exclusively, so two
//! writers never share one), is made durable, and is renamed over the target; the folder is
//! synced so the rename survives a crash. Readers and crashes see the old file or the new one,
//! never half of one. A writer dropped before [`AtomicFile::commit`] removes its temporary file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A file being written to replace `path` once committed.
#[derive(Debug)]
pub struct AtomicFile {
    // Declared first, so it is closed before the temporary file is removed.
    out: BufWriter<File>,
    temporary: Temporary,
    path: PathBuf,
}

/// The temporary file, removed when dropped unless it was renamed into place.
#[derive(Debug)]
struct Temporary {
    path: PathBuf,
    renamed: bool,
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.renamed {
            // Ours and incomplete; failing to remove it changes nothing else.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The folder `path` lies in (`.` for a bare file name, whose parent is the empty path).
pub fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Creates `folder` and the folders above it as needed; where a part of the path is a file
/// (or anything else but a folder) the error names that part, where the system's says only
/// "File exists".
pub fn create_folder(folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder).map_err(|error| {
        let not_a_folder = folder
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            .find(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir()));
        match not_a_folder {
            Some(part) => std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a folder", part.display()),
            ),
            None => error,
        }
    })
}

impl AtomicFile {
    /// Starts writing the replacement of `path`, creating its folder if needed.
    pub fn create(path: &Path) -> std::io::Result<AtomicFile> {
        let folder = folder_of(path);
        create_folder(folder)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for attempt in 0..100 {
            let temporary =
                folder.join(format!(".{name}.{}-{attempt}.partial", std::process::id()));
            match File::options()
                .write(true)
                .create_new(true)
                .open(&temporary)
            {
                Ok(file) => {
                    return Ok(AtomicFile {
                        out: BufWriter::new(file),
                        temporary: Temporary {
                            path: temporary,
                            renamed: false,
                        },
                        path: path.to_path_buf(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "100 temporary files of this process are already there",
        ))
    }

    /// The buffered temporary file to write the content into.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        &mut self.out
    }

    /// Makes the content durable and puts it in place of the target, which it returns.
    pub fn commit(self) -> std::io::Result<PathBuf> {
        let AtomicFile {
            out,
            mut temporary,
            path,
        } = self;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary.path, &path)?;
        temporary.renamed = true;
        // Where folders can be opened, syncing it makes the rename itself durable.
        if let Ok(folder) = File::open(folder_of(&path)) {
            let _ = folder.sync_all();
        }
        Ok(path)
    }
}

/// Replaces `path` with what `write` writes, whole or not at all; `io` turns a file error
/// into the caller's error type.
pub fn write_atomically<E>(
    path: &Path,
    io: impl Fn(std::io::Error) -> E,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    let mut file = AtomicFile::create(path).map_err(&io)?;
    write(file.writer())?;
    file.commit().map(|_| ()).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_is_replaced_whole_and_a_failed_write_leaves_the_old_one_and_no_litter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let failed: Result<(), String> = write_atomically(
            &path,
            |e| e.to_string(),
            |w| {
                w.write_all(b"half").map_err(|e| e.to_string())?;
                Err("disk on fire".to_string())
            },
        );
        assert_eq!(failed, Err("disk on fire".to_string()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(entries(dir.path()), ["out.txt"]);

        write_atomically(&path, |e| e, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(entries(dir.path()), ["out.txt"]);
    }

    #[test]
    fn two_writers_of_one_file_do_not_share_a_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        let mut a = AtomicFile::create(&path).unwrap();
        let mut b = AtomicFile::create(&path).unwrap();
        a.writer().write_all(b"a").unwrap();
        b.writer().write_all(b"b").unwrap();
        a.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a");
        drop(b);
        assert_eq!(entries(&dir.path().join("sub")), ["out.txt"]);
    }
}
