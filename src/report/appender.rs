//! An append-only CSV file that holds whole records only. A record reaches the file whole
//! or not at all: after a failed write (a full disk, a file-size limit) the partly
//! written bytes are cut away, and the file takes no more records — what it holds stays
//! a valid prefix. A durable appender puts each record on disk (`sync_data`) before it
//! returns: the rollback file is a write-ahead log, and a power cut must not lose the
//! record of a write that was sent.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

pub(crate) struct Appender {
    file: File,
    /// Records formatted but not yet written.
    pending: csv::Writer<Vec<u8>>,
    /// Bytes of the file known to be whole records.
    len: u64,
    durable: bool,
    /// A write failed: the file keeps its whole records and takes no more.
    failed: bool,
}

impl Appender {
    /// A new file (never an existing one) with its header, on disk when `durable` (the
    /// directory entry too, so the file itself survives a power cut).
    pub(crate) fn create(path: &Path, header: &[&str], durable: bool) -> io::Result<Appender> {
        let file = OpenOptions::new().append(true).create_new(true).open(path)?;
        let mut a = Appender { file, pending: csv::Writer::from_writer(Vec::new()), len: 0, durable, failed: false };
        a.push(header)?;
        a.commit()?;
        if durable && let Some(dir) = path.parent() {
            File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })?.sync_all()?;
        }
        Ok(a)
    }

    /// An existing file of whole records, appended to.
    pub(crate) fn reopen(path: &Path, durable: bool) -> io::Result<Appender> {
        let file = OpenOptions::new().append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(Appender { file, pending: csv::Writer::from_writer(Vec::new()), len, durable, failed: false })
    }

    /// Format a record; it reaches the file at the next `commit`.
    pub(crate) fn push<I, T>(&mut self, record: I) -> io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.pending.write_record(record)?;
        Ok(())
    }

    /// Write the pending records (and sync them when durable). On failure the file is cut
    /// back to its last whole record and refuses every later commit.
    pub(crate) fn commit(&mut self) -> io::Result<()> {
        let formatted = std::mem::replace(&mut self.pending, csv::Writer::from_writer(Vec::new()));
        let bytes = formatted.into_inner().map_err(|e| e.into_error())?;
        if bytes.is_empty() {
            return Ok(());
        }
        if self.failed {
            return Err(io::Error::other("an earlier write to this file failed; it takes no more records"));
        }
        let written =
            self.file.write_all(&bytes).and_then(|()| if self.durable { self.file.sync_data() } else { Ok(()) });
        match written {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                // cutting back shrinks the file: allowed under a file-size limit or a full disk
                let _ = self.file.set_len(self.len).and_then(|()| self.file.sync_data());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_reach_the_file_at_commit_and_a_new_file_is_never_an_old_one() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.csv");
        let mut a = Appender::create(&p, &["x", "y"], true).unwrap();
        a.push(["1", "a,b"]).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x,y\n");
        a.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x,y\n1,\"a,b\"\n");
        assert!(Appender::create(&p, &["x"], false).is_err(), "create never truncates");
        let mut b = Appender::reopen(&p, false).unwrap();
        b.push(["2", ""]).unwrap();
        b.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "x,y\n1,\"a,b\"\n2,\n");
    }
}
