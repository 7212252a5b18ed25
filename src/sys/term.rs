//! The ctl's terminal: the controlling tty for password prompts (echo off
//! while the password is typed, as Python's `getpass` does) and Ctrl-C
//! taken as a plain event while a log is followed. Called by `ctl`.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;

use nix::sys::signal::{SigSet, Signal};
use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};

/// `open("/dev/tty", O_RDWR | O_NOCTTY)`—the controlling terminal, without
/// making it ours if we have none (getpass opens it so).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man4/tty.4.html)
pub fn open_tty() -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open("/dev/tty")
}

/// Echo turned off on a terminal; the saved settings come back on drop.
pub struct EchoOff<'a> {
    tty: &'a File,
    saved: Termios,
}

/// `tcgetattr(tty)` then `tcsetattr(tty, TCSAFLUSH, settings less ECHO)`.
/// Fails only when `tty` is not a terminal (tcgetattr's error); a failure
/// to switch echo off is ignored, as the prompt is still worth showing.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/termios.3.html)
pub fn echo_off(tty: &File) -> io::Result<EchoOff<'_>> {
    let saved = tcgetattr(tty)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    let _ = tcsetattr(tty, OptionalActions::Flush, &quiet);
    Ok(EchoOff { tty, saved })
}

impl Drop for EchoOff<'_> {
    /// `tcsetattr(tty, TCSAFLUSH, saved)`.
    fn drop(&mut self) {
        let _ = tcsetattr(self.tty, OptionalActions::Flush, &self.saved);
    }
}

/// SIGINT blocked, to be taken with [`Interrupt::wait`].
pub struct Interrupt(SigSet);

/// `pthread_sigmask(SIG_BLOCK, {SIGINT}, NULL)`—Ctrl-C no longer kills
/// the process but waits, in this thread and the threads it starts later,
/// for [`Interrupt::wait`].
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/pthread_sigmask.3.html)
pub fn block_interrupt() -> io::Result<Interrupt> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    super::signal::block(&set)?;
    Ok(Interrupt(set))
}

impl Interrupt {
    /// `sigwait({SIGINT})`—sleep until Ctrl-C.
    ///
    /// # References
    ///  - [Linux](https://man7.org/linux/man-pages/man3/sigwait.3.html)
    pub fn wait(&self) -> io::Result<()> {
        self.0.wait()?;
        Ok(())
    }
}
