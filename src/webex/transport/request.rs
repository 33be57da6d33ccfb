//! A request, its answer, and the bookkeeping of its attempts.

use crate::webex::error::ApiError;
use reqwest::{Method, Url};

/// One request as the transport sees it.
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Route template (without the base path), for accounting.
    pub(crate) route: &'static str,
    pub(crate) url: Url,
    /// The body and its content type.
    pub(crate) body: Option<(Vec<u8>, &'static str)>,
    /// Sent with the run's bearer token: an API request. The token endpoint's is not,
    /// and none of its answers says anything of the API or the token (no 401 renewal,
    /// no 403 or redirect rule).
    pub(crate) bearer: bool,
}

impl Request {
    pub(crate) fn get(route: &'static str, url: Url) -> Request {
        Request { method: Method::GET, route, url, body: None, bearer: true }
    }

    pub(crate) fn json(method: Method, route: &'static str, url: Url, body: Vec<u8>) -> Request {
        Request { method, route, url, body: Some((body, "application/json")), bearer: true }
    }

    /// A refresh of the access token at the token endpoint `url` (booked by its path).
    pub(crate) fn token(url: Url, form: Vec<u8>) -> Request {
        let body = Some((form, "application/x-www-form-urlencoded"));
        Request { method: Method::POST, route: "", url, body, bearer: false }
    }

    /// The route as the summary (and `/_sim/stats`) books it.
    pub(crate) fn booked(&self, base_path: &str) -> String {
        match self.bearer {
            true => format!("{} {base_path}{}", self.method, self.route),
            false => format!("{} {}", self.method, self.url.path()),
        }
    }
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) body: bytes::Bytes,
    pub(crate) content_type: Option<String>,
    pub(crate) next_link: Option<String>,
}

impl Response {
    /// The answer as `T`, decoded whole from a JSON object: serde would take
    /// `["DIRECT_LINE"]` for `{"selected": "DIRECT_LINE"}` (a struct from a sequence), so
    /// the shape is checked first.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T, ApiError> {
        let object = match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(v @ serde_json::Value::Object(_)) => serde_json::from_value(v),
            Ok(other) => {
                Err(serde::de::Error::custom(format_args!("expected a JSON object, got {}", json_kind(&other))))
            }
            Err(e) => Err(e),
        };
        object.map_err(|e| {
            let what = self.content_type.as_deref().unwrap_or("no content type");
            ApiError::Unreadable(format!("{e} ({what}, {} bytes)", self.body.len()))
        })
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The result of a request with its accounting for the row.
#[derive(Debug)]
pub(crate) struct Call<T> {
    pub(crate) attempts: u32,
    /// The last HTTP status seen; `None` when no response ever came.
    pub(crate) status: Option<u16>,
    pub(crate) result: Result<T, ApiError>,
}

impl<T> Call<T> {
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> Result<U, ApiError>) -> Call<U> {
        Call { attempts: self.attempts, status: self.status, result: self.result.and_then(f) }
    }

    /// What the call cost, for the rows it was made for.
    pub(crate) fn tally(&self) -> Tally {
        Tally { attempts: self.attempts, status: self.status }
    }
}

/// A call's attempts and its last HTTP status, without its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) attempts: u32,
    pub(crate) status: Option<u16>,
}

/// One request's way through its attempts.
pub(super) struct Journey {
    pub(super) attempts: u32,
    pub(super) retries: u32,
    pub(super) throttles: u32,
    pub(super) status: Option<u16>,
    pub(super) is_put: bool,
    /// A PUT attempt whose answer never came may have been applied.
    pub(super) unanswered_put: bool,
    pub(super) rotated: bool,
}

impl Journey {
    pub(super) fn new(method: &Method) -> Journey {
        Journey {
            attempts: 0,
            retries: 0,
            throttles: 0,
            status: None,
            is_put: *method == Method::PUT,
            unanswered_put: false,
            rotated: false,
        }
    }

    pub(super) fn done(&self, result: Result<Response, ApiError>) -> Call<Response> {
        let result = result.map_err(|e| match e {
            // retries ran out after an attempt of this PUT got no answer: it may have been applied
            ApiError::Network(m) if self.unanswered_put => ApiError::OutcomeUnknown(m),
            e @ ApiError::Status { status: 423 | 500..=599, .. } if self.unanswered_put => {
                ApiError::OutcomeUnknown(e.to_string())
            }
            other => other,
        });
        Call { attempts: self.attempts, status: self.status, result }
    }

    /// The run stopped before this request had its answer.
    pub(super) fn stopped(&self, in_flight: bool) -> Call<Response> {
        let unknown = self.is_put && (self.unanswered_put || in_flight);
        let error = if unknown {
            ApiError::OutcomeUnknown("interrupted before the answer came".into())
        } else {
            ApiError::Cancelled
        };
        Call { attempts: self.attempts, status: self.status, result: Err(error) }
    }
}
