//! The job's options: the one table of every setting. Each field is an option (`--long`),
//! a `config.toml` key (its field name, in the table its help heading names) and an
//! environment variable (`ECBN_SYNC_` + the long name in capitals, derived in
//! [`super::command`]), with its default and its parser here and nowhere else. The
//! command line, the environment and the file all reach this struct through the same
//! parsers (`parse`); `config::Settings` only turns it into typed run settings.

use crate::phone::Country;
use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, ValueEnum};
use std::path::PathBuf;

/// The help headings that are `config.toml` tables: an option under one is a key of
/// that table; options under none (`--config`, `--limit`, …) are command line only.
pub(crate) const WEBEX: &str = "Webex API [webex]";
pub(crate) const LIMITS: &str = "Limits [limits]";
pub(crate) const RUN: &str = "Run [run]";
pub(crate) const NOTIFY: &str = "Notification [notify]";

/// The `config.toml` table of a help heading (`"Limits [limits]"` → `limits`).
pub(crate) fn table_of(heading: Option<&str>) -> Option<&str> {
    let h = heading?;
    let open = h.rfind('[')?;
    h[open + 1..].strip_suffix(']')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `--rate`: requests per second, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateOption {
    PerSecond(u32),
    Auto,
}

impl std::str::FromStr for RateOption {
    type Err = String;
    fn from_str(s: &str) -> Result<RateOption, String> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(RateOption::Auto);
        }
        s.trim()
            .parse()
            .map(RateOption::PerSecond)
            .map_err(|_| format!("`{s}` is neither a whole number of requests per second nor `auto`"))
    }
}

fn country(s: &str) -> Result<Country, String> {
    Country::parse(s).ok_or_else(|| {
        format!("`{s}` is not a country code libphonenumber knows (use e.g. US, CA, GB, DE, FR, IT, AU)")
    })
}

/// A URL's syntax (whether it may be used is the configuration's question).
fn url(s: &str) -> Result<String, String> {
    reqwest::Url::parse(s).map(|_| s.to_string()).map_err(|e| format!("`{s}` is not a URL: {e}"))
}

/// The options of a job (`check`, `plan`, `apply`, `export`).
#[derive(Debug, Args, Clone)]
pub struct JobArgs {
    /// Configuration file [default: ./config.toml when present]
    #[arg(long, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,

    /// Webex API base URL; plain http only to localhost, 127.0.0.0/8 or ::1
    #[arg(long, value_name = "URL", default_value = "https://webexapis.com/v1", value_parser = url, help_heading = WEBEX)]
    pub(crate) base_url: String,
    /// Organisation ID (partner administrators only)
    #[arg(long, value_name = "ID", help_heading = WEBEX)]
    pub(crate) org_id: Option<String>,
    /// Name of the environment variable holding a fixed access token
    #[arg(long, value_name = "NAME", default_value = "WEBEX_TOKEN", help_heading = WEBEX)]
    pub(crate) token_env: String,
    /// File holding a fixed access token (re-read on 401, for rotation)
    #[arg(long, value_name = "PATH", help_heading = WEBEX)]
    pub(crate) token_file: Option<PathBuf>,
    /// Refresh grant: the integration's or service app's client ID
    #[arg(long, value_name = "ID", help_heading = WEBEX)]
    pub(crate) client_id: Option<String>,
    /// Refresh grant: the variable holding the client secret
    #[arg(long, value_name = "NAME", default_value = "WEBEX_CLIENT_SECRET", help_heading = WEBEX)]
    pub(crate) client_secret_env: String,
    /// Refresh grant: or a file holding the client secret
    #[arg(long, value_name = "PATH", help_heading = WEBEX)]
    pub(crate) client_secret_file: Option<PathBuf>,
    /// Refresh grant: the file holding the refresh token (rewritten when Webex rotates it)
    #[arg(long, value_name = "PATH", help_heading = WEBEX)]
    pub(crate) refresh_token_file: Option<PathBuf>,
    /// Refresh grant: the access token and its expiry [default: <refresh_token_file>.cache]
    #[arg(long, value_name = "PATH", help_heading = WEBEX)]
    pub(crate) token_cache_file: Option<PathBuf>,
    /// Refresh grant: the token endpoint [default: <base_url>/access_token]
    #[arg(long, value_name = "URL", value_parser = url, help_heading = WEBEX)]
    pub(crate) token_url: Option<String>,
    /// Refresh grant: refresh when less than this much of the access token's life is left
    #[arg(long, value_name = "S", default_value = "3600", help_heading = WEBEX)]
    pub(crate) refresh_margin_secs: u64,
    /// Refresh grant: warn this many days before the refresh token expires
    #[arg(long, value_name = "DAYS", default_value = "14", help_heading = WEBEX)]
    pub(crate) refresh_warn_days: u64,
    /// Seconds a whole answer may take
    #[arg(long, value_name = "S", default_value = "30", value_parser = clap::value_parser!(u64).range(1..), help_heading = WEBEX)]
    pub(crate) timeout_secs: u64,
    /// Seconds a connection may take
    #[arg(long, value_name = "S", default_value = "10", value_parser = clap::value_parser!(u64).range(1..), help_heading = WEBEX)]
    pub(crate) connect_timeout_secs: u64,

    /// Requests per second for the whole run; 0 = unlimited; auto = find the server's limit
    #[arg(long, value_name = "N|auto", default_value = "20", help_heading = LIMITS)]
    pub(crate) rate: RateOption,
    /// The highest rate `--rate auto` may reach [default: none]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = LIMITS)]
    pub(crate) max_rate: Option<u32>,
    /// Where `--rate auto` starts
    #[arg(long, value_name = "N", default_value = "10", value_parser = clap::value_parser!(u32).range(1..), help_heading = LIMITS)]
    pub(crate) auto_start_rate: u32,
    /// Pin the requests in flight at once [default: what the rate needs at the observed latency]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024), help_heading = LIMITS)]
    pub(crate) concurrency: Option<u32>,
    /// The most requests in flight at once when they follow the latency
    #[arg(long, value_name = "N", default_value = "256", value_parser = clap::value_parser!(u32).range(1..=1024), help_heading = LIMITS)]
    pub(crate) max_concurrency: u32,
    /// Retries of one request after 423, 5xx and connection errors
    #[arg(long, value_name = "N", default_value = "8", help_heading = LIMITS)]
    pub(crate) max_retries: u32,
    /// Longest wait between retries, and the cap of Retry-After
    #[arg(long, value_name = "S", default_value = "60", help_heading = LIMITS)]
    pub(crate) max_backoff_secs: u64,
    /// Largest answer body read (16 MiB); a larger one is refused
    #[arg(long, value_name = "N", default_value = "16777216", value_parser = clap::value_parser!(u64).range(1..), help_heading = LIMITS)]
    pub(crate) max_response_bytes: u64,

    /// Directory for reports, rollback files and the lock
    #[arg(long, value_name = "DIR", default_value = "ecbn-reports", help_heading = RUN)]
    pub(crate) report_dir: PathBuf,
    /// Write the run's metrics here (Prometheus text format, for node_exporter's textfile collector)
    #[arg(long, value_name = "PATH", help_heading = RUN)]
    pub(crate) metrics_file: Option<PathBuf>,
    /// Also write a self-contained HTML page of the run next to its CSV report
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = BoolishValueParser::new(), help_heading = RUN)]
    pub(crate) html: bool,
    /// Refuse (exit 69, nothing written) when more than N rows would change [default: no limit]
    #[arg(long, value_name = "N", help_heading = RUN)]
    pub(crate) max_changes: Option<u64>,
    /// apply: stop writing after N rows failed (exit 3) [default: no limit]
    #[arg(long, value_name = "N", help_heading = RUN)]
    pub(crate) max_failures: Option<u64>,
    /// Mark bad rows `invalid` and go on with the others (exit 3); `=false` turns off a `true` in the file
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = BoolishValueParser::new(), help_heading = RUN)]
    pub(crate) skip_invalid: bool,
    /// Refuse (as a file error, exit 65) a change that would leave a member with no callback number
    #[arg(long, value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value = "false", default_missing_value = "true", value_parser = BoolishValueParser::new(), help_heading = RUN)]
    pub(crate) require_callback: bool,
    /// Sheet of an .xlsx desired file [default: the first]
    #[arg(long, value_name = "NAME", help_heading = RUN)]
    pub(crate) sheet: Option<String>,
    /// Country of phone numbers written without a country code
    #[arg(long, value_name = "CC", default_value = "US", value_parser = country, help_heading = RUN)]
    pub(crate) default_country: Country,
    /// Delete this tool's report files older than this many days after each run; 0 = keep all
    #[arg(long, value_name = "DAYS", default_value = "0", help_heading = RUN)]
    pub(crate) keep_reports_days: u64,
    #[command(flatten)]
    pub(crate) log: LogArgs,

    /// After the run, post its summary to this Webex space (room ID)
    #[arg(long = "notify-room", value_name = "ID", help_heading = NOTIFY)]
    pub(crate) room_id: Option<String>,

    /// plan: exit 2 when a row would be updated
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,
    /// apply: write at most K changes, in file order (a canary)
    #[arg(long, value_name = "K")]
    pub(crate) limit: Option<u64>,
    /// Run against the built-in sample org (state in <report-dir>/sandbox-state.json)
    #[arg(long)]
    pub(crate) sandbox: bool,
}

/// Where log lines go and how many.
#[derive(Debug, Args, Clone)]
pub struct LogArgs {
    /// Log format on stderr
    #[arg(long, value_enum, default_value = "text", help_heading = RUN)]
    pub(crate) log_format: LogFormat,
    /// Less output (-q: warnings and errors only; -qq: errors only)
    #[arg(short, long, action = ArgAction::Count)]
    pub(crate) quiet: u8,
    /// More output (-v: debug, -vv: trace)
    #[arg(short, long, action = ArgAction::Count)]
    pub(crate) verbose: u8,
}

impl LogArgs {
    /// -q/-v: negative is quieter.
    pub(crate) fn verbosity(&self) -> i8 {
        self.verbose as i8 - self.quiet as i8
    }
}
