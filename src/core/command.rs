//! What goes into the core (commands, runtime reports) and what comes out
//! (effects).

use super::ProcId;
use crate::api::{ProcessState, Reply, Request};
use crate::config::{Config, LogLevel};

/// One request the core answers (see [`Command::from_request`]). `name` is a namespec as
/// the client sent it (`name`, `group:name`, `group:*`, `group:`); it is
/// echoed in fault texts.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    GetState,
    GetProcessInfo {
        name: String,
    },
    GetAllProcessInfo,
    GetAllConfigInfo,
    StartProcess {
        name: String,
        wait: bool,
    },
    StartProcessGroup {
        name: String,
        wait: bool,
    },
    StartAllProcesses {
        wait: bool,
    },
    StopProcess {
        name: String,
        wait: bool,
    },
    StopProcessGroup {
        name: String,
        wait: bool,
    },
    StopAllProcesses {
        wait: bool,
    },
    /// `signal` as sent: a name (`HUP`, `SIGHUP`) or a number.
    SignalProcess {
        name: String,
        signal: String,
    },
    SignalProcessGroup {
        name: String,
        signal: String,
    },
    SignalAllProcesses {
        signal: String,
    },
    Shutdown,
    /// `supervisor.restart`: stop everything, then [`Effect::Reload`].
    Restart,
    /// `reloadConfig`: the reactor has parsed the file (or failed to).
    ReloadConfig {
        config: Box<Result<Config, String>>,
    },
    AddProcessGroup {
        name: String,
    },
    RemoveProcessGroup {
        name: String,
    },
}

impl Command {
    /// The command for a request the core answers, or the request back
    /// (the reactor answers it, or prepares it first: `ReloadConfig` needs
    /// the file read).
    pub fn from_request(req: Request) -> Result<Command, Request> {
        use Request as R;
        Ok(match req {
            R::GetState => Command::GetState,
            R::GetProcessInfo { name } => Command::GetProcessInfo { name },
            R::GetAllProcessInfo => Command::GetAllProcessInfo,
            R::GetAllConfigInfo => Command::GetAllConfigInfo,
            R::StartProcess { name, wait } => Command::StartProcess { name, wait },
            R::StartProcessGroup { name, wait } => Command::StartProcessGroup { name, wait },
            R::StartAllProcesses { wait } => Command::StartAllProcesses { wait },
            R::StopProcess { name, wait } => Command::StopProcess { name, wait },
            R::StopProcessGroup { name, wait } => Command::StopProcessGroup { name, wait },
            R::StopAllProcesses { wait } => Command::StopAllProcesses { wait },
            R::SignalProcess { name, signal } => Command::SignalProcess { name, signal },
            R::SignalProcessGroup { name, signal } => Command::SignalProcessGroup { name, signal },
            R::SignalAllProcesses { signal } => Command::SignalAllProcesses { signal },
            R::Shutdown => Command::Shutdown,
            R::Restart => Command::Restart,
            R::AddProcessGroup { name } => Command::AddProcessGroup { name },
            R::RemoveProcessGroup { name } => Command::RemoveProcessGroup { name },
            other => return Err(other),
        })
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
    /// meaningful for EXITED.
    StateChanged {
        id: ProcId,
        from: ProcessState,
        to: ProcessState,
        expected: bool,
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
