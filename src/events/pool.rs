//! A listener pool: the buffer of one `[eventlistener:x]` and its
//! `numprocs` listeners.
//!
//! Events the pool subscribes to are appended to its buffer (at most
//! `buffer_size`; when full, the oldest is discarded and the main log says
//! so). Each event keeps the global serial and the pool serial it got when
//! first accepted, also when it comes back after a rejection, a failed
//! write or the death of the listener that had it: then it goes to the head
//! of the buffer. The oldest event goes to the first listener, in the
//! pool's process order, that is RUNNING (past `startsecs`) and READY.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::config::LogLevel;
use crate::core::ProcId;

use super::event::Event;
use super::kind::EventKind;
use super::listener::{Lines, ListenerState, Protocol, Verdict};

/// An event in a pool's buffer, with its serials.
#[derive(Debug, Clone)]
pub struct Buffered {
    pub event: Arc<Event>,
    pub serial: u64,
    pub pool_serial: u64,
}

/// One listener process of a pool.
#[derive(Debug, Clone)]
pub struct Listener {
    pub id: ProcId,
    /// The process name, for log lines.
    pub name: String,
    /// Its process is RUNNING (only then does it get events).
    running: bool,
    /// Its stdin took our last write (false after EPIPE, until respawned).
    writable: bool,
    protocol: Protocol,
    /// The event it is processing (BUSY).
    event: Option<Buffered>,
}

impl Listener {
    fn new(id: ProcId, name: String) -> Listener {
        Listener {
            id,
            name,
            running: false,
            writable: true,
            protocol: Protocol::default(),
            event: None,
        }
    }

    pub fn state(&self) -> ListenerState {
        self.protocol.state()
    }

    fn can_take(&self) -> bool {
        self.running && self.writable && self.state() == ListenerState::Ready
    }
}

/// Where a pool's work goes: bytes for listeners' stdin and log lines.
pub trait Sink {
    fn write(&mut self, id: ProcId, bytes: Vec<u8>);
    fn log(&mut self, level: LogLevel, message: String);
}

#[derive(Debug, Clone)]
pub struct Pool {
    pub name: String,
    subscriptions: Vec<EventKind>,
    buffer_size: usize,
    buffer: VecDeque<Buffered>,
    /// The last pool serial handed out.
    serial: Option<u64>,
    pub listeners: Vec<Listener>,
}

impl Pool {
    /// `members`: the pool's processes (id, name) in process order.
    pub fn new(
        name: &str,
        subscriptions: Vec<EventKind>,
        buffer_size: usize,
        members: Vec<(ProcId, String)>,
    ) -> Pool {
        Pool {
            name: name.to_string(),
            subscriptions,
            buffer_size: buffer_size.max(1),
            buffer: VecDeque::new(),
            serial: None,
            listeners: members
                .into_iter()
                .map(|(id, n)| Listener::new(id, n))
                .collect(),
        }
    }

    /// Whether it subscribes to events of this type.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.subscriptions.iter().any(|s| kind.is_a(*s))
    }

    /// The events waiting, oldest first (for tests and diagnostics).
    pub fn buffered(&self) -> impl Iterator<Item = &Buffered> {
        self.buffer.iter()
    }

    /// A new event (already given its global serial): buffer it.
    pub fn accept(&mut self, event: Arc<Event>, serial: u64, sink: &mut dyn Sink) {
        let pool_serial = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(pool_serial);
        let b = Buffered {
            event,
            serial,
            pool_serial,
        };
        self.push(b, false, sink);
    }

    /// An event came back (rejected, unwritten, its listener died): to the
    /// head of the buffer.
    fn rebuffer(&mut self, b: Buffered, sink: &mut dyn Sink) {
        sink.log(
            LogLevel::Debug,
            format!(
                "rebuffering event {} for pool {} (buf size={}, max={})",
                b.serial,
                self.name,
                self.buffer.len(),
                self.buffer_size
            ),
        );
        self.push(b, true, sink);
    }

    fn push(&mut self, b: Buffered, head: bool, sink: &mut dyn Sink) {
        if self.buffer.len() >= self.buffer_size {
            if let Some(old) = self.buffer.pop_front() {
                sink.log(
                    LogLevel::Error,
                    format!(
                        "pool {} event buffer overflowed, discarding event {}",
                        self.name, old.serial
                    ),
                );
            }
        }
        if head {
            self.buffer.push_front(b);
        } else {
            self.buffer.push_back(b);
        }
    }

    /// Send buffered events to every listener that can take one.
    pub fn dispatch(&mut self, identifier: &str, sink: &mut dyn Sink) {
        while !self.buffer.is_empty() {
            let Some(li) = self.listeners.iter().position(Listener::can_take) else {
                return;
            };
            let Some(b) = self.buffer.pop_front() else {
                return;
            };
            let bytes = envelope(identifier, &self.name, &b).into_bytes();
            let l = &mut self.listeners[li];
            l.protocol.sent();
            sink.log(
                LogLevel::Debug,
                format!("event {} sent to listener {}", b.serial, l.name),
            );
            l.event = Some(b);
            sink.write(l.id, bytes);
        }
    }

    fn listener_mut(&mut self, id: ProcId) -> Option<&mut Listener> {
        self.listeners.iter_mut().find(|l| l.id == id)
    }

    /// Bytes from a listener's stdout.
    pub fn output(&mut self, id: ProcId, data: &[u8], sink: &mut dyn Sink) {
        let Some(l) = self.listener_mut(id) else {
            return;
        };
        let mut lines: Lines = Vec::new();
        let verdict = l.protocol.feed(data, &l.name, &mut lines);
        let back = match verdict {
            Some(Verdict::Rejected) => l.event.take(),
            Some(Verdict::Processed) => {
                l.event = None;
                None
            }
            None => None,
        };
        for (level, m) in lines {
            sink.log(level, m);
        }
        if let Some(b) = back {
            self.rebuffer(b, sink);
        }
    }

    /// Our write to a listener's stdin failed (EPIPE): Supervisor skips it
    /// and keeps the event.
    pub fn write_failed(&mut self, id: ProcId, sink: &mut dyn Sink) {
        let Some(l) = self.listener_mut(id) else {
            return;
        };
        l.writable = false;
        l.protocol.unsent();
        let back = l.event.take();
        if let Some(b) = back {
            sink.log(
                LogLevel::Debug,
                format!(
                    "epipe occurred while sending event {} to listener {}, listener state unchanged",
                    b.serial, l.name
                ),
            );
            self.rebuffer(b, sink);
        }
    }

    /// A listener's process is spawned (new protocol, ACKNOWLEDGED),
    /// RUNNING (may get events), or no longer running: an event it had
    /// comes back to the buffer once its process is gone.
    pub fn process_state(&mut self, id: ProcId, to: crate::api::ProcessState, sink: &mut dyn Sink) {
        use crate::api::ProcessState as S;
        let Some(l) = self.listener_mut(id) else {
            return;
        };
        l.running = to == S::Running;
        let back = match to {
            S::Starting => {
                l.protocol = Protocol::default();
                l.writable = true;
                l.event.take()
            }
            S::Stopped | S::Exited | S::Backoff | S::Fatal => l.event.take(),
            S::Running | S::Stopping | S::Unknown => None,
        };
        if let Some(b) = back {
            self.rebuffer(b, sink);
        }
    }
}

/// `ver:3.0 server:<identifier> serial:N pool:P poolserial:M eventname:E len:L\n<payload>`.
pub fn envelope(identifier: &str, pool: &str, b: &Buffered) -> String {
    format!(
        "ver:3.0 server:{identifier} serial:{} pool:{pool} poolserial:{} eventname:{} len:{}\n{}",
        b.serial,
        b.pool_serial,
        b.event.kind.name(),
        b.event.len(),
        b.event.payload
    )
}
