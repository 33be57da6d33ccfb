//! Files that appear whole or not at all: written to a temporary file in the target's
//! directory, synced, renamed over the target, and the directory synced, so neither a
//! crash nor a power cut leaves half a summary, state file or export behind.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A file being written; it replaces `target` only on [`AtomicFile::commit`]. Dropped
/// without a commit, the temporary file is removed.
pub(crate) struct AtomicFile {
    out: BufWriter<NamedTempFile>,
    target: PathBuf,
}

impl AtomicFile {
    pub(crate) fn create(target: &Path) -> io::Result<AtomicFile> {
        // the mode of any new file (0666 less the umask), not a temp file's 0600: a
        // metrics file must be readable by node_exporter, a summary by whoever reads the CSV
        AtomicFile::with_mode(target, 0o666)
    }

    /// A file only its owner may read or write (0600): for secrets.
    pub(crate) fn private(target: &Path) -> io::Result<AtomicFile> {
        AtomicFile::with_mode(target, 0o600)
    }

    fn with_mode(target: &Path, mode: u32) -> io::Result<AtomicFile> {
        use std::os::unix::fs::PermissionsExt;
        let permissions = std::fs::Permissions::from_mode(mode);
        let tmp = tempfile::Builder::new().permissions(permissions).tempfile_in(parent(target))?;
        Ok(AtomicFile { out: BufWriter::new(tmp), target: target.to_path_buf() })
    }

    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Flush, sync, rename over the target, sync the directory.
    pub(crate) fn commit(self) -> io::Result<()> {
        let tmp = self.out.into_inner().map_err(io::IntoInnerError::into_error)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.target).map_err(|e| e.error)?;
        sync_dir(parent(&self.target))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Write `value` as pretty JSON, atomically.
pub(crate) fn write_json(path: &Path, value: &impl serde::Serialize) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    serde_json::to_writer_pretty(&mut f, value).map_err(io::Error::other)?;
    f.commit()
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Make a rename durable: the directory entry lives in the directory's own data.
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_on_commit_and_leaves_no_temp_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.json");
        write_json(&p, &serde_json::json!({"a": 1})).unwrap();
        assert!(std::fs::read_to_string(&p).unwrap().contains("\"a\": 1"));
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert!(std::fs::read_to_string(&p).unwrap().contains("\"a\": 1"), "an abandoned write changes nothing");
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("s.json")]);
        // a relative path in the working directory has a parent of ""
        assert_eq!(parent(Path::new("x.json")), Path::new("."));
    }

    #[test]
    fn a_file_gets_the_mode_of_any_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let plain = d.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        let atomic = d.path().join("atomic");
        write_json(&atomic, &1).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&atomic), mode(&plain));
        let secret = d.path().join("secret");
        let mut f = AtomicFile::private(&secret).unwrap();
        f.write_all(b"s").unwrap();
        f.commit().unwrap();
        assert_eq!(mode(&secret), 0o600);
    }
}
