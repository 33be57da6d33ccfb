//! The bearer token: never printed, never logged, re-read from `token_file` on 401.

use std::fmt;
use std::path::PathBuf;
use std::sync::RwLock;

/// A secret string whose `Debug`/`Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The only way to read the value: for the Authorization header.
    pub fn expose(&self) -> &str {
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

/// Where the token came from, so a 401 can re-read a rotated `token_file`.
#[derive(Debug)]
pub struct TokenSource {
    current: RwLock<(u64, Secret)>,
    file: Option<PathBuf>,
}

impl TokenSource {
    pub fn new(token: Secret, file: Option<PathBuf>) -> TokenSource {
        TokenSource {
            current: RwLock::new((0, token)),
            file,
        }
    }

    /// The token and its generation (bumped on every rotation).
    pub fn get(&self) -> (u64, Secret) {
        // a poisoned lock only means a panic elsewhere; the value is still a whole token
        let g = self.current.read().unwrap_or_else(|e| e.into_inner());
        (g.0, g.1.clone())
    }

    /// After a 401 with token generation `seen`: true when a newer token is available
    /// (rotated by another worker already, or re-read now from the file and changed).
    pub fn refresh(&self, seen: u64) -> bool {
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
