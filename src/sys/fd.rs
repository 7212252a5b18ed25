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

/// `open("/dev/null", O_RDWR | O_CLOEXEC)`—where a stream nobody reads
/// goes.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man4/null.4.html)
pub fn open_dev_null() -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    Ok(rustix::fs::open(
        "/dev/null",
        OFlags::RDWR | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// `open("/proc/self/fd/N", O_RDWR | O_CLOEXEC)`—a new descriptor for the
/// pipe `fd` belongs to, open for reading *and* writing (Linux opens a pipe
/// named through `/proc` like a FIFO). A reader that is also a writer never
/// sees end of file, so a child given such a stdin blocks on it as on a
/// pipe the daemon keeps open, while the daemon keeps nothing.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man7/pipe.7.html),
///    [proc_pid_fd(5)](https://man7.org/linux/man-pages/man5/proc_pid_fd.5.html)
pub fn reopen_read_write(fd: impl AsFd) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    use std::os::fd::AsRawFd;
    let path = format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd());
    Ok(rustix::fs::open(
        path.as_str(),
        OFlags::RDWR | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// `open("/proc/PID/fd/N", O_WRONLY | O_NONBLOCK | O_CLOEXEC)`—a writer
/// for the pipe another process holds as descriptor `n` (needs the right
/// to inspect that process, as root or its owner has).
///
/// # References
///  - [proc_pid_fd(5)](https://man7.org/linux/man-pages/man5/proc_pid_fd.5.html)
pub fn open_writer_of(pid: u32, n: RawFd) -> io::Result<OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let path = format!("/proc/{pid}/fd/{n}");
    Ok(rustix::fs::open(
        path.as_str(),
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// `fstat(fd)`—`(st_dev, st_ino)`, which name one open pipe or file.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fstat.2.html)
pub fn identity(fd: impl AsFd) -> io::Result<(u64, u64)> {
    let st = rustix::fs::fstat(fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// `dup3(src, slot, O_CLOEXEC)`—make the descriptor `slot` owns refer to
/// `src`'s file (what it referred to before is closed), keeping its number.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/dup3.2.html)
pub fn dup_onto(src: impl AsFd, slot: &mut OwnedFd) -> io::Result<()> {
    Ok(rustix::io::dup3(src, slot, rustix::io::DupFlags::CLOEXEC)?)
}

/// `close_range(first, ~0U, CLOSE_RANGE_UNSHARE)`—give this process a
/// descriptor table of its own holding only the descriptors below `first`.
///
/// A child made with `CLONE_FILES` shares the parent's table; this copies
/// only the low part of it (the kernel skips the descriptors it would
/// close), where copying the whole table, as `clone` without
/// `CLONE_FILES` does, costs one reference per descriptor the daemon has
/// open: thousands, for every spawn. Kernels before 5.9 do not know the
/// flag: then `unshare(CLONE_FILES)` copies the whole table and the range
/// is closed in it. Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/close_range.2.html),
///    [unshare(2)](https://man7.org/linux/man-pages/man2/unshare.2.html)
pub fn close_range_unshare(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
    // SAFETY: close_range takes plain integers; the caller is a child whose
    // shared table must not be touched before it is its own, which the flag
    // does first.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_UNSHARE) };
    match cvt(ret) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
            // SAFETY: unshare(CLONE_FILES) copies the table; no memory is
            // touched.
            cvt(unsafe { libc::unshare(libc::CLONE_FILES) })?;
            close_range(first, u32::MAX)
        }
        Err(e) => Err(e),
    }
}

/// `ioctl(fd, FIONBIO, 1)`—make `fd` non-blocking.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/ioctl.2.html)
pub fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    rustix::io::ioctl_fionbio(fd, true)?;
    Ok(())
}

/// `read(fd, buf, len)`—what is there, 0 at end of file; `WouldBlock` on a
/// non-blocking fd with nothing to read, `Interrupted` on EINTR.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/read.2.html)
pub fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::read(fd, buf)?)
}

/// `write(fd, buf, len)`—how much was written; `WouldBlock` when a
/// non-blocking pipe is full, `Interrupted` on EINTR.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/write.2.html)
pub fn write(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::io::write(fd, buf)?)
}

/// `dup(fd)`—a close-on-exec copy of `fd`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/dup.2.html)
pub fn dup(fd: impl AsFd) -> io::Result<OwnedFd> {
    dup_cloexec_at_least(fd, 0)
}

/// `access(path, X_OK)`—whether this process may execute `path`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/access.2.html)
pub fn executable(path: &std::path::Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::EXEC_OK).is_ok()
}
