//! Children: one pidfd per live child, registered with the poll, and the
//! exits they report. Strays (orphans reparented to us as subreaper) are
//! reaped by peek-then-dispatch, never by a blind `waitpid(-1)`.
//!
//! The table owns the pidfds and their tokens (a range of its own); the
//! reactor adds a child after a spawn and is told which one exited.
//!
//! A forking program hands its supervision over (issue 17): `MAINPID=`
//! or its `pidfile` names a process the launcher forked, which the table
//! then watches as the program's main process through a pidfd of its own
//! ([`ChildTable::adopt`]). The launcher stays watched as a *former* main
//! process until it is reaped; its exit is nobody's business then.

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

/// One watched process: what the pidfd belongs to.
pub struct Child {
    pub id: ProcId,
    pub gen: u64,
    pub pid: u32,
    /// Not spawned by us: handed over by `MAINPID=` or a pidfile. It is our
    /// child only once its launcher has exited (we are the subreaper).
    pub adopted: bool,
    /// The program's main process (else a launcher it forked from).
    main: bool,
    /// When it started (clock ticks after boot), for programs that may
    /// hand over to a process they fork.
    pub since: Option<u64>,
    pidfd: OwnedFd,
}

#[derive(Default)]
pub struct ChildTable {
    by_token: HashMap<Token, Child>,
    /// The token of each program's main process.
    main_of: HashMap<ProcId, Token>,
    by_pid: HashMap<u32, Token>,
    next: usize,
}

/// An exit the table saw.
pub struct Exit {
    pub id: ProcId,
    pub gen: u64,
    pub status: ExitStatus,
    /// The pid that exited (0 when the exit was held back for a leaf).
    pub pid: u32,
    /// The process was spawned by us (not adopted): a forking program's
    /// launcher, whose pidfile may name the real process.
    pub spawned: bool,
    /// When it started (clock ticks after boot), if that was noted.
    pub since: Option<u64>,
}

/// A watched process's relation to its program, by pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub id: ProcId,
    pub gen: u64,
    pub main: bool,
}

impl ChildTable {
    /// Whether `token` is one of the table's.
    pub fn owns(token: Token) -> bool {
        (BASE..END).contains(&token.0)
    }

    /// The main process of `id`.
    pub fn get(&self, id: ProcId) -> Option<&Child> {
        self.by_token.get(self.main_of.get(&id)?)
    }

    /// The program a watched pid belongs to (main process or launcher).
    pub fn member(&self, pid: u32) -> Option<Member> {
        let c = self.by_token.get(self.by_pid.get(&pid)?)?;
        Some(Member {
            id: c.id,
            gen: c.gen,
            main: c.main,
        })
    }

    fn insert(&mut self, r: &Registry, child: Child) -> io::Result<()> {
        let token = Token(BASE + self.next);
        self.next = (self.next + 1) % (END - BASE);
        r.register(
            &mut SourceFd(&child.pidfd.as_raw_fd()),
            token,
            Interest::READABLE,
        )?;
        self.by_pid.insert(child.pid, token);
        if child.main {
            self.main_of.insert(child.id, token);
        }
        self.by_token.insert(token, child);
        Ok(())
    }

    /// Watch a new child through its pidfd (`since`: its start, noted
    /// for a program that may hand over to a process it forks).
    pub fn add(
        &mut self,
        r: &Registry,
        (id, gen): (ProcId, u64),
        pid: u32,
        pidfd: OwnedFd,
        since: Option<u64>,
    ) -> io::Result<()> {
        let child = Child {
            id,
            gen,
            pid,
            adopted: false,
            main: true,
            since,
            pidfd,
        };
        self.insert(r, child)
    }

    /// Make `pid` (its `pidfd` already checked by the caller) the main
    /// process of `id`'s generation `gen`; the old main process, if still
    /// watched, stays watched as a launcher.
    pub fn adopt(
        &mut self,
        r: &Registry,
        id: ProcId,
        gen: u64,
        pid: u32,
        pidfd: OwnedFd,
    ) -> io::Result<()> {
        let old = self.main_of.get(&id).copied();
        let child = Child {
            id,
            gen,
            pid,
            adopted: true,
            main: true,
            since: None,
            pidfd,
        };
        self.insert(r, child)?;
        if let Some(c) = old.and_then(|t| self.by_token.get_mut(&t)) {
            c.main = false;
        }
        Ok(())
    }

    fn remove(&mut self, r: &Registry, token: Token) -> Option<Child> {
        let c = self.by_token.remove(&token)?;
        if self.by_pid.get(&c.pid) == Some(&token) {
            self.by_pid.remove(&c.pid);
        }
        if self.main_of.get(&c.id) == Some(&token) {
            self.main_of.remove(&c.id);
        }
        let _ = r.deregister(&mut SourceFd(&c.pidfd.as_raw_fd()));
        Some(c)
    }

    /// Send `sig` to the main process of generation `gen` (to its process
    /// group when `group`). A child already gone is not an error: its exit
    /// will tell, as Supervisor's ESRCH.
    pub fn signal(&self, id: ProcId, gen: u64, sig: i32, group: bool) -> io::Result<()> {
        match self.get(id) {
            Some(c) if c.gen == gen && group && !c.adopted => {
                // The leader is not reaped yet (we hold its pidfd and only
                // reap through it), so its pgid cannot have been reused.
                sys::daemon::killpg(c.pid, sig)
            }
            // An adopted daemon made its own session, typically: its
            // launcher's group may be gone and reused, so only it is
            // signalled (its cgroup leaf covers the rest).
            Some(c) if c.gen == gen => sys::pidfd::pidfd_send_signal(&c.pidfd, sig),
            _ => Ok(()),
        }
    }

    /// A pidfd became readable: the exit, if a main process really exited.
    pub fn ready(&mut self, token: Token, r: &Registry, log: &mut MainLogger) -> Option<Exit> {
        self.check(token, r, log)
    }

    fn check(&mut self, token: Token, r: &Registry, log: &mut MainLogger) -> Option<Exit> {
        let c = self.by_token.get(&token)?;
        let status = match sys::wait::wait_pidfd(c.pidfd.as_fd()) {
            Ok(Some(s)) => exit_status(s),
            // Not exited after all (spurious wake-up).
            Ok(None) => return None,
            // An adopted process whose launcher still runs is not our
            // child: the readable pidfd says it exited, and its status
            // went to its parent.
            Err(e) if e.raw_os_error() == Some(sys::errno::ECHILD) && c.adopted => {
                log.log(
                    LogLevel::Info,
                    format!(
                        "pid {} exited while its launcher still ran; its exit status went to the launcher (shown as -1)",
                        c.pid
                    ),
                );
                ExitStatus::Code(-1)
            }
            Err(e) => {
                log.log(LogLevel::Critical, format!("waitid on pidfd failed: {e}"));
                return None;
            }
        };
        let child = self.remove(r, token)?;
        if !child.main {
            log.log(
                LogLevel::Debug,
                format!(
                    "launcher pid {} of a forking program exited ({})",
                    child.pid,
                    status.describe()
                ),
            );
            return None;
        }
        Some(Exit {
            id: child.id,
            gen: child.gen,
            status,
            pid: child.pid,
            spawned: !child.adopted,
            since: child.since,
        })
    }

    /// SIGCHLD: reap orphans that were reparented to us; a watched child
    /// that shows up in the peek is handled through its pidfd right away.
    pub fn reap_strays(&mut self, r: &Registry, log: &mut MainLogger) -> Vec<Exit> {
        let mut exits = Vec::new();
        for _ in 0..1024 {
            let Ok(Some((pid, _))) = sys::wait::peek_any() else {
                break;
            };
            if let Some(token) = self.by_pid.get(&pid).copied() {
                exits.extend(self.check(token, r, log));
                if self.by_pid.get(&pid) == Some(&token) {
                    // Not reaped after all: do not spin on it.
                    break;
                }
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
