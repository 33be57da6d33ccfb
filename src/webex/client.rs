//! The typed Webex client: one method per endpoint, all over the one `Transport`.

use super::error::ApiError;
use super::transport::{Call, Request, Response, Transport};
use crate::wire::{AvailableNumbers, Dependencies, EcbnGet, EcbnPut, PeopleList, Person, routes};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use std::sync::Arc;

#[derive(Clone)]
pub(crate) struct Client {
    t: Arc<Transport>,
}

fn decode<T: DeserializeOwned>(r: Response) -> Result<T, ApiError> {
    serde_json::from_slice(&r.body).map_err(|e| ApiError::Decode(e.to_string()))
}

impl Client {
    pub(crate) fn new(t: Arc<Transport>) -> Client {
        Client { t }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.t
    }

    fn person_url(&self, person_id: &str, tail: &[&str], query: &[(&str, &str)]) -> Url {
        let mut segs = vec!["telephony", "config", "people", person_id, "emergencyCallbackNumber"];
        segs.extend_from_slice(tail);
        self.t.url(&segs, query)
    }

    async fn get<T: DeserializeOwned>(&self, route: &'static str, url: Url) -> Call<T> {
        self.t.send(Request { method: Method::GET, route, url, body: None }).await.map(decode)
    }

    pub(crate) async fn get_ecbn(&self, person_id: &str) -> Call<EcbnGet> {
        self.get(routes::ECBN, self.person_url(person_id, &[], &[])).await
    }

    pub(crate) async fn get_dependencies(&self, person_id: &str) -> Call<Dependencies> {
        self.get(routes::DEPENDENCIES, self.person_url(person_id, &["dependencies"], &[])).await
    }

    pub(crate) async fn put_ecbn(&self, person_id: &str, body: &EcbnPut) -> Call<()> {
        let body = match serde_json::to_vec(body) {
            Ok(b) => b,
            Err(e) => {
                return Call { attempts: 0, status: None, result: Err(ApiError::Internal(e.to_string())) };
            }
        };
        self.t
            .send(Request {
                method: Method::PUT,
                route: routes::ECBN,
                url: self.person_url(person_id, &[], &[]),
                body: Some(body),
            })
            .await
            .map(|_| Ok(()))
    }

    /// Valid ECBN targets for a person, filtered by phone number(s) (comma-separated).
    pub(crate) async fn available_numbers(&self, person_id: &str, phone: &str) -> Call<AvailableNumbers> {
        let url = self.person_url(person_id, &["availableNumbers"], &[("phoneNumber", phone)]);
        self.get(routes::AVAILABLE_NUMBERS, url).await
    }

    pub(crate) async fn people_by_email(&self, email: &str) -> Call<PeopleList> {
        let url = self.t.url(&["people"], &[("email", email), ("callingData", "true")]);
        self.get(routes::PEOPLE, url).await
    }

    /// Every person of the calling-enabled people listing (optionally of one location),
    /// page by page, handed to `f` in listing order.
    pub(crate) async fn people_listing(
        &self,
        location_id: Option<&str>,
        mut f: impl FnMut(Person),
    ) -> Result<(), ApiError> {
        let mut url = Some(self.people_listing_url(location_id));
        while let Some(u) = url.take() {
            let (list, next) = self.people_page(u).await.result?;
            list.items.into_iter().for_each(&mut f);
            url = next;
        }
        Ok(())
    }

    /// First page of the calling-enabled people listing (optionally one location).
    fn people_listing_url(&self, location_id: Option<&str>) -> Url {
        let mut q = vec![("callingData", "true")];
        match location_id {
            // the API allows at most 50 per page when filtering by location
            Some(l) => q.extend([("locationId", l), ("max", "50")]),
            None => q.push(("max", "100")),
        }
        self.t.url(&["people"], &q)
    }

    /// One page; returns the items and the `Link: rel="next"` URL.
    async fn people_page(&self, url: Url) -> Call<(PeopleList, Option<Url>)> {
        self.t.send(Request { method: Method::GET, route: routes::PEOPLE, url, body: None }).await.map(|r| {
            let next = r.next_link.as_deref().and_then(|u| Url::parse(u).ok());
            decode::<PeopleList>(r).map(|l| (l, next))
        })
    }
}
