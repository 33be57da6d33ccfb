//! `--metrics-file`: the run's figures in the Prometheus text format, for
//! node_exporter's textfile collector. Every series is a gauge labelled by `mode`; a run
//! rewrites its own mode's series and keeps the other modes' (and, when it failed, its
//! mode's last success). The file is replaced atomically, so the collector never reads
//! half of it.

use super::Summary;
use super::recorder::Recorder;
use crate::atomic::AtomicFile;
use crate::error::{Error, Outcome};
use crate::webex::auth::cache::GrantStatus;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// The metric families, in the file's order, with their help text.
const FAMILIES: [(&str, &str); 11] = [
    ("ecbn_sync_last_run_timestamp_seconds", "When the last run of this mode ended (Unix time)."),
    ("ecbn_sync_last_success_timestamp_seconds", "When the last run of this mode that exited 0 or 2 ended."),
    ("ecbn_sync_exit_code", "Exit code of the last run of this mode."),
    ("ecbn_sync_rows", "Rows of the last run by report action and member kind."),
    ("ecbn_sync_requests", "Requests of the last run by route (retries included)."),
    ("ecbn_sync_responses", "Responses of the last run by HTTP status (or dropped/timeout)."),
    ("ecbn_sync_duration_seconds", "Wall time of the last run."),
    ("ecbn_sync_rerun_needed", "1 when the last run freed members that the next run can write."),
    ("ecbn_sync_latency_seconds", "Answer times of the last run's requests, by quantile."),
    ("ecbn_sync_access_token_expiry_timestamp_seconds", "When the refresh grant's access token expires (Unix time)."),
    ("ecbn_sync_refresh_token_expiry_timestamp_seconds", "When the refresh grant's refresh token expires (Unix time)."),
];
const LAST_SUCCESS: &str = "ecbn_sync_last_success_timestamp_seconds";

/// What a run's summary says, for the metrics.
#[derive(Debug, Clone, Default)]
struct Figures {
    /// (action, kind, rows); kind `unknown` for rows invalid before their kind is known,
    /// `all` for export's counts (export does not count by kind).
    rows: Vec<(String, String, u64)>,
    requests: BTreeMap<String, u64>,
    responses: BTreeMap<String, u64>,
    rerun_needed: bool,
    /// (quantile, seconds)
    latency: Vec<(&'static str, f64)>,
}

impl Figures {
    fn of(s: &Summary) -> Figures {
        let mut rows = Vec::new();
        for (action, &total) in &s.counts {
            if s.counts_by_kind.is_empty() {
                rows.push((action.to_string(), "all".into(), total));
                continue;
            }
            let mut by_kind = 0;
            for (kind, counts) in &s.counts_by_kind {
                let n = counts.get(action).copied().unwrap_or(0);
                by_kind += n;
                rows.push((action.to_string(), kind.to_string(), n));
            }
            if total > by_kind {
                rows.push((action.to_string(), "unknown".into(), total - by_kind));
            }
        }
        let l = &s.latency_ms;
        let latency = [("0.5", l.p50), ("0.9", l.p90), ("0.99", l.p99)]
            .into_iter()
            .filter_map(|(q, ms)| Some((q, ms? / 1000.0)))
            .collect();
        Figures {
            rows,
            requests: s.requests.clone(),
            responses: s.http_status.clone(),
            rerun_needed: s.rerun_needed,
            latency,
        }
    }
}

/// Write the metrics file for a run that ended with `end`. A file that cannot be written
/// is logged; the run's exit code stays what the summary says (the alert on a stale
/// `last_success` still fires).
pub(crate) fn write(path: &Path, rec: &Recorder, end: &Result<Outcome, Error>, tokens: Option<&GrantStatus>) {
    let figures = rec.taken().map(|r| Figures::of(&r.summary)).unwrap_or_default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let code = crate::error::exit_code(end);
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let mut samples = samples(rec, &figures, now, code);
    if let Some(t) = tokens {
        let expiries = [
            ("ecbn_sync_access_token_expiry_timestamp_seconds", t.access_token_expires_at),
            ("ecbn_sync_refresh_token_expiry_timestamp_seconds", t.refresh_token_expires_at),
        ];
        for (name, at) in expiries {
            samples.extend(at.map(|at| Sample::new(name, rec.mode(), &[], at.to_string())));
        }
    }
    let text = render(&old, rec.mode(), &samples);
    let written = AtomicFile::create(path).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.commit()
    });
    if let Err(e) = written {
        tracing::error!("cannot write the metrics file {}: {e}", path.display());
    }
}

fn samples(rec: &Recorder, f: &Figures, now: f64, code: i32) -> Vec<Sample> {
    let mode = rec.mode();
    let one = |name: &str, value: String| Sample::new(name, mode, &[], value);
    let mut v = vec![one("ecbn_sync_last_run_timestamp_seconds", format!("{now:.3}"))];
    if code == 0 || code == 2 {
        v.push(one(LAST_SUCCESS, format!("{now:.3}")));
    }
    v.push(one("ecbn_sync_exit_code", code.to_string()));
    for (action, kind, n) in &f.rows {
        v.push(Sample::new("ecbn_sync_rows", mode, &[("action", action), ("kind", kind)], n.to_string()));
    }
    for (route, n) in &f.requests {
        v.push(Sample::new("ecbn_sync_requests", mode, &[("route", route)], n.to_string()));
    }
    for (status, n) in &f.responses {
        v.push(Sample::new("ecbn_sync_responses", mode, &[("status", status)], n.to_string()));
    }
    v.push(one("ecbn_sync_duration_seconds", format!("{:.3}", rec.elapsed().as_secs_f64())));
    v.push(one("ecbn_sync_rerun_needed", u8::from(f.rerun_needed).to_string()));
    for (q, secs) in &f.latency {
        v.push(Sample::new("ecbn_sync_latency_seconds", mode, &[("quantile", q)], format!("{secs:.4}")));
    }
    v
}

/// One line of the file: a series and its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    /// `mode` first, as written.
    labels: Vec<(String, String)>,
    value: String,
}

impl Sample {
    fn new(name: &str, mode: &str, labels: &[(&str, &str)], value: String) -> Sample {
        let mut all = vec![("mode".to_string(), mode.to_string())];
        all.extend(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Sample { name: name.into(), labels: all, value }
    }

    fn mode(&self) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == "mode").map(|(_, v)| v.as_str())
    }

    fn line(&self) -> String {
        let labels: Vec<String> = self.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        format!("{}{{{}}} {}", self.name, labels.join(","), self.value)
    }

    /// A sample line of the text format; `None` for anything else.
    fn parse(line: &str) -> Option<Sample> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let brace = line.find('{')?;
        let name = &line[..brace];
        let mut labels = Vec::new();
        let mut rest = &line[brace + 1..];
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if let Some(after) = rest.strip_prefix('}') {
                let value = after.split_whitespace().next()?;
                return Some(Sample { name: name.into(), labels, value: value.into() });
            }
            let eq = rest.find("=\"")?;
            let key = rest[..eq].trim().to_string();
            let (value, after) = unescape_until_quote(&rest[eq + 2..])?;
            labels.push((key, value));
            rest = after;
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A label value up to its closing quote, unescaped, and what follows the quote.
fn unescape_until_quote(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &s[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// The whole file: this run's samples, and the samples of `old` that stay (other modes'
/// series; this mode's last success when this run did not succeed).
fn render(old: &str, mode: &str, new: &[Sample]) -> String {
    let succeeded = new.iter().any(|s| s.name == LAST_SUCCESS);
    let kept = old.lines().filter_map(Sample::parse).filter(|s| {
        FAMILIES.iter().any(|(f, _)| *f == s.name) && (s.mode() != Some(mode) || (s.name == LAST_SUCCESS && !succeeded))
    });
    let mut all: Vec<Sample> = kept.chain(new.iter().cloned()).collect();
    all.sort_by(|a, b| a.mode().cmp(&b.mode()));
    let mut text = String::new();
    for (family, help) in FAMILIES {
        text.push_str(&format!("# HELP {family} {help}\n# TYPE {family} gauge\n"));
        for s in all.iter().filter(|s| s.name == family) {
            text.push_str(&s.line());
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, mode: &str, value: &str) -> Sample {
        Sample::new(name, mode, &[], value.into())
    }

    #[test]
    fn lines_round_trip_with_escapes() {
        let s = Sample::new(
            "ecbn_sync_requests",
            "plan",
            &[("route", "GET /v1/people/{personId}/x \"q\" \\ end")],
            "12".into(),
        );
        let line = s.line();
        assert_eq!(Sample::parse(&line), Some(s));
        assert_eq!(Sample::parse("# TYPE x gauge"), None);
        assert_eq!(Sample::parse("garbage"), None);
    }

    #[test]
    fn other_modes_stay_and_a_failed_run_keeps_its_last_success() {
        let first =
            render("", "apply", &[sample(LAST_SUCCESS, "apply", "100"), sample("ecbn_sync_exit_code", "apply", "0")]);
        let second =
            render(&first, "plan", &[sample(LAST_SUCCESS, "plan", "200"), sample("ecbn_sync_exit_code", "plan", "0")]);
        // apply fails: its exit code changes, its last success stays, plan's series stay
        let third = render(&second, "apply", &[sample("ecbn_sync_exit_code", "apply", "1")]);
        let lines: Vec<&str> = third.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "ecbn_sync_last_success_timestamp_seconds{mode=\"apply\"} 100",
                "ecbn_sync_last_success_timestamp_seconds{mode=\"plan\"} 200",
                "ecbn_sync_exit_code{mode=\"apply\"} 1",
                "ecbn_sync_exit_code{mode=\"plan\"} 0",
            ]
        );
        // each family once, HELP and TYPE before its samples
        assert_eq!(third.matches("# TYPE ecbn_sync_exit_code gauge").count(), 1);
        // a success replaces it
        let fourth = render(&third, "apply", &[sample(LAST_SUCCESS, "apply", "300")]);
        assert!(fourth.contains("ecbn_sync_last_success_timestamp_seconds{mode=\"apply\"} 300"));
        assert!(!fourth.contains("} 100"));
    }
}
