//! ecbn-sync: reconcile Webex Calling emergency callback numbers with a desired state.
//!
//! `main.rs` parses the command line and calls [`run`]; everything else is here.

mod atomic;
pub mod cli;
pub mod config;
pub mod desired;
pub mod engine;
pub mod export;
pub mod ids;
pub mod lock;
pub mod logging;
pub mod phone;
pub mod plan;
pub mod report;
pub mod resolve;
pub mod sim;
pub mod webex;
pub mod wire;

use cli::{Cli, Command, SimArgs};
use config::Settings;
use engine::{Mode, exit};
use std::sync::Arc;
use std::time::SystemTime;
use tokio_util::sync::CancellationToken;
use webex::{Client, Secret, TokenSource, Transport, TransportConfig};

/// Run a parsed command line; returns the process exit code. `interrupt` is cancelled
/// by the binary on SIGINT/SIGTERM.
pub async fn run(cli: Cli, interrupt: CancellationToken) -> i32 {
    logging::set_json(config::early_log_format(&cli.global) == cli::LogFormat::Json);
    match cli.command {
        Command::Sim(args) => {
            logging::init(config::early_log_format(&cli.global), cli.global.verbose as i8 - cli.global.quiet as i8);
            run_sim(args, interrupt).await
        }
        command => {
            if cli.global.sandbox && cli.global.base_url.is_some() && std::env::var("ECBN_SYNC_BASE_URL").ok() != cli.global.base_url {
                crate::logging::diag("error: --sandbox and --base-url cannot be used together");
                return exit::USAGE;
            }
            let settings = match Settings::resolve(&cli.global) {
                Ok(s) => s,
                Err(e) => {
                    crate::logging::diag(&format!("error: configuration: {e}"));
                    return exit::CONFIG;
                }
            };
            logging::init(settings.log_format, settings.verbosity);
            run_job(command, &settings, interrupt).await
        }
    }
}

/// The token, after the file was read: from `token_file` or the variable `token_env`.
fn load_token(s: &Settings) -> Result<TokenSource, String> {
    let from_env = std::env::var(&s.token_env).ok().filter(|v| !v.trim().is_empty());
    match (&s.token_file, from_env) {
        // an ambiguous token source is refused rather than guessed
        (Some(f), Some(_)) => Err(format!(
            "the token is given twice: token_file ({}) and the variable {}; set only one",
            f.display(),
            s.token_env
        )),
        (Some(f), _) => match std::fs::read_to_string(f) {
            Ok(t) if !t.trim().is_empty() => Ok(TokenSource::new(Secret::new(t.trim()), Some(f.clone()))),
            Ok(_) => Err(format!("the token file {} is empty", f.display())),
            Err(e) => Err(format!("cannot read the token file {}: {e}", f.display())),
        },
        (None, Some(t)) => Ok(TokenSource::new(Secret::new(t.trim()), None)),
        (None, None) => Err(format!(
            "no token: set the environment variable {} (or token_file in config.toml)",
            s.token_env
        )),
    }
}

/// The API to talk to: the real one, or the in-process sandbox simulator.
struct Api {
    client: Client,
    sandbox: Option<sim::Running>,
}

async fn connect(s: &Settings, stop: CancellationToken) -> Result<Api, (i32, String)> {
    let (base_url, token, sandbox) = if s.sandbox {
        let fixture = sim::parse_fixture(sim::SAMPLE_ORG, "built-in sample org").map_err(|e| (exit::FATAL, e.to_string()))?;
        let token = fixture.tokens.first().map(|t| t.token.clone()).unwrap_or_default();
        let running = sim::start(sim::SimOptions {
            fixture,
            bind: "127.0.0.1:0".into(),
            faults: Default::default(),
            seed: 1,
            state_file: Some(s.report_dir.join("sandbox-state.json")),
        })
        .await
        .map_err(|e| (exit::FATAL, format!("sandbox: {e}")))?;
        tracing::info!(url = %running.base_url(), "sandbox: simulator started; state in {}", s.report_dir.join("sandbox-state.json").display());
        (running.base_url(), TokenSource::new(Secret::new(token), None), Some(running))
    } else {
        let token = load_token(s).map_err(|m| (exit::CONFIG, m))?;
        (s.base_url.clone(), token, None)
    };
    let url = config::check_base_url(&base_url).map_err(|e| (exit::CONFIG, e.to_string()))?;
    let transport = Transport::new(
        TransportConfig {
            base_url: url,
            org_id: s.org_id.clone(),
            rate: s.rate,
            max_retries: s.max_retries,
            max_backoff: s.max_backoff,
            timeout: s.timeout,
            connect_timeout: s.connect_timeout,
            concurrency: s.concurrency,
        },
        token,
        stop,
    )
    .map_err(|e| (exit::FATAL, e.to_string()))?;
    Ok(Api { client: Client::new(Arc::new(transport)), sandbox })
}

async fn finish_sandbox(api: Api) {
    if let Some(r) = api.sandbox
        && let Err(e) = r.stop().await
    {
        tracing::error!("sandbox: cannot save the state: {e}");
    }
}

async fn run_job(command: Command, s: &Settings, interrupt: CancellationToken) -> i32 {
    let now = SystemTime::now();
    let (ts, started_at) = report::timestamps(now);
    let (mode, path) = match command {
        Command::Check { desired } => (Mode::Check, desired),
        Command::Plan { desired } => (Mode::Plan, desired),
        Command::Apply { desired } => (Mode::Apply, desired),
        Command::Export(args) => return run_export(args, s, interrupt, &ts, started_at).await,
        Command::Sim(_) => return exit::USAGE,
    };
    // the lock comes before the file is read, so a concurrent apply never starts work
    let _lock = if mode == Mode::Apply {
        match lock::acquire(&s.report_dir, &started_at) {
            Ok(l) => Some(l),
            Err(e @ lock::LockError::Held { .. }) => {
                crate::logging::diag(&format!("error: {e}"));
                return exit::LOCKED;
            }
            Err(e) => {
                crate::logging::diag(&format!("error: {e}"));
                return exit::FATAL;
            }
        }
    } else {
        None
    };
    if mode == Mode::Check {
        return match engine::check(&path, s, &ts, started_at) {
            Ok(code) => code,
            Err(e @ engine::CheckError::File(_)) => {
                crate::logging::diag(&format!("error: {e}"));
                exit::DATA
            }
            Err(e) => {
                crate::logging::diag(&format!("error: {e} ({})", s.report_dir.display()));
                exit::FATAL
            }
        };
    }
    let file = match engine::read_desired(&path, s) {
        Ok(f) => f,
        Err(e) => {
            crate::logging::diag(&format!("error: {e}"));
            return exit::DATA;
        }
    };
    let mut file = file;
    plan::cross_check(&mut file.rows);
    let run = match engine::Run::new(mode, file, s, &ts, started_at) {
        Ok(r) => r,
        Err(e) => {
            crate::logging::diag(&format!("error: cannot write reports in {}: {e}", s.report_dir.display()));
            return exit::FATAL;
        }
    };
    if run.has_invalid() && !s.skip_invalid {
        return run.refuse_invalid();
    }
    let stop = interrupt.child_token();
    let api = match connect(s, stop).await {
        Ok(a) => a,
        Err((code, m)) => {
            crate::logging::diag(&format!("error: {m}"));
            return if code == exit::CONFIG { run.refuse_token(&m) } else { code };
        }
    };
    let code = engine::reconcile(run, api.client.clone(), s, interrupt).await;
    finish_sandbox(api).await;
    code
}

async fn run_export(args: cli::ExportArgs, s: &Settings, interrupt: CancellationToken, ts: &str, started_at: String) -> i32 {
    let source = match (args.all, args.people) {
        (true, None) => export::Source::All { locations: args.location },
        (false, Some(p)) => export::Source::People(p),
        _ => {
            crate::logging::diag("error: export needs --all or --people FILE");
            return exit::USAGE;
        }
    };
    let started = std::time::Instant::now();
    let api = match connect(s, interrupt.child_token()).await {
        Ok(a) => a,
        Err((code, m)) => {
            crate::logging::diag(&format!("error: {m}"));
            return code;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&s.report_dir) {
        crate::logging::diag(&format!("error: cannot create {}: {e}", s.report_dir.display()));
        return exit::FATAL;
    }
    let out_path = match &args.out {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.clone()),
        None => Some(s.report_dir.join(format!("ecbn-export-{ts}.csv"))),
    };
    let opts = s.read_options();
    // write to a temp file and rename, so a failed export never leaves half a file
    let tmp = out_path.as_ref().map(|p| p.with_extension(format!("csv.tmp{}", std::process::id())));
    let mut sink: Box<dyn std::io::Write> = match &tmp {
        None => Box::new(std::io::stdout().lock()),
        Some(t) => match std::fs::File::create(t) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => {
                crate::logging::diag(&format!("error: cannot write {}: {e}", t.display()));
                return exit::FATAL;
            }
        },
    };
    let result = export::export(&api.client, source, &opts, &mut sink, s.concurrency).await;
    drop(sink);
    let t = api.client.transport();
    let (code, counts) = match &result {
        Ok(r) => (r.exit_code, export::counts(r)),
        Err(e) => {
            crate::logging::diag(&format!("error: {e}"));
            (if e.contains(".csv:") || e.contains(".xlsx") { exit::DATA } else { exit::FATAL }, Default::default())
        }
    };
    let code = if t.fatal().is_some() { exit::FATAL } else if interrupt.is_cancelled() { exit::INTERRUPTED } else { code };
    let mut files = Vec::new();
    if let (Some(tmp), Some(out)) = (&tmp, &out_path) {
        if code == exit::OK || code == exit::PARTIAL {
            if let Err(e) = std::fs::rename(tmp, out) {
                crate::logging::diag(&format!("error: cannot write {}: {e}", out.display()));
            } else {
                files.push(out.display().to_string());
            }
        } else {
            let _ = std::fs::remove_file(tmp);
        }
    }
    let json = s.report_dir.join(format!("ecbn-export-{ts}.json"));
    files.push(json.display().to_string());
    let stats = t.stats();
    let (_, finished_at) = report::timestamps(SystemTime::now());
    let summary = report::Summary {
        mode: "export".into(),
        started_at,
        finished_at,
        duration_ms: started.elapsed().as_millis() as u64,
        desired_file: out_path.map(|p| p.display().to_string()).unwrap_or_else(|| "-".into()),
        report_files: files,
        rows: counts.values().sum::<u64>() as usize,
        counts,
        requests: stats.requests,
        http_status: stats.http_status,
        retries: stats.retries,
        rerun_needed: false,
        rollback_unrestorable: vec![],
        exit_code: code,
    };
    if let Err(e) = report::write_summary(&json, &summary) {
        crate::logging::diag(&format!("error: cannot write {}: {e}", json.display()));
    }
    if let Ok(r) = &result {
        crate::logging::diag(&format!("Export: {} people, {} failed.", r.exported, r.failed));
    }
    finish_sandbox(api).await;
    code
}

async fn run_sim(args: SimArgs, interrupt: CancellationToken) -> i32 {
    if let Some(cli::SimCommand::Generate(g)) = args.command {
        if !(0.0..=1.0).contains(&g.drift) || !(0.0..=1.0).contains(&g.targets) || g.people == 0 {
            crate::logging::diag("error: --people must be positive, --drift and --targets between 0 and 1");
            return exit::USAGE;
        }
        let out = sim::generate::generate(&sim::generate::GenOptions { people: g.people, drift: g.drift, targets: g.targets, seed: g.seed });
        if let Err(e) = atomic::write_json(&g.fixture_out, &out.fixture).and_then(|_| sim::generate::write_desired(&g.desired_out, &out.desired)) {
            crate::logging::diag(&format!("error: {e}"));
            return exit::FATAL;
        }
        println!("wrote {} ({} members) and {} ({} rows)", g.fixture_out.display(), out.fixture.members.len(), g.desired_out.display(), out.desired.len());
        return exit::OK;
    }
    let Some(path) = args.fixture else {
        crate::logging::diag("error: sim needs --fixture FILE (or `sim generate`)");
        return exit::USAGE;
    };
    let faults = sim::faults::Faults {
        fail_rate: args.fail_rate,
        lock_rate: args.lock_rate,
        drop_rate: args.drop_rate,
        latency_ms: args.latency_ms,
        rate_limit: args.rate_limit.filter(|r| *r > 0.0),
        burst: args.burst,
        retry_after: args.retry_after,
    };
    if let Err(e) = faults.validate() {
        crate::logging::diag(&format!("error: {e}"));
        return exit::USAGE;
    }
    let fixture = match sim::load_fixture(&path) {
        Ok(f) => f,
        Err(e) => {
            crate::logging::diag(&format!("error: {e}"));
            return exit::DATA;
        }
    };
    let running = match sim::start(sim::SimOptions { fixture, bind: args.bind, faults, seed: args.seed, state_file: args.state }).await {
        Ok(r) => r,
        Err(e) => {
            crate::logging::diag(&format!("error: {e}"));
            return exit::FATAL;
        }
    };
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", running.addr);
        let _ = out.flush();
    }
    interrupt.cancelled().await;
    if let Err(e) = running.stop().await {
        crate::logging::diag(&format!("error: saving state: {e}"));
        return exit::FATAL;
    }
    exit::OK
}
