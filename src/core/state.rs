//! Process states, their codes, and the legal transitions between them.
//!
//! # The state model
//!
//! Every configured process is one `Process` record that lives as long as its
//! group is active. Its `state` is Supervisor's: a process is STOPPED until it
//! is started, STARTING from the moment the core asks the runtime to spawn it
//! until it has stayed up for `startsecs`, then RUNNING. A process that dies
//! while STARTING did not start: it goes to BACKOFF, and after `backoff`
//! seconds (1, 2, 3, ...) it is spawned again, until `startretries` retries
//! have failed and it is FATAL. A RUNNING process that dies is EXITED, and is
//! spawned again when `autorestart` says so: at once if it ran for a second,
//! else a second after its last spawn (Supervisor's 1 s loop gave a crash
//! loop that bound; a stop meanwhile makes it STOPPED). A stop request moves
//! STARTING/RUNNING to STOPPING (the stop signal is sent, a deadline armed;
//! past the deadline SIGKILL is sent again every `stopwaitsecs`) and the
//! death of the child then gives STOPPED. A failed `kill()` leaves the
//! process UNKNOWN: we no longer know whether it runs.
//!
//! With `ready=notify` (issue 17) STARTING ends at the program's `READY=1`
//! instead of at `startsecs`, and a start timeout or a missed watchdog ping
//! makes the core kill a process that nobody asked to stop. Those kills add
//! no transition: the process keeps its state (STARTING, RUNNING) until it
//! dies, and its death is then a failed start (BACKOFF) or an unexpected
//! exit (EXITED); see `readiness.rs`.
//!
//! There is no separate "desired" state as in systemd: Supervisor derives
//! what to do next from the current state, the `autorestart` policy, the
//! exit status and the daemon's mood (RUNNING, RESTARTING, SHUTDOWN). While
//! the mood is not RUNNING nothing is ever spawned again, so a shutdown can
//! only move processes towards the STOPPED states.
//!
//! Stop and start requests do not queue: a request is checked against the
//! current state and either acts at once or is refused with a fault
//! (`ALREADY_STARTED`, `NOT_RUNNING`). What may wait is the *reply*: a
//! `start` with `wait` replies when the process reaches RUNNING (or leaves
//! STARTING), a `stop` when it reaches a STOPPED state. The reply is emitted
//! as an effect at the transition itself; nothing polls.
//!
//! Order matters in two places. Within one input (an exit, a timeout), every
//! transition is applied and checked against [`TRANSITIONS`] before the next
//! one, and waiting replies are resolved after each single transition, so a
//! RUNNING -> EXITED -> STARTING sequence in one call still lets a waiter see
//! EXITED. Across processes, work is done in group priority order, which is
//! the order in which spawns and signals come out of `poll_effect()`.
//!
//! Every spawn bumps the process's generation. Inputs from the runtime carry
//! the generation they are about; an input for an older generation is stale
//! (a late exit of a process we already replaced) and is ignored.

pub use crate::api::{ProcessState, SupervisorState};

use ProcessState::*;

/// Whether `from -> to` is in [`TRANSITIONS`].
pub fn can_become(from: ProcessState, to: ProcessState) -> bool {
    TRANSITIONS.iter().any(|&(f, t)| f == from && t == to)
}

/// Every legal transition (spec §3.4). Anything else is a bug in the core.
pub const TRANSITIONS: &[(ProcessState, ProcessState)] = &[
    // autostart, startProcess, autorestart, backoff retry
    (Stopped, Starting),
    (Exited, Starting),
    (Fatal, Starting),
    (Backoff, Starting),
    // startsecs elapsed (also just before EXITED when the exit races it)
    (Starting, Running),
    // spawn error or exited before startsecs
    (Starting, Backoff),
    // stop request
    (Starting, Stopping),
    (Running, Stopping),
    // the child died on its own
    (Running, Exited),
    // too many retries; also BACKOFF during shutdown (`give_up`)
    (Backoff, Fatal),
    // ours (issue 18): an automatic restart past the start limit
    // (`start_limit_burst` within `start_limit_interval`)
    (Exited, Fatal),
    // stop of a BACKOFF process, or of an EXITED one whose autorestart is
    // held back by the crash-loop spacing: no child to signal
    (Backoff, Stopped),
    (Exited, Stopped),
    // the child died after a stop request; or a spawn failed while stopping
    (Stopping, Stopped),
    // kill()/signal() failed with an errno other than ESRCH
    (Starting, Unknown),
    (Running, Unknown),
    (Stopping, Unknown),
    // the child of an UNKNOWN process died after all (Supervisor asserts
    // here; we record the exit instead)
    (Unknown, Exited),
];
