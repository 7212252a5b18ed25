//! Unix datagram sockets that know their senders: `setsockopt(2)` with
//! `SO_PASSCRED`/`SO_PASSPIDFD`, and `recvmsg(2)` with the ancillary data
//! the kernel attaches (`SCM_CREDENTIALS`, `SCM_PIDFD`, `SCM_RIGHTS`).
//!
//! The notify socket (`crate::notify`) binds and sends through `std`; what
//! `std` cannot do—ask the kernel for the sender's identity and take the
//! descriptors a message carries—is here.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::cvt;

/// `SO_PASSPIDFD` (Linux 6.5); not in every `libc` release.
const SO_PASSPIDFD: libc::c_int = 76;
/// `SCM_PIDFD` (Linux 6.5): a pidfd of the sender, with `SO_PASSPIDFD`.
const SCM_PIDFD: libc::c_int = 0x04;
/// The kernel's `SCM_MAX_FD`: the most descriptors one message carries.
const SCM_MAX_FD: usize = 253;

/// The sender of a datagram, as the kernel vouches for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creds {
    pub pid: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One received datagram: its length in the caller's buffer, and what came
/// with it.
#[derive(Debug)]
pub struct Datagram {
    /// Bytes written to the buffer.
    pub len: usize,
    /// The datagram (or its ancillary data) did not fit and was cut.
    pub truncated: bool,
    /// `SCM_CREDENTIALS` (always present once `SO_PASSCRED` is set).
    pub creds: Option<Creds>,
    /// `SCM_PIDFD` (with `SO_PASSPIDFD`, Linux 6.5+): a pidfd of the
    /// process named in `creds`, so that a recycled pid cannot pass for it.
    pub pidfd: Option<OwnedFd>,
    /// `SCM_RIGHTS`: descriptors the sender passed (close-on-exec).
    pub fds: Vec<OwnedFd>,
}

fn set_int_option(sock: BorrowedFd<'_>, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: `sock` is an open descriptor for the duration of the call;
    // the option value is a live `c_int` whose size we pass.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            (&value as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    cvt(ret).map(drop)
}

/// `setsockopt(sock, SOL_SOCKET, SO_PASSCRED, 1)`—every datagram received
/// carries the sender's pid, uid and gid (`SCM_CREDENTIALS`).
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man7/unix.7.html)
pub fn pass_credentials(sock: BorrowedFd<'_>) -> io::Result<()> {
    set_int_option(sock, libc::SO_PASSCRED, 1)
}

/// `setsockopt(sock, SOL_SOCKET, SO_PASSPIDFD, 1)`—every datagram also
/// carries a pidfd of its sender (`SCM_PIDFD`). Returns `false` on a kernel
/// before 6.5 (`ENOPROTOOPT`), where credentials alone must do.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man7/unix.7.html)
pub fn pass_pidfd(sock: BorrowedFd<'_>) -> io::Result<bool> {
    match set_int_option(sock, SO_PASSPIDFD, 1) {
        Ok(()) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Room for `SCM_CREDENTIALS`, `SCM_PIDFD` and a full `SCM_RIGHTS`, aligned
/// as `cmsghdr` needs.
#[repr(C, align(8))]
struct ControlBuf([u8; 1536]);

/// `recvmsg(sock, &msg, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC)`—one
/// datagram into `buf`, with its sender's credentials, pidfd and passed
/// descriptors. `None` when nothing is queued (`EAGAIN`).
///
/// # References
///  - [recvmsg](https://man7.org/linux/man-pages/man2/recvmsg.2.html)
///  - [cmsg](https://man7.org/linux/man-pages/man3/cmsg.3.html)
pub fn recv(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<Option<Datagram>> {
    let mut control = ControlBuf([0; 1536]);
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: an all-zero `msghdr` is valid (null pointers, zero lengths).
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = control.0.len();
    let flags = libc::MSG_DONTWAIT | libc::MSG_TRUNC | libc::MSG_CMSG_CLOEXEC;
    let n = loop {
        // SAFETY: `msg` points at `iov` (which points into `buf`) and at
        // `control`, all alive and writable for their stated lengths.
        let ret = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, flags) };
        match cvt(ret) {
            Ok(n) => break n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        }
    };
    // Take ownership of every descriptor first, so none leaks whatever the
    // message turns out to be.
    let mut out = Datagram {
        len: n.min(buf.len()),
        truncated: n > buf.len() || msg.msg_flags & (libc::MSG_TRUNC | libc::MSG_CTRUNC) != 0,
        creds: None,
        pidfd: None,
        fds: Vec::new(),
    };
    // SAFETY: the kernel filled `msg.msg_control` with `msg_controllen`
    // bytes of well-formed cmsgs inside `control`, which is still alive.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` is non-null and points at a cmsghdr inside
        // `control` (CMSG_FIRSTHDR/CMSG_NXTHDR check the bounds).
        let hdr = unsafe { &*cmsg };
        // SAFETY: the data of this cmsg starts at CMSG_DATA and is
        // `cmsg_len - CMSG_LEN(0)` bytes long, inside `control`.
        let (data, len) = unsafe {
            (
                libc::CMSG_DATA(cmsg),
                hdr.cmsg_len as usize - libc::CMSG_LEN(0) as usize,
            )
        };
        if hdr.cmsg_level == libc::SOL_SOCKET {
            match hdr.cmsg_type {
                libc::SCM_CREDENTIALS if len >= mem::size_of::<libc::ucred>() => {
                    // SAFETY: the data is a `ucred` (checked size);
                    // cmsg data need not be aligned for it.
                    let c: libc::ucred = unsafe { std::ptr::read_unaligned(data.cast()) };
                    out.creds = Some(Creds {
                        pid: c.pid.max(0) as u32,
                        uid: c.uid,
                        gid: c.gid,
                    });
                }
                SCM_PIDFD if len >= mem::size_of::<RawFd>() => {
                    // SAFETY: the data is one descriptor the kernel just
                    // installed for us; nobody else owns it.
                    out.pidfd = Some(unsafe { take_fd(data) });
                }
                libc::SCM_RIGHTS => {
                    let count = (len / mem::size_of::<RawFd>()).min(SCM_MAX_FD);
                    for i in 0..count {
                        // SAFETY: `count` descriptors lie in the data, each
                        // newly installed for us and owned by nobody else.
                        out.fds
                            .push(unsafe { take_fd(data.add(i * mem::size_of::<RawFd>())) });
                    }
                }
                _ => {}
            }
        }
        // SAFETY: `msg` and `cmsg` are as above; CMSG_NXTHDR returns null
        // past the last cmsg.
        cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
    }
    Ok(Some(out))
}

/// Own the descriptor stored (unaligned) at `data`.
///
/// # Safety
/// `data` must point at 4 readable bytes holding a descriptor the caller
/// owns and that nothing else will close.
unsafe fn take_fd(data: *const u8) -> OwnedFd {
    // SAFETY: per the function's contract.
    unsafe {
        let fd: RawFd = std::ptr::read_unaligned(data.cast());
        OwnedFd::from_raw_fd(fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn credentials_pidfd_and_rights_come_with_a_datagram() {
        let (rx, tx) = UnixDatagram::pair().unwrap();
        pass_credentials(rx.as_fd()).unwrap();
        let with_pidfd = pass_pidfd(rx.as_fd()).unwrap();
        let mut buf = [0u8; 16];
        assert!(recv(rx.as_fd(), &mut buf).unwrap().is_none(), "empty");
        tx.send(b"READY=1").unwrap();
        let d = recv(rx.as_fd(), &mut buf).unwrap().unwrap();
        assert_eq!(&buf[..d.len], b"READY=1");
        assert!(!d.truncated);
        let c = d.creds.unwrap();
        assert_eq!(c.pid, std::process::id());
        assert_eq!(c.uid, super::super::cred::getuid());
        assert_eq!(d.pidfd.is_some(), with_pidfd);
        if let Some(p) = &d.pidfd {
            super::super::pidfd::pidfd_send_signal(p, 0).unwrap();
        }
        // Too long for the buffer: cut, and said so.
        tx.send(&[b'x'; 40]).unwrap();
        let d = recv(rx.as_fd(), &mut buf).unwrap().unwrap();
        assert_eq!(d.len, 16);
        assert!(d.truncated);
    }
}
