//! Sockets: the listen backlog of an fcgi-program's socket.

use std::io;
use std::os::fd::AsFd;

/// `listen(fd, backlog)`—(re)set a bound socket listening with this
/// backlog (`SOMAXCONN` when `None`, as Supervisor's socket manager does).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/listen.2.html)
pub fn listen(fd: impl AsFd, backlog: Option<i32>) -> io::Result<()> {
    use nix::sys::socket::Backlog;
    let backlog = match backlog {
        // The kernel caps a larger backlog at `net.core.somaxconn`; nix
        // refuses one above SOMAXCONN, so cap it here.
        Some(n) => Backlog::new(n.clamp(0, libc::SOMAXCONN)).map_err(io::Error::from)?,
        None => Backlog::MAXCONN,
    };
    nix::sys::socket::listen(&fd, backlog).map_err(io::Error::from)
}
