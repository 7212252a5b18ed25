//! A minimal syslog client: RFC 3164 datagrams on `/dev/log`.
//!
//! Each message is `<PRI>Mmm dd HH:MM:SS IDENT[PID]: MSG`, the format glibc's
//! `syslog(3)` (and so Python's `syslog.syslog`, which Supervisor uses)
//! writes to the local socket. Facility is `user`. If `/dev/log` is absent
//! or refuses the datagram, the message is silently dropped: logging must
//! never stop the daemon.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use chrono::{Local, TimeZone};

/// `LOG_USER`.
const FACILITY_USER: u8 = 1;

/// Syslog severities used here.
pub mod severity {
    pub const CRIT: u8 = 2;
    pub const ERR: u8 = 3;
    pub const WARNING: u8 = 4;
    pub const INFO: u8 = 6;
    pub const DEBUG: u8 = 7;
}

/// A lazily connected `/dev/log` client.
#[derive(Debug)]
pub struct Syslog {
    path: PathBuf,
    ident: String,
    pid: u32,
    sock: Option<UnixDatagram>,
    /// Reused datagram buffer.
    buf: Vec<u8>,
}

impl Syslog {
    /// A client of `/dev/log` tagging messages with `ident`.
    pub fn new(ident: &str) -> Syslog {
        Syslog::with_path(Path::new("/dev/log"), ident)
    }

    /// A client of another socket (tests, containers).
    pub fn with_path(path: &Path, ident: &str) -> Syslog {
        Syslog {
            path: path.to_path_buf(),
            ident: ident.to_string(),
            pid: std::process::id(),
            sock: None,
            buf: Vec::new(),
        }
    }

    fn connect(&mut self) -> Option<&UnixDatagram> {
        if self.sock.is_none() {
            let sock = UnixDatagram::unbound().ok()?;
            sock.connect(&self.path).ok()?;
            // Never block the daemon on a full syslog socket.
            sock.set_nonblocking(true).ok()?;
            self.sock = Some(sock);
        }
        self.sock.as_ref()
    }

    /// Send one message at `now` (seconds since the epoch).
    pub fn send(&mut self, sev: u8, msg: &[u8], now: f64) {
        self.buf.clear();
        let when = local_time(now).format("%b %e %H:%M:%S");
        let _ = write!(
            self.buf,
            "<{}>{} {}[{}]: ",
            FACILITY_USER * 8 + sev,
            when,
            self.ident,
            self.pid
        );
        self.buf.extend_from_slice(msg);
        let buf = std::mem::take(&mut self.buf);
        for _attempt in 0..2 {
            let Some(sock) = self.connect() else { break };
            if sock.send(&buf).is_ok() {
                break;
            }
            // The daemon behind the socket may have restarted: reconnect once.
            self.sock = None;
        }
        self.buf = buf;
    }

    /// Send `data` line by line, each as `prefix` + line. As Supervisor:
    /// trailing newlines are stripped, then every `\n` separates a message.
    pub fn send_lines(&mut self, sev: u8, prefix: &[u8], data: &[u8], now: f64) {
        let end = data.iter().rposition(|&b| b != b'\n').map_or(0, |i| i + 1);
        let mut line = Vec::new();
        for l in data[..end].split(|&b| b == b'\n') {
            line.clear();
            line.extend_from_slice(prefix);
            line.extend_from_slice(l);
            self.send(sev, &line, now);
        }
    }
}

/// `now` (seconds since the epoch) in local time.
pub(crate) fn local_time(now: f64) -> chrono::DateTime<Local> {
    let secs = now.floor();
    let nanos = ((now - secs) * 1e9) as u32;
    Local
        .timestamp_opt(secs as i64, nanos.min(999_999_999))
        .single()
        .or_else(|| Local.timestamp_opt(secs as i64, 0).earliest())
        .unwrap_or_else(|| chrono::DateTime::<chrono::Utc>::UNIX_EPOCH.with_timezone(&Local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_rfc3164_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let server = UnixDatagram::bind(&p).unwrap();
        server.set_nonblocking(true).unwrap();
        let mut s = Syslog::with_path(&p, "pidvisord");
        s.send_lines(severity::INFO, b"web ", b"one\ntwo\n\n", 0.0);
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = server.recv(&mut buf) {
            got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        assert_eq!(got.len(), 2, "{got:?}");
        let pid = std::process::id();
        for (msg, line) in got.iter().zip(["one", "two"]) {
            assert!(msg.starts_with("<14>"), "{msg}");
            assert!(
                msg.ends_with(&format!(" pidvisord[{pid}]: web {line}")),
                "{msg}"
            );
            // "<14>Mmm dd HH:MM:SS " is 20 bytes.
            assert_eq!(&msg[19..20], " ");
        }
    }

    /// Everything waiting on `server`, without blocking.
    fn drain(server: &UnixDatagram) -> Vec<String> {
        server.set_nonblocking(true).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while let Ok(n) = server.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got
    }

    /// No socket, or one nobody reads any more: the messages are dropped
    /// (not queued, no error, no panic), and the client delivers again as
    /// soon as a syslog daemon listens there.
    #[test]
    fn absent_socket_is_silent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut s = Syslog::with_path(&path, "x");
        s.send(severity::INFO, b"lost", 1.5);
        s.send_lines(severity::INFO, b"", b"a\nb", 1.5);
        assert!(
            s.sock.is_none(),
            "connected to a socket that does not exist"
        );
        // A syslog daemon appears: only what is sent from now on arrives.
        let server = UnixDatagram::bind(&path).unwrap();
        s.send(severity::INFO, b"first", 1.5);
        let got = drain(&server);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].ends_with(": first"), "{got:?}");
        // It goes away (connection refused): dropped again.
        drop(server);
        std::fs::remove_file(&path).unwrap();
        s.send(severity::INFO, b"gone", 1.5);
        assert!(s.sock.is_none(), "kept a socket whose peer is gone");
        // And comes back (a restarted syslog daemon): reconnected.
        let server = UnixDatagram::bind(&path).unwrap();
        s.send(severity::INFO, b"back", 1.5);
        let got = drain(&server);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].ends_with(": back"), "{got:?}");
    }
}
