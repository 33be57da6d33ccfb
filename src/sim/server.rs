//! The simulator's HTTP face (axum): `/v1` Webex endpoints behind auth, per-token rate
//! limit and fault injection, plus the `/_sim` admin endpoints.

use super::faults::{Faults, Gcra};
use super::fixture::Fixture;
use super::org::{Org, PeopleQuery, SimError, required_scope};
use crate::wire::{EcbnPut, ErrorBody, ErrorItem, PeopleList};
use axum::body::Bytes;
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
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
    pub org: Mutex<Org>,
    initial: Fixture,
    stats: Mutex<SimStats>,
    faults: Mutex<Faults>,
    rng: Mutex<StdRng>,
    limits: Mutex<HashMap<String, Gcra>>,
    pub state_file: Option<PathBuf>,
    pub dirty: AtomicBool,
    tracking: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
    ) -> Result<SimState, String> {
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
    let v1 = Router::new()
        .route("/v1/telephony/config/people/{personId}/emergencyCallbackNumber", get(get_ecbn).put(put_ecbn))
        .route("/v1/telephony/config/people/{personId}/emergencyCallbackNumber/dependencies", get(get_dependencies))
        .route(
            "/v1/telephony/config/people/{personId}/emergencyCallbackNumber/availableNumbers",
            get(get_available_numbers),
        )
        .route("/v1/people", get(get_people))
        .route_layer(middleware::from_fn_with_state(state.clone(), api_layer));
    let admin = Router::new()
        .route("/_sim/state", get(admin_state))
        .route("/_sim/stats", get(admin_stats))
        .route("/_sim/faults", axum::routing::post(admin_faults))
        .route("/_sim/reset", axum::routing::post(admin_reset))
        .route("/_sim/tokens", axum::routing::post(admin_tokens));
    v1.merge(admin)
        .fallback(|| async {
            error_response(StatusCode::NOT_FOUND, 0, "The requested resource could not be found.", "SIM_404")
        })
        .with_state(state)
}

fn error_response(status: StatusCode, code: i64, message: &str, tracking: &str) -> Response {
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
        Some(Fault::Forbidden(need)) => {
            error_response(StatusCode::FORBIDDEN, 0, &format!("Missing required scope {need}."), &tracking)
        }
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
    Forbidden(&'static str),
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
    if !scopes.iter().any(|s| s == need) {
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

fn sim_err(e: SimError, headers: &HeaderMap) -> Response {
    let tracking = headers.get("trackingid").and_then(|v| v.to_str().ok()).unwrap_or("SIM");
    error_response(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), e.code, &e.message, tracking)
}

async fn get_ecbn(State(st): State<Arc<SimState>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let org = lock(&st.org);
    match org.person(&id) {
        Ok(i) => Json(org.ecbn_get(i)).into_response(),
        Err(e) => sim_err(e, &headers),
    }
}

async fn get_dependencies(State(st): State<Arc<SimState>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let org = lock(&st.org);
    match org.person(&id) {
        Ok(i) => Json(org.dependencies(i)).into_response(),
        Err(e) => sim_err(e, &headers),
    }
}

async fn put_ecbn(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: EcbnPut = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return sim_err(SimError::new(400, 0, format!("Invalid request body: {e}")), &headers),
    };
    let result = {
        let mut org = lock(&st.org);
        org.person(&id).and_then(|i| org.put_ecbn(i, &parsed))
    };
    match result {
        Ok(()) => {
            lock(&st.stats).writes_applied += 1;
            st.dirty.store(true, Ordering::Release);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => sim_err(e, &headers),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
    phone_number: Option<String>,
    owner_name: Option<String>,
    email: Option<String>,
    id: Option<String>,
    location_id: Option<String>,
    calling_data: Option<String>,
    max: Option<String>,
    start: Option<String>,
}

fn parse_num(v: &Option<String>, what: &str) -> Result<Option<usize>, SimError> {
    match v {
        None => Ok(None),
        Some(s) => {
            s.parse::<usize>().map(Some).map_err(|_| SimError::new(400, 0, format!("Invalid value for {what}: {s}")))
        }
    }
}

/// Slice one page and add `Link: <...>; rel="next"` when more remain.
fn page<T: serde::Serialize>(
    items: Vec<T>,
    start: usize,
    max: usize,
    headers: &HeaderMap,
    path_and_query: &str,
    wrap: impl FnOnce(Vec<T>) -> serde_json::Value,
) -> Response {
    let total = items.len();
    let slice: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let mut resp = Json(wrap(slice)).into_response();
    if start + max < total {
        let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
        let mut url = reqwest::Url::parse(&format!("http://{host}{path_and_query}")).ok();
        if let Some(u) = url.as_mut() {
            let kept: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| k != "start" && k != "max")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            u.query_pairs_mut()
                .clear()
                .extend_pairs(kept)
                .append_pair("max", &max.to_string())
                .append_pair("start", &(start + max).to_string());
            if let Ok(v) = HeaderValue::from_str(&format!("<{u}>; rel=\"next\"")) {
                resp.headers_mut().insert("link", v);
            }
        }
    }
    resp
}

async fn get_available_numbers(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let (max, start) = match (parse_num(&q.max, "max"), parse_num(&q.start, "start")) {
        (Ok(m), Ok(s)) => (m.unwrap_or(2000).clamp(1, 2000), s.unwrap_or(0)),
        (Err(e), _) | (_, Err(e)) => return sim_err(e, &headers),
    };
    let items = {
        let org = lock(&st.org);
        match org.person(&id) {
            Ok(i) => org.available_numbers(i, q.phone_number.as_deref(), q.owner_name.as_deref()),
            Err(e) => return sim_err(e, &headers),
        }
    };
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    page(items, start, max, &headers, pq, |v| serde_json::json!({ "phoneNumbers": v }))
}

/// `max` ceilings of `/people` [doc]: 100 with callingData, 50 with locationId.
fn people_max_ceiling(calling: bool, by_location: bool) -> usize {
    if by_location {
        50
    } else if calling {
        100
    } else {
        1000
    }
}

async fn get_people(
    State(st): State<Arc<SimState>>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let calling = q.calling_data.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let ceiling = people_max_ceiling(calling, q.location_id.is_some());
    let (max, start) = match (parse_num(&q.max, "max"), parse_num(&q.start, "start")) {
        (Ok(m), Ok(s)) => (m.unwrap_or(100), s.unwrap_or(0)),
        (Err(e), _) | (_, Err(e)) => return sim_err(e, &headers),
    };
    if max == 0 || max > ceiling {
        return sim_err(SimError::new(400, 0, format!("max must be between 1 and {ceiling}")), &headers);
    }
    let ids =
        q.id.as_ref().map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect::<Vec<_>>());
    if ids.as_ref().is_some_and(|v| v.len() > 85) {
        return sim_err(SimError::new(400, 0, "At most 85 ids may be given"), &headers);
    }
    let items = lock(&st.org).people(&PeopleQuery {
        email: q.email.clone(),
        ids,
        location_id: q.location_id.clone(),
        calling_data: calling,
    });
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    page(items, start, max, &headers, pq, |v| serde_json::to_value(PeopleList { items: v }).unwrap_or_default())
}

async fn admin_state(State(st): State<Arc<SimState>>) -> Response {
    Json(st.snapshot()).into_response()
}

async fn admin_stats(State(st): State<Arc<SimState>>) -> Response {
    Json(st.stats()).into_response()
}

async fn admin_faults(State(st): State<Arc<SimState>>, Json(v): Json<serde_json::Value>) -> Response {
    let mut f = lock(&st.faults);
    match f.update(&v) {
        Ok(()) => Json(f.to_json()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn admin_reset(State(st): State<Arc<SimState>>) -> Response {
    match Org::new(st.initial.clone()) {
        Ok(o) => {
            *lock(&st.org) = o;
            *lock(&st.stats) = SimStats::default();
            lock(&st.limits).clear();
            st.dirty.store(true, Ordering::Release);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

#[derive(Deserialize)]
struct TokenChange {
    token: String,
    /// Absent or null: revoke the token.
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// Add, change or revoke a token at run time (token-rotation rehearsals).
async fn admin_tokens(State(st): State<Arc<SimState>>, Json(t): Json<TokenChange>) -> Response {
    lock(&st.org).set_token(&t.token, t.scopes);
    StatusCode::NO_CONTENT.into_response()
}
