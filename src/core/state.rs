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

/// A process state with Supervisor's name and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessState {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

use ProcessState::*;

impl ProcessState {
    pub const ALL: [ProcessState; 8] = [
        Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal, Unknown,
    ];

    /// Supervisor's numeric code (`state` in ProcessInfo).
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Supervisor's name (`statename`).
    pub fn name(self) -> &'static str {
        match self {
            Stopped => "STOPPED",
            Starting => "STARTING",
            Running => "RUNNING",
            Backoff => "BACKOFF",
            Stopping => "STOPPING",
            Exited => "EXITED",
            Fatal => "FATAL",
            Unknown => "UNKNOWN",
        }
    }

    /// `STOPPED_STATES`: nothing runs (or we gave up knowing).
    pub fn is_stopped(self) -> bool {
        matches!(self, Stopped | Exited | Fatal | Unknown)
    }

    /// `RUNNING_STATES`: started and not being stopped (BACKOFF counts).
    pub fn is_running(self) -> bool {
        matches!(self, Starting | Running | Backoff)
    }

    /// `SIGNALLABLE_STATES`: there is a child to signal.
    pub fn is_signallable(self) -> bool {
        matches!(self, Starting | Running | Stopping)
    }

    /// Whether `self -> to` is in [`TRANSITIONS`].
    pub fn can_become(self, to: ProcessState) -> bool {
        TRANSITIONS.iter().any(|&(f, t)| f == self && t == to)
    }
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

/// The daemon's mood (`getState`): codes are Supervisor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mood {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
}

impl Mood {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            Mood::Shutdown => "SHUTDOWN",
            Mood::Restarting => "RESTARTING",
            Mood::Running => "RUNNING",
        }
    }
}
