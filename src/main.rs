//! The `ecbn-sync` binary: parse the command line, install signal handling, call the
//! library, exit with its code.

use clap::Parser;
use tokio_util::sync::CancellationToken;

fn main() {
    let cli = match ecbn_sync::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => ecbn_sync::engine::exit::USAGE,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async {
        let interrupt = CancellationToken::new();
        tokio::spawn(watch_signals(interrupt.clone()));
        ecbn_sync::run(cli, interrupt).await
    });
    // don't wait for in-flight tasks of a stopped run
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    std::process::exit(code);
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
