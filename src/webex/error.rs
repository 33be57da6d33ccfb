//! Typed errors of the Webex client.

/// Why one request did not succeed; the row's message is its `Display`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status (after retries, for retryable ones).
    #[error("{status} {message}")]
    Status {
        status: u16,
        message: String,
        error_code: Option<i64>,
        tracking_id: Option<String>,
    },
    /// No answer after all retries (timeouts, dropped connections).
    #[error("{0}")]
    Network(String),
    /// A PUT may or may not have been applied: its answer never came.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// The run stopped (signal or fatal error) before this request finished.
    #[error("not attempted: the run stopped")]
    Cancelled,
    /// A 2xx whose body does not match the API's schema.
    #[error("unexpected response: {0}")]
    Decode(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            ApiError::Status { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }
}

/// Errors that stop the whole run (exit 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fatal {
    #[error("authentication refused (401: {0}); the token is missing, invalid or expired")]
    Unauthorized(String),
    #[error("authorisation refused for {method} (403: {message}); the token lacks the scope (spark-admin:telephony_config_read for reads, spark-admin:telephony_config_write for writes, spark-admin:people_read for people look-ups) or the admin role")]
    Forbidden { method: String, message: String },
    #[error("the API looks down, stopping: {0}")]
    Outage(String),
}
