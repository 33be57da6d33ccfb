//! Renewing the run's token through the run's own transport: a refresh grant's access
//! token before the first request when less than `refresh_margin_secs` of it is left,
//! and once more after a 401 (every worker that meets it waits for that one renewal); a
//! fixed token's file is re-read after a 401. The refresh is a request like any other
//! (paced, retried on 5xx and timeouts, never redirected, booked in the summary), but
//! not behind the first-request gate: the gate's one request is the first API request.

use super::{Request, Transport};
use crate::webex::auth::cache::{unix_now, when};
use crate::webex::auth::grant::Grant;
use crate::webex::error::{ApiError, Fatal};
use crate::wire::AccessToken;

/// A refresh that did not give a token.
enum Failed {
    Fatal(Fatal),
    /// The run stopped meanwhile.
    Stopped,
}

impl Transport {
    /// Before the first request: the token is ready to use. False when the run stopped
    /// (a refused refresh stops it, exit 1).
    pub(super) async fn ready(&self) -> bool {
        if self.token.is_ready() {
            return !self.stopped();
        }
        let _one = self.token.renewing.lock().await;
        if !self.token.is_ready() {
            if let Some(g) = self.token.grant()
                && g.needs_refresh(unix_now())
            {
                match self.refresh(g, true).await {
                    Ok(()) => {}
                    Err(Failed::Fatal(f)) => self.set_fatal(f),
                    Err(Failed::Stopped) => {}
                }
            }
            self.token.set_ready();
        }
        !self.stopped()
    }

    /// After a 401 with the token of generation `seen`: true when a newer token is there
    /// to try (renewed now, or by another worker meanwhile).
    pub(super) async fn renew(&self, seen: u64) -> bool {
        let Some(g) = self.token.grant() else { return self.token.reread(seen) };
        let _one = self.token.renewing.lock().await;
        if self.token.generation() != seen {
            return true;
        }
        if !self.token.first_renewal_after_401() {
            return false;
        }
        tracing::info!("401: renewing the access token");
        match self.refresh(g, false).await {
            Ok(()) => true,
            Err(Failed::Fatal(f)) => {
                self.set_fatal(f);
                false
            }
            Err(Failed::Stopped) => false,
        }
    }

    /// One refresh of the grant's access token. With `ride_out`, a token endpoint that
    /// fails (5xx, timeouts, an unreadable answer) while the access token in use still
    /// works is a warning, not the end of the run.
    async fn refresh(&self, g: &Grant, ride_out: bool) -> Result<(), Failed> {
        let req = Request::token(g.url.clone(), g.form());
        let call = Box::pin(self.attempts(&req)).await;
        let now = unix_now();
        let answer = call.result.and_then(|r| r.decode::<AccessToken>());
        let e = match answer {
            Ok(a) => {
                let token = g.keep(a, now).map_err(|e| Failed::Fatal(Fatal::TokenStorage(e.to_string())))?;
                self.token.install(token);
                let at = g.status().access_token_expires_at.map_or_else(|| "unknown".into(), |at| when(at, now));
                tracing::info!("access token renewed; it expires at {at}");
                return Ok(());
            }
            Err(ApiError::Cancelled) => return Err(Failed::Stopped),
            Err(e) => e,
        };
        let fatal = match e {
            ApiError::Status { status: status @ 400..=499, message, .. } => Fatal::RefreshRefused { status, message },
            other => Fatal::TokenEndpoint(format!("POST {}: {other}", g.url)),
        };
        if ride_out && !matches!(fatal, Fatal::RefreshRefused { .. }) && g.usable(now) {
            let until = g.status().access_token_expires_at.map_or_else(String::new, |at| when(at, now));
            tracing::warn!("{fatal}; going on with the access token in use, valid until {until}");
            return Ok(());
        }
        Err(Failed::Fatal(fatal))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Rate, TransportConfig};
    use super::*;
    use crate::config::{Credentials, GrantConfig, SecretFrom};
    use crate::webex::TokenSource;
    use axum::http::{HeaderMap, StatusCode};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;

    /// A token endpoint that mints `T1`, `T2`, … and an API that takes only the token
    /// named `accepted` (none: every request is refused).
    #[derive(Default)]
    struct Server {
        minted: AtomicU64,
        accepted: Mutex<Option<String>>,
        api_calls: AtomicU64,
    }

    async fn serve(server: Arc<Server>) -> String {
        use axum::routing::{get, post};
        let (s1, s2) = (server.clone(), server);
        let app = axum::Router::new()
            .route(
                "/v1/access_token",
                post(move || async move {
                    let n = s1.minted.fetch_add(1, Ordering::SeqCst) + 1;
                    axum::Json(serde_json::json!({"access_token": format!("T{n}"), "expires_in": 3600}))
                }),
            )
            .route(
                "/v1/x",
                get(move |h: HeaderMap| async move {
                    s2.api_calls.fetch_add(1, Ordering::SeqCst);
                    // answers arrive together: every worker in flight meets the same 401
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let bearer = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let ok = s2.accepted.lock().unwrap().as_ref().is_some_and(|t| bearer == format!("Bearer {t}"));
                    if ok { (StatusCode::OK, "{}") } else { (StatusCode::UNAUTHORIZED, "{\"message\":\"expired\"}") }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    fn transport(base: &str, dir: &std::path::Path) -> Transport {
        std::fs::write(dir.join("secret"), "s").unwrap();
        std::fs::write(dir.join("rt"), "r").unwrap();
        let grant = GrantConfig {
            client_id: "C".into(),
            secret: SecretFrom::File(dir.join("secret")),
            refresh_token_file: dir.join("rt"),
            cache_file: dir.join("rt.cache"),
            token_url: format!("{base}/access_token"),
            margin: Duration::from_secs(60),
            warn_within: Duration::from_secs(0),
        };
        let config = TransportConfig {
            base_url: reqwest::Url::parse(base).unwrap(),
            org_id: None,
            rate: Rate::Fixed(0),
            max_retries: 0,
            max_backoff: Duration::from_secs(1),
            max_response_bytes: 1 << 20,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            concurrency: Some(8),
            max_concurrency: 8,
        };
        let token = TokenSource::load(&Credentials::Grant(grant)).unwrap();
        Transport::new(config, token, CancellationToken::new()).unwrap()
    }

    async fn get(t: &Transport) -> Result<(), ApiError> {
        let url = t.url(&["x"], &[]);
        t.send(Request::get("/x", url)).await.result.map(|_| ())
    }

    #[tokio::test]
    async fn workers_that_meet_a_401_together_wait_for_one_renewal() {
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let t = transport(&base, dir.path());
        *server.accepted.lock().unwrap() = Some("T1".into());
        get(&t).await.unwrap(); // the refresh before the first request mints T1
        assert_eq!(server.minted.load(Ordering::SeqCst), 1);
        // T1 dies; eight workers meet its 401 together
        *server.accepted.lock().unwrap() = Some("T2".into());
        let results = futures_util::future::join_all((0..8).map(|_| get(&t))).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(server.minted.load(Ordering::SeqCst), 2, "one renewal for all of them");
        assert!(t.fatal().is_none());
        let requests = t.stats().requests;
        assert_eq!(requests["POST /v1/access_token"], 2, "booked by the token URL's path: {requests:?}");
        assert_eq!(requests["GET /v1/x"], 1 + 8 + 8, "{requests:?}");
    }

    #[tokio::test]
    async fn a_401_after_the_renewal_stops_the_run() {
        let server = Arc::new(Server::default());
        let base = serve(server.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let t = transport(&base, dir.path());
        // no token is ever accepted: the first refresh, one renewal, then the end
        assert!(get(&t).await.is_err());
        assert_eq!(server.minted.load(Ordering::SeqCst), 2);
        assert_eq!(server.api_calls.load(Ordering::SeqCst), 2);
        assert!(matches!(t.fatal(), Some(Fatal::Unauthorized(_))), "{:?}", t.fatal());
        assert!(get(&t).await.is_err() && server.minted.load(Ordering::SeqCst) == 2, "never a second renewal");
    }
}
