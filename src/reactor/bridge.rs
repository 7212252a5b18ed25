//! The reactor's end of the D-Bus bridge: the D-Bus side's requests come
//! in as typed [`api::Request`]s with a reply channel each; their answers
//! go back on those channels, and state changes go out, never blocking.
//!
//! [`Bridge`] owns the link and the reply channels of the requests in
//! flight; the reactor polls it for work and hands it answers and events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::api;
use crate::config::LogLevel;
use crate::dbus::{Event, Link, Request};

/// What the D-Bus side asked for.
pub enum BridgeIn {
    /// Answer `request`, then [`Bridge::answer`] with `id`.
    Ask { id: u64, request: api::Request },
    /// Send every process again ([`Event::Resync`]).
    Resync,
    /// A line for the main log.
    Log { level: LogLevel, message: String },
}

pub struct Bridge {
    link: Link,
    pending: HashMap<u64, async_channel::Sender<api::Reply>>,
    next_id: u64,
    /// The D-Bus side went away: stop sending.
    closed: bool,
}

impl Bridge {
    pub fn new(link: Link) -> Bridge {
        Bridge {
            link,
            pending: HashMap::new(),
            next_id: 1,
            closed: false,
        }
    }

    pub fn into_link(self) -> Link {
        self.link
    }

    /// Give the D-Bus side a waker on the current reactor's poll.
    pub fn set_waker(&mut self, waker: Option<mio::Waker>) {
        *self.link.waker.lock().unwrap_or_else(|e| e.into_inner()) = waker;
    }

    /// The next queued request (the waker only says "look").
    pub fn poll(&mut self) -> Option<BridgeIn> {
        Some(match self.link.requests.try_recv().ok()? {
            Request::Call { request, reply } => {
                let id = self.next_id;
                self.next_id += 1;
                self.pending.insert(id, reply);
                BridgeIn::Ask { id, request }
            }
            Request::Resync => BridgeIn::Resync,
            Request::Log { level, message } => BridgeIn::Log { level, message },
        })
    }

    /// The answer to request `id`.
    pub fn answer(&mut self, id: u64, reply: api::Reply) {
        if let Some(tx) = self.pending.remove(&id) {
            let _ = tx.try_send(reply);
        }
    }

    pub fn send(&mut self, ev: Event) {
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
