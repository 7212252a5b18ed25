//! The supervisor itself: a pure state machine (no I/O, no clock).
//!
//! `Core` decides everything Supervisor 4.3 decides — process states,
//! startsecs/backoff, autorestart, the stop sequence with SIGKILL escalation,
//! priority order, groups, reread/update diffs, the daemon's mood — and does
//! nothing else. It is shaped like quinn-proto:
//!
//! * inputs are method calls carrying the time they happen at ([`Now`]):
//!   [`Core::handle_command`] (one `supervisor.*` call, identified by a
//!   token), [`Core::spawned`], [`Core::spawn_failed`], [`Core::exited`],
//!   [`Core::signal_failed`] (the runtime's reports, each quoting the
//!   generation it is about), [`Core::notify`] and [`Core::main_pid`] (a
//!   program's notify-protocol messages, attributed by the runtime),
//!   [`Core::daemon_signal`] and [`Core::handle_timeout`];
//! * outputs are [`Effect`]s drained with [`Core::poll_effect`], in the order
//!   the runtime must carry them out (main-log lines first, so each is
//!   written as its transition happens; spawns last, so that a reply never
//!   waits behind a batch of forks), and the next instant anything is due,
//!   [`Core::next_deadline`].
//!
//! # Determinism contract
//!
//! The core never reads a clock, touches a file descriptor, makes a system
//! call, sleeps, locks or spawns a thread. The same inputs at the same
//! [`Now`]s give the same effects. Deadlines are exact: STARTING becomes
//! RUNNING at `laststart + startsecs`, a retry happens at `failure +
//! backoff` seconds, SIGKILL at `stop + stopwaitsecs` (Supervisor rounds all
//! of these up to its 1 s poll). After any input, `next_deadline()` is never
//! in the past: anything due was done before the input returned.
//!
//! # I/O the runtime does for the core
//!
//! * Local time for the `STOPPED`/`EXITED` descriptions is a
//!   `fn(i64) -> String` given to [`Core::new`] ([`describe::utc_time`] in tests).
//! * `startProcess` checks the command before spawning (`NO_FILE`,
//!   `NOT_EXECUTABLE`). That needs the file system, so the reactor installs a
//!   [`Checker`] with [`Core::set_command_check`] that resolves the command
//!   as the spawner would; without one, every check passes and a bad command
//!   shows as `SPAWN_ERROR` when [`Core::spawn_failed`] reports it.
//! * AUTO log file names are chosen by the runtime and told to the core with
//!   [`Core::set_log_paths`].
//! * A `kill()` that fails with ESRCH is the runtime's to ignore (the exit
//!   will be reported); any other errno goes to [`Core::signal_failed`].
//! * A `start` reply is deferred until the runtime reports the spawn result,
//!   even without `wait` (Supervisor's spawn is synchronous; ours is an effect).
//!
//! # API at a glance
//!
//! ```text
//! Core::new(config: Config, now: Now, local_time: fn(i64) -> String) -> Core   // autostart queued
//! core.set_command_check(Checker)            core.set_log_paths(id, stdout, stderr)
//! core.handle_command(token: u64, cmd: Command, now)   // -> Effect::Reply { token, reply }
//! core.spawned(id, gen, pid: u32, now)       core.spawn_failed(id, gen, error: String, now)
//! core.exited(id, gen, ExitStatus, now)      core.signal_failed(id, gen, error: String, now)
//! core.notify(id, gen, &Notification, now)   core.main_pid(id, gen, pid, via: &str, now) -> bool
//! core.daemon_signal(sig: i32, now)          core.handle_timeout(now)
//! core.next_deadline() -> Option<Instant>    core.poll_effect() -> Option<Effect>
//! views: process(id), processes(), groups(), group(name), spec(id), find(namespec), by_pid(pid),
//!        timer(id, Timer), mood(), pending_config(), process_info(id, now)
//! ```
//!
//! A reactor loop: drain `poll_effect()` (carry out `Spawn`/`Signal`, send
//! `Reply`s, write `Log`s, stop at `Exit`/`Reload`), then block until I/O or
//! `next_deadline()`, feed what happened back in, call `handle_timeout(now)`.
//!
//! `reload` ends with [`Effect::Reload`]: the reactor re-reads the config
//! and builds a new `Core`; nothing carries over (as in Supervisor).

mod answer;
mod command;
mod depends;
pub mod describe;
mod diff;
mod inputs;
mod machine;
mod policy;
mod process;
mod readiness;
mod shutdown;
pub mod state;
mod timers;
mod wait;

#[cfg(test)]
mod tests;

pub use command::{Command, CommandCheck, Effect, ExitStatus};
pub use diff::diff;
pub use machine::{Checker, Core, Group};
pub use policy::FATAL_EXIT_STATUS;
pub use process::{Failing, Process, Timer};
pub use state::{can_become, TRANSITIONS};

use std::time::Instant;

/// The time an input happens at: monotonic for deadlines, wall (epoch
/// seconds) for the timestamps people read. Both are injected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    pub mono: Instant,
    pub wall: f64,
}

/// A process's identity for as long as its group is active. Never reused,
/// so a report about a removed process cannot hit its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcId(pub u32);
