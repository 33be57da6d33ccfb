//! The run's settings, typed: the job's options (`cli::JobArgs`, already resolved over
//! the command line, the environment, `config.toml` and the defaults) turned into what
//! the parts of a run use, with the checks that concern several options at once.

use crate::cli::{FileOnly, JobArgs, LogFormat, RateOption};
use crate::desired::ReadOptions;
use crate::phone::Country;
use crate::webex::Rate;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

/// When a run posts its summary to the Webex space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NotifyOn {
    /// Every run.
    Always,
    /// Runs that did not exit 0 or 2.
    Failure,
    /// Runs that failed, or changed (or would change) something.
    Change,
}

/// Where and when a run posts its summary (`[notify]`, `--notify-room`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notify {
    pub(crate) room_id: String,
    /// The variable holding the bot's token; `None`: the run's own token.
    pub(crate) token_env: Option<String>,
    pub(crate) on: NotifyOn,
}

/// Everything a run needs to know, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) base_url: String,
    pub(crate) org_id: Option<String>,
    pub(crate) token_env: String,
    pub(crate) token_file: Option<PathBuf>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) rate: Rate,
    pub(crate) concurrency: usize,
    pub(crate) max_retries: u32,
    pub(crate) max_backoff: Duration,
    /// An answer's body is not read past this.
    pub(crate) max_response_bytes: u64,
    pub(crate) report_dir: PathBuf,
    pub(crate) metrics_file: Option<PathBuf>,
    /// Also write the run's HTML page.
    pub(crate) html: bool,
    pub(crate) notify: Option<Notify>,
    pub(crate) max_changes: Option<u64>,
    pub(crate) max_failures: Option<u64>,
    pub(crate) skip_invalid: bool,
    /// A change whose predicted callback number is none is a file error.
    pub(crate) require_callback: bool,
    pub(crate) log_format: LogFormat,
    pub(crate) default_country: Country,
    pub(crate) sheet: Option<String>,
    pub(crate) limit: Option<u64>,
    pub(crate) detailed_exitcode: bool,
    pub(crate) sandbox: bool,
    /// -q/-v: negative is quieter.
    pub(crate) verbosity: i8,
}

impl Settings {
    /// The job's options as a run uses them.
    pub(crate) fn resolve(g: &JobArgs, file_only: &FileOnly) -> Result<Settings, ConfigError> {
        let secs = Duration::from_secs;
        let s = Settings {
            base_url: g.base_url.clone(),
            org_id: g.org_id.clone().filter(|s| !s.trim().is_empty()),
            token_env: g.token_env.clone(),
            token_file: g.token_file.clone(),
            timeout: secs(g.timeout_secs),
            connect_timeout: secs(g.connect_timeout_secs),
            rate: match g.rate {
                RateOption::PerSecond(n) => Rate::Fixed(n),
                RateOption::Auto => Rate::Auto { start: g.auto_start_rate, max: g.max_rate },
            },
            concurrency: g.concurrency as usize,
            max_retries: g.max_retries,
            max_backoff: secs(g.max_backoff_secs),
            max_response_bytes: g.max_response_bytes,
            report_dir: g.report_dir.clone(),
            metrics_file: g.metrics_file.clone(),
            html: g.html,
            notify: g.room_id.clone().filter(|r| !r.trim().is_empty()).map(|room_id| Notify {
                room_id,
                token_env: file_only.notify_token_env.clone(),
                on: file_only.notify_on.unwrap_or(NotifyOn::Always),
            }),
            max_changes: g.max_changes,
            max_failures: g.max_failures,
            skip_invalid: g.skip_invalid,
            require_callback: g.require_callback,
            log_format: g.log.log_format,
            default_country: g.default_country,
            sheet: g.sheet.clone(),
            limit: g.limit,
            detailed_exitcode: g.detailed_exitcode,
            sandbox: g.sandbox,
            verbosity: g.log.verbosity(),
        };
        if !s.sandbox {
            check_base_url(&s.base_url)?;
        }
        Ok(s)
    }

    /// How desired files are read under these settings.
    pub(crate) fn read_options(&self) -> ReadOptions {
        ReadOptions { default_country: self.default_country, sheet: self.sheet.clone() }
    }
}

/// `https://` anywhere; plain `http://` only to this machine (a token must never cross
/// a network in clear text).
pub(crate) fn check_base_url(url: &str) -> Result<reqwest::Url, ConfigError> {
    let u =
        reqwest::Url::parse(url).map_err(|e| ConfigError::Invalid(format!("base_url `{url}` is not a URL: {e}")))?;
    match u.scheme() {
        "https" => Ok(u),
        "http" => {
            let loopback = match u.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(u)
            } else {
                Err(ConfigError::Invalid(format!(
                    "base_url `{url}`: plain http is refused except to localhost, 127.0.0.0/8 or ::1 (use https)"
                )))
            }
        }
        other => Err(ConfigError::Invalid(format!("base_url `{url}`: unsupported scheme `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_only_to_loopback() {
        assert!(check_base_url("https://webexapis.com/v1").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(check_base_url("http://127.9.9.9/v1").is_ok());
        assert!(check_base_url("http://localhost/v1").is_ok());
        assert!(check_base_url("http://[::1]:1/v1").is_ok());
        assert!(check_base_url("http://10.0.0.1/v1").is_err());
        assert!(check_base_url("http://webexapis.com/v1").is_err());
        assert!(check_base_url("ftp://x/v1").is_err());
    }
}
