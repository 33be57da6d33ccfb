//! What every `/v1` request goes through before its handler: accounting, latency, a
//! redirecting proxy, the token, the per-token rate limit, the scope, the org it acts on
//! (its `orgId`, else the token's home), then the injected faults; and after it, a
//! spoiled body.

use super::faults::Faults;
use super::hostile::{self, BodyFault};
use super::org::required_scope;
use super::server::{SimState, error_response, lock};
use crate::wire::routes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The org a request acts on (an index into the world's orgs), for its handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At(pub(crate) usize);

const UNAUTHORIZED: &str = "The request requires a valid access token set in the Authorization request header.";

/// What a request meets instead of its handler.
enum Fault {
    Unauthorized,
    /// Over the rate limit: come back in this many seconds.
    Throttled(u64),
    Forbidden(&'static [&'static str]),
    /// An org the token may not manage (or none such).
    ForeignOrg(String),
    Drop,
    Fail(u16),
    Lock,
}

/// What the layer knows of a request before it is answered.
struct Seen {
    method: Method,
    /// The route template, as `/_sim/stats` books it.
    template: String,
    route: String,
    tracking: String,
}

pub(super) async fn api_layer(State(st): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let method = req.method().clone();
    let tracking = req
        .headers()
        .get("trackingid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("SIM_{}", st.tracking.fetch_add(1, Ordering::Relaxed)));
    let seen = Seen { route: format!("{method} {template}"), method, template, tracking };
    let _serving = st.serving();
    let faults = lock(&st.faults).clone();
    // a redirecting proxy answers before the API sees the request (or its token)
    let mut resp = if st.draw(faults.redirect_rate) {
        let path = req.uri().path_and_query().map_or("", |p| p.as_str());
        redirected(&format!("{}{path}", st.trap.url()))
    } else {
        let resp = admitted(&st, &faults, req, next, &seen).await;
        match faults.body_fault {
            Some(f) if reads(&seen) && resp.status().is_success() && st.draw(faults.body_fault_rate) => {
                f.spoil(resp).await
            }
            _ => resp,
        }
    };
    st.book(&seen.route, resp.status().as_str());
    if let Ok(v) = HeaderValue::from_str(&seen.tracking) {
        resp.headers_mut().insert("trackingid", v);
    }
    resp
}

/// A request whose answer the client reads (and a spoiled body can fool): a GET, or the
/// token endpoint's POST.
fn reads(seen: &Seen) -> bool {
    seen.method == Method::GET || seen.template.ends_with(routes::ACCESS_TOKEN)
}

fn redirected(to: &str) -> Response {
    let mut r = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert("location", v);
    }
    r
}

/// A request the proxy let through: the API's own checks (the rate limit counts it as it
/// arrives), the time the service takes, then its handler or its refusal.
async fn admitted(st: &Arc<SimState>, faults: &Faults, mut req: Request, next: Next, seen: &Seen) -> Response {
    let admission = admit(st, faults, &req, &seen.method, &seen.template);
    if faults.latency_ms > 0 {
        // drawn only when jitter or a tail is asked for: a seeded run keeps its sequence
        let unit = if faults.latency_jitter > 0.0 { lock(&st.rng).random::<f64>() } else { 0.5 };
        tokio::time::sleep(faults.latency(unit, st.draw(faults.slow_rate))).await;
    }
    match admission {
        Ok(Some(org)) => {
            st.book_org(org);
            req.extensions_mut().insert(At(org));
            next.run(req).await
        }
        Ok(None) => next.run(req).await,
        Err(Fault::Drop) => {
            st.book(&seen.route, "dropped");
            // a dropped PUT was applied or not with equal odds
            let apply = seen.method == Method::PUT && lock(&st.rng).random_bool(0.5);
            if apply && let Ok(org) = admitted_org(st, &req) {
                req.extensions_mut().insert(At(org));
                let _ = next.run(req).await;
            }
            drop_connection();
        }
        Err(fault) => refusal(fault, faults, &seen.tracking),
    }
}

/// The answer to a request refused before its handler.
fn refusal(fault: Fault, faults: &Faults, tracking: &str) -> Response {
    let with_retry_after = |mut r: Response, secs: u64| {
        let value = faults.retry_after_header(secs, std::time::SystemTime::now());
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            r.headers_mut().insert("retry-after", v);
        }
        r
    };
    match fault {
        Fault::Unauthorized => error_response(StatusCode::UNAUTHORIZED, 0, UNAUTHORIZED, tracking),
        Fault::Throttled(secs) => with_retry_after(
            error_response(
                StatusCode::TOO_MANY_REQUESTS,
                0,
                "Too many requests have been sent in a given amount of time.",
                tracking,
            ),
            secs,
        ),
        Fault::Forbidden(need) => error_response(
            StatusCode::FORBIDDEN,
            0,
            &format!("Missing required scope {}.", need.join(" or ")),
            tracking,
        ),
        Fault::ForeignOrg(org) => error_response(
            StatusCode::FORBIDDEN,
            0,
            &format!("The token is not authorized to act on the organization {org}."),
            tracking,
        ),
        Fault::Fail(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            match faults.body_fault {
                Some(BodyFault::Html) => hostile::html_error(status),
                _ => error_response(status, 0, "Simulated server error. Please try again later.", tracking),
            }
        }
        Fault::Lock => {
            let locked = error_response(StatusCode::LOCKED, 0, "The resource is temporarily locked.", tracking);
            with_retry_after(locked, faults.retry_after)
        }
        Fault::Drop => unreachable!("a dropped connection has no answer"),
    }
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

/// The `orgId` a request names, if any.
fn org_param(req: &Request) -> Option<String> {
    let q = req.uri().query()?;
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "orgId").map(|(_, v)| v.into_owned())
}

/// The org of an admitted request (its token is known and may act on it).
fn admitted_org(st: &SimState, req: &Request) -> Result<usize, Fault> {
    let token = bearer(req.headers()).ok_or(Fault::Unauthorized)?;
    let world = lock(&st.world);
    let grant = world.grant(&token).ok_or(Fault::Unauthorized)?;
    let org_id = org_param(req);
    world.org_for(grant, org_id.as_deref()).ok_or_else(|| Fault::ForeignOrg(org_id.unwrap_or_default()))
}

/// The org a request acts on (`None` for the token endpoint, which takes no bearer
/// token and acts on no org), or what it meets instead: auth, rate limit, scope, org,
/// then the injected faults.
fn admit(
    st: &SimState,
    faults: &Faults,
    req: &Request,
    method: &Method,
    template: &str,
) -> Result<Option<usize>, Fault> {
    let org = if template.ends_with(routes::ACCESS_TOKEN) {
        None
    } else {
        Some(authorised(st, faults, req, method, template)?)
    };
    let mut rng = lock(&st.rng);
    let x: f64 = rng.random();
    if x < faults.drop_rate {
        return Err(Fault::Drop);
    }
    if x < faults.drop_rate + faults.fail_rate {
        let codes = [500u16, 502, 503, 504];
        return Err(Fault::Fail(codes[rng.random_range(0..codes.len())]));
    }
    if x < faults.drop_rate + faults.fail_rate + faults.lock_rate {
        return Err(Fault::Lock);
    }
    Ok(org)
}

/// A request's token (known and not expired), its rate limit and scope: the org it acts on.
fn authorised(st: &SimState, faults: &Faults, req: &Request, method: &Method, template: &str) -> Result<usize, Fault> {
    let token = bearer(req.headers()).ok_or(Fault::Unauthorized)?;
    let grant = lock(&st.world).grant(&token).cloned().ok_or(Fault::Unauthorized)?;
    if grant.expires_at.is_some_and(|at| st.clock.now() >= at) {
        return Err(Fault::Unauthorized);
    }
    if let Some(limit) = faults.limit() {
        let mut limits = lock(&st.limits);
        limits.entry(token).or_default().admit(&limit, st.epoch, Instant::now()).map_err(Fault::Throttled)?;
    }
    let need = required_scope(method.as_str(), template);
    if !need.is_empty() && !grant.scopes.iter().any(|s| need.contains(&s.as_str())) {
        return Err(Fault::Forbidden(need));
    }
    admitted_org(st, req)
}
