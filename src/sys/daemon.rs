//! Becoming a daemon the way supervisord does (spec §1.4 step 10).

use std::io;

/// `fork()`; the parent `_exit(0)`s, the child goes on: fds 0/1/2 to
/// `/dev/null`, `setsid()`, `umask(umask)`. (The caller changes directory,
/// so that it can log how that went.)
///
/// Must be called before any thread exists.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fork.2.html)
pub fn daemonize(umask: u32) -> io::Result<()> {
    let devnull = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    // SAFETY: the daemon is single-threaded here (documented precondition),
    // so the child may run arbitrary code after fork.
    match unsafe { libc::fork() } {
        -1 => return Err(io::Error::last_os_error()),
        0 => {}
        // SAFETY: `_exit` ends the parent without running destructors or
        // atexit handlers that belong to the child now.
        _ => unsafe { libc::_exit(0) },
    }
    let null = rustix::fd::AsFd::as_fd(&devnull);
    rustix::stdio::dup2_stdin(null)?;
    rustix::stdio::dup2_stdout(null)?;
    rustix::stdio::dup2_stderr(null)?;
    rustix::process::setsid()?;
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(umask));
    Ok(())
}

/// `kill(-pgid, sig)`: signal a whole process group. `sig` 0 only checks.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/kill.2.html)
pub fn killpg(pgid: u32, sig: i32) -> io::Result<()> {
    let pgid = i32::try_from(pgid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    if pgid <= 1 {
        // Never signal every process (-1) or our own group by accident.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: plain syscall on integers; the pgid is checked above.
    if unsafe { libc::kill(-pgid, sig) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `kill(pid, sig)`: signal one process (a pid read from `cgroup.procs`).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/kill.2.html)
pub fn kill(pid: u32, sig: i32) -> io::Result<()> {
    let pid = i32::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
    if pid <= 1 {
        // Never broadcast (-1, 0) or hit init by accident.
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    // SAFETY: plain syscall on integers; the pid is checked above.
    if unsafe { libc::kill(pid, sig) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
