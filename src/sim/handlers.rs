//! The `/v1` endpoints of the simulator: ECBN GET/PUT, dependencies, available
//! numbers and the people listing, with the API's paging.

use super::org::{Org, PeopleQuery, SimError};
use super::server::{SimState, error_response, lock};
use crate::wire::{EcbnPut, PeopleList};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn sim_err(e: SimError, headers: &HeaderMap) -> Response {
    let tracking = headers.get("trackingid").and_then(|v| v.to_str().ok()).unwrap_or("SIM");
    error_response(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), e.code, &e.message, tracking)
}

pub(super) async fn get_ecbn(State(st): State<Arc<SimState>>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    about_person(&st, &id, &headers, Org::ecbn_get)
}

pub(super) async fn get_dependencies(
    State(st): State<Arc<SimState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    about_person(&st, &id, &headers, Org::dependencies)
}

/// A GET about one person: the answer, or the API's 404 for an unknown person.
fn about_person<T: serde::Serialize>(
    st: &SimState,
    id: &str,
    headers: &HeaderMap,
    answer: impl FnOnce(&Org, usize) -> T,
) -> Response {
    let org = lock(&st.org);
    match org.person(id) {
        Ok(i) => Json(answer(&org, i)).into_response(),
        Err(e) => sim_err(e, headers),
    }
}

pub(super) async fn put_ecbn(
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
pub(super) struct PageQuery {
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

pub(super) async fn get_available_numbers(
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

pub(super) async fn get_people(
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
