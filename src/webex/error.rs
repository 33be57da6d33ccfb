//! Typed errors of the Webex client, and the mapping of Webex error bodies to them.

use crate::wire::ErrorBody;
use reqwest::StatusCode;

/// Why one request did not succeed; the row's message is its `Display`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status (after retries, for retryable ones).
    #[error("{status} {message}")]
    Status { status: u16, message: String, error_code: Option<i64>, tracking_id: Option<String> },
    /// No answer after all retries (timeouts, dropped connections).
    #[error("{0}")]
    Network(String),
    /// A PUT may or may not have been applied: its answer never came.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// The run stopped (signal or fatal error) before this request finished.
    #[error("not attempted: the run stopped")]
    Cancelled,
    /// A 2xx whose body is not JSON, is cut short, lacks a required field or has a
    /// wrong type, or is larger than `max_response_bytes`: never acted on.
    #[error("unreadable answer: {0}")]
    Unreadable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A 3xx: never followed (the Webex API does not redirect).
    #[error("redirect refused: {status} (to {to}; the Webex API does not redirect)")]
    Redirect { status: u16, to: String },
    /// A `Link: rel="next"` the run does not follow (it stops the run).
    #[error("{0}")]
    Link(Fatal),
}

/// Errors that stop the whole run (exit 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fatal {
    #[error("authentication refused (401: {0}); the token is missing, invalid or expired")]
    Unauthorized(String),
    #[error(
        "authorisation refused for {method} (403: {message}); the token lacks the scope (spark-admin:telephony_config_read for reads, spark-admin:telephony_config_write for writes, spark-admin:people_read for people look-ups) or the admin role"
    )]
    Forbidden { method: String, message: String },
    #[error("the API looks down, stopping: {0}")]
    Outage(String),
    #[error("refusing a next-page link: {0}")]
    ForeignLink(String),
    #[error("the API's first answer was a redirect ({0}); check base_url")]
    Redirect(String),
    #[error("a listing's answer cannot be trusted, stopping: {0}")]
    UnreadableListing(String),
    #[error(
        "the refresh token was refused ({status}: {message}); create a new one: authorise the integration or service app again and write its refresh token to refresh_token_file (README: Running it every night)"
    )]
    RefreshRefused { status: u16, message: String },
    #[error("the access token could not be renewed: {0}")]
    TokenEndpoint(String),
    #[error("{0}")]
    TokenStorage(String),
}

/// A Webex error body to a typed error (plain text when the body is not JSON).
pub(crate) fn api_error(status: u16, body: &[u8], tracking: Option<String>) -> ApiError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let (message, code, tid) = match parsed {
        Some(b) => {
            let code = b.errors.iter().find_map(|e| e.error_code);
            let msg = if !b.message.is_empty() {
                b.message
            } else {
                b.errors.iter().map(|e| e.description.clone()).collect::<Vec<_>>().join("; ")
            };
            (msg, code, b.tracking_id.or(tracking))
        }
        None => (String::from_utf8_lossy(&body[..body.len().min(200)]).trim().to_string(), None, tracking),
    };
    ApiError::Status {
        status,
        message: if message.is_empty() { reason.to_string() } else { message },
        error_code: code,
        tracking_id: tid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_mapping() {
        let b = br#"{"message":"[Error 27402] Member does not have a valid phone number","errors":[{"description":"d","errorCode":27402}],"trackingId":"T1"}"#;
        match api_error(400, b, None) {
            ApiError::Status { status, message, error_code, tracking_id } => {
                assert_eq!(status, 400);
                assert!(message.starts_with("[Error 27402]"));
                assert_eq!(error_code, Some(27402));
                assert_eq!(tracking_id.as_deref(), Some("T1"));
            }
            other => panic!("{other:?}"),
        }
        match api_error(502, b"<html>bad gateway</html>", Some("T2".into())) {
            ApiError::Status { message, tracking_id, .. } => {
                assert!(message.contains("bad gateway"));
                assert_eq!(tracking_id.as_deref(), Some("T2"));
            }
            other => panic!("{other:?}"),
        }
    }
}
