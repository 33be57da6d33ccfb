//! Logs on stderr (text or one JSON object per line); a progress bar only when stderr
//! is a terminal and logs are text.

use crate::cli::LogFormat;
use std::io::IsTerminal;
use tracing_indicatif::IndicatifLayer;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static JSON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A message for the person at the terminal (a file error, a refusal): a plain line on
/// stderr, or a JSON log object when logs are JSON (every stderr line is one then).
pub(crate) fn diag(message: &str) {
    if JSON.load(std::sync::atomic::Ordering::Relaxed) {
        // the same shape as tracing-subscriber's JSON lines; written directly so it
        // also works before logging is set up (configuration errors)
        let (_, ts) = crate::report::timestamps(std::time::SystemTime::now());
        let line = serde_json::json!({"timestamp": ts, "level": "ERROR", "fields": {"message": message}, "target": "ecbn_sync"});
        eprintln!("{line}");
    } else {
        // lift the progress bar (a terminal only) while the line prints
        tracing_indicatif::suspend_tracing_indicatif(|| eprintln!("{message}"));
    }
}

/// Choose the stderr format of `diag` before logging itself is set up.
pub(crate) fn set_json(json: bool) {
    JSON.store(json, std::sync::atomic::Ordering::Relaxed);
}

/// Set up logging once, when the settings are known.
pub(crate) fn init(format: LogFormat, verbosity: i8) {
    set_json(format == LogFormat::Json);
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    // our crate at the chosen level; dependencies stay quiet unless -vv
    let directive = if verbosity >= 2 { level.to_string() } else { format!("warn,ecbn_sync={level}") };
    let filter = EnvFilter::try_from_env("ECBN_SYNC_LOG").unwrap_or_else(|_| EnvFilter::new(directive));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_current_span(false)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Text if std::io::stderr().is_terminal() => {
            let bar = IndicatifLayer::new();
            registry
                .with(tracing_subscriber::fmt::layer().with_writer(bar.get_stderr_writer()).with_target(false))
                .with(bar)
                .try_init()
        }
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(false))
            .try_init(),
    };
    // a second init (tests calling `run` twice) keeps the first subscriber
    let _ = result;
}
