//! CSV reading shared by the importers: line numbers, tolerant field counts, non-UTF-8 repair,
//! UTF-16 detection, and recovery from an unbalanced quote.
//!
//! An unbalanced quote opens a field that runs on until the next quote of the file, swallowing
//! the rows between into one cell. A quoted field that spans lines is taken for such a runaway
//! when one of its lines after the first reads as a row (it has as many commas as the header
//! has columns, less one) or when the record ends with more fields than the header has columns.
//! Then the quote is taken for a stray character: the row where it opened is read to the end of
//! that line (the quote dropped, the rest of the line split at its commas), a warning names the
//! line and how many lines the field spanned, and reading resumes on the next line, so the
//! swallowed rows are read as rows.
//!
//! Line numbers are counted here, not taken from the csv crate, whose count sees only `\n`
//! (every warning of a CR-only file said line 1) and, in a CRLF file, counts a line's end only
//! when the next record is read (every warning was a line early). A line ends at `\n`, `\r\n`
//! or a lone `\r`, as the csv crate splits records.

use super::{Builder, ImportError};
use crate::catalog::text::excerpt;
use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};
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

/// Whether `byte` ends a line (alone, or `\r` followed by `\n`).
fn is_line_end(byte: u8) -> bool {
    byte == b'\r' || byte == b'\n'
}

/// Number of line ends in `bytes`, a `\r\n` counting once.
fn line_ends(bytes: &[u8]) -> u64 {
    let mut count = 0;
    let mut after_cr = false;
    for &b in bytes {
        if b == b'\r' || (b == b'\n' && !after_cr) {
            count += 1;
        }
        after_cr = b == b'\r';
    }
    count
}

/// The lines of `bytes`, split at `\n`, `\r\n` or `\r` (a `\r\n` gives an empty piece too).
fn split_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|&b| is_line_end(b))
}

/// Line bookkeeping, reading the file a second time through its own handle, behind the csv
/// reader.
struct Lines {
    file: std::io::BufReader<File>,
    /// Bytes of the file counted so far.
    byte: u64,
    /// 1-based line at `byte`.
    line: u64,
    /// Whether the byte before `byte` is `\r`.
    after_cr: bool,
}

impl Lines {
    fn new(file: File) -> Self {
        Lines {
            file: std::io::BufReader::new(file),
            byte: 0,
            line: 1,
            after_cr: false,
        }
    }

    /// Where a record whose csv position is `byte` starts: its line and its first byte. The
    /// position may point at line ends before the record (the `\n` of a CRLF, blank lines),
    /// which the csv crate skips; so are they here. Positions only move forward.
    fn record_start(&mut self, byte: u64) -> std::io::Result<(u64, u64)> {
        loop {
            let buf = self.file.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            // Every byte before the position counts, then the line ends at it.
            let before = usize::try_from(byte.saturating_sub(self.byte))
                .map_or(buf.len(), |n| n.min(buf.len()));
            let used = before
                + buf[before..]
                    .iter()
                    .take_while(|&&b| is_line_end(b))
                    .count();
            let (line, after_cr) = count_lines(&buf[..used], self.after_cr);
            self.line += line;
            self.after_cr = after_cr;
            let stopped = used < buf.len();
            self.file.consume(used);
            self.byte += used as u64;
            if stopped {
                break;
            }
        }
        Ok((self.line, self.byte))
    }
}

/// The line ends in `bytes` (`\n`, `\r\n` or `\r`; a `\n` right after a `\r`, also one
/// just before `bytes` when `after_cr`, ends no new line), and whether `bytes` ends in `\r`.
/// Only the line ends are looked at, found with `memchr`: this runs over the whole file.
fn count_lines(bytes: &[u8], after_cr: bool) -> (u64, bool) {
    let lines = memchr::memchr2_iter(b'\r', b'\n', bytes)
        .filter(|&i| {
            let previous_cr = if i == 0 {
                after_cr
            } else {
                bytes[i - 1] == b'\r'
            };
            bytes[i] == b'\r' || !previous_cr
        })
        .count() as u64;
    let ends_cr = bytes.last().map_or(after_cr, |&b| b == b'\r');
    (lines, ends_cr)
}

/// The first line of `reader` without its end, and the bytes it took with its end.
fn read_line(reader: &mut impl BufRead) -> std::io::Result<(Vec<u8>, u64)> {
    let mut line = Vec::new();
    let mut taken = 0u64;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok((line, taken));
        }
        match buf.iter().position(|&b| is_line_end(b)) {
            Some(i) => {
                let cr = buf[i] == b'\r';
                line.extend_from_slice(&buf[..i]);
                reader.consume(i + 1);
                taken += i as u64 + 1;
                if cr && reader.fill_buf()?.first() == Some(&b'\n') {
                    reader.consume(1);
                    taken += 1;
                }
                return Ok((line, taken));
            }
            None => {
                let n = buf.len();
                line.extend_from_slice(buf);
                reader.consume(n);
                taken += n as u64;
            }
        }
    }
}

/// A CSV file read row by row.
pub(crate) struct CsvRows {
    path: PathBuf,
    reader: csv::Reader<File>,
    lines: Lines,
    record: csv::ByteRecord,
    /// Size of the file in bytes.
    len: u64,
    /// Column names of the first line.
    pub header: Vec<String>,
    /// Per column, whether an earlier column has the same name (so it is not read).
    repeated: Vec<bool>,
    /// Warnings about the header not yet given to a [`Builder`].
    header_warnings: Vec<String>,
}

/// Marks the columns of `header` whose name an earlier column has, with a warning for each:
/// a column is found by its name, so only the first of a name is read. Unnamed columns are
/// not repeats of each other.
fn repeated_columns(header: &[String]) -> (Vec<bool>, Vec<String>) {
    let mut warnings = Vec::new();
    let repeated = header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let first = header[..i]
                .iter()
                .position(|h| h == name)
                .filter(|_| !name.is_empty());
            if let Some(first) = first {
                warnings.push(format!(
                    "column '{}' appears twice (columns {} and {}); the first is read, the \
                     values of column {} are ignored",
                    excerpt(name),
                    first + 1,
                    i + 1,
                    i + 1
                ));
            }
            first.is_some()
        })
        .collect();
    (repeated, warnings)
}

/// Bytes looked at to tell the encoding of a file.
const SNIFF_BYTES: usize = 512;

/// Opens the text file `path` (a catalogue, an edits file) after checking that it is a regular
/// file (a FIFO would block the open, a device would read without end) that is neither empty
/// nor UTF-16 encoded. Returns the file, positioned at its start, and its size.
pub fn open_file(path: &Path) -> Result<(File, u64), ImportError> {
    let io = |reason| ImportError::Io {
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|reason| match reason.kind() {
        std::io::ErrorKind::NotFound => ImportError::NotFound(path.to_path_buf()),
        _ => io(reason),
    })?;
    if !meta.is_file() {
        return Err(ImportError::NotAFile(path.to_path_buf()));
    }
    let mut file = File::open(path).map_err(io)?;
    let len = meta.len();
    if len == 0 {
        return Err(ImportError::Empty(path.to_path_buf()));
    }
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut file)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    // UTF-32 first: its byte order marks begin like UTF-16's.
    if is_utf32(&head) {
        return Err(ImportError::Utf32(path.to_path_buf()));
    }
    if is_utf16(&head) {
        return Err(ImportError::Utf16(path.to_path_buf()));
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok((file, len))
}

/// Whether `head`, the first bytes of a file, is UTF-32 text: it starts with a UTF-32 byte
/// order mark, or (without one) most groups of four bytes hold three NULs, as ASCII does.
fn is_utf32(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE, 0, 0]) || head.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return true;
    }
    let quads = head.len() / 4;
    let wide = |zeros: [usize; 3]| {
        head.chunks_exact(4)
            .filter(|q| zeros.iter().all(|&i| q[i] == 0) && q.iter().any(|&b| b != 0))
            .count()
    };
    quads >= 2 && (wide([1, 2, 3]) * 2 > quads || wide([0, 1, 2]) * 2 > quads)
}

/// Whether `head`, the first bytes of a file, is UTF-16 text: it starts with a UTF-16 byte
/// order mark, or (without one) every other byte is NUL, as in ASCII text written as UTF-16.
fn is_utf16(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let pairs = head.len() / 2;
    if pairs < 2 {
        return false;
    }
    let zeros = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    // Text other than ASCII has a few pairs with both bytes set; UTF-8 text has no NUL at all.
    (even * 2 >= pairs && odd * 8 < pairs) || (odd * 2 >= pairs && even * 8 < pairs)
}

fn csv_error(path: &Path, error: csv::Error) -> ImportError {
    let line = error.position().map(|p| p.line()).unwrap_or(0);
    match error.into_kind() {
        csv::ErrorKind::Io(reason) => ImportError::Io {
            path: path.to_path_buf(),
            reason,
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

/// The field of `record` that is a runaway quote (see the module documentation), if any;
/// `width` is the number of columns of the header.
fn runaway_field(record: &csv::ByteRecord, width: usize) -> Option<usize> {
    let mut multi_line = record
        .iter()
        .enumerate()
        .filter(|(_, f)| f.iter().any(|&b| is_line_end(b)));
    let (first, _) = multi_line.clone().next()?;
    let holds_rows = |field: &[u8]| {
        split_lines(field)
            .skip(1)
            .any(|line| width >= 2 && line.iter().filter(|&&b| b == b',').count() + 1 >= width)
    };
    match multi_line.find(|(_, f)| holds_rows(f)) {
        Some((i, _)) => Some(i),
        None => (record.len() > width).then_some(first),
    }
}

/// Line `line_bytes` (one physical line, without its end) read as a row whose field `field`
/// opens with an unbalanced quote: the fields before it as CSV, the rest of the line split at
/// its commas.
fn reread_line(line_bytes: &[u8], field: usize) -> csv::ByteRecord {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line_bytes);
    let mut record = csv::ByteRecord::new();
    if !matches!(reader.read_byte_record(&mut record), Ok(true)) {
        return csv::ByteRecord::new();
    }
    if record.len() != field + 1 {
        return record;
    }
    let mut repaired: csv::ByteRecord = record.iter().take(field).collect();
    for part in record.get(field).unwrap_or_default().split(|&b| b == b',') {
        repaired.push_field(part);
    }
    repaired
}

impl CsvRows {
    /// Opens `path` and reads its header line.
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let (file, len) = open_file(path)?;
        let again = File::open(path).map_err(|reason| ImportError::Io {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(file);
        // csv-core drops a UTF-8 byte order mark (as spreadsheets write) itself.
        let header = reader
            .byte_headers()
            .map_err(|e| csv_error(path, e))?
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect::<Vec<_>>();
        if header.iter().all(String::is_empty) {
            return Err(ImportError::Empty(path.to_path_buf()));
        }
        let (repeated, header_warnings) = repeated_columns(&header);
        Ok(CsvRows {
            path: path.to_path_buf(),
            repeated,
            header_warnings,
            reader,
            lines: Lines::new(again),
            record: csv::ByteRecord::new(),
            len,
            header,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether column `i` has the name of an earlier column, and so is not read.
    pub fn is_repeated(&self, i: usize) -> bool {
        self.repeated.get(i).copied().unwrap_or(false)
    }

    /// Position of column `name` in the header.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Replaces the record just read, whose field `field` is a runaway quote and which starts
    /// at byte `start` of the file, with its first line read on its own, and moves the reader
    /// to the line after it. Returns the number of lines the record spanned.
    fn recover_runaway(&mut self, field: usize, start: u64) -> Result<u64, ImportError> {
        let io = |reason| ImportError::Io {
            path: self.path.clone(),
            reason,
        };
        let position = self
            .record
            .position()
            .cloned()
            .unwrap_or_else(csv::Position::new);
        let inner: u64 = self.record.iter().map(line_ends).sum();
        // A quote left open to the end of the file holds the file's last line end too.
        let at_end = self
            .record
            .iter()
            .next_back()
            .is_some_and(|f| f.last().copied().is_some_and(is_line_end));
        let spanned = 1 + inner - u64::from(at_end);
        let file = self.reader.get_mut();
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let (line_bytes, taken) =
            read_line(&mut std::io::BufReader::new(&mut *file)).map_err(io)?;
        let mut next = csv::Position::new();
        next.set_byte(start + taken)
            .set_line(position.line() + 1)
            .set_record(position.record() + 1);
        self.reader
            .seek_raw(SeekFrom::Start(next.byte()), next)
            .map_err(|e| csv_error(&self.path, e))?;
        self.record = reread_line(&line_bytes, field);
        self.record.set_position(Some(position));
        Ok(spanned)
    }

    /// The next data row (the first call also gives the warnings about the header); blank
    /// lines are skipped, invalid UTF-8 is replaced with a warning, a runaway quote is
    /// recovered from with a warning.
    pub fn next_row(&mut self, builder: &mut Builder) -> Result<Option<Row>, ImportError> {
        for message in std::mem::take(&mut self.header_warnings) {
            builder.warn_kept(&self.path, Some(1), message);
        }
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| csv_error(&self.path, e))?;
            if !more {
                return Ok(None);
            }
            let position = self.record.position().map_or(0, |p| p.byte());
            let (line, start) =
                self.lines
                    .record_start(position)
                    .map_err(|reason| ImportError::Io {
                        path: self.path.clone(),
                        reason,
                    })?;
            if let Some(field) = runaway_field(&self.record, self.header.len()) {
                let spanned = self.recover_runaway(field, start)?;
                builder.warn_kept(
                    &self.path,
                    Some(line),
                    format!(
                        "unbalanced quote: a quoted field opened on this line runs over \
                         {spanned} lines and holds what look like rows; the quote was dropped, \
                         this row read to the end of its line, and the {} lines after it read \
                         as rows",
                        spanned - 1
                    ),
                );
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_is_told_from_utf8() {
        let le: Vec<u8> = "id,name\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let be: Vec<u8> = "id,name\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert!(is_utf16(&le) && is_utf16(&be));
        assert!(is_utf16(&[0xFF, 0xFE, b'i', 0]));
        assert!(!is_utf16("id,name,colour\nfé,x,y\n".as_bytes()));
        assert!(!is_utf16(b"\xEF\xBB\xBFid,name\n"));
        assert!(!is_utf16(b"i"));
    }

    #[test]
    fn utf32_is_told_from_utf16_and_utf8() {
        let le: Vec<u8> = "id,name\n"
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        let be: Vec<u8> = "id,name\n"
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        assert!(is_utf32(&le) && is_utf32(&be));
        assert!(is_utf32(&[0xFF, 0xFE, 0, 0, b'i', 0, 0, 0]));
        assert!(!is_utf32(&[0xFF, 0xFE, b'i', 0, b'd', 0]));
        let utf16: Vec<u8> = "id,name\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(!is_utf32(&utf16));
        assert!(!is_utf32("id,name,colour\nfé,x,y\n".as_bytes()));
    }

    #[test]
    fn a_runaway_is_a_multi_line_field_holding_rows() {
        let record = |fields: &[&str]| fields.iter().collect::<csv::ByteRecord>();
        assert_eq!(runaway_field(&record(&["p1", "Two\nlines", ""]), 3), None);
        assert_eq!(
            runaway_field(&record(&["p1", "Bad,x\np2,a,b\np3", ""]), 3),
            Some(1)
        );
        assert_eq!(
            runaway_field(&record(&["p1", "Bad\nname", "x", "y"]), 3),
            Some(1)
        );
        assert_eq!(
            reread_line(b"p1,\"ok, fine\",\"Bad name,,Red", 2),
            record(&["p1", "ok, fine", "Bad name", "", "Red"])
        );
    }
}
