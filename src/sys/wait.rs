//! `waitid(2)`: exit statuses, reaping one pidfd, and the stray peek/reap pair.
//!
//! Owned children are reaped only through their pidfd ([`crate::sys::pidfd::wait_pidfd`]).
//! Strays (orphans reparented to us as subreaper) are found with [`peek_any`],
//! which never consumes a status, then reaped one by one with [`reap_pid`] once
//! the caller has checked the pid is not one it owns (peek-then-dispatch).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::cvt;

/// How a child ended, as `waitid` reports it in `si_code`/`si_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// `CLD_EXITED`: the process called `exit(code)`.
    Exited(i32),
    /// `CLD_KILLED`: terminated by this signal.
    Killed(i32),
    /// `CLD_DUMPED`: terminated by this signal and dumped core.
    Dumped(i32),
}

impl ExitStatus {
    /// The exit code, if the process exited normally.
    pub fn code(self) -> Option<i32> {
        match self {
            ExitStatus::Exited(code) => Some(code),
            _ => None,
        }
    }

    /// The terminating signal, if the process was killed (with or without core).
    pub fn signal(self) -> Option<i32> {
        match self {
            ExitStatus::Exited(_) => None,
            ExitStatus::Killed(sig) | ExitStatus::Dumped(sig) => Some(sig),
        }
    }

    /// Whether the kernel wrote a core dump.
    pub fn core_dumped(self) -> bool {
        matches!(self, ExitStatus::Dumped(_))
    }
}

/// `waitid(idtype, id, &info, options)`—the one raw call behind every wrapper
/// here. Returns `None` when `WNOHANG` found nothing (`si_pid == 0`).
fn waitid(
    idtype: libc::idtype_t,
    id: libc::id_t,
    options: libc::c_int,
) -> io::Result<Option<(u32, ExitStatus)>> {
    // SAFETY: an all-zero `siginfo_t` is a valid value (plain integers and
    // unions of them); zeroing it is also what makes `si_pid == 0` mean
    // "nothing ready" under WNOHANG, as waitid(2) recommends.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `info` is a valid, writable `siginfo_t`; the other
        // arguments are plain integers.
        let ret = unsafe { libc::waitid(idtype, id, &mut info, options) };
        match cvt(ret) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    // SAFETY: for SIGCHLD-style `siginfo_t` filled by waitid, `si_pid` and
    // `si_status` are the active union members (and zero when nothing was
    // reported, since we zeroed the struct).
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    let status = match info.si_code {
        libc::CLD_EXITED => ExitStatus::Exited(status),
        libc::CLD_KILLED => ExitStatus::Killed(status),
        libc::CLD_DUMPED => ExitStatus::Dumped(status),
        // Only WEXITED is ever requested, so stop/continue codes cannot occur.
        other => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("waitid: unexpected si_code {other}"),
            ))
        }
    };
    Ok(Some((pid as u32, status)))
}

/// `waitid(P_PIDFD, pidfd, &info, WEXITED | WNOHANG)`—reap exactly the child
/// behind `pidfd` if it has exited.
///
/// Returns `None` while it is still running. Requires Linux 5.4.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/waitid.2.html)
pub fn wait_pidfd(pidfd: BorrowedFd<'_>) -> io::Result<Option<ExitStatus>> {
    let fd = pidfd.as_raw_fd() as libc::id_t;
    Ok(waitid(libc::P_PIDFD, fd, libc::WEXITED | libc::WNOHANG)?.map(|(_, s)| s))
}

/// `waitid(P_PIDFD, pidfd, &info, WEXITED)`—block until the child behind
/// `pidfd` exits and reap it.
///
/// Only for children known to be exiting (a failed spawn) and for tests.
pub fn wait_pidfd_blocking(pidfd: BorrowedFd<'_>) -> io::Result<ExitStatus> {
    let fd = pidfd.as_raw_fd() as libc::id_t;
    match waitid(libc::P_PIDFD, fd, libc::WEXITED)? {
        Some((_, status)) => Ok(status),
        None => Err(io::Error::other("waitid returned no child")),
    }
}

/// `waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)`—peek at one exited
/// child without reaping it.
///
/// Returns `None` when no child has exited (or there are no children at all:
/// `ECHILD` is folded into `None`). The caller dispatches: an owned pid is
/// handled through its pidfd, anything else is reaped with [`reap_pid`].
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/waitid.2.html)
pub fn peek_any() -> io::Result<Option<(u32, ExitStatus)>> {
    match waitid(
        libc::P_ALL,
        0,
        libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
    ) {
        Err(e) if e.raw_os_error() == Some(libc::ECHILD) => Ok(None),
        other => other,
    }
}

/// `waitid(P_PID, pid, &info, WEXITED | WNOHANG)`—reap one stray child whose
/// exit [`peek_any`] reported.
///
/// Never call this for a pid that has a pidfd in the process table: reap
/// owned children through [`crate::sys::pidfd::wait_pidfd`] instead.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/waitid.2.html)
pub fn reap_pid(pid: u32) -> io::Result<Option<ExitStatus>> {
    Ok(waitid(
        libc::P_PID,
        pid as libc::id_t,
        libc::WEXITED | libc::WNOHANG,
    )?
    .map(|(_, s)| s))
}

/// `waitid(P_PID, pid, &info, WEXITED)`—block until child `pid` exits and reap
/// it. Only for a child that has no pidfd and was just killed.
pub(crate) fn reap_pid_blocking(pid: u32) -> io::Result<Option<ExitStatus>> {
    Ok(waitid(libc::P_PID, pid as libc::id_t, libc::WEXITED)?.map(|(_, s)| s))
}
