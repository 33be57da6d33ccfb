//! The `ecbn-sync` binary: parse the command line, install signal handling, run the
//! library, print how the run ended, exit with its code.

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

fn main() {
    let result = ecbn_sync::cli::parse().and_then(|invocation| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let result = runtime.block_on(async {
            let interrupt = CancellationToken::new();
            tokio::spawn(watch_signals(interrupt.clone()));
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

/// First SIGINT/SIGTERM: stop taking new work (the run writes its reports, exit 130).
/// Second: exit at once.
async fn watch_signals(interrupt: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return;
    };
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
