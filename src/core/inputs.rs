//! What the runtime reports back: spawn results, exits, failed signals,
//! and signals sent to the daemon itself.

use std::time::Duration;

use super::command::{Effect, ExitStatus};
use super::machine::Core;
use super::process::{Timer, LEFTOVER_GRACE};
use super::state::{ProcessState, SupervisorState};
use super::{Now, ProcId};
use crate::config::signal::signame;
use crate::config::{AutoRestart, LogLevel};
use crate::py::py_repr;

impl Core {
    // ----- the runtime's reports -------------------------------------------

    /// The child of `gen` was forked with `pid`.
    pub fn spawned(&mut self, id: ProcId, gen: u64, pid: u32, now: Now) {
        let Some(p) = self.procs.get_mut(&id).filter(|p| p.gen == gen) else {
            return;
        };
        if p.pid != 0 || !matches!(p.state, ProcessState::Starting | ProcessState::Stopping) {
            return;
        }
        p.pid = pid;
        p.last_pid = pid;
        let state = p.state;
        let msg = format!("spawned: {} with pid {pid}", py_repr(&p.spec.name));
        // ready=notify waits for READY=1 (up to its timeout), not startsecs.
        let (timer, at) = if p.waits_for_ready() {
            (Timer::ReadyTimeout, p.ready_deadline())
        } else {
            (Timer::StartSecs, p.startsecs_deadline())
        };
        if let Some(at) = at.filter(|_| state == ProcessState::Starting) {
            self.timers.set(id, timer, at);
        }
        self.log(LogLevel::Info, msg);
        if state == ProcessState::Stopping {
            // A stop came before the pid was known: send it now.
            let sig = self.procs[&id].spec.stopsignal;
            self.send_kill(id, sig, false, now);
        }
        self.resolve_waits(id);
        self.drive(now);
    }

    /// The spawn of `gen` failed before exec; `error` is Supervisor's spawnerr text.
    pub fn spawn_failed(&mut self, id: ProcId, gen: u64, error: String, now: Now) {
        let Some(p) = self.procs.get_mut(&id).filter(|p| p.gen == gen) else {
            return;
        };
        if p.pid != 0 || !matches!(p.state, ProcessState::Starting | ProcessState::Stopping) {
            return;
        }
        p.spawnerr = Some(error.clone());
        let stopping = p.state == ProcessState::Stopping;
        self.log(LogLevel::Info, format!("spawnerr: {error}"));
        if stopping {
            self.proc_mut(id).killing = false;
            self.timers.clear_all(id);
            // STOPPING -> STOPPED: nothing was started
            self.set_state(id, ProcessState::Stopped, true, now);
        } else {
            // STARTING -> BACKOFF
            self.set_state(id, ProcessState::Backoff, true, now);
            self.maybe_give_up(id, now);
        }
        self.drive(now);
    }

    /// The child of `gen` was reaped.
    pub fn exited(&mut self, id: ProcId, gen: u64, status: ExitStatus, now: Now) {
        let Some(p) = self.procs.get_mut(&id).filter(|p| p.gen == gen) else {
            return;
        };
        if p.pid == 0 {
            return;
        }
        p.main_gone = false;
        let es = status.code();
        let expected = matches!(status, ExitStatus::Code(c) if p.spec.exitcodes.contains(&c));
        let name = p.spec.name.clone();
        let startsecs = Duration::from_secs(p.spec.startsecs.max(0) as u64);
        let failing = p.failing.take();
        // With ready=notify, any exit before READY=1 is a failed start.
        let unready = p.state == ProcessState::Starting && p.waits_for_ready();
        let too_quickly =
            unready || p.state == ProcessState::Starting && p.uptime(now.mono) < startsecs;
        p.laststop = now.wall;
        p.last_exit = Some(status);
        p.pid = 0;
        self.timers.clear_all(id);
        let how = status.describe();
        if p.killing {
            p.killing = false;
            p.exitstatus = Some(es);
            let level = if expected {
                LogLevel::Info
            } else {
                LogLevel::Warn
            };
            self.log(level, format!("stopped: {name} ({how})"));
            // STOPPING -> STOPPED
            self.set_state(id, ProcessState::Stopped, true, now);
        } else if too_quickly {
            p.exitstatus = None;
            p.spawnerr = Some(if unready {
                Core::unready_exit_text(failing)
            } else {
                "Exited too quickly (process log may have details)".into()
            });
            self.log(
                LogLevel::Warn,
                format!("exited: {name} ({how}; not expected)"),
            );
            // STARTING -> BACKOFF
            self.set_state(id, ProcessState::Backoff, true, now);
            self.maybe_give_up(id, now);
        } else {
            p.backoff = 0;
            p.exitstatus = Some(es);
            if p.state == ProcessState::Starting {
                // The exit raced the startsecs deadline: STARTING -> RUNNING first.
                self.set_state(id, ProcessState::Running, true, now);
            }
            if expected {
                self.log(LogLevel::Info, format!("exited: {name} ({how}; expected)"));
            } else {
                self.proc_mut(id).spawnerr = Some(format!("Bad exit code {es}"));
                self.log(
                    LogLevel::Warn,
                    format!("exited: {name} ({how}; not expected)"),
                );
            }
            // RUNNING (or UNKNOWN) -> EXITED
            self.set_state(id, ProcessState::Exited, expected, now);
            let restart = match self.procs[&id].spec.autorestart {
                AutoRestart::Always => true,
                AutoRestart::Unexpected => !expected,
                AutoRestart::Never => false,
            };
            if restart && self.mood == SupervisorState::Running && self.may_restart(id, now) {
                let at = self.procs[&id].restart_at(now.mono);
                if at > now.mono {
                    // restart_delay, or a crash loop without a start limit:
                    // restart RESTART_SPACING after the last spawn.
                    self.timers.set(id, Timer::Restart, at);
                } else {
                    self.proc_mut(id).restart_count += 1;
                    // EXITED -> STARTING (after its dependencies)
                    self.start_in_order(id, now, false);
                }
            }
        }
        self.drive(now);
    }

    /// Sending a signal to `gen` failed with an errno other than ESRCH.
    /// With a cgroup leaf: the main process of `gen` exited while it was
    /// being stopped, and what it left in its leaf is still there (the
    /// exit is reported with [`Core::exited`] once the leaf is empty). The
    /// leftovers get the stop signal now, and SIGKILL after at most
    /// `LEFTOVER_GRACE` (1 s); a shutdown moves on to the next group at once.
    pub fn main_exited(&mut self, id: ProcId, gen: u64, now: Now) {
        let Some(p) = self.procs.get_mut(&id).filter(|p| p.gen == gen) else {
            return;
        };
        if p.pid == 0 || p.state != ProcessState::Stopping || p.main_gone {
            return;
        }
        p.main_gone = true;
        let (pid, sig) = (p.pid, p.spec.stopsignal);
        let stopwait = Duration::from_secs(p.spec.stopwaitsecs.max(0) as u64);
        let name = py_repr(&p.spec.name);
        let at = now.mono + stopwait.min(LEFTOVER_GRACE);
        if self
            .timers
            .get(id, Timer::StopWait)
            .map_or(true, |t| t > at)
        {
            self.timers.set(id, Timer::StopWait, at);
        }
        self.log(
            LogLevel::Info,
            format!(
                "{name} exited; stopping what it left in its cgroup with {}",
                signame(sig)
            ),
        );
        self.emit(Effect::Signal {
            id,
            gen,
            pid,
            sig,
            group: true,
        });
        self.drive(now);
    }

    pub fn signal_failed(&mut self, id: ProcId, gen: u64, error: String, now: Now) {
        let Some(p) = self.procs.get_mut(&id).filter(|p| p.gen == gen) else {
            return;
        };
        if p.pid == 0 || !p.state.is_signallable() {
            return;
        }
        let what = if p.state == ProcessState::Stopping {
            "killing"
        } else {
            "sending sig"
        };
        let msg = format!("unknown problem {what} {} ({}):{error}", p.spec.name, p.pid);
        p.killing = false;
        self.timers.clear_all(id);
        self.log(LogLevel::Critical, msg);
        // STARTING/RUNNING/STOPPING -> UNKNOWN
        self.set_state(id, ProcessState::Unknown, true, now);
        self.drive(now);
    }

    /// A signal to the daemon itself (spec §3.9).
    pub fn daemon_signal(&mut self, sig: i32, now: Now) {
        let name = signame(sig);
        match sig {
            2 | 3 | 15 => {
                self.log(
                    LogLevel::Warn,
                    format!("received {name} indicating exit request"),
                );
                self.mood = SupervisorState::Shutdown;
            }
            1 => {
                if self.mood == SupervisorState::Shutdown {
                    self.log(
                        LogLevel::Warn,
                        format!("ignored {name} indicating restart request (shutdown in progress)"),
                    );
                } else {
                    self.log(
                        LogLevel::Warn,
                        format!("received {name} indicating restart request"),
                    );
                    self.mood = SupervisorState::Restarting;
                }
            }
            17 => self.log(
                LogLevel::Debug,
                format!("received {name} indicating a child quit"),
            ),
            12 => {
                self.log(
                    LogLevel::Info,
                    format!("received {name} indicating log reopen request"),
                );
                self.log(LogLevel::Info, "supervisord logreopen".into());
                self.effects.push_back(Effect::ReopenLogs);
            }
            _ => self.log(
                LogLevel::Blather,
                format!("received {name} indicating nothing"),
            ),
        }
        self.drive(now);
    }
}
