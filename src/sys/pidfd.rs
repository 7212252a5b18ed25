//! Process file descriptors: `pidfd_open(2)`, `pidfd_send_signal(2)` and
//! reaping through a pidfd.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr;

use rustix::process::{Pid, PidfdFlags};

use super::cvt;
pub use super::wait::{wait_pidfd, wait_pidfd_blocking};

/// `pidfd_open(pid, 0)`—a pidfd (close-on-exec) for `pid`.
///
/// Race-free only for our own, not-yet-reaped child: its pid cannot be
/// recycled before we reap it. Requires Linux 5.3.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
pub fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    Ok(rustix::process::pidfd_open(pid, PidfdFlags::empty())?)
}

/// `pidfd_send_signal(pidfd, sig, NULL, 0)`—send `sig` to the process behind
/// `pidfd`.
///
/// Fails with `ESRCH` once the process has exited, and can never reach an
/// unrelated process that reused the pid. `sig == 0` only checks existence.
/// (Raw syscall: rustix's wrapper takes only its named `Signal`s, and
/// Supervisor allows any number.)
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html)
pub fn pidfd_send_signal(pidfd: impl AsFd, sig: i32) -> io::Result<()> {
    let fd = pidfd.as_fd().as_raw_fd();
    // SAFETY: `fd` is a borrowed, open descriptor for the duration of the
    // call; a NULL `siginfo_t*` and flags 0 are the documented defaults.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd,
            sig,
            ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    cvt(ret).map(drop)
}

/// `poll({pidfd, POLLIN}, timeout)` then `waitid(P_PIDFD, …, WEXITED |
/// WNOHANG)`—wait at most `timeout` for the child to exit and reap it.
///
/// Returns `None` if it is still running when the timeout expires.
///
/// # References
///  - [pidfd_open](https://man7.org/linux/man-pages/man2/pidfd_open.2.html) (pollable)
pub fn wait_pidfd_timeout(
    pidfd: BorrowedFd<'_>,
    timeout: std::time::Duration,
) -> io::Result<Option<super::wait::ExitStatus>> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let ts = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    let mut fds = [PollFd::from_borrowed_fd(pidfd, PollFlags::IN)];
    match rustix::event::poll(&mut fds, Some(&ts)) {
        Ok(_) | Err(rustix::io::Errno::INTR) => {}
        Err(e) => return Err(e.into()),
    }
    wait_pidfd(pidfd)
}
