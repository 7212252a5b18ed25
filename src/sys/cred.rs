//! Credentials: `setgroups(2)`, `setresgid(2)`, `setresuid(2)`, `capset(2)`,
//! the ambient capability set and the keep-capabilities flag.
//!
//! These are the raw, per-thread syscalls (rustix `thread::set_thread_*`),
//! not glibc's wrappers: glibc broadcasts credential changes to every thread
//! it knows about, and after a raw `clone3` it still "knows" the parent's
//! threads. In the single-threaded child, per-thread is per-process.
//! All functions here are async-signal-safe.

use std::io;

/// A group id as `set_groups` takes it.
pub use rustix::process::Gid;
use rustix::process::Uid;
use rustix::thread::{CapabilitySet, CapabilitySets};

/// `getuid()`—the real uid of the calling process.
pub fn getuid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Turns raw gids into the form [`set_groups`] takes (build before fork).
pub fn gids(raw: &[u32]) -> Vec<Gid> {
    raw.iter().map(|&g| Gid::from_raw(g)).collect()
}

/// `setgroups(len, groups)`—set the supplementary group list (thread-local
/// syscall). Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/setgroups.2.html)
pub fn set_groups(groups: &[Gid]) -> io::Result<()> {
    Ok(rustix::thread::set_thread_groups(groups)?)
}

/// `setresgid(gid, gid, gid)`—set real, effective and saved gid.
/// Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/setresgid.2.html)
pub fn set_res_gid(gid: u32) -> io::Result<()> {
    let gid = Gid::from_raw(gid);
    Ok(rustix::thread::set_thread_res_gid(gid, gid, gid)?)
}

/// `setresuid(uid, uid, uid)`—set real, effective and saved uid.
/// Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/setresuid.2.html)
pub fn set_res_uid(uid: u32) -> io::Result<()> {
    let uid = Uid::from_raw(uid);
    Ok(rustix::thread::set_thread_res_uid(uid, uid, uid)?)
}

/// `capset(v3, 0, {0, 0, 0})` then `prctl(PR_CAP_AMBIENT,
/// PR_CAP_AMBIENT_CLEAR_ALL)`—empty the effective, permitted, inheritable
/// and ambient capability sets. Lowering never needs privilege.
///
/// After `setresuid` to a non-root uid the kernel already clears permitted,
/// effective and ambient, but not inheritable: file capabilities could then
/// hand capabilities back at `execve`. Async-signal-safe.
///
/// # References
///  - [capset](https://man7.org/linux/man-pages/man2/capset.2.html)
///  - [PR_CAP_AMBIENT](https://man7.org/linux/man-pages/man2/PR_CAP_AMBIENT.2const.html)
pub fn clear_capabilities() -> io::Result<()> {
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: CapabilitySet::empty(),
            permitted: CapabilitySet::empty(),
            inheritable: CapabilitySet::empty(),
        },
    )?;
    match rustix::thread::clear_ambient_capability_set() {
        // Kernels before 4.3 have no ambient set: nothing to clear.
        Err(rustix::io::Errno::INVAL) => Ok(()),
        other => Ok(other?),
    }
}

/// `prctl(PR_SET_KEEPCAPS, keep)`—whether the permitted capabilities
/// survive the change of every uid from 0 to non-zero (`setresuid`); the
/// effective set is emptied all the same, and the flag is cleared at
/// `execve`. Async-signal-safe.
///
/// # References
///  - [PR_SET_KEEPCAPS](https://man7.org/linux/man-pages/man2/PR_SET_KEEPCAPS.2const.html)
pub fn keep_capabilities(keep: bool) -> io::Result<()> {
    Ok(rustix::thread::set_keep_capabilities(keep)?)
}

/// `capset(v3, 0, {mask, mask, mask})`, `prctl(PR_CAP_AMBIENT,
/// PR_CAP_AMBIENT_CLEAR_ALL)`, then `prctl(PR_CAP_AMBIENT,
/// PR_CAP_AMBIENT_RAISE, n)` for each capability `n` in `mask` (bit `n`):
/// exactly those capabilities, effective now and ambient, so that they
/// survive `execve` of a program without file capabilities. Each must
/// be in the permitted set already (kept across `setresuid` by
/// [`keep_capabilities`]). Allocates nothing; async-signal-safe.
///
/// # References
///  - [capset](https://man7.org/linux/man-pages/man2/capset.2.html)
///  - [PR_CAP_AMBIENT](https://man7.org/linux/man-pages/man2/PR_CAP_AMBIENT.2const.html)
///  - [capabilities(7), "Ambient"](https://man7.org/linux/man-pages/man7/capabilities.7.html)
pub fn set_ambient_capabilities(mask: u64) -> io::Result<()> {
    let set = CapabilitySet::from_bits_retain(mask);
    rustix::thread::set_capabilities(
        None,
        CapabilitySets {
            effective: set,
            permitted: set,
            inheritable: set,
        },
    )?;
    rustix::thread::clear_ambient_capability_set()?;
    for n in 0..64 {
        if mask & (1 << n) != 0 {
            let one = CapabilitySet::from_bits_retain(1 << n);
            rustix::thread::configure_capability_in_ambient_set(one, true)?;
        }
    }
    Ok(())
}
