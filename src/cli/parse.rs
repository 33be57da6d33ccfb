//! From the process's arguments to an [`Invocation`]: the job options merged from
//! before and after the subcommand, the environment read the way the contract says.

use super::{Cli, Command, ExportArgs, FileArgs, JobArgs, LogArgs};
use crate::config::ConfigError;
use crate::error::Error;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;

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
        c @ (Command::Sim(_) | Command::Completions(_)) => {
            let given: Vec<String> = matches
                .ids()
                .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
                .map(|id| format!("--{}", id.as_str().replace('_', "-")))
                .collect();
            if !given.is_empty() {
                let name = if matches!(c, Command::Sim(_)) { "sim" } else { "completions" };
                return Err(Error::Usage(format!("{} cannot be used with `{name}`", given.join(", "))));
            }
            c
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
            max_rate: self.max_rate.or(other.max_rate),
            auto_start_rate: self.auto_start_rate.or(other.auto_start_rate),
            concurrency: self.concurrency.or(other.concurrency),
            max_retries: self.max_retries.or(other.max_retries),
            max_backoff_secs: self.max_backoff_secs.or(other.max_backoff_secs),
            max_response_bytes: self.max_response_bytes.or(other.max_response_bytes),
            report_dir: self.report_dir.or(other.report_dir),
            metrics_file: self.metrics_file.or(other.metrics_file),
            notify_room: self.notify_room.or(other.notify_room),
            html: self.html.or(other.html),
            log: LogArgs {
                log_format: self.log.log_format.or(other.log.log_format),
                quiet: self.log.quiet + other.log.quiet,
                verbose: self.log.verbose + other.log.verbose,
            },
            detailed_exitcode: self.detailed_exitcode || other.detailed_exitcode,
            max_changes: self.max_changes.or(other.max_changes),
            skip_invalid: self.skip_invalid.or(other.skip_invalid),
            require_callback: self.require_callback.or(other.require_callback),
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
    use crate::cli::RateOption;

    fn parse(args: &[&str]) -> Result<Invocation, Error> {
        parse_from(std::iter::once("ecbn-sync").chain(args.iter().copied()).map(OsString::from))
    }

    #[test]
    fn job_options_stand_before_or_after_the_subcommand() {
        let Command::Plan(a) = parse(&["--rate", "5", "plan", "--concurrency", "3", "f.csv"]).unwrap().command else {
            panic!("plan")
        };
        assert_eq!((a.job.rate, a.job.concurrency), (Some(RateOption::PerSecond(5)), Some(3)));
        let Command::Plan(a) = parse(&["--rate", "5", "plan", "--rate", "6", "f.csv"]).unwrap().command else {
            panic!("plan")
        };
        assert_eq!(a.job.rate, Some(RateOption::PerSecond(6)), "the later one wins");
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
