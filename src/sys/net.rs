//! Host name lookup for the ctl's TCP connections: `getaddrinfo(3)` with
//! its `EAI_*` code kept.
//!
//! std's `TcpStream::connect((host, port))` does the same lookup but turns
//! a failure into an `io::Error` whose only trace of the code is its text.
//! supervisorctl prints the failure as Python's `socket.gaierror`, `[Errno
//! -2] Name or service not known`: the number is the `EAI_*` code and the
//! text `gai_strerror`'s, so we keep the code. Called by `ctl::client`.

use std::ffi::{CStr, CString};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// A lookup failure that `getaddrinfo` reports with its own code (never
/// `EAI_SYSTEM`, which is an errno and comes back as an `io::Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GaiError {
    /// The `EAI_*` value (negative on glibc: `EAI_NONAME` is -2).
    pub code: i32,
}

impl GaiError {
    /// `gai_strerror(code)`—the C library's text for the code.
    ///
    /// # References
    ///  - [Linux](https://man7.org/linux/man-pages/man3/gai_strerror.3.html)
    pub fn message(&self) -> String {
        // SAFETY: gai_strerror returns a pointer to a static NUL-terminated
        // string for any code (an "Unknown error" text for unknown ones).
        let text = unsafe { CStr::from_ptr(libc::gai_strerror(self.code)) };
        text.to_string_lossy().into_owned()
    }
}

impl fmt::Display for GaiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why [`resolve`] found no address.
#[derive(Debug)]
pub enum LookupError {
    /// getaddrinfo's own failure (`EAI_NONAME`, `EAI_AGAIN`, ...).
    Gai(GaiError),
    /// `EAI_SYSTEM` (the errno), or no address of a usable family.
    Os(io::Error),
}

/// `getaddrinfo(host, port, {AF_UNSPEC, SOCK_STREAM}, &res)`—the stream
/// addresses of `host`, in the resolver's order, as Python's
/// `socket.create_connection` asks for them.
///
/// A NUL in `host` ends it, as it does for the C string Python passes.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getaddrinfo.3.html)
pub fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
    let host = host.split('\0').next().unwrap_or("");
    let c_host = CString::new(host).map_err(|e| LookupError::Os(io::Error::other(e)))?;
    let c_port =
        CString::new(port.to_string()).map_err(|e| LookupError::Os(io::Error::other(e)))?;
    // SAFETY: an all-zero addrinfo is the documented "no hints" value; we
    // then set the two fields we want.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: both strings are NUL-terminated and outlive the call; `list`
    // receives a list we free below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), c_port.as_ptr(), &hints, &mut list) };
    if rc == libc::EAI_SYSTEM {
        return Err(LookupError::Os(io::Error::last_os_error()));
    }
    if rc != 0 {
        return Err(LookupError::Gai(GaiError { code: rc }));
    }
    let mut addrs = Vec::new();
    let mut at = list;
    while !at.is_null() {
        // SAFETY: `at` is a node of the list getaddrinfo returned, not yet
        // freed; its ai_addr points to ai_addrlen bytes of the family's
        // sockaddr.
        let node = unsafe { &*at };
        // SAFETY: as above, the address matches ai_family.
        if let Some(a) = unsafe { socket_addr(node) } {
            addrs.push(a);
        }
        at = node.ai_next;
    }
    // SAFETY: `list` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    if addrs.is_empty() {
        // Python's own text for this case (socket.create_connection).
        return Err(LookupError::Os(io::Error::other(
            "getaddrinfo returns an empty list",
        )));
    }
    Ok(addrs)
}

/// The IPv4 or IPv6 address of one `addrinfo` node, else `None`.
///
/// # Safety
/// `node.ai_addr` must point to a sockaddr of `node.ai_family` at least
/// `node.ai_addrlen` bytes long.
unsafe fn socket_addr(node: &libc::addrinfo) -> Option<SocketAddr> {
    let len = node.ai_addrlen as usize;
    match node.ai_family {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family and length say this is a sockaddr_in.
            let sin = unsafe { &*(node.ai_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the family and length say this is a sockaddr_in6.
            let sin6 = unsafe { &*(node.ai_addr as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_hosts_resolve_without_a_resolver() {
        let v4 = resolve("127.0.0.1", 9001).unwrap();
        assert!(v4.contains(&"127.0.0.1:9001".parse().unwrap()), "{v4:?}");
        // glibc may refuse ::1 on a host without IPv6 (EAI_ADDRFAMILY or
        // EAI_NONAME); when it answers, the address is right.
        if let Ok(v6) = resolve("::1", 80) {
            assert!(v6.contains(&"[::1]:80".parse().unwrap()), "{v6:?}");
        }
    }

    /// The `.invalid` top-level domain never resolves (RFC 2606); the code
    /// and text are what Python's socket.gaierror shows.
    #[test]
    fn an_unknown_name_keeps_its_code() {
        match resolve("nonexistent.invalid", 80) {
            Err(LookupError::Gai(e)) => {
                // EAI_NONAME, or EAI_AGAIN where no resolver answers.
                assert!(
                    e.code == libc::EAI_NONAME || e.code == libc::EAI_AGAIN,
                    "{e:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            GaiError {
                code: libc::EAI_NONAME
            }
            .message(),
            "Name or service not known"
        );
        assert_eq!(
            GaiError {
                code: libc::EAI_AGAIN
            }
            .message(),
            "Temporary failure in name resolution"
        );
    }
}
