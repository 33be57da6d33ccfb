//! Answers no Webex service should give, for rehearsing them: spoiled 2xx bodies
//! (`body_fault`), and the trap a redirect points at — another local port that records
//! every request it receives, so a rehearsal can show the token never went there.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// What is wrong with a spoiled 2xx body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum BodyFault {
    /// An HTML page, as a proxy or a load balancer gives (also on 5xx faults).
    Html,
    /// The first half of the JSON, with a matching Content-Length.
    Truncated,
    /// Valid JSON, every top-level field of the wrong type.
    WrongShape,
    /// The real answer with 20 MiB of padding in front, sent without a Content-Length.
    Huge,
    /// The real answer, one byte per second after the headers.
    Drip,
}

/// Larger than the client's default `max_response_bytes` (16 MiB).
const HUGE_PADDING: usize = 20 << 20;
static PAD_CHUNK: [u8; 64 << 10] = [b' '; 64 << 10];
const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n\
    <body><h1>Bad Gateway</h1><p>The proxy server received an invalid response from an upstream server.</p></body></html>\n";

impl BodyFault {
    /// The answer `resp` spoiled this way (its status and other headers kept).
    pub(crate) async fn spoil(self, resp: Response) -> Response {
        let (mut parts, body) = resp.into_parts();
        let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        parts.headers.remove(header::CONTENT_LENGTH);
        let body = match self {
            BodyFault::Html => {
                parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                Body::from(HTML_PAGE)
            }
            BodyFault::Truncated => Body::from(body.slice(..body.len() / 2)),
            BodyFault::WrongShape => {
                let v = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
                Body::from(serde_json::to_vec(&wrong_shape(v)).unwrap_or_default())
            }
            BodyFault::Huge => huge(body),
            BodyFault::Drip => drip(body),
        };
        Response::from_parts(parts, body)
    }
}

/// Every top-level field of another JSON type than the API's.
fn wrong_shape(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let spoiled = match v {
                        Value::String(_) => json!(7),
                        Value::Number(n) => json!(n.to_string()),
                        Value::Bool(b) => json!(b.to_string()),
                        Value::Array(_) => json!({}),
                        Value::Object(_) | Value::Null => json!([]),
                    };
                    (k, spoiled)
                })
                .collect(),
        ),
        _ => json!([]),
    }
}

/// `{"padding": "<20 MiB>", <the real fields>}`: valid JSON a client without a cap would
/// read whole and act on.
fn huge(body: Bytes) -> Body {
    let rest = match body.strip_prefix(b"{") {
        Some(r) if r.trim_ascii_start() != b"}" => [b",".as_slice(), r].concat(),
        _ => b"}".to_vec(),
    };
    let head = std::iter::once(Bytes::from_static(b"{\"padding\":\""));
    let pad = std::iter::repeat_n(Bytes::from_static(&PAD_CHUNK), HUGE_PADDING / PAD_CHUNK.len());
    let tail = std::iter::once(Bytes::from([b"\"".as_slice(), &rest].concat()));
    Body::from_stream(futures_util::stream::iter(head.chain(pad).chain(tail).map(Ok::<_, std::io::Error>)))
}

/// The body one byte per second: only a deadline on the whole answer ends the wait.
fn drip(body: Bytes) -> Body {
    let bytes = futures_util::stream::unfold(body, |mut rest| async move {
        if rest.is_empty() {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let byte = rest.split_to(1);
        Some((Ok::<_, std::io::Error>(byte), rest))
    });
    Body::from_stream(bytes)
}

/// The HTML page of a proxy, for a 5xx while `body_fault` is `html`.
pub(crate) fn html_error(status: StatusCode) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], HTML_PAGE).into_response()
}

/// Where redirects point: a listener on another port of 127.0.0.1 that records what it
/// receives (and never serves the API).
#[derive(Debug, Default)]
pub(crate) struct Trap {
    url: OnceLock<String>,
    received: Mutex<Vec<Value>>,
}

impl Trap {
    pub(crate) fn set_url(&self, url: String) {
        let _ = self.url.set(url);
    }

    /// `http://127.0.0.1:PORT`, once listening.
    pub(crate) fn url(&self) -> &str {
        self.url.get().map_or("http://127.0.0.1:9", String::as_str)
    }

    /// The request, booked; answered 404 (whatever a client does with it, it is not the API).
    pub(crate) fn receive(&self, req: &Request) -> Response {
        let entry = json!({
            "method": req.method().as_str(),
            "path": req.uri().path_and_query().map_or("", |p| p.as_str()),
            "authorization": req.headers().contains_key(header::AUTHORIZATION),
        });
        super::server::lock(&self.received).push(entry);
        (StatusCode::NOT_FOUND, Json(json!({"message": "not the Webex API"}))).into_response()
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({"url": self.url(), "received": *super::server::lock(&self.received)})
    }

    pub(crate) fn clear(&self) {
        super::server::lock(&self.received).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn spoiled(f: BodyFault, body: Value) -> (Option<String>, Bytes) {
        let r = f.spoil(Json(body).into_response()).await;
        let ct = r.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        (ct, axum::body::to_bytes(r.into_body(), usize::MAX).await.unwrap())
    }

    #[tokio::test]
    async fn each_spoiled_body_is_what_its_name_says() {
        let real = json!({"selected": "DIRECT_LINE", "dependentMemberCount": 2, "items": [], "ok": true});
        let (ct, b) = spoiled(BodyFault::Html, real.clone()).await;
        assert!(ct.unwrap().starts_with("text/html") && b.starts_with(b"<!DOCTYPE html>"));
        let (_, b) = spoiled(BodyFault::Truncated, real.clone()).await;
        assert!(serde_json::from_slice::<Value>(&b).is_err() && !b.is_empty());
        let (_, b) = spoiled(BodyFault::WrongShape, real.clone()).await;
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v, json!({"selected": 7, "dependentMemberCount": "2", "items": {}, "ok": "true"}));
        let (_, b) = spoiled(BodyFault::Huge, real.clone()).await;
        assert!(b.len() > HUGE_PADDING);
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["selected"], "DIRECT_LINE", "valid JSON with the real fields");
        let (_, b) = spoiled(BodyFault::Huge, json!({})).await;
        assert!(serde_json::from_slice::<Value>(&b).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_dripping_body_takes_a_second_a_byte() {
        let t0 = tokio::time::Instant::now();
        let (_, b) = spoiled(BodyFault::Drip, json!({"a": 1})).await;
        assert_eq!(&b[..], br#"{"a":1}"#);
        assert_eq!(t0.elapsed(), Duration::from_secs(7));
    }
}
