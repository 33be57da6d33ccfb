//! The simulator's admin endpoints (`/_sim/...`, no auth): state, stats, faults,
//! reset and tokens.

use super::org::Org;
use super::server::{SimState, SimStats, lock};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub(super) async fn admin_state(State(st): State<Arc<SimState>>) -> Response {
    Json(st.snapshot()).into_response()
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
    match Org::new(st.initial.clone()) {
        Ok(o) => {
            *lock(&st.org) = o;
            *lock(&st.stats) = SimStats::default();
            lock(&st.limits).clear();
            st.dirty.store(true, Ordering::Release);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct TokenChange {
    token: String,
    /// Absent or null: revoke the token.
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// Add, change or revoke a token at run time (token-rotation rehearsals).
pub(super) async fn admin_tokens(State(st): State<Arc<SimState>>, Json(t): Json<TokenChange>) -> Response {
    lock(&st.org).set_token(&t.token, t.scopes);
    StatusCode::NO_CONTENT.into_response()
}
