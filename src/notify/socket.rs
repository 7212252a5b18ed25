//! The notify socket: one datagram socket for every program, in the
//! abstract namespace (`@pidvisord-<pid>-notify`), so that programs running
//! as any user can send to it and nothing is left on disk. The kernel
//! names each sender (`SO_PASSCRED`, and `SO_PASSPIDFD` on Linux 6.5+);
//! the reactor maps it to a program.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

use super::message::parse;
use crate::api::Notification;
use crate::sys;

/// systemd's `NOTIFY_BUFFER_MAX` (`PIPE_BUF`): longer datagrams are dropped.
const BUFFER: usize = 4096;

/// Who sent a message, as the kernel says.
#[derive(Debug)]
pub struct Sender {
    pub pid: u32,
    pub uid: u32,
    /// A pidfd of the sender (Linux 6.5+).
    pidfd: Option<OwnedFd>,
    /// Descriptors the message carried (`BARRIER=1`, `FDSTORE=1`), closed
    /// when the sender is dropped: `sd_notify_barrier` (systemd-notify)
    /// waits for that before it exits, so the sender is still there while
    /// its message is attributed.
    _fds: Vec<OwnedFd>,
}

impl Sender {
    /// Whether the sender still runs: `None` without a pidfd (older
    /// kernels), when only its pid is known. What was read about the pid
    /// in `/proc` before a `Some(true)` was about the sender itself.
    pub fn alive(&self) -> Option<bool> {
        let pidfd = self.pidfd.as_ref()?;
        Some(sys::pidfd::pidfd_send_signal(pidfd, 0).is_ok())
    }
}

/// What one read of the socket gave.
#[derive(Debug)]
pub enum Received {
    Message {
        sender: Sender,
        notification: Notification,
    },
    /// A datagram that cannot count: too long, or without credentials.
    /// (Any descriptors it carried are closed already.)
    Unusable { pid: u32, why: &'static str },
}

pub struct NotifySocket {
    sock: UnixDatagram,
    /// `NOTIFY_SOCKET` as the children get it.
    address: String,
    /// Messages dropped so far (for the debug lines).
    dropped: u64,
    buf: Box<[u8; BUFFER]>,
}

impl NotifySocket {
    /// Bind a fresh socket with sender identification on.
    pub fn bind() -> io::Result<NotifySocket> {
        let pid = std::process::id();
        let mut last = None;
        // Another daemon with our pid (another pid namespace) may hold the
        // first name.
        for n in 0..16 {
            let name = match n {
                0 => format!("pidvisord-{pid}-notify"),
                n => format!("pidvisord-{pid}-notify-{n}"),
            };
            let addr = SocketAddr::from_abstract_name(name.as_bytes())?;
            match UnixDatagram::bind_addr(&addr) {
                Ok(sock) => return NotifySocket::configure(sock, format!("@{name}")),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
    }

    fn configure(sock: UnixDatagram, address: String) -> io::Result<NotifySocket> {
        sock.set_nonblocking(true)?;
        sys::dgram::pass_credentials(sock.as_fd())?;
        sys::dgram::pass_pidfd(sock.as_fd())?;
        Ok(NotifySocket {
            sock,
            address,
            dropped: 0,
            buf: Box::new([0; BUFFER]),
        })
    }

    /// The value of `NOTIFY_SOCKET` (`@name`: abstract, as sd_notify reads it).
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// The next queued datagram, `None` when the queue is empty. Passed
    /// descriptors (`FDSTORE=1`, `BARRIER=1`) are closed with the
    /// [`Sender`]: closing them is the answer `sd_notify_barrier` waits for.
    pub fn recv(&mut self) -> io::Result<Option<Received>> {
        let Some(d) = sys::dgram::recv(self.sock.as_fd(), &mut self.buf[..])? else {
            return Ok(None);
        };
        let Some(creds) = d.creds.filter(|c| c.pid != 0) else {
            return Ok(Some(Received::Unusable {
                pid: 0,
                why: "no sender credentials",
            }));
        };
        if d.truncated {
            return Ok(Some(Received::Unusable {
                pid: creds.pid,
                why: "longer than 4096 bytes",
            }));
        }
        Ok(Some(Received::Message {
            sender: Sender {
                pid: creds.pid,
                uid: creds.uid,
                pidfd: d.pidfd,
                _fds: d.fds,
            },
            notification: parse(&self.buf[..d.len]),
        }))
    }

    /// Count a dropped message; the debug line to log.
    pub fn dropped(&mut self, pid: u32, why: &str) -> String {
        self.dropped += 1;
        format!(
            "notify: dropped a message from pid {pid}: {why} ({} dropped so far)",
            self.dropped
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_abstract_and_identifies_the_sender() {
        let mut a = NotifySocket::bind().unwrap();
        assert!(a.address().starts_with("@pidvisord-"), "{}", a.address());
        // A second one in the same process gets another name.
        let b = NotifySocket::bind().unwrap();
        assert_ne!(a.address(), b.address());
        assert!(a.recv().unwrap().is_none());
        let tx = UnixDatagram::unbound().unwrap();
        let addr = SocketAddr::from_abstract_name(&a.address().as_bytes()[1..]).unwrap();
        tx.send_to_addr(b"READY=1\nSTATUS=up", &addr).unwrap();
        match a.recv().unwrap() {
            Some(Received::Message {
                sender,
                notification,
            }) => {
                assert_eq!(sender.pid, std::process::id());
                assert!(notification.ready);
                assert_eq!(notification.status.as_deref(), Some("up"));
                assert_ne!(sender.alive(), Some(false));
            }
            other => panic!("{other:?}"),
        }
        tx.send_to_addr(&[b'x'; BUFFER + 1], &addr).unwrap();
        assert!(matches!(
            a.recv().unwrap(),
            Some(Received::Unusable {
                why: "longer than 4096 bytes",
                ..
            })
        ));
        assert_eq!(
            a.dropped(7, "no program"),
            "notify: dropped a message from pid 7: no program (1 dropped so far)"
        );
    }
}
