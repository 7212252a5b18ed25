//! Creating children: `clone3(2)` with `CLONE_PIDFD` (and optionally
//! `CLONE_INTO_CGROUP`), falling back to `fork(2)` + `pidfd_open(2)`.
//!
//! Both return the pid and a pidfd in the parent and run a child closure that
//! must never return. A raw `clone3` bypasses glibc's fork bookkeeping (atfork
//! handlers, resetting the thread list and internal locks), so the child may
//! only do async-signal-safe work until `execve`: no allocation, no locks, no
//! std facility that may lock, and no glibc wrapper that talks to other
//! threads (`setuid`/`setgroups` broadcast to threads: use the per-thread raw
//! syscalls in [`crate::sys::cred`]). The fork fallback has the same contract
//! so one child routine serves both.

use std::convert::Infallible;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{cvt, pidfd, wait};

/// Set once `clone3` answered `ENOSYS`/`EPERM` (old kernel, seccomp profile):
/// later spawns go straight to the fallback.
static CLONE3_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// How to create the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CloneMethod {
    /// `clone3` when available, else `fork` + `pidfd_open`.
    #[default]
    Auto,
    /// Always `fork` + `pidfd_open` (tests exercise the fallback with this).
    Fork,
}

/// A child created by [`spawn_child`].
#[derive(Debug)]
pub struct Cloned {
    pub pid: u32,
    pub pidfd: OwnedFd,
    /// Whether the child started inside the requested cgroup
    /// (`CLONE_INTO_CGROUP`); `false` on the fork fallback, where the caller
    /// must move it itself.
    pub in_cgroup: bool,
    /// Whether `clone3` was used (`false`: the fork fallback).
    pub via_clone3: bool,
}

/// `CLONE_INTO_CGROUP` (Linux 5.7); libc's constant is an overflowing `c_int`.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Runs the child routine; it never returns (its type is uninhabited).
#[allow(unreachable_code)]
fn run_child<F: FnOnce() -> Infallible>(child: F) -> ! {
    match child() {}
}

/// `struct clone_args` up to `cgroup` (`CLONE_ARGS_SIZE_VER2`, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// Create a child: `clone3` first (unless `method` is [`CloneMethod::Fork`] or
/// clone3 was found unavailable), then `fork` + `pidfd_open` on `ENOSYS`/`EPERM`.
///
/// `child` runs in the new process and must not return (it ends in `execve`
/// or `_exit`); it must be async-signal-safe (see the module docs).
pub fn spawn_child<F>(
    method: CloneMethod,
    cgroup: Option<BorrowedFd<'_>>,
    child: F,
) -> io::Result<Cloned>
where
    F: FnOnce() -> Infallible,
{
    if method == CloneMethod::Auto && !CLONE3_UNAVAILABLE.load(Ordering::Relaxed) {
        match clone3_pidfd(cgroup) {
            Ok(Some((pid, pidfd))) => {
                return Ok(Cloned {
                    pid,
                    pidfd,
                    in_cgroup: cgroup.is_some(),
                    via_clone3: true,
                })
            }
            Ok(None) => run_child(child),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                CLONE3_UNAVAILABLE.store(true, Ordering::Relaxed);
            }
            Err(e) => return Err(e),
        }
    }
    match fork()? {
        Some(pid) => {
            let pidfd = match pidfd::pidfd_open(pid) {
                Ok(fd) => fd,
                Err(e) => {
                    // No pidfd, no tracking: take the child down again. It is
                    // ours and unreaped, so its pid cannot have been reused.
                    // SAFETY: plain kill(2) of our own unreaped child.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                    let _ = wait::reap_pid_blocking(pid);
                    return Err(e);
                }
            };
            Ok(Cloned {
                pid,
                pidfd,
                in_cgroup: false,
                via_clone3: false,
            })
        }
        None => run_child(child),
    }
}

/// `clone3({.flags = CLONE_PIDFD [| CLONE_INTO_CGROUP], .pidfd = &fd,
/// .exit_signal = SIGCHLD, .cgroup = cgroup_fd}, sizeof)`—fork-like clone
/// that returns the child's pidfd atomically.
///
/// Returns `Some((pid, pidfd))` in the parent and `None` in the child.
/// Requires Linux 5.3 (5.7 for `CLONE_INTO_CGROUP`).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/clone3.2.html)
fn clone3_pidfd(cgroup: Option<BorrowedFd<'_>>) -> io::Result<Option<(u32, OwnedFd)>> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: `args` is a valid, initialised `clone_args` of the size we pass;
    // `pidfd` outlives the call. Without CLONE_VM the child gets a private
    // copy of our memory (like fork), so returning here in the child and
    // continuing on the copied stack is sound; the child side's further
    // restrictions are the caller's contract (async-signal-safe only).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let pid = cvt(ret)?;
    if pid == 0 {
        return Ok(None);
    }
    // SAFETY: with CLONE_PIDFD the kernel stored a new, open, close-on-exec
    // descriptor in `pidfd` that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Some((pid as u32, pidfd)))
}

/// `fork()`—returns `Some(pid)` in the parent, `None` in the child.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/fork.2.html)
fn fork() -> io::Result<Option<u32>> {
    // SAFETY: glibc's fork runs its atfork handlers and leaves the child with
    // a consistent single-threaded libc; the caller's child routine then
    // restricts itself to async-signal-safe calls, as required after fork in
    // a possibly multi-threaded process.
    let pid = cvt(unsafe { libc::fork() })?;
    Ok((pid != 0).then_some(pid as u32))
}

/// Whether `clone3` is still believed available (false after it answered
/// `ENOSYS`/`EPERM`); for a one-time note in the main log.
pub fn clone3_available() -> bool {
    !CLONE3_UNAVAILABLE.load(Ordering::Relaxed)
}
