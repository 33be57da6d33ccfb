//! Files that hold secrets: read whole and trimmed, refused when empty, warned about when
//! group or others may read them (as ssh does), and — for those the tool rewrites —
//! refused when a symlink and replaced atomically with mode 0600.

use super::{Secret, TokenError};
use crate::atomic::AtomicFile;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The longest secret file read (a Webex token is ~100 bytes).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// A secret from a file, which the tool only reads (`token_file`, `client_secret_file`).
pub(crate) fn read(path: &Path, what: &'static str) -> Result<Secret, TokenError> {
    warn_if_readable_by_others(path);
    let shown = path.display().to_string();
    let unreadable = |source| TokenError::Unreadable { what, path: shown.clone(), source };
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(TokenError::NotAFile { what, path: shown });
    }
    if meta.len() > MAX_SECRET_BYTES {
        return Err(TokenError::TooLarge { what, path: shown, max: MAX_SECRET_BYTES });
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    match text.trim() {
        "" => Err(TokenError::EmptyFile { what, path: shown }),
        t => Ok(Secret::new(t)),
    }
}

/// A secret from a file the tool also rewrites (`refresh_token_file`): a symlink is
/// refused, since replacing it would cut the link (or write where it points).
pub(crate) fn read_own(path: &Path, what: &'static str) -> Result<Secret, TokenError> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(TokenError::Symlink { what, path: path.display().to_string() });
    }
    read(path, what)
}

/// Replace `path` with `value` (and a newline), whole or not at all, mode 0600.
pub(crate) fn write_own(path: &Path, value: &str) -> std::io::Result<()> {
    let mut f = AtomicFile::private(path)?;
    f.write_all(value.as_bytes())?;
    f.write_all(b"\n")?;
    f.commit()
}

/// A warning naming a file that group or others may read, and its mode.
pub(crate) fn warn_if_readable_by_others(path: &Path) {
    if let Some(mode) = readable_by_others(path) {
        tracing::warn!(
            "{} is readable by group or others (mode {mode:04o}); it holds a secret: chmod 600 it",
            path.display()
        );
    }
}

/// The file's mode when group or others may read it.
pub(crate) fn readable_by_others(path: &Path) -> Option<u32> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_are_read_trimmed_and_refused_when_empty_or_a_link() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("rt");
        write_own(&p, "  abc ").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_own(&p, "refresh token file").unwrap().expose(), "abc");
        assert!(readable_by_others(&p).is_none());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(readable_by_others(&p), Some(0o644));
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert!(matches!(read_own(&link, "refresh token file"), Err(TokenError::Symlink { .. })));
        assert!(read(&link, "token file").is_ok(), "a file only read may be a link");
        std::fs::write(&p, "\n \n").unwrap();
        assert!(matches!(read(&p, "token file"), Err(TokenError::EmptyFile { .. })));
        assert!(matches!(read(d.path(), "token file"), Err(TokenError::NotAFile { .. })));
        assert!(matches!(read(&d.path().join("none"), "token file"), Err(TokenError::Unreadable { .. })));
    }
}
