//! The child's last steps: `setpgid(2)`, `chdir(2)`, `umask(2)`,
//! `execve(2)`, `_exit(2)`, and [`CStrArray`], the pre-built `argv`/`envp`.

use std::ffi::{CStr, CString};
use std::io;
use std::ptr;
use std::sync::Arc;

use rustix::fs::Mode;

/// A NULL-terminated array of C strings (`argv` or `envp`), built before fork
/// so `execve` needs no allocation.
#[derive(Debug)]
pub struct CStrArray {
    /// Shared handles: an environment block reuses the daemon's strings.
    strings: Vec<Arc<CStr>>,
    /// Pointers into `strings`' heap buffers, then NULL.
    ptrs: Vec<*const libc::c_char>,
}

// SAFETY: `ptrs` only points into the immutable heap buffers that the
// `Arc<CStr>`s in `strings` keep alive as long as the struct; sharing or
// sending it is as safe as sharing or sending those `Arc`s themselves.
unsafe impl Send for CStrArray {}
// SAFETY: as above; the array is never mutated after construction.
unsafe impl Sync for CStrArray {}

impl CStrArray {
    pub fn new(strings: Vec<CString>) -> CStrArray {
        CStrArray::from_shared(strings.into_iter().map(Arc::from).collect())
    }

    /// An array of strings that may also be held elsewhere.
    pub fn from_shared(strings: Vec<Arc<CStr>>) -> CStrArray {
        let ptrs = strings
            .iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(ptr::null()))
            .collect();
        CStrArray { strings, ptrs }
    }

    pub fn as_slice(&self) -> &[Arc<CStr>] {
        &self.strings
    }

    fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr()
    }
}

impl Clone for CStrArray {
    fn clone(&self) -> CStrArray {
        CStrArray::from_shared(self.strings.clone())
    }
}

impl PartialEq for CStrArray {
    fn eq(&self, other: &CStrArray) -> bool {
        self.strings == other.strings
    }
}

/// `setpgid(0, 0)`—put the calling process in a new process group of its own
/// (Supervisor's `setpgrp()`). Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/setpgid.2.html)
pub fn setpgid_self() -> io::Result<()> {
    Ok(rustix::process::setpgid(None, None)?)
}

/// `chdir(path)`. Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/chdir.2.html)
pub fn chdir(path: &CStr) -> io::Result<()> {
    Ok(rustix::process::chdir(path)?)
}

/// `umask(mask)`—returns the previous mask. Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/umask.2.html)
pub fn umask(mask: u32) -> u32 {
    rustix::process::umask(Mode::from_bits_retain(mask & 0o7777)).bits()
}

/// `execve(path, argv, envp)`—only returns on failure. Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/execve.2.html)
pub fn execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> io::Error {
    // SAFETY: `path` is NUL-terminated; `argv` and `envp` are NULL-terminated
    // arrays of pointers to NUL-terminated strings that outlive the call.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// `_exit(code)`—end the process at once: no atexit handlers, no flushing
/// (the only correct exit for a failed child). Async-signal-safe.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/_exit.2.html)
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit has no preconditions and never returns.
    unsafe { libc::_exit(code) }
}
