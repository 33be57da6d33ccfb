//! The `ecbn-sync` binary: parse the command line, install signal handling, run the
//! library, print how the run ended, exit with its code.

use anyhow::Context as _;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

fn main() {
    let result = ecbn_sync::cli::parse().and_then(|invocation| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let result = runtime.block_on(async {
            let interrupt = CancellationToken::new();
            // the handlers are in place before the run starts: a signal is never missed
            let signals = Signals::install();
            tokio::spawn(watch_signals(signals, interrupt.clone()));
            ecbn_sync::run(invocation, interrupt).await
        });
        // every file is written and the sandbox saved by now: don't wait for the tasks
        // left (idle HTTP connections, requests of a stopped run)
        runtime.shutdown_background();
        result
    });
    if let Err(e) = &result {
        e.report();
    }
    std::process::exit(ecbn_sync::exit_code(&result));
}

/// SIGINT and SIGTERM, caught.
struct Signals(Option<(Signal, Signal)>);

impl Signals {
    fn install() -> Signals {
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(int), Ok(term)) => Signals(Some((int, term))),
            _ => Signals(None),
        }
    }
}

/// First SIGINT/SIGTERM: stop taking new work (the run writes its reports, exit 130).
/// Second: exit at once.
async fn watch_signals(signals: Signals, interrupt: CancellationToken) {
    let Some((mut int, mut term)) = signals.0 else { return };
    let mut seen = 0;
    loop {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
        seen += 1;
        if seen == 1 {
            tracing::warn!("interrupted: finishing requests in flight and writing reports (again to quit at once)");
            interrupt.cancel();
        } else {
            std::process::exit(130);
        }
    }
}
