//! The simulator's admin endpoints (`/_sim/...`, no auth): state, stats, faults,
//! reset, tokens, the messages posted and what the redirect trap received.

use super::fixture::TokenSpec;
use super::server::{SimState, SimStats, lock};
use super::world::World;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One org's state (`?orgId=`; default the first), in the single-org fixture shape.
pub(super) async fn admin_state(State(st): State<Arc<SimState>>, uri: Uri) -> Response {
    let org_id = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "orgId").map(|(_, v)| v.into_owned())
    });
    match lock(&st.world).org_snapshot(org_id.as_deref()) {
        Some(f) => Json(f).into_response(),
        None => (StatusCode::NOT_FOUND, "no such org").into_response(),
    }
}

/// The redirect trap: its URL, and every request it received.
pub(super) async fn admin_redirected(State(st): State<Arc<SimState>>) -> Response {
    Json(st.trap.to_json()).into_response()
}

/// The messages posted to spaces, oldest first.
pub(super) async fn admin_messages(State(st): State<Arc<SimState>>) -> Response {
    Json(lock(&st.messages).clone()).into_response()
}

pub(super) async fn admin_stats(State(st): State<Arc<SimState>>) -> Response {
    Json(st.stats()).into_response()
}

pub(super) async fn admin_faults(State(st): State<Arc<SimState>>, Json(v): Json<serde_json::Value>) -> Response {
    let mut f = lock(&st.faults);
    match f.update(&v) {
        Ok(()) => Json(f.to_json()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

pub(super) async fn admin_reset(State(st): State<Arc<SimState>>) -> Response {
    match World::new(st.initial.clone()) {
        Ok(w) => {
            *lock(&st.world) = w;
            let in_flight = lock(&st.stats).in_flight; // still being served
            *lock(&st.stats) = SimStats { in_flight, in_flight_max: in_flight, ..SimStats::default() };
            *lock(&st.counting_since) = std::time::Instant::now();
            lock(&st.limits).clear();
            lock(&st.messages).clear();
            st.trap.clear();
            st.dirty.store(true, Ordering::Release);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TokenChange {
    token: String,
    /// Absent or null: revoke the token.
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    home_org_id: Option<String>,
    #[serde(default)]
    orgs: Option<Vec<String>>,
}

/// Add, change or revoke a token at run time (token rotation, partner rehearsals).
pub(super) async fn admin_tokens(State(st): State<Arc<SimState>>, Json(t): Json<TokenChange>) -> Response {
    let mut world = lock(&st.world);
    let Some(scopes) = t.scopes else {
        world.revoke(&t.token);
        return StatusCode::NO_CONTENT.into_response();
    };
    let spec = TokenSpec { token: t.token, scopes, home_org_id: t.home_org_id, orgs: t.orgs, expires_at: None };
    match world.set_token(spec) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// The simulator's clock: `{"now": unix seconds, "offset_secs": how far it was moved}`.
pub(super) async fn admin_clock(State(st): State<Arc<SimState>>) -> Response {
    Json(serde_json::json!({"now": st.clock.now(), "offset_secs": st.clock.offset()})).into_response()
}

#[derive(Deserialize)]
pub(super) struct ClockChange {
    advance_secs: u64,
}

/// Move the clock of every expiry forward (`{"advance_secs": N}`).
pub(super) async fn admin_clock_advance(State(st): State<Arc<SimState>>, Json(c): Json<ClockChange>) -> Response {
    st.clock.advance(c.advance_secs);
    admin_clock(State(st)).await
}
