//! The bearer token of a run: a fixed token (from a variable, or from a file re-read on
//! a 401) or one the OAuth refresh grant renews (`grant`), cached between runs
//! (`cache`). Secrets are never printed, logged or reported: [`Secret`] shows `***`.
//! The requests a renewal makes are the transport's (`transport::renew`).

pub(crate) mod cache;
pub(crate) mod files;
pub(crate) mod grant;

use crate::config::Credentials;
use grant::Grant;
use std::fmt;
use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// A secret string whose `Debug`/`Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The only way to read the value: for the Authorization header and the token form.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why the token could not be loaded (exit 78).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token is given twice: token_file ({file}) and the variable {var}; set only one")]
    Twice { file: String, var: String },
    #[error("the {what} {path} is empty")]
    EmptyFile { what: &'static str, path: String },
    #[error("cannot read the {what} {path}: {source}")]
    Unreadable {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the {what} {path} is not a regular file")]
    NotAFile { what: &'static str, path: String },
    #[error("the {what} {path} is larger than {max} bytes; it is not a secret file")]
    TooLarge { what: &'static str, path: String, max: u64 },
    #[error(
        "the {what} {path} is a symlink; give the file's own path (it is rewritten in place when Webex rotates the token)"
    )]
    Symlink { what: &'static str, path: String },
    #[error("no token: set the environment variable {0} (or token_file, or a refresh grant, in config.toml)")]
    Missing(String),
    #[error("the refresh grant is missing its client secret: set the environment variable {0} (or client_secret_file)")]
    NoClientSecret(String),
    #[error("token_url `{url}`: {why}")]
    BadUrl { url: String, why: String },
}

/// The run's token, its generation (bumped at every renewal) and how to renew it.
#[derive(Debug)]
pub(crate) struct TokenSource {
    current: RwLock<(u64, Secret)>,
    kind: Kind,
    /// One renewal at a time: the workers that meet a 401 together wait for it.
    pub(crate) renewing: tokio::sync::Mutex<()>,
    /// The one renewal a 401 may cause in a run has happened.
    renewed_after_401: AtomicBool,
    /// The grant's token was checked (and refreshed if needed) before the first request.
    ready: AtomicBool,
}

#[derive(Debug)]
enum Kind {
    /// A token from a variable (`file` None) or a file, re-read on a 401.
    Fixed {
        file: Option<PathBuf>,
    },
    Grant(Box<Grant>),
}

impl TokenSource {
    /// The token as the settings say where it comes from.
    pub(crate) fn load(credentials: &Credentials) -> Result<TokenSource, TokenError> {
        match credentials {
            Credentials::Fixed { token_env, token_file } => {
                let from_env = std::env::var(token_env).ok().filter(|v| !v.trim().is_empty());
                match (token_file, from_env) {
                    // an ambiguous token source is refused rather than guessed
                    (Some(f), Some(_)) => {
                        Err(TokenError::Twice { file: f.display().to_string(), var: token_env.clone() })
                    }
                    (Some(f), None) => Ok(TokenSource::new(files::read(f, "token file")?, Some(f.clone()))),
                    (None, Some(t)) => Ok(TokenSource::new(Secret::new(t.trim()), None)),
                    (None, None) => Err(TokenError::Missing(token_env.clone())),
                }
            }
            Credentials::Grant(config) => {
                let (grant, cached) = Grant::load(config)?;
                let s = TokenSource::of(cached.unwrap_or_else(|| Secret::new("")), Kind::Grant(Box::new(grant)));
                Ok(s)
            }
        }
    }

    /// A fixed token; `file` is re-read on a 401.
    pub(crate) fn new(token: Secret, file: Option<PathBuf>) -> TokenSource {
        TokenSource::of(token, Kind::Fixed { file })
    }

    fn of(token: Secret, kind: Kind) -> TokenSource {
        TokenSource {
            current: RwLock::new((0, token)),
            kind,
            renewing: tokio::sync::Mutex::new(()),
            renewed_after_401: AtomicBool::new(false),
            ready: AtomicBool::new(false),
        }
    }

    /// The token and its generation.
    pub(crate) fn get(&self) -> (u64, Secret) {
        // a poisoned lock only means a panic elsewhere; the value is still a whole token
        let g = self.current.read().unwrap_or_else(|e| e.into_inner());
        (g.0, g.1.clone())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.current.read().unwrap_or_else(|e| e.into_inner()).0
    }

    /// A renewed token, for every request from now on.
    pub(crate) fn install(&self, token: Secret) {
        let mut g = self.current.write().unwrap_or_else(|e| e.into_inner());
        *g = (g.0 + 1, token);
    }

    /// The refresh grant, when the token comes from one.
    pub(crate) fn grant(&self) -> Option<&Grant> {
        match &self.kind {
            Kind::Grant(g) => Some(g),
            Kind::Fixed { .. } => None,
        }
    }

    /// True the first time only: whether this is the renewal a 401 may cause.
    pub(crate) fn first_renewal_after_401(&self) -> bool {
        !self.renewed_after_401.swap(true, Ordering::AcqRel)
    }

    /// Whether the token was made ready for the first request (`transport::renew`).
    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(crate) fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// A fixed token after a 401 with generation `seen`: true when a newer token is
    /// available (rotated by another worker already, or re-read now from the file and
    /// changed).
    pub(crate) fn reread(&self, seen: u64) -> bool {
        let Kind::Fixed { file: Some(path) } = &self.kind else { return false };
        let mut g = self.current.write().unwrap_or_else(|e| e.into_inner());
        if g.0 != seen {
            return true;
        }
        match files::read(path, "token file") {
            Ok(s) if s != g.1 => {
                *g = (g.0 + 1, s);
                tracing::info!(file = %path.display(), "token file changed; retrying with the new token");
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_redacted() {
        let s = Secret::new("abc-very-secret");
        assert!(!format!("{s:?} {s}").contains("very-secret"));
        let t = TokenSource::new(s, None);
        assert!(!format!("{t:?}").contains("very-secret"));
    }

    #[test]
    fn reread_reads_the_file_once_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        std::fs::write(&p, "one\n").unwrap();
        let t = TokenSource::new(Secret::new("one"), Some(p.clone()));
        assert!(!t.reread(0), "unchanged file: no new token");
        std::fs::write(&p, "two\n").unwrap();
        assert!(t.reread(0));
        assert_eq!(t.get().0, 1);
        assert_eq!(t.get().1.expose(), "two");
        assert!(t.reread(0), "another worker already rotated");
    }
}
