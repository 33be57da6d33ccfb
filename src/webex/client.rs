//! The typed Webex client: one method per endpoint, all over the one `Transport`.

use super::error::ApiError;
use super::transport::{Call, Request, Response, Transport};
use crate::ids::Kind;
use crate::wire::{
    AvailableNumbers, Dependencies, EcbnGet, EcbnPut, LocationItem, LocationList, Me, MessagePost, PeopleList, Person,
    VirtualLine, VirtualLineList, Workspace, WorkspaceList, routes,
};
use reqwest::{Method, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct Client {
    t: Arc<Transport>,
}

impl Client {
    pub(crate) fn new(t: Arc<Transport>) -> Client {
        Client { t }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.t
    }

    /// The URL of a route template with `id` in its `{…}` segment.
    fn url_of(&self, template: &str, id: &str, query: &[(&str, &str)]) -> Url {
        let segs: Vec<&str> =
            template.split('/').filter(|s| !s.is_empty()).map(|s| if s.starts_with('{') { id } else { s }).collect();
        self.t.url(&segs, query)
    }

    async fn get<T: DeserializeOwned>(&self, route: &'static str, url: Url) -> Call<T> {
        self.t.send(Request::get(route, url)).await.map(Response::decode)
    }

    pub(crate) async fn get_ecbn(&self, kind: Kind, id: &str) -> Call<EcbnGet> {
        let route = kind.spec().ecbn;
        self.get(route, self.url_of(route, id, &[])).await
    }

    /// Who depends on a member; `None` for a kind nobody can depend on (a location).
    pub(crate) async fn get_dependencies(&self, kind: Kind, id: &str) -> Option<Call<Dependencies>> {
        let route = kind.spec().dependencies?;
        Some(self.get(route, self.url_of(route, id, &[])).await)
    }

    /// A request with a JSON body; its answer's body is not read.
    async fn send_json(&self, method: Method, route: &'static str, url: Url, body: &impl Serialize) -> Call<()> {
        let body = match serde_json::to_vec(body) {
            Ok(b) => b,
            Err(e) => return Call { attempts: 0, status: None, result: Err(ApiError::Internal(e.to_string())) },
        };
        self.t.send(Request::json(method, route, url, body)).await.map(|_| Ok(()))
    }

    pub(crate) async fn put_ecbn(&self, kind: Kind, id: &str, body: &EcbnPut) -> Call<()> {
        let route = kind.spec().ecbn;
        self.send_json(Method::PUT, route, self.url_of(route, id, &[]), body).await
    }

    /// `GET /people/me`: whom the token acts for.
    pub(crate) async fn me(&self) -> Call<Me> {
        self.get(routes::ME, self.url_of(routes::ME, "", &[])).await
    }

    /// `POST /messages`: the run's notification.
    pub(crate) async fn post_message(&self, body: &MessagePost) -> Call<()> {
        self.send_json(Method::POST, routes::MESSAGES, self.url_of(routes::MESSAGES, "", &[]), body).await
    }

    /// Valid ECBN targets for a member, filtered by phone number(s) (comma-separated).
    pub(crate) async fn available_numbers(&self, kind: Kind, id: &str, phone: &str) -> Call<AvailableNumbers> {
        let route = kind.spec().available_numbers;
        self.get(route, self.url_of(route, id, &[("phoneNumber", phone)])).await
    }

    pub(crate) async fn people_by_email(&self, email: &str) -> Call<PeopleList> {
        let url = self.url_of(routes::PEOPLE, "", &[("email", email), ("callingData", "true")]);
        self.get(routes::PEOPLE, url).await
    }

    /// Every person of the calling-enabled people listing (optionally of one location),
    /// in listing order.
    pub(crate) async fn people_listing(
        &self,
        location_id: Option<&str>,
        f: impl FnMut(Person),
    ) -> Result<(), ApiError> {
        let mut q = vec![("callingData", "true")];
        match location_id {
            // the API allows at most 50 per page when filtering by location
            Some(l) => q.extend([("locationId", l), ("max", "50")]),
            None => q.push(("max", "100")),
        }
        self.list::<PeopleList>(self.url_of(routes::PEOPLE, "", &q), f).await
    }

    /// Every workspace with Webex Calling (optionally of one location), in listing order.
    pub(crate) async fn workspaces_listing(
        &self,
        location_id: Option<&str>,
        f: impl FnMut(Workspace),
    ) -> Result<(), ApiError> {
        let mut q = vec![("calling", "webexCalling"), ("max", "100")];
        q.extend(location_id.map(|l| ("locationId", l)));
        self.list::<WorkspaceList>(self.url_of(routes::WORKSPACES, "", &q), f).await
    }

    /// Every virtual line (optionally of one location), in listing order.
    pub(crate) async fn virtual_lines_listing(
        &self,
        location_id: Option<&str>,
        f: impl FnMut(VirtualLine),
    ) -> Result<(), ApiError> {
        let mut q = vec![("max", "100")];
        q.extend(location_id.map(|l| ("locationId", l)));
        self.list::<VirtualLineList>(self.url_of(routes::VIRTUAL_LINES, "", &q), f).await
    }

    /// Every location of the org, in listing order.
    pub(crate) async fn locations_listing(&self, f: impl FnMut(LocationItem)) -> Result<(), ApiError> {
        self.list::<LocationList>(self.url_of(routes::LOCATIONS, "", &[("max", "100")]), f).await
    }

    /// Every item of a listing, page by page (`Link: rel="next"`, followed under the
    /// transport's link policy), in listing order.
    async fn list<L: Listing>(&self, first: Url, mut f: impl FnMut(L::Item)) -> Result<(), ApiError> {
        let mut url = Some(first);
        while let Some(u) = url.take() {
            let call = self.t.send(Request::get(L::ROUTE, u)).await;
            let (page, next) = call
                .map(|mut r| {
                    let next = r.next_link.take();
                    r.decode::<L>().map(|page| (page, next))
                })
                .result
                .inspect_err(|e| {
                    if matches!(e, ApiError::Unreadable(_)) {
                        self.t.refuse_listing(L::ROUTE, e);
                    }
                })?;
            page.items().into_iter().for_each(&mut f);
            url = next.map(|link| self.t.follow(&link)).transpose()?;
        }
        Ok(())
    }
}

/// A paged listing: its route, and the items of one page.
trait Listing: DeserializeOwned {
    type Item;
    const ROUTE: &'static str;
    fn items(self) -> Vec<Self::Item>;
}

impl Listing for PeopleList {
    type Item = Person;
    const ROUTE: &'static str = routes::PEOPLE;
    fn items(self) -> Vec<Person> {
        self.items
    }
}

impl Listing for WorkspaceList {
    type Item = Workspace;
    const ROUTE: &'static str = routes::WORKSPACES;
    fn items(self) -> Vec<Workspace> {
        self.items
    }
}

impl Listing for LocationList {
    type Item = LocationItem;
    const ROUTE: &'static str = routes::LOCATIONS;
    fn items(self) -> Vec<LocationItem> {
        self.items
    }
}

impl Listing for VirtualLineList {
    type Item = VirtualLine;
    const ROUTE: &'static str = routes::VIRTUAL_LINES;
    fn items(self) -> Vec<VirtualLine> {
        self.virtual_lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str, content_type: &str) -> Response {
        Response { body: body.to_string().into(), next_link: None, content_type: Some(content_type.into()) }
    }

    #[test]
    fn only_a_json_object_of_the_right_shape_is_read() {
        let ok = answer(r#"{"selected":"DIRECT_LINE"}"#, "application/json").decode::<EcbnGet>().unwrap();
        assert_eq!(ok.selected, "DIRECT_LINE");
        for (body, content_type, says) in [
            (r#"["DIRECT_LINE"]"#, "application/json", "expected a JSON object, got an array"),
            (
                "<html><body>Bad gateway</body></html>",
                "text/html",
                "expected value at line 1 column 1 (text/html, 37 bytes)",
            ),
            (r#"{"selected":"DIRECT_"#, "application/json", "EOF while parsing"),
            (r#"{"selected":1}"#, "application/json", "invalid type: integer `1`, expected a string"),
        ] {
            let e = answer(body, content_type).decode::<EcbnGet>().unwrap_err();
            assert!(e.to_string().starts_with("unreadable answer: "), "{e}");
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
