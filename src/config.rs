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

/// Where a run's access token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// A fixed access token: the variable `token_env`, or `token_file` (re-read on 401).
    Fixed { token_env: String, token_file: Option<PathBuf> },
    /// The OAuth refresh grant of an integration or a service app.
    Grant(GrantConfig),
}

/// The refresh grant's parts (`[webex]` `client_id`, `client_secret_*`,
/// `refresh_token_file`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantConfig {
    pub(crate) client_id: String,
    pub(crate) secret: SecretFrom,
    pub(crate) refresh_token_file: PathBuf,
    pub(crate) cache_file: PathBuf,
    pub(crate) token_url: String,
    /// Refresh when less than this is left of the access token's life.
    pub(crate) margin: Duration,
    /// Warn when the refresh token expires within this.
    pub(crate) warn_within: Duration,
}

/// Where the client secret is read: a variable, or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretFrom {
    Env(String),
    File(PathBuf),
}

impl Credentials {
    /// A fixed token, or a refresh grant with all its parts; both, or a grant missing a
    /// part, is a configuration error naming them.
    fn of(g: &JobArgs) -> Result<Credentials, ConfigError> {
        let grant_named = g.client_id.is_some() || g.client_secret_file.is_some() || g.refresh_token_file.is_some();
        if !grant_named {
            return Ok(Credentials::Fixed { token_env: g.token_env.clone(), token_file: g.token_file.clone() });
        }
        let fixed = match &g.token_file {
            Some(f) => Some(format!("token_file ({})", f.display())),
            None => std::env::var_os(&g.token_env)
                .filter(|v| !v.is_empty())
                .map(|_| format!("the variable {} (token_env)", g.token_env)),
        };
        if let Some(fixed) = fixed {
            return Err(ConfigError::Invalid(format!(
                "both a fixed token ({fixed}) and a refresh grant (client_id, refresh_token_file) are configured; use one"
            )));
        }
        let missing = |part: &str| {
            ConfigError::Invalid(format!(
                "the refresh grant is missing {part} (client_id, the client secret and refresh_token_file are all needed)"
            ))
        };
        let client_id = g.client_id.clone().filter(|c| !c.trim().is_empty()).ok_or_else(|| missing("client_id"))?;
        let refresh_token_file = g.refresh_token_file.clone().ok_or_else(|| missing("refresh_token_file"))?;
        let cache_file = g.token_cache_file.clone().unwrap_or_else(|| {
            let mut p = refresh_token_file.clone().into_os_string();
            p.push(".cache");
            p.into()
        });
        let token_url = match &g.token_url {
            Some(u) => u.clone(),
            None => format!("{}{}", g.base_url.trim_end_matches('/'), crate::wire::routes::ACCESS_TOKEN),
        };
        let secret = match &g.client_secret_file {
            Some(f) => SecretFrom::File(f.clone()),
            None => SecretFrom::Env(g.client_secret_env.clone()),
        };
        let margin = Duration::from_secs(g.refresh_margin_secs);
        let warn_within = Duration::from_secs(g.refresh_warn_days.saturating_mul(86_400));
        Ok(Credentials::Grant(GrantConfig {
            client_id,
            secret,
            refresh_token_file,
            cache_file,
            token_url,
            margin,
            warn_within,
        }))
    }
}

/// Everything a run needs to know, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) base_url: String,
    pub(crate) org_id: Option<String>,
    /// Where the run's access token comes from.
    pub(crate) credentials: Credentials,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) rate: Rate,
    /// Requests in flight pinned (`concurrency = N`); `None`: they follow the latency.
    pub(crate) concurrency: Option<usize>,
    pub(crate) max_concurrency: usize,
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
    /// Delete this tool's report files older than this many days (0: keep all).
    pub(crate) keep_reports_days: u64,
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
            credentials: Credentials::of(g)?,
            timeout: secs(g.timeout_secs),
            connect_timeout: secs(g.connect_timeout_secs),
            rate: match g.rate {
                RateOption::PerSecond(n) => Rate::Fixed(n),
                RateOption::Auto => Rate::Auto { start: g.auto_start_rate, max: g.max_rate },
            },
            concurrency: g.concurrency.map(|n| n as usize),
            max_concurrency: g.max_concurrency as usize,
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
            keep_reports_days: g.keep_reports_days,
            limit: g.limit,
            detailed_exitcode: g.detailed_exitcode,
            sandbox: g.sandbox,
            verbosity: g.log.verbosity(),
        };
        if !s.sandbox {
            check_base_url(&s.base_url)?;
            if let Credentials::Grant(grant) = &s.credentials {
                check_base_url(&grant.token_url).map_err(|e| ConfigError::Invalid(format!("token_url: {e}")))?;
            }
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
