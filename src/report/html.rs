//! `--html`: one self-contained page per run for people who will not open a 100,000-row
//! CSV — the summary, counts per action and kind (with a bar chart in inline SVG), counts
//! per location, every row that is not `in_sync` in a table that sorts and filters, and
//! the members whose callback number today is INVALID or none. No network, no external
//! file. The rows are streamed from the run's CSV report into a JSON block (so the run
//! holds none of them) and drawn by a few lines of inline script, with `textContent`
//! only; everything written as HTML is escaped.

use super::{Action, Summary};
use crate::atomic::AtomicFile;
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Counts per location name (the ECBN GET's `locationECBNInfo` name), per action.
pub(crate) type ByLocation = BTreeMap<Box<str>, BTreeMap<Action, u64>>;

/// The report columns the page shows, by their names in the CSV.
const SHOWN: [&str; 11] = [
    "line",
    "member",
    "kind",
    "action",
    "current_selected",
    "desired_selected",
    "message",
    "current_effective_number",
    "current_effective_quality",
    "desired_effective_number",
    "desired_effective_quality",
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
    let col = |name: &str| headers.iter().position(|h| h == name);
    let cols: Vec<Option<usize>> = SHOWN.iter().map(|n| col(n)).collect();
    let (action, quality, number, current) =
        (col("action"), col("current_effective_quality"), col("current_effective_number"), col("current_selected"));
    write!(out, "<script type=\"application/json\" id=\"data\">[")?;
    let mut first = true;
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("");
        let read = !get(current).is_empty();
        let bad_callback = read && (get(quality) == "INVALID" || get(number).is_empty());
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
#rows td:nth-child(2),#callbacks td:nth-child(2){word-break:break-all;min-width:14em;max-width:24em}\
#rows td:nth-child(7){min-width:16em}\
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
const COLS = ["line","member","kind","action","current","desired","message","number today","quality today","predicted number","predicted quality"];
const LIMIT = 2000;
const state = { q: "", action: "", sort: 0, dir: 1 };
const hash = new URLSearchParams(location.hash.slice(1));
state.q = (hash.get("q") || "").toLowerCase(); state.action = hash.get("action") || "";
function cell(tr, v) { const td = document.createElement("td"); td.textContent = v; if (v === "INVALID") td.className = v; tr.appendChild(td); }
function draw(tbody, rows, cols) {
  const frag = document.createDocumentFragment();
  for (const r of rows) { const tr = document.createElement("tr"); for (const i of cols) cell(tr, r[i]); frag.appendChild(tr); }
  tbody.replaceChildren(frag);
}
const head = document.querySelector("#rows thead tr");
COLS.forEach((c, i) => { const th = document.createElement("th"); th.textContent = c;
  th.onclick = () => { state.dir = state.sort === i ? -state.dir : 1; state.sort = i; apply(); }; head.appendChild(th); });
const sel = document.getElementById("action");
for (const a of [...new Set(D.filter(r => r[3] !== "in_sync").map(r => r[3]))].sort()) {
  const o = document.createElement("option"); o.value = a; o.textContent = a; sel.appendChild(o); }
sel.value = state.action; document.getElementById("q").value = state.q;
sel.onchange = () => { state.action = sel.value; apply(); };
document.getElementById("q").oninput = e => { state.q = e.target.value.toLowerCase(); apply(); };
function apply() {
  let r = D.filter(x => x[3] !== "in_sync");
  if (state.action) r = r.filter(x => x[3] === state.action);
  if (state.q) r = r.filter(x => x.some(c => String(c).toLowerCase().includes(state.q)));
  const k = state.sort, num = k === 0;
  r.sort((a, b) => state.dir * (num ? a[k] - b[k] : String(a[k]).localeCompare(String(b[k]))));
  draw(document.querySelector("#rows tbody"), r.slice(0, LIMIT), COLS.map((_, i) => i));
  document.getElementById("shown").textContent = Math.min(r.length, LIMIT) + " of " + r.length + " rows shown";
  document.body.dataset.shown = String(r.length);
}
const bad = D.filter(x => x[11] === 1);
draw(document.querySelector("#callbacks tbody"), bad.slice(0, LIMIT), [0, 1, 2, 3, 7, 8]);
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
        assert_eq!(html.matches("</script>").count(), 2, "the data block and the script only");
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
