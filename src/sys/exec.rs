//! The child's last steps: `setpgid(2)`, `chdir(2)`, `umask(2)`,
//! `execve(2)`, `_exit(2)`, and [`CStrArray`], the pre-built `argv`/`envp`.

use std::cell::UnsafeCell;
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
    /// Pointers into `strings`' heap buffers (or the pid entry's), then NULL.
    ptrs: Vec<*const libc::c_char>,
    /// An entry the child completes with its own pid (`WATCHDOG_PID=`).
    pid_entry: Option<PidEntry>,
}

/// `NAME=` in a buffer with room for the digits of a pid, written by
/// [`execve`] in the child, when the pid is known.
#[derive(Debug)]
struct PidEntry {
    /// Where it is in `ptrs` (its place in `strings` holds `NAME=`).
    index: usize,
    /// The length of `NAME=`.
    prefix: usize,
    buf: Box<UnsafeCell<[u8; PID_ENTRY_LEN]>>,
}

/// Room for `NAME=` (at most 32 bytes), ten digits and the NUL.
const PID_ENTRY_LEN: usize = 48;

// SAFETY: `ptrs` only points into the immutable heap buffers that the
// `Arc<CStr>`s in `strings` keep alive as long as the struct, and into the
// pid entry's buffer, which only `execve` writes, in the child (a process
// of its own, or with a vfork-like clone the only thread running on the
// parent's memory while the parent waits); sending the struct is as safe
// as sending those `Arc`s and that box.
unsafe impl Send for CStrArray {}

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
        CStrArray {
            strings,
            ptrs,
            pid_entry: None,
        }
    }

    /// Add `name=<pid of the child>` at the end: `execve` writes the pid
    /// (which only the child knows before it runs). `name` is at most 31
    /// bytes, without `=` or NUL.
    pub fn push_pid_entry(&mut self, name: &str) {
        let prefix = format!("{name}=");
        assert!(prefix.len() <= 32 && !name.contains(['=', '\0']));
        let mut buf = [0u8; PID_ENTRY_LEN];
        buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
        let buf = Box::new(UnsafeCell::new(buf));
        let index = self.strings.len();
        let shown = CString::new(prefix.clone()).unwrap_or_default();
        self.strings.push(Arc::from(shown));
        self.ptrs.insert(index, buf.get().cast::<libc::c_char>());
        self.pid_entry = Some(PidEntry {
            index,
            prefix: prefix.len(),
            buf,
        });
    }

    /// The strings (a pid entry shows as `NAME=`, its value unknown yet).
    pub fn as_slice(&self) -> &[Arc<CStr>] {
        &self.strings
    }

    fn as_ptr(&self) -> *const *const libc::c_char {
        self.ptrs.as_ptr()
    }

    /// Write the calling process's pid into the pid entry. Async-signal-safe.
    fn fill_pid(&self) {
        let Some(e) = &self.pid_entry else {
            return;
        };
        debug_assert_eq!(self.ptrs[e.index], e.buf.get().cast::<libc::c_char>());
        let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
        let mut digits = [0u8; 10];
        let mut n = 0;
        let mut v = pid;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let buf = e.buf.get().cast::<u8>();
        for (i, d) in digits[..n].iter().rev().enumerate() {
            // SAFETY: `prefix + 10 + 1 <= PID_ENTRY_LEN`; only `execve`
            // calls this, in the child, where nothing else reads or
            // writes the buffer (see the `Send` impl).
            unsafe { buf.add(e.prefix + i).write(*d) };
        }
        // SAFETY: as above; the NUL ends the entry.
        unsafe { buf.add(e.prefix + n).write(0) };
    }
}

impl Clone for CStrArray {
    fn clone(&self) -> CStrArray {
        match &self.pid_entry {
            None => CStrArray::from_shared(self.strings.clone()),
            Some(e) => {
                let mut c = CStrArray::from_shared(self.strings[..e.index].to_vec());
                let name = self.strings[e.index].to_string_lossy();
                c.push_pid_entry(name.trim_end_matches('='));
                c
            }
        }
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
/// Only for the child: it first completes `envp`'s pid entry, if any,
/// with the calling process's pid.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/execve.2.html)
pub fn execve(path: &CStr, argv: &CStrArray, envp: &CStrArray) -> io::Error {
    envp.fill_pid();
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
