//! File descriptors: pipes, `dup2`, `close_range`, and raw reads/writes.
//!
//! The raw-fd functions take `RawFd` because they serve the child between
//! fork and exec, where ownership is meaningless (everything is either
//! `dup2`ed into place or closed) and no allocation may happen.

use std::io;
use std::os::fd::{AsFd, OwnedFd, RawFd};

use rustix::pipe::PipeFlags;

use super::cvt;

/// `mkfifo(path, mode)`—a named pipe (tests: a log target that is not a
/// regular file).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/mkfifo.3.html)
pub fn mkfifo(path: &std::path::Path, mode: u32) -> io::Result<()> {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(mode),
        0,
    )?;
    Ok(())
}

/// `O_NONBLOCK`, for `OpenOptionsExt::custom_flags`.
pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;

/// `pipe2(fds, O_CLOEXEC)`—a close-on-exec pipe, `(read end, write end)`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/pipe.2.html)
pub fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(PipeFlags::CLOEXEC)?)
}

/// `openat(dir, name, O_WRONLY | O_CLOEXEC)`—a file next to an open
/// directory (a cgroup's `cgroup.procs`, for the child to join before exec).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/openat.2.html)
pub fn open_write_at(dir: impl AsFd, name: &str) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    Ok(rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)`—a close-on-exec duplicate numbered at
/// least `min`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fcntl.2.html)
pub fn dup_cloexec_at_least(fd: impl AsFd, min: RawFd) -> io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, min)?)
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)` on a raw fd, returning the raw new fd.
///
/// Async-signal-safe (for the child).
pub fn dup_raw_at_least(fd: RawFd, min: RawFd) -> io::Result<RawFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) only reads the descriptor table; an
    // invalid `fd` yields EBADF.
    cvt(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, min) })
}

/// `dup2(old, new)`—make `new` refer to `old`'s file; the new descriptor is
/// not close-on-exec.
///
/// Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/dup.2.html)
pub fn dup2(old: RawFd, new: RawFd) -> io::Result<()> {
    loop {
        // SAFETY: dup2 only manipulates the descriptor table; in the child,
        // replacing whatever `new` was is exactly the intent.
        match cvt(unsafe { libc::dup2(old, new) }) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other.map(drop),
        }
    }
}

/// `close_range(first, last, 0)`—close every descriptor in `first..=last`.
///
/// Falls back to closing one by one up to the `RLIMIT_NOFILE` soft limit on
/// kernels before 5.9 (`ENOSYS`). Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/close_range.2.html)
pub fn close_range(first: u32, last: u32) -> io::Result<()> {
    if first > last {
        return Ok(());
    }
    // SAFETY: close_range takes plain integers. Closing descriptors other
    // code owns is what the child wants; the parent never calls this.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) };
    match cvt(ret) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            let (soft, _) = super::rlimit::get(super::rlimit::Limit::NoFile);
            let end = soft.unwrap_or(u64::from(u32::MAX)).min(u64::from(last) + 1);
            for fd in u64::from(first)..end {
                // SAFETY: as above; EBADF for unused numbers is ignored.
                unsafe { libc::close(fd as RawFd) };
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `write(fd, buf, len)` until all of `buf` is written (retrying `EINTR`).
///
/// Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/write.2.html)
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: `buf` is a valid readable slice of `buf.len()` bytes.
        let ret = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        match cvt(ret as i64) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n as usize..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `read(fd, buf, len)` until `buf` is full or end of file (retrying
/// `EINTR`); returns the number of bytes read.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/read.2.html)
pub fn read_full(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    let fd = fd.as_fd();
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(got)
}
