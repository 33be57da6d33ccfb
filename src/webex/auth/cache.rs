//! The token cache (`token_cache_file`): the access token a refresh got and the expiry
//! instants, kept between runs so a nightly job refreshes about once in the access
//! token's life, not every night (Webex caps an account's active tokens at 750). It
//! belongs to one client and one refresh token (a SHA-256 of it, not the value); for any
//! other it is ignored.

use super::{Secret, files};
use crate::config::GrantConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The largest cache file read.
const MAX_CACHE_BYTES: u64 = 64 * 1024;

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cache {
    pub(crate) client_id: String,
    /// Which refresh token this cache belongs to (its SHA-256, first 16 bytes in hex).
    pub(crate) refresh_token_sha256: String,
    access_token: String,
    /// Unix seconds.
    pub(crate) access_token_expires_at: u64,
    /// Unix seconds; `None` when the token endpoint did not say.
    pub(crate) refresh_token_expires_at: Option<u64>,
    pub(crate) refreshed_at: u64,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("client_id", &self.client_id)
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .finish_non_exhaustive()
    }
}

impl Cache {
    pub(crate) fn new(
        client_id: &str,
        refresh_token: &Secret,
        access_token: &Secret,
        access_token_expires_at: u64,
        refresh_token_expires_at: Option<u64>,
        now: u64,
    ) -> Cache {
        Cache {
            client_id: client_id.to_string(),
            refresh_token_sha256: fingerprint(refresh_token),
            access_token: access_token.expose().to_string(),
            access_token_expires_at,
            refresh_token_expires_at,
            refreshed_at: now,
        }
    }

    /// The cache at `path` when it belongs to this client and refresh token; `None` when
    /// there is none (a first run) or it is another's, unreadable or garbled (then the
    /// run refreshes and writes a new one).
    pub(crate) fn read(path: &Path, client_id: &str, refresh_token: &Secret) -> Option<Cache> {
        let meta = std::fs::metadata(path).ok()?;
        files::warn_if_readable_by_others(path);
        if !meta.is_file() || meta.len() > MAX_CACHE_BYTES {
            tracing::warn!("{}: not a token cache; the run refreshes the token", path.display());
            return None;
        }
        let cache: Cache = match std::fs::read(path).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                tracing::warn!("{}: not a token cache ({e}); the run refreshes the token", path.display());
                return None;
            }
            Err(e) => {
                tracing::warn!("cannot read the token cache {}: {e}; the run refreshes the token", path.display());
                return None;
            }
        };
        (cache.client_id == client_id && cache.refresh_token_sha256 == fingerprint(refresh_token)).then_some(cache)
    }

    /// Write it whole, mode 0600 (it holds an access token).
    pub(crate) fn write(&self, path: &Path) -> std::io::Result<()> {
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(std::io::Error::other("it is a symlink; give the real path"));
        }
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        files::write_own(path, &json)
    }

    pub(crate) fn access_token(&self) -> Secret {
        Secret::new(self.access_token.clone())
    }
}

/// Which refresh token a cache belongs to, without keeping it.
fn fingerprint(refresh_token: &Secret) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, refresh_token.expose().as_bytes());
    digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A Unix instant as people read it (`2027-03-01T02:30:00Z, in 83 days`).
pub(crate) fn when(at: u64, now: u64) -> String {
    let iso = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(at));
    let days = |s: u64| match (s / 86_400, s / 3600) {
        (0, 0) if s < 120 => format!("{s} seconds"),
        (0, 0) => format!("{} minutes", s / 60),
        (0, 1) => "1 hour".to_string(),
        (0, h) => format!("{h} hours"),
        (1, _) => "1 day".to_string(),
        (d, _) => format!("{d} days"),
    };
    if at > now { format!("{iso}, in {}", days(at - now)) } else { format!("{iso}, {} ago", days(now - at)) }
}

/// What a refresh grant's files say about its tokens, read without any request (for
/// `auth status`, the warnings, the metrics and the notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantStatus {
    pub(crate) access_token_expires_at: Option<u64>,
    pub(crate) refresh_token_expires_at: Option<u64>,
    pub(crate) refreshed_at: Option<u64>,
}

impl GrantStatus {
    /// The cache of this grant, if it belongs to the refresh token in its file.
    pub(crate) fn read(g: &GrantConfig) -> GrantStatus {
        let cache = files::read_own(&g.refresh_token_file, "refresh token file")
            .ok()
            .and_then(|rt| Cache::read(&g.cache_file, &g.client_id, &rt));
        GrantStatus {
            access_token_expires_at: cache.as_ref().map(|c| c.access_token_expires_at),
            refresh_token_expires_at: cache.as_ref().and_then(|c| c.refresh_token_expires_at),
            refreshed_at: cache.as_ref().map(|c| c.refreshed_at),
        }
    }

    /// The warning every run gives when the refresh token expires within `within`.
    pub(crate) fn warning(&self, now: u64, within: Duration) -> Option<String> {
        let at = self.refresh_token_expires_at?;
        (at <= now.saturating_add(within.as_secs())).then(|| {
            let verb = if at > now { "expires" } else { "expired" };
            format!(
                "the refresh token {verb} at {}: authorise the integration or service app again and write the new refresh token to refresh_token_file before then (README: Running it every night)",
                when(at, now)
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_belongs_to_one_client_and_refresh_token() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c");
        let (rt, at) = (Secret::new("refresh-1"), Secret::new("access-very-secret"));
        let c = Cache::new("C", &rt, &at, 100, Some(200), 50);
        c.write(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("refresh-1"), "the refresh token itself is not kept: {text}");
        assert!(!format!("{c:?}").contains("very-secret"));
        assert_eq!(Cache::read(&p, "C", &rt), Some(c));
        assert_eq!(Cache::read(&p, "other", &rt), None);
        assert_eq!(Cache::read(&p, "C", &Secret::new("refresh-2")), None);
        std::fs::write(&p, "garbage").unwrap();
        assert_eq!(Cache::read(&p, "C", &rt), None);
    }

    #[test]
    fn the_warning_comes_within_its_days() {
        let day = 86_400;
        let s = |rt: Option<u64>| GrantStatus {
            access_token_expires_at: None,
            refresh_token_expires_at: rt,
            refreshed_at: None,
        };
        let within = Duration::from_secs(14 * day);
        assert_eq!(s(Some(15 * day)).warning(0, within), None);
        let w = s(Some(14 * day)).warning(0, within).unwrap();
        assert!(w.contains("expires at 1970-01-15T00:00:00Z, in 14 days"), "{w}");
        assert!(s(Some(day)).warning(2 * day, within).unwrap().contains("expired at"), "past");
        assert_eq!(s(None).warning(0, within), None, "unknown: no warning");
    }
}
