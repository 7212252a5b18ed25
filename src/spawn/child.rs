//! The child between clone/fork and `execve`: a separate world.
//!
//! Everything here runs in the new process before `execve`, possibly after a
//! raw `clone3` that skipped libc's fork bookkeeping. So: no allocation, no
//! locks, no formatting machinery, only `crate::sys` functions documented as
//! async-signal-safe, and only data [`Prepared`] built before the fork. Before
//! each step the stage is known; a failing step writes `(stage, errno)` to the
//! close-on-exec report pipe, writes Supervisor's `supervisor: couldn't ...`
//! line to fd 2, and `_exit(127)`s.

use std::convert::Infallible;
use std::io;
use std::os::fd::RawFd;

use super::{Prepared, UserPlan};
use crate::sys;

/// The step the child was at when it failed, as sent over the report pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ExecStage {
    /// Resetting signal dispositions and the signal mask.
    Signals = 1,
    /// `setpgid(0, 0)`.
    ProcessGroup = 2,
    /// `dup2` of stdin/stdout/stderr.
    Stdio = 3,
    /// `close_range(3, ~0)`.
    CloseFds = 4,
    /// `user=` while the daemon is not root (Supervisor refuses).
    NotRoot = 5,
    /// `setgroups`.
    Groups = 6,
    /// `setresgid`.
    Gid = 7,
    /// `setresuid`.
    Uid = 8,
    /// Clearing the capability sets.
    Capabilities = 9,
    /// `chdir(directory)`.
    Chdir = 10,
    /// `execve`.
    Exec = 11,
    /// Writing `0` to the leaf's `cgroup.procs` (fork fallback; a no-op
    /// after `CLONE_INTO_CGROUP`).
    Cgroup = 12,
    /// `capabilities`: keeping them across `setresuid` and raising them
    /// as ambient capabilities.
    AmbientCapabilities = 13,
    /// `no_new_privs`: `prctl(PR_SET_NO_NEW_PRIVS)`.
    NoNewPrivs = 14,
    /// Giving back the soft `RLIMIT_NOFILE` the daemon was started with.
    Limits = 15,
}

impl ExecStage {
    const ALL: [ExecStage; 15] = [
        ExecStage::Signals,
        ExecStage::ProcessGroup,
        ExecStage::Stdio,
        ExecStage::CloseFds,
        ExecStage::NotRoot,
        ExecStage::Groups,
        ExecStage::Gid,
        ExecStage::Uid,
        ExecStage::Capabilities,
        ExecStage::Chdir,
        ExecStage::Exec,
        ExecStage::Cgroup,
        ExecStage::AmbientCapabilities,
        ExecStage::NoNewPrivs,
        ExecStage::Limits,
    ];

    pub(super) fn from_u32(raw: u32) -> Option<ExecStage> {
        ExecStage::ALL.into_iter().find(|s| *s as u32 == raw)
    }

    /// Supervisor's fixed reason for the `user=` steps (its `drop_privileges`
    /// texts), used instead of an errno name.
    fn fixed_reason(self) -> Option<&'static str> {
        match self {
            ExecStage::NotRoot => Some("Can't drop privilege as nonroot user"),
            ExecStage::Groups => Some("Could not set groups of effective user"),
            ExecStage::Gid => Some("Could not set group id of effective user"),
            ExecStage::Capabilities => Some("Could not clear capabilities"),
            _ => None,
        }
    }

    /// The message up to the reason, e.g. `couldn't chdir to /nope: `.
    pub(super) fn prefix(self, prep: &Prepared) -> &[u8] {
        match self {
            ExecStage::Signals => b"couldn't reset signals: ",
            ExecStage::Cgroup => b"couldn't join cgroup: ",
            ExecStage::AmbientCapabilities => b"couldn't keep capabilities: ",
            ExecStage::NoNewPrivs => b"couldn't set no_new_privs: ",
            ExecStage::ProcessGroup => b"couldn't setpgid: ",
            ExecStage::Stdio => b"couldn't set up stdin/stdout/stderr: ",
            ExecStage::CloseFds => b"couldn't close inherited file descriptors: ",
            ExecStage::Limits => b"couldn't set RLIMIT_NOFILE: ",
            ExecStage::NotRoot
            | ExecStage::Groups
            | ExecStage::Gid
            | ExecStage::Uid
            | ExecStage::Capabilities => &prep.msg_setuid,
            ExecStage::Chdir => &prep.msg_chdir,
            ExecStage::Exec => &prep.msg_exec,
        }
    }

    /// The whole message without `supervisor: ` and newline (parent side).
    pub(super) fn message(self, prep: &Prepared, errno: i32) -> String {
        let reason = match self.fixed_reason() {
            Some(r) => r.to_owned(),
            None => sys::errno::errno_text(errno),
        };
        format!("{}{reason}", String::from_utf8_lossy(self.prefix(prep)))
    }
}

/// The raw descriptors the child works with.
pub(super) struct ChildFds {
    pub stdio: [RawFd; 3],
    /// Write end of the report pipe; close-on-exec and at least 3.
    pub report: RawFd,
    /// The leaf's `cgroup.procs` opened for writing, or -1.
    pub cgroup_procs: RawFd,
    /// `(soft, hard)` RLIMIT_NOFILE to set (`None` in either: unlimited),
    /// when the daemon's own differs from what children get.
    pub nofile: Option<(Option<u64>, Option<u64>)>,
    /// The child shares the daemon's descriptor table (`CLONE_FILES`, see
    /// `slots`) and everything it needs is below this number: its first
    /// step is to take a table of its own with only those.
    pub own_table_below: Option<u32>,
}

/// The child's whole life: set up, `execve`, or report and `_exit(127)`.
pub(super) fn child_main(prep: &Prepared, fds: &ChildFds) -> Infallible {
    // Before the stdio step, messages go where the child's stderr will go.
    let mut errfd = fds.stdio[2];
    let Err((stage, err)) = setup_and_exec(prep, fds, &mut errfd);
    let errno = err.raw_os_error().unwrap_or(0);

    let mut report = [0u8; 8];
    report[..4].copy_from_slice(&(stage as u32).to_le_bytes());
    report[4..].copy_from_slice(&errno.to_le_bytes());
    let _ = sys::fd::write_all(fds.report, &report);

    let _ = sys::fd::write_all(errfd, b"supervisor: ");
    let _ = sys::fd::write_all(errfd, stage.prefix(prep));
    match stage
        .fixed_reason()
        .or_else(|| sys::errno::errno_name(errno))
    {
        Some(reason) => {
            let _ = sys::fd::write_all(errfd, reason.as_bytes());
        }
        None => {
            let mut buf = [0u8; 12];
            let _ = sys::fd::write_all(errfd, decimal(errno, &mut buf));
        }
    }
    let _ = sys::fd::write_all(errfd, b"\nsupervisor: child process was not spawned\n");
    sys::exec::exit_now(127)
}

/// Returns only on failure, with the failing stage.
fn setup_and_exec(
    prep: &Prepared,
    fds: &ChildFds,
    errfd: &mut RawFd,
) -> Result<Infallible, (ExecStage, io::Error)> {
    use ExecStage as S;
    let at = |stage: ExecStage| move |e: io::Error| (stage, e);

    // A table of our own first: until then it is the daemon's.
    if let Some(end) = fds.own_table_below {
        sys::fd::close_range_unshare(end).map_err(at(S::CloseFds))?;
    }
    // Join the leaf first, before anything the program could observe: on
    // the fork fallback this is how the child gets into its cgroup (never
    // moved after exec); after CLONE_INTO_CGROUP it is already there.
    if fds.cgroup_procs >= 0 {
        sys::fd::write_all(fds.cgroup_procs, b"0").map_err(at(S::Cgroup))?;
    }
    sys::signal::reset_for_exec().map_err(at(S::Signals))?;
    sys::exec::setpgid_self().map_err(at(S::ProcessGroup))?;

    // Move any source that sits on 0..=2 out of the way first, so no dup2
    // below clobbers a source still needed (e.g. a daemon without stdio).
    let mut src = fds.stdio;
    for fd in src.iter_mut() {
        if *fd < 3 {
            *fd = sys::fd::dup_raw_at_least(*fd, 3).map_err(at(S::Stdio))?;
        }
    }
    for (target, fd) in (0..).zip(src) {
        sys::fd::dup2(fd, target).map_err(at(S::Stdio))?;
    }
    *errfd = 2;

    // Everything above 2 goes, except the report pipe (close-on-exec).
    let report = fds.report as u32;
    sys::fd::close_range(3, report - 1).map_err(at(S::CloseFds))?;
    sys::fd::close_range(report + 1, u32::MAX).map_err(at(S::CloseFds))?;
    if let Some((soft, hard)) = fds.nofile {
        sys::rlimit::set_nofile_raw(soft, hard).map_err(at(S::Limits))?;
    }

    let caps = prep.capabilities;
    match &prep.user {
        UserPlan::Keep => {}
        UserPlan::NotRoot => {
            return Err((
                S::NotRoot,
                io::Error::from_raw_os_error(crate::sys::errno::EPERM),
            ))
        }
        UserPlan::Drop { uid, gid, groups } => {
            if caps != 0 {
                // Permitted capabilities survive the uid change only so.
                sys::cred::keep_capabilities(true).map_err(at(S::AmbientCapabilities))?;
            }
            sys::cred::set_groups(groups).map_err(at(S::Groups))?;
            sys::cred::set_res_gid(*gid).map_err(at(S::Gid))?;
            sys::cred::set_res_uid(*uid).map_err(at(S::Uid))?;
            if caps == 0 {
                sys::cred::clear_capabilities().map_err(at(S::Capabilities))?;
            }
        }
    }
    if caps != 0 {
        // Exactly these, and ambient so that execve keeps them.
        sys::cred::set_ambient_capabilities(caps).map_err(at(S::AmbientCapabilities))?;
    }
    if let Some(dir) = &prep.directory {
        sys::exec::chdir(dir).map_err(at(S::Chdir))?;
    }
    if let Some(mask) = prep.umask {
        sys::exec::umask(mask);
    }
    if prep.no_new_privs {
        sys::prctl::set_no_new_privs().map_err(at(S::NoNewPrivs))?;
    }
    Err((
        S::Exec,
        sys::exec::execve(&prep.filename, &prep.argv, &prep.envp),
    ))
}

/// Formats `n` in decimal into `buf` without allocating.
fn decimal(n: i32, buf: &mut [u8; 12]) -> &[u8] {
    let mut v = i64::from(n).unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_formats() {
        let mut b = [0u8; 12];
        assert_eq!(decimal(0, &mut b), b"0");
        assert_eq!(decimal(4095, &mut b), b"4095");
        assert_eq!(decimal(i32::MIN, &mut b), b"-2147483648");
    }

    #[test]
    fn stages_roundtrip() {
        for s in ExecStage::ALL {
            assert_eq!(ExecStage::from_u32(s as u32), Some(s));
        }
        assert_eq!(ExecStage::from_u32(0), None);
    }
}
