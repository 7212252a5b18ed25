//! The sockets of `[fcgi-program:x]` groups.
//!
//! As Supervisor's socket manager does, the daemon creates a group's
//! socket (`unix://` with `socket_owner` and `socket_mode`, or
//! `tcp://host:port`; listening with `socket_backlog`, else SOMAXCONN)
//! when the first of its processes is spawned, gives it to every process
//! of the group as stdin, keeps it while any of them runs, and closes it
//! when the last one is gone; a unix socket's file is removed then too
//! (Supervisor leaves it behind). A socket that cannot be made is the
//! spawn error of the process that needed it, naming the section, and a
//! main-log error.
//!
//! [`Sockets`] owns the listening descriptors; the reactor asks for a
//! descriptor at each spawn ([`Sockets::acquire`]) and says when a process
//! no longer runs ([`Sockets::release`]).

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;

use crate::config::{FcgiSpec, LogLevel};
use crate::core::ProcId;
use crate::logs::MainLogger;

/// One group's socket and who uses it.
struct Shared {
    spec: FcgiSpec,
    open: Option<OwnedFd>,
    /// Processes spawned with it and not yet gone (Supervisor's reference
    /// count).
    users: HashSet<ProcId>,
}

#[derive(Default)]
pub struct Sockets {
    groups: HashMap<String, Shared>,
}

/// Python's text of an `OSError`: `[Errno 13] Permission denied`.
fn os_error_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => {
            let text = io::Error::from_raw_os_error(n).to_string();
            let text = text.split(" (os error").next().unwrap_or(&text).to_string();
            format!("[Errno {n}] {text}")
        }
        None => e.to_string(),
    }
}

impl Sockets {
    /// An fcgi-program group was added.
    pub fn add_group(&mut self, name: &str, spec: &FcgiSpec) {
        self.groups.insert(
            name.to_string(),
            Shared {
                spec: spec.clone(),
                open: None,
                users: HashSet::new(),
            },
        );
    }

    /// The group was removed (its processes are stopped): close its socket.
    pub fn remove_group(&mut self, name: &str, mainlog: &mut MainLogger) {
        if let Some(mut g) = self.groups.remove(name) {
            close(&mut g, mainlog);
        }
    }

    /// The socket for a spawn of `id` in `group`, made for the first user:
    /// a descriptor of it for the child's stdin, or `None` if the group has
    /// no socket. The error is the spawn error.
    pub fn acquire(
        &mut self,
        group: &str,
        id: ProcId,
        mainlog: &mut MainLogger,
    ) -> Result<Option<OwnedFd>, String> {
        let Some(g) = self.groups.get_mut(group) else {
            return Ok(None);
        };
        if g.open.is_none() {
            mainlog.log(LogLevel::Info, format!("Creating socket {}", g.spec.socket));
            match create(&g.spec) {
                Ok(fd) => g.open = Some(fd),
                Err(e) => {
                    let msg = format!(
                        "Could not create FastCGI socket {} of [fcgi-program:{group}]: {}",
                        g.spec.socket,
                        os_error_text(&e)
                    );
                    mainlog.log(LogLevel::Error, &msg);
                    return Err(msg);
                }
            }
        }
        let fd = g
            .open
            .as_ref()
            .map(|s| crate::sys::fd::dup_cloexec_at_least(s, 3));
        match fd {
            Some(Ok(fd)) => {
                g.users.insert(id);
                Ok(Some(fd))
            }
            Some(Err(e)) => {
                let msg = format!(
                    "could not pass FastCGI socket {} of [fcgi-program:{group}]: {}",
                    g.spec.socket,
                    os_error_text(&e)
                );
                if g.users.is_empty() {
                    close(g, mainlog);
                }
                Err(msg)
            }
            None => Ok(None),
        }
    }

    /// `id` no longer runs (it exited, or its spawn failed): the last user
    /// closes the socket.
    pub fn release(&mut self, id: ProcId, mainlog: &mut MainLogger) {
        for g in self.groups.values_mut() {
            if g.users.remove(&id) && g.users.is_empty() {
                close(g, mainlog);
            }
        }
    }

    /// The configuration's run ends: close everything.
    pub fn close_all(&mut self, mainlog: &mut MainLogger) {
        for g in self.groups.values_mut() {
            g.users.clear();
            close(g, mainlog);
        }
    }
}

fn close(g: &mut Shared, mainlog: &mut MainLogger) {
    if g.open.take().is_none() {
        return;
    }
    mainlog.log(LogLevel::Info, format!("Closing socket {}", g.spec.socket));
    if let Some(path) = unix_path(&g.spec.socket) {
        let _ = std::fs::remove_file(path);
    }
}

fn unix_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("unix://").map(PathBuf::from)
}

/// Bind and listen. A unix socket left at the path by an earlier run is
/// replaced (Supervisor unlinks whatever is there; we refuse to remove
/// anything but a socket).
fn create(spec: &FcgiSpec) -> io::Result<OwnedFd> {
    let backlog = spec
        .socket_backlog
        .map(|b| b.clamp(0, i64::from(i32::MAX)) as i32);
    let fd: OwnedFd = match unix_path(&spec.socket) {
        Some(path) => {
            if let Ok(meta) = std::fs::symlink_metadata(&path) {
                if !meta.file_type().is_socket() {
                    return Err(io::Error::from_raw_os_error(crate::sys::errno::EADDRINUSE));
                }
                std::fs::remove_file(&path)?;
            }
            let l = std::os::unix::net::UnixListener::bind(&path)?;
            let setup = (|| {
                if let Some((uid, gid)) = spec.socket_owner {
                    std::os::unix::fs::chown(&path, Some(uid), gid)?;
                }
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(spec.socket_mode))
            })();
            if let Err(e) = setup {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            l.into()
        }
        None => {
            let hostport = spec.socket.strip_prefix("tcp://").unwrap_or(&spec.socket);
            let (host, port) = hostport
                .rsplit_once(':')
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
            let port: u16 = port
                .parse()
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
            // Supervisor binds an AF_INET socket: the host's IPv4 address.
            let addr =
                std::net::ToSocketAddrs::to_socket_addrs(&(host.to_lowercase().as_str(), port))?
                    .find(std::net::SocketAddr::is_ipv4)
                    .ok_or_else(|| io::Error::from(io::ErrorKind::AddrNotAvailable))?;
            std::net::TcpListener::bind(addr)?.into()
        }
    };
    crate::sys::socket::listen(&fd, backlog)?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn spec(socket: String) -> FcgiSpec {
        FcgiSpec {
            socket,
            socket_backlog: Some(5),
            socket_owner: None,
            socket_mode: 0o640,
        }
    }

    #[test]
    fn unix_socket_lives_while_a_process_uses_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sock");
        let mut log = MainLogger::new(LogLevel::Info);
        let mut s = Sockets::default();
        s.add_group("f", &spec(format!("unix://{}", path.display())));
        assert!(s.acquire("other", ProcId(9), &mut log).unwrap().is_none());
        let a = s.acquire("f", ProcId(1), &mut log).unwrap().unwrap();
        let b = s.acquire("f", ProcId(2), &mut log).unwrap().unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o7777, 0o640);
        drop((a, b));
        s.release(ProcId(1), &mut log);
        assert!(path.exists(), "one user left");
        std::os::unix::net::UnixStream::connect(&path).expect("still listening");
        s.release(ProcId(2), &mut log);
        assert!(!path.exists(), "removed with its last user");
        // A new first user makes it again.
        s.acquire("f", ProcId(1), &mut log).unwrap().unwrap();
        assert!(path.exists());
        s.close_all(&mut log);
        assert!(!path.exists());
    }

    #[test]
    fn a_socket_that_cannot_be_made_names_the_section() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, "not a socket").unwrap();
        let mut log = MainLogger::new(LogLevel::Info);
        let mut s = Sockets::default();
        s.add_group("f", &spec(format!("unix://{}", file.display())));
        let e = s.acquire("f", ProcId(1), &mut log).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "Could not create FastCGI socket unix://{} of [fcgi-program:f]: [Errno ",
                file.display()
            )),
            "{e}"
        );
        assert!(file.exists(), "a regular file is never removed");
        s.add_group(
            "g",
            &spec(format!("unix://{}/no/such/dir/s", dir.path().display())),
        );
        let e = s.acquire("g", ProcId(2), &mut log).unwrap_err();
        assert!(e.ends_with("[Errno 2] No such file or directory"), "{e}");
    }

    #[test]
    fn tcp_socket_listens() {
        let mut log = MainLogger::new(LogLevel::Info);
        let mut s = Sockets::default();
        // Port 0: any free port; find it from the descriptor.
        s.add_group("t", &spec("tcp://127.0.0.1:0".into()));
        let fd = s.acquire("t", ProcId(1), &mut log).unwrap().unwrap();
        let l = std::net::TcpListener::from(fd);
        let addr = l.local_addr().unwrap();
        std::net::TcpStream::connect(addr).expect("listening");
    }
}
