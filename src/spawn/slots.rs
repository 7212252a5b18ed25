//! Low descriptor numbers kept for the descriptors a child needs, so that
//! it can start with a small copy of the daemon's descriptor table.
//!
//! A child made without `CLONE_FILES` gets a copy of every descriptor the
//! daemon holds (a reference taken on each), and then closes all of them
//! but its stdio: with thousands of programs, two walks of thousands of
//! descriptors per spawn, so a batch of N spawns cost O(N²). Instead, just
//! before a spawn, the descriptors the child needs (its stdio, the report
//! pipe, `cgroup.procs`) are duplicated onto [`SLOTS`] numbers reserved low
//! in the table at start-up; the child shares the daemon's table
//! (`CLONE_FILES`, with the daemon suspended as for vfork) and its first
//! step takes a table of its own with only the descriptors below
//! [`LowSlots::end`]. After the spawn the slots point at `/dev/null` again.
//!
//! The slots are process-wide (a table is), behind a mutex held for the
//! whole spawn; [`reserve`] makes them, early, while the numbers are low.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Mutex;

use crate::sys;

/// stdin, stdout, stderr, the report pipe, `cgroup.procs`.
pub const SLOTS: usize = 5;

/// The reserved descriptors, each a `/dev/null` placeholder between spawns.
pub struct LowSlots {
    fds: [OwnedFd; SLOTS],
    null: OwnedFd,
}

static RESERVED: Mutex<Option<LowSlots>> = Mutex::new(None);

impl LowSlots {
    fn new() -> io::Result<LowSlots> {
        let null = sys::fd::open_dev_null()?;
        let one = || sys::fd::dup_cloexec_at_least(&null, 3);
        let fds = [one()?, one()?, one()?, one()?, one()?];
        Ok(LowSlots { fds, null })
    }

    /// The first number above every slot: what the child keeps is below.
    pub fn end(&self) -> u32 {
        let top = self.fds.iter().map(AsRawFd::as_raw_fd).max().unwrap_or(2);
        top as u32 + 1
    }

    /// Put `fds` into the slots (in order; `None` leaves a slot on
    /// `/dev/null`) and return their numbers there (-1 for `None`).
    pub fn fill(&mut self, fds: [Option<BorrowedFd<'_>>; SLOTS]) -> io::Result<[RawFd; SLOTS]> {
        let mut out = [-1; SLOTS];
        for (i, fd) in fds.into_iter().enumerate() {
            if let Some(fd) = fd {
                sys::fd::dup_onto(fd, &mut self.fds[i])?;
                out[i] = self.fds[i].as_raw_fd();
            }
        }
        Ok(out)
    }

    /// Back to `/dev/null`: the daemon keeps no reference to what a child
    /// was given (a pipe's write end here would hide its end of file).
    pub fn clear(&mut self) {
        for slot in &mut self.fds {
            let _ = sys::fd::dup_onto(self.null.as_fd(), slot);
        }
    }
}

/// Reserve the slots now, while the daemon's descriptor numbers are low
/// (the reactor calls this before it opens anything per process). Later
/// calls keep the first reservation.
pub fn reserve() -> io::Result<()> {
    let mut slots = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
    if slots.is_none() {
        *slots = Some(LowSlots::new()?);
    }
    Ok(())
}

/// Run `f` with the slots (reserved now if they were not), or with `None`
/// when they cannot be made (out of descriptors: the spawn then copies the
/// whole table, as before).
pub fn with<T>(f: impl FnOnce(Option<&mut LowSlots>) -> T) -> T {
    let mut slots = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
    if slots.is_none() {
        *slots = LowSlots::new().ok();
    }
    f(slots.as_mut())
}
