//! `prctl(2)` process attributes the daemon needs.

use std::io;

/// `prctl(PR_SET_CHILD_SUBREAPER, 1)`—become the reaper of orphaned
/// descendants, so they are reparented to us rather than to PID 1.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/PR_SET_CHILD_SUBREAPER.2const.html)
pub fn set_child_subreaper() -> io::Result<()> {
    // rustix passes the pid through as the (nonzero = enable) argument.
    Ok(rustix::process::set_child_subreaper(Some(
        rustix::process::getpid(),
    ))?)
}

/// `prctl(PR_GET_CHILD_SUBREAPER, &flag)`—whether we are a child subreaper.
pub fn is_child_subreaper() -> io::Result<bool> {
    Ok(rustix::process::child_subreaper()?.is_some())
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`—`execve` can no longer grant privileges
/// (setuid bits and file capabilities are ignored); inherited by every
/// descendant and never undone. Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/PR_SET_NO_NEW_PRIVS.2const.html)
pub fn set_no_new_privs() -> io::Result<()> {
    Ok(rustix::thread::set_no_new_privs(true)?)
}
