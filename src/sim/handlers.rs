//! The `/v1` endpoints of the simulator: ECBN GET/PUT, dependencies and available
//! numbers of every member kind, hunt-group dependencies, and the people, workspace
//! and virtual-line listings, with the API's paging.

use super::faults::NextLink;
use super::oauth;
use super::org::{ListQuery, Org, Page, PeopleQuery, SimError, Window};
use super::server::{SimState, error_response, lock};
use crate::ids::Kind;
use crate::wire::{
    EcbnPut, LocationList, MESSAGE_MAX_BYTES, Me, MessagePost, PeopleList, VirtualLineList, WorkspaceList,
};
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use std::sync::atomic::Ordering;

fn sim_err(e: SimError, headers: &HeaderMap) -> Response {
    let tracking = headers.get("trackingid").and_then(|v| v.to_str().ok()).unwrap_or("SIM");
    error_response(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST), e.code, &e.message, tracking)
}

/// The ECBN GET of a member or a location of `kind`: the answer, or the API's 404.
pub(super) fn get_ecbn(st: &SimState, org: usize, id: &str, kind: Kind, headers: &HeaderMap) -> Response {
    let world = lock(&st.world);
    let org = &world.orgs[org];
    match org.holder(id, kind) {
        Ok(h) => Json(org.ecbn_get(h)).into_response(),
        Err(e) => sim_err(e, headers),
    }
}

/// A GET about one member of `kind`: the answer, or the API's 404.
pub(super) fn about_member<T: serde::Serialize>(
    st: &SimState,
    org: usize,
    id: &str,
    kind: Kind,
    headers: &HeaderMap,
    answer: impl FnOnce(&Org, usize) -> T,
) -> Response {
    let world = lock(&st.world);
    let org = &world.orgs[org];
    match org.member_of(id, kind) {
        Ok(i) => Json(answer(org, i)).into_response(),
        Err(e) => sim_err(e, headers),
    }
}

/// `GET /telephony/config/huntGroups/{id}/emergencyCallbackNumber/dependencies`.
pub(super) fn hunt_group_dependencies(st: &SimState, org: usize, id: &str, headers: &HeaderMap) -> Response {
    let world = lock(&st.world);
    let org = &world.orgs[org];
    match org.hunt_group(id) {
        Ok(i) => Json(org.dependencies(i)).into_response(),
        Err(e) => sim_err(e, headers),
    }
}

pub(super) fn put_ecbn(st: &SimState, org: usize, id: &str, kind: Kind, headers: &HeaderMap, body: &[u8]) -> Response {
    let parsed: EcbnPut = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return sim_err(SimError::new(400, 0, format!("Invalid request body: {e}")), headers),
    };
    let result = {
        let mut world = lock(&st.world);
        let org = &mut world.orgs[org];
        org.holder(id, kind).and_then(|h| org.put_ecbn(h, &parsed))
    };
    match result {
        Ok(()) => {
            lock(&st.stats).writes_applied += 1;
            st.dirty.store(true, Ordering::Release);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => sim_err(e, headers),
    }
}

/// A request's query: every pair, keys repeated as given (`locationId` may repeat).
struct Q(Vec<(String, String)>);

impl Q {
    fn of(uri: &Uri) -> Q {
        Q(url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()).into_owned().collect())
    }
    fn one(&self, key: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
    /// `max` (default `dflt`, at most `ceiling`) and `start`.
    fn window(&self, dflt: usize, ceiling: usize) -> Result<(usize, usize), SimError> {
        let num = |what: &str| match self.one(what) {
            None => Ok(None),
            Some(s) => s
                .parse::<usize>()
                .map(Some)
                .map_err(|_| SimError::new(400, 0, format!("Invalid value for {what}: {s}"))),
        };
        let max = num("max")?.unwrap_or(dflt);
        if max == 0 || max > ceiling {
            return Err(SimError::new(400, 0, format!("max must be between 1 and {ceiling}")));
        }
        Ok((max, num("start")?.unwrap_or(0)))
    }
}

pub(super) fn available_numbers(
    st: &SimState,
    org: usize,
    id: &str,
    kind: Kind,
    headers: &HeaderMap,
    uri: &Uri,
) -> Response {
    let q = Q::of(uri);
    // [doc] default 2000; larger asks are cut to it
    let (max, start) = match q.window(2000, usize::MAX) {
        Ok((m, s)) => (m.min(2000), s),
        Err(e) => return sim_err(e, headers),
    };
    let w = Window { start, max };
    let items = {
        let world = lock(&st.world);
        let org = &world.orgs[org];
        match org.holder(id, kind) {
            Ok(h) => org.available_numbers(h, q.one("phoneNumber").as_deref(), q.one("ownerName").as_deref()),
            Err(e) => return sim_err(e, headers),
        }
    };
    page(st, Page::of(items.into_iter(), w, |n| n), w, headers, uri, |v| serde_json::json!({ "phoneNumbers": v }))
}

pub(super) fn people(st: &SimState, org: usize, headers: &HeaderMap, uri: &Uri) -> Response {
    let q = Q::of(uri);
    let calling = q.one("callingData").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let location_id = q.one("locationId");
    // [doc] `max` at most 100 with callingData, 50 with locationId
    let ceiling = if location_id.is_some() {
        50
    } else if calling {
        100
    } else {
        1000
    };
    let (max, start) = match q.window(100.min(ceiling), ceiling) {
        Ok(w) => w,
        Err(e) => return sim_err(e, headers),
    };
    let ids =
        q.one("id").map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect::<Vec<_>>());
    if ids.as_ref().is_some_and(|v| v.len() > 85) {
        return sim_err(SimError::new(400, 0, "At most 85 ids may be given"), headers);
    }
    let w = Window { start, max };
    let query = PeopleQuery { email: q.one("email"), ids, location_id, calling_data: calling };
    let items = lock(&st.world).orgs[org].people(&query, w);
    page(st, items, w, headers, uri, |v| serde_json::to_value(PeopleList { items: v }).unwrap_or_default())
}

pub(super) fn workspaces(st: &SimState, org: usize, headers: &HeaderMap, uri: &Uri) -> Response {
    let q = Q::of(uri);
    let (max, start) = match q.window(100, 1000) {
        Ok(w) => w,
        Err(e) => return sim_err(e, headers),
    };
    let query = ListQuery { location_ids: q.all("locationId"), calling: q.one("calling") };
    let w = Window { start, max };
    let items = lock(&st.world).orgs[org].workspaces(&query, w);
    page(st, items, w, headers, uri, |v| serde_json::to_value(WorkspaceList { items: v }).unwrap_or_default())
}

/// `GET /locations`: every location of the org, paged.
pub(super) fn locations(st: &SimState, org: usize, headers: &HeaderMap, uri: &Uri) -> Response {
    let (max, start) = match Q::of(uri).window(100, 1000) {
        Ok(w) => w,
        Err(e) => return sim_err(e, headers),
    };
    let w = Window { start, max };
    let items = lock(&st.world).orgs[org].locations(w);
    page(st, items, w, headers, uri, |v| serde_json::to_value(LocationList { items: v }).unwrap_or_default())
}

pub(super) fn virtual_lines(st: &SimState, org: usize, headers: &HeaderMap, uri: &Uri) -> Response {
    let q = Q::of(uri);
    let (max, start) = match q.window(100, 1000) {
        Ok(w) => w,
        Err(e) => return sim_err(e, headers),
    };
    let query = ListQuery { location_ids: q.all("locationId"), calling: None };
    let w = Window { start, max };
    let items = lock(&st.world).orgs[org].virtual_lines(&query, w);
    page(st, items, w, headers, uri, |v| serde_json::to_value(VirtualLineList { virtual_lines: v }).unwrap_or_default())
}

/// Answer one page, with `Link: <...>; rel="next"` when more remain (spoilt as the
/// `next_link` fault says).
fn page<T: serde::Serialize>(
    st: &SimState,
    page: Page<T>,
    Window { start, max }: Window,
    headers: &HeaderMap,
    uri: &Uri,
    wrap: impl FnOnce(Vec<T>) -> serde_json::Value,
) -> Response {
    let mut resp = Json(wrap(page.items)).into_response();
    if page.more {
        let host = headers.get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1");
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        if let Ok(mut u) = reqwest::Url::parse(&format!("http://{host}{path_and_query}")) {
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
            spoil(&mut u, lock(&st.faults).next_link);
            if let Ok(v) = HeaderValue::from_str(&format!("<{u}>; rel=\"next\"")) {
                resp.headers_mut().insert("link", v);
            }
        }
    }
    resp
}

fn spoil(u: &mut reqwest::Url, how: Option<NextLink>) {
    let without_org: Vec<(String, String)> =
        u.query_pairs().filter(|(k, _)| k != "orgId").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    match how {
        None => {}
        Some(NextLink::DropOrgId) => {
            u.query_pairs_mut().clear().extend_pairs(without_org);
        }
        Some(NextLink::ForeignOrg) => {
            let other = crate::sim::org::new_id(crate::ids::IdKind::Organization, 0xf0f0, 0xf0f0);
            u.query_pairs_mut().clear().extend_pairs(without_org).append_pair("orgId", &other);
        }
        Some(NextLink::ForeignHost) => {
            let _ = u.set_host(Some("127.0.0.2"));
        }
    }
}

/// `POST /messages` [doc]: a space's message; `roomId` and a text are required, and the
/// text may hold at most 7439 bytes. The space is not checked (any room ID is taken).
pub(super) fn post_message(st: &SimState, headers: &HeaderMap, body: &[u8]) -> Response {
    let bad = |m: &str| sim_err(SimError::new(400, 0, m), headers);
    let post: MessagePost = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => return bad(&format!("Invalid request body: {e}")),
    };
    let Some(room_id) = post.room_id.filter(|r| !r.trim().is_empty()) else {
        return bad("roomId, toPersonId or toPersonEmail is required");
    };
    let text = post.markdown.as_deref().or(post.text.as_deref()).unwrap_or("");
    if text.trim().is_empty() {
        return bad("Both text and file cannot be empty.");
    }
    if text.len() > MESSAGE_MAX_BYTES {
        return bad(&format!("The message is too long: {} bytes (at most {MESSAGE_MAX_BYTES})", text.len()));
    }
    let mut messages = lock(&st.messages);
    let message = serde_json::json!({
        "id": format!("SIM_MESSAGE_{}", messages.len() + 1),
        "roomId": room_id,
        "roomType": "group",
        "markdown": post.markdown,
        "text": post.text.or(post.markdown),
        "created": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
    });
    messages.push(message.clone());
    Json(message).into_response()
}

/// `GET /people/me`: the administrator the token acts for, in the org it acts on (the
/// simulator has one such identity per org; it is not one of the org's members).
pub(super) fn me(st: &SimState, org: usize, _headers: &HeaderMap) -> Response {
    let world = lock(&st.world);
    let org_id = world.orgs[org].state.org_id.clone();
    let id = crate::sim::org::new_id(crate::ids::IdKind::People, org as u64, 0xad_0000);
    let me = Me { id, display_name: "Simulator Admin".into(), emails: vec!["admin@example.com".into()], org_id };
    Json(me).into_response()
}

/// `POST /access_token`: the refresh grant (`oauth`), form-encoded; a refusal is a 400
/// with a Webex error body.
pub(super) fn access_token(st: &SimState, headers: &HeaderMap, body: &[u8]) -> Response {
    let form_encoded = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded {
        let e = SimError::new(400, 0, "The request body must be application/x-www-form-urlencoded.");
        return sim_err(e, headers);
    }
    let form = oauth::RefreshForm::parse(body);
    let answer = {
        let mut world = lock(&st.world);
        let fresh = |prefix: &str| format!("{prefix}_{:032x}", lock(&st.rng).random::<u128>());
        oauth::refresh(&mut world, &form, &st.clock, &st.token_policy, fresh)
    };
    match answer {
        Ok(a) => {
            st.dirty.store(true, Ordering::Release);
            Json(a).into_response()
        }
        Err(why) => sim_err(SimError::new(400, 0, why.to_string()), headers),
    }
}
