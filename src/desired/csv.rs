//! The streamed CSV reader: records with the physical line an editor shows.

use super::{Columns, FileError, Need, Record, find_columns, written};
use crate::row::{Cells, Field, Problem, RowError};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;
use std::rc::Rc;

/// Hand every record of `reader` to `f`, in file order; returns how many there were.
pub(super) fn records(
    reader: impl Read,
    path: &str,
    need: Need,
    mut f: impl FnMut(&Columns, Record),
) -> Result<usize, FileError> {
    let src = Tracked::new(reader).map_err(|source| FileError::Io { path: path.into(), source })?;
    if src.prefix.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileError::Empty { path: path.into() });
    }
    let breaks = src.breaks.clone();
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(&src.prefix))
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(64 << 10)
        .from_reader(src);
    let mut rec = csv::ByteRecord::new();
    let read =
        |rdr: &mut csv::Reader<_>, rec: &mut csv::ByteRecord| rdr.read_byte_record(rec).map_err(|e| csv_error(path, e));
    if !read(&mut rdr, &mut rec)? {
        return Err(FileError::Empty { path: path.into() });
    }
    let header: Vec<String> = rec
        .iter()
        .map(|f| {
            std::str::from_utf8(f).map(str::to_string).map_err(|_| FileError::Malformed {
                path: path.into(),
                line: 1,
                message: "undecodable bytes in the header (the file must be UTF-8)".into(),
            })
        })
        .collect::<Result<_, _>>()?;
    let cols = find_columns(path, &header, need)?;
    let (mut line, mut count) = (1u64, 0usize);
    while read(&mut rdr, &mut rec)? {
        let start = rec.position().map(|p| p.byte()).unwrap_or(0);
        line += lines_before(&mut breaks.borrow_mut(), start);
        let line32 = u32::try_from(line).map_err(|_| FileError::Malformed {
            path: path.into(),
            line,
            message: "more lines than a desired file may have".into(),
        })?;
        let cells: Result<Vec<&str>, _> = rec.iter().map(std::str::from_utf8).collect();
        let record = match cells {
            Err(_) => Record { line: line32, written: Cells::default(), defect: Some(whole_row(Problem::NotUtf8)) },
            Ok(cells) if cells.iter().all(|c| c.trim().is_empty()) => continue, // a blank line
            Ok(cells) => Record {
                line: line32,
                written: written(&cells, &cols),
                defect: (cells.len() != cols.width)
                    .then(|| whole_row(Problem::Ragged { found: cells.len(), expected: cols.width })),
            },
        };
        count += 1;
        f(&cols, record);
    }
    if count == 0 {
        return Err(FileError::HeaderOnly { path: path.into() });
    }
    Ok(count)
}

fn whole_row(problem: Problem) -> RowError {
    RowError { field: Field::Row, problem }
}

/// The line breaks before a record's first byte, blank lines included: `\n`, `\r\n`
/// and a lone `\r` (as editors count them) each end one line.
fn lines_before(q: &mut VecDeque<(u64, u8)>, start: u64) -> u64 {
    let (mut lines, mut cur) = (0, start);
    while let Some(&(at, b)) = q.front() {
        if at >= start && at != cur {
            break;
        }
        q.pop_front();
        let crlf = b == b'\r' && q.front().is_some_and(|&(n, nb)| n == at + 1 && nb == b'\n');
        lines += u64::from(!crlf);
        if at == cur {
            cur += 1;
        }
    }
    lines
}

/// `,` or `;`: whichever the header line uses more (quoted text aside).
pub(super) fn detect_delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for &b in first {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semis += 1,
            _ => {}
        }
    }
    if semis > commas { b';' } else { b',' }
}

fn csv_error(path: &str, e: csv::Error) -> FileError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    FileError::Malformed { path: path.into(), line, message: format!("unreadable CSV: {e}") }
}

/// A reader that strips a BOM, lets the first line be inspected before parsing, and
/// records where line breaks are, so records get the physical line an editor shows
/// (the csv crate's own counter skips blank lines).
struct Tracked<R> {
    inner: R,
    prefix: Vec<u8>,
    prefix_pos: usize,
    offset: u64,
    breaks: Rc<RefCell<VecDeque<(u64, u8)>>>,
}

impl<R: Read> Tracked<R> {
    fn new(mut inner: R) -> std::io::Result<Tracked<R>> {
        let mut prefix = Vec::new();
        let mut chunk = [0u8; 8192];
        while !prefix.contains(&b'\n') && prefix.len() < (1 << 20) {
            let n = inner.read(&mut chunk)?;
            if n == 0 {
                break;
            }
            prefix.extend_from_slice(&chunk[..n]);
        }
        if prefix.starts_with(b"\xEF\xBB\xBF") {
            prefix.drain(..3);
        }
        Ok(Tracked { inner, prefix, prefix_pos: 0, offset: 0, breaks: Default::default() })
    }
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if self.prefix_pos < self.prefix.len() {
            let n = buf.len().min(self.prefix.len() - self.prefix_pos);
            buf[..n].copy_from_slice(&self.prefix[self.prefix_pos..self.prefix_pos + n]);
            self.prefix_pos += n;
            n
        } else {
            self.inner.read(buf)?
        };
        let mut q = self.breaks.borrow_mut();
        for j in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            q.push_back((self.offset + j as u64, buf[j]));
        }
        self.offset += n as u64;
        Ok(n)
    }
}
