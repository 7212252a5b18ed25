//! Signal masks and `signalfd(2)` for the daemon, and the child's reset of
//! masks and dispositions before `execve`.
//!
//! The daemon blocks [`DAEMON_SIGNALS`] before any thread starts and reads
//! them from a non-blocking signalfd. A blocked mask and `SIG_IGN`
//! dispositions survive `execve` (and Rust's runtime sets `SIGPIPE` to
//! `SIG_IGN`), so every child calls [`reset_for_exec`] first, which leaves
//! only supervisord's two ignored signals ignored.

use std::io;
use std::ptr;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::SfdFlags;

/// Signal numbers the rest of the crate names.
pub use libc::{SIGABRT, SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGQUIT, SIGTERM, SIGTTOU, SIGUSR2};

/// The set of the given signal numbers (unknown numbers are left out).
pub fn sigset(sigs: &[i32]) -> SigSet {
    let mut set = SigSet::empty();
    for &s in sigs {
        if let Ok(sig) = Signal::try_from(s) {
            set.add(sig);
        }
    }
    set
}
/// The daemon's signalfd (nix's owner of the fd).
pub use nix::sys::signalfd::SignalFd;

use super::cvt;

/// The signals the daemon takes through its signalfd.
pub const DAEMON_SIGNALS: [Signal; 6] = [
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGHUP,
    Signal::SIGUSR2,
];

/// The set of [`DAEMON_SIGNALS`].
pub fn daemon_sigset() -> SigSet {
    let mut set = SigSet::empty();
    for sig in DAEMON_SIGNALS {
        set.add(sig);
    }
    set
}

/// `sigaction(sig, SIG_DFL)` for each of [`DAEMON_SIGNALS`]. An ignored
/// SIGCHLD inherited from a launcher makes the kernel reap our children
/// itself, and `waitid` on their pidfds then fails with ECHILD: the exit
/// status is lost and the program stays RUNNING. (An inherited ignored
/// SIGINT or SIGQUIT does no harm while blocked, since the kernel queues
/// blocked signals whatever their disposition, but a default one is what
/// supervisord's own handlers amount to.)
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/sigaction.2.html)
pub fn default_daemon_dispositions() -> io::Result<()> {
    for sig in DAEMON_SIGNALS {
        // SAFETY: SIG_DFL runs no code of ours, so no handler can observe
        // a half-set state; nix checks the signal number.
        unsafe { nix::sys::signal::signal(sig, nix::sys::signal::SigHandler::SigDfl) }?;
    }
    Ok(())
}

/// `pthread_sigmask(SIG_BLOCK, set, NULL)`—block `set` in the calling thread
/// (threads created later inherit the mask). Call before starting threads.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/pthread_sigmask.3.html)
pub fn block(set: &SigSet) -> io::Result<()> {
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(set), None)?;
    Ok(())
}

/// `pthread_sigmask(SIG_UNBLOCK, set, NULL)`—unblock `set` in the calling thread.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/pthread_sigmask.3.html)
pub fn unblock(set: &SigSet) -> io::Result<()> {
    nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(set), None)?;
    Ok(())
}

/// `signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC)`—a new signalfd for `set`.
///
/// The signals must already be blocked (see [`block`]) or they are delivered
/// normally instead.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/signalfd.2.html)
pub fn signalfd(set: &SigSet) -> io::Result<SignalFd> {
    Ok(SignalFd::with_flags(
        set,
        SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
    )?)
}

/// `read(signalfd, &siginfo, sizeof siginfo)`—the next pending signal number,
/// or `None` when none is pending (`EAGAIN`). Drain until `None`.
pub fn read_signal(fd: &SignalFd) -> io::Result<Option<i32>> {
    Ok(fd.read_signal()?.map(|info| info.ssi_signo as i32))
}

/// Set `sig` to `SIG_IGN` in this process (tests: an inherited disposition).
#[cfg(test)]
pub fn ignore(sig: i32) {
    // SAFETY: installing SIG_IGN has no memory-safety requirements.
    unsafe { libc::signal(sig, libc::SIG_IGN) };
}

/// Signals a child starts with ignored, as under supervisord: Python ignores
/// both and `SIG_IGN` survives `execve`, so a program there gets `EPIPE` from
/// a write to a closed pipe or socket, not death by SIGPIPE (systemd's
/// `IgnoreSIGPIPE=yes` default does the same), and `EFBIG` past
/// `RLIMIT_FSIZE`, not death by SIGXFSZ.
pub const CHILD_IGNORED: [i32; 2] = [libc::SIGPIPE, libc::SIGXFSZ];

/// `rt_sigaction(sig, SIG_DFL)` for every signal but [`CHILD_IGNORED`] (set to
/// `SIG_IGN`), then `rt_sigprocmask(SIG_SETMASK, {}, NULL)`—give the child
/// supervisord's dispositions and an empty mask before `execve`.
///
/// Dispositions first, so no inherited handler can run once signals are
/// unblocked. The raw syscall, not glibc's `sigaction`, because glibc refuses
/// its internal signals 32 and 33, and an ignored 32 inherited from our own
/// parent would otherwise reach every program. Errors (`SIGKILL`, `SIGSTOP`)
/// are ignored; only the mask reset can fail.
///
/// Async-signal-safe.
pub fn reset_for_exec() -> io::Result<()> {
    // The kernel's `struct sigaction` is {handler, flags, [restorer,] mask};
    // SIG_DFL is 0, so an all-zero buffer at least that large is "SIG_DFL,
    // no flags, empty mask" whatever the architecture's field order.
    let dfl = [0u64; 4];
    // The kernel's sigset_t: _NSIG (64) bits on every architecture we build for.
    const KERNEL_SIGSET_SIZE: usize = 8;
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `dfl` is a readable, zeroed kernel `struct sigaction`; a
        // NULL old-action pointer is allowed. Installing SIG_DFL has no
        // memory-safety requirements.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                dfl.as_ptr(),
                ptr::null_mut::<u64>(),
                KERNEL_SIGSET_SIZE,
            )
        };
    }
    // SAFETY: an all-zero `sigaction` is "no flags, empty mask"; the handler
    // is set to SIG_IGN before use.
    let mut ign: libc::sigaction = unsafe { std::mem::zeroed() };
    ign.sa_sigaction = libc::SIG_IGN;
    for sig in CHILD_IGNORED {
        // SAFETY: `ign` is a valid `sigaction`; a NULL old-action pointer is
        // allowed. glibc's `sigaction` only translates the struct and makes
        // the syscall (async-signal-safe).
        unsafe { libc::sigaction(sig, &ign, ptr::null_mut()) };
    }
    // SAFETY: an all-zero `sigset_t` is the empty set.
    let empty: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `empty` is a valid set; a NULL old-set pointer is allowed.
    cvt(unsafe { libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut()) }).map(drop)
}
