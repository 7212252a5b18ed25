//! The only module allowed `unsafe`: thin, documented syscall wrappers.
//!
//! One file per syscall family. Each wrapper's first doc line names the exact
//! call; every wrapper returns `io::Result` (an `io::Error` built from a raw
//! errno never allocates, so the same wrappers serve the child between fork
//! and exec). Safe `rustix` wrappers are used where they exist; raw `libc`
//! only where none does.
//!
//! Functions documented as *async-signal-safe* may be called in the child
//! between `clone3`/`fork` and `execve`: they do not allocate, take no locks
//! and use only pre-built `CStr`s and slices.
//!
//! It owns no state and calls only the kernel (through `rustix`, `nix`
//! for the user database and the signalfd, `libc` where neither has the
//! call); everything that needs a system call calls it.
#![allow(unsafe_code)]

pub mod clone;
pub mod cred;
pub mod daemon;
pub mod dgram;
pub mod errno;
pub mod exec;
pub mod fd;
pub mod inotify;
pub mod malloc;
pub mod net;
pub mod pidfd;
pub mod prctl;
pub mod rlimit;
pub mod signal;
pub mod socket;
pub mod term;
pub mod time;
pub mod user;
pub mod wait;

use std::io;

/// Turns a `-1`-on-error libc return value into `io::Result`, reading `errno`.
///
/// Async-signal-safe: `last_os_error` reads the thread's errno and does not
/// allocate.
fn cvt<T: IsMinusOne>(ret: T) -> io::Result<T> {
    if ret.is_minus_one() {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

trait IsMinusOne {
    fn is_minus_one(&self) -> bool;
}

impl IsMinusOne for i32 {
    fn is_minus_one(&self) -> bool {
        *self == -1
    }
}

impl IsMinusOne for i64 {
    fn is_minus_one(&self) -> bool {
        *self == -1
    }
}

impl IsMinusOne for isize {
    fn is_minus_one(&self) -> bool {
        *self == -1
    }
}

#[cfg(test)]
pub(crate) mod tests;
