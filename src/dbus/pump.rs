//! Turns the reactor's events into D-Bus objects and signals: objects come
//! and go with groups, `PropertiesChanged` and `ProcessStateChanged` follow
//! every state change. Runs as a task on zbus's executor.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use zbus::names::InterfaceName;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, Value};

use super::manager::Manager;
use super::process::{changed, ProcessObject, Served};
use super::{snapshot_path, Client, Event, Policy, Snapshot, MANAGER_PATH, PROCESS_IFACE};
use crate::api::ProcessState;
use crate::config::LogLevel;

/// What D-Bus last showed, per `group:name`: the base for change signals.
pub type Mirror = BTreeMap<String, Snapshot>;

/// A configured process before the reactor has said anything about it.
pub fn placeholder(group: &str, name: &str) -> Snapshot {
    Snapshot {
        name: name.into(),
        group: group.into(),
        namespec: super::namespec(group, name),
        state: ProcessState::Stopped,
        pid: 0,
        description: "Not started".into(),
        exit_status: 0,
        spawn_error: String::new(),
        start_usec: 0,
        stop_usec: 0,
        restarts: 0,
        control_group: String::new(),
        status_text: String::new(),
    }
}

pub(crate) struct Pump {
    pub conn: zbus::Connection,
    pub client: Client,
    pub policy: Policy,
    pub events: async_channel::Receiver<Event>,
    pub resync: Arc<AtomicBool>,
    pub mirror: Mirror,
}

impl Pump {
    pub(crate) async fn run(mut self) {
        let conn = self.conn.clone();
        let client = self.client.clone();
        self.conn
            .executor()
            .spawn(
                async move {
                    conn.closed().await;
                    // The daemon carries on without D-Bus; the control
                    // socket is unaffected.
                    client.log(
                        LogLevel::Critical,
                        "lost the connection to the D-Bus bus; the D-Bus service is gone until pidvisord restarts".into(),
                    );
                },
                "pidvisor-dbus-watch",
            )
            .detach();
        while let Ok(ev) = self.events.recv().await {
            if let Event::Flushed(done) = ev {
                self.flush().await;
                let _ = done.send(());
                continue;
            }
            if self.conn.is_closed() {
                // Keep draining so the reactor's queue never stays full.
                continue;
            }
            self.apply(ev).await;
            // Events were dropped: ask for the whole state, which arrives
            // in order behind what is queued now.
            if self.resync.swap(false, Ordering::SeqCst) {
                self.client.request_resync();
            }
        }
    }

    /// A round trip to the bus: the bus handles a connection's messages in
    /// order, so its answer comes after every message we sent before the
    /// ping. The method returns of calls answered before this event was
    /// queued were sent before it: their tasks were woken first on this
    /// single-threaded executor.
    async fn flush(&self) {
        if self.conn.is_closed() {
            return;
        }
        let _ = self
            .conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus.Peer"),
                "Ping",
                &(),
            )
            .await;
    }

    async fn apply(&mut self, ev: Event) {
        match ev {
            // Handled in `run`.
            Event::Flushed(done) => {
                let _ = done.send(());
            }
            Event::Changed { from, to, snap } => {
                let key = snap.key();
                let path = snapshot_path(&snap);
                match self.mirror.get(&key).cloned() {
                    Some(old) => self.update(&old, &snap).await,
                    None => self.add(&snap).await,
                }
                self.mirror.insert(key, (*snap).clone());
                if let Some(e) = emitter(&self.conn, MANAGER_PATH) {
                    let _ = Manager::process_state_changed(
                        &e,
                        &snap.namespec,
                        obj(&path),
                        from.name(),
                        to.name(),
                    )
                    .await;
                }
            }
            Event::Updated(snap) => {
                if let Some(old) = self.mirror.get(&snap.key()).cloned() {
                    self.update(&old, &snap).await;
                    self.mirror.insert(snap.key(), *snap);
                }
            }
            Event::GroupAdded(snaps) => {
                for s in snaps {
                    if !self.mirror.contains_key(&s.key()) {
                        self.add(&s).await;
                    }
                    self.mirror.insert(s.key(), s);
                }
            }
            Event::GroupRemoved(group) => {
                let gone: Vec<Snapshot> = self
                    .mirror
                    .values()
                    .filter(|s| s.group == group)
                    .cloned()
                    .collect();
                for s in gone {
                    self.remove(&s).await;
                }
            }
            Event::Resync(snaps) => {
                let now: HashMap<String, Snapshot> =
                    snaps.into_iter().map(|s| (s.key(), s)).collect();
                let gone: Vec<Snapshot> = self
                    .mirror
                    .values()
                    .filter(|s| !now.contains_key(&s.key()))
                    .cloned()
                    .collect();
                for s in gone {
                    self.remove(&s).await;
                }
                for (key, s) in now {
                    match self.mirror.get(&key).cloned() {
                        Some(old) => self.update(&old, &s).await,
                        None => self.add(&s).await,
                    }
                    self.mirror.insert(key, s);
                }
            }
        }
    }

    async fn add(&self, s: &Snapshot) {
        let object =
            ProcessObject::served(&s.group, &s.name, self.client.clone(), self.policy.clone());
        let path = snapshot_path(s);
        if let Ok(true) = self.conn.object_server().at(path.as_str(), object).await {
            if let Some(e) = emitter(&self.conn, MANAGER_PATH) {
                let _ = Manager::process_new(&e, &s.namespec, obj(&path)).await;
            }
        }
    }

    async fn remove(&mut self, s: &Snapshot) {
        let path = snapshot_path(s);
        self.mirror.remove(&s.key());
        let _ = self
            .conn
            .object_server()
            .remove::<Served, _>(path.as_str())
            .await;
        if let Some(e) = emitter(&self.conn, MANAGER_PATH) {
            let _ = Manager::process_removed(&e, &s.namespec, obj(&path)).await;
        }
    }

    /// One `PropertiesChanged` with every signalled property that differs.
    async fn update(&self, old: &Snapshot, new: &Snapshot) {
        let diff = changed(old, new);
        if diff.is_empty() {
            return;
        }
        let path = snapshot_path(new);
        let Some(e) = emitter(&self.conn, path.as_str()) else {
            return;
        };
        let map: HashMap<&str, Value<'_>> = diff.into_iter().map(|(k, v)| (k, v.into())).collect();
        let _ = zbus::fdo::Properties::properties_changed(
            &e,
            InterfaceName::from_static_str_unchecked(PROCESS_IFACE),
            map,
            Cow::Borrowed(&[]),
        )
        .await;
    }
}

fn emitter<'a>(conn: &'a zbus::Connection, path: &'a str) -> Option<SignalEmitter<'a>> {
    SignalEmitter::new(conn, path).ok()
}

fn obj(path: &str) -> ObjectPath<'_> {
    ObjectPath::try_from(path).unwrap_or_else(|_| ObjectPath::from_static_str_unchecked("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;
    use std::sync::{mpsc, Mutex};
    use std::time::Duration;

    use zbus::blocking::connection::Builder;
    use zbus::message::Type;

    use crate::dbus::Request;

    fn snap(group: &str, name: &str, state: &str, pid: u32) -> Snapshot {
        let mut s = placeholder(group, name);
        s.state = ProcessState::from_name(state).unwrap();
        s.pid = pid;
        s
    }

    /// The pump on one end of a socket pair (peer-to-peer, no bus daemon);
    /// the other end collects the signals it emits.
    struct Rig {
        server: zbus::blocking::Connection,
        events: async_channel::Sender<Event>,
        resync: Arc<AtomicBool>,
        requests: mpsc::Receiver<Request>,
        signals: mpsc::Receiver<(String, String, String)>,
        _peer: zbus::blocking::Connection,
    }

    impl Rig {
        fn new() -> Rig {
            let (a, b) = UnixStream::pair().unwrap();
            let guid = zbus::Guid::generate();
            let server = std::thread::spawn(move || {
                Builder::async_io_unix_stream(a)
                    .server(guid)
                    .unwrap()
                    .p2p()
                    .build()
                    .unwrap()
            });
            let peer = Builder::async_io_unix_stream(b).p2p().build().unwrap();
            let server = server.join().unwrap();
            let (tx, requests) = mpsc::channel();
            let client = Client {
                tx,
                waker: Arc::new(Mutex::new(None)),
            };
            let (events, events_rx) = async_channel::bounded(8);
            let resync = Arc::new(AtomicBool::new(false));
            let conn = server.inner().clone();
            let pump = Pump {
                conn: conn.clone(),
                client,
                policy: Policy::default(),
                events: events_rx,
                resync: resync.clone(),
                mirror: Mirror::new(),
            };
            conn.executor().spawn(pump.run(), "pump").detach();
            // (member, path, body as debug text) of every signal received.
            let (sig_tx, signals) = mpsc::channel();
            let iter = zbus::blocking::MessageIterator::from(&peer);
            std::thread::spawn(move || {
                for m in iter.flatten() {
                    let h = m.header();
                    if h.message_type() != Type::Signal {
                        continue;
                    }
                    let member = h.member().map(|m| m.to_string()).unwrap_or_default();
                    let path = h.path().map(|p| p.to_string()).unwrap_or_default();
                    let body = format!(
                        "{:?}",
                        m.body().deserialize::<zbus::zvariant::Structure<'_>>()
                    );
                    if sig_tx.send((member, path, body)).is_err() {
                        break;
                    }
                }
            });
            Rig {
                server,
                events,
                resync,
                requests,
                signals,
                _peer: peer,
            }
        }

        /// The next signal named `member`, skipping others.
        fn expect(&self, member: &str) -> (String, String) {
            loop {
                let (m, path, body) = self
                    .signals
                    .recv_timeout(Duration::from_secs(10))
                    .unwrap_or_else(|_| panic!("no {member} signal"));
                if m == member {
                    return (path, body);
                }
            }
        }

        fn has_object(&self, s: &Snapshot) -> bool {
            self.server
                .object_server()
                .interface::<_, Served>(snapshot_path(s))
                .is_ok()
        }
    }

    #[test]
    fn events_become_objects_and_signals() {
        let rig = Rig::new();
        let a = snap("g", "a", "STOPPED", 0);
        rig.events
            .try_send(Event::GroupAdded(vec![a.clone()]))
            .unwrap();
        let (_, body) = rig.expect("ProcessNew");
        assert!(
            body.contains("g:a") && body.contains(&snapshot_path(&a)),
            "{body}"
        );
        assert!(rig.has_object(&a));

        let started = snap("g", "a", "RUNNING", 42);
        rig.events
            .try_send(Event::Changed {
                from: ProcessState::Starting,
                to: ProcessState::Running,
                snap: Box::new(started),
            })
            .unwrap();
        let (path, body) = rig.expect("PropertiesChanged");
        assert_eq!(path, snapshot_path(&a));
        assert!(body.contains("RUNNING") && body.contains("42"), "{body}");
        assert!(body.contains("active"), "{body}");
        let (_, body) = rig.expect("ProcessStateChanged");
        assert!(
            body.contains("STARTING") && body.contains("RUNNING"),
            "{body}"
        );

        rig.events
            .try_send(Event::GroupRemoved("g".into()))
            .unwrap();
        let (_, body) = rig.expect("ProcessRemoved");
        assert!(body.contains(&snapshot_path(&a)), "{body}");
        assert!(!rig.has_object(&a));
    }

    #[test]
    fn dropped_events_end_in_a_resync_that_reconciles() {
        let rig = Rig::new();
        let a = snap("g", "a", "RUNNING", 1);
        rig.events
            .try_send(Event::GroupAdded(vec![a.clone()]))
            .unwrap();
        rig.expect("ProcessNew");
        // The reactor found the queue full: it raised the flag.
        rig.resync.store(true, Ordering::SeqCst);
        rig.events.try_send(Event::GroupAdded(vec![])).unwrap();
        let req = rig
            .requests
            .recv_timeout(Duration::from_secs(10))
            .expect("a resync request");
        assert!(matches!(req, Request::Resync), "{req:?}");
        // Meanwhile `a` went away and `b` came, and `a`'s last change is lost.
        let b = snap("h", "b", "RUNNING", 2);
        rig.events.try_send(Event::Resync(vec![b.clone()])).unwrap();
        let (_, body) = rig.expect("ProcessRemoved");
        assert!(body.contains(&snapshot_path(&a)), "{body}");
        let (_, body) = rig.expect("ProcessNew");
        assert!(body.contains(&snapshot_path(&b)), "{body}");
        assert!(rig.has_object(&b) && !rig.has_object(&a));
    }
}
