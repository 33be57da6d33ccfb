//! Spreadsheets (`.xlsx` and the formats calamine reads): records with the row number
//! the sheet shows.

use super::{Columns, FileError, Need, Record, find_columns, written};
use calamine::{Data, Reader, open_workbook_auto};
use std::path::Path;

pub(super) fn records(
    path: &Path,
    shown: &str,
    sheet: Option<&str>,
    need: Need,
    mut f: impl FnMut(&Columns, Record),
) -> Result<usize, FileError> {
    let err = |message: String| FileError::Spreadsheet { path: shown.into(), message };
    let mut wb = open_workbook_auto(path).map_err(|e| err(format!("cannot open spreadsheet: {e}")))?;
    let names = wb.sheet_names().to_vec();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| *n == s)
            .cloned()
            .ok_or_else(|| err(format!("no sheet named `{s}` (sheets: {})", names.join(", "))))?,
        None => names.first().cloned().ok_or_else(|| err("the workbook has no sheet".into()))?,
    };
    let range = wb.worksheet_range(&name).map_err(|e| err(format!("cannot read sheet `{name}`: {e}")))?;
    let first_row = range.start().map(|(r, _)| r).unwrap_or(0);
    let mut it = range.rows().enumerate();
    let header: Vec<String> = match it.next() {
        Some((_, r)) => r.iter().map(cell).collect(),
        None => return Err(FileError::Empty { path: shown.into() }),
    };
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(FileError::Empty { path: shown.into() });
    }
    let cols = find_columns(shown, &header, need)?;
    let mut count = 0usize;
    for (i, r) in it {
        let cells: Vec<String> = r.iter().map(cell).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        // the row number the spreadsheet shows (1-based, counting from the sheet top)
        let line = first_row.saturating_add(i as u32).saturating_add(1);
        f(&cols, Record { line, written: written(&refs, &cols), defect: None });
        count += 1;
    }
    if count == 0 {
        return Err(FileError::HeaderOnly { path: shown.into() });
    }
    Ok(count)
}

/// A cell as its text; a number typed into a cell (a phone number, often) as typed.
fn cell(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string(),
    }
}
