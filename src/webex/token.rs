//! The bearer token: never printed, never logged, re-read from `token_file` on 401.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// A secret string whose `Debug`/`Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The only way to read the value: for the Authorization header.
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
    #[error("the token file {0} is empty")]
    EmptyFile(String),
    #[error("cannot read the token file {path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no token: set the environment variable {0} (or token_file in config.toml)")]
    Missing(String),
}

/// Where the token came from, so a 401 can re-read a rotated `token_file`.
#[derive(Debug)]
pub(crate) struct TokenSource {
    current: RwLock<(u64, Secret)>,
    file: Option<PathBuf>,
}

impl TokenSource {
    /// The token from `token_file` or from the variable `token_env`: exactly one of them.
    pub(crate) fn load(token_env: &str, token_file: Option<&Path>) -> Result<TokenSource, TokenError> {
        let from_env = std::env::var(token_env).ok().filter(|v| !v.trim().is_empty());
        match (token_file, from_env) {
            // an ambiguous token source is refused rather than guessed
            (Some(f), Some(_)) => Err(TokenError::Twice { file: f.display().to_string(), var: token_env.into() }),
            (Some(f), None) => match std::fs::read_to_string(f) {
                Ok(t) if !t.trim().is_empty() => Ok(TokenSource::new(Secret::new(t.trim()), Some(f.to_path_buf()))),
                Ok(_) => Err(TokenError::EmptyFile(f.display().to_string())),
                Err(source) => Err(TokenError::Unreadable { path: f.display().to_string(), source }),
            },
            (None, Some(t)) => Ok(TokenSource::new(Secret::new(t.trim()), None)),
            (None, None) => Err(TokenError::Missing(token_env.into())),
        }
    }

    pub(crate) fn new(token: Secret, file: Option<PathBuf>) -> TokenSource {
        TokenSource { current: RwLock::new((0, token)), file }
    }

    /// The token and its generation (bumped on every rotation).
    pub(crate) fn get(&self) -> (u64, Secret) {
        // a poisoned lock only means a panic elsewhere; the value is still a whole token
        let g = self.current.read().unwrap_or_else(|e| e.into_inner());
        (g.0, g.1.clone())
    }

    /// After a 401 with token generation `seen`: true when a newer token is available
    /// (rotated by another worker already, or re-read now from the file and changed).
    pub(crate) fn refresh(&self, seen: u64) -> bool {
        let Some(path) = &self.file else { return false };
        let mut g = self.current.write().unwrap_or_else(|e| e.into_inner());
        if g.0 != seen {
            return true;
        }
        match std::fs::read_to_string(path) {
            Ok(s) if !s.trim().is_empty() && s.trim() != g.1.expose() => {
                *g = (g.0 + 1, Secret::new(s.trim()));
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
    fn refresh_reads_the_file_once_changed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        std::fs::write(&p, "one\n").unwrap();
        let t = TokenSource::new(Secret::new("one"), Some(p.clone()));
        assert!(!t.refresh(0), "unchanged file: no new token");
        std::fs::write(&p, "two\n").unwrap();
        assert!(t.refresh(0));
        assert_eq!(t.get().0, 1);
        assert_eq!(t.get().1.expose(), "two");
        assert!(t.refresh(0), "another worker already rotated");
    }
}
