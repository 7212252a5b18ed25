//! What goes into the core (commands, runtime reports) and what comes out
//! (effects).

use super::ProcId;
use crate::api::{ProcessState, Reply, Request};
use crate::config::{Config, LogLevel};

/// What the core is asked: a client's [`Request`] it answers (see
/// [`Command::answers`]), or the reread the reactor prepared by reading
/// the config file. A `name` in a request is a namespec as the client sent
/// it (`name`, `group:name`, `group:*`, `group:`); it is echoed in fault
/// texts.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Request(Request),
    /// `reloadConfig`: the reactor has parsed the file (or failed to).
    ReloadConfig {
        config: Box<Result<Config, String>>,
    },
}

impl From<Request> for Command {
    fn from(req: Request) -> Command {
        Command::Request(req)
    }
}

impl Command {
    /// Whether the core answers `req`; the reactor answers the others
    /// (logs, files, pids), or prepares them first (`ReloadConfig` needs
    /// the file read).
    pub fn answers(req: &Request) -> bool {
        use Request::*;
        matches!(
            req,
            GetState
                | GetProcessInfo { .. }
                | GetAllProcessInfo
                | GetAllConfigInfo
                | StartProcess { .. }
                | StartProcessGroup { .. }
                | StartAllProcesses { .. }
                | StopProcess { .. }
                | StopProcessGroup { .. }
                | StopAllProcesses { .. }
                | SignalProcess { .. }
                | SignalProcessGroup { .. }
                | SignalAllProcesses { .. }
                | Shutdown
                | Restart
                | AddProcessGroup { .. }
                | RemoveProcessGroup { .. }
        )
    }

    /// The command for a request the core answers, or the request back.
    pub fn from_request(req: Request) -> Result<Command, Request> {
        if Command::answers(&req) {
            Ok(Command::Request(req))
        } else {
            Err(req)
        }
    }
}

/// How a child ended, as the runtime decoded its wait status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal { sig: i32, core: bool },
}

impl ExitStatus {
    /// Supervisor's `exitstatus`: the code, or -1 for a signal death (which
    /// is therefore never "expected").
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal { .. } => -1,
        }
    }

    /// `exit status 0`, `terminated by SIGTERM`, `terminated by SIGSEGV (core dumped)`.
    pub fn describe(self) -> String {
        match self {
            ExitStatus::Code(c) => format!("exit status {c}"),
            ExitStatus::Signal { sig, core } => {
                let core = if core { " (core dumped)" } else { "" };
                format!(
                    "terminated by {}{core}",
                    crate::config::signal::signame(sig)
                )
            }
        }
    }
}

/// The result of the reactor's command check for `startProcess` (the only
/// part of a start that needs the file system before spawning). The text is
/// Supervisor's, e.g. `can't find command 'foo'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandCheck {
    Ok,
    /// Raised as `NO_FILE`.
    NotFound(String),
    /// Directory, no x bit, no permission, bad quoting: `NOT_EXECUTABLE`.
    NotExecutable(String),
}

/// Work for the runtime, in the order it must be done.
// Replies are large (ProcessInfo lists) but effects are short-lived and
// drained at once; boxing would only add an allocation per effect.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Fork/exec this process; report back with `spawned` or `spawn_failed`
    /// quoting `gen`.
    Spawn {
        id: ProcId,
        gen: u64,
    },
    /// Send `sig` to `pid` (to its process group/cgroup when `group`).
    /// ESRCH is the runtime's to ignore; other errors go to `signal_failed`.
    Signal {
        id: ProcId,
        gen: u64,
        pid: u32,
        sig: i32,
        group: bool,
    },
    /// The answer to the command with this token.
    Reply {
        token: u64,
        reply: Reply,
    },
    /// A process changed state (for events and D-Bus). `expected` is only
    /// meaningful for EXITED. `pid` and `tries` are taken at the change, as
    /// Supervisor's event payloads quote them: `pid` is the child's, also in
    /// the STOPPED or EXITED its exit caused (0 before a spawn result);
    /// `tries` is the backoff count (`startretries` used up so far).
    StateChanged {
        id: ProcId,
        from: ProcessState,
        to: ProcessState,
        expected: bool,
        pid: u32,
        tries: i64,
    },
    /// Something a live face shows changed without a state change: the
    /// `STATUS=` text or the main pid (`MAINPID=`, `pidfile`).
    ProcessUpdated {
        id: ProcId,
    },
    /// A main-log line.
    Log {
        level: LogLevel,
        message: String,
    },
    GroupAdded {
        name: String,
    },
    /// The group and its processes are gone; its ids are never reused.
    GroupRemoved {
        name: String,
    },
    /// The first step of a shutdown or reload (`SUPERVISOR_STATE_CHANGE_STOPPING`).
    SupervisorStopping,
    /// SIGUSR2: reopen the main log and every child log.
    ReopenLogs,
    /// Shutdown finished: every process is in a STOPPED state. Exit 0.
    Exit,
    /// A shutdown started by `exit_on_fatal` finished: exit with `code`
    /// (non-zero).
    ExitWith {
        code: i32,
    },
    /// Restart finished: re-read the config and build a new core.
    Reload,
}
