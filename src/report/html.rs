//! `--html`: one self-contained page per run for people who will not open a 100,000-row
//! CSV — the summary, counts per action and kind (with a bar chart in inline SVG), counts
//! per location, every row that is not `in_sync` in a table that sorts and filters, and
//! the members whose callback number today is INVALID or none. No network, no external
//! file. The rows are streamed from the run's CSV report into a JSON block (so the run
//! holds none of them) and drawn by a few lines of inline script, with `textContent`
//! only; everything written as HTML is escaped.

use super::{Action, Column, Summary};
use crate::atomic::AtomicFile;
use crate::row::Concern;
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Counts per location name (the ECBN GET's `locationECBNInfo` name), per action.
pub(crate) type ByLocation = BTreeMap<Box<str>, BTreeMap<Action, u64>>;

/// The report columns the page shows, with their headings; the page's script finds
/// them by name.
const SHOWN: [(Column, &str); 11] = [
    (Column::Line, "line"),
    (Column::Member, "member"),
    (Column::Kind, "kind"),
    (Column::Action, "action"),
    (Column::CurrentSelected, "current"),
    (Column::DesiredSelected, "desired"),
    (Column::Message, "message"),
    (Column::CurrentEffectiveNumber, "number today"),
    (Column::CurrentEffectiveQuality, "quality today"),
    (Column::DesiredEffectiveNumber, "predicted number"),
    (Column::DesiredEffectiveQuality, "predicted quality"),
];

/// Write the page of a run to `path`, reading its rows back from the CSV report.
pub(crate) fn write(path: &Path, summary: &Summary, csv_report: &Path, locations: &ByLocation) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    {
        let mut out = BufWriter::new(&mut file);
        head(&mut out, summary)?;
        counts(&mut out, summary)?;
        by_location(&mut out, locations)?;
        out.write_all(BODY.as_bytes())?;
        rows(&mut out, csv_report)?;
        out.write_all(SCRIPT.as_bytes())?;
        out.flush()?;
    }
    file.commit()
}

fn head(out: &mut impl Write, s: &Summary) -> io::Result<()> {
    let title = format!("ecbn-sync {} {}", s.mode, s.started_at);
    write!(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")?;
    write!(out, "<meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>", esc(&title))?;
    write!(out, "<style>{STYLE}</style></head><body>\n<h1>{}</h1>\n", esc(&title))?;
    write!(out, "<p id=\"summary\">exit code <b id=\"exit\">{}</b> · {} rows · ", s.exit_code, s.rows)?;
    write!(out, "{} → {} ({:.1} s)", esc(&s.started_at), esc(&s.finished_at), s.duration_ms as f64 / 1000.0)?;
    write!(out, " · desired file <code>{}</code>", esc(&s.desired_file))?;
    if s.rerun_needed {
        write!(out, " · <b>rerun needed</b>: this run freed members the next one can write")?;
    }
    writeln!(out, "</p>\n<p>reports: {}</p>", s.report_files.iter().map(|f| code(f)).collect::<Vec<_>>().join(", "))
}

/// Counts per action (columns, the report's action names) and kind (rows), and a bar
/// per action.
fn counts(out: &mut impl Write, s: &Summary) -> io::Result<()> {
    let actions: Vec<(&str, u64)> = s.counts.iter().map(|(a, n)| (*a, *n)).collect();
    write!(out, "<h2>Counts</h2>\n<table id=\"counts\"><tr><th>kind</th>")?;
    for (a, _) in &actions {
        write!(out, "<th>{}</th>", esc(a))?;
    }
    writeln!(out, "</tr>")?;
    for (kind, by_action) in &s.counts_by_kind {
        write!(out, "<tr><th>{}</th>", esc(kind))?;
        for (a, _) in &actions {
            write!(out, "<td>{}</td>", by_action.get(a).copied().unwrap_or(0))?;
        }
        writeln!(out, "</tr>")?;
    }
    write!(out, "<tr class=\"total\"><th>all</th>")?;
    for (a, n) in &actions {
        write!(out, "<td data-action=\"{}\">{n}</td>", esc(a))?;
    }
    writeln!(out, "</tr></table>")?;
    bars(out, &actions)
}

/// A horizontal bar per action, in inline SVG.
fn bars(out: &mut impl Write, actions: &[(&str, u64)]) -> io::Result<()> {
    let max = actions.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let h = 22 * actions.len() + 4;
    write!(out, "<svg id=\"bars\" width=\"640\" height=\"{h}\" role=\"img\" aria-label=\"rows per action\">")?;
    for (i, (a, n)) in actions.iter().enumerate() {
        let y = 22 * i + 2;
        let w = (*n as f64 / max as f64 * 400.0).round();
        write!(
            out,
            "<text x=\"0\" y=\"{}\">{}</text><rect class=\"{}\" x=\"190\" y=\"{y}\" width=\"{w}\" height=\"18\"/><text x=\"{}\" y=\"{}\">{n}</text>",
            y + 14,
            esc(a),
            esc(a),
            196.0 + w,
            y + 14
        )?;
    }
    writeln!(out, "</svg>")
}

fn by_location(out: &mut impl Write, locations: &ByLocation) -> io::Result<()> {
    let actions: Vec<Action> =
        Action::RUN.into_iter().filter(|a| locations.values().any(|m| m.get(a).is_some_and(|n| *n > 0))).collect();
    write!(out, "<h2>Per location</h2>\n<table id=\"locations\"><tr><th>location</th>")?;
    for a in &actions {
        write!(out, "<th>{}</th>", a.as_str())?;
    }
    writeln!(out, "</tr>")?;
    for (loc, m) in locations {
        write!(out, "<tr><th>{}</th>", esc(loc))?;
        for a in &actions {
            write!(out, "<td>{}</td>", m.get(a).copied().unwrap_or(0))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table>")
}

/// The rows as one JSON array: every row that is not `in_sync`, and in-sync rows whose
/// callback number today is INVALID or none (flagged in a last field), streamed from
/// the CSV report. `<` is written as `\u003c` so no cell can close the script block.
fn rows(out: &mut impl Write, csv_report: &Path) -> io::Result<()> {
    let mut rdr = csv::Reader::from_path(csv_report)?;
    let headers = rdr.headers()?.clone();
    let col = |c: Column| headers.iter().position(|h| h == c.name());
    let cols: Vec<Option<usize>> = SHOWN.iter().map(|(c, _)| col(*c)).collect();
    let action = col(Column::Action);
    let (number, quality) = (col(Column::CurrentEffectiveNumber), col(Column::CurrentEffectiveQuality));
    let current = col(Column::CurrentSelected);
    // the columns by name and heading, for the script; a row's last field is the flag
    let names: Vec<[&str; 2]> = SHOWN.iter().map(|(c, heading)| [c.name(), *heading]).collect();
    let names = serde_json::to_string(&names).map_err(io::Error::other)?.replace('<', "\\u003c");
    writeln!(out, "<script type=\"application/json\" id=\"columns\">{names}</script>")?;
    write!(out, "<script type=\"application/json\" id=\"data\">[")?;
    let mut first = true;
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        // the rows' own rule: a read row's empty number is no number at all
        let none = !get(current).is_empty() && get(number).is_empty();
        let bad_callback = matches!(Concern::of(none, get(quality)), Some(Concern::NoNumber | Concern::Invalid));
        if get(action) == Action::InSync.as_str() && !bad_callback {
            continue;
        }
        let mut cells: Vec<serde_json::Value> = cols.iter().map(|&i| get(i).into()).collect();
        cells.push(u8::from(bad_callback).into());
        let json = serde_json::to_string(&cells).map_err(io::Error::other)?.replace('<', "\\u003c");
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        out.write_all(json.as_bytes())?;
    }
    writeln!(out, "]</script>")
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn code(s: &str) -> String {
    format!("<code>{}</code>", esc(s))
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}\
td.member{word-break:break-all;min-width:14em;max-width:24em}td.message{min-width:16em}\
th{background:#f3f3f3}#rows th{cursor:pointer}td.n{text-align:right}tr.total td{font-weight:bold}\
svg text{font-size:12px}rect{fill:#4a7bd0}rect.failed,rect.invalid{fill:#c83c3c}rect.not_attempted{fill:#999}\
rect.skipped_has_dependents{fill:#d99a26}rect.in_sync{fill:#5aa55a}.INVALID{color:#c83c3c;font-weight:bold}\
input,select{margin:0 .5em .5em 0}";

/// The tables the script fills, between the static part and the data.
const BODY: &str = "<h2>Callback numbers that fall back or reach nothing today</h2>
<p id=\"callbacks-note\"></p>
<table id=\"callbacks\"><thead><tr><th>line</th><th>member</th><th>kind</th><th>action</th>\
<th>number today</th><th>quality today</th></tr></thead><tbody></tbody></table>
<h2>Rows not in sync</h2>
<p><input id=\"q\" type=\"search\" placeholder=\"filter\" aria-label=\"filter\"><select id=\"action\" aria-label=\"action\">\
<option value=\"\">every action</option></select><span id=\"shown\"></span></p>
<table id=\"rows\"><thead><tr></tr></thead><tbody></tbody></table>
";

/// Sorts, filters (also from `#q=…&action=…` in the address) and draws at most `LIMIT`
/// rows, so a page of 100,000 rows opens fast. Cells go in through `textContent` only.
const SCRIPT: &str = r##"<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const SHOWN = JSON.parse(document.getElementById("columns").textContent);
const C = Object.fromEntries(SHOWN.map(([name], i) => [name, i]));
const BAD = SHOWN.length; // the flag after the columns: today's callback is INVALID or none
const LIMIT = 2000;
const state = { q: "", action: "", sort: 0, dir: 1 };
const hash = new URLSearchParams(location.hash.slice(1));
state.q = (hash.get("q") || "").toLowerCase(); state.action = hash.get("action") || "";
function cell(tr, v, name) { const td = document.createElement("td"); td.textContent = v;
  td.className = name + (v === "INVALID" ? " INVALID" : ""); tr.appendChild(td); }
function draw(tbody, rows, cols) {
  const frag = document.createDocumentFragment();
  for (const r of rows) { const tr = document.createElement("tr"); for (const i of cols) cell(tr, r[i], SHOWN[i][0]); frag.appendChild(tr); }
  tbody.replaceChildren(frag);
}
const head = document.querySelector("#rows thead tr");
SHOWN.forEach(([, heading], i) => { const th = document.createElement("th"); th.textContent = heading;
  th.onclick = () => { state.dir = state.sort === i ? -state.dir : 1; state.sort = i; apply(); }; head.appendChild(th); });
const sel = document.getElementById("action");
for (const a of [...new Set(D.filter(r => r[C.action] !== "in_sync").map(r => r[C.action]))].sort()) {
  const o = document.createElement("option"); o.value = a; o.textContent = a; sel.appendChild(o); }
sel.value = state.action; document.getElementById("q").value = state.q;
sel.onchange = () => { state.action = sel.value; apply(); };
document.getElementById("q").oninput = e => { state.q = e.target.value.toLowerCase(); apply(); };
function apply() {
  let r = D.filter(x => x[C.action] !== "in_sync");
  if (state.action) r = r.filter(x => x[C.action] === state.action);
  if (state.q) r = r.filter(x => x.some(c => String(c).toLowerCase().includes(state.q)));
  const k = state.sort, num = k === C.line;
  r.sort((a, b) => state.dir * (num ? a[k] - b[k] : String(a[k]).localeCompare(String(b[k]))));
  draw(document.querySelector("#rows tbody"), r.slice(0, LIMIT), SHOWN.map((_, i) => i));
  document.getElementById("shown").textContent = Math.min(r.length, LIMIT) + " of " + r.length + " rows shown";
  document.body.dataset.shown = String(r.length);
}
const bad = D.filter(x => x[BAD] === 1);
const callbackCols = ["line", "member", "kind", "action", "current_effective_number", "current_effective_quality"];
draw(document.querySelector("#callbacks tbody"), bad.slice(0, LIMIT), callbackCols.map(n => C[n]));
document.getElementById("callbacks-note").textContent = bad.length + " members" + (bad.length > LIMIT ? " (the first " + LIMIT + " shown)" : "");
apply();
document.body.dataset.ready = performance.now().toFixed(0);
</script>
</body></html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_from_a_file_or_the_api_becomes_markup() {
        let d = tempfile::tempdir().unwrap();
        let csv = d.path().join("r.csv");
        std::fs::write(
            &csv,
            "line,member,kind,action,current_selected,message,current_effective_number,current_effective_quality\n\
             2,<img src=x onerror=alert(1)>,person,failed,DIRECT_LINE,</script><script>alert(2)</script>,,\n\
             3,ok@example.com,person,in_sync,DIRECT_LINE,,+14085550101,RECOMMENDED\n",
        )
        .unwrap();
        let mut s = crate::report::notify::tests::summary(&[("failed", 1), ("in_sync", 1)]);
        s.desired_file = "<b>d.csv".into();
        let locations = ByLocation::from([("<i>HQ".into(), BTreeMap::from([(Action::Failed, 1)]))]);
        let page = d.path().join("r.html");
        write(&page, &s, &csv, &locations).unwrap();
        let html = std::fs::read_to_string(page).unwrap();
        assert!(!html.contains("<img") && !html.contains("<i>HQ") && !html.contains("<b>d.csv"), "{html}");
        assert!(html.contains("&lt;i&gt;HQ") && html.contains("&lt;b&gt;d.csv"));
        // the data block cannot be closed from a cell; the in-sync row without a problem stays out
        assert_eq!(html.matches("</script>").count(), 3, "the columns, the data block and the script only");
        assert!(html.contains("\\u003c/script>\\u003cscript>alert(2)"), "{html}");
        assert!(!html.contains("ok@example.com"));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
