//! The command line (clap derive). The job options (`options`) may stand before or
//! after the job subcommand (`check`, `plan`, `apply`, `export`); each configuration key
//! reads `ECBN_SYNC_<LONG NAME>` from the environment when it is not on the command line,
//! and `config.toml` below both (`parse`, `file`). `sim` and `sim generate` have their
//! own options and show no job option.

use clap::{Args, CommandFactory, Parser, Subcommand};
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
    /// Where the token comes from and when it expires
    Auth(AuthArgs),
    /// Run the Webex Calling simulator
    Sim(SimArgs),
    /// Print a shell completion script (e.g. `source <(ecbn-sync completions bash)`)
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Where the token comes from and the cached expiry instants (no request)
    Status(AuthStatusArgs),
}

#[derive(Debug, Args)]
pub struct AuthStatusArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Also ask the API whom the token acts for (GET /people/me; exit 1 on 401)
    #[arg(long)]
    pub check: bool,
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
    pub(crate) kind: Vec<crate::ids::Kind>,
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
    /// Address to listen on (port 0: a free port, printed on the first line)
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR")]
    pub bind: String,
    #[command(flatten)]
    pub(crate) faults: crate::sim::faults::Faults,
    /// Seed of the faults' draws (the same seed, the same faults)
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Keep the state in this file across restarts
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seconds an access token minted by POST /access_token lives
    #[arg(long, default_value_t = crate::sim::oauth::ACCESS_TOKEN_TTL_SECS, value_name = "S",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub access_token_ttl: u64,
    /// Seconds a refresh token lives after its last use
    #[arg(long, default_value_t = crate::sim::oauth::REFRESH_TOKEN_TTL_SECS, value_name = "S",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub refresh_token_ttl: u64,
    /// Answer every refresh with a new refresh token (the old one works until the new one is used)
    #[arg(long)]
    pub rotate_refresh_tokens: bool,
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

/// The command line as clap parses it: every option that is a `config.toml` key reads
/// `ECBN_SYNC_` + its long name in capitals (`--max-backoff-secs` →
/// `ECBN_SYNC_MAX_BACKOFF_SECS`), a rule written here once rather than on each option.
pub(crate) fn command() -> clap::Command {
    let with_env = |a: clap::Arg| match (options::table_of(a.get_help_heading()), a.get_long()) {
        (Some(_), Some(long)) => {
            let var = format!("ECBN_SYNC_{}", long.to_ascii_uppercase().replace('-', "_"));
            a.env(var)
        }
        _ => a,
    };
    let cmd = map_args(Cli::command(), &with_env);
    // the simulator's log format is no key of its configuration (it has none)
    cmd.mut_subcommand("sim", |c| c.mut_arg("log_format", |a| a.help_heading(None)))
}

/// `f` on every argument of `cmd` and of its subcommands, at any depth.
fn map_args(cmd: clap::Command, f: &impl Fn(clap::Arg) -> clap::Arg) -> clap::Command {
    let mut cmd = cmd.mut_args(f);
    let names: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_string()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |c| map_args(c, f));
    }
    cmd
}

/// `cmd` and its subcommands, at any depth.
fn all_commands(cmd: &clap::Command) -> Vec<&clap::Command> {
    std::iter::once(cmd).chain(cmd.get_subcommands().flat_map(all_commands)).collect()
}

mod file;
mod options;
mod parse;

pub(crate) use file::FileOnly;
pub use options::{JobArgs, LogArgs, LogFormat, RateOption};
pub use parse::{Invocation, parse, parse_from};
