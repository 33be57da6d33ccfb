//! `sim`: serve the Webex simulator until interrupted.
//!
//! 1. Check the fault settings (a bad one is a bad command line) and load the fixture.
//! 2. Listen; print `listening on http://HOST:PORT` as the first line on stdout.
//! 3. On SIGINT/SIGTERM, stop and save the state file, if any.

use crate::cli::SimArgs;
use crate::error::{Error, Outcome};
use crate::sim;
use crate::sim::faults::{Faults, NextLink};
use crate::sim::hostile::BodyFault;
use crate::sim::limiter::Shape;
use std::io::Write;
use tokio_util::sync::CancellationToken;

pub(crate) async fn run(args: SimArgs, interrupt: CancellationToken) -> Result<Outcome, Error> {
    let faults = Faults {
        fail_rate: args.fail_rate,
        lock_rate: args.lock_rate,
        drop_rate: args.drop_rate,
        latency_ms: args.latency_ms,
        rate_limit: args.rate_limit.filter(|r| *r > 0.0),
        burst: args.burst,
        limiter: Shape::parse(&args.limiter).unwrap_or(Shape::TokenBucket),
        window_secs: args.window_secs,
        retry_after: args.retry_after,
        next_link: args.next_link.as_deref().and_then(NextLink::parse),
        body_fault: args.body_fault.as_deref().and_then(BodyFault::parse),
        body_fault_rate: args.body_fault_rate,
        redirect_rate: args.redirect_rate,
        no_retry_after: args.no_retry_after,
        retry_after_date: args.retry_after_date,
    };
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
