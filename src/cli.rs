//! The command line (clap derive). The job options may stand before or after the job
//! subcommand (`check`, `plan`, `apply`, `export`); each configuration key reads
//! `ECBN_SYNC_<KEY>` from the environment when it is not on the command line. `sim`
//! and `sim generate` have their own options and show no job option.

use crate::config::ConfigError;
use crate::error::Error;
use clap::builder::BoolishValueParser;
use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
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
    /// Requests per second for the whole run; 0 = unlimited [default: 20]
    #[arg(long, env = "ECBN_SYNC_RATE", value_name = "N")]
    pub rate: Option<u32>,
    /// Requests in flight at once [default: 16]
    #[arg(long, env = "ECBN_SYNC_CONCURRENCY", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: Option<u32>,
    /// Retries of one request after 423, 5xx and connection errors [default: 8]
    #[arg(long, env = "ECBN_SYNC_MAX_RETRIES", value_name = "N")]
    pub max_retries: Option<u32>,
    /// Longest wait between retries, and the cap of Retry-After [default: 60]
    #[arg(long, env = "ECBN_SYNC_MAX_BACKOFF_SECS", value_name = "S")]
    pub max_backoff_secs: Option<u64>,
    /// Directory for reports, rollback files and the lock [default: ecbn-reports]
    #[arg(long, env = "ECBN_SYNC_REPORT_DIR", value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
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
    /// Every person with Webex Calling (one paged /people listing)
    #[arg(long, conflicts_with = "people")]
    pub all: bool,
    /// The people of this desired-state-style file (its person column)
    #[arg(long, value_name = "FILE")]
    pub people: Option<PathBuf>,
    /// Only people of this location (repeatable; with --all)
    #[arg(long, value_name = "ID")]
    pub location: Vec<String>,
    /// Output file, `-` for stdout [default: <report-dir>/ecbn-export-<TS>.csv]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
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
    /// Requests per second per token (429 + Retry-After beyond it)
    #[arg(long, value_name = "R")]
    pub rate_limit: Option<f64>,
    /// Burst of the rate limit [default: ceil(R/10)]
    #[arg(long, value_name = "B")]
    pub burst: Option<u32>,
    /// Retry-After seconds of 429 and 423 answers
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
    #[arg(long, value_name = "N")]
    pub people: usize,
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

/// A parsed command line: the command with its job options merged from before and
/// after the subcommand.
#[derive(Debug)]
pub struct Invocation {
    pub command: Command,
    /// `--base-url` was given on the command line (not only in the environment).
    pub base_url_on_command_line: bool,
}

/// Parse the process's command line.
pub fn parse() -> Result<Invocation, Error> {
    parse_from(std::env::args_os())
}

pub fn parse_from(argv: impl IntoIterator<Item = OsString>) -> Result<Invocation, Error> {
    let argv: Vec<OsString> = argv.into_iter().collect();
    let cmd = command_for(&argv);
    check_env(&cmd)?;
    let matches = cmd.try_get_matches_from(&argv)?;
    let cli = Cli::from_arg_matches(&matches)?;
    let from_command_line = |m: &clap::ArgMatches, id: &str| {
        m.try_get_raw(id).is_ok() && m.value_source(id) == Some(ValueSource::CommandLine)
    };
    let sub = matches.subcommand().map(|(_, m)| m);
    let base_url_on_command_line =
        from_command_line(&matches, "base_url") || sub.is_some_and(|m| from_command_line(m, "base_url"));
    let top = cli.job;
    let command = match cli.command {
        Command::Check(a) => Command::Check(FileArgs { job: a.job.or(top), ..a }),
        Command::Plan(a) => Command::Plan(FileArgs { job: a.job.or(top), ..a }),
        Command::Apply(a) => Command::Apply(FileArgs { job: a.job.or(top), ..a }),
        Command::Export(a) => Command::Export(ExportArgs { job: a.job.or(top), ..a }),
        Command::Sim(a) => {
            let given: Vec<String> = matches
                .ids()
                .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                .map(|id| format!("--{}", id.as_str().replace('_', "-")))
                .collect();
            if !given.is_empty() {
                return Err(Error::Usage(format!("{} cannot be used with `sim`", given.join(", "))));
            }
            Command::Sim(a)
        }
    };
    Ok(Invocation { command, base_url_on_command_line })
}

impl JobArgs {
    /// These options (after the subcommand), completed by `other` (before it).
    fn or(self, other: JobArgs) -> JobArgs {
        JobArgs {
            config: self.config.or(other.config),
            base_url: self.base_url.or(other.base_url),
            org_id: self.org_id.or(other.org_id),
            token_env: self.token_env.or(other.token_env),
            token_file: self.token_file.or(other.token_file),
            timeout_secs: self.timeout_secs.or(other.timeout_secs),
            connect_timeout_secs: self.connect_timeout_secs.or(other.connect_timeout_secs),
            rate: self.rate.or(other.rate),
            concurrency: self.concurrency.or(other.concurrency),
            max_retries: self.max_retries.or(other.max_retries),
            max_backoff_secs: self.max_backoff_secs.or(other.max_backoff_secs),
            report_dir: self.report_dir.or(other.report_dir),
            log: LogArgs {
                log_format: self.log.log_format.or(other.log.log_format),
                quiet: self.log.quiet + other.log.quiet,
                verbose: self.log.verbose + other.log.verbose,
            },
            detailed_exitcode: self.detailed_exitcode || other.detailed_exitcode,
            max_changes: self.max_changes.or(other.max_changes),
            skip_invalid: self.skip_invalid.or(other.skip_invalid),
            limit: self.limit.or(other.limit),
            max_failures: self.max_failures.or(other.max_failures),
            sheet: self.sheet.or(other.sheet),
            default_country: self.default_country.or(other.default_country),
            sandbox: self.sandbox || other.sandbox,
        }
    }
}

/// The command line's command: an option given on the command line, before or after
/// the subcommand, reads no environment variable in either place (so the command line
/// always wins, and the two copies of a job option never disagree); an empty variable
/// counts as unset.
fn command_for(argv: &[OsString]) -> clap::Command {
    let given = |long: &str| {
        argv.iter()
            .filter_map(|a| a.to_str())
            .any(|a| a.strip_prefix("--").is_some_and(|rest| rest == long || rest.starts_with(&format!("{long}="))))
    };
    let empty = |var: &std::ffi::OsStr| std::env::var_os(var).is_some_and(|v| v.is_empty());
    let strip = |a: clap::Arg| match (a.get_long(), a.get_env()) {
        (Some(long), Some(var)) if given(long) || empty(var) => a.env(None::<&str>),
        _ => a,
    };
    let mut cmd = Cli::command().mut_args(strip);
    let names: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |c| c.mut_args(strip));
    }
    cmd
}

/// A bad value in an `ECBN_SYNC_*` variable is a configuration error (exit 78) naming
/// the variable; clap would report it as a bad option without naming it. Each value is
/// checked with its option's own parser (options on the command line read none).
fn check_env(cmd: &clap::Command) -> Result<(), Error> {
    for c in std::iter::once(cmd).chain(cmd.get_subcommands()) {
        for arg in c.get_arguments() {
            let (Some(var), Some(long)) = (arg.get_env(), arg.get_long()) else { continue };
            let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) else { continue };
            // the option's own parser, through a command of this option alone
            let probe = clap::Command::new("probe").no_binary_name(true).arg(arg.clone().env(None::<&str>));
            let mut given = OsString::from(format!("--{long}="));
            given.push(&value);
            if let Err(e) = probe.try_get_matches_from([given]) {
                let why = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
                return Err(ConfigError::Invalid(format!(
                    "environment variable {}: invalid value `{}` for --{long}{why}",
                    var.to_string_lossy(),
                    value.to_string_lossy()
                ))
                .into());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Invocation, Error> {
        parse_from(std::iter::once("ecbn-sync").chain(args.iter().copied()).map(OsString::from))
    }

    #[test]
    fn job_options_stand_before_or_after_the_subcommand() {
        let Command::Plan(a) = parse(&["--rate", "5", "plan", "--concurrency", "3", "f.csv"]).unwrap().command else {
            panic!("plan")
        };
        assert_eq!((a.job.rate, a.job.concurrency), (Some(5), Some(3)));
        let Command::Plan(a) = parse(&["--rate", "5", "plan", "--rate", "6", "f.csv"]).unwrap().command else {
            panic!("plan")
        };
        assert_eq!(a.job.rate, Some(6), "the later one wins");
        let inv = parse(&["plan", "--base-url", "http://127.0.0.1:1/v1", "f.csv"]).unwrap();
        assert!(inv.base_url_on_command_line);
    }

    #[test]
    fn a_true_in_the_file_can_be_turned_off() {
        let Command::Apply(a) = parse(&["apply", "--skip-invalid=false", "f.csv"]).unwrap().command else {
            panic!("apply")
        };
        assert_eq!(a.job.skip_invalid, Some(false));
        let Command::Apply(a) = parse(&["--skip-invalid", "apply", "f.csv"]).unwrap().command else { panic!("apply") };
        assert_eq!(a.job.skip_invalid, Some(true));
    }

    #[test]
    fn sim_takes_no_job_option_and_its_help_shows_none() {
        assert_eq!(parse(&["--rate", "5", "sim", "--fixture", "f"]).unwrap_err().exit_code(), 64);
        let mut cmd = Cli::command();
        let help = cmd.find_subcommand_mut("sim").unwrap().find_subcommand_mut("generate").unwrap().render_help();
        let help = help.to_string();
        assert!(help.contains("--people") && !help.contains("--rate") && !help.contains("--base-url"), "{help}");
        let help = cmd.find_subcommand_mut("sim").unwrap().render_help().to_string();
        assert!(help.contains("--rate-limit") && !help.contains("--rate <") && !help.contains("--org-id"), "{help}");
    }
}
