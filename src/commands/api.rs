//! The API a job talks to: the real one (with a token), or the in-process sandbox
//! simulator seeded with the sample org.

use crate::config::{Settings, check_base_url};
use crate::error::Error;
use crate::sim;
use crate::webex::{Client, Secret, TokenSource, Transport, TransportConfig};
use anyhow::Context as _;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(crate) struct Api {
    pub(crate) client: Client,
    sandbox: Option<sim::Running>,
}

impl Api {
    /// The client of a run; `stop` ends its requests (a signal, a fatal answer).
    pub(crate) async fn connect(s: &Settings, stop: CancellationToken) -> Result<Api, Error> {
        let (base_url, token, sandbox) = if s.sandbox {
            let state = s.report_dir.join("sandbox-state.json");
            let fixture = sim::parse_fixture(sim::SAMPLE_ORG, "built-in sample org")?;
            let token = sim::first_token(&fixture).unwrap_or_default();
            let running = sim::start(sim::SimOptions {
                fixture,
                bind: "127.0.0.1:0".into(),
                faults: Default::default(),
                seed: 1,
                state_file: Some(state.clone()),
                tokens: Default::default(),
            })
            .await
            .context("cannot start the sandbox")?;
            tracing::info!(url = %running.base_url(), "sandbox: simulator started; state in {}", state.display());
            (running.base_url(), TokenSource::new(Secret::new(token), None), Some(running))
        } else {
            let token = TokenSource::load(&s.credentials)?;
            (s.base_url.clone(), token, None)
        };
        let config = transport_config(s, &base_url)?;
        let transport = Transport::new(config, token, stop).context("cannot set up the HTTP client")?;
        Ok(Api { client: Client::new(Arc::new(transport)), sandbox })
    }

    /// Stop the sandbox and save its state (the real API needs nothing).
    pub(crate) async fn close(self) {
        if let Some(r) = self.sandbox
            && let Err(e) = r.stop().await
        {
            tracing::error!("sandbox: cannot save the state: {e}");
        }
    }
}

/// The transport of a run against `base_url`, as the settings say.
pub(super) fn transport_config(s: &Settings, base_url: &str) -> Result<TransportConfig, Error> {
    Ok(TransportConfig {
        base_url: check_base_url(base_url)?,
        org_id: s.org_id.clone(),
        rate: s.rate,
        max_retries: s.max_retries,
        max_backoff: s.max_backoff,
        max_response_bytes: s.max_response_bytes,
        timeout: s.timeout,
        connect_timeout: s.connect_timeout,
        concurrency: s.concurrency,
        max_concurrency: s.max_concurrency,
    })
}
