//! CSV reading shared by the importers: line numbers, tolerant field counts, non-UTF-8 repair.

use super::{Builder, ImportError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// One data row with the line it starts on.
pub(crate) struct Row {
    pub line: u64,
    pub record: csv::StringRecord,
}

impl Row {
    /// Field `i`, or `""` when the row is shorter.
    pub fn get(&self, i: usize) -> &str {
        self.record.get(i).unwrap_or("")
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.record.len()
    }
}

/// A CSV file read row by row.
pub(crate) struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<File>,
    record: csv::ByteRecord,
    /// Size of the file in bytes.
    len: u64,
    /// Column names of the first line.
    pub header: Vec<String>,
}

fn open_file(path: &Path) -> Result<(File, u64), ImportError> {
    let file = File::open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ImportError::NotFound(path.to_path_buf()),
        _ => ImportError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    let len = file
        .metadata()
        .map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    if len == 0 {
        return Err(ImportError::Empty(path.to_path_buf()));
    }
    Ok((file, len))
}

fn csv_error(path: &Path, error: csv::Error) -> ImportError {
    let line = error.position().map(|p| p.line()).unwrap_or(0);
    match error.into_kind() {
        csv::ErrorKind::Io(source) => ImportError::Io {
            path: path.to_path_buf(),
            source,
        },
        other => ImportError::Csv {
            path: path.to_path_buf(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// The column names of a CSV file.
pub(crate) fn header(path: &Path) -> Result<Vec<String>, ImportError> {
    Ok(CsvRows::open(path)?.header)
}

impl CsvRows {
    /// Opens `path` and reads its header line.
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let (file, len) = open_file(path)?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(file);
        let header = reader
            .byte_headers()
            .map_err(|e| csv_error(path, e))?
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect::<Vec<_>>();
        if header.iter().all(String::is_empty) {
            return Err(ImportError::Empty(path.to_path_buf()));
        }
        Ok(CsvRows {
            path: path.to_path_buf(),
            reader,
            record: csv::ByteRecord::new(),
            len,
            header,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Position of column `name` in the header.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The next data row; blank lines are skipped, invalid UTF-8 is replaced with a warning.
    pub fn next_row(&mut self, builder: &mut Builder) -> Result<Option<Row>, ImportError> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.path, e))?;
            if !more {
                return Ok(None);
            }
            let line = self.record.position().map(|p| p.line()).unwrap_or(0);
            if self
                .record
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            let done = self.record.position().map_or(0, |p| p.byte());
            builder.row_read(&self.path, done, self.len)?;
            let record = match csv::StringRecord::from_byte_record(self.record.clone()) {
                Ok(record) => record,
                Err(_) => {
                    builder.warn(
                        &self.path,
                        Some(line),
                        "text is not valid UTF-8; invalid bytes replaced with U+FFFD",
                    );
                    self.record.iter().map(String::from_utf8_lossy).collect()
                }
            };
            return Ok(Some(Row { line, record }));
        }
    }
}
