//! What the core answers: faults with Supervisor's codes and texts, and the
//! result structs of spec §6.4.

/// Supervisor's fault codes (spec §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    UnknownMethod = 1,
    IncorrectParameters = 2,
    BadArguments = 3,
    SignatureUnsupported = 4,
    ShutdownState = 6,
    BadName = 10,
    BadSignal = 11,
    NoFile = 20,
    NotExecutable = 21,
    Failed = 30,
    AbnormalTermination = 40,
    SpawnError = 50,
    AlreadyStarted = 60,
    NotRunning = 70,
    Success = 80,
    AlreadyAdded = 90,
    StillRunning = 91,
    CantReread = 92,
}

impl FaultCode {
    /// Every code, in Supervisor's order (to read a code off the wire).
    pub const ALL: [FaultCode; 18] = {
        use FaultCode::*;
        [
            UnknownMethod,
            IncorrectParameters,
            BadArguments,
            SignatureUnsupported,
            ShutdownState,
            BadName,
            BadSignal,
            NoFile,
            NotExecutable,
            Failed,
            AbnormalTermination,
            SpawnError,
            AlreadyStarted,
            NotRunning,
            Success,
            AlreadyAdded,
            StillRunning,
            CantReread,
        ]
    };

    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        use FaultCode::*;
        match self {
            UnknownMethod => "UNKNOWN_METHOD",
            IncorrectParameters => "INCORRECT_PARAMETERS",
            BadArguments => "BAD_ARGUMENTS",
            SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            ShutdownState => "SHUTDOWN_STATE",
            BadName => "BAD_NAME",
            BadSignal => "BAD_SIGNAL",
            NoFile => "NO_FILE",
            NotExecutable => "NOT_EXECUTABLE",
            Failed => "FAILED",
            AbnormalTermination => "ABNORMAL_TERMINATION",
            SpawnError => "SPAWN_ERROR",
            AlreadyStarted => "ALREADY_STARTED",
            NotRunning => "NOT_RUNNING",
            Success => "SUCCESS",
            AlreadyAdded => "ALREADY_ADDED",
            StillRunning => "STILL_RUNNING",
            CantReread => "CANT_REREAD",
        }
    }
}

/// An XML-RPC fault: `faultCode` and `faultString` (`NAME` or `NAME: detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: FaultCode,
    pub text: String,
}

impl Fault {
    pub fn new(code: FaultCode, detail: &str) -> Fault {
        let text = if detail.is_empty() {
            code.name().to_string()
        } else {
            format!("{}: {}", code.name(), detail)
        };
        Fault { code, text }
    }
}

/// `getProcessInfo` (spec §6.4). Timestamps are clamped to the XML-RPC int range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub name: String,
    pub group: String,
    pub description: String,
    pub start: i64,
    pub stop: i64,
    pub now: i64,
    pub state: i32,
    pub statename: String,
    pub spawnerr: String,
    pub exitstatus: i32,
    pub logfile: String,
    pub stdout_logfile: String,
    pub stderr_logfile: String,
    pub pid: u32,
}

/// One entry of `getAllConfigInfo` (spec §6.4). Supervisor sends `None` as
/// the string `'none'` and AUTO as `'auto'`; the log file fields already are
/// those strings, the `Option`s are rendered by the control layer.
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
    /// `'auto'` when not set.
    pub serverurl: String,
    pub stdout: ConfigLogInfo,
    pub stderr: ConfigLogInfo,
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

/// The result struct of group/all operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcResult {
    pub name: String,
    pub group: String,
    /// A fault code, or 80 (SUCCESS).
    pub status: i32,
    /// `OK` or the fault text.
    pub description: String,
}

/// A successful answer to a [`super::Command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Bool(bool),
    /// `getState`: `{statecode, statename}`.
    State {
        code: i32,
        name: String,
    },
    Info(ProcessInfo),
    Infos(Vec<ProcessInfo>),
    /// Group/all operations, in completion order.
    Results(Vec<ProcResult>),
    /// `reloadConfig`: `[[added, changed, removed]]`.
    Diff {
        added: Vec<String>,
        changed: Vec<String>,
        removed: Vec<String>,
    },
    ConfigInfos(Vec<ConfigInfo>),
}

pub type Reply = Result<Answer, Fault>;
