//! The command line (clap derive). The job options may stand before or after the job
//! subcommand (`check`, `plan`, `apply`, `export`); each configuration key reads
//! `ECBN_SYNC_<KEY>` from the environment when it is not on the command line. `sim`
//! and `sim generate` have their own options and show no job option.

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ecbn-sync",
    version,
    about = "Reconcile Webex Calling emergency callback numbers (ECBN) with a desired-state file",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub job: JobArgs,
    #[command(subcommand)]
    pub command: Command,
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

impl<'de> serde::Deserialize<'de> for RateOption {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RateOption, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u32),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(RateOption::PerSecond(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// The options of a job (`check`, `plan`, `apply`, `export`).
#[derive(Debug, Args, Default, Clone)]
pub struct JobArgs {
    /// Configuration file [default: ./config.toml when present]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Webex API base URL [default: https://webexapis.com/v1]
    #[arg(long, env = "ECBN_SYNC_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Organisation ID (partner administrators only)
    #[arg(long, env = "ECBN_SYNC_ORG_ID", value_name = "ID")]
    pub org_id: Option<String>,
    /// Name of the environment variable holding the token [default: WEBEX_TOKEN]
    #[arg(long, env = "ECBN_SYNC_TOKEN_ENV", value_name = "NAME")]
    pub token_env: Option<String>,
    /// File holding the token (re-read on 401, for rotation)
    #[arg(long, env = "ECBN_SYNC_TOKEN_FILE", value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Seconds a whole answer may take [default: 30]
    #[arg(long, env = "ECBN_SYNC_TIMEOUT_SECS", value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_secs: Option<u64>,
    /// Seconds a connection may take [default: 10]
    #[arg(long, env = "ECBN_SYNC_CONNECT_TIMEOUT_SECS", value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    pub connect_timeout_secs: Option<u64>,
    /// Requests per second for the whole run; 0 = unlimited; auto = find the server's limit [default: 20]
    #[arg(long, env = "ECBN_SYNC_RATE", value_name = "N|auto")]
    pub rate: Option<RateOption>,
    /// The highest rate `--rate auto` may reach [default: none]
    #[arg(long, env = "ECBN_SYNC_MAX_RATE", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rate: Option<u32>,
    /// Where `--rate auto` starts [default: 10]
    #[arg(long, env = "ECBN_SYNC_AUTO_START_RATE", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub auto_start_rate: Option<u32>,
    /// Requests in flight at once [default: 16]
    #[arg(long, env = "ECBN_SYNC_CONCURRENCY", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: Option<u32>,
    /// Retries of one request after 423, 5xx and connection errors [default: 8]
    #[arg(long, env = "ECBN_SYNC_MAX_RETRIES", value_name = "N")]
    pub max_retries: Option<u32>,
    /// Longest wait between retries, and the cap of Retry-After [default: 60]
    #[arg(long, env = "ECBN_SYNC_MAX_BACKOFF_SECS", value_name = "S")]
    pub max_backoff_secs: Option<u64>,
    /// Largest answer body read; a larger one is refused [default: 16777216]
    #[arg(long, env = "ECBN_SYNC_MAX_RESPONSE_BYTES", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_response_bytes: Option<u64>,
    /// Directory for reports, rollback files and the lock [default: ecbn-reports]
    #[arg(long, env = "ECBN_SYNC_REPORT_DIR", value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Write the run's metrics here (Prometheus text format, for node_exporter's textfile collector)
    #[arg(long, env = "ECBN_SYNC_METRICS_FILE", value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Also write a self-contained HTML page of the run next to its CSV report
    #[arg(long, env = "ECBN_SYNC_HTML", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub html: Option<bool>,
    /// After the run, post its summary to this Webex space (room ID)
    #[arg(long, env = "ECBN_SYNC_NOTIFY_ROOM", value_name = "ID")]
    pub notify_room: Option<String>,
    #[command(flatten)]
    pub log: LogArgs,
    /// plan: exit 2 when a row would be updated
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Refuse (exit 69, nothing written) when more than N rows would change
    #[arg(long, env = "ECBN_SYNC_MAX_CHANGES", value_name = "N")]
    pub max_changes: Option<u64>,
    /// Mark bad rows `invalid` and go on with the others (exit 3); `=false` turns off a `true` in the file
    #[arg(long, env = "ECBN_SYNC_SKIP_INVALID", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub skip_invalid: Option<bool>,
    /// Refuse (as a file error, exit 65) a change that would leave a member with no callback number
    #[arg(long, env = "ECBN_SYNC_REQUIRE_CALLBACK", value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub require_callback: Option<bool>,
    /// apply: write at most K changes, in file order (a canary)
    #[arg(long, value_name = "K")]
    pub limit: Option<u64>,
    /// apply: stop writing after N rows failed (exit 3)
    #[arg(long, env = "ECBN_SYNC_MAX_FAILURES", value_name = "N")]
    pub max_failures: Option<u64>,
    /// Sheet of an .xlsx desired file [default: the first]
    #[arg(long, env = "ECBN_SYNC_SHEET", value_name = "NAME")]
    pub sheet: Option<String>,
    /// Country of phone numbers written without a country code [default: US]
    #[arg(long, env = "ECBN_SYNC_DEFAULT_COUNTRY", value_name = "CC")]
    pub default_country: Option<String>,
    /// Run against the built-in sample org (state in <report-dir>/sandbox-state.json)
    #[arg(long)]
    pub sandbox: bool,
}

/// Where log lines go and how many.
#[derive(Debug, Args, Default, Clone)]
pub struct LogArgs {
    /// Log format on stderr [default: text]
    #[arg(long, env = "ECBN_SYNC_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Less output (-q: warnings and errors only; -qq: errors only)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// More output (-v: debug, -vv: trace)
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl LogArgs {
    /// -q/-v: negative is quieter.
    pub fn verbosity(&self) -> i8 {
        self.verbose as i8 - self.quiet as i8
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the desired file offline (no token, no network)
    Check(FileArgs),
    /// Dry run: read the current state and report what would change; never writes
    Plan(FileArgs),
    /// Reconcile: write the needed changes
    Apply(FileArgs),
    /// Write the current state as a desired-state file
    Export(ExportArgs),
    /// Run the Webex Calling simulator
    Sim(SimArgs),
    /// Print a shell completion script (e.g. `source <(ecbn-sync completions bash)`)
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct FileArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// The desired-state file (.csv or .xlsx)
    pub desired: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Every member with Webex Calling: people, workspaces and virtual lines (paged listings)
    #[arg(long, conflicts_with = "people")]
    pub all: bool,
    /// The members of this desired-state-style file (its member column)
    #[arg(long, value_name = "FILE")]
    pub people: Option<PathBuf>,
    /// Only members of this location (repeatable; with --all)
    #[arg(long, value_name = "ID")]
    pub location: Vec<String>,
    /// Only members of these kinds [default: all three]
    #[arg(long, value_name = "K,...", value_delimiter = ',', value_enum)]
    pub kind: Vec<KindArg>,
    /// Output file, `-` for stdout [default: <report-dir>/ecbn-export-<TS>.csv]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A kind of member, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Person,
    Workspace,
    #[value(name = "virtual_line")]
    VirtualLine,
}

impl KindArg {
    pub(crate) fn kind(self) -> crate::ids::Kind {
        match self {
            KindArg::Person => crate::ids::Kind::Person,
            KindArg::Workspace => crate::ids::Kind::Workspace,
            KindArg::VirtualLine => crate::ids::Kind::VirtualLine,
        }
    }
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SimArgs {
    #[command(subcommand)]
    pub command: Option<SimCommand>,
    #[command(flatten)]
    pub log: LogArgs,
    /// Fixture file (org, tokens, locations, members)
    #[arg(long, value_name = "FILE")]
    pub fixture: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub bind: String,
    /// Requests per second per token (token bucket), or per window (429 + Retry-After beyond it)
    #[arg(long, value_name = "R")]
    pub rate_limit: Option<f64>,
    /// Burst of the token bucket [default: ceil(R/10)]
    #[arg(long, value_name = "B")]
    pub burst: Option<u32>,
    /// The shape of the rate limit
    #[arg(long, default_value = "token-bucket", value_name = "SHAPE", value_parser = crate::sim::limiter::Shape::NAMES)]
    pub limiter: String,
    /// The window of fixed-window and sliding-window limits, in seconds
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub window_secs: u64,
    /// Retry-After seconds of the token bucket's 429s and of 423s
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub retry_after: u64,
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Fraction of requests answered 500/502/503/504
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub fail_rate: f64,
    /// Fraction of requests answered 423 + Retry-After
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub lock_rate: f64,
    /// Fraction of connections dropped without an answer
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub drop_rate: f64,
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Spoil the next-page links of listings: drop-org-id, foreign-org or foreign-host
    #[arg(long, value_name = "HOW", value_parser = ["drop-org-id", "foreign-org", "foreign-host"])]
    pub next_link: Option<String>,
    /// Spoil 2xx answers to GETs: html, truncated, wrong-shape, huge (20 MiB) or drip (1 byte/s)
    #[arg(long, value_name = "KIND", value_parser = crate::sim::hostile::BodyFault::NAMES)]
    pub body_fault: Option<String>,
    /// Fraction of 2xx answers to GETs spoiled by --body-fault
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub body_fault_rate: f64,
    /// Fraction of requests answered 307 to another local port (a misconfigured proxy)
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub redirect_rate: f64,
    /// 429 and 423 without Retry-After
    #[arg(long)]
    pub no_retry_after: bool,
    /// Retry-After as an HTTP date
    #[arg(long)]
    pub retry_after_date: bool,
    /// Keep the state in this file across restarts
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Write a large synthetic fixture and a desired CSV
    Generate(GenArgs),
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Members in all (people, and the shares of workspaces and virtual lines)
    #[arg(long, value_name = "N")]
    pub people: usize,
    /// Share of the members that are workspaces (besides a lobby per site)
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub workspaces: f64,
    /// Share of the members that are virtual lines
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub virtual_lines: f64,
    #[arg(long, default_value_t = 0.1, value_name = "F")]
    pub drift: f64,
    #[arg(long, default_value_t = 0.05, value_name = "F")]
    pub targets: f64,
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    #[arg(long, value_name = "FILE")]
    pub fixture_out: PathBuf,
    #[arg(long, value_name = "FILE")]
    pub desired_out: PathBuf,
}

mod parse;

pub use parse::{Invocation, parse, parse_from};
