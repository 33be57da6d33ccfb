//! The rate controller: finds the server's limit from its answers and holds just under
//! it. A pure state machine over instants of tokio's clock; `pace` turns its rate into
//! pacing.
//!
//! Every 429 is a signal (429s of one burst are one). The controller keeps two bounds:
//! `safe`, the highest rate that was held for a while without a 429, and `ceiling`, the
//! lowest rate that drew one. It holds a rate for `hold`, then (if the rate was really
//! used) proves it safe and moves up: doubling while no limit is known (`auto` only),
//! else `STEP` of the way to the ceiling (within `NEAR` of it, a rate must hold for
//! `NEAR_HOLD`: a rate a little too high drains a small burst slowly). Once the two bounds
//! are within `PRECISION` it stays just under `safe` and probes upwards only every
//! `PROBE_EVERY`.
//!
//! What a 429 teaches depends on its `Retry-After`. A long one (at least `LONG_WAIT`) is a
//! window's (fixed or sliding): the window's length is the time from the start (or the
//! previous long pause's end) to the end of this pause, and what got through in the last
//! window's length is the window's rate, so both bounds go there at once; from then on
//! every 429 is read that way (a sliding window answers short pauses while it replays an
//! earlier burst). A short one is a token bucket's: the rate that drew it becomes the
//! ceiling; if that rate had been proven safe, the limit fell (another client shares the
//! token), or the proof was too short for a large burst: `safe` drops to what got
//! through in the last `RECENT`, never below `FLOOR` of the rate.

use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;

/// Bounds this close (ratio) are the limit found.
const PRECISION: f64 = 0.05;
/// A found limit is held at this share of the proven rate: a bucket with a large burst
/// takes long to show that a rate a little above its own is too much.
const HOLD: f64 = 0.97;
/// A proven rate that draws a 429 is cut to what got through in the last `RECENT`, but
/// not below this share of it.
const FLOOR: f64 = 0.5;
const RECENT: Duration = Duration::from_secs(3);
/// A window's rate is held at this share of what got through.
const WINDOW_MARGIN: f64 = 0.98;
/// A rate is proven after this long without a 429 (or the last pause; twice a window's).
const MIN_HOLD: Duration = Duration::from_secs(1);
const MAX_HOLD: Duration = Duration::from_secs(130);
/// Within this ratio of the ceiling, a rate is proven only after `NEAR_HOLD`.
const NEAR: f64 = 1.2;
const NEAR_HOLD: Duration = Duration::from_secs(3);
/// A `Retry-After` this long comes from a window, not a bucket.
const LONG_WAIT: Duration = Duration::from_secs(5);
/// How often a found limit is probed upwards, and by how much the ceiling is raised.
const PROBE_EVERY: Duration = Duration::from_secs(60);
/// Between the bounds, the next rate tried is this far from `safe` towards `ceiling`: a
/// step that holds costs nothing, one that fails costs a pause, so steps stay low.
const STEP: f64 = 0.3;
const PROBE_STEP: f64 = 1.08;
/// 429s closer together than this are one signal (they answer one burst).
const SAME_SIGNAL: Duration = Duration::from_millis(500);
/// A rate counts as used when the send rate reaches this share of it.
const USED: f64 = 0.9;
const MIN_RATE: f64 = 0.5;
/// The send rate assumed when a 429 comes before any could be measured.
const UNKNOWN_RATE: f64 = 10.0;
const BUCKET: Duration = Duration::from_millis(500);
const SMOOTH: f64 = 0.8;
/// The longest window understood; answers are logged this far back, in slots of `SLOT`.
const MAX_WINDOW: Duration = Duration::from_secs(300);
const SLOT: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub(crate) struct Controller {
    /// The highest rate ever allowed (`--rate N`, or `max_rate` for auto); `None` = none.
    cap: Option<f64>,
    /// The pacing rate; `None` = unlimited (`--rate 0` before any 429).
    rate: Option<f64>,
    /// No limit known yet and free to grow (auto, before its first 429).
    growing: bool,
    safe: f64,
    ceiling: Option<f64>,
    /// When the current rate started to count (after any pause): an answer proves it
    /// only for a request sent `hold` after this.
    since: Instant,
    /// The pacing rates of the last `MAX_WINDOW`, from when each was set: a 429 answers
    /// the rate its request was sent at, which with a slow API is not the rate now.
    history: VecDeque<(Instant, f64)>,
    hold: Duration,
    /// When the limit was found: the next upward probe is due `PROBE_EVERY` after.
    found_at: Option<Instant>,
    /// Answers that got through since the cycle began (the end of the last pause).
    accepted: u64,
    cycle_start: Instant,
    last_signal: Option<Instant>,
    /// The server limits by windows of about this length (once a long pause was seen).
    window: Option<Duration>,
    /// When the last pause ended.
    last_resume: Option<Instant>,
    /// Answers that got through, per slot of `SLOT` since `created`, for `MAX_WINDOW`.
    log: VecDeque<(u64, u32)>,
    created: Instant,
    /// The send rate, smoothed over buckets of `BUCKET`.
    measured: f64,
    bucket_start: Instant,
    bucket_count: u32,
    max_reached: f64,
}

impl Controller {
    /// The controller of a run paced as configured.
    pub(crate) fn for_rate(rate: super::Rate, now: Instant) -> Controller {
        match rate {
            super::Rate::Fixed(r) => Controller::fixed((r > 0).then_some(f64::from(r)), now),
            super::Rate::Auto { start, max } => Controller::auto(f64::from(start), max.map(f64::from), now),
        }
    }

    /// `--rate N`: paced at N (`None` = unlimited), lowered after 429s, never above N.
    pub(crate) fn fixed(rate: Option<f64>, now: Instant) -> Controller {
        Controller::new(rate, rate, false, now)
    }

    /// `--rate auto`: from `start`, growing until the server says no; never above `cap`.
    pub(crate) fn auto(start: f64, cap: Option<f64>, now: Instant) -> Controller {
        let start = cap.map_or(start, |c| start.min(c)).max(MIN_RATE);
        Controller::new(Some(start), cap, true, now)
    }

    fn new(rate: Option<f64>, cap: Option<f64>, growing: bool, now: Instant) -> Controller {
        Controller {
            cap,
            rate,
            growing,
            safe: 0.0,
            ceiling: None,
            since: now,
            history: rate.map(|r| (now, r)).into_iter().collect(),
            hold: MIN_HOLD,
            found_at: None,
            accepted: 0,
            cycle_start: now,
            last_signal: None,
            window: None,
            last_resume: None,
            log: VecDeque::new(),
            created: now,
            measured: 0.0,
            bucket_start: now,
            bucket_count: 0,
            max_reached: rate.unwrap_or(0.0),
        }
    }

    /// The rate attempts are paced at now; `None` = unlimited.
    pub(crate) fn pacing(&self) -> Option<f64> {
        self.rate
    }

    /// The highest pacing rate of the run (0 when never paced).
    pub(crate) fn max_reached(&self) -> f64 {
        self.max_reached
    }

    /// An attempt was let through: measure the send rate.
    pub(crate) fn on_attempt(&mut self, now: Instant) {
        self.bucket_count += 1;
        let elapsed = now.saturating_duration_since(self.bucket_start);
        if elapsed >= BUCKET {
            let r = f64::from(self.bucket_count) / elapsed.as_secs_f64();
            self.measured = SMOOTH * r + (1.0 - SMOOTH) * self.measured;
            self.bucket_start = now;
            self.bucket_count = 0;
        }
    }

    /// An answer that got through, to a request sent at `sent`: count it; a rate held
    /// long enough — its requests' answers back — is proven.
    pub(crate) fn on_success(&mut self, now: Instant, sent: Instant) {
        self.accepted += 1;
        let slot = self.slot(now);
        match self.log.back_mut() {
            Some((s, n)) if *s == slot => *n += 1,
            _ => self.log.push_back((slot, 1)),
        }
        let oldest = slot.saturating_sub((MAX_WINDOW.as_nanos() / SLOT.as_nanos()) as u64);
        while self.log.front().is_some_and(|(s, _)| *s < oldest) {
            self.log.pop_front();
        }
        let Some(rate) = self.rate else { return };
        // near the ceiling a rate a little too high drains a small burst slowly: hold longer
        let near = self.ceiling.is_some_and(|c| c < self.safe * NEAR) || (self.ceiling.is_some() && rate > self.safe);
        let hold = if near { self.hold.max(NEAR_HOLD) } else { self.hold };
        // with a slow API, the answers of the rate's first `hold` come back later still
        if sent < self.since + hold {
            return;
        }
        self.since = now;
        if self.measured < USED * rate {
            // the pool or the latency limits the run, not the rate: nothing learned
            tracing::trace!(rate, sent = self.measured, "not proven: the rate is not used");
            return;
        }
        if self.found_at.is_none() {
            // (a held rate is below `safe` on purpose: it proves nothing new)
            self.safe = self.safe.max(rate);
        }
        let next = match self.ceiling {
            None if self.growing => rate * 2.0,
            None => rate,
            Some(c) if c > self.safe * (1.0 + PRECISION) => {
                if c > 2.0 * self.safe {
                    (self.safe * c).sqrt()
                } else {
                    self.safe + STEP * (c - self.safe)
                }
            }
            Some(c) => match self.found_at {
                Some(t) if now.saturating_duration_since(t) >= PROBE_EVERY.max(self.hold) => {
                    // probe upwards, rarely: the limit may have risen
                    self.found_at = None;
                    self.ceiling = Some(c.max(self.safe) * PROBE_STEP);
                    (self.safe + c.max(self.safe) * PROBE_STEP) / 2.0
                }
                Some(_) => self.safe * HOLD,
                None => {
                    self.found_at = Some(now);
                    self.safe * HOLD
                }
            },
        };
        self.set(now, next);
    }

    /// A 429, to a request sent at `sent`, whose pause ends `retry_after` from now.
    pub(crate) fn on_throttle(&mut self, now: Instant, retry_after: Duration, sent: Instant) {
        if self.last_signal.is_some_and(|t| now.saturating_duration_since(t) < SAME_SIGNAL) {
            return;
        }
        // the rate the request was sent at; one already cut below answers an old signal
        let drew = match (self.rate_at(sent), self.rate) {
            (Some(then), Some(now_rate)) if then > now_rate * (1.0 + PRECISION / 2.0) && self.cut_since(sent) => {
                return;
            }
            (Some(then), _) => then,
            (None, _) => self.send_rate(now),
        }
        .max(MIN_RATE);
        self.last_signal = Some(now);
        let resume = now + retry_after;
        let cycle = resume.saturating_duration_since(self.cycle_start).as_secs_f64().max(1e-3);
        let got_through = self.accepted as f64 / cycle;
        (self.accepted, self.cycle_start, self.since) = (0, resume, resume);
        self.growing = false;
        self.found_at = None;
        let long = retry_after >= LONG_WAIT;
        let window = match (self.window, self.last_resume) {
            (None, _) if long => Some(Duration::from_secs_f64(cycle)),
            (Some(w), Some(previous)) if long => Some(w.max(resume.saturating_duration_since(previous))),
            (w, _) => w,
        };
        self.last_resume = Some(resume);
        let hold = if window.is_some() { retry_after * 2 } else { retry_after };
        self.hold = hold.clamp(MIN_HOLD, MAX_HOLD);
        if let Some(w) = window.map(|w| w.clamp(LONG_WAIT, MAX_WINDOW)) {
            // a window: its rate is what got through in the last window's length
            self.window = Some(w);
            let got = self.accepted_since(resume.checked_sub(w).unwrap_or(self.created)) as f64 / w.as_secs_f64();
            if got > 0.0 {
                self.safe = got * WINDOW_MARGIN;
                self.ceiling = Some(got);
                self.found_at = Some(resume);
            }
        } else if drew > self.safe * (1.0 + PRECISION / 2.0) {
            // a probe above the proven rate failed: back to the proven rate
            self.ceiling = Some(self.ceiling.map_or(drew, |c| c.min(drew)));
            if self.safe == 0.0 {
                self.safe = (drew * FLOOR).max(got_through.min(drew));
            }
        } else {
            // a proven rate drew a 429: the limit fell, or the proof was too short
            let recent =
                self.accepted_since(now.checked_sub(RECENT).unwrap_or(self.created)) as f64 / RECENT.as_secs_f64();
            self.ceiling = Some(drew);
            self.safe = recent.min(drew).max(drew * FLOOR);
        }
        if self.rate.is_none() && self.measured == 0.0 {
            // unlimited, and throttled before any send rate was measured: the rate that
            // drew it is a guess, not a ceiling; grow from there
            (self.ceiling, self.growing) = (None, true);
        }
        let converged = self.ceiling.is_some_and(|c| c <= self.safe * (1.0 + PRECISION));
        if converged && self.window.is_none() {
            self.found_at = Some(resume);
            self.set(now, self.safe * HOLD);
        } else {
            self.set(now, self.safe);
        }
    }

    /// The pacing rate in force at `t` (`None`: unlimited then).
    fn rate_at(&self, t: Instant) -> Option<f64> {
        self.history.iter().rev().find(|(from, _)| *from <= t).or(self.history.front()).map(|(_, r)| *r)
    }

    /// Whether a 429 cut the rate after `t` (its signal is already counted).
    fn cut_since(&self, t: Instant) -> bool {
        self.last_signal.is_some_and(|s| s >= t)
    }

    /// The send rate now: the smoothed one, or, before the first bucket is full, what
    /// the bucket has so far.
    fn send_rate(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.bucket_start).as_secs_f64();
        match self.measured {
            m if m > 0.0 => m,
            _ if elapsed >= 0.05 => f64::from(self.bucket_count) / elapsed,
            _ => UNKNOWN_RATE,
        }
    }

    fn slot(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.created).as_nanos() / SLOT.as_nanos()) as u64
    }

    /// Answers that got through from `t` on.
    fn accepted_since(&self, t: Instant) -> u64 {
        let from = self.slot(t);
        self.log.iter().filter(|(s, _)| *s >= from).map(|(_, n)| u64::from(*n)).sum()
    }

    /// Pace at `rate` from `now` on.
    fn set(&mut self, now: Instant, rate: f64) {
        let rate = self.cap.map_or(rate, |c| rate.min(c)).max(MIN_RATE);
        if self.rate != Some(rate) {
            tracing::debug!(rate, safe = self.safe, ceiling = ?self.ceiling, sent = self.measured, "pacing rate");
            self.history.push_back((now, rate));
            while self.history.len() > 2 && self.history[1].0 + MAX_WINDOW < now {
                self.history.pop_front();
            }
        }
        self.rate = Some(rate);
        self.max_reached = self.max_reached.max(rate);
    }
}

#[cfg(test)]
mod tests;
