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
    /// pidvisor: the last `STATUS=` text of a program that may notify
    /// (`notify_access` not `none`); `None` for the others, whose struct
    /// keeps Supervisor's exact keys.
    pub status_text: Option<String>,
}

/// A value in a `getAllConfigInfo` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    Bool(bool),
    Int(i64),
    Str(String),
    Ints(Vec<i64>),
}

impl ConfigValue {
    /// `'none'`, Supervisor's rendering of Python's `None`.
    pub fn none() -> ConfigValue {
        ConfigValue::Str("none".into())
    }
}

/// One entry of `getAllConfigInfo` (spec §6.4): the program's options as
/// Supervisor names and renders them (`process_prio`, `'none'`, `'auto'`),
/// plus its group's name and priority and `inuse`. The fields come from
/// the config's option table (`config::info_fields`); a face renders them
/// without knowing the specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigInfo {
    pub fields: Vec<(&'static str, ConfigValue)>,
}

impl ConfigInfo {
    pub fn get(&self, key: &str) -> Option<&ConfigValue> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The process name (`name`).
    pub fn name(&self) -> &str {
        match self.get("name") {
            Some(ConfigValue::Str(s)) => s,
            _ => "",
        }
    }
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
    /// The last `STATUS=` text the program sent on the notify socket
    /// (empty: none).
    pub status_text: String,
}

impl ProcessSnapshot {
    /// `group:name` (always both parts, unlike `namespec`).
    pub fn key(&self) -> String {
        format!("{}:{}", self.group, self.name)
    }
}

/// One process for `/metrics`: what every face shows, plus counters.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessMetrics {
    pub snapshot: ProcessSnapshot,
    /// Spawns since the daemon (re)loaded this process: only grows.
    pub starts: u64,
    /// Seconds since the last spawn while there is a child; 0 without one.
    pub uptime_secs: f64,
    /// `memory.current` of its cgroup leaf, when it has one with the memory
    /// controller.
    pub memory_bytes: Option<u64>,
    /// `usage_usec` of its leaf's `cpu.stat`, when it has a leaf.
    pub cpu_usec: Option<u64>,
}

/// The daemon's own resources for `/metrics`; `None` where `/proc` did
/// not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonMetrics {
    pub resident_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
}

/// The answer to `Request::Metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// In start order, as `status` lists them.
    pub processes: Vec<ProcessMetrics>,
    pub daemon: DaemonMetrics,
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
    Metrics(Metrics),
}

pub type Reply = Result<Response, Fault>;
