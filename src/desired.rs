//! The desired-state file: CSV (UTF-8, optional BOM, `,` or `;`) or `.xlsx`.
//!
//! Every row is validated offline; row problems become `Invalid` rows carrying the line
//! and field, whole-file problems (unreadable, empty, missing column) are a `FileError`.
//! Cross-row checks (duplicates, self-pointing after resolution) live in `plan`.

use crate::ids::{IdKind, WebexId};
use crate::phone;
use crate::wire::Selected;
use std::path::{Path, PathBuf};

/// Longest cell excerpt quoted back in a message (cells may be megabytes long).
const QUOTE_MAX: usize = 60;

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
    MissingColumn {
        path: String,
        column: &'static str,
        header: String,
    },
    #[error("{path}:{line}: {message}")]
    Malformed {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Spreadsheet { path: String, message: String },
}

/// Whom a row is about, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRef {
    Id(WebexId),
    Email(String),
}

/// The LOCATION_MEMBER_NUMBER target, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef {
    Id(WebexId),
    Email(String),
    /// Normalised `+E.164`.
    Phone(String),
}

/// A row that passed the offline checks. `person_id`/`target_id` are set at once for IDs
/// and by resolution for emails and phone numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub person: PersonRef,
    pub person_id: Option<String>,
    pub selected: Selected,
    pub target: Option<TargetRef>,
    pub target_id: Option<String>,
}

impl Desired {
    /// UUID of the person, once known.
    pub fn person_uuid(&self) -> Option<String> {
        match &self.person {
            // `person_id` is the cell itself: no second decode
            PersonRef::Id(id) => Some(id.uuid.clone()),
            PersonRef::Email(_) => self.person_id.as_deref().and_then(WebexId::decode).map(|i| i.uuid),
        }
    }
    pub fn target_uuid(&self) -> Option<String> {
        self.target_id.as_deref().and_then(WebexId::decode).map(|i| i.uuid)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowStatus {
    Valid(Desired),
    /// The file is wrong: exit 65 unless --skip-invalid.
    Invalid(String),
    /// Sound, but a look-up needed to resolve it failed (the API, not the file): the
    /// row is reported `failed`.
    Unresolved(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Physical line (CSV) or sheet row number (xlsx) where the record starts.
    pub line: usize,
    pub person_raw: String,
    pub selected_raw: String,
    pub target_raw: String,
    pub status: RowStatus,
}

impl Row {
    pub fn desired(&self) -> Option<&Desired> {
        match &self.status {
            RowStatus::Valid(d) => Some(d),
            RowStatus::Invalid(_) | RowStatus::Unresolved(_) => None,
        }
    }
    pub fn is_valid(&self) -> bool {
        self.desired().is_some()
    }
    /// Free the row's text once its report line is written.
    pub fn release(&mut self) {
        self.person_raw = String::new();
        self.selected_raw = String::new();
        self.target_raw = String::new();
        self.status = RowStatus::Invalid(String::new());
    }

    /// Mark invalid, keeping the first reason when several checks object.
    pub fn invalidate(&mut self, message: String) {
        if self.is_valid() {
            self.status = RowStatus::Invalid(message);
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub default_country: crate::phone::Country,
    pub sheet: Option<String>,
    /// Read only the `person` column (`export --people`): other columns are neither
    /// required nor checked, and valid rows carry `selected` = NONE.
    pub person_only: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            default_country: crate::phone::Country::default(),
            sheet: None,
            person_only: false,
        }
    }
}

#[derive(Debug)]
pub struct DesiredFile {
    pub path: PathBuf,
    pub rows: Vec<Row>,
}

impl DesiredFile {
    pub fn invalid_count(&self) -> usize {
        self.rows.iter().filter(|r| !r.is_valid()).count()
    }
}

/// Columns found in the header.
struct Columns {
    person: usize,
    selected: usize,
    target: Option<usize>,
    width: usize,
}

fn find_columns(path: &str, header: &[String], person_only: bool) -> Result<Columns, FileError> {
    let norm: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let pos = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| norm.iter().position(|h| h == n))
    };
    let shown = header.join(",");
    let shown = truncate(&shown);
    let missing = |column| FileError::MissingColumn {
        path: path.to_string(),
        column,
        header: shown.clone(),
    };
    Ok(Columns {
        person: pos(&["person", "personid", "email"]).ok_or_else(|| missing("person"))?,
        selected: match pos(&["selected"]) {
            Some(i) => i,
            // never read when only people are wanted
            None if person_only => usize::MAX,
            None => return Err(missing("selected")),
        },
        target: pos(&["location_member", "locationmemberid"]),
        width: header.len(),
    })
}

/// Read and validate a desired-state file into memory.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<DesiredFile, FileError> {
    let mut rows = Vec::new();
    stream(path, opts, |r| rows.push(r))?;
    Ok(DesiredFile {
        path: path.to_path_buf(),
        rows,
    })
}

fn is_sheet(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "ods")
}

/// Validate the file row by row, handing each row to `f` in file order, without
/// holding the file in memory (CSV; a sheet is read whole by calamine). Returns the
/// number of rows.
pub fn stream(path: &Path, opts: &ReadOptions, f: impl FnMut(Row)) -> Result<usize, FileError> {
    let shown = path.display().to_string();
    if is_sheet(path) {
        return read_sheet(path, &shown, opts, f);
    }
    let file = std::fs::File::open(path).map_err(|source| FileError::Io {
        path: shown.clone(),
        source,
    })?;
    stream_csv(std::io::BufReader::with_capacity(64 << 10, file), &shown, opts, f)
}

/// Rows of CSV bytes (tests, small inputs).
pub fn read_csv_bytes(bytes: &[u8], path: &str, opts: &ReadOptions) -> Result<Vec<Row>, FileError> {
    let mut rows = Vec::new();
    stream_csv(bytes, path, opts, |r| rows.push(r))?;
    Ok(rows)
}

/// `,` or `;`: whichever the header line uses more (quoted text aside).
fn detect_delimiter(bytes: &[u8]) -> u8 {
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

/// A reader that strips a BOM, lets the first line be inspected before parsing, and
/// records where line breaks are, so records get the physical line an editor shows
/// (the csv crate's own counter skips blank lines).
struct Tracked<R> {
    inner: R,
    prefix: Vec<u8>,
    prefix_pos: usize,
    offset: u64,
    breaks: std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<(u64, u8)>>>,
}

impl<R: std::io::Read> Tracked<R> {
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

impl<R: std::io::Read> std::io::Read for Tracked<R> {
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

fn stream_csv(reader: impl std::io::Read, path: &str, opts: &ReadOptions, mut f: impl FnMut(Row)) -> Result<usize, FileError> {
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
    let read = |rdr: &mut csv::Reader<_>, rec: &mut csv::ByteRecord| rdr.read_byte_record(rec).map_err(|e| csv_error(path, e));
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
    let cols = find_columns(path, &header, opts.person_only)?;
    let (mut line, mut rows) = (1usize, 0usize);
    while read(&mut rdr, &mut rec)? {
        // lines = line breaks before the record's first byte, blank lines included
        let start = rec.position().map(|p| p.byte()).unwrap_or(0);
        {
            let mut q = breaks.borrow_mut();
            let mut cur = start;
            while let Some(&(at, b)) = q.front() {
                if at < start || at == cur {
                    q.pop_front();
                    // \n, \r\n and a lone \r (as editors do) each end one line
                    let crlf = b == b'\r' && q.front().is_some_and(|&(n, nb)| n == at + 1 && nb == b'\n');
                    line += !crlf as usize;
                    if at == cur {
                        cur += 1;
                    }
                } else {
                    break;
                }
            }
        }
        let cells: Result<Vec<&str>, _> = rec.iter().map(std::str::from_utf8).collect();
        let row = match cells {
            Err(_) => raw_invalid(line, "undecodable bytes (the file must be UTF-8)".into()),
            Ok(cells) if cells.iter().all(|c| c.trim().is_empty()) => continue, // blank line
            Ok(cells) if cells.len() != cols.width => {
                let mut r = build_row(line, &cells, &cols, opts);
                r.status = RowStatus::Invalid(format!(
                    "ragged row: {} fields where the header has {}",
                    cells.len(),
                    cols.width
                ));
                r
            }
            Ok(cells) => build_row(line, &cells, &cols, opts),
        };
        rows += 1;
        f(row);
    }
    if rows == 0 {
        return Err(FileError::HeaderOnly { path: path.into() });
    }
    Ok(rows)
}

fn csv_error(path: &str, e: csv::Error) -> FileError {
    let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
    FileError::Malformed {
        path: path.into(),
        line,
        message: format!("unreadable CSV: {e}"),
    }
}

fn raw_invalid(line: usize, message: String) -> Row {
    Row {
        line,
        person_raw: String::new(),
        selected_raw: String::new(),
        target_raw: String::new(),
        status: RowStatus::Invalid(message),
    }
}

fn read_sheet(path: &Path, shown: &str, opts: &ReadOptions, mut f: impl FnMut(Row)) -> Result<usize, FileError> {
    use calamine::{Data, Reader, open_workbook_auto};
    let err = |message: String| FileError::Spreadsheet {
        path: shown.into(),
        message,
    };
    let mut wb = open_workbook_auto(path).map_err(|e| err(format!("cannot open spreadsheet: {e}")))?;
    let names = wb.sheet_names().to_vec();
    let name = match &opts.sheet {
        Some(s) => names
            .iter()
            .find(|n| *n == s)
            .cloned()
            .ok_or_else(|| err(format!("no sheet named `{s}` (sheets: {})", names.join(", "))))?,
        None => names.first().cloned().ok_or_else(|| err("the workbook has no sheet".into()))?,
    };
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| err(format!("cannot read sheet `{name}`: {e}")))?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let cell = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            // phone numbers typed into a cell become floats: show them as typed
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
            Data::Int(i) => i.to_string(),
            other => other.to_string(),
        }
    };
    let mut it = range.rows().enumerate();
    let header: Vec<String> = match it.next() {
        Some((_, r)) => r.iter().map(cell).collect(),
        None => return Err(FileError::Empty { path: shown.into() }),
    };
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(FileError::Empty { path: shown.into() });
    }
    let cols = find_columns(shown, &header, opts.person_only)?;
    let mut rows = 0usize;
    for (i, r) in it {
        let cells: Vec<String> = r.iter().map(cell).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        // the row number the spreadsheet shows (1-based, counting from the sheet top)
        f(build_row(first_row + i + 1, &refs, &cols, opts));
        rows += 1;
    }
    if rows == 0 {
        return Err(FileError::HeaderOnly { path: shown.into() });
    }
    Ok(rows)
}

/// Trim, and drop one leading `'` (the spreadsheet text marker).
fn clean(cell: &str) -> String {
    let t = cell.trim();
    t.strip_prefix('\'').unwrap_or(t).trim().to_string()
}

pub(crate) fn truncate(s: &str) -> String {
    if s.chars().count() <= QUOTE_MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(QUOTE_MAX).collect();
        format!("{head}…")
    }
}

pub fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    s.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',' || c == ';')
}

fn build_row(line: usize, cells: &[&str], cols: &Columns, opts: &ReadOptions) -> Row {
    let get = |i: usize| cells.get(i).map(|c| clean(c)).unwrap_or_default();
    let person_raw = get(cols.person);
    let selected_raw = get(cols.selected);
    let target_raw = cols.target.map(get).unwrap_or_default();
    let status = if opts.person_only {
        match parse_person(&person_raw) {
            Ok(person) => RowStatus::Valid(Desired {
                person_id: matches!(person, PersonRef::Id(_)).then(|| person_raw.clone()),
                person,
                selected: Selected::None,
                target: None,
                target_id: None,
            }),
            Err(e) => RowStatus::Invalid(format!("person: {e}")),
        }
    } else {
        match validate(&person_raw, &selected_raw, &target_raw, cols.target.is_some(), opts) {
            Ok(d) => RowStatus::Valid(d),
            Err(errors) => RowStatus::Invalid(errors.join("; ")),
        }
    };
    Row {
        line,
        person_raw,
        selected_raw,
        target_raw,
        status,
    }
}

fn validate(
    person_raw: &str,
    selected_raw: &str,
    target_raw: &str,
    has_target_column: bool,
    opts: &ReadOptions,
) -> Result<Desired, Vec<String>> {
    let mut errors = Vec::new();
    let person = parse_person(person_raw).map_err(|e| errors.push(format!("person: {e}"))).ok();
    let selected = match Selected::parse(selected_raw) {
        Some(Selected::None) => {
            errors.push("selected: NONE cannot be set; choose a value (DIRECT_LINE, LOCATION_ECBN or LOCATION_MEMBER_NUMBER)".into());
            None
        }
        Some(s) => Some(s),
        None if selected_raw.is_empty() => {
            errors.push("selected: empty (expected DIRECT_LINE, LOCATION_ECBN or LOCATION_MEMBER_NUMBER)".into());
            None
        }
        None => {
            errors.push(format!(
                "selected: unknown value `{}` (expected DIRECT_LINE, LOCATION_ECBN or LOCATION_MEMBER_NUMBER)",
                truncate(selected_raw)
            ));
            None
        }
    };
    let mut target = None;
    match selected {
        Some(Selected::LocationMemberNumber) if target_raw.is_empty() => {
            let why = if has_target_column { "" } else { " (the file has no location_member column)" };
            errors.push(format!("location_member: required when selected is LOCATION_MEMBER_NUMBER{why}"));
        }
        Some(Selected::LocationMemberNumber) => match parse_target(target_raw, opts.default_country) {
            Ok(t) => target = Some(t),
            Err(e) => errors.push(format!("location_member: {e}")),
        },
        Some(_) if !target_raw.is_empty() => errors.push(format!(
            "location_member: must be empty unless selected is LOCATION_MEMBER_NUMBER (found `{}`)",
            truncate(target_raw)
        )),
        _ => {}
    }
    if let (Some(p), Some(t)) = (&person, &target) {
        let same = match (p, t) {
            (PersonRef::Id(a), TargetRef::Id(b)) => a.uuid == b.uuid,
            (PersonRef::Email(a), TargetRef::Email(b)) => a == b,
            _ => false,
        };
        if same {
            errors.push("location_member: the row points at its own person".into());
        }
    }
    match (person, selected) {
        (Some(person), Some(selected)) if errors.is_empty() => {
            let person_id = match &person {
                PersonRef::Id(_) => Some(person_raw.to_string()),
                PersonRef::Email(_) => None,
            };
            let target_id = match &target {
                Some(TargetRef::Id(_)) => Some(target_raw.to_string()),
                _ => None,
            };
            Ok(Desired {
                person,
                person_id,
                selected,
                target,
                target_id,
            })
        }
        _ => Err(errors),
    }
}

fn parse_person(raw: &str) -> Result<PersonRef, String> {
    if raw.is_empty() {
        return Err("empty (expected a Webex person ID or an email address)".into());
    }
    if raw.contains('@') {
        return if is_email(raw) {
            Ok(PersonRef::Email(raw.to_lowercase()))
        } else {
            Err(format!("`{}` is not a valid email address", truncate(raw)))
        };
    }
    match WebexId::decode(raw) {
        Some(id) if id.kind == IdKind::People => Ok(PersonRef::Id(id)),
        Some(id) => Err(format!(
            "`{}` is a {} ID: people only (workspaces, virtual lines and others are not handled)",
            truncate(raw),
            id.kind.as_str()
        )),
        None => Err(format!(
            "`{}` is neither an email address nor a decodable Webex person ID",
            truncate(raw)
        )),
    }
}

fn parse_target(raw: &str, default_country: crate::phone::Country) -> Result<TargetRef, String> {
    if raw.contains('@') {
        return if is_email(raw) {
            Ok(TargetRef::Email(raw.to_lowercase()))
        } else {
            Err(format!("`{}` is not a valid email address", truncate(raw)))
        };
    }
    if let Some(id) = WebexId::decode(raw) {
        return if id.kind.is_member() {
            Ok(TargetRef::Id(id))
        } else {
            Err(format!(
                "`{}` is a {} ID, not a member (person, workspace, virtual line or hunt group)",
                truncate(raw),
                id.kind.as_str()
            ))
        };
    }
    if phone::looks_like_phone(raw) {
        return phone::normalize(raw, default_country).map(TargetRef::Phone).ok_or_else(|| {
            format!(
                "`{}` is not a complete phone number (write it with + and the country code, or set default_country; now `{default_country}`)",
                truncate(raw)
            )
        });
    }
    Err(format!(
        "`{}` is neither a member ID, an email address nor a phone number",
        truncate(raw)
    ))
}

#[cfg(test)]
mod tests;
