//! The one transport under every Webex call: run-wide pacing (`--rate` and the adaptive
//! cut after 429s), global 429 pause, retries, error mapping, token rotation, request
//! accounting.
//! No endpoint implements retry on its own.

use super::error::{ApiError, Fatal, api_error};
use super::pacer::Pacer;
use super::retry::{self, Budget, Disposition};
use super::token::TokenSource;
use reqwest::{Method, Url};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Upper bound of 429s for one request; a server that never lets it through is an outage.
const MAX_THROTTLES: u32 = 100;
/// How long an attempt already on the wire may finish after an interrupt.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub base_url: Url,
    pub org_id: Option<String>,
    /// Attempts per second for the whole run; 0 = unlimited.
    pub rate: u32,
    pub max_retries: u32,
    pub max_backoff: Duration,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub concurrency: usize,
}

/// One request as the transport sees it.
pub(crate) struct Request {
    pub method: Method,
    /// Route template (without the base path), for accounting.
    pub route: &'static str,
    pub url: Url,
    pub body: Option<Vec<u8>>,
}

/// A successful response.
#[derive(Debug)]
pub(crate) struct Response {
    pub body: bytes::Bytes,
    pub next_link: Option<String>,
}

/// The result of a request with its accounting for the row.
#[derive(Debug)]
pub(crate) struct Call<T> {
    pub attempts: u32,
    /// The last HTTP status seen; `None` when no response ever came.
    pub status: Option<u16>,
    pub result: Result<T, ApiError>,
}

impl<T> Call<T> {
    pub(crate) fn map<U>(self, f: impl FnOnce(T) -> Result<U, ApiError>) -> Call<U> {
        Call { attempts: self.attempts, status: self.status, result: self.result.and_then(f) }
    }
}

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    pub requests: BTreeMap<String, u64>,
    pub http_status: BTreeMap<String, u64>,
    pub retries: u64,
}

pub(crate) struct Transport {
    http: reqwest::Client,
    cfg: TransportConfig,
    base_path: String,
    token: TokenSource,
    /// Run-wide pacing: `--rate` (burst 1) and the adaptive cut after 429s.
    pacer: Mutex<Pacer>,
    pause_until: Mutex<Option<Instant>>,
    first: tokio::sync::Mutex<bool>,
    first_done: AtomicBool,
    budget: Mutex<Budget>,
    stats: Mutex<Stats>,
    get_ok: AtomicBool,
    put_ok: AtomicBool,
    fatal: Mutex<Option<Fatal>>,
    /// Cancelled by a signal (interrupt) or by a fatal error (stop).
    stop: CancellationToken,
    tracking_seq: AtomicU64,
    run_id: String,
}

/// Lock a std mutex; poisoning means another task panicked mid-update of a counter,
/// which leaves the value usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How one attempt ended.
enum Attempt {
    Answer(Answer),
    Timeout,
    Dropped(String),
    /// Still on the wire when the run stopped and the grace period ran out.
    Abandoned,
}

/// A whole response: status, the headers the client uses, the body.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    next_link: Option<String>,
    tracking: Option<String>,
    body: bytes::Bytes,
}

impl Answer {
    async fn read(resp: reqwest::Response) -> Result<Answer, reqwest::Error> {
        let h = resp.headers();
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let (retry_after, tracking) = (text("retry-after"), text("trackingid"));
        let next_link = h.get_all("link").iter().filter_map(|v| v.to_str().ok()).find_map(parse_next_link);
        let status = resp.status().as_u16();
        Ok(Answer { status, retry_after, next_link, tracking, body: resp.bytes().await? })
    }

    fn error(&self) -> ApiError {
        api_error(self.status, &self.body, self.tracking.clone())
    }
}

impl Transport {
    pub(crate) fn new(
        cfg: TransportConfig,
        token: TokenSource,
        stop: CancellationToken,
    ) -> Result<Transport, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .pool_max_idle_per_host(cfg.concurrency.max(1))
            .user_agent(concat!("ecbn-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Internal(format!("cannot build HTTP client: {e}")))?;
        let base_path = cfg.base_url.path().trim_end_matches('/').to_string();
        let max_rate = (cfg.rate > 0).then_some(cfg.rate as f64);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Ok(Transport {
            http,
            base_path,
            token,
            pacer: Mutex::new(Pacer::new(max_rate, std::time::Instant::now())),
            pause_until: Mutex::new(None),
            first: tokio::sync::Mutex::new(false),
            first_done: AtomicBool::new(false),
            budget: Mutex::new(Budget::default()),
            stats: Mutex::new(Stats::default()),
            get_ok: AtomicBool::new(false),
            put_ok: AtomicBool::new(false),
            fatal: Mutex::new(None),
            stop,
            tracking_seq: AtomicU64::new(0),
            run_id: format!("ECBNSYNC_{:x}_{}", nanos, std::process::id()),
            cfg,
        })
    }

    /// `base_url` + path segments, with `orgId` when configured.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.cfg.base_url.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty();
            p.extend(segments);
        }
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
            if let Some(org) = &self.cfg.org_id {
                q.append_pair("orgId", org);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    /// The first fatal error of the run, if any.
    pub(crate) fn fatal(&self) -> Option<Fatal> {
        lock(&self.fatal).clone()
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    fn set_fatal(&self, f: Fatal) {
        let mut g = lock(&self.fatal);
        if g.is_none() {
            // reported once, when the run ends (main prints the run's error)
            tracing::debug!("{f}");
            *g = Some(f);
        }
        self.stop.cancel();
    }

    fn book(&self, key: String) {
        *lock(&self.stats).http_status.entry(key).or_default() += 1;
    }

    /// Send with the run's policy. The first request of the run is sent alone.
    pub(crate) async fn send(&self, req: Request) -> Call<Response> {
        {
            let mut s = lock(&self.stats);
            *s.requests.entry(format!("{} {}{}", req.method, self.base_path, req.route)).or_default() += 1;
        }
        if !self.first_done.load(Ordering::Acquire) {
            let mut done = tokio::select! {
                g = self.first.lock() => g,
                _ = self.stop.cancelled() => return cancelled(0, None, false),
            };
            if !*done {
                let call = self.send_inner(&req).await;
                *done = true;
                self.first_done.store(true, Ordering::Release);
                return call;
            }
        }
        self.send_inner(&req).await
    }

    /// Wait until this attempt may start: after any global 429 pause, at its slot of
    /// the run-wide pacing (`--rate`, lowered after 429s).
    async fn wait_turn(&self) -> bool {
        loop {
            let pause = *lock(&self.pause_until);
            if let Some(until) = pause
                && until > Instant::now()
            {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => continue,
                    _ = self.stop.cancelled() => return false,
                }
            }
            let slot = lock(&self.pacer).reserve(std::time::Instant::now());
            let wait = slot.saturating_duration_since(std::time::Instant::now());
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {},
                    _ = self.stop.cancelled() => return false,
                }
            }
            // a 429 that arrived while this attempt waited for its slot pauses it too
            if lock(&self.pause_until).is_none_or(|u| u <= Instant::now()) {
                return !self.stop.is_cancelled();
            }
        }
    }

    async fn attempt(&self, req: &Request) -> Attempt {
        let (_, token) = self.token.get();
        let seq = self.tracking_seq.fetch_add(1, Ordering::Relaxed);
        let mut rb = self
            .http
            .request(req.method.clone(), req.url.clone())
            .bearer_auth(token.expose())
            .header("TrackingID", format!("{}_{seq}", self.run_id))
            .header("Accept", "application/json");
        if let Some(b) = &req.body {
            rb = rb.header("Content-Type", "application/json").body(b.clone());
        }
        let exchange = async move { Answer::read(rb.send().await?).await };
        let grace = async {
            self.stop.cancelled().await;
            tokio::time::sleep(IN_FLIGHT_GRACE).await;
        };
        tokio::select! {
            r = exchange => match r {
                Ok(answer) => Attempt::Answer(answer),
                Err(e) if e.is_timeout() => Attempt::Timeout,
                Err(e) => Attempt::Dropped(error_chain(&e)),
            },
            _ = grace => Attempt::Abandoned,
        }
    }

    async fn send_inner(&self, req: &Request) -> Call<Response> {
        let is_put = req.method == Method::PUT;
        let mut attempts = 0u32;
        let mut retries = 0u32;
        let mut throttles = 0u32;
        let mut last_status: Option<u16> = None;
        // a PUT attempt whose answer never came may have been applied
        let mut unknown_put = false;
        let mut rotated = false;
        loop {
            if !self.wait_turn().await {
                return cancelled(attempts, last_status, is_put && unknown_put);
            }
            attempts += 1;
            if attempts > 1 {
                lock(&self.stats).retries += 1;
            }
            let (token_gen, _) = self.token.get();
            let transient: String = match self.attempt(req).await {
                Attempt::Abandoned => {
                    self.book("dropped".into());
                    return cancelled(attempts, last_status, is_put);
                }
                Attempt::Timeout => {
                    self.book("timeout".into());
                    unknown_put = true;
                    "timeout: no answer in time".into()
                }
                Attempt::Dropped(e) => {
                    self.book("dropped".into());
                    unknown_put = true;
                    format!("connection failed: {e}")
                }
                Attempt::Answer(answer) => {
                    let status = answer.status;
                    last_status = Some(status);
                    self.book(status.to_string());
                    let disp = retry::classify(status);
                    if disp != Disposition::Throttled {
                        self.record_budget(matches!(disp, Disposition::Transient | Disposition::Locked));
                    }
                    match disp {
                        Disposition::Success => {
                            lock(&self.pacer).on_success(std::time::Instant::now());
                            if is_put { &self.put_ok } else { &self.get_ok }.store(true, Ordering::Relaxed);
                            let Answer { body, next_link, .. } = answer;
                            return Call { attempts, status: last_status, result: Ok(Response { body, next_link }) };
                        }
                        Disposition::Throttled => {
                            throttles += 1;
                            let wait = retry::retry_after(
                                answer.retry_after.as_deref(),
                                self.cfg.max_backoff,
                                Duration::from_secs(1),
                            );
                            {
                                let now = Instant::now();
                                let mut p = lock(&self.pause_until);
                                // 429s arriving together share one pause (no stacking)
                                let until = now + wait;
                                if p.is_none_or(|u| u < until) {
                                    *p = Some(until);
                                }
                            }
                            let rate = {
                                let mut p = lock(&self.pacer);
                                p.on_throttle(std::time::Instant::now());
                                p.rate()
                            };
                            tracing::debug!(pause_ms = wait.as_millis() as u64, rate = ?rate, "429: pausing every worker and slowing down");
                            if throttles > MAX_THROTTLES {
                                self.set_fatal(Fatal::Outage(format!(
                                    "{throttles} consecutive 429 responses for one request"
                                )));
                                return fail(attempts, last_status, answer.error(), is_put && unknown_put);
                            }
                            continue;
                        }
                        Disposition::Locked => {
                            retries += 1;
                            if retries > self.cfg.max_retries {
                                return fail(attempts, last_status, answer.error(), is_put && unknown_put);
                            }
                            let wait = retry::retry_after(
                                answer.retry_after.as_deref(),
                                self.cfg.max_backoff,
                                Duration::from_secs(1),
                            );
                            if !self.sleep(wait).await {
                                return cancelled(attempts, last_status, is_put && unknown_put);
                            }
                            continue;
                        }
                        Disposition::Transient => {
                            if let Some(c) = self
                                .after_transient(
                                    &mut retries,
                                    attempts,
                                    last_status,
                                    is_put && unknown_put,
                                    answer.error(),
                                )
                                .await
                            {
                                return c;
                            }
                            continue;
                        }
                        Disposition::Unauthorized => {
                            if !rotated && self.token.refresh(token_gen) {
                                rotated = true;
                                continue;
                            }
                            let e = answer.error();
                            self.set_fatal(Fatal::Unauthorized(e.to_string()));
                            return fail(attempts, last_status, e, is_put && unknown_put);
                        }
                        Disposition::Forbidden => {
                            let e = answer.error();
                            let ok = if is_put { &self.put_ok } else { &self.get_ok };
                            if !ok.load(Ordering::Relaxed) {
                                self.set_fatal(Fatal::Forbidden {
                                    method: req.method.to_string(),
                                    message: e.to_string(),
                                });
                            }
                            return fail(attempts, last_status, e, is_put && unknown_put);
                        }
                        Disposition::Fail => {
                            return fail(attempts, last_status, answer.error(), is_put && unknown_put);
                        }
                    }
                }
            };
            // timeouts and connection errors
            self.record_budget(true);
            if let Some(c) = self
                .after_transient(
                    &mut retries,
                    attempts,
                    last_status,
                    is_put && unknown_put,
                    ApiError::Network(transient),
                )
                .await
            {
                return c;
            }
        }
    }

    /// Jittered backoff after a 5xx, a timeout or a connection error; `Some` when the
    /// request gives up (with `error`, the last one).
    async fn after_transient(
        &self,
        retries: &mut u32,
        attempts: u32,
        last_status: Option<u16>,
        unknown_put: bool,
        error: ApiError,
    ) -> Option<Call<Response>> {
        *retries += 1;
        if *retries > self.cfg.max_retries {
            return Some(fail(attempts, last_status, error, unknown_put));
        }
        let d = retry::backoff(*retries, self.cfg.max_backoff, rand::random::<f64>());
        tracing::debug!(%error, retry = *retries, wait_ms = d.as_millis() as u64, "retrying");
        if !self.sleep(d).await {
            return Some(cancelled(attempts, last_status, unknown_put));
        }
        None
    }

    fn record_budget(&self, failed: bool) {
        if lock(&self.budget).record(failed) {
            self.set_fatal(Fatal::Outage(format!("at least half of the last {} attempts failed", Budget::WINDOW)));
        }
    }

    async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.stop.is_cancelled(),
            _ = self.stop.cancelled() => false,
        }
    }
}

fn cancelled(attempts: u32, status: Option<u16>, unknown_put: bool) -> Call<Response> {
    Call {
        attempts,
        status,
        result: Err(if unknown_put {
            ApiError::OutcomeUnknown("interrupted before the answer came".into())
        } else {
            ApiError::Cancelled
        }),
    }
}

fn fail(attempts: u32, status: Option<u16>, e: ApiError, unknown_put: bool) -> Call<Response> {
    let e = match e {
        // retries ran out and an attempt of this PUT got no answer: it may have been applied
        ApiError::Network(m) if unknown_put => ApiError::OutcomeUnknown(m),
        e @ ApiError::Status { status: 423 | 500..=599, .. } if unknown_put => ApiError::OutcomeUnknown(e.to_string()),
        other => other,
    };
    Call { attempts, status, result: Err(e) }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// `<url>; rel="next"` from a Link header.
pub(crate) fn parse_next_link(h: &str) -> Option<String> {
    h.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            p.trim().replace(' ', "").eq_ignore_ascii_case("rel=\"next\"") || p.trim().eq_ignore_ascii_case("rel=next")
        });
        is_next.then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header() {
        assert_eq!(
            parse_next_link(r#"<https://x/v1/people?start=100>; rel="next""#).as_deref(),
            Some("https://x/v1/people?start=100")
        );
        assert_eq!(
            parse_next_link(r#"<https://x/a>; rel="prev", <https://x/b>; rel="next""#).as_deref(),
            Some("https://x/b")
        );
        assert_eq!(parse_next_link(r#"<https://x/a>; rel="prev""#), None);
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;
    use crate::webex::{Secret, TokenSource};

    fn transport(base: &str, org: Option<&str>) -> Transport {
        Transport::new(
            TransportConfig {
                base_url: Url::parse(base).unwrap(),
                org_id: org.map(str::to_string),
                rate: 0,
                max_retries: 1,
                max_backoff: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
                connect_timeout: Duration::from_secs(1),
                concurrency: 1,
            },
            TokenSource::new(Secret::new("t"), None),
            CancellationToken::new(),
        )
        .unwrap()
    }

    #[test]
    fn urls_carry_org_id_and_encode_segments() {
        let t = transport("https://webexapis.com/v1/", Some("ORG="));
        let u = t.url(&["people", "a/b="], &[("email", "x+y@example.com")]);
        assert_eq!(u.as_str(), "https://webexapis.com/v1/people/a%2Fb=?email=x%2By%40example.com&orgId=ORG%3D");
        let t = transport("http://127.0.0.1:9/v1", None);
        assert_eq!(t.url(&["people"], &[]).as_str(), "http://127.0.0.1:9/v1/people");
        assert_eq!(t.base_path, "/v1");
    }
}
