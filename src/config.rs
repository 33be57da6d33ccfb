//! One settings struct: CLI > environment > config.toml > default.

use crate::cli::{GlobalArgs, LogFormat};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";

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
    rate: Option<u32>,
    concurrency: Option<u32>,
    max_retries: Option<u32>,
    max_backoff_secs: Option<u64>,
    max_failures: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSection {
    report_dir: Option<PathBuf>,
    max_changes: Option<u64>,
    max_failures: Option<u64>,
    skip_invalid: Option<bool>,
    log_format: Option<LogFormat>,
    default_country: Option<String>,
    sheet: Option<String>,
}

/// Everything a run needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub org_id: Option<String>,
    pub token_env: String,
    pub token_file: Option<PathBuf>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub rate: u32,
    pub concurrency: usize,
    pub max_retries: u32,
    pub max_backoff: Duration,
    pub report_dir: PathBuf,
    pub max_changes: Option<u64>,
    pub max_failures: Option<u64>,
    pub skip_invalid: bool,
    pub log_format: LogFormat,
    pub default_country: crate::phone::Country,
    pub sheet: Option<String>,
    pub limit: Option<u64>,
    pub detailed_exitcode: bool,
    pub sandbox: bool,
    /// -q/-v: negative is quieter.
    pub verbosity: i8,
}

fn env_parse<T: std::str::FromStr>(key: &str) -> Result<Option<T>, ConfigError> {
    match std::env::var(key) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError::Invalid(format!("environment variable {key}: invalid value `{v}`"))),
        _ => Ok(None),
    }
}

/// Only the log format, for setting up logging before the rest can fail.
pub fn early_log_format(g: &GlobalArgs) -> LogFormat {
    g.log_format.unwrap_or(LogFormat::Text)
}

impl Settings {
    pub fn resolve(g: &GlobalArgs) -> Result<Settings, ConfigError> {
        let (path, required) = match &g.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from("config.toml"), false),
        };
        let file = load_file(&path, required)?;
        let w = file.webex;
        let l = file.limits;
        let r = file.run;
        let secs = |v: Option<u64>, env: &str, d: u64| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(env_parse(env)?.or(v).unwrap_or(d)))
        };
        let s = Settings {
            base_url: g.base_url.clone().or(w.base_url).unwrap_or_else(|| DEFAULT_BASE_URL.into()),
            org_id: g.org_id.clone().or(w.org_id).filter(|s| !s.trim().is_empty()),
            token_env: g.token_env.clone().or(w.token_env).unwrap_or_else(|| "WEBEX_TOKEN".into()),
            token_file: g.token_file.clone().or(w.token_file),
            timeout: secs(w.timeout_secs, "ECBN_SYNC_TIMEOUT_SECS", 30)?,
            connect_timeout: secs(w.connect_timeout_secs, "ECBN_SYNC_CONNECT_TIMEOUT_SECS", 10)?,
            rate: g.rate.or(l.rate).unwrap_or(20),
            concurrency: g.concurrency.or(l.concurrency).unwrap_or(16) as usize,
            max_retries: env_parse("ECBN_SYNC_MAX_RETRIES")?.or(l.max_retries).unwrap_or(8),
            max_backoff: secs(l.max_backoff_secs, "ECBN_SYNC_MAX_BACKOFF_SECS", 60)?,
            report_dir: g.report_dir.clone().or(r.report_dir).unwrap_or_else(|| "ecbn-reports".into()),
            max_changes: g.max_changes.or(r.max_changes),
            max_failures: g.max_failures.or(r.max_failures).or(l.max_failures),
            skip_invalid: g.skip_invalid || r.skip_invalid.unwrap_or(false),
            log_format: g.log_format.or(r.log_format).unwrap_or(LogFormat::Text),
            default_country: {
                let code = env_parse::<String>("ECBN_SYNC_DEFAULT_COUNTRY")?.or(r.default_country).unwrap_or_else(|| "US".into());
                crate::phone::Country::parse(&code).ok_or_else(|| ConfigError::Invalid(format!(
                    "default_country `{code}` is not a country code libphonenumber knows (use e.g. US, CA, GB, DE, FR, IT, AU)"
                )))?
            },
            sheet: g.sheet.clone().or(r.sheet),
            limit: g.limit,
            detailed_exitcode: g.detailed_exitcode,
            sandbox: g.sandbox,
            verbosity: g.verbose as i8 - g.quiet as i8,
        };
        s.validate()?;
        Ok(s)
    }

    /// How desired files are read under these settings.
    pub fn read_options(&self) -> crate::desired::ReadOptions {
        crate::desired::ReadOptions {
            default_country: self.default_country,
            sheet: self.sheet.clone(),
            person_only: false,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.concurrency == 0 {
            return Err(ConfigError::Invalid("concurrency must be at least 1".into()));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(ConfigError::Invalid("timeouts must be at least 1 second".into()));
        }
        if !self.sandbox {
            check_base_url(&self.base_url)?;
        }
        Ok(())
    }
}

/// `https://` anywhere; plain `http://` only to this machine (a token must never cross
/// a network in clear text).
pub fn check_base_url(url: &str) -> Result<reqwest::Url, ConfigError> {
    let u = reqwest::Url::parse(url)
        .map_err(|e| ConfigError::Invalid(format!("base_url `{url}` is not a URL: {e}")))?;
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
    toml::from_str(&text).map_err(|e| ConfigError::File {
        path: shown,
        message: e.to_string().trim().replace('\n', " "),
    })
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
        let g = GlobalArgs { config: Some(p), rate: Some(7), ..Default::default() };
        let s = Settings::resolve(&g).unwrap();
        assert_eq!(s.rate, 7);
        assert_eq!(s.concurrency, 3);
        assert!(s.skip_invalid);
        assert_eq!(s.max_retries, 8);
    }
}
