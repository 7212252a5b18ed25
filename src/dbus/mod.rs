//! The D-Bus front end: `org.pidvisor.Supervisor1`, shaped like systemd1
//! (spec linux.md §2, design.md §2).
//!
//! It never touches process state. Every method becomes a typed
//! [`api::Request`] on a channel to the reactor (the same requests the
//! XML-RPC face makes, so both show the same truth), followed by a wake of
//! the reactor's `mio::Waker`; the typed answer comes back on a
//! per-request channel and is rendered here.
//! State changes flow the other way on a bounded channel that the reactor
//! only ever `try_send`s into: when it is full the reactor raises a resync
//! flag and the D-Bus side re-reads everything instead.
//!
//! zbus runs everything here (method calls and the event pump) as tasks on
//! its executor thread (async-io adds its I/O thread); both start after the
//! daemon has daemonized and blocked its signals. The only lock is around
//! the reactor's waker, which each new reactor (after a reload) replaces.
//!
//! It owns the bus connection, the exported objects and the mirror of what
//! they last showed; it may call `api` (the requests and answers), `config`
//! (the D-Bus settings) and `sys::user` (the access policy); the daemon
//! starts it and the reactor's `bridge` part talks to it.

mod access;
mod error;
mod manager;
mod process;
mod pump;
mod readonly;

use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc, Mutex};

use crate::api::{self, Request as ApiRequest, Response};
use crate::config::{Config, DbusMode, LogLevel};

pub use error::Error;

/// The well-known bus name.
pub const BUS_NAME: &str = "org.pidvisor.Supervisor1";
/// The manager object.
pub const MANAGER_PATH: &str = "/org/pidvisor/Supervisor1";
pub const MANAGER_IFACE: &str = "org.pidvisor.Supervisor1.Manager";
pub const PROCESS_IFACE: &str = "org.pidvisor.Supervisor1.Process";
/// Events queued for the D-Bus side before the reactor gives up and asks
/// for a resync.
pub const EVENT_QUEUE: usize = 256;

/// One process as D-Bus shows it, built by the reactor from the core.
pub use crate::api::ProcessSnapshot as Snapshot;

/// The object path of a snapshot's process.
pub fn snapshot_path(s: &Snapshot) -> String {
    process_path(&s.group, &s.name)
}

/// Escape like systemd's `bus_label_escape`: every byte outside
/// `[A-Za-z0-9]` becomes `_` and two lowercase hex digits; empty is `_`.
pub fn escape_label(s: &str) -> String {
    if s.is_empty() {
        return "_".into();
    }
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

/// The object path of process `group:name`.
pub fn process_path(group: &str, name: &str) -> String {
    format!(
        "{MANAGER_PATH}/process/{}",
        escape_label(&format!("{group}:{name}"))
    )
}

/// A process's name as `status` shows it: `name` when it is alone in a
/// group of its own name, else `group:name`.
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.into()
    } else {
        format!("{group}:{name}")
    }
}

/// What the D-Bus side asks of the reactor.
#[derive(Debug)]
pub enum Request {
    /// A typed request, answered on `reply`.
    Call {
        request: ApiRequest,
        reply: async_channel::Sender<api::Reply>,
    },
    /// Queue an [`Event::Resync`] behind the events already queued.
    Resync,
    /// A line for the main log.
    Log { level: LogLevel, message: String },
}

/// What the reactor tells the D-Bus side.
#[derive(Debug, Clone)]
pub enum Event {
    /// A state change (`from` -> `to`) and the process as it is now.
    Changed {
        from: api::ProcessState,
        to: api::ProcessState,
        snap: Box<Snapshot>,
    },
    /// The process changed without a state change (its `STATUS=` text or
    /// main pid): `PropertiesChanged` only.
    Updated(Box<Snapshot>),
    GroupAdded(Vec<Snapshot>),
    GroupRemoved(String),
    /// Every process as it is now: the D-Bus side reconciles its objects
    /// with it (a new core after a reload, or events were dropped). It
    /// travels in order with the other events, so none older follows it.
    Resync(Vec<Snapshot>),
    /// Answered once everything queued before it has gone out on the bus:
    /// the daemon waits for it before it exits, so that the reply to a
    /// `Shutdown` (sent from this side's thread) reaches its caller.
    Flushed(mpsc::Sender<()>),
}

/// The reactor's end of the bridge; outlives one reactor (reloads).
pub struct Link {
    pub requests: mpsc::Receiver<Request>,
    pub events: async_channel::Sender<Event>,
    /// Set by the reactor when `events` was full: some events were lost.
    pub resync: Arc<AtomicBool>,
    /// Filled by each new reactor with a waker on its poll.
    pub waker: Arc<Mutex<Option<mio::Waker>>>,
    /// Keeps the connection (and zbus's executor) alive.
    _conn: zbus::Connection,
}

impl Link {
    /// Before the daemon exits: wait, at most `within`, until the D-Bus
    /// side has sent what it had to send (replies to calls the reactor has
    /// answered included).
    pub fn flush(&self, within: std::time::Duration) {
        let (done, wait) = mpsc::channel();
        if self.events.try_send(Event::Flushed(done)).is_ok() {
            let _ = wait.recv_timeout(within);
        }
    }
}

/// The D-Bus side's handle for sending requests.
#[derive(Clone)]
pub(crate) struct Client {
    tx: mpsc::Sender<Request>,
    waker: Arc<Mutex<Option<mio::Waker>>>,
}

impl Client {
    fn send(&self, r: Request) -> Result<(), Error> {
        self.tx
            .send(r)
            .map_err(|_| Error::SHUTDOWN_STATE("SHUTDOWN_STATE".into()))?;
        // Enqueue, then wake; a wake that finds nothing is harmless.
        if let Some(w) = self
            .waker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = w.wake();
        }
        Ok(())
    }

    /// Have `request` answered by the reactor and wait for the answer;
    /// a fault is the D-Bus error of the same name.
    pub(crate) async fn ask(&self, request: ApiRequest) -> Result<Response, Error> {
        let (tx, rx) = async_channel::bounded(1);
        self.send(Request::Call { request, reply: tx })?;
        match rx.recv().await {
            Ok(r) => r.map_err(Error::from_fault),
            // The reactor ended (shutdown) with the call in flight.
            Err(_) => Err(Error::SHUTDOWN_STATE("SHUTDOWN_STATE".into())),
        }
    }

    /// Snapshots of every process, or of the one with this `group:name`.
    pub(crate) async fn snapshots(&self, key: Option<String>) -> Result<Vec<Snapshot>, Error> {
        match self.ask(ApiRequest::Snapshots { key }).await? {
            Response::Snapshots(s) => Ok(s),
            other => Err(Error::unexpected(&other)),
        }
    }

    /// Ask for a full resync; fire and forget.
    pub(crate) fn request_resync(&self) {
        let _ = self.send(Request::Resync);
    }

    pub(crate) fn log(&self, level: LogLevel, message: String) {
        let _ = self.send(Request::Log { level, message });
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot connect to the D-Bus {bus} bus: {reason}")]
    Connect { bus: &'static str, reason: String },
    #[error("cannot own the D-Bus name {BUS_NAME} on the {bus} bus: {reason}")]
    Name { bus: &'static str, reason: String },
    #[error("cannot serve D-Bus objects: {0}")]
    Serve(#[source] Box<zbus::Error>),
}

/// Who may change state besides root and the daemon's own uid.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    pub daemon_uid: u32,
    pub group: Option<(String, u32)>,
}

/// What became of the service at start-up.
pub enum Service {
    /// `dbus = false`.
    Off,
    /// `dbus = auto` and no usable bus: why, for the main log.
    Unavailable(String),
    Running(Link),
}

/// Connect, serve the manager and one object per configured process, then
/// take the bus name. Errors only with `dbus = true`.
pub fn start(config: &Config, user_mode: bool) -> Result<Service, StartError> {
    let mode = config.supervisord.dbus;
    if mode == DbusMode::Off {
        return Ok(Service::Off);
    }
    match connect(config, user_mode) {
        Ok(link) => Ok(Service::Running(link)),
        Err(e) if mode == DbusMode::Auto => {
            Ok(Service::Unavailable(format!("D-Bus service disabled: {e}")))
        }
        Err(e) => Err(e),
    }
}

/// The bus address: the environment's, else the well-known default.
fn bus_address(user_mode: bool) -> String {
    let var = if user_mode {
        "DBUS_SESSION_BUS_ADDRESS"
    } else {
        "DBUS_SYSTEM_BUS_ADDRESS"
    };
    match std::env::var(var) {
        Ok(a) if !a.is_empty() => a,
        _ if user_mode => format!(
            "unix:path={}/bus",
            std::env::var("XDG_RUNTIME_DIR").unwrap_or_default()
        ),
        _ => "unix:path=/var/run/dbus/system_bus_socket".into(),
    }
}

/// Connect to the first reachable unix address of `addresses` (`;`
/// separated) here, synchronously. zbus would connect on its `blocking`
/// thread pool, whose idle threads never exit and wake twice a second,
/// which an idle pidvisord must not do.
fn open_stream(addresses: &str) -> Result<std::os::unix::net::UnixStream, String> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixStream};
    use zbus::address::transport::{Transport, UnixSocket};
    let mut last = format!("no unix address in {addresses:?}");
    for one in addresses.split(';').filter(|a| !a.is_empty()) {
        let parsed = match zbus::Address::try_from(one) {
            Ok(a) => a,
            Err(e) => {
                last = format!("bad address {one:?}: {e}");
                continue;
            }
        };
        let addr = match parsed.transport() {
            Transport::Unix(u) => match u.path() {
                UnixSocket::File(p) => SocketAddr::from_pathname(p),
                UnixSocket::Abstract(name) => {
                    SocketAddr::from_abstract_name(name.as_encoded_bytes())
                }
                _ => continue,
            },
            _ => continue,
        };
        match addr.and_then(|a| UnixStream::connect_addr(&a)) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("{one}: {e}"),
        }
    }
    Err(last)
}

fn connect(config: &Config, user_mode: bool) -> Result<Link, StartError> {
    let bus = if user_mode { "session" } else { "system" };
    let stream = open_stream(&bus_address(user_mode))
        .map_err(|reason| StartError::Connect { bus, reason })?;
    let conn = zbus::blocking::connection::Builder::async_io_unix_stream(stream)
        .build()
        .map_err(|e| StartError::Connect {
            bus,
            reason: e.to_string(),
        })?;
    let (tx, requests) = mpsc::channel();
    let (events, events_rx) = async_channel::bounded(EVENT_QUEUE);
    let waker = Arc::new(Mutex::new(None));
    let resync = Arc::new(AtomicBool::new(false));
    let client = Client {
        tx,
        waker: waker.clone(),
    };
    let policy = Policy {
        daemon_uid: crate::sys::cred::getuid(),
        group: config
            .supervisord
            .dbus_group
            .as_ref()
            .and_then(|g| access::group_gid(g).map(|gid| (g.clone(), gid))),
    };
    let server = conn.object_server();
    server
        .at(
            MANAGER_PATH,
            manager::Manager::new(client.clone(), policy.clone()),
        )
        .map_err(|e| StartError::Serve(Box::new(e)))?;
    let mut mirror = pump::Mirror::new();
    for g in &config.groups {
        for p in &g.processes {
            let snap = pump::placeholder(&g.name, &p.name);
            server
                .at(
                    snapshot_path(&snap),
                    process::ProcessObject::served(
                        &g.name,
                        &p.name,
                        client.clone(),
                        policy.clone(),
                    ),
                )
                .map_err(|e| StartError::Serve(Box::new(e)))?;
            mirror.insert(snap.key(), snap);
        }
    }
    drop(server);
    // Objects first, then the name: a client that sees the name finds them.
    request_name(&conn).map_err(|reason| StartError::Name { bus, reason })?;
    let conn: zbus::Connection = conn.into();
    let pump = pump::Pump {
        conn: conn.clone(),
        client,
        policy,
        events: events_rx,
        resync: resync.clone(),
        mirror,
    };
    conn.executor()
        .spawn(pump.run(), "pidvisor-dbus-pump")
        .detach();
    Ok(Link {
        requests,
        events,
        resync,
        waker,
        _conn: conn,
    })
}

fn request_name(conn: &zbus::blocking::Connection) -> Result<(), String> {
    use zbus::fdo::{RequestNameFlags, RequestNameReply};
    let proxy = zbus::blocking::fdo::DBusProxy::new(conn).map_err(|e| e.to_string())?;
    match proxy.request_name(
        BUS_NAME
            .try_into()
            .map_err(|e: zbus::names::Error| e.to_string())?,
        RequestNameFlags::DoNotQueue.into(),
    ) {
        Ok(RequestNameReply::PrimaryOwner) | Ok(RequestNameReply::AlreadyOwner) => Ok(()),
        Ok(other) => Err(format!("the bus answered {other:?} (another owner?)")),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_systemd() {
        assert_eq!(
            escape_label("avahi-daemon.service"),
            "avahi_2ddaemon_2eservice"
        );
        assert_eq!(escape_label("web:web_1"), "web_3aweb_5f1");
        assert_eq!(escape_label(""), "_");
        assert_eq!(escape_label("é"), "_c3_a9");
        assert_eq!(
            process_path("g", "p"),
            "/org/pidvisor/Supervisor1/process/g_3ap"
        );
    }
}
