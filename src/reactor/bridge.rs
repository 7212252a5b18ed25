//! The reactor's end of the D-Bus bridge: run the D-Bus side's requests as
//! control jobs (ids in a range of their own), answer them on their
//! channels, and pass state changes on without ever blocking.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{now, Reactor};
use crate::control::rpc::{self, Plan};
use crate::control::server::Job;
use crate::control::xmlrpc::{Fault as XmlFault, Value};
use crate::core::{FaultCode, ProcId};
use crate::dbus::{Event, Link, Request, Snapshot};

/// Job ids from here up belong to D-Bus; the control server counts from 1.
const FIRST_ID: u64 = 1 << 62;

pub(super) struct Bridge {
    link: Link,
    pending: HashMap<u64, async_channel::Sender<Result<Value, XmlFault>>>,
    next_id: u64,
    /// The D-Bus side went away: stop sending.
    closed: bool,
}

impl Bridge {
    pub(super) fn new(link: Link) -> Bridge {
        Bridge {
            link,
            pending: HashMap::new(),
            next_id: FIRST_ID,
            closed: false,
        }
    }

    pub(super) fn into_link(self) -> Link {
        self.link
    }

    fn send(&mut self, ev: Event) {
        if !self.closed {
            self.closed = !offer(&self.link.events, &self.link.resync, ev);
        }
    }
}

/// Queue an event without blocking; when the queue is full, drop it and
/// raise `resync` so the D-Bus side re-reads everything. False once the
/// D-Bus side is gone.
fn offer(tx: &async_channel::Sender<Event>, resync: &AtomicBool, ev: Event) -> bool {
    match tx.try_send(ev) {
        Ok(()) => true,
        Err(async_channel::TrySendError::Full(_)) => {
            resync.store(true, Ordering::SeqCst);
            true
        }
        Err(async_channel::TrySendError::Closed(_)) => false,
    }
}

impl Reactor {
    /// Give the D-Bus side a waker on this reactor's poll and the whole
    /// state (a new core may have new groups).
    pub(super) fn bridge_start(&mut self) {
        if self.bridge.is_none() {
            return;
        }
        let waker = match self.waker() {
            Ok(w) => Some(w),
            Err(e) => {
                let msg = format!("cannot create a waker for D-Bus: {e}");
                self.log(crate::config::LogLevel::Critical, &msg);
                None
            }
        };
        let all = self.snapshots(None);
        if let Some(b) = self.bridge.as_mut() {
            *b.link.waker.lock().unwrap_or_else(|e| e.into_inner()) = waker;
            b.send(Event::Resync(all));
        }
    }

    /// Take every queued D-Bus request (the waker only says "look").
    pub(super) fn bridge_poll(&mut self) {
        loop {
            let Some(b) = self.bridge.as_mut() else {
                return;
            };
            let req = match b.link.requests.try_recv() {
                Ok(r) => r,
                Err(_) => return,
            };
            match req {
                Request::Call {
                    method,
                    params,
                    reply,
                } => {
                    let id = b.next_id;
                    b.next_id += 1;
                    match rpc::plan(&method, &params) {
                        // D-Bus never sends multicalls.
                        Plan::Multi(_) => {
                            let _ = reply.try_send(Err(rpc::fault(FaultCode::UnknownMethod, "")));
                        }
                        plan => {
                            b.pending.insert(id, reply);
                            self.jobs.push(Job { id, plan });
                        }
                    }
                }
                Request::Snapshot { key, reply } => {
                    let snaps = self.snapshots(key.as_deref());
                    let _ = reply.try_send(snaps);
                }
                Request::Resync => {
                    let all = self.snapshots(None);
                    if let Some(b) = self.bridge.as_mut() {
                        b.send(Event::Resync(all));
                    }
                }
                Request::Log { level, message } => self.log(level, &message),
            }
        }
    }

    /// The answer to job `id`, from whichever front end asked.
    pub(super) fn answer(&mut self, id: u64, result: Result<Value, XmlFault>) {
        if id >= FIRST_ID {
            if let Some(tx) = self.bridge.as_mut().and_then(|b| b.pending.remove(&id)) {
                let _ = tx.try_send(result);
            }
        } else {
            self.control.answer(id, result, &mut self.jobs);
        }
    }

    pub(super) fn bridge_state_changed(&mut self, id: ProcId, from: &str, to: &str) {
        if self.bridge.is_none() {
            return;
        }
        let Some(snap) = self.snapshot(id) else {
            return;
        };
        let ev = Event::Changed {
            from: from.into(),
            to: to.into(),
            snap: Box::new(snap),
        };
        if let Some(b) = self.bridge.as_mut() {
            b.send(ev);
        }
    }

    pub(super) fn bridge_group_added(&mut self, name: &str) {
        if self.bridge.is_none() {
            return;
        }
        let snaps: Vec<Snapshot> = self
            .core
            .groups()
            .iter()
            .filter(|g| g.spec.name == name)
            .flat_map(|g| g.procs.clone())
            .filter_map(|id| self.snapshot(id))
            .collect();
        if let Some(b) = self.bridge.as_mut() {
            b.send(Event::GroupAdded(snaps));
        }
    }

    pub(super) fn bridge_group_removed(&mut self, name: &str) {
        if let Some(b) = self.bridge.as_mut() {
            b.send(Event::GroupRemoved(name.into()));
        }
    }

    /// Every process (in start order), or the one keyed `group:name`.
    fn snapshots(&self, key: Option<&str>) -> Vec<Snapshot> {
        self.core
            .processes()
            .filter(|(_, p)| key.map_or(true, |k| k == format!("{}:{}", p.spec.group, p.spec.name)))
            .filter_map(|(id, _)| self.snapshot(id))
            .collect()
    }

    fn snapshot(&self, id: ProcId) -> Option<Snapshot> {
        let p = self.core.process(id)?;
        let info = self.core.process_info(id, now());
        let usec = |secs: f64| (secs.max(0.0) * 1e6) as u64;
        Some(Snapshot {
            namespec: p.namespec(),
            name: info.name,
            group: info.group,
            state: info.statename,
            state_code: info.state,
            pid: info.pid,
            description: info.description,
            exit_status: info.exitstatus,
            spawn_error: info.spawnerr,
            start_usec: usec(p.laststart),
            stop_usec: usec(p.laststop),
            restarts: p.restart_count,
            control_group: self.cgroups.control_group(id).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_asks_for_a_resync_and_never_blocks() {
        let (tx, rx) = async_channel::bounded(2);
        let resync = AtomicBool::new(false);
        for _ in 0..5 {
            assert!(offer(&tx, &resync, Event::GroupRemoved("g".into())));
        }
        assert_eq!(rx.len(), 2);
        assert!(resync.load(Ordering::SeqCst));
        drop(rx);
        assert!(!offer(&tx, &resync, Event::GroupRemoved("g".into())));
    }
}
