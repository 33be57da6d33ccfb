//! The one transport under every Webex call, made of small parts: the first-request
//! gate and the shared 429 pause (`gate`), run-wide pacing through governor with an
//! adaptive rate after 429s (`pace`, `adapt`), the outage budget (`budget`), the retry
//! policy (`policy`), the statistics (`stats`) and one HTTP exchange (`exchange`).
//! All time is tokio's. No endpoint implements retry on its own.

mod adapt;
mod budget;
mod exchange;
mod flight;
mod gate;
mod latency;
mod link;
mod pace;
mod policy;
mod renew;
mod request;
mod stats;

pub(crate) use latency::LatencyReport;
pub(crate) use request::{Call, Request, Response, Tally};
pub(crate) use stats::{FlightReport, RateReport, Stats};

use super::auth::TokenSource;
use super::error::{ApiError, Fatal};
use budget::OutageBudget;
use exchange::{Answer, Attempt, error_chain};
use flight::Flight;
use gate::{FirstGate, Pause};
use pace::Pace;
use policy::Disposition;
use request::Journey;
use reqwest::Url;
use stats::StatsBook;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Upper bound of 429s for one request; a server that never lets it through is an outage.
const MAX_THROTTLES: u32 = 100;
/// How long an attempt already on the wire may finish after an interrupt.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);
/// The pause of a 429 or 423 without a readable `Retry-After` (the SDKs' default).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// How the run is paced: `--rate N` (0 = unlimited) or `--rate auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rate {
    Fixed(u32),
    Auto { start: u32, max: Option<u32> },
}

#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub(crate) base_url: Url,
    pub(crate) org_id: Option<String>,
    pub(crate) rate: Rate,
    pub(crate) max_retries: u32,
    pub(crate) max_backoff: Duration,
    /// An answer's body is not read past this.
    pub(crate) max_response_bytes: u64,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    /// Requests in flight pinned; `None`: they follow the latency, up to `max_concurrency`.
    pub(crate) concurrency: Option<usize>,
    pub(crate) max_concurrency: usize,
}

pub(crate) struct Transport {
    http: reqwest::Client,
    cfg: TransportConfig,
    base_path: String,
    token: TokenSource,
    gate: FirstGate,
    pause: Pause,
    pace: Pace,
    flight: Flight,
    budget: Mutex<OutageBudget>,
    stats: StatsBook,
    /// A request of this method has succeeded in this run (the 403 rule).
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

/// What the loop does after an attempt.
enum Next {
    Done(Result<Response, ApiError>),
    /// 429, or a rotated token: again, after the pause.
    Again,
    /// 401: renew the token (once), then again; else the run stops.
    Renew(ApiError),
    /// 423: this request waits its `Retry-After`; consumes a retry.
    Wait(Duration, ApiError),
    /// 5xx, timeouts and connection errors: jittered backoff; consumes a retry.
    Backoff(ApiError),
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
            .pool_max_idle_per_host(cfg.concurrency.unwrap_or(cfg.max_concurrency).max(1))
            .user_agent(concat!("ecbn-sync/", env!("CARGO_PKG_VERSION")))
            // the Webex API does not redirect: a 3xx is an answer to report, and the token
            // never follows it to another host, port or scheme
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::Internal(format!("cannot build HTTP client: {e}")))?;
        let base_path = cfg.base_url.path().trim_end_matches('/').to_string();
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Ok(Transport {
            http,
            base_path,
            token,
            gate: FirstGate::default(),
            pause: Pause::default(),
            pace: Pace::new(adapt::Controller::for_rate(cfg.rate, tokio::time::Instant::now())),
            flight: Flight::new(cfg.concurrency, cfg.max_concurrency),
            budget: Mutex::new(OutageBudget::default()),
            stats: StatsBook::default(),
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

    /// The URL of a `Link: rel="next"`, under the run's link policy (`link`); a link
    /// the policy refuses stops the run.
    pub(crate) fn follow(&self, link: &str) -> Result<Url, ApiError> {
        link::follow(link, &self.cfg.base_url, self.cfg.org_id.as_deref()).map_err(|why| {
            let f = Fatal::ForeignLink(why);
            self.set_fatal(f.clone());
            ApiError::Link(f)
        })
    }

    pub(crate) fn stats(&self) -> Stats {
        let mut s = self.stats.snapshot();
        let (now, max) = self.pace.rates();
        s.rate = RateReport::of(self.cfg.rate, now, max);
        let (most, limit) = self.flight.report();
        s.in_flight = FlightReport { max: most, last: limit };
        s
    }

    /// How many requests a worker pool should hold: the pinned concurrency, or the most
    /// that may be in flight (the transport keeps the number on the wire to what the
    /// rate needs).
    pub(crate) fn pool(&self) -> usize {
        self.flight.pool()
    }

    /// How many requests may be on the wire now.
    pub(crate) fn in_flight_limit(&self) -> usize {
        self.flight.limit()
    }

    /// The first fatal error of the run, if any.
    pub(crate) fn fatal(&self) -> Option<Fatal> {
        lock(&self.fatal).clone()
    }

    /// A page of a listing that cannot be trusted: the run cannot know the listing's
    /// members, so it stops.
    pub(crate) fn refuse_listing(&self, route: &str, e: &ApiError) {
        self.set_fatal(Fatal::UnreadableListing(format!("GET {}{route}: {e}", self.base_path)));
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

    /// Send with the run's policy. The first request of the run is sent alone, with a
    /// token made ready (a refresh grant's renewed when it is near its end).
    pub(crate) async fn send(&self, req: Request) -> Call<Response> {
        if !self.ready().await {
            return Journey::new(&req.method).stopped(false);
        }
        let Some(through) = self.gate.enter(&self.stop).await else {
            return Journey::new(&req.method).stopped(false);
        };
        let call = self.attempts(&req).await;
        self.gate.leave(through);
        call
    }

    async fn attempts(&self, req: &Request) -> Call<Response> {
        let mut j = Journey::new(&req.method);
        loop {
            if !self.wait_turn().await {
                return j.stopped(false);
            }
            let Some(slot) = self.flight.acquire(&self.stop).await else {
                return j.stopped(false);
            };
            // booked as sent here, past every wait: the summary counts what went on the wire
            self.stats.request(req.booked(&self.base_path), j.attempts > 0);
            j.attempts += 1;
            let (token_gen, _) = self.token.get();
            let sent = tokio::time::Instant::now();
            let attempt = self.exchange(req).await;
            drop(slot);
            if let Attempt::Answer(_) = &attempt {
                let took = sent.elapsed();
                self.stats.latency(took);
                self.flight.on_answer(took);
                self.flight.retarget(self.pace.rates().0);
            }
            let next = match attempt {
                Attempt::Abandoned => {
                    self.stats.answer("dropped");
                    return j.stopped(true);
                }
                Attempt::Timeout => {
                    self.stats.answer("timeout");
                    j.unanswered_put = j.is_put;
                    Next::Backoff(ApiError::Network("timeout: no answer in time".into()))
                }
                Attempt::Dropped(e) => {
                    self.stats.answer("dropped");
                    j.unanswered_put = j.is_put;
                    Next::Backoff(ApiError::Network(format!("connection failed: {e}")))
                }
                Attempt::Answer(answer) => {
                    self.stats.answer(&answer.status.to_string());
                    j.status = Some(answer.status);
                    self.judge(req, answer, &mut j, sent)
                }
            };
            if matches!(next, Next::Backoff(_) | Next::Wait(..)) {
                self.record_attempt(true);
            }
            let (wait, error) = match next {
                Next::Done(result) => return j.done(result),
                Next::Again => continue,
                Next::Renew(e) => {
                    if !j.rotated && self.renew(token_gen).await {
                        j.rotated = true;
                        continue;
                    }
                    self.set_fatal(Fatal::Unauthorized(e.to_string()));
                    return j.done(Err(e));
                }
                Next::Wait(d, e) => (d, e),
                Next::Backoff(e) => (policy::backoff(j.retries + 1, self.cfg.max_backoff, rand::random::<f64>()), e),
            };
            j.retries += 1;
            if j.retries > self.cfg.max_retries {
                return j.done(Err(error));
            }
            tracing::debug!(%error, retry = j.retries, wait_ms = wait.as_millis() as u64, "retrying");
            if !self.sleep(wait).await {
                return j.stopped(false);
            }
        }
    }

    /// What an answer means for its request, and for the run.
    fn judge(&self, req: &Request, answer: Answer, j: &mut Journey, sent: tokio::time::Instant) -> Next {
        let disposition = policy::classify(answer.status);
        if matches!(
            disposition,
            Disposition::Success
                | Disposition::Unauthorized
                | Disposition::Forbidden
                | Disposition::Redirect
                | Disposition::Fail
        ) {
            self.record_attempt(false);
        }
        let retry_after = || {
            let header = answer.retry_after.as_deref();
            policy::retry_after(header, self.cfg.max_backoff, DEFAULT_RETRY_AFTER, std::time::SystemTime::now())
        };
        match disposition {
            Disposition::Success if answer.oversize => Next::Done(Err(ApiError::Unreadable(format!(
                "larger than max_response_bytes ({} bytes), not read past it",
                self.cfg.max_response_bytes
            )))),
            Disposition::Success => {
                self.pace.on_success(sent);
                if req.bearer {
                    if j.is_put { &self.put_ok } else { &self.get_ok }.store(true, Ordering::Relaxed);
                }
                let Answer { body, next_link, content_type, .. } = answer;
                Next::Done(Ok(Response { body, next_link, content_type }))
            }
            Disposition::Throttled => {
                j.throttles += 1;
                let wait = retry_after();
                self.pause.extend(wait);
                let rate = self.pace.on_throttle(wait, sent);
                tracing::debug!(pause_ms = wait.as_millis() as u64, rate = ?rate, "429: pausing every worker and slowing down");
                if j.throttles > MAX_THROTTLES {
                    self.set_fatal(Fatal::Outage(format!("{} consecutive 429 responses for one request", j.throttles)));
                    return Next::Done(Err(answer.error()));
                }
                Next::Again
            }
            Disposition::Locked => Next::Wait(retry_after(), answer.error()),
            Disposition::Transient => Next::Backoff(answer.error()),
            // the token endpoint's refusals say nothing of the API: its caller decides
            Disposition::Unauthorized | Disposition::Forbidden | Disposition::Fail if !req.bearer => {
                Next::Done(Err(answer.error()))
            }
            Disposition::Unauthorized => Next::Renew(answer.error()),
            Disposition::Forbidden => {
                let e = answer.error();
                let ok = if j.is_put { &self.put_ok } else { &self.get_ok };
                if !ok.load(Ordering::Relaxed) {
                    self.set_fatal(Fatal::Forbidden { method: req.method.to_string(), message: e.to_string() });
                }
                Next::Done(Err(e))
            }
            Disposition::Redirect => {
                let to = answer.location.clone().unwrap_or_else(|| "no location".into());
                let e = ApiError::Redirect { status: answer.status, to };
                // on the run's first answer: the base URL is wrong, stop before anything else
                if req.bearer && !self.get_ok.load(Ordering::Relaxed) && !self.put_ok.load(Ordering::Relaxed) {
                    self.set_fatal(Fatal::Redirect(e.to_string()));
                }
                Next::Done(Err(e))
            }
            Disposition::Fail => Next::Done(Err(answer.error())),
        }
    }

    /// Wait until this attempt may start: after any 429 pause, at its turn of the
    /// run-wide pace.
    async fn wait_turn(&self) -> bool {
        loop {
            if !self.pause.wait(&self.stop).await || !self.pace.until_ready(&self.stop).await {
                return false;
            }
            // a 429 that arrived while this attempt waited for its turn pauses it too
            if !self.pause.in_force() {
                return true;
            }
        }
    }

    async fn exchange(&self, req: &Request) -> Attempt {
        let (_, token) = self.token.get();
        let seq = self.tracking_seq.fetch_add(1, Ordering::Relaxed);
        let mut rb = self
            .http
            .request(req.method.clone(), req.url.clone())
            .header("TrackingID", format!("{}_{seq}", self.run_id))
            .header("Accept", "application/json");
        if req.bearer {
            rb = rb.bearer_auth(token.expose());
        }
        if let Some((body, content_type)) = &req.body {
            rb = rb.header("Content-Type", *content_type).body(body.clone());
        }
        let cap = self.cfg.max_response_bytes;
        let exchange = async move { Answer::read(rb.send().await?, cap).await };
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

    /// An attempt for the outage budget (429s do not count: they are not failures).
    fn record_attempt(&self, failed: bool) {
        if lock(&self.budget).record(failed) {
            self.set_fatal(Fatal::Outage(format!(
                "at least half of the last {} attempts failed",
                OutageBudget::WINDOW
            )));
        }
    }

    async fn sleep(&self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.stop.is_cancelled(),
            _ = self.stop.cancelled() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webex::Secret;

    fn transport(base: &str, org: Option<&str>) -> Transport {
        Transport::new(
            TransportConfig {
                base_url: Url::parse(base).unwrap(),
                org_id: org.map(str::to_string),
                rate: Rate::Fixed(0),
                max_retries: 1,
                max_backoff: Duration::from_secs(1),
                max_response_bytes: 1 << 20,
                timeout: Duration::from_secs(1),
                connect_timeout: Duration::from_secs(1),
                concurrency: Some(1),
                max_concurrency: 1,
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
