//! The simulator's HTTP face (axum): `/v1` Webex endpoints behind auth, per-token rate
//! limit and fault injection, plus the `/_sim` admin endpoints.

use super::faults::Faults;
use super::fixture::FixtureFile;
use super::hostile::Trap;
use super::layer::At;
use super::limiter::Usage;
use super::org::{Org, OrgError};
use super::world::World;
use super::{admin, handlers, layer};
use crate::ids::Kind;
use crate::wire::routes;
use crate::wire::{ErrorBody, ErrorItem};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default, serde::Serialize, Clone)]
pub(crate) struct SimStats {
    pub total: u64,
    pub by_route: BTreeMap<String, BTreeMap<String, u64>>,
    /// Requests per org they acted on (the org's ID as the fixture spells it).
    pub by_org: BTreeMap<String, u64>,
    pub writes_applied: u64,
    /// Requests and 429s per second since the last reset (second 0 first).
    pub per_second: Vec<Second>,
    /// `/v1` requests being served now (arrived, not yet answered), and the most at once
    /// since the last reset: what a client keeps in flight, seen from the server.
    pub in_flight: u64,
    pub in_flight_max: u64,
}

#[derive(Debug, Default, serde::Serialize, Clone)]
pub(crate) struct Second {
    pub t: u64,
    pub requests: u64,
    #[serde(rename = "429")]
    pub throttled: u64,
}

pub(crate) struct SimState {
    pub(super) world: Mutex<World>,
    pub(super) initial: FixtureFile,
    pub(super) stats: Mutex<SimStats>,
    pub(super) faults: Mutex<Faults>,
    pub(super) rng: Mutex<StdRng>,
    pub(super) limits: Mutex<HashMap<String, Usage>>,
    /// When the simulator started: fixed windows are aligned to it.
    pub(super) epoch: std::time::Instant,
    /// When the counters were last zeroed: `per_second` counts from it.
    pub(super) counting_since: Mutex<std::time::Instant>,
    pub(super) state_file: Option<PathBuf>,
    pub(super) dirty: AtomicBool,
    pub(super) tracking: AtomicU64,
    /// Messages posted to spaces (`POST /messages`), oldest first.
    pub(super) messages: Mutex<Vec<serde_json::Value>>,
    /// Where redirects point.
    pub(super) trap: Trap,
    /// The clock of every token expiry (`POST /_sim/clock` moves it).
    pub(crate) clock: super::oauth::Clock,
    pub(super) token_policy: super::oauth::TokenPolicy,
}

/// A request being served (see [`SimState::serving`]).
pub(super) struct Serving<'a>(&'a SimState);

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        let mut s = lock(&self.0.stats);
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // a poisoned lock means a handler panicked (a dropped connection unwinds on purpose);
    // every update below is complete before any unwind, so the data is consistent
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimState {
    pub(crate) fn new(
        initial: FixtureFile,
        current: FixtureFile,
        faults: Faults,
        seed: u64,
        state_file: Option<PathBuf>,
        token_policy: super::oauth::TokenPolicy,
    ) -> Result<SimState, OrgError> {
        World::new(initial.clone())?;
        Ok(SimState {
            world: Mutex::new(World::new(current)?),
            initial,
            stats: Mutex::new(SimStats::default()),
            faults: Mutex::new(faults),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            limits: Mutex::new(HashMap::new()),
            epoch: std::time::Instant::now(),
            counting_since: Mutex::new(std::time::Instant::now()),
            state_file,
            dirty: AtomicBool::new(false),
            tracking: AtomicU64::new(0),
            messages: Mutex::new(Vec::new()),
            trap: Trap::default(),
            clock: Default::default(),
            token_policy,
        })
    }

    pub(crate) fn snapshot(&self) -> FixtureFile {
        lock(&self.world).snapshot()
    }

    pub(crate) fn stats(&self) -> SimStats {
        lock(&self.stats).clone()
    }

    /// A `/v1` request arrived; it is served until the guard is dropped (answered, or
    /// its connection gone).
    pub(super) fn serving(&self) -> Serving<'_> {
        let mut s = lock(&self.stats);
        s.in_flight += 1;
        s.in_flight_max = s.in_flight_max.max(s.in_flight);
        Serving(self)
    }

    /// A request admitted to act on the world's org `i`.
    pub(super) fn book_org(&self, i: usize) {
        let id = lock(&self.world).orgs[i].state.org_id.clone();
        *lock(&self.stats).by_org.entry(id).or_default() += 1;
    }

    /// A fault's random draw: true with odds `rate` (never drawn at 0, so a seeded run
    /// without the fault keeps its sequence).
    pub(super) fn draw(&self, rate: f64) -> bool {
        rate > 0.0 && lock(&self.rng).random_bool(rate.min(1.0))
    }

    pub(super) fn book(&self, route: &str, status: &str) {
        let second = lock(&self.counting_since).elapsed().as_secs();
        let mut s = lock(&self.stats);
        s.total += 1;
        while s.per_second.len() as u64 <= second {
            let t = s.per_second.len() as u64;
            s.per_second.push(Second { t, ..Second::default() });
        }
        let at = &mut s.per_second[second as usize];
        at.requests += 1;
        at.throttled += u64::from(status == "429");
        *s.by_route.entry(route.to_string()).or_default().entry(status.to_string()).or_default() += 1;
    }
}

pub(crate) fn router(state: Arc<SimState>) -> Router {
    let mut v1 = Router::new();
    for kind in Kind::ALL {
        v1 = v1
            .route(
                &format!("/v1{}", kind.spec().ecbn),
                get(
                    move |State(st): State<Arc<SimState>>,
                          Extension(At(org)): Extension<At>,
                          Path(id): Path<String>,
                          h: HeaderMap| async move { handlers::get_ecbn(&st, org, &id, kind, &h) },
                )
                .put(
                    move |State(st): State<Arc<SimState>>,
                          Extension(At(org)): Extension<At>,
                          Path(id): Path<String>,
                          h: HeaderMap,
                          body: Bytes| async move { handlers::put_ecbn(&st, org, &id, kind, &h, &body) },
                ),
            )
            .route(
                &format!("/v1{}", kind.spec().available_numbers),
                get(
                    move |State(st): State<Arc<SimState>>,
                          Extension(At(org)): Extension<At>,
                          Path(id): Path<String>,
                          h: HeaderMap,
                          uri: Uri| async move {
                        handlers::available_numbers(&st, org, &id, kind, &h, &uri)
                    },
                ),
            );
        if let Some(route) = kind.spec().dependencies {
            v1 = v1.route(
                &format!("/v1{route}"),
                get(
                    move |State(st): State<Arc<SimState>>,
                          Extension(At(org)): Extension<At>,
                          Path(id): Path<String>,
                          h: HeaderMap| async move {
                        handlers::about_member(&st, org, &id, kind, &h, Org::dependencies)
                    },
                ),
            );
        }
    }
    let v1 = v1
        .route(
            &format!("/v1{}", routes::HUNT_GROUP_DEPENDENCIES),
            get(|State(st): State<Arc<SimState>>, Extension(At(org)): Extension<At>, Path(id): Path<String>, h: HeaderMap| async move {
                handlers::hunt_group_dependencies(&st, org, &id, &h)
            }),
        )
        .route(
            &format!("/v1{}", routes::PEOPLE),
            get(|State(st): State<Arc<SimState>>, Extension(At(org)): Extension<At>, h: HeaderMap, uri: Uri| async move {
                handlers::people(&st, org, &h, &uri)
            }),
        )
        .route(
            &format!("/v1{}", routes::WORKSPACES),
            get(|State(st): State<Arc<SimState>>, Extension(At(org)): Extension<At>, h: HeaderMap, uri: Uri| async move {
                handlers::workspaces(&st, org, &h, &uri)
            }),
        )
        .route(
            &format!("/v1{}", routes::VIRTUAL_LINES),
            get(|State(st): State<Arc<SimState>>, Extension(At(org)): Extension<At>, h: HeaderMap, uri: Uri| async move {
                handlers::virtual_lines(&st, org, &h, &uri)
            }),
        )
        .route(
            &format!("/v1{}", routes::LOCATIONS),
            get(|State(st): State<Arc<SimState>>, Extension(At(org)): Extension<At>, h: HeaderMap, uri: Uri| async move {
                handlers::locations(&st, org, &h, &uri)
            }),
        )
        .route(
            &format!("/v1{}", routes::ME),
            get(|State(st): State<Arc<SimState>>, Extension(At(org)): Extension<At>, h: HeaderMap| async move {
                handlers::me(&st, org, &h)
            }),
        )
        .route(
            &format!("/v1{}", routes::ACCESS_TOKEN),
            axum::routing::post(|State(st): State<Arc<SimState>>, h: HeaderMap, body: Bytes| async move {
                handlers::access_token(&st, &h, &body)
            }),
        )
        .route(
            &format!("/v1{}", routes::MESSAGES),
            axum::routing::post(|State(st): State<Arc<SimState>>, h: HeaderMap, body: Bytes| async move {
                handlers::post_message(&st, &h, &body)
            }),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), layer::api_layer));
    let admin = Router::new()
        .route("/_sim/state", get(admin::admin_state))
        .route("/_sim/stats", get(admin::admin_stats))
        .route("/_sim/faults", axum::routing::post(admin::admin_faults))
        .route("/_sim/reset", axum::routing::post(admin::admin_reset))
        .route("/_sim/messages", get(admin::admin_messages))
        .route("/_sim/redirected", get(admin::admin_redirected))
        .route("/_sim/tokens", axum::routing::post(admin::admin_tokens))
        .route("/_sim/clock", get(admin::admin_clock).post(admin::admin_clock_advance));
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
