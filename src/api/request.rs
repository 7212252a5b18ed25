//! Every operation a client can ask for, whichever face it comes through.
//!
//! The names follow Supervisor's XML-RPC methods (they are the vocabulary
//! users and tools already know); a `name` is a namespec as the client sent
//! it (`name`, `group:name`, `group:*`, `group:`) and is echoed in fault
//! texts. Which part of the daemon answers is the reactor's business (see
//! [`Request::answered_by_core`]); a face only builds requests and renders
//! replies.

/// One of a process's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// What `sendProcessStdin` was given. Supervisor checks the type only
/// after the daemon's state, so a face passes a wrong type on rather than
/// refusing it itself.
#[derive(Debug, Clone, PartialEq)]
pub enum StdinData {
    Bytes(Vec<u8>),
    /// Not a string: how Python's `str()` shows it, for the fault text.
    NotText(String),
}

/// A request. See the module doc for naming.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    // The daemon.
    GetApiVersion,
    GetSupervisorVersion,
    GetIdentification,
    GetState,
    GetPid,
    ReadMainLog {
        offset: i64,
        length: i64,
    },
    ClearMainLog,
    Shutdown,
    /// Stop everything, re-read the config, start again.
    Restart,

    // The configuration.
    /// Re-read the config file and diff it (`reloadConfig`); applies nothing.
    ReloadConfig,
    AddProcessGroup {
        name: String,
    },
    RemoveProcessGroup {
        name: String,
    },
    GetAllConfigInfo,

    // Processes.
    GetProcessInfo {
        name: String,
    },
    GetAllProcessInfo,
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

    // Process output and input.
    ReadProcessLog {
        name: String,
        stream: Stream,
        offset: i64,
        length: i64,
    },
    TailProcessLog {
        name: String,
        stream: Stream,
        offset: i64,
        length: i64,
    },
    ClearProcessLogs {
        name: String,
    },
    ClearAllProcessLogs,
    SendProcessStdin {
        name: String,
        data: StdinData,
    },
    /// `sendRemoteCommEvent(type, data)`.
    SendRemoteCommEvent {
        kind: String,
        data: String,
    },

    // pidvisor's own.
    /// Every pid of one program (its cgroup leaf, or the main pid and its
    /// descendants) with its command line.
    ListProcessPids {
        name: String,
    },
    /// Every process as the live faces show it, or the one keyed
    /// `group:name`.
    Snapshots {
        key: Option<String>,
    },
    /// The file a log follower reads: the main log (`name: None`) or a
    /// process's stream.
    LogFile {
        name: Option<String>,
        stream: Stream,
    },
    /// What `/metrics` exports: every process with its counters and, in a
    /// cgroup leaf, its memory and CPU; the daemon's own resources.
    Metrics,
}
