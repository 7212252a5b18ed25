//! pidvisord as a notify service of systemd (`Type=notify`): the other
//! direction of the protocol. When the daemon's own environment has
//! `NOTIFY_SOCKET`, it says `READY=1` once its programs are launched,
//! `RELOADING=1` and `STOPPING=1` at a reload and at shutdown, keeps a
//! one-line `STATUS=` ("3 running, 1 fatal"), and pings `WATCHDOG=1` at
//! half of `WATCHDOG_USEC` when systemd asks for a watchdog.
//!
//! These variables are the daemon's, never its children's: the reactor
//! takes them out of the environment programs inherit
//! ([`DAEMON_VARIABLES`]).

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::{Duration, Instant};

use crate::api::ProcessState;

/// The variables systemd sets for its notify services.
pub const DAEMON_VARIABLES: [&str; 3] = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

/// The daemon's channel to the service manager that started it.
#[derive(Debug)]
pub struct Systemd {
    sock: UnixDatagram,
    target: SocketAddr,
    /// Half the watchdog interval systemd asked for.
    ping_every: Option<Duration>,
    next_ping: Option<Instant>,
    last_status: Option<String>,
    /// A send failed already (said once in the main log).
    failed: bool,
}

/// `NOTIFY_SOCKET`'s value as an address: `@name` is abstract, else a path.
fn address(value: &OsStr) -> io::Result<SocketAddr> {
    let bytes = value.as_bytes();
    match bytes.split_first() {
        Some((b'@', name)) => SocketAddr::from_abstract_name(name),
        Some((b'/', _)) => SocketAddr::from_pathname(std::path::Path::new(value)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "NOTIFY_SOCKET is neither an absolute path nor @abstract",
        )),
    }
}

fn var<'a>(environ: &'a [(OsString, OsString)], key: &str) -> Option<&'a OsStr> {
    environ
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_os_str())
}

/// `sd_watchdog_enabled`: the interval, if the watchdog is ours (no
/// `WATCHDOG_PID`, or ours).
fn watchdog_interval(environ: &[(OsString, OsString)], pid: u32) -> Option<Duration> {
    let usec: u64 = var(environ, "WATCHDOG_USEC")?.to_str()?.parse().ok()?;
    if let Some(p) = var(environ, "WATCHDOG_PID") {
        if p.to_str()?.parse::<u32>().ok()? != pid {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

impl Systemd {
    /// From the daemon's environment; `Ok(None)` when no service manager
    /// waits for us, `Err` when `NOTIFY_SOCKET` is unusable.
    pub fn from_env(
        environ: &[(OsString, OsString)],
        pid: u32,
        now: Instant,
    ) -> io::Result<Option<Systemd>> {
        let Some(value) = var(environ, "NOTIFY_SOCKET").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let target = address(value)?;
        let sock = UnixDatagram::unbound()?;
        let ping_every = watchdog_interval(environ, pid).map(|w| w / 2);
        Ok(Some(Systemd {
            sock,
            target,
            ping_every,
            next_ping: ping_every.map(|p| now + p),
            last_status: None,
            failed: false,
        }))
    }

    /// Send `fields` (newline-separated `KEY=VALUE`). The error is returned
    /// the first time only, for the main log.
    pub fn send(&mut self, fields: &str) -> Option<io::Error> {
        match self.sock.send_to_addr(fields.as_bytes(), &self.target) {
            Ok(_) => None,
            Err(e) if !self.failed => {
                self.failed = true;
                Some(e)
            }
            Err(_) => None,
        }
    }

    /// `READY=1` with the current summary.
    pub fn ready(&mut self, summary: String) -> Option<io::Error> {
        let msg = format!("READY=1\nSTATUS={summary}");
        self.last_status = Some(summary);
        self.send(&msg)
    }

    /// `RELOADING=1` with `MONOTONIC_USEC` (systemd ≥ 253 requires it).
    pub fn reloading(&mut self, mono_usec: u64) -> Option<io::Error> {
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={mono_usec}\nSTATUS=reloading"
        ))
    }

    pub fn stopping(&mut self) -> Option<io::Error> {
        self.send("STOPPING=1\nSTATUS=stopping")
    }

    /// `STATUS=summary`, when it differs from the last one sent.
    pub fn status(&mut self, summary: String) -> Option<io::Error> {
        if self.last_status.as_ref() == Some(&summary) {
            return None;
        }
        let msg = format!("STATUS={summary}");
        self.last_status = Some(summary);
        self.send(&msg)
    }

    /// When the next watchdog ping is due (`None`: no watchdog).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_ping
    }

    /// Ping the watchdog if it is due at `now`.
    pub fn ping_if_due(&mut self, now: Instant) -> Option<io::Error> {
        let (every, at) = (self.ping_every?, self.next_ping?);
        if at > now {
            return None;
        }
        self.next_ping = Some(now + every);
        self.send("WATCHDOG=1")
    }
}

/// The daemon's one-line status: how many processes are in each state
/// (`12 running, 1 fatal`), in Supervisor's state order.
pub fn summary(states: impl IntoIterator<Item = ProcessState>) -> String {
    let mut counts = [0usize; ProcessState::ALL.len()];
    for s in states {
        if let Some(i) = ProcessState::ALL.iter().position(|&x| x == s) {
            counts[i] += 1;
        }
    }
    // Most telling first: what runs, then what is on its way, then trouble.
    let order = [
        ProcessState::Running,
        ProcessState::Starting,
        ProcessState::Backoff,
        ProcessState::Stopping,
        ProcessState::Stopped,
        ProcessState::Exited,
        ProcessState::Fatal,
        ProcessState::Unknown,
    ];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|s| {
            let i = ProcessState::ALL.iter().position(|x| x == s)?;
            (counts[i] > 0).then(|| format!("{} {}", counts[i], s.name().to_ascii_lowercase()))
        })
        .collect();
    if parts.is_empty() {
        "no programs".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn summary_counts_by_state() {
        use ProcessState::*;
        assert_eq!(summary([]), "no programs");
        assert_eq!(
            summary([Fatal, Running, Running, Starting, Running]),
            "3 running, 1 starting, 1 fatal"
        );
    }

    #[test]
    fn no_socket_no_notifier_and_watchdog_only_for_our_pid() {
        let t0 = crate::clock::mono();
        assert!(Systemd::from_env(&env(&[]), 1, t0).unwrap().is_none());
        assert!(Systemd::from_env(&env(&[("NOTIFY_SOCKET", "rel")]), 1, t0).is_err());
        let e = env(&[("WATCHDOG_USEC", "3000000"), ("WATCHDOG_PID", "42")]);
        assert_eq!(watchdog_interval(&e, 42), Some(Duration::from_secs(3)));
        assert_eq!(watchdog_interval(&e, 43), None);
        let e = env(&[("WATCHDOG_USEC", "0")]);
        assert_eq!(watchdog_interval(&e, 1), None);
    }

    #[test]
    fn messages_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        let t0 = crate::clock::mono();
        let e = env(&[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "1000000"),
        ]);
        let mut s = Systemd::from_env(&e, 9, t0).unwrap().unwrap();
        let mut buf = [0u8; 256];
        let mut next = || {
            let n = rx.recv(&mut buf).unwrap();
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        assert!(s.ready("1 running".into()).is_none());
        assert_eq!(next(), "READY=1\nSTATUS=1 running");
        assert!(s.status("1 running".into()).is_none());
        s.status("1 fatal".into());
        assert_eq!(next(), "STATUS=1 fatal");
        s.reloading(77);
        assert_eq!(next(), "RELOADING=1\nMONOTONIC_USEC=77\nSTATUS=reloading");
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_millis(500)));
        s.ping_if_due(t0 + Duration::from_millis(499));
        s.ping_if_due(t0 + Duration::from_millis(500));
        assert_eq!(next(), "WATCHDOG=1");
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_millis(1000)));
        s.stopping();
        assert_eq!(next(), "STOPPING=1\nSTATUS=stopping");
    }
}
