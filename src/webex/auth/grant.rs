//! The OAuth refresh grant of a run: the client's secret, the refresh token (from its
//! file, rewritten when Webex rotates it), and what the cache or the last refresh said.
//! The HTTP exchange is the transport's (`transport::renew`); this is what is sent and
//! what is kept of the answer, in the order that never loses a refresh token.

use super::cache::{Cache, GrantStatus};
use super::{Secret, TokenError, files};
use crate::config::{GrantConfig, SecretFrom};
use crate::wire::AccessToken;
use reqwest::Url;
use std::sync::Mutex;

#[derive(Debug)]
pub(crate) struct Grant {
    pub(crate) config: GrantConfig,
    pub(crate) url: Url,
    client_secret: Secret,
    /// What the refresh token file holds.
    refresh_token: Mutex<Secret>,
    /// The instants of the tokens in use.
    status: Mutex<GrantStatus>,
}

/// Why what a refresh answered could not be kept.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeepError {
    #[error("cannot write the rotated refresh token to {path}: {source}; it is lost, so authorise again")]
    RefreshToken { path: String, source: std::io::Error },
}

impl Grant {
    /// The grant's secrets from their files and variable; the cached access token when
    /// the cache belongs to this refresh token.
    pub(crate) fn load(config: &GrantConfig) -> Result<(Grant, Option<Secret>), TokenError> {
        let client_secret = match &config.secret {
            SecretFrom::File(p) => files::read(p, "client secret file")?,
            SecretFrom::Env(var) => match std::env::var(var).ok().filter(|v| !v.trim().is_empty()) {
                Some(v) => Secret::new(v.trim()),
                None => return Err(TokenError::NoClientSecret(var.clone())),
            },
        };
        let refresh_token = files::read_own(&config.refresh_token_file, "refresh token file")?;
        let cache = Cache::read(&config.cache_file, &config.client_id, &refresh_token);
        let url = Url::parse(&config.token_url)
            .map_err(|e| TokenError::BadUrl { url: config.token_url.clone(), why: e.to_string() })?;
        let status = GrantStatus {
            access_token_expires_at: cache.as_ref().map(|c| c.access_token_expires_at),
            refresh_token_expires_at: cache.as_ref().and_then(|c| c.refresh_token_expires_at),
            refreshed_at: cache.as_ref().map(|c| c.refreshed_at),
        };
        let grant = Grant {
            config: config.clone(),
            url,
            client_secret,
            refresh_token: Mutex::new(refresh_token),
            status: Mutex::new(status),
        };
        Ok((grant, cache.map(|c| c.access_token())))
    }

    /// The form of a refresh (`application/x-www-form-urlencoded`).
    pub(crate) fn form(&self) -> Vec<u8> {
        let refresh_token = lock(&self.refresh_token).clone();
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("client_secret", self.client_secret.expose())
            .append_pair("refresh_token", refresh_token.expose())
            .finish()
            .into_bytes()
    }

    /// Whether the access token in use has less than the margin left (or there is none).
    pub(crate) fn needs_refresh(&self, now: u64) -> bool {
        lock(&self.status)
            .access_token_expires_at
            .is_none_or(|at| at <= now.saturating_add(self.config.margin.as_secs()))
    }

    /// Whether the access token in use still works at `now` (a failed refresh may then
    /// be ridden out).
    pub(crate) fn usable(&self, now: u64) -> bool {
        lock(&self.status).access_token_expires_at.is_some_and(|at| at > now)
    }

    pub(crate) fn status(&self) -> GrantStatus {
        lock(&self.status).clone()
    }

    /// Keep what a refresh answered at `now`: a rotated refresh token is written to its
    /// file first (whole, 0600), then the cache; only then is the new access token used.
    /// A cache that cannot be written costs a refresh next run, a warning now.
    pub(crate) fn keep(&self, answer: AccessToken, now: u64) -> Result<Secret, KeepError> {
        let mut refresh_token = lock(&self.refresh_token);
        let rotated = answer.refresh_token.as_deref().filter(|t| !t.trim().is_empty() && *t != refresh_token.expose());
        if let Some(new) = rotated {
            let path = &self.config.refresh_token_file;
            files::write_own(path, new.trim())
                .map_err(|source| KeepError::RefreshToken { path: path.display().to_string(), source })?;
            *refresh_token = Secret::new(new.trim());
            tracing::info!("the refresh token was rotated; {} holds the new one", path.display());
        }
        let mut status = lock(&self.status);
        let refresh_expires = match answer.refresh_token_expires_in {
            Some(s) => Some(now.saturating_add(s)),
            // the same refresh token keeps its known expiry; a new one's is unknown
            None if rotated.is_none() => status.refresh_token_expires_at,
            None => None,
        };
        let access_token = Secret::new(answer.access_token);
        let access_expires = now.saturating_add(answer.expires_in);
        *status = GrantStatus {
            access_token_expires_at: Some(access_expires),
            refresh_token_expires_at: refresh_expires,
            refreshed_at: Some(now),
        };
        let cache =
            Cache::new(&self.config.client_id, &refresh_token, &access_token, access_expires, refresh_expires, now);
        if let Err(e) = cache.write(&self.config.cache_file) {
            tracing::warn!(
                "cannot write the token cache {}: {e}; the next run refreshes again",
                self.config.cache_file.display()
            );
        }
        Ok(access_token)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::time::Duration;

    fn config(dir: &Path) -> GrantConfig {
        std::fs::write(dir.join("secret"), "client-secret\n").unwrap();
        files::write_own(&dir.join("rt"), "refresh-1").unwrap();
        GrantConfig {
            client_id: "C".into(),
            secret: SecretFrom::File(dir.join("secret")),
            refresh_token_file: dir.join("rt"),
            cache_file: dir.join("rt.cache"),
            token_url: "http://127.0.0.1:9/v1/access_token".into(),
            margin: Duration::from_secs(3600),
            warn_within: Duration::from_secs(14 * 86_400),
        }
    }

    fn answer(refresh_token: &str) -> AccessToken {
        AccessToken {
            access_token: "access-1".into(),
            expires_in: 86_400,
            refresh_token: Some(refresh_token.into()),
            refresh_token_expires_in: Some(90 * 86_400),
            token_type: Some("Bearer".into()),
        }
    }

    #[test]
    fn a_refresh_is_kept_and_the_next_run_uses_the_cache() {
        let d = tempfile::tempdir().unwrap();
        let cfg = config(d.path());
        let (g, cached) = Grant::load(&cfg).unwrap();
        assert!(cached.is_none() && g.needs_refresh(1_000));
        let form = String::from_utf8(g.form()).unwrap();
        assert_eq!(form, "grant_type=refresh_token&client_id=C&client_secret=client-secret&refresh_token=refresh-1");
        let token = g.keep(answer("refresh-1"), 1_000).unwrap();
        assert_eq!(token.expose(), "access-1");
        assert!(!g.needs_refresh(1_000) && g.needs_refresh(1_000 + 86_400 - 3600));
        // the next run: the cache, no refresh
        let (g, cached) = Grant::load(&cfg).unwrap();
        assert_eq!(cached.unwrap().expose(), "access-1");
        assert!(!g.needs_refresh(2_000));
        assert_eq!(g.status().refresh_token_expires_at, Some(1_000 + 90 * 86_400));
    }

    #[test]
    fn a_rotated_refresh_token_is_written_before_use_and_the_old_cache_is_dropped() {
        let d = tempfile::tempdir().unwrap();
        let cfg = config(d.path());
        let (g, _) = Grant::load(&cfg).unwrap();
        g.keep(answer("refresh-2"), 1_000).unwrap();
        assert_eq!(std::fs::read_to_string(&cfg.refresh_token_file).unwrap(), "refresh-2\n");
        let (_, cached) = Grant::load(&cfg).unwrap();
        assert!(cached.is_some(), "the cache belongs to the new refresh token");
        // someone writes another refresh token (a new authorisation): the cache is not its
        files::write_own(&cfg.refresh_token_file, "refresh-3").unwrap();
        let (g, cached) = Grant::load(&cfg).unwrap();
        assert!(cached.is_none() && g.needs_refresh(1_000));
    }

    #[test]
    fn a_rotated_refresh_token_that_cannot_be_written_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let mut cfg = config(d.path());
        let (g, _) = Grant::load(&cfg).unwrap();
        cfg.refresh_token_file = d.path().join("no-such-dir").join("rt");
        let g = Grant { config: cfg, ..g };
        assert!(matches!(g.keep(answer("refresh-2"), 1_000), Err(KeepError::RefreshToken { .. })));
        assert_eq!(lock(&g.refresh_token).expose(), "refresh-1", "the old value is kept in use");
    }
}
