//! `sim`: serve the Webex simulator until interrupted.
//!
//! 1. Check the fault settings (a bad one is a bad command line) and load the fixture.
//! 2. Listen; print `listening on http://HOST:PORT` as the first line on stdout.
//! 3. On SIGINT/SIGTERM, stop and save the state file, if any.

use crate::cli::SimArgs;
use crate::error::{Error, Outcome};
use crate::sim;
use std::io::Write;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(args: SimArgs, interrupt: CancellationToken) -> Result<Outcome, Error> {
    let faults = args.faults;
    faults.validate().map_err(|e| Error::Usage(e.to_string()))?;
    let Some(path) = args.fixture else {
        return Err(Error::Usage("sim needs --fixture FILE (or `sim generate`)".into()));
    };
    let fixture = sim::load_fixture(&path)?;
    let tokens = sim::oauth::TokenPolicy {
        access_ttl: args.access_token_ttl,
        refresh_ttl: args.refresh_token_ttl,
        rotate: args.rotate_refresh_tokens,
    };
    let options = sim::SimOptions { fixture, bind: args.bind, faults, seed: args.seed, state_file: args.state, tokens };
    let running = sim::start(options).await?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", running.addr);
        let _ = out.flush();
    }
    interrupt.cancelled().await;
    running.stop().await?;
    Ok(Outcome::Clean)
}
