//! Ordered shutdown and reload (spec §3.2, §3.8): one group at a time,
//! highest priority first.

use std::time::Duration;

use super::command::Effect;
use super::machine::Core;
use super::state::{ProcessState, SupervisorState};
use super::Now;
use crate::config::LogLevel;

/// Supervisor's throttle for `waiting for ... to die`.
const SHUTDOWN_REPORT_EVERY: Duration = Duration::from_secs(3);

impl Core {
    /// Group `stop_all` during shutdown: stop in descending priority; a
    /// BACKOFF process gives up.
    pub(super) fn stop_all(&mut self, gi: usize, now: Now) {
        for id in self.groups[gi].procs.clone().into_iter().rev() {
            let p = &self.procs[&id];
            match p.state {
                ProcessState::Running | ProcessState::Starting => {
                    // After what depends on it.
                    self.stop_in_order(id, now);
                }
                // BACKOFF -> FATAL
                ProcessState::Backoff => self.give_up(id, now),
                _ => {}
            }
        }
    }

    /// Ordered shutdown (spec §3.2/§3.8): stop the highest-priority group,
    /// move to the next one only when it is all in STOPPED states, and exit
    /// once nothing anywhere is left running. A process whose main pid has
    /// exited while its cgroup leaf empties counts as stopped for moving on
    /// (Supervisor moves on at the main pid's exit too), so the leftovers'
    /// grace periods overlap instead of adding up.
    pub(super) fn drive_shutdown(&mut self, now: Now) {
        if self.mood == SupervisorState::Running || self.finished {
            return;
        }
        if self.stop_groups.is_none() {
            self.emit(Effect::SupervisorStopping);
            // Priority order, each group after those it depends on.
            self.stop_groups = Some(self.shutdown_order());
            self.shutdown_report_at = Some(now.mono);
        }
        while let Some(last) = self.stop_groups.as_ref().and_then(|s| s.last().cloned()) {
            if let Some(gi) = self.group_index(&last) {
                // The group's stop is sent once, when it becomes current: no
                // process of it can start again during a shutdown, and the
                // processes before `from` are done for good, so each input
                // costs O(1) here and not a walk of the group.
                let from = match self.stopping.take() {
                    Some((name, from)) if name == last => from,
                    _ => {
                        self.stop_all(gi, now);
                        0
                    }
                };
                let done = |p: &super::Process| {
                    p.state.is_stopped() || (p.state == ProcessState::Stopping && p.main_gone)
                };
                let procs = &self.groups[gi].procs;
                let left = procs[from..].iter().position(|id| !done(&self.procs[id]));
                if let Some(i) = left {
                    self.stopping = Some((last, from + i));
                    break;
                }
            }
            if let Some(s) = self.stop_groups.as_mut() {
                s.pop();
            }
        }
        debug_assert_eq!(
            self.unstopped,
            self.processes()
                .filter(|(_, p)| !p.state.is_stopped())
                .count(),
            "the count of unstopped processes drifted"
        );
        if self.unstopped == 0 {
            self.finished = true;
            self.shutdown_report_at = None;
            let e = if self.mood == SupervisorState::Shutdown {
                self.exit_effect()
            } else {
                Effect::Reload
            };
            self.emit(e);
        } else if self.shutdown_report_at.is_some_and(|at| at <= now.mono) {
            let unstopped: Vec<&str> = self
                .processes()
                .filter(|(_, p)| !p.state.is_stopped())
                .map(|(_, p)| p.spec.name.as_str())
                .collect();
            let msg = format!("waiting for {} to die", unstopped.join(", "));
            self.log(LogLevel::Info, msg);
            self.shutdown_report_at = Some(now.mono + SHUTDOWN_REPORT_EVERY);
        }
    }
}
