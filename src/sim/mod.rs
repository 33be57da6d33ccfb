//! The Webex Calling simulator: a product feature for rehearsing migrations, and the
//! server every end-to-end test runs against.

mod admin;
pub(crate) mod faults;
pub(crate) mod fixture;
pub(crate) mod generate;
mod handlers;
pub(crate) mod hostile;
mod layer;
pub(crate) mod limiter;
pub(crate) mod oauth;
pub(crate) mod org;
pub(crate) mod server;
pub(crate) mod world;

use faults::Faults;
use fixture::FixtureFile;
use server::SimState;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{path}: {message}")]
    Fixture { path: String, message: String },
    #[error("{path}: {source}")]
    Inconsistent {
        path: String,
        #[source]
        source: org::OrgError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The sample org built into the binary (the same as `samples/org.json`).
pub(crate) const SAMPLE_ORG: &str = include_str!("../../samples/org.json");

pub(crate) fn load_fixture(path: &Path) -> Result<FixtureFile, SimError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SimError::Fixture { path: path.display().to_string(), message: e.to_string() })?;
    parse_fixture(&text, &path.display().to_string())
}

pub(crate) fn parse_fixture(text: &str, shown: &str) -> Result<FixtureFile, SimError> {
    let f: FixtureFile = serde_json::from_str(text)
        .map_err(|e| SimError::Fixture { path: shown.to_string(), message: format!("not a fixture: {e}") })?;
    world::World::new(f.clone()).map_err(|source| SimError::Inconsistent { path: shown.to_string(), source })?;
    Ok(f)
}

/// The first token a fixture gives (the sandbox's).
pub(crate) fn first_token(f: &FixtureFile) -> Option<String> {
    match f {
        FixtureFile::Orgs { orgs, tokens, .. } => tokens.iter().chain(orgs.iter().flat_map(|o| &o.tokens)).next(),
        FixtureFile::Single(f) => f.tokens.first(),
    }
    .map(|t| t.token.clone())
}

/// A running simulator.
pub(crate) struct Running {
    pub addr: SocketAddr,
    pub state: Arc<SimState>,
    task: tokio::task::JoinHandle<()>,
    shutdown: CancellationToken,
}

impl Running {
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Stop serving and save the state file if there is one.
    pub(crate) async fn stop(self) -> Result<(), SimError> {
        self.shutdown.cancel();
        let _ = self.task.await;
        save_state(&self.state)?;
        Ok(())
    }
}

pub(crate) fn save_state(st: &SimState) -> std::io::Result<()> {
    if let Some(p) = &st.state_file
        && st.dirty.swap(false, Ordering::AcqRel)
    {
        crate::atomic::write_json(p, &st.snapshot())?;
    }
    Ok(())
}

pub(crate) struct SimOptions {
    pub fixture: FixtureFile,
    pub bind: String,
    pub faults: Faults,
    pub seed: u64,
    pub state_file: Option<PathBuf>,
    /// How `POST /access_token` mints tokens.
    pub tokens: oauth::TokenPolicy,
}

/// Start serving; the current state comes from `state_file` when it exists.
pub(crate) async fn start(opts: SimOptions) -> Result<Running, SimError> {
    let current = match &opts.state_file {
        Some(p) if p.exists() => load_fixture(p)?,
        _ => opts.fixture.clone(),
    };
    let shown = opts.state_file.as_ref().map_or("the fixture".into(), |p| p.display().to_string());
    let state = Arc::new(
        SimState::new(opts.fixture, current, opts.faults, opts.seed, opts.state_file, opts.tokens)
            .map_err(|source| SimError::Inconsistent { path: shown, source })?,
    );
    let listener = tokio::net::TcpListener::bind(&opts.bind)
        .await
        .map_err(|source| SimError::Bind { addr: opts.bind.clone(), source })?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let app = server::router(state.clone());
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
    });
    // the redirect trap: another port of this machine, whatever the simulator binds
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| SimError::Bind { addr: "127.0.0.1:0".into(), source })?;
    state.trap.set_url(format!("http://{}", trap.local_addr()?));
    let (st, stop) = (state.clone(), shutdown.clone());
    let trap_app =
        axum::Router::new().fallback(move |req: axum::extract::Request| async move { st.trap.receive(&req) });
    tokio::spawn(async move {
        let _ = axum::serve(trap, trap_app).with_graceful_shutdown(async move { stop.cancelled().await }).await;
    });
    if state.state_file.is_some() {
        // persist writes in the background: a killed simulator loses at most ~200 ms
        let (st, stop) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                    _ = stop.cancelled() => break,
                }
                if let Err(e) = save_state(&st) {
                    tracing::warn!("cannot save simulator state: {e}");
                }
            }
        });
    }
    Ok(Running { addr, state, task, shutdown })
}
