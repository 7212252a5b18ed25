//! Reading logs for the control layer (spec §4.6).
//!
//! * [`read_window`]: `readLog` / `readProcessStdoutLog` / `…StderrLog`.
//! * [`tail_window`]: `tailProcessStdoutLog` / `…StderrLog`.
//! * [`Follower`]: the `/logtail` and `/mainlogtail` streams, driven by the
//!   caller's timer or inotify (no threads, no sleeps).
//!
//! Only the current file is read, never `.1` backups. Bytes are returned
//! raw; the RPC layer decides what to do with invalid UTF-8 (Supervisor
//! fails such a call with HTTP 500).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Why [`read_window`] failed; each maps to a Supervisor fault.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Fault `BAD_ARGUMENTS`.
    #[error("bad arguments")]
    BadArguments,
    /// Fault `NO_FILE` (faultString `NO_FILE: <path>`).
    #[error("no log file {}", .0.display())]
    NoFile(PathBuf),
    /// Fault `FAILED`.
    #[error("cannot read {}", path.display())]
    Failed {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn failed(path: &Path) -> impl FnOnce(io::Error) -> ReadError + '_ {
    move |source| ReadError::Failed {
        path: path.to_path_buf(),
        source,
    }
}

/// Supervisor's `readFile(path, offset, length)`.
///
/// `offset ≥ 0, length ≥ 0`: `length` bytes from `offset` (0 = to EOF).
/// `offset < 0, length == 0`: the last `|offset|` bytes. Anything else is
/// `BadArguments`. A missing file is `NoFile` (checked first, as
/// Supervisor's `os.path.exists`); any other error is `Failed`.
pub fn read_window(path: &Path, offset: i64, length: i64) -> Result<Vec<u8>, ReadError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(ReadError::NoFile(path.to_path_buf()))
        }
        Err(e) => return Err(failed(path)(e)),
    };
    let (start, limit) = if offset < 0 {
        if length != 0 {
            return Err(ReadError::BadArguments);
        }
        let size = f.metadata().map_err(failed(path))?.len();
        let want = offset.unsigned_abs();
        (size.saturating_sub(want), want)
    } else {
        if length < 0 {
            return Err(ReadError::BadArguments);
        }
        let limit = if length == 0 { u64::MAX } else { length as u64 };
        (offset as u64, limit)
    };
    f.seek(SeekFrom::Start(start)).map_err(failed(path))?;
    let mut data = Vec::new();
    f.take(limit).read_to_end(&mut data).map_err(failed(path))?;
    Ok(data)
}

/// Supervisor's `tailFile(path, offset, length)`: `(data, new_offset,
/// overflow)`, with `new_offset` the file size.
///
/// This copies Supervisor's code, which differs from the one-line summary
/// "else read from offset to EOF": when `offset < size ≤ offset + length`
/// it returns the last `length` bytes of the file (clamped at 0), which may
/// start before `offset`. When `size > offset + length`, overflow is true and
/// the last `length` bytes are returned. When `offset ≥ size`, nothing.
///
/// A missing file gives `("", 0, false)` (the RPC's own check); any other
/// error gives `("", offset, false)` (`tailFile`'s `except`).
pub fn tail_window(path: &Path, offset: i64, length: i64) -> (Vec<u8>, i64, bool) {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (Vec::new(), 0, false),
        Err(_) => return (Vec::new(), offset, false),
    };
    let sz = match f.metadata() {
        Ok(m) => m.len().min(i64::MAX as u64) as i64,
        Err(_) => return (Vec::new(), offset, false),
    };
    let (mut offset, mut length) = (offset, length);
    let mut overflow = false;
    if sz > offset.saturating_add(length) {
        overflow = true;
        offset = sz - 1;
    }
    if offset.saturating_add(length) > sz {
        if offset > sz - 1 {
            length = 0;
        }
        offset = sz.saturating_sub(length);
    }
    offset = offset.max(0);
    length = length.max(0);
    let mut data = Vec::new();
    if length > 0 {
        let mut take = (&f).take(length as u64);
        let res = (&f)
            .seek(SeekFrom::Start(offset as u64))
            .and_then(|_| take.read_to_end(&mut data));
        if res.is_err() {
            return (Vec::new(), offset, false);
        }
    }
    (data, sz, overflow)
}

/// What `/logtail` sends when the file shrank.
pub const TRUNCATED: &[u8] = b"==> File truncated <==\n";

/// Follows a log file like Supervisor's `tail_f_producer` (`tail -F`).
///
/// Starts with the last `head` bytes (1024 for `/logtail`), then each
/// [`poll`](Self::poll) returns what was appended since. Rotation (the path
/// now names another inode) reopens the path and streams the new file from
/// its start; before switching, whatever was appended to the old file since
/// the last poll is sent too (Supervisor drops it). A shrink (truncation)
/// sends [`TRUNCATED`] and restarts at offset 0. If the path vanishes, the
/// open file keeps being followed.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    file: File,
    id: (u64, u64),
    pos: u64,
    max_read: usize,
}

/// The head of `/logtail`.
pub const LOGTAIL_HEAD: u64 = 1024;

impl Follower {
    /// Open `path` (an error such as NotFound maps to a 404).
    pub fn open(path: &Path, head: u64) -> io::Result<Follower> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        Ok(Follower {
            path: path.to_path_buf(),
            id: (meta.dev(), meta.ino()),
            pos: meta.len().saturating_sub(head),
            file,
            max_read: 1 << 20,
        })
    }

    /// Read at most this many bytes per poll (default 1 MiB); the rest
    /// comes with the next poll.
    pub fn set_max_read(&mut self, n: usize) {
        self.max_read = n.max(1);
    }

    /// The mtime of the followed file (for `Last-Modified`).
    pub fn modified(&self) -> io::Result<std::time::SystemTime> {
        self.file.metadata()?.modified()
    }

    /// New bytes since the last poll (empty when there are none).
    pub fn poll(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        if let Ok(meta) = std::fs::metadata(&self.path) {
            if (meta.dev(), meta.ino()) != self.id {
                // Rotated: drain the old file, then switch to the new one.
                self.read_new(&mut out)?;
                if let Ok(file) = File::open(&self.path) {
                    let meta = file.metadata()?;
                    self.id = (meta.dev(), meta.ino());
                    self.file = file;
                    self.pos = 0;
                }
            }
        }
        self.read_new(&mut out)?;
        Ok(out)
    }

    fn read_new(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let size = self.file.metadata()?.len();
        if size < self.pos {
            out.extend_from_slice(TRUNCATED);
            self.pos = 0;
        }
        let budget = self.max_read.saturating_sub(out.len()) as u64;
        let want = (size - self.pos).min(budget) as usize;
        if want == 0 {
            return Ok(());
        }
        let start = out.len();
        out.resize(start + want, 0);
        let mut got = 0;
        while got < want {
            match self
                .file
                .read_at(&mut out[start + got..], self.pos + got as u64)
            {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    out.truncate(start);
                    return Err(e);
                }
            }
        }
        out.truncate(start + got);
        self.pos += got as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::rotate::{CreateMode, RotatingFile, Rotation};
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn file_with(dir: &Path, content: &[u8]) -> PathBuf {
        let p = dir.join("f.log");
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn read_window_branches() {
        let dir = tempfile::tempdir().unwrap();
        let p = file_with(dir.path(), b"0123456789");
        assert_eq!(read_window(&p, 0, 0).unwrap(), b"0123456789");
        assert_eq!(read_window(&p, 3, 0).unwrap(), b"3456789");
        assert_eq!(read_window(&p, 3, 4).unwrap(), b"3456");
        assert_eq!(read_window(&p, 8, 100).unwrap(), b"89");
        assert_eq!(read_window(&p, 50, 0).unwrap(), b"");
        assert_eq!(read_window(&p, -4, 0).unwrap(), b"6789");
        assert_eq!(read_window(&p, -100, 0).unwrap(), b"0123456789");
        assert_eq!(read_window(&p, i64::MIN, 0).unwrap(), b"0123456789");
        assert!(matches!(
            read_window(&p, -4, 2),
            Err(ReadError::BadArguments)
        ));
        assert!(matches!(
            read_window(&p, 0, -1),
            Err(ReadError::BadArguments)
        ));
        let missing = dir.path().join("missing");
        match read_window(&missing, -4, 2) {
            Err(ReadError::NoFile(q)) => assert_eq!(q, missing),
            other => panic!("{other:?}"),
        }
        // A directory opens but cannot be read: FAILED.
        assert!(matches!(
            read_window(dir.path(), 0, 0),
            Err(ReadError::Failed { .. })
        ));
    }

    /// A file that exists but cannot be opened: FAILED. Root reads
    /// anything, so (as under the documented setup, root) the reads run in
    /// a forked child that became `nobody`.
    #[test]
    fn read_window_unreadable_is_failed() {
        use crate::sys::tests::{in_child, skip};
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = file_with(dir.path(), b"x");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        let reads = || {
            let failed = matches!(read_window(&p, 0, 0), Err(ReadError::Failed { .. }));
            failed && tail_window(&p, 7, 10) == (Vec::new(), 7, false)
        };
        if !skip::is_root() {
            assert!(reads());
            return;
        }
        let nobody = crate::sys::user::user_by_name("nobody");
        let Some(nobody) = nobody else {
            return skip::skip("a user `nobody` to read as");
        };
        let st = in_child(|| {
            let (uid, gid) = (nobody.uid, nobody.gid);
            if crate::sys::cred::set_res_gid(gid).is_err()
                || crate::sys::cred::set_res_uid(uid).is_err()
            {
                return 10;
            }
            if reads() {
                0
            } else {
                11
            }
        });
        assert_eq!(st, crate::sys::wait::ExitStatus::Exited(0));
    }

    #[test]
    fn tail_window_branches() {
        let dir = tempfile::tempdir().unwrap();
        let p = file_with(dir.path(), b"0123456789");
        // size > offset + length: overflow, last `length` bytes.
        assert_eq!(tail_window(&p, 0, 4), (b"6789".to_vec(), 10, true));
        assert_eq!(tail_window(&p, 2, 1), (b"9".to_vec(), 10, true));
        assert_eq!(tail_window(&p, 0, 0), (Vec::new(), 10, true));
        // size == offset + length: from offset to EOF.
        assert_eq!(tail_window(&p, 6, 4), (b"6789".to_vec(), 10, false));
        // offset < size < offset + length: Supervisor returns the last
        // `length` bytes, clamped at 0 (not "from offset").
        assert_eq!(tail_window(&p, 7, 5), (b"56789".to_vec(), 10, false));
        assert_eq!(
            tail_window(&p, 4, 1600),
            (b"0123456789".to_vec(), 10, false)
        );
        // offset ≥ size: nothing new.
        assert_eq!(tail_window(&p, 10, 1600), (Vec::new(), 10, false));
        assert_eq!(tail_window(&p, 99, 5), (Vec::new(), 10, false));
        // Missing file.
        let missing = dir.path().join("missing");
        assert_eq!(tail_window(&missing, 5, 5), (Vec::new(), 0, false));
        // Empty file.
        let e = dir.path().join("empty");
        std::fs::write(&e, b"").unwrap();
        assert_eq!(tail_window(&e, 0, 1600), (Vec::new(), 0, false));
    }

    #[test]
    fn follower_head_append_rotation_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.log");
        let content: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut rf = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(4000, 1)).unwrap();
        rf.write(&content).unwrap();
        let mut fo = Follower::open(&p, LOGTAIL_HEAD).unwrap();
        assert_eq!(fo.poll().unwrap(), &content[3000 - 1024..]);
        assert!(fo.poll().unwrap().is_empty());
        rf.write(b"more\n").unwrap();
        assert_eq!(fo.poll().unwrap(), b"more\n");
        // This write crosses maxbytes: "x…" lands in the old file, which is
        // renamed to .1, then "new\n" starts the new file.
        rf.write(&[b'x'; 1000]).unwrap();
        rf.write(b"new\n").unwrap();
        let mut want = vec![b'x'; 1000];
        want.extend_from_slice(b"new\n");
        assert_eq!(fo.poll().unwrap(), want);
        // Truncation.
        rf.write(b"0123456789").unwrap();
        assert_eq!(fo.poll().unwrap(), b"0123456789");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        let mut w = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        w.write_all(b"abc").unwrap();
        let mut want = TRUNCATED.to_vec();
        want.extend_from_slice(b"abc");
        assert_eq!(fo.poll().unwrap(), want);
        assert!(fo.poll().unwrap().is_empty());
    }

    #[test]
    fn follower_small_file_unlinked_and_budget() {
        let dir = tempfile::tempdir().unwrap();
        let p = file_with(dir.path(), b"short");
        let mut fo = Follower::open(&p, LOGTAIL_HEAD).unwrap();
        fo.set_max_read(3);
        assert_eq!(fo.poll().unwrap(), b"sho");
        assert_eq!(fo.poll().unwrap(), b"rt");
        let mut w = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        w.write_all(b"!").unwrap();
        assert_eq!(fo.poll().unwrap(), b"!");
        assert!(Follower::open(&p, LOGTAIL_HEAD).is_err());
    }
}
