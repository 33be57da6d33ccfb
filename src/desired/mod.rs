//! The desired-state file: CSV (UTF-8, optional BOM, `,` or `;`) or a spreadsheet.
//!
//! The readers (`csv`, `sheet`) turn the file into records with the line an editor
//! shows; `parse` turns a record's cells into a typed row. Whole-file problems
//! (unreadable, empty, missing column) are a [`FileError`]; a bad row is a row whose
//! stage is an error, so every bad row of a file is reported at once. Cross-row checks
//! (duplicates, self-pointing) live in `plan`.

mod columns;
mod csv;
mod parse;
mod sheet;

pub(crate) use columns::DesiredColumn;

use crate::phone::Country;
use crate::row::{Cells, Named, Parsed, Row, RowError, RowErrors, Rows, Trail, Written};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    Empty { path: String },
    #[error("{path}: the file has a header but no rows")]
    HeaderOnly { path: String },
    #[error("{path}:1: missing required column `{column}` (header: {header})")]
    MissingColumn { path: String, column: &'static str, header: String },
    #[error("{path}:{line}: {message}")]
    Malformed { path: String, line: u64, message: String },
    #[error("{path}: {message}")]
    Spreadsheet { path: String, message: String },
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ReadOptions {
    pub(crate) default_country: Country,
    pub(crate) sheet: Option<String>,
}

/// One record of the file: where it starts, its cells, and a defect of the record
/// itself (ragged, undecodable) that makes its cells meaningless.
struct Record {
    line: u32,
    written: Cells,
    defect: Option<RowError>,
}

/// Which columns a reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// `member`, `selected` and (when present) `location_member`.
    Desired,
    /// Only `member` (`export --people`).
    Members,
}

/// Where the columns are, from the header.
struct Columns {
    member: usize,
    selected: Option<usize>,
    target: Option<usize>,
    kind: Option<usize>,
    width: usize,
}

/// Read and validate the whole file (`plan`, `apply`).
pub(crate) fn read(path: &Path, opts: &ReadOptions) -> Result<Rows<Row<Parsed>>, FileError> {
    let mut rows = Rows::default();
    stream(path, opts, |r| rows.push(r))?;
    Ok(rows)
}

/// Validate the file row by row, in file order, without holding it in memory (a
/// spreadsheet is read whole by calamine). Returns the number of rows.
pub(crate) fn stream(path: &Path, opts: &ReadOptions, mut f: impl FnMut(Row<Parsed>)) -> Result<usize, FileError> {
    records(path, opts, Need::Desired, |cols, rec| f(desired_row(cols, rec, opts.default_country)))
}

fn desired_row(cols: &Columns, rec: Record, country: Country) -> Row<Parsed> {
    let stage = match rec.defect {
        Some(e) => Err(RowErrors(vec![e])),
        None => parse::desired(&rec.written, cols.target.is_some(), country),
    };
    let written = Written::of(rec.written, stage.as_ref().ok());
    row(rec.line, written, stage)
}

/// Only the members of the file's `member` column (`export --people`).
pub(crate) fn read_members(path: &Path, opts: &ReadOptions) -> Result<Vec<Row<Result<Named, RowErrors>>>, FileError> {
    let mut rows = Vec::new();
    records(path, opts, Need::Members, |_, rec| {
        let stage = match rec.defect {
            Some(e) => Err(RowErrors(vec![e])),
            None => parse::member(&rec.written),
        };
        rows.push(row(rec.line, Written::Kept(Box::new(rec.written)), stage))
    })?;
    Ok(rows)
}

fn row<S>(line: u32, written: Written, stage: S) -> Row<S> {
    Row { line, written, trail: Trail::default(), stage }
}

fn records(path: &Path, opts: &ReadOptions, need: Need, f: impl FnMut(&Columns, Record)) -> Result<usize, FileError> {
    let shown = path.display().to_string();
    if is_sheet(path) {
        return sheet::records(path, &shown, opts.sheet.as_deref(), need, f);
    }
    let file = std::fs::File::open(path).map_err(|source| FileError::Io { path: shown.clone(), source })?;
    csv::records(std::io::BufReader::with_capacity(64 << 10, file), &shown, need, f)
}

fn is_sheet(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods")
}

fn find_columns(path: &str, header: &[String], need: Need) -> Result<Columns, FileError> {
    let norm: Vec<String> =
        header.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    let pos = |names: &[&str]| names.iter().find_map(|n| norm.iter().position(|h| h == n));
    let missing = |column| FileError::MissingColumn {
        path: path.to_string(),
        column,
        header: crate::row::excerpt(&header.join(",")).into(),
    };
    let find = |c: DesiredColumn| pos(c.names());
    let member = find(DesiredColumn::Member).ok_or_else(|| missing(DesiredColumn::Member.name()))?;
    let selected = find(DesiredColumn::Selected);
    if selected.is_none() && need == Need::Desired {
        return Err(missing(DesiredColumn::Selected.name()));
    }
    Ok(Columns {
        member,
        selected,
        target: find(DesiredColumn::LocationMember),
        kind: find(DesiredColumn::Kind),
        width: header.len(),
    })
}

/// The cells of a record, trimmed and without the spreadsheet text marker.
fn written(cells: &[&str], cols: &Columns) -> Cells {
    let get = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| parse::clean(c)).unwrap_or_default();
    Cells::new(get(Some(cols.member)), get(cols.selected), get(cols.target), get(cols.kind))
}

/// Rows of CSV bytes (tests).
#[cfg(test)]
fn read_csv_bytes(bytes: &[u8], path: &str, opts: &ReadOptions) -> Result<Vec<Row<Parsed>>, FileError> {
    let mut rows = Vec::new();
    csv::records(bytes, path, Need::Desired, |cols, rec| rows.push(desired_row(cols, rec, opts.default_country)))?;
    Ok(rows)
}

#[cfg(test)]
pub(crate) fn rows_of(text: &str) -> Vec<Row<Parsed>> {
    read_csv_bytes(text.as_bytes(), "t.csv", &ReadOptions::default()).expect("a readable file")
}

#[cfg(test)]
mod tests;
