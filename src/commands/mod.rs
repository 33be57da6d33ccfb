//! One module per command, each reading top to bottom: what the command does, in order.
//! `lib.rs` only dispatches here.

pub(crate) mod auth;
pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod export;
pub(crate) mod generate;
pub(crate) mod notify;
pub(crate) mod reconcile;
pub(crate) mod sim;

mod api;
mod sink;

use std::time::SystemTime;

/// The job a row report belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Check,
    Plan,
    Apply,
}

impl Mode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Check => "check",
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        }
    }
}

/// When a run started: for file names (`YYYYMMDDTHHMMSSZ`) and for the summary (RFC 3339).
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub(crate) file: String,
    pub(crate) iso: String,
    pub(crate) started: std::time::Instant,
}

impl Stamp {
    pub(crate) fn now() -> Stamp {
        let (file, iso) = crate::report::timestamps(SystemTime::now());
        Stamp { file, iso, started: std::time::Instant::now() }
    }
}
