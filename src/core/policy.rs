//! Restart policy and container mode (issue 18): `restart_delay`, the
//! start limit (`start_limit_burst` automatic restarts within
//! `start_limit_interval` seconds), and `[supervisord] exit_on_fatal`.
//!
//! # How the pacing fits together
//!
//! Supervisor restarts an EXITED process on its next 1 s tick, so a
//! crash loop runs about once a second and never ends; its only limit,
//! `startretries`, counts starts that failed within `startsecs` (BACKOFF),
//! not a program that crashes after running a while. Without a start limit
//! pidvisor keeps that: a restart comes at once after a run of a second or
//! more, and [`RESTART_SPACING`](super::process::RESTART_SPACING) after
//! the last spawn after a shorter one (plus `restart_delay`, whichever is
//! later). With `start_limit_burst` set, the limit is what bounds a crash
//! loop, so the spacing no longer applies: the first restarts come at once
//! (after `restart_delay`, if set), and the restart that would exceed the
//! burst within the interval makes the process FATAL instead, with the
//! reason in `status` and the main log. A start someone asks for (`start`,
//! autostart) opens a new window.
//!
//! A process that goes FATAL while the daemon runs and is named by
//! `exit_on_fatal` (or any, with `all`) starts an ordinary shutdown whose
//! end is [`Effect::ExitWith`] a non-zero status.

use std::time::Duration;

use super::command::Effect;
use super::machine::Core;
use super::state::{ProcessState, SupervisorState};
use super::{Now, ProcId};
use crate::config::{ExitOnFatal, LogLevel};

/// The daemon's exit status after a shutdown started by `exit_on_fatal`.
pub const FATAL_EXIT_STATUS: i32 = 1;

impl Core {
    /// Whether the automatic restart of EXITED `id` may happen now. A stop
    /// held for its dependents wins (the process becomes STOPPED); the
    /// restart past the start limit makes it FATAL. Otherwise the restart
    /// is counted in the window.
    pub(super) fn may_restart(&mut self, id: ProcId, now: Now) -> bool {
        if self.deps.stopping.remove(&id) {
            // EXITED -> STOPPED: it was being stopped anyway.
            self.set_state(id, ProcessState::Stopped, true, now);
            return false;
        }
        let p = self.proc_mut(id);
        let limit = p.spec.restart;
        if limit.limit_burst <= 0 {
            return true;
        }
        let window = Duration::from_secs(limit.limit_interval.max(0) as u64);
        while p
            .recent_restarts
            .front()
            .is_some_and(|&t| t + window <= now.mono)
        {
            p.recent_restarts.pop_front();
        }
        if (p.recent_restarts.len() as i64) < limit.limit_burst {
            p.recent_restarts.push_back(now.mono);
            return true;
        }
        let (burst, secs) = (limit.limit_burst, limit.limit_interval);
        let why = format!("restarted {burst} times within {secs} seconds (start_limit_burst)");
        p.spawnerr = Some(format!("too many restarts: {why}"));
        p.recent_restarts.clear();
        let line = format!(
            "gave up: {} entered FATAL state, too many restarts: {why}",
            p.spec.name
        );
        // EXITED -> FATAL
        self.give_up(id, now);
        self.log(LogLevel::Info, line);
        false
    }

    /// `exit_on_fatal`: `id` just became FATAL. The shutdown starts at the
    /// end of the input ([`Core::drive_fatal_exit`]), after the lines that
    /// say why it is FATAL.
    pub(super) fn on_fatal(&mut self, id: ProcId) {
        if self.mood != SupervisorState::Running || self.fatal_exit.is_some() {
            return;
        }
        let spec = &self.procs[&id].spec;
        let named = match &self.exit_on_fatal {
            ExitOnFatal::Never => false,
            ExitOnFatal::All => true,
            ExitOnFatal::Names(names) => {
                names.iter().any(|n| *n == spec.program || *n == spec.group)
            }
        };
        if !named {
            return;
        }
        self.fatal_exit = Some(spec.name.clone());
    }

    /// Start the shutdown `on_fatal` asked for.
    pub(super) fn drive_fatal_exit(&mut self) {
        let Some(name) = self.fatal_exit.take() else {
            return;
        };
        if self.mood != SupervisorState::Running {
            return;
        }
        let msg = format!(
            "{name} entered FATAL state and exit_on_fatal names it: stopping everything, then exiting with status {FATAL_EXIT_STATUS}"
        );
        self.log(LogLevel::Critical, msg);
        self.mood = SupervisorState::Shutdown;
        self.exit_status = FATAL_EXIT_STATUS;
    }

    /// The effect that ends a finished shutdown.
    pub(super) fn exit_effect(&self) -> Effect {
        match self.exit_status {
            0 => Effect::Exit,
            code => Effect::ExitWith { code },
        }
    }
}
