//! A size-rotated append-only file: the storage under both child logs and the
//! main log (spec §4.3).
//!
//! After each write, if the file has reached `maxbytes`, it is closed, the
//! backups are shifted (`F.(i)` → `F.(i+1)` for i = backups−1 … 1, `F` →
//! `F.1`) and `F` is reopened truncated. A chunk is always written whole
//! before rotation, so a file may exceed `maxbytes` by up to one chunk and no
//! byte is ever split between two files.
//!
//! # Implementation notes
//!
//! The size is *tracked* (fstat once at open, then `+= len` per write) rather
//! than read with `fstat` per write: the hot path is one `write(2)` per
//! chunk. Only when the tracked size says "rotate" do we `fstat` to learn the
//! real size, which catches an external truncation (`> file`, `truncate -s0`)
//! and appends by another writer of the same file (O_APPEND). The one cost:
//! appends by another writer alone do not trigger a rotation until our own
//! writes take the tracked size over `maxbytes`.
//!
//! A target that is not a regular file (`/dev/null`, a tty, a pipe,
//! `/dev/stdout`) is never rotated and never sized (Supervisor's `tell()`
//! fails there with "Illegal seek", issues #935, #1078, #1224).
//! `/dev/stdout` and `/dev/stderr` are duplicated from our own fds 1 and 2
//! instead of being reopened through `/proc/self/fd`, which fails with ENXIO
//! when the fd is a socket (systemd's journal stream).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How a log file is created when it does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateMode {
    /// `0666 & ~umask`: a configured path (and the main log).
    Shared,
    /// `0600`: an AUTO child log. Kept on re-creation after rotation or
    /// `clear` (Supervisor would re-create it `0666 & ~umask`).
    Private,
}

impl CreateMode {
    fn bits(self) -> u32 {
        match self {
            CreateMode::Shared => 0o666,
            CreateMode::Private => 0o600,
        }
    }
}

/// Size-rotation limits; `maxbytes == 0` disables rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rotation {
    pub maxbytes: u64,
    pub backups: u32,
}

impl Rotation {
    /// From the config's signed values (negative is treated as 0).
    pub fn new(maxbytes: i64, backups: i64) -> Rotation {
        Rotation {
            maxbytes: maxbytes.max(0) as u64,
            backups: backups.clamp(0, i64::from(u32::MAX)) as u32,
        }
    }
}

/// An append-only log file with size-based rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    mode: CreateMode,
    rotation: Rotation,
    /// `None` after a failed (re)open; the next write tries again.
    file: Option<File>,
    /// Whether the open target is a regular file (only those rotate).
    regular: bool,
    /// Tracked size of the current file (regular files only).
    size: u64,
}

impl RotatingFile {
    /// Open `path` for appending, creating it with `mode` if needed.
    pub fn open(path: &Path, mode: CreateMode, rotation: Rotation) -> io::Result<RotatingFile> {
        let mut rf = RotatingFile {
            path: path.to_path_buf(),
            mode,
            rotation,
            file: None,
            regular: false,
            size: 0,
        };
        rf.open_file(false)?;
        Ok(rf)
    }

    /// The configured path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the target is a regular file (and so may rotate).
    pub fn is_regular(&self) -> bool {
        self.regular
    }

    /// The tracked size of the current file (0 for non-regular targets).
    pub fn size(&self) -> u64 {
        self.size
    }

    fn open_file(&mut self, truncate: bool) -> io::Result<()> {
        self.file = None;
        let file = match std_stream(&self.path)? {
            Some(f) => f,
            None => OpenOptions::new()
                .append(true)
                .create(true)
                .mode(self.mode.bits())
                .open(&self.path)?,
        };
        let meta = file.metadata()?;
        self.regular = meta.file_type().is_file();
        self.size = if self.regular { meta.len() } else { 0 };
        if truncate && self.regular && self.size > 0 {
            // std refuses O_APPEND | O_TRUNC together; truncate right after,
            // and only when needed: after a rotation the file is new and
            // empty, and on ext4 a truncate to 0 arms "auto_da_alloc", which
            // makes the *next* close flush the whole file synchronously.
            file.set_len(0)?;
            self.size = 0;
        }
        self.file = Some(file);
        Ok(())
    }

    /// Write `data` whole, then rotate if the size reached `maxbytes`.
    ///
    /// An error from the rotation itself (rename, reopen) is returned after
    /// the data was written; the next write retries the reopen.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.open_file(false)?;
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(data)?;
        if !self.regular {
            return Ok(());
        }
        self.size += data.len() as u64;
        let max = self.rotation.maxbytes;
        if max > 0 && self.size >= max {
            // The tracked size may be stale (external truncation or another
            // writer): ask the kernel once before deciding.
            self.size = file.metadata()?.len();
            if self.size >= max {
                self.rotate()?;
            }
        }
        Ok(())
    }

    /// Shift backups and reopen the file truncated (§4.3).
    pub fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        if self.rotation.backups > 0 {
            for i in (1..self.rotation.backups).rev() {
                let src = numbered(&self.path, i);
                let dst = numbered(&self.path, i + 1);
                rename_tolerant(&src, &dst)?;
            }
            rename_tolerant(&self.path, &numbered(&self.path, 1))?;
        }
        self.open_file(true)
    }

    /// Close and reopen the same path for appending, no rotation (SIGUSR2).
    pub fn reopen(&mut self) -> io::Result<()> {
        self.open_file(false)
    }

    /// Delete the current file and create it anew; backups are untouched.
    /// A non-regular target (`/dev/null`, a pipe) is never deleted.
    pub fn clear(&mut self) -> io::Result<()> {
        if !self.regular {
            return Ok(());
        }
        self.file = None;
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.open_file(false)
    }
}

/// `F.n`.
pub fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Supervisor's `removeAndRename`: a missing `src` leaves `dst` alone;
/// otherwise remove `dst`, then rename. Not a rename over `dst`: replacing an
/// existing file makes ext4 (`auto_da_alloc`) allocate and start writing
/// back all of `src`'s delayed blocks inside our `rename`, at every
/// rotation, while removing first just drops `dst`'s pages.
fn rename_tolerant(src: &Path, dst: &Path) -> io::Result<()> {
    let gone = |r: io::Result<()>| match r {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    match std::fs::symlink_metadata(src) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    gone(std::fs::remove_file(dst))?;
    gone(std::fs::rename(src, dst))
}

/// `/dev/stdout` and `/dev/stderr` as duplicates of our own fds 1 and 2.
fn std_stream(path: &Path) -> io::Result<Option<File>> {
    let fd = if path == Path::new("/dev/stdout") {
        io::stdout().as_fd().try_clone_to_owned()?
    } else if path == Path::new("/dev/stderr") {
        io::stderr().as_fd().try_clone_to_owned()?
    } else {
        return Ok(None);
    };
    Ok(Some(File::from(fd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(p: &Path) -> Option<u64> {
        std::fs::metadata(p).ok().map(|m| m.len())
    }

    #[test]
    fn spec_example_maxbytes_100_backups_2() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(100, 2)).unwrap();
        for _ in 0..9 {
            f.write(&[b'x'; 60]).unwrap();
        }
        // 9 × 60: two writes fill a file to 120 → rotate; the 9th is alone.
        assert_eq!(len(&p), Some(60));
        assert_eq!(len(&numbered(&p, 1)), Some(120));
        assert_eq!(len(&numbered(&p, 2)), Some(120));
        assert_eq!(len(&numbered(&p, 3)), None);
    }

    /// Supervisor's `removeAndRename`: a gap in the backups stays a gap
    /// (a missing `F.n` does not remove `F.n+1`), and every move replaces
    /// its target's contents.
    #[test]
    fn rotation_with_a_missing_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        std::fs::write(numbered(&p, 1), "one").unwrap();
        std::fs::write(numbered(&p, 3), "three").unwrap();
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(100, 3)).unwrap();
        f.write(&[b'x'; 120]).unwrap();
        assert_eq!(len(&p), Some(0));
        assert_eq!(len(&numbered(&p, 1)), Some(120));
        assert_eq!(std::fs::read(numbered(&p, 2)).unwrap(), b"one");
        assert_eq!(std::fs::read(numbered(&p, 3)).unwrap(), b"three");
        f.write(&[b'y'; 120]).unwrap();
        assert_eq!(std::fs::read(numbered(&p, 1)).unwrap(), vec![b'y'; 120]);
        assert_eq!(std::fs::read(numbered(&p, 2)).unwrap(), vec![b'x'; 120]);
        assert_eq!(std::fs::read(numbered(&p, 3)).unwrap(), b"one");
        assert_eq!(len(&numbered(&p, 4)), None);
    }

    #[test]
    fn backups_zero_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(100, 0)).unwrap();
        f.write(&[b'a'; 60]).unwrap();
        f.write(&[b'b'; 60]).unwrap();
        assert_eq!(len(&p), Some(0));
        f.write(&[b'c'; 10]).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), vec![b'c'; 10]);
        assert_eq!(len(&numbered(&p, 1)), None);
    }

    #[test]
    fn maxbytes_zero_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(0, 3)).unwrap();
        for _ in 0..100 {
            f.write(&[b'x'; 100]).unwrap();
        }
        assert_eq!(len(&p), Some(10_000));
        assert_eq!(len(&numbered(&p, 1)), None);
    }

    #[test]
    fn appends_to_existing_file_and_counts_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        std::fs::write(&p, [b'o'; 90]).unwrap();
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(100, 1)).unwrap();
        f.write(b"0123456789").unwrap();
        assert_eq!(len(&p), Some(0));
        assert_eq!(len(&numbered(&p, 1)), Some(100));
    }

    #[test]
    fn external_truncation_is_seen_before_rotating() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(100, 1)).unwrap();
        f.write(&[b'a'; 80]).unwrap();
        OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        f.write(&[b'b'; 30]).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), vec![b'b'; 30]);
        assert_eq!(len(&numbered(&p, 1)), None);
    }

    #[test]
    fn dev_null_never_rotates_nor_errors() {
        let mut f = RotatingFile::open(
            Path::new("/dev/null"),
            CreateMode::Shared,
            Rotation::new(10, 2),
        )
        .unwrap();
        assert!(!f.is_regular());
        for _ in 0..50 {
            f.write(&[b'x'; 100]).unwrap();
        }
        f.reopen().unwrap();
        f.clear().unwrap();
        assert!(Path::new("/dev/null").exists());
    }

    #[test]
    fn fifo_never_rotates_nor_errors() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fifo");
        crate::sys::fd::mkfifo(&p, 0o600).unwrap();
        // Open the read end first (non-blocking) so the writer's open returns.
        let mut reader = OpenOptions::new()
            .read(true)
            .custom_flags(crate::sys::fd::O_NONBLOCK)
            .open(&p)
            .unwrap();
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(10, 2)).unwrap();
        assert!(!f.is_regular());
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        for i in 0..20u8 {
            f.write(&[i; 100]).unwrap();
            let n = reader.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got.len(), 2000);
        assert_eq!(len(&numbered(&p, 1)), None);
    }

    #[test]
    fn reopen_after_rename_away_creates_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let moved = dir.path().join("w.log.old");
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(0, 0)).unwrap();
        f.write(b"before\n").unwrap();
        std::fs::rename(&p, &moved).unwrap();
        f.write(b"still old\n").unwrap();
        f.reopen().unwrap();
        f.write(b"after\n").unwrap();
        assert_eq!(std::fs::read(&moved).unwrap(), b"before\nstill old\n");
        assert_eq!(std::fs::read(&p).unwrap(), b"after\n");
    }

    #[test]
    fn clear_recreates_and_keeps_backups() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let mut f = RotatingFile::open(&p, CreateMode::Shared, Rotation::new(10, 1)).unwrap();
        f.write(&[b'a'; 10]).unwrap();
        f.write(&[b'b'; 5]).unwrap();
        f.clear().unwrap();
        assert_eq!(len(&p), Some(0));
        assert_eq!(len(&numbered(&p, 1)), Some(10));
        f.write(b"cc").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"cc");
    }

    #[test]
    fn private_mode_is_0600_and_survives_rotation() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.log");
        let mut f = RotatingFile::open(&p, CreateMode::Private, Rotation::new(10, 1)).unwrap();
        f.write(&[b'a'; 10]).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
