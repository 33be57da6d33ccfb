//! How a run ends. Every command returns `Result<Outcome, Error>`; `main` prints the
//! error once and exits with its [`Error::exit_code`] (the README's table, in one place).
//! Typed errors come up from the modules; `anyhow` only adds context to the few
//! unexpected failures at the edge (a runtime or a sandbox that cannot start).

use crate::config::ConfigError;
use crate::desired::FileError;
use crate::lock::LockError;
use crate::sim::SimError;
use crate::webex::{ApiError, Fatal, TokenError};

/// A run that finished its work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every row in sync, updated, or skipped by the skip rule.
    Clean,
    /// `plan --detailed-exitcode` found rows to update.
    ChangesPending,
    /// Some rows failed, or were invalid and skipped (`--skip-invalid`).
    Partial,
}

impl Outcome {
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Clean => 0,
            Outcome::ChangesPending => 2,
            Outcome::Partial => 3,
        }
    }
}

/// A run that stopped, or could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// clap's own errors, `--help` and `--version` (clap prints them).
    #[error(transparent)]
    CommandLine(#[from] clap::Error),
    #[error("{0}")]
    Usage(String),
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}: {count} invalid rows; nothing was sent")]
    InvalidRows { path: String, count: u64 },
    #[error(
        "{path}: {count} rows could not be resolved or were refused; nothing was written. The other {others} rows would have been reconciled: to write them without these, use --skip-invalid (config skip_invalid = true)"
    )]
    UnresolvedRows { path: String, count: u64, others: usize },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Api(#[from] Fatal),
    #[error("listing the {what}s failed: {source}")]
    Listing { what: &'static str, source: ApiError },
    #[error("cannot write {path}: {source}")]
    Storage {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("interrupted: rows not finished are not_attempted; the reports are written")]
    Interrupted,
    #[error("{changes} changes exceed --max-changes {max}; nothing was written")]
    TooManyChanges { changes: usize, max: u64 },
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::CommandLine(e) if !e.use_stderr() => 0,
            Error::CommandLine(_) | Error::Usage(_) => 64,
            Error::Config(_) | Error::Token(_) => 78,
            Error::Lock(LockError::Held { .. }) => 75,
            Error::File(_)
            | Error::InvalidRows { .. }
            | Error::UnresolvedRows { .. }
            | Error::Sim(SimError::Fixture { .. } | SimError::Inconsistent { .. }) => 65,
            Error::TooManyChanges { .. } => 69,
            Error::Interrupted => 130,
            Error::Lock(LockError::Io { .. })
            | Error::Api(_)
            | Error::Listing { .. }
            | Error::Storage { .. }
            | Error::Sim(_)
            | Error::Internal(_) => 1,
        }
    }

    /// For `map_err`: a write to `path` failed.
    pub(crate) fn storage(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
        let path = path.display().to_string();
        move |source| Error::Storage { path, source }
    }

    /// Print the error once, for the person at the terminal (or as a JSON log line).
    pub fn report(&self) {
        match self {
            Error::CommandLine(e) => {
                let _ = e.print();
            }
            e => crate::logging::diag(&format!("error: {e}")),
        }
    }
}

/// The exit code of a run's result.
pub fn exit_code(result: &Result<Outcome, Error>) -> i32 {
    match result {
        Ok(o) => o.exit_code(),
        Err(e) => e.exit_code(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_contract() {
        assert_eq!(exit_code(&Ok(Outcome::Clean)), 0);
        assert_eq!(exit_code(&Ok(Outcome::ChangesPending)), 2);
        assert_eq!(exit_code(&Ok(Outcome::Partial)), 3);
        assert_eq!(Error::Usage("x".into()).exit_code(), 64);
        assert_eq!(Error::Interrupted.exit_code(), 130);
        assert_eq!(Error::TooManyChanges { changes: 2, max: 1 }.exit_code(), 69);
        assert_eq!(Error::InvalidRows { path: "f".into(), count: 1 }.exit_code(), 65);
        assert_eq!(Error::UnresolvedRows { path: "f".into(), count: 1, others: 2 }.exit_code(), 65);
        let held = LockError::Held { path: "p".into(), holder: "h".into() };
        assert_eq!(Error::Lock(held).exit_code(), 75);
        assert_eq!(Error::Api(Fatal::Outage("down".into())).exit_code(), 1);
        assert_eq!(Error::Internal(anyhow::anyhow!("x")).exit_code(), 1);
    }
}
