//! The event-listener face: Supervisor's event system, as one more front
//! end on the supervisor.
//!
//! Supervisor tells `[eventlistener:x]` processes what happens — process
//! state changes, output, ticks, remote messages, groups added and removed,
//! the daemon starting and stopping — through a small protocol on their
//! stdin and stdout (spec §7). superlance's `crashmail`, `memmon` and
//! `httpok`, and every listener written with `supervisor.childutils`, speak
//! it. This module is that protocol, and nothing else:
//!
//! * [`kind`]: the event types, with Supervisor's names and inheritance
//!   (`PROCESS_STATE` matches every `PROCESS_STATE_*`, `EVENT` all).
//! * [`event`]: an [`Event`] and its payload, rendered as Supervisor
//!   renders it (`processname:web groupname:web from_state:RUNNING ...`).
//! * [`listener`]: one listener's protocol (ACKNOWLEDGED, `READY\n`, BUSY,
//!   `RESULT n\n...`, UNKNOWN).
//! * [`pool`]: a pool's buffer (`buffer_size`, oldest dropped when full,
//!   rejected events back at its head) and the choice of listener.
//! * [`tick`]: `TICK_5/60/3600` on wall-clock boundaries.
//!
//! # Shape
//!
//! Like the core, it is pure: it reads no clock, touches no descriptor and
//! knows no process. [`Events`] takes inputs — an event happened
//! ([`Events::notify`]), a listener wrote to its stdout
//! ([`Events::listener_output`]), a listener's process changed state
//! ([`Events::process_state`]), a write to a listener failed
//! ([`Events::write_failed`]), the time ([`Events::handle_timeout`]) — and
//! gives back [`Output`]s: bytes to write to a listener's stdin and
//! main-log lines, drained with [`Events::poll_output`]. Its
//! [`Events::next_deadline`] is the next tick boundary some pool listens
//! for, or none: without tick listeners it never asks to be woken.
//!
//! # Who calls it, what it calls
//!
//! The reactor owns one [`Events`] per configuration run and wires it: it
//! turns the core's `StateChanged`, `GroupAdded`, `GroupRemoved` and
//! `SupervisorStopping` effects, the pipes' output and
//! `sendRemoteCommEvent` into [`Event`]s, feeds a listener's stdout here
//! instead of to its log, and writes what comes out to the listener's
//! stdin. This module imports only `api` (process states, streams),
//! `config` (a pool's spec, log levels) and `core` (ids and [`Now`]);
//! never another face.
//!
//! # Divergences from Supervisor
//!
//! * A pool that lists both a type and one of its ancestors (`events=
//!   PROCESS_STATE,PROCESS_STATE_EXITED`) gets each event once;
//!   Supervisor's callback list buffers it twice.
//! * A result of length 0 (`RESULT 0\n`) is judged at once, not when the
//!   next byte arrives.
//! * A listener's stdout, the protocol, is not copied into its
//!   `stdout_logfile` (Supervisor writes `READY`/`RESULT` there); its
//!   stderr is logged as any program's.

pub mod event;
pub mod kind;
pub mod listener;
pub mod pool;
pub mod tick;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

pub use event::{About, Event, Period};
pub use kind::EventKind;
pub use listener::ListenerState;

use crate::api::ProcessState;
use crate::config::{EventPoolSpec, LogLevel};
use crate::core::{Now, ProcId};
use pool::{Pool, Sink};
use tick::Ticks;

/// Work for the reactor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes to the listener's stdin (an event envelope).
    /// Report EPIPE with [`Events::write_failed`].
    Write { id: ProcId, bytes: Vec<u8> },
    /// A main-log line.
    Log { level: LogLevel, message: String },
}

#[derive(Debug, Default)]
struct Outbox(VecDeque<Output>);

impl Sink for Outbox {
    fn write(&mut self, id: ProcId, bytes: Vec<u8>) {
        self.0.push_back(Output::Write { id, bytes });
    }

    fn log(&mut self, level: LogLevel, message: String) {
        self.0.push_back(Output::Log { level, message });
    }
}

/// Every pool of one configuration run, and the serials they share.
#[derive(Debug)]
pub struct Events {
    /// `[supervisord] identifier`, the `server:` of every envelope.
    identifier: String,
    /// In the order they were added (Supervisor's subscription order).
    pools: Vec<Pool>,
    /// The last global serial handed out.
    serial: Option<u64>,
    ticks: Ticks,
    out: Outbox,
    /// Something changed that may let a pool send an event.
    dirty: bool,
}

impl Events {
    pub fn new(identifier: &str) -> Events {
        Events {
            identifier: identifier.to_string(),
            pools: Vec::new(),
            serial: None,
            ticks: Ticks::default(),
            out: Outbox::default(),
            dirty: false,
        }
    }

    /// A pool was added (at start or by `update`): `members` are its
    /// listener processes (id, name) in process order. Add it before
    /// notifying its `PROCESS_GROUP_ADDED`, which it receives too.
    pub fn add_pool(&mut self, name: &str, spec: &EventPoolSpec, members: Vec<(ProcId, String)>) {
        let mut subscriptions: Vec<EventKind> = spec
            .events
            .iter()
            .filter_map(|n| EventKind::from_name(n))
            .collect();
        subscriptions.dedup();
        let size = usize::try_from(spec.buffer_size).unwrap_or(1);
        let pool = Pool::new(name, subscriptions, size, members);
        // A period nobody listened to was not watched: start it afresh,
        // rather than tick at once for a boundary long past.
        for p in Period::ALL {
            if pool.wants(p.kind()) && !self.wants(p.kind()) {
                self.ticks.restart(p);
            }
        }
        self.pools.push(pool);
    }

    /// A pool was removed: its buffer goes with it. Notify its
    /// `PROCESS_GROUP_REMOVED` after, which it does not receive.
    pub fn remove_pool(&mut self, name: &str) {
        self.pools.retain(|p| p.name != name);
    }

    /// Whether some pool subscribes to events of this type (so the caller
    /// need not render the payload of one nobody wants).
    pub fn wants(&self, kind: EventKind) -> bool {
        self.pools.iter().any(|p| p.wants(kind))
    }

    /// Whether `id` is a listener (its stdout is the protocol, not a log).
    pub fn is_listener(&self, id: ProcId) -> bool {
        self.pools
            .iter()
            .any(|p| p.listeners.iter().any(|l| l.id == id))
    }

    /// The protocol state of a listener (for tests and diagnostics).
    pub fn listener_state(&self, id: ProcId) -> Option<ListenerState> {
        self.pools
            .iter()
            .flat_map(|p| p.listeners.iter())
            .find(|l| l.id == id)
            .map(|l| l.state())
    }

    /// An event happened: every pool that subscribes to its type buffers
    /// it. The global serial is taken only if one does.
    pub fn notify(&mut self, event: Event) {
        if !self.wants(event.kind) {
            return;
        }
        let serial = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(serial);
        let event = Arc::new(event);
        for pool in self.pools.iter_mut().filter(|p| p.wants(event.kind)) {
            pool.accept(event.clone(), serial, &mut self.out);
        }
        self.dirty = true;
    }

    /// Bytes a listener wrote to its stdout.
    pub fn listener_output(&mut self, id: ProcId, data: &[u8]) {
        for pool in &mut self.pools {
            pool.output(id, data, &mut self.out);
        }
        self.dirty = true;
    }

    /// A process changed state. For a listener: STARTING begins a new
    /// protocol, RUNNING lets it receive events, and an exit puts the
    /// event it had back in the buffer. Call after notifying the state's
    /// own event, as Supervisor does.
    pub fn process_state(&mut self, id: ProcId, to: ProcessState) {
        for pool in &mut self.pools {
            pool.process_state(id, to, &mut self.out);
        }
        self.dirty = true;
    }

    /// Writing to a listener's stdin failed with EPIPE.
    pub fn write_failed(&mut self, id: ProcId) {
        for pool in &mut self.pools {
            pool.write_failed(id, &mut self.out);
        }
        self.dirty = true;
    }

    /// The time: raise the ticks whose boundary has passed.
    pub fn handle_timeout(&mut self, now: Now) {
        for (period, when) in self.ticks.advance(now) {
            self.notify(Event::tick(period, when));
        }
    }

    /// The next tick boundary a pool listens for (never in the past after
    /// `handle_timeout`); `None` without tick listeners.
    pub fn next_deadline(&self) -> Option<Instant> {
        Period::ALL
            .into_iter()
            .filter(|p| self.wants(p.kind()))
            .filter_map(|p| self.ticks.next(p))
            .min()
    }

    /// The next piece of work. Events are handed to listeners here, once
    /// every input so far has been taken in (Supervisor dispatches once
    /// per pass of its loop, after reading and reaping).
    pub fn poll_output(&mut self) -> Option<Output> {
        if self.dirty {
            self.dirty = false;
            for pool in &mut self.pools {
                pool.dispatch(&self.identifier, &mut self.out);
            }
        }
        self.out.0.pop_front()
    }
}

#[cfg(test)]
mod tests;
