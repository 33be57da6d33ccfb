//! One run per report directory: an OS file lock (released by the OS if we die).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another run holds the lock on {path} ({holder})")]
    Held { path: String, holder: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Held for the whole run; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

pub fn acquire(dir: &Path, started_at: &str) -> Result<RunLock, LockError> {
    let path = dir.join(".ecbn-sync.lock");
    let shown = path.display().to_string();
    let io = |source| LockError::Io { path: shown.clone(), source };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Held {
                path: shown.clone(),
                holder: if holder.is_empty() { "holder unknown".into() } else { holder.to_string() },
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    write!(file, "pid {} since {started_at}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(RunLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_holder() {
        let d = tempfile::tempdir().unwrap();
        let _a = acquire(d.path(), "2026-11-29T10:00:00Z").unwrap();
        match acquire(d.path(), "later") {
            Err(LockError::Held { holder, .. }) => {
                assert!(holder.contains(&std::process::id().to_string()));
                assert!(holder.contains("2026-11-29T10:00:00Z"));
            }
            other => panic!("{other:?}"),
        }
        drop(_a);
        acquire(d.path(), "again").unwrap();
    }
}
