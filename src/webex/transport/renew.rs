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
