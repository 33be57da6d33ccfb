//! ecbn-sync: reconcile Webex Calling emergency callback numbers with a desired state.
//!
//! `main.rs` parses the command line and calls [`run`], which dispatches to one module
//! per command (`commands`). See ARCHITECTURE.md for the map.

#![warn(unreachable_pub)]

mod atomic;
pub mod cli;
mod commands;
mod config;
mod desired;
mod error;
mod ids;
pub mod lock;
mod logging;
mod phone;
mod plan;
mod report;
mod resolve;
mod row;
mod sim;
mod webex;
mod wire;

pub use config::ConfigError;
pub use desired::FileError;
pub use error::{Error, Outcome, exit_code};
pub use sim::SimError;
pub use sim::org::OrgError;
pub use webex::auth::TokenError;
pub use webex::error::Fatal;

use cli::{Command, Invocation, SimCommand};
use commands::Mode;
use report::Recorder;
use tokio_util::sync::CancellationToken;

/// Run a parsed command line. `interrupt` is cancelled by the binary on SIGINT/SIGTERM.
pub async fn run(inv: Invocation, interrupt: CancellationToken) -> Result<Outcome, Error> {
    let Invocation { command, base_url_on_command_line: url_given, file_only } = inv;
    let (mode, file, job) = match command {
        Command::Sim(args) => {
            logging::init(args.log.log_format, args.log.verbosity());
            return match args.command {
                Some(SimCommand::Generate(g)) => commands::generate::run(g),
                None => commands::sim::run(args, interrupt).await,
            };
        }
        Command::Completions(a) => return commands::completions::run(a.shell),
        Command::Auth(cli::AuthArgs { command: cli::AuthCommand::Status(a) }) => {
            let s = settings(&a.job, url_given, &file_only)?;
            return commands::auth::run(&a, &s, interrupt).await;
        }
        Command::Check(a) => (Mode::Check, a.desired, a.job),
        Command::Plan(a) => (Mode::Plan, a.desired, a.job),
        Command::Apply(a) => (Mode::Apply, a.desired, a.job),
        Command::Export(a) => {
            let s = settings(&a.job, url_given, &file_only)?;
            let recorder = Recorder::new("export");
            let end = commands::export::run(a, &s, &recorder, interrupt).await;
            return reported(&s, &recorder, end).await;
        }
    };
    let s = settings(&job, url_given, &file_only)?;
    let recorder = Recorder::new(mode.as_str());
    let end = match mode {
        Mode::Check => commands::check::run(&file, &s, &recorder),
        mode => commands::reconcile::run(mode, &file, &s, &recorder, interrupt).await,
    };
    reported(&s, &recorder, end).await
}

/// After every run that got past the command line, the configuration and the lock: the
/// refresh token's warning, the metrics file, the notification and the old reports'
/// deletion. None of them changes how the run ended.
async fn reported(s: &config::Settings, recorder: &Recorder, end: Result<Outcome, Error>) -> Result<Outcome, Error> {
    if matches!(end, Err(Error::Lock(_) | Error::Usage(_))) {
        return end;
    }
    let grant = match &s.credentials {
        config::Credentials::Grant(g) if !s.sandbox && recorder.mode() != "check" => Some(g),
        _ => None,
    };
    let tokens = grant.map(webex::auth::cache::GrantStatus::read);
    let now = webex::auth::cache::unix_now();
    let warning = grant.zip(tokens.as_ref()).and_then(|(g, t)| t.warning(now, g.warn_within));
    if let Some(w) = &warning {
        tracing::warn!("{w}");
    }
    if let Some(path) = &s.metrics_file {
        report::metrics::write(path, recorder, &end, tokens.as_ref());
    }
    if let Some(notify) = &s.notify {
        let about = report::notify::About::here(s.org_id.clone(), warning);
        commands::notify::send(s, notify, recorder, &end, &about).await;
    }
    if s.keep_reports_days > 0 {
        report::housekeeping::sweep(&s.report_dir, s.keep_reports_days, std::time::SystemTime::now());
    }
    end
}

/// The job's settings, with logging set up from them.
fn settings(
    job: &cli::JobArgs,
    base_url_on_command_line: bool,
    file_only: &cli::FileOnly,
) -> Result<config::Settings, Error> {
    if job.sandbox && base_url_on_command_line {
        return Err(Error::Usage("--sandbox and --base-url cannot be used together".into()));
    }
    let s = config::Settings::resolve(job, file_only)?;
    logging::init(s.log_format, s.verbosity);
    Ok(s)
}
