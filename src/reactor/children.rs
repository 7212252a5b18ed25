//! Children: one pidfd per live child, registered with the poll, and the
//! exits they report. Strays (orphans reparented to us as subreaper) are
//! reaped by peek-then-dispatch, never by a blind `waitpid(-1)`.
//!
//! The table owns the pidfds and their tokens (a range of its own); the
//! reactor adds a child after a spawn and is told which one exited.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use crate::config::LogLevel;
use crate::core::{ExitStatus, ProcId};
use crate::logs::MainLogger;
use crate::sys;

/// Pidfd tokens: `[BASE, BASE + 2^32)`.
const BASE: usize = 1 << 32;
const END: usize = 2 << 32;

/// One live child: what the pidfd belongs to.
pub struct Child {
    pub gen: u64,
    pub pid: u32,
    pidfd: OwnedFd,
    token: Token,
}

#[derive(Default)]
pub struct ChildTable {
    by_id: HashMap<ProcId, Child>,
    by_pid: HashMap<u32, ProcId>,
    by_token: HashMap<Token, ProcId>,
    next: usize,
}

/// An exit the table saw.
pub struct Exit {
    pub id: ProcId,
    pub gen: u64,
    pub status: ExitStatus,
    /// The pid that exited (0 when the exit was held back for a leaf).
    pub pid: u32,
}

impl ChildTable {
    /// Whether `token` is one of the table's.
    pub fn owns(token: Token) -> bool {
        (BASE..END).contains(&token.0)
    }

    pub fn get(&self, id: ProcId) -> Option<&Child> {
        self.by_id.get(&id)
    }

    /// Watch a new child through its pidfd.
    pub fn add(
        &mut self,
        r: &Registry,
        id: ProcId,
        gen: u64,
        pid: u32,
        pidfd: OwnedFd,
    ) -> io::Result<()> {
        let token = Token(BASE + self.next);
        self.next = (self.next + 1) % (END - BASE);
        r.register(&mut SourceFd(&pidfd.as_raw_fd()), token, Interest::READABLE)?;
        self.by_pid.insert(pid, id);
        self.by_token.insert(token, id);
        self.by_id.insert(
            id,
            Child {
                gen,
                pid,
                pidfd,
                token,
            },
        );
        Ok(())
    }

    fn remove(&mut self, r: &Registry, id: ProcId) -> Option<Child> {
        let c = self.by_id.remove(&id)?;
        self.by_pid.remove(&c.pid);
        self.by_token.remove(&c.token);
        let _ = r.deregister(&mut SourceFd(&c.pidfd.as_raw_fd()));
        Some(c)
    }

    /// Send `sig` to the child of generation `gen` (to its process group
    /// when `group`). A child already gone is not an error: its exit will
    /// tell, as Supervisor's ESRCH.
    pub fn signal(&self, id: ProcId, gen: u64, sig: i32, group: bool) -> io::Result<()> {
        match self.by_id.get(&id) {
            Some(c) if c.gen == gen && group => {
                // The leader is not reaped yet (we hold its pidfd and only
                // reap through it), so its pgid cannot have been reused.
                sys::daemon::killpg(c.pid, sig)
            }
            Some(c) if c.gen == gen => sys::pidfd::pidfd_send_signal(&c.pidfd, sig),
            _ => Ok(()),
        }
    }

    /// A pidfd became readable: the exit, if the child really exited.
    pub fn ready(&mut self, token: Token, r: &Registry, log: &mut MainLogger) -> Option<Exit> {
        let id = *self.by_token.get(&token)?;
        self.check(id, r, log)
    }

    fn check(&mut self, id: ProcId, r: &Registry, log: &mut MainLogger) -> Option<Exit> {
        let c = self.by_id.get(&id)?;
        let status = match sys::wait::wait_pidfd(c.pidfd.as_fd()) {
            Ok(Some(s)) => exit_status(s),
            // Not exited after all (spurious wake-up).
            Ok(None) => return None,
            Err(e) => {
                log.log(LogLevel::Critical, format!("waitid on pidfd failed: {e}"));
                return None;
            }
        };
        let child = self.remove(r, id)?;
        Some(Exit {
            id,
            gen: child.gen,
            status,
            pid: child.pid,
        })
    }

    /// SIGCHLD: reap orphans that were reparented to us; an owned child that
    /// shows up in the peek is handled through its pidfd right away.
    pub fn reap_strays(&mut self, r: &Registry, log: &mut MainLogger) -> Vec<Exit> {
        let mut exits = Vec::new();
        for _ in 0..1024 {
            let Ok(Some((pid, _))) = sys::wait::peek_any() else {
                break;
            };
            if let Some(id) = self.by_pid.get(&pid).copied() {
                exits.extend(self.check(id, r, log));
                continue;
            }
            match sys::wait::reap_pid(pid) {
                Ok(Some(status)) => {
                    let text = exit_status(status).describe();
                    // Supervisor's line, at debug: as subreaper we adopt
                    // every orphan of every program, which init reaps
                    // silently under supervisord.
                    log.log(
                        LogLevel::Debug,
                        format!("reaped unknown pid {pid} ({text})"),
                    );
                }
                Ok(None) | Err(_) => break,
            }
        }
        exits
    }
}

/// The kernel's view of an exit, in the core's terms.
pub fn exit_status(s: sys::wait::ExitStatus) -> ExitStatus {
    match s {
        sys::wait::ExitStatus::Exited(code) => ExitStatus::Code(code),
        sys::wait::ExitStatus::Killed(sig) => ExitStatus::Signal { sig, core: false },
        sys::wait::ExitStatus::Dumped(sig) => ExitStatus::Signal { sig, core: true },
    }
}
