//! Readiness, the watchdog and a changing main pid: the notify protocol's
//! rules (issue 17), on top of Supervisor's state model.
//!
//! With `ready=notify` a process is STARTING until it sends `READY=1`, and
//! becomes RUNNING at that message instead of at `startsecs`. An exit
//! before it is a failed start (BACKOFF, counted against `startretries`),
//! and so is a start that takes longer than `ready_timeout_sec` (pushed
//! later by `EXTEND_TIMEOUT_USEC=`): the process gets its stop signal, and
//! SIGKILL after `stopwaitsecs`, while it stays STARTING.
//!
//! With a watchdog, a RUNNING process must send `WATCHDOG=1` at least every
//! interval; a missed ping (or `WATCHDOG=trigger`) sends `watchdog_signal`,
//! SIGKILL after `stopwaitsecs`, and the process stays RUNNING until it
//! dies: its exit is then an ordinary unexpected one (EXITED, restarted per
//! `autorestart`). Neither failure adds a transition to the table: a
//! process being failed keeps its state, marked by [`Failing`], and a stop
//! request takes over from it as from any run.
//!
//! `MAINPID=` (or a `pidfile`) replaces the pid the core supervises; the
//! reactor checks that the new process belongs to the program and watches
//! it before it asks.

use std::time::Duration;

use super::command::Effect;
use super::machine::Core;
use super::process::{Failing, Timer};
use super::state::ProcessState;
use super::{Now, ProcId};
use crate::api::{Notification, WatchdogMsg};
use crate::config::signal::signame;
use crate::config::LogLevel;
use crate::py::py_repr;

const SIGKILL: i32 = 9;

/// `stopwaitsecs` as the grace of a failure kill, at least a second (a
/// repeated SIGKILL must never re-arm at the same instant).
fn grace(stopwaitsecs: i64) -> Duration {
    Duration::from_secs(stopwaitsecs.max(1) as u64)
}

impl Core {
    /// STARTING -> RUNNING: the start succeeded (startsecs, or `READY=1`).
    pub(super) fn become_running(&mut self, id: ProcId, msg: String, now: Now) {
        let p = self.proc_mut(id);
        p.backoff = 0;
        let watchdog = p.watchdog;
        self.timers.clear(id, Timer::ReadyTimeout);
        if !watchdog.is_zero() {
            self.timers.set(id, Timer::Watchdog, now.mono + watchdog);
        }
        // STARTING -> RUNNING
        self.set_state(id, ProcessState::Running, true, now);
        self.log(LogLevel::Info, msg);
    }

    /// A notify message from process `id` of generation `gen`, already
    /// checked by the reactor against `notify_access`.
    pub fn notify(&mut self, id: ProcId, gen: u64, n: &Notification, now: Now) {
        let Some(p) = self.procs.get_mut(&id) else {
            return;
        };
        if p.gen != gen || p.pid == 0 {
            return;
        }
        let failing = p.failing;
        let mut updated = false;
        if let Some(text) = n.status.as_ref().filter(|t| **t != p.status_text) {
            p.status_text = text.clone();
            updated = true;
        }
        if let Some(usec) = n.watchdog_usec {
            // systemd: a new interval applies at once, from now.
            p.watchdog = Duration::from_micros(usec);
        }
        let watchdog = p.watchdog;
        if let Some(usec) = n.extend_timeout_usec {
            let at = now.mono + Duration::from_micros(usec);
            let cur = self.timers.get(id, Timer::ReadyTimeout);
            if failing.is_none() && cur.is_some_and(|cur| cur < at) {
                self.timers.set(id, Timer::ReadyTimeout, at);
            }
        }
        if n.ready {
            self.ready(id, now);
        }
        let p = &self.procs[&id];
        let healthy = p.state == ProcessState::Running && p.failing.is_none();
        if healthy && (n.watchdog == Some(WatchdogMsg::Ping) || n.watchdog_usec.is_some()) {
            if watchdog.is_zero() {
                self.timers.clear(id, Timer::Watchdog);
            } else {
                self.timers.set(id, Timer::Watchdog, now.mono + watchdog);
            }
        }
        if healthy && n.watchdog == Some(WatchdogMsg::Trigger) {
            self.watchdog_missed(id, "asked for it with WATCHDOG=trigger", now);
        }
        if updated {
            self.emit(Effect::ProcessUpdated { id });
        }
        self.drive(now);
    }

    /// `READY=1`: the end of a `ready=notify` start.
    fn ready(&mut self, id: ProcId, now: Now) {
        let p = &self.procs[&id];
        if !p.waits_for_ready() {
            let msg = format!("{}: READY=1 ignored (ready=startsecs)", p.spec.name);
            self.log(LogLevel::Debug, msg);
            return;
        }
        if p.state != ProcessState::Starting || p.failing.is_some() {
            return;
        }
        let msg = format!(
            "success: {} entered RUNNING state, process sent READY=1 (ready=notify)",
            p.spec.name
        );
        // STARTING -> RUNNING
        self.become_running(id, msg, now);
    }

    /// `ready_timeout_sec` passed without `READY=1`: stop it as a failed
    /// start (it stays STARTING until it is gone, then BACKOFF).
    pub(super) fn ready_timed_out(&mut self, id: ProcId, now: Now) {
        let p = &self.procs[&id];
        let (sig, group) = (p.spec.stopsignal, p.spec.stopasgroup);
        let msg = format!(
            "{} (pid {}) sent no READY=1 within {} seconds (ready_timeout_sec); sending {}",
            py_repr(&p.spec.name),
            p.pid,
            p.spec.notify.ready_timeout.as_secs_f64(),
            signame(sig)
        );
        self.log(LogLevel::Warn, msg);
        self.fail(id, Failing::ReadyTimeout, sig, group, now);
    }

    /// The watchdog of a RUNNING process fired (`why`): send it
    /// `watchdog_signal`; its exit is then an unexpected one.
    pub(super) fn watchdog_missed(&mut self, id: ProcId, why: &str, now: Now) {
        let p = &self.procs[&id];
        let sig = p.spec.notify.watchdog_signal;
        let msg = format!(
            "watchdog: {} (pid {}) {why} (interval {} s); sending {}",
            py_repr(&p.spec.name),
            p.pid,
            p.watchdog.as_secs_f64(),
            signame(sig)
        );
        self.log(LogLevel::Warn, msg);
        self.fail(id, Failing::Watchdog, sig, false, now);
    }

    /// Kill a process as a failure: `sig` now, SIGKILL after `stopwaitsecs`.
    fn fail(&mut self, id: ProcId, why: Failing, sig: i32, group: bool, now: Now) {
        let p = self.proc_mut(id);
        p.failing = Some(why);
        let (pid, gen) = (p.pid, p.gen);
        let at = now.mono + grace(p.spec.stopwaitsecs);
        self.timers.clear(id, Timer::ReadyTimeout);
        self.timers.clear(id, Timer::Watchdog);
        self.timers.set(id, Timer::FailKill, at);
        if sig != 0 {
            self.emit(Effect::Signal {
                id,
                gen,
                pid,
                sig,
                group,
            });
        }
    }

    /// A failing process outlived its grace: SIGKILL (again every
    /// `stopwaitsecs`, as a stop does).
    pub(super) fn fail_kill(&mut self, id: ProcId, now: Now) {
        let p = &self.procs[&id];
        let (pid, gen, group) = (p.pid, p.gen, p.spec.killasgroup);
        let msg = format!("killing {} ({pid}) with SIGKILL", py_repr(&p.spec.name));
        let at = now.mono + grace(p.spec.stopwaitsecs);
        self.log(LogLevel::Warn, msg);
        self.timers.set(id, Timer::FailKill, at);
        self.emit(Effect::Signal {
            id,
            gen,
            pid,
            sig: SIGKILL,
            group,
        });
    }

    /// The spawnerr of a `ready=notify` start that ended before `READY=1`.
    pub(super) fn unready_exit_text(why: Option<Failing>) -> String {
        match why {
            Some(Failing::ReadyTimeout) => {
                "Sent no READY=1 in time (ready_timeout_sec)".to_string()
            }
            _ => "Exited before sending READY=1 (process log may have details)".to_string(),
        }
    }

    /// Whether the run `gen` of `id` may change its main pid now: it has a
    /// child and is STARTING or RUNNING, not being stopped or failed.
    pub fn may_change_main_pid(&self, id: ProcId, gen: u64) -> bool {
        self.procs.get(&id).is_some_and(|p| {
            p.gen == gen
                && p.pid != 0
                && matches!(p.state, ProcessState::Starting | ProcessState::Running)
                && p.failing.is_none()
                && !p.killing
        })
    }

    /// The process of `gen` now runs as `pid` (`MAINPID=`, or the `pidfile`
    /// of a forking program; `via` says which, for the log). The reactor
    /// has checked that `pid` is the program's and watches it. Returns
    /// whether the core took it: only a STARTING or RUNNING process that is
    /// not being stopped or failed changes its main pid.
    pub fn main_pid(&mut self, id: ProcId, gen: u64, pid: u32, via: &str, now: Now) -> bool {
        if !self.may_change_main_pid(id, gen) || self.procs[&id].pid == pid {
            return false;
        }
        let p = self.proc_mut(id);
        let old = std::mem::replace(&mut p.pid, pid);
        let msg = format!(
            "{}: main process is now pid {pid} ({via}; was pid {old})",
            py_repr(&p.spec.name)
        );
        self.log(LogLevel::Info, msg);
        self.emit(Effect::ProcessUpdated { id });
        self.drive(now);
        true
    }
}
