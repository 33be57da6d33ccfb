//! The simulator's HTTP face (axum): `/v1` Webex endpoints behind auth, per-token rate
//! limit and fault injection, plus the `/_sim` admin endpoints.

use super::faults::{Faults, Gcra};
use super::fixture::Fixture;
use super::org::{Org, OrgError, required_scope};
use super::{admin, handlers};
use crate::ids::Kind;
use crate::wire::routes;
use crate::wire::{ErrorBody, ErrorItem};
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::{MatchedPath, Request, State};
use axum::http::Uri;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Default, serde::Serialize, Clone)]
pub(crate) struct SimStats {
    pub total: u64,
    pub by_route: BTreeMap<String, BTreeMap<String, u64>>,
    pub writes_applied: u64,
}

pub(crate) struct SimState {
    pub(super) org: Mutex<Org>,
    pub(super) initial: Fixture,
    pub(super) stats: Mutex<SimStats>,
    pub(super) faults: Mutex<Faults>,
    rng: Mutex<StdRng>,
    pub(super) limits: Mutex<HashMap<String, Gcra>>,
    pub(super) state_file: Option<PathBuf>,
    pub(super) dirty: AtomicBool,
    tracking: AtomicU64,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // a poisoned lock means a handler panicked (a dropped connection unwinds on purpose);
    // every update below is complete before any unwind, so the data is consistent
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimState {
    pub(crate) fn new(
        initial: Fixture,
        current: Fixture,
        faults: Faults,
        seed: u64,
        state_file: Option<PathBuf>,
    ) -> Result<SimState, OrgError> {
        Org::new(initial.clone())?;
        Ok(SimState {
            org: Mutex::new(Org::new(current)?),
            initial,
            stats: Mutex::new(SimStats::default()),
            faults: Mutex::new(faults),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            limits: Mutex::new(HashMap::new()),
            state_file,
            dirty: AtomicBool::new(false),
            tracking: AtomicU64::new(0),
        })
    }

    pub(crate) fn snapshot(&self) -> Fixture {
        lock(&self.org).state.clone()
    }

    pub(crate) fn stats(&self) -> SimStats {
        lock(&self.stats).clone()
    }

    fn book(&self, route: &str, status: &str) {
        let mut s = lock(&self.stats);
        s.total += 1;
        *s.by_route.entry(route.to_string()).or_default().entry(status.to_string()).or_default() += 1;
    }
}

pub(crate) fn router(state: Arc<SimState>) -> Router {
    let mut v1 = Router::new();
    for kind in Kind::ALL {
        v1 = v1
            .route(
                &format!("/v1{}", routes::ecbn(kind)),
                get(move |State(st): State<Arc<SimState>>, Path(id): Path<String>, h: HeaderMap| async move {
                    handlers::about_member(&st, &id, kind, &h, Org::ecbn_get)
                })
                .put(move |State(st): State<Arc<SimState>>, Path(id): Path<String>, h: HeaderMap, body: Bytes| async move {
                    handlers::put_ecbn(&st, &id, kind, &h, &body)
                }),
            )
            .route(
                &format!("/v1{}", routes::dependencies(kind)),
                get(move |State(st): State<Arc<SimState>>, Path(id): Path<String>, h: HeaderMap| async move {
                    handlers::about_member(&st, &id, kind, &h, Org::dependencies)
                }),
            )
            .route(
                &format!("/v1{}", routes::available_numbers(kind)),
                get(move |State(st): State<Arc<SimState>>, Path(id): Path<String>, h: HeaderMap, uri: Uri| async move {
                    handlers::available_numbers(&st, &id, kind, &h, &uri)
                }),
            );
    }
    let v1 = v1
        .route(
            &format!("/v1{}", routes::HUNT_GROUP_DEPENDENCIES),
            get(|State(st): State<Arc<SimState>>, Path(id): Path<String>, h: HeaderMap| async move {
                handlers::hunt_group_dependencies(&st, &id, &h)
            }),
        )
        .route(
            &format!("/v1{}", routes::PEOPLE),
            get(|State(st): State<Arc<SimState>>, h: HeaderMap, uri: Uri| async move { handlers::people(&st, &h, &uri) }),
        )
        .route(
            &format!("/v1{}", routes::WORKSPACES),
            get(|State(st): State<Arc<SimState>>, h: HeaderMap, uri: Uri| async move {
                handlers::workspaces(&st, &h, &uri)
            }),
        )
        .route(
            &format!("/v1{}", routes::VIRTUAL_LINES),
            get(|State(st): State<Arc<SimState>>, h: HeaderMap, uri: Uri| async move {
                handlers::virtual_lines(&st, &h, &uri)
            }),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), api_layer));
    let admin = Router::new()
        .route("/_sim/state", get(admin::admin_state))
        .route("/_sim/stats", get(admin::admin_stats))
        .route("/_sim/faults", axum::routing::post(admin::admin_faults))
        .route("/_sim/reset", axum::routing::post(admin::admin_reset))
        .route("/_sim/tokens", axum::routing::post(admin::admin_tokens));
    v1.merge(admin)
        .fallback(|| async {
            error_response(StatusCode::NOT_FOUND, 0, "The requested resource could not be found.", "SIM_404")
        })
        .with_state(state)
}

pub(super) fn error_response(status: StatusCode, code: i64, message: &str, tracking: &str) -> Response {
    let body = ErrorBody {
        message: message.to_string(),
        errors: vec![ErrorItem { description: message.to_string(), error_code: (code != 0).then_some(code) }],
        tracking_id: Some(tracking.to_string()),
    };
    (status, Json(body)).into_response()
}

/// Close the connection without any response. Unwinding the connection's task is the
/// one way axum/hyper give to abort an HTTP/1 exchange mid-request; `resume_unwind`
/// skips the panic hook, so nothing is printed.
fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new("simulated dropped connection"))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim().to_string())
}

/// Everything a `/v1` request goes through: accounting, latency, auth, rate limit, faults.
async fn api_layer(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let method = req.method().clone();
    let route = format!("{method} {template}");
    let tracking = req
        .headers()
        .get("trackingid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("SIM_{}", st.tracking.fetch_add(1, Ordering::Relaxed)));
    let faults = lock(&st.faults).clone();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let mut resp = match pre_checks(&st, &faults, &req, &method, &template) {
        Some(Fault::Drop) => {
            st.book(&route, "dropped");
            // a dropped PUT was applied or not with equal odds
            let apply = method == Method::PUT && lock(&st.rng).random_bool(0.5);
            if apply {
                let _ = next.run(req).await;
            }
            drop_connection();
        }
        Some(Fault::Unauthorized) => error_response(StatusCode::UNAUTHORIZED, 0, UNAUTHORIZED, &tracking),
        Some(Fault::Throttled) => {
            let mut r = error_response(
                StatusCode::TOO_MANY_REQUESTS,
                0,
                "Too many requests have been sent in a given amount of time.",
                &tracking,
            );
            r.headers_mut().insert("retry-after", HeaderValue::from(faults.retry_after));
            r
        }
        Some(Fault::Forbidden(need)) => error_response(
            StatusCode::FORBIDDEN,
            0,
            &format!("Missing required scope {}.", need.join(" or ")),
            &tracking,
        ),
        Some(Fault::Fail(code)) => error_response(
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            0,
            "Simulated server error. Please try again later.",
            &tracking,
        ),
        Some(Fault::Lock) => {
            let mut r = error_response(StatusCode::LOCKED, 0, "The resource is temporarily locked.", &tracking);
            r.headers_mut().insert("retry-after", HeaderValue::from(faults.retry_after));
            r
        }
        None => next.run(req).await,
    };
    st.book(&route, resp.status().as_str());
    if let Ok(v) = HeaderValue::from_str(&tracking) {
        resp.headers_mut().insert("trackingid", v);
    }
    resp
}

const UNAUTHORIZED: &str = "The request requires a valid access token set in the Authorization request header.";

/// What a request meets instead of its handler.
enum Fault {
    Unauthorized,
    Throttled,
    Forbidden(&'static [&'static str]),
    Drop,
    Fail(u16),
    Lock,
}

/// Auth, the per-token rate limit, scopes, then the injected faults.
fn pre_checks(st: &SimState, faults: &Faults, req: &Request, method: &Method, template: &str) -> Option<Fault> {
    let Some(token) = bearer(req.headers()) else {
        return Some(Fault::Unauthorized);
    };
    let Some(scopes) = lock(&st.org).scopes(&token).cloned() else {
        return Some(Fault::Unauthorized);
    };
    if let Some(rate) = faults.rate_limit {
        let burst = faults.burst.unwrap_or(((rate / 10.0).ceil() as u32).max(1));
        let mut limits = lock(&st.limits);
        let g = limits.entry(token.clone()).or_default();
        if !g.allow(Instant::now(), rate, burst) {
            return Some(Fault::Throttled);
        }
    }
    let need = required_scope(method.as_str(), template);
    if !scopes.iter().any(|s| need.contains(&s.as_str())) {
        return Some(Fault::Forbidden(need));
    }
    let mut rng = lock(&st.rng);
    let x: f64 = rng.random();
    if x < faults.drop_rate {
        return Some(Fault::Drop);
    }
    if x < faults.drop_rate + faults.fail_rate {
        let codes = [500u16, 502, 503, 504];
        return Some(Fault::Fail(codes[rng.random_range(0..codes.len())]));
    }
    if x < faults.drop_rate + faults.fail_rate + faults.lock_rate {
        return Some(Fault::Lock);
    }
    None
}
