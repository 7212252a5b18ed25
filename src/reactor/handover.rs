//! Acting on what the notify protocol says (issue 17): a message from the
//! notify socket, or a forking program's pidfile. [`Handover`] borrows, for
//! one call, what that may change (the core, the child table) and what it
//! reads (the cgroup leaves), as `Locals` does for local answers:
//!
//! * a message is attributed to a program by its sender's pid
//!   ([`super::senders`]), checked against the program's `notify_access`,
//!   and dropped (counted at debug level) when it fails either;
//! * `MAINPID=` or a pidfile hands supervision to a process the program
//!   forked, once it is shown to be the program's: it gets a pidfd of its
//!   own in the child table, then the core is told;
//! * everything else in a message goes to the core.

use std::path::PathBuf;
use std::time::Instant;

use mio::Registry;

use super::cgroups::Cgroups;
use super::children::{ChildTable, Exit, Member};
use super::forking::{read_pid, Pidfiles};
use super::{now, senders};
use crate::api::Notification;
use crate::config::{LogLevel, NotifyAccess};
use crate::core::{Core, ExitStatus, ProcId};
use crate::logs::MainLogger;
use crate::notify::{NotifySocket, Sender};

/// What one message or pidfile may use.
pub struct Handover<'a> {
    pub core: &'a mut Core,
    pub children: &'a mut ChildTable,
    pub cgroups: &'a Cgroups,
    pub mainlog: &'a mut MainLogger,
    pub registry: &'a Registry,
}

impl Handover<'_> {
    /// Count and log a dropped message.
    pub fn dropped(self, socket: &mut NotifySocket, pid: u32, why: &str) {
        let line = socket.dropped(pid, why);
        self.mainlog.log(LogLevel::Debug, line);
    }

    /// One message: find its program from the kernel's word on the sender,
    /// check `notify_access`, then act (`MAINPID=` here, the rest in the core).
    pub fn notified(mut self, socket: &mut NotifySocket, sender: Sender, n: Notification) {
        let Some(m) = senders::attribute(sender.pid, self.children, self.cgroups) else {
            return self.dropped(socket, sender.pid, "it belongs to no program");
        };
        // What /proc said about a pid that is gone may be about another process.
        if !m.main && sender.alive() == Some(false) {
            return self.dropped(socket, sender.pid, "the sender exited before it was read");
        }
        let Some(spec) = self.core.spec_shared(m.id) else {
            return;
        };
        let why = match spec.notify.access {
            NotifyAccess::None => Some("its program has notify_access=none"),
            NotifyAccess::Main if !m.main => Some("not the main process (notify_access=main)"),
            _ => None,
        };
        if let Some(why) = why {
            return self.dropped(socket, sender.pid, why);
        }
        if let Some(pid) = n.main_pid {
            let since = self.children.get(m.id).and_then(|c| c.since);
            if let Err(why) = self.take_main_pid(m, pid, "MAINPID=", since) {
                let msg = format!("'{}': MAINPID={pid} ignored: {why}", spec.name);
                self.mainlog.log(LogLevel::Warn, msg);
            }
        }
        if !n.ignored.is_empty() {
            let msg = format!(
                "notify: '{}' sent fields not acted on: {}",
                spec.name,
                n.ignored.join(", ")
            );
            self.mainlog.log(LogLevel::Debug, msg);
        }
        if n.acts() {
            self.core.notify(m.id, m.gen, &n, now());
        }
    }

    /// Make `pid` the main process of `m`'s program, if it is one of the
    /// program's processes and the core takes it; why not, otherwise.
    fn take_main_pid(
        &mut self,
        m: Member,
        pid: u32,
        via: &str,
        since: Option<u64>,
    ) -> Result<(), String> {
        if !self.core.may_change_main_pid(m.id, m.gen) {
            return Err("the program is not starting or running".into());
        }
        if self.children.get(m.id).is_some_and(|c| c.pid == pid) {
            return Ok(());
        }
        let pidfd =
            crate::sys::pidfd::pidfd_open(pid).map_err(|e| format!("no process {pid}: {e}"))?;
        if !senders::belongs(pid, m.id, self.children, self.cgroups, since) {
            return Err(format!("pid {pid} is not a process of the program"));
        }
        // Still the process /proc described (its pid was not recycled).
        crate::sys::pidfd::pidfd_send_signal(&pidfd, 0).map_err(|_| format!("pid {pid} exited"))?;
        self.children
            .adopt(self.registry, m.id, m.gen, pid, pidfd)
            .map_err(|e| format!("cannot watch pid {pid}: {e}"))?;
        self.core.main_pid(m.id, m.gen, pid, via, now());
        Ok(())
    }

    /// Read the pidfiles due at `at`: adopt what they name. Returns the
    /// launcher exits to report as the programs' own: past the wait, or
    /// when the program is being stopped meanwhile.
    pub fn try_pidfiles(mut self, pidfiles: &mut Pidfiles, at: Instant) -> Vec<Exit> {
        let mut back = Vec::new();
        for a in pidfiles.due(at) {
            let member = Member {
                id: a.id,
                gen: a.gen,
                main: true,
            };
            let via = format!("pidfile {}", a.path.display());
            let adopted = a
                .pid
                .and_then(|pid| self.take_main_pid(member, pid, &via, a.since));
            let why = match adopted {
                Ok(()) => {
                    pidfiles.take(a.id);
                    continue;
                }
                Err(why) => why,
            };
            let exit = if self.core.may_change_main_pid(a.id, a.gen) {
                pidfiles.retry(a.id, at)
            } else {
                pidfiles.take(a.id)
            };
            if let Some(exit) = exit {
                let name = self
                    .core
                    .spec(a.id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                let msg = format!("'{name}': {via}: {why}; the launcher's exit is the program's");
                self.mainlog.log(LogLevel::Warn, msg);
                back.push(exit);
            }
        }
        back
    }
}

/// The pidfile to wait for, when `exit` is a forking program's launcher
/// that exited with 0 while its program starts or runs.
pub fn pidfile_of(core: &Core, exit: &Exit) -> Option<PathBuf> {
    let ok = exit.spawned
        && exit.status == ExitStatus::Code(0)
        && core.may_change_main_pid(exit.id, exit.gen);
    ok.then(|| core.spec(exit.id)?.notify.pidfile.clone())
        .flatten()
}

/// A forking program's run ended: its pidfile goes if it still names the
/// process that ended (as systemd does), so that the next start cannot
/// read a stale pid.
pub fn remove_pidfile(core: &Core, id: ProcId, mainlog: &mut MainLogger) {
    let Some(p) = core.process(id) else {
        return;
    };
    let Some(path) = p.spec.notify.pidfile.as_deref() else {
        return;
    };
    if read_pid(path) == Ok(p.pid) {
        if let Err(e) = std::fs::remove_file(path) {
            let msg = format!("cannot remove pidfile {}: {e}", path.display());
            mainlog.log(LogLevel::Warn, msg);
        }
    }
}
