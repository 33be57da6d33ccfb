//! One settings struct: CLI > environment > config.toml > default.

use crate::cli::{JobArgs, LogFormat, RateOption};
use crate::desired::ReadOptions;
use crate::phone::Country;
use crate::webex::Rate;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";
/// 16 MiB: far above any Webex answer this tool reads (a page of 100 people is ~100 kB).
const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    webex: WebexSection,
    #[serde(default)]
    limits: LimitsSection,
    #[serde(default)]
    run: RunSection,
    #[serde(default)]
    notify: NotifySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifySection {
    room_id: Option<String>,
    token_env: Option<String>,
    on: Option<NotifyOn>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebexSection {
    base_url: Option<String>,
    org_id: Option<String>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    timeout_secs: Option<u64>,
    connect_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSection {
    rate: Option<RateOption>,
    max_rate: Option<u32>,
    auto_start_rate: Option<u32>,
    concurrency: Option<u32>,
    max_retries: Option<u32>,
    max_backoff_secs: Option<u64>,
    max_failures: Option<u64>,
    max_response_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSection {
    report_dir: Option<PathBuf>,
    metrics_file: Option<PathBuf>,
    html: Option<bool>,
    max_changes: Option<u64>,
    max_failures: Option<u64>,
    skip_invalid: Option<bool>,
    require_callback: Option<bool>,
    log_format: Option<LogFormat>,
    default_country: Option<String>,
    sheet: Option<String>,
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
    /// The job's options (command line, then environment, both through clap) over the
    /// configuration file over the defaults.
    pub(crate) fn resolve(g: &JobArgs) -> Result<Settings, ConfigError> {
        let (path, required) = match &g.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from("config.toml"), false),
        };
        let file = load_file(&path, required)?;
        let (w, l, r, n) = (file.webex, file.limits, file.run, file.notify);
        let secs = |v: Option<u64>, file: Option<u64>, d: u64| Duration::from_secs(v.or(file).unwrap_or(d));
        let country = g.default_country.clone().or(r.default_country).unwrap_or_else(|| "US".into());
        let s = Settings {
            base_url: g.base_url.clone().or(w.base_url).unwrap_or_else(|| DEFAULT_BASE_URL.into()),
            org_id: g.org_id.clone().or(w.org_id).filter(|s| !s.trim().is_empty()),
            token_env: g.token_env.clone().or(w.token_env).unwrap_or_else(|| "WEBEX_TOKEN".into()),
            token_file: g.token_file.clone().or(w.token_file),
            timeout: secs(g.timeout_secs, w.timeout_secs, 30),
            connect_timeout: secs(g.connect_timeout_secs, w.connect_timeout_secs, 10),
            rate: match g.rate.or(l.rate).unwrap_or(RateOption::PerSecond(20)) {
                RateOption::PerSecond(n) => Rate::Fixed(n),
                RateOption::Auto => Rate::Auto {
                    start: g.auto_start_rate.or(l.auto_start_rate).unwrap_or(10),
                    max: g.max_rate.or(l.max_rate),
                },
            },
            concurrency: g.concurrency.or(l.concurrency).unwrap_or(16) as usize,
            max_retries: g.max_retries.or(l.max_retries).unwrap_or(8),
            max_backoff: secs(g.max_backoff_secs, l.max_backoff_secs, 60),
            max_response_bytes: g.max_response_bytes.or(l.max_response_bytes).unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
            report_dir: g.report_dir.clone().or(r.report_dir).unwrap_or_else(|| "ecbn-reports".into()),
            metrics_file: g.metrics_file.clone().or(r.metrics_file),
            html: g.html.or(r.html).unwrap_or(false),
            notify: g.notify_room.clone().or(n.room_id).filter(|r| !r.trim().is_empty()).map(|room_id| Notify {
                room_id,
                token_env: n.token_env,
                on: n.on.unwrap_or(NotifyOn::Always),
            }),
            max_changes: g.max_changes.or(r.max_changes),
            max_failures: g.max_failures.or(r.max_failures).or(l.max_failures),
            skip_invalid: g.skip_invalid.or(r.skip_invalid).unwrap_or(false),
            require_callback: g.require_callback.or(r.require_callback).unwrap_or(false),
            log_format: g.log.log_format.or(r.log_format).unwrap_or(LogFormat::Text),
            default_country: Country::parse(&country).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "default_country `{country}` is not a country code libphonenumber knows (use e.g. US, CA, GB, DE, FR, IT, AU)"
                ))
            })?,
            sheet: g.sheet.clone().or(r.sheet),
            limit: g.limit,
            detailed_exitcode: g.detailed_exitcode,
            sandbox: g.sandbox,
            verbosity: g.log.verbosity(),
        };
        s.validate()?;
        Ok(s)
    }

    /// How desired files are read under these settings.
    pub(crate) fn read_options(&self) -> ReadOptions {
        ReadOptions { default_country: self.default_country, sheet: self.sheet.clone() }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.concurrency == 0 {
            return Err(ConfigError::Invalid("concurrency must be at least 1".into()));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(ConfigError::Invalid("timeouts must be at least 1 second".into()));
        }
        if let Rate::Auto { start, max } = self.rate
            && (start == 0 || max == Some(0))
        {
            return Err(ConfigError::Invalid("auto_start_rate and max_rate must be at least 1".into()));
        }
        if self.max_response_bytes == 0 {
            return Err(ConfigError::Invalid("max_response_bytes must be at least 1".into()));
        }
        if !self.sandbox {
            check_base_url(&self.base_url)?;
        }
        Ok(())
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

fn load_file(path: &Path, required: bool) -> Result<FileConfig, ConfigError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => return Ok(FileConfig::default()),
        Err(e) => return Err(ConfigError::File { path: shown, message: e.to_string() }),
    };
    toml::from_str(&text)
        .map_err(|e| ConfigError::File { path: shown, message: e.to_string().trim().replace('\n', " ") })
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

    #[test]
    fn unknown_key_names_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[limits]\nrate = 5\nbogus_key = 1\n").unwrap();
        let e = load_file(&p, true).unwrap_err().to_string();
        assert!(e.contains("bogus_key") && e.contains("c.toml"), "{e}");
    }

    #[test]
    fn cli_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[limits]\nrate = 5\nconcurrency = 3\n[run]\nskip_invalid = true\n").unwrap();
        let g = JobArgs { config: Some(p), rate: Some(RateOption::PerSecond(7)), ..Default::default() };
        let s = Settings::resolve(&g).unwrap();
        assert_eq!(s.rate, Rate::Fixed(7));
        assert_eq!(s.concurrency, 3);
        assert!(s.skip_invalid);
        assert_eq!(s.max_retries, 8);
    }
}
