//! The run's notification as a person in a Webex space reads it: what ran, how it ended,
//! the counts by the report's action names, the report files and the first problems.
//! Pure text; `commands::notify` posts it.

use super::{Action, Record};
use crate::config::NotifyOn;
use crate::error::{Error, Outcome, exit_code};
use crate::wire::MESSAGE_MAX_BYTES;

/// Longest quoted problem line, in characters.
const PROBLEM_MAX: usize = 300;

/// Where a run ran and what it must warn of, for the message.
#[derive(Debug, Clone, Default)]
pub(crate) struct About {
    pub(crate) host: String,
    pub(crate) org_id: Option<String>,
    /// A warning sent whatever `on` says (a refresh token near its end).
    pub(crate) warning: Option<String>,
}

impl About {
    /// This machine's name (`/proc/sys/kernel/hostname`, else `/etc/hostname`).
    pub(crate) fn here(org_id: Option<String>, warning: Option<String>) -> About {
        let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()))
            .unwrap_or_else(|| "an unknown host".into());
        About { host, org_id, warning }
    }
}

/// Whether a run that ended with `end` is worth a message under `on` (a warning always is).
pub(crate) fn wanted(on: NotifyOn, end: &Result<Outcome, Error>, record: Option<&Record>, about: &About) -> bool {
    if about.warning.is_some() {
        return true;
    }
    let failed = !matches!(exit_code(end), 0 | 2);
    let changed = record.is_some_and(|r| {
        Action::RUN.iter().filter(|a| a.is_change()).any(|a| r.summary.counts.get(a.as_str()).is_some_and(|n| *n > 0))
    });
    match on {
        NotifyOn::Always => true,
        NotifyOn::Failure => failed,
        NotifyOn::Change => failed || changed,
    }
}

/// The Markdown message, at most `MESSAGE_MAX_BYTES` long.
pub(crate) fn markdown(mode: &str, end: &Result<Outcome, Error>, record: Option<&Record>, about: &About) -> String {
    let how = match end {
        Ok(Outcome::Clean) => "done".to_string(),
        Ok(Outcome::ChangesPending) => "changes pending".to_string(),
        Ok(Outcome::Partial) => "done, but some rows failed or were invalid".to_string(),
        Err(e) => quoted(&e.to_string()),
    };
    let org = about.org_id.as_deref().map(|o| format!(" for org {}", quoted(o))).unwrap_or_default();
    let mut text = format!("**ecbn-sync {mode}** on {}{org}: exit {} ({how})\n", quoted(&about.host), exit_code(end));
    if let Some(w) = &about.warning {
        text.push_str(&format!("\n**Warning:** {}\n", quoted(w)));
    }
    let Some(r) = record else { return text };
    let counts: Vec<String> =
        r.summary.counts.iter().filter(|(_, n)| **n > 0).map(|(a, n)| format!("{a} {n}")).collect();
    let counts = if counts.is_empty() { "no rows".to_string() } else { counts.join(", ") };
    text.push_str(&format!("\n{} rows: {counts}\n", r.summary.rows));
    if r.summary.rerun_needed {
        text.push_str("\nA rerun will update members this run freed.\n");
    }
    let files: Vec<String> = r.summary.report_files.iter().map(|f| quoted(f)).collect();
    text.push_str(&format!("\nReports: {}\n", files.join(", ")));
    if !r.problems.is_empty() {
        text.push_str("\nFirst problems:\n");
    }
    for (i, p) in r.problems.iter().enumerate() {
        let line = format!("- {}\n", quoted(&p.chars().take(PROBLEM_MAX).collect::<String>()));
        let more = format!("- … and {} more\n", r.problems.len() - i);
        if text.len() + line.len() + more.len() > MESSAGE_MAX_BYTES {
            text.push_str(&more);
            break;
        }
        text.push_str(&line);
    }
    text
}

/// Text from files and the API as a code span, so no Markdown in it is rendered.
fn quoted(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace(['\n', '\r'], " "))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::Summary;
    use std::collections::BTreeMap;

    /// A summary of an `apply` with these counts, for tests of what is made of it.
    pub(crate) fn summary(counts: &[(&'static str, u64)]) -> Summary {
        Summary {
            mode: "apply",
            started_at: String::new(),
            finished_at: String::new(),
            duration_ms: 0,
            desired_file: "d.csv".into(),
            report_files: vec!["r/ecbn-apply-T.csv".into(), "r/ecbn-apply-T.json".into()],
            rows: counts.iter().map(|(_, n)| *n as usize).sum(),
            counts: counts.iter().copied().collect(),
            counts_by_kind: BTreeMap::new(),
            predicted_quality: None,
            requests: BTreeMap::new(),
            http_status: BTreeMap::new(),
            retries: 0,
            rate: Default::default(),
            in_flight: Default::default(),
            latency_ms: Default::default(),
            rerun_needed: false,
            rollback_unrestorable: vec![],
            exit_code: 0,
        }
    }

    fn record(counts: &[(&'static str, u64)], problems: Vec<String>) -> Record {
        Record { summary: summary(counts), problems }
    }

    #[test]
    fn a_message_says_how_the_run_ended_and_quotes_what_came_from_outside() {
        let r = record(&[("updated", 7), ("in_sync", 5), ("failed", 1)], vec!["line 3 `x`: *boom*".into()]);
        let about = About { host: "night-1".into(), org_id: Some("ORG".into()), warning: None };
        let m = markdown("apply", &Ok(Outcome::Partial), Some(&r), &about);
        assert!(
            m.starts_with(
                "**ecbn-sync apply** on `night-1` for org `ORG`: exit 3 (done, but some rows failed or were invalid)\n"
            ),
            "{m}"
        );
        assert!(m.contains("13 rows: failed 1, in_sync 5, updated 7"), "{m}");
        assert!(m.contains("`r/ecbn-apply-T.csv`"), "{m}");
        assert!(m.contains("- `line 3 'x': *boom*`"), "{m}");
        let about = About { host: "h".into(), org_id: None, warning: Some("the refresh token expires".into()) };
        let stopped = markdown("apply", &Err(Error::Interrupted), None, &about);
        assert!(stopped.starts_with("**ecbn-sync apply** on `h`: exit 130 (`interrupted:"), "{stopped}");
        assert!(stopped.contains("**Warning:** `the refresh token expires`"), "{stopped}");
    }

    #[test]
    fn a_message_never_exceeds_the_limit() {
        let many: Vec<String> = (0..100).map(|i| format!("line {i} {}", "x".repeat(400))).collect();
        let m = markdown("apply", &Ok(Outcome::Partial), Some(&record(&[("failed", 100)], many)), &About::default());
        assert!(m.len() <= MESSAGE_MAX_BYTES, "{}", m.len());
        assert!(m.trim_end().ends_with("more"), "{m}");
    }

    #[test]
    fn when_to_send() {
        let quiet = record(&[("in_sync", 3)], vec![]);
        let busy = record(&[("would_update", 1)], vec![]);
        let ok = Ok(Outcome::Clean);
        let failed = Err(Error::Interrupted);
        let a = About::default();
        assert!(wanted(NotifyOn::Always, &ok, Some(&quiet), &a));
        assert!(!wanted(NotifyOn::Failure, &ok, Some(&busy), &a));
        assert!(wanted(NotifyOn::Failure, &failed, None, &a));
        assert!(!wanted(NotifyOn::Change, &ok, Some(&quiet), &a));
        assert!(wanted(NotifyOn::Change, &ok, Some(&busy), &a));
        assert!(wanted(NotifyOn::Change, &failed, Some(&quiet), &a));
        assert!(!wanted(NotifyOn::Failure, &Ok(Outcome::ChangesPending), None, &a));
        let warned = About { warning: Some("w".into()), ..About::default() };
        assert!(wanted(NotifyOn::Failure, &ok, Some(&quiet), &warned), "a warning whatever `on` says");
    }
}
