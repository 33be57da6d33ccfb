//! The Webex client: typed endpoints over one transport (limiter + retry + error mapping).

pub mod pacer;
pub mod client;
pub mod error;
pub mod retry;
pub mod token;
pub mod transport;

pub use client::Client;
pub use error::{ApiError, Fatal};
pub use token::{Secret, TokenSource};
pub use transport::{Call, Stats, Transport, TransportConfig};
