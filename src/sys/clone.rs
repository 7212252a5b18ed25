//! Creating children, each with a pidfd from the start:
//! - no cgroup: `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)` on a small
//!   stack of its own, as `posix_spawn` does: no page tables or memory are
//!   copied, and we wait only until the child calls `execve` or exits;
//! - into a cgroup: `clone3(CLONE_PIDFD | CLONE_INTO_CGROUP)`, fork-like,
//!   because glibc has no public `clone3` that takes a stack;
//! - when either is refused: `fork(2)` + `pidfd_open(2)`.
//!
//! All of them run a child closure that must never return. A raw clone
//! bypasses glibc's fork bookkeeping (atfork handlers, resetting the thread
//! list and internal locks), and the vfork child even shares our memory and
//! thread pointer, so the child may only do async-signal-safe work until
//! `execve`: no allocation, no locks, no std facility that may lock, no
//! writes to memory the parent reads later except its own stack, and no glibc
//! wrapper that talks to other threads (`setuid`/`setgroups` broadcast to
//! threads: use the per-thread raw syscalls in [`crate::sys::cred`]). The
//! fork fallback has the same contract so one child routine serves all three.

use std::cell::RefCell;
use std::convert::Infallible;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{cvt, pidfd, wait};

/// Set once `clone3` answered `ENOSYS`/`EPERM` (old kernel, seccomp profile):
/// later spawns go straight to the fallback.
static CLONE3_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// Set once `clone(CLONE_PIDFD)` was refused (kernel before 5.2, seccomp).
static VFORK_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

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
    /// Which way the child was made.
    pub via: Via,
}

/// The system call that made a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)`.
    Vfork,
    /// `clone3(CLONE_PIDFD | CLONE_INTO_CGROUP)`.
    Clone3,
    /// `fork` + `pidfd_open`.
    Fork,
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

/// Create a child: without a cgroup a vfork-like `clone`, into one `clone3`
/// (unless `method` is [`CloneMethod::Fork`] or the call was found
/// unavailable), then `fork` + `pidfd_open` when those are refused.
///
/// `child` runs in the new process and must not return (it ends in `execve`
/// or `_exit`); it must be async-signal-safe (see the module docs). With the
/// vfork-like clone this returns only once the child has called `execve` or
/// exited.
///
/// `share_files`: the child shares our descriptor table (`CLONE_FILES`;
/// with `clone3` also `CLONE_VFORK`, so that we are suspended while it
/// does) instead of getting a copy of it, and must take one of its own
/// first thing ([`super::fd::close_range_unshare`]). The fork fallback
/// copies the table as always.
pub fn spawn_child<F>(
    method: CloneMethod,
    cgroup: Option<BorrowedFd<'_>>,
    share_files: bool,
    child: F,
) -> io::Result<Cloned>
where
    F: FnOnce() -> Infallible,
{
    let mut child = Some(child);
    if method == CloneMethod::Auto && cgroup.is_none() && !VFORK_UNAVAILABLE.load(Ordering::Relaxed)
    {
        match vfork_pidfd(&mut child, share_files) {
            Ok((pid, pidfd)) => {
                return Ok(Cloned {
                    pid,
                    pidfd,
                    in_cgroup: false,
                    via: Via::Vfork,
                })
            }
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSYS | libc::EPERM | libc::EINVAL)
                ) =>
            {
                VFORK_UNAVAILABLE.store(true, Ordering::Relaxed);
            }
            Err(e) => return Err(e),
        }
    }
    // The vfork path hands the closure over only when a child ran it.
    let child = child.expect("spawn_child: closure consumed without a child");
    if method == CloneMethod::Auto
        && cgroup.is_some()
        && !CLONE3_UNAVAILABLE.load(Ordering::Relaxed)
    {
        match clone3_pidfd(cgroup, share_files) {
            Ok(Some((pid, pidfd))) => {
                return Ok(Cloned {
                    pid,
                    pidfd,
                    in_cgroup: true,
                    via: Via::Clone3,
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
                via: Via::Fork,
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
fn clone3_pidfd(
    cgroup: Option<BorrowedFd<'_>>,
    share_files: bool,
) -> io::Result<Option<(u32, OwnedFd)>> {
    let mut pidfd: libc::c_int = -1;
    // Sharing the table is only sound while we wait for the child to exec.
    let shared = if share_files {
        (libc::CLONE_FILES | libc::CLONE_VFORK) as u64
    } else {
        0
    };
    let mut args = CloneArgs {
        flags: libc::CLONE_PIDFD as u64 | shared,
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

/// Size of the vfork child's stack. The child runs only `child_main`-like
/// code with small frames; 256 KiB leaves room for unoptimised builds, and
/// only the touched pages cost memory.
const CHILD_STACK_SIZE: usize = 256 * 1024;

/// An `mmap`ed stack for vfork children with a guard page at its low end
/// (an overflow kills the child, never writes into our memory).
struct ChildStack {
    base: *mut libc::c_void,
    len: usize,
}

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        let page = rustix::param::page_size();
        let len = CHILD_STACK_SIZE + page;
        // SAFETY: a fresh anonymous private mapping; no existing memory is
        // affected.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the first page lies inside the mapping we just made.
        cvt(unsafe { libc::mprotect(base, page, libc::PROT_NONE) })?;
        Ok(stack)
    }

    /// The initial stack pointer (stacks grow down on every target we build).
    fn top(&self) -> *mut libc::c_void {
        // SAFETY: one past the end of our own mapping.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping this value owns.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

thread_local! {
    /// One stack per spawning thread, reused: a vfork child is done with it
    /// by the time `clone` returns in the parent.
    static CHILD_STACK: RefCell<Option<ChildStack>> = const { RefCell::new(None) };
}

/// The vfork child's entry: take the closure out of the parent's slot (we
/// share its memory; the parent is suspended) and run it.
extern "C" fn vfork_entry<F: FnOnce() -> Infallible>(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `&mut Option<F>` that `vfork_pidfd` passed and
    // keeps alive while it is suspended; no one else touches it meanwhile.
    let slot = unsafe { &mut *arg.cast::<Option<F>>() };
    match slot.take() {
        Some(child) => run_child(child),
        None => super::exec::exit_now(127),
    }
}

/// `clone(vfork_entry, stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
/// slot, &pidfd)`—what `posix_spawn` does, plus a pidfd.
///
/// On success the child has taken the closure out of `slot`; on error it is
/// still there. All signals are blocked around the call so that no handler of
/// ours can run in the child on the shared memory before it resets them.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/clone.2.html)
fn vfork_pidfd<F: FnOnce() -> Infallible>(
    slot: &mut Option<F>,
    share_files: bool,
) -> io::Result<(u32, OwnedFd)> {
    let stack = match CHILD_STACK.with(|s| s.borrow_mut().take()) {
        Some(stack) => stack,
        None => ChildStack::new()?,
    };
    let mut pidfd: libc::c_int = -1;
    // SAFETY: an all-zero `sigset_t` is a valid (empty) set.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: sigfillset and pthread_sigmask only write the sets we pass.
    unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    let mut flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD;
    if share_files {
        flags |= libc::CLONE_FILES;
    }
    // The slot is only read through `arg` from here until clone returns.
    let arg: *mut Option<F> = slot;
    // SAFETY: the stack is a live mapping of ours that nothing else uses;
    // with CLONE_VFORK this thread is suspended until the child has exec'd or
    // exited, so the slot, the stack and `pidfd` outlive every use by the
    // child; the entry function only does what the module docs allow.
    let ret = unsafe {
        libc::clone(
            vfork_entry::<F>,
            stack.top(),
            flags,
            arg.cast(),
            &mut pidfd as *mut libc::c_int,
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: restoring the mask saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, ptr::null_mut()) };
    CHILD_STACK.with(|s| *s.borrow_mut() = Some(stack));
    if ret < 0 {
        return Err(err);
    }
    // SAFETY: with CLONE_PIDFD the kernel stored a new, open, close-on-exec
    // descriptor in `pidfd` that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok((ret as u32, pidfd))
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

/// Whether the vfork-like `clone` is still believed available.
pub fn vfork_available() -> bool {
    !VFORK_UNAVAILABLE.load(Ordering::Relaxed)
}
