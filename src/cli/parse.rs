//! From the process's arguments to an [`Invocation`]: the job's options as the command
//! line (before or after the subcommand), the environment, `config.toml` and the
//! defaults give them, in that order of precedence. Every layer is read through the
//! options' own parsers: the command line and the environment by clap, the file by
//! clap too (`file`), so a value means the same wherever it was written.

use super::file::{self, FileOnly};
use super::options::table_of;
use super::{Cli, Command, JobArgs};
use crate::config::ConfigError;
use crate::error::Error;
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, FromArgMatches};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

/// A parsed command line: the command with its job options resolved over every layer.
#[derive(Debug)]
pub struct Invocation {
    pub command: Command,
    /// `--base-url` was given on the command line (not only in the environment).
    pub base_url_on_command_line: bool,
    /// The `config.toml` keys that are no option (`[notify] token_env`, `on`).
    pub(crate) file_only: FileOnly,
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
    let sub = matches.subcommand().map(|(_, m)| m);
    let on_command_line = |m: &ArgMatches, id: &str| source(m, id) == Some(ValueSource::CommandLine);
    let base_url_on_command_line =
        on_command_line(&matches, "base_url") || sub.is_some_and(|m| on_command_line(m, "base_url"));
    let mut file_only = FileOnly::default();
    let mut resolved = |sub: &ArgMatches| -> Result<JobArgs, Error> {
        let given = Given::of(&matches, sub);
        crate::logging::set_json(given.says("log_format", "json"));
        let (path, required) = match given.one("config") {
            Some(p) => (PathBuf::from(p), true),
            None => (PathBuf::from("config.toml"), false),
        };
        let from_file = file::load(&path, required, &options())?;
        file_only = from_file.only;
        Ok(given.over(from_file.given).build()?)
    };
    let command = match (cli.command, sub) {
        (Command::Check(a), Some(m)) => Command::Check(super::FileArgs { job: resolved(m)?, ..a }),
        (Command::Plan(a), Some(m)) => Command::Plan(super::FileArgs { job: resolved(m)?, ..a }),
        (Command::Apply(a), Some(m)) => Command::Apply(super::FileArgs { job: resolved(m)?, ..a }),
        (Command::Export(a), Some(m)) => Command::Export(super::ExportArgs { job: resolved(m)?, ..a }),
        (Command::Auth(a), Some(m)) => {
            let super::AuthCommand::Status(s) = a.command;
            let m = m.subcommand().map_or(m, |(_, m)| m);
            let status = super::AuthStatusArgs { job: resolved(m)?, ..s };
            Command::Auth(super::AuthArgs { command: super::AuthCommand::Status(status) })
        }
        (c, _) => {
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
    Ok(Invocation { command, base_url_on_command_line, file_only })
}

/// Where an option's value came from; `None` also when `m` has no such option (`sim`).
fn source(m: &ArgMatches, id: &str) -> Option<ValueSource> {
    m.try_get_raw(id).ok().and_then(|_| m.value_source(id))
}

/// The job's options alone, as one command: the file's values and the merged layers are
/// parsed through it (no environment; the defaults fill what no layer gave).
fn options() -> clap::Command {
    JobArgs::augment_args(clap::Command::new("ecbn-sync").no_binary_name(true))
}

/// One option's value as a layer gave it.
#[derive(Debug, Clone)]
enum Value {
    Raw(OsString),
    Flag,
    Count(u8),
}

/// The options some layers gave, by option ID; a later layer replaces an earlier one's
/// value (counts, `-qq`, add up).
#[derive(Debug, Default)]
struct Given(BTreeMap<String, Value>);

impl Given {
    /// The environment, then the options before the subcommand, then those after it.
    fn of(top: &ArgMatches, sub: &ArgMatches) -> Given {
        let mut g = Given::default();
        for source in [ValueSource::EnvVariable, ValueSource::CommandLine] {
            for m in [top, sub] {
                g.take(m, source);
            }
        }
        g
    }

    fn take(&mut self, m: &ArgMatches, source: ValueSource) {
        for arg in options().get_arguments() {
            let id = arg.get_id().as_str();
            if self::source(m, id) != Some(source) {
                continue;
            }
            let value = match arg.get_action() {
                ArgAction::SetTrue => Value::Flag,
                ArgAction::Count => {
                    let before = match self.0.get(id) {
                        Some(Value::Count(n)) => *n,
                        _ => 0,
                    };
                    Value::Count(before.saturating_add(m.get_count(id)))
                }
                _ => match m.get_raw(id).and_then(|mut v| v.next_back()) {
                    Some(v) => Value::Raw(v.to_os_string()),
                    None => continue,
                },
            };
            self.0.insert(id.to_string(), value);
        }
    }

    fn one(&self, id: &str) -> Option<&OsString> {
        match self.0.get(id) {
            Some(Value::Raw(v)) => Some(v),
            _ => None,
        }
    }

    fn says(&self, id: &str, value: &str) -> bool {
        self.one(id).is_some_and(|v| v.eq_ignore_ascii_case(value))
    }

    /// These values over those of a lower layer (the file's, as (key, value) pairs).
    fn over(mut self, lower: Vec<(String, String)>) -> Given {
        for (id, v) in lower {
            self.0.entry(id).or_insert(Value::Raw(v.into()));
        }
        self
    }

    /// The typed options: every given value through its option's parser, the defaults
    /// for the rest.
    fn build(&self) -> Result<JobArgs, clap::Error> {
        let cmd = options();
        let mut argv = Vec::new();
        for (id, value) in &self.0 {
            let Some(long) = cmd.get_arguments().find(|a| a.get_id() == id).and_then(|a| a.get_long()) else {
                continue;
            };
            match value {
                Value::Raw(v) => {
                    let mut a = OsString::from(format!("--{long}="));
                    a.push(v);
                    argv.push(a);
                }
                Value::Flag => argv.push(format!("--{long}").into()),
                Value::Count(n) => argv.extend((0..*n).map(|_| OsString::from(format!("--{long}")))),
            }
        }
        JobArgs::from_arg_matches(&cmd.try_get_matches_from(argv)?)
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
    super::map_args(super::command(), &strip)
}

/// Whether `value` is one `arg` accepts: the reason clap gives when it is not.
pub(super) fn refusal(arg: &clap::Arg, value: &std::ffi::OsStr) -> Option<String> {
    let long = arg.get_long()?;
    let probe = clap::Command::new("probe").no_binary_name(true).arg(arg.clone().env(None::<&str>));
    let mut given = OsString::from(format!("--{long}="));
    given.push(value);
    let e = probe.try_get_matches_from([given]).err()?;
    Some(std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.kind().to_string()))
}

/// A bad value in an `ECBN_SYNC_*` variable is a configuration error (exit 78) naming
/// the variable; clap would report it as a bad option without naming it. Each value is
/// checked with its option's own parser (options on the command line read none).
fn check_env(cmd: &clap::Command) -> Result<(), Error> {
    for c in super::all_commands(cmd) {
        for arg in c.get_arguments().filter(|a| table_of(a.get_help_heading()).is_some()) {
            let Some(var) = arg.get_env() else { continue };
            let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) else { continue };
            if let Some(why) = refusal(arg, &value) {
                return Err(ConfigError::Invalid(format!(
                    "environment variable {}: invalid value `{}` for --{}: {why}",
                    var.to_string_lossy(),
                    value.to_string_lossy(),
                    arg.get_long().unwrap_or_default()
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

    fn plan_job(args: &[&str]) -> JobArgs {
        match parse(args).unwrap().command {
            Command::Plan(a) => a.job,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn job_options_stand_before_or_after_the_subcommand() {
        let a = plan_job(&["--rate", "5", "plan", "--concurrency", "3", "f.csv"]);
        assert_eq!((a.rate, a.concurrency), (RateOption::PerSecond(5), Some(3)));
        let a = plan_job(&["--rate", "5", "plan", "--rate", "6", "f.csv"]);
        assert_eq!(a.rate, RateOption::PerSecond(6), "the later one wins");
        let a = plan_job(&["-q", "plan", "-q", "--sandbox", "f.csv"]);
        assert_eq!((a.log.quiet, a.sandbox), (2, true), "counts add up; flags are kept");
        let inv = parse(&["plan", "--base-url", "http://127.0.0.1:1/v1", "f.csv"]).unwrap();
        assert!(inv.base_url_on_command_line);
    }

    #[test]
    fn the_command_line_over_the_file_over_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[limits]\nrate = 5\nconcurrency = 3\n[run]\nskip_invalid = true\n").unwrap();
        let config = p.to_str().unwrap();
        let a = plan_job(&["--config", config, "--rate", "7", "plan", "f.csv"]);
        assert_eq!((a.rate, a.concurrency, a.skip_invalid), (RateOption::PerSecond(7), Some(3), true));
        assert_eq!((a.max_retries, a.timeout_secs), (8, 30), "defaults");
        assert_eq!(a.report_dir, PathBuf::from("ecbn-reports"));
        assert!(a.max_changes.is_none());
        let e = parse(&["plan", "--config", "/nonexistent/named.toml", "f.csv"]).unwrap_err();
        assert_eq!(e.exit_code(), 78, "a named file must exist: {e}");
    }

    #[test]
    fn a_true_in_the_file_can_be_turned_off() {
        let Command::Apply(a) = parse(&["apply", "--skip-invalid=false", "f.csv"]).unwrap().command else {
            panic!("apply")
        };
        assert!(!a.job.skip_invalid);
        let Command::Apply(a) = parse(&["--skip-invalid", "apply", "f.csv"]).unwrap().command else { panic!("apply") };
        assert!(a.job.skip_invalid);
    }

    #[test]
    fn a_bad_value_on_the_command_line_is_a_bad_command_line() {
        for bad in [["--default-country", "XX"], ["--base-url", "not a url"], ["--rate", "fast"]] {
            let e = parse(&[bad[0], bad[1], "plan", "f.csv"]).unwrap_err();
            assert_eq!(e.exit_code(), 64, "{bad:?}: {e}");
        }
    }

    #[test]
    fn sim_takes_no_job_option_and_its_help_shows_none() {
        assert_eq!(parse(&["--rate", "5", "sim", "--fixture", "f"]).unwrap_err().exit_code(), 64);
        let mut cmd = crate::cli::command();
        let help = cmd.find_subcommand_mut("sim").unwrap().find_subcommand_mut("generate").unwrap().render_help();
        let help = help.to_string();
        assert!(help.contains("--people") && !help.contains("--rate") && !help.contains("--base-url"), "{help}");
        let help = cmd.find_subcommand_mut("sim").unwrap().render_help().to_string();
        assert!(help.contains("--rate-limit") && !help.contains("--rate <") && !help.contains("--org-id"), "{help}");
        assert!(!help.contains("[run]"), "{help}");
    }

    #[test]
    fn every_key_reads_its_variable() {
        let cmd = crate::cli::command();
        let plan = cmd.get_subcommands().find(|c| c.get_name() == "plan").unwrap();
        let env =
            |id: &str| plan.get_arguments().find(|a| a.get_id() == id).and_then(|a| a.get_env()).map(|v| v.to_owned());
        assert_eq!(env("max_backoff_secs").unwrap(), "ECBN_SYNC_MAX_BACKOFF_SECS");
        assert_eq!(env("room_id").unwrap(), "ECBN_SYNC_NOTIFY_ROOM");
        assert_eq!(env("log_format").unwrap(), "ECBN_SYNC_LOG_FORMAT");
        assert!(env("limit").is_none() && env("config").is_none() && env("sandbox").is_none());
    }
}
