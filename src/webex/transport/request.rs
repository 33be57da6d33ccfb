//! A request, its answer, and the bookkeeping of its attempts.

use crate::webex::error::ApiError;
use reqwest::{Method, Url};

/// One request as the transport sees it.
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Route template (without the base path), for accounting.
    pub(crate) route: &'static str,
    pub(crate) url: Url,
    pub(crate) body: Option<Vec<u8>>,
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) body: bytes::Bytes,
    pub(crate) content_type: Option<String>,
    pub(crate) next_link: Option<String>,
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
