//! What a request is answered with, typed: states as [`ProcessState`],
//! faults as [`Fault`](super::Fault). Faces render these; none parses
//! another face's wire format.

use std::path::PathBuf;

use super::{Fault, ProcessState, SupervisorState};

/// `getProcessInfo` (spec §6.4). Timestamps are epoch seconds clamped to
/// the XML-RPC int range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub name: String,
    pub group: String,
    pub description: String,
    pub start: i64,
    pub stop: i64,
    pub now: i64,
    pub state: ProcessState,
    pub spawnerr: String,
    pub exitstatus: i32,
    pub logfile: String,
    pub stdout_logfile: String,
    pub stderr_logfile: String,
    pub pid: u32,
}

/// One entry of `getAllConfigInfo` (spec §6.4). Supervisor sends `None` as
/// the string `'none'` and AUTO as `'auto'`; the log file fields already are
/// those strings, the `Option`s are rendered by each face.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInfo {
    pub autostart: bool,
    pub directory: Option<String>,
    pub uid: Option<u32>,
    pub command: String,
    pub exitcodes: Vec<i32>,
    pub group: String,
    pub group_prio: i64,
    pub inuse: bool,
    pub killasgroup: bool,
    pub name: String,
    pub process_prio: i64,
    pub redirect_stderr: bool,
    pub startretries: i64,
    pub startsecs: i64,
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    /// `'none'` when not set.
    pub serverurl: String,
    pub stdout: ConfigLogInfo,
    pub stderr: ConfigLogInfo,
    /// pidvisor's own options that the program sets away from their
    /// defaults (`depends_on`, `restart_delay`, ...), by key; empty for a
    /// config that uses none, whose records are then Supervisor's.
    pub extensions: Vec<(String, ConfigValue)>,
}

/// The value of a [`ConfigInfo::extensions`] field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    Bool(bool),
    Int(i64),
    Str(String),
    Ints(Vec<i64>),
}

/// The `stdout_*` / `stderr_*` fields of [`ConfigInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLogInfo {
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    /// A path, `'auto'` or `'none'`.
    pub logfile: String,
    pub logfile_backups: i64,
    pub logfile_maxbytes: i64,
    pub syslog: bool,
}

/// The outcome for one process of a group or all-process operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcResult {
    pub name: String,
    pub group: String,
    pub outcome: Result<(), Fault>,
}

impl ProcResult {
    /// Supervisor's `status`: the fault code, or SUCCESS (80).
    pub fn status(&self) -> i32 {
        match &self.outcome {
            Ok(()) => super::FaultCode::Success.code(),
            Err(f) => f.code.code(),
        }
    }

    /// Supervisor's `description`: `OK`, or the fault text.
    pub fn description(&self) -> &str {
        match &self.outcome {
            Ok(()) => "OK",
            Err(f) => &f.text,
        }
    }
}

/// `reloadConfig`: group names by what a reread found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// `tailProcess*Log`: the bytes, where the next read starts, and whether
/// the log grew past what was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTail {
    pub text: String,
    pub offset: i64,
    pub overflow: bool,
}

/// One pid of a program with its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidInfo {
    pub pid: u32,
    pub cmdline: String,
}

/// One process as the live faces (D-Bus, web) show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSnapshot {
    pub name: String,
    pub group: String,
    /// What `status` prints (`name`, or `group:name`).
    pub namespec: String,
    pub state: ProcessState,
    pub pid: u32,
    pub description: String,
    pub exit_status: i32,
    pub spawn_error: String,
    /// Wall-clock microseconds; 0 = never.
    pub start_usec: u64,
    pub stop_usec: u64,
    pub restarts: u64,
    /// The cgroup as the kernel names it; empty without one.
    pub control_group: String,
}

impl ProcessSnapshot {
    /// `group:name` (always both parts, unlike `namespec`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.group, self.name)
    }
}

/// A successful answer. Which variant answers which request is fixed (see
/// each face's encoder), so a face matches on what it asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Bool(bool),
    State(SupervisorState),
    /// Versions, the identification, a window of a log.
    Text(String),
    Pid(u32),
    Info(ProcessInfo),
    Infos(Vec<ProcessInfo>),
    /// Group/all operations, in completion order.
    Results(Vec<ProcResult>),
    Diff(Diff),
    ConfigInfos(Vec<ConfigInfo>),
    Tail(LogTail),
    Pids(Vec<PidInfo>),
    Snapshots(Vec<ProcessSnapshot>),
    /// The file of a `LogFile` request, if the log has one.
    LogFile(Option<PathBuf>),
}

pub type Reply = Result<Response, Fault>;
