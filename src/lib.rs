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
pub use webex::error::Fatal;
pub use webex::token::TokenError;

use cli::{Command, Invocation, SimCommand};
use commands::Mode;
use tokio_util::sync::CancellationToken;

/// Run a parsed command line. `interrupt` is cancelled by the binary on SIGINT/SIGTERM.
pub async fn run(inv: Invocation, interrupt: CancellationToken) -> Result<Outcome, Error> {
    let (mode, file, job) = match inv.command {
        Command::Sim(args) => {
            logging::init(args.log.log_format.unwrap_or(cli::LogFormat::Text), args.log.verbosity());
            return match args.command {
                Some(SimCommand::Generate(g)) => commands::generate::run(g),
                None => commands::sim::run(args, interrupt).await,
            };
        }
        Command::Check(a) => (Mode::Check, a.desired, a.job),
        Command::Plan(a) => (Mode::Plan, a.desired, a.job),
        Command::Apply(a) => (Mode::Apply, a.desired, a.job),
        Command::Export(a) => {
            let s = settings(&a.job, inv.base_url_on_command_line)?;
            return commands::export::run(a, &s, interrupt).await;
        }
    };
    let s = settings(&job, inv.base_url_on_command_line)?;
    match mode {
        Mode::Check => commands::check::run(&file, &s),
        mode => commands::reconcile::run(mode, &file, &s, interrupt).await,
    }
}

/// The job's settings, with logging set up from them.
fn settings(job: &cli::JobArgs, base_url_on_command_line: bool) -> Result<config::Settings, Error> {
    logging::set_json(job.log.log_format == Some(cli::LogFormat::Json));
    if job.sandbox && base_url_on_command_line {
        return Err(Error::Usage("--sandbox and --base-url cannot be used together".into()));
    }
    let s = config::Settings::resolve(job)?;
    logging::init(s.log_format, s.verbosity);
    Ok(s)
}
