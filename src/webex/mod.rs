//! The Webex client: typed endpoints over one transport (limiter + retry + error mapping).

pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod transport;

pub(crate) use auth::{Secret, TokenError, TokenSource};
pub(crate) use client::Client;
pub(crate) use error::{ApiError, Fatal};
pub(crate) use transport::{FlightReport, LatencyReport, Rate, RateReport, Stats, Tally, Transport, TransportConfig};
