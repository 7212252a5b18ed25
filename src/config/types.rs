//! The typed configuration: what the loader produces and the core consumes.
//!
//! Every value here is already validated and expanded. Defaults are
//! Supervisor 4.3's, declared once, in the option tables (`program.rs`,
//! `supervisord.rs`, `servers.rs`, `groups.rs`). `PartialEq` on the specs is what `reread`/`update` use to
//! decide that a group "changed", so every option that Supervisor compares is a
//! field here (AUTO log files compare as `LogFile::Auto`, never as the
//! generated name, which is Supervisor's rule too).

use std::path::PathBuf;
use std::sync::Arc;

/// Where a value or section came from, for error messages and diagnostics.
pub use crate::py::configparser::Origin;

/// The whole configuration after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The main file, as given (`-c`) or found by the search.
    pub path: PathBuf,
    pub supervisord: SupervisordSpec,
    /// Every `[unix_http_server*]` section, in file order (normally one).
    pub unix_http_servers: Vec<UnixHttpServerSpec>,
    /// Every `[inet_http_server*]` section, in file order (normally none or one).
    pub inet_http_servers: Vec<InetHttpServerSpec>,
    pub supervisorctl: CtlSpec,
    /// Groups sorted by (priority, name); processes inside sorted by (priority, name).
    pub groups: Vec<GroupSpec>,
    /// Messages the daemon logs once its main log is open (Supervisor's parse
    /// warnings and infos, plus ours for unknown options).
    pub messages: Vec<(LogLevel, String)>,
}

impl Config {
    pub fn group(&self, name: &str) -> Option<&GroupSpec> {
        self.groups.iter().find(|g| g.name == name)
    }
}

/// Main-log levels, most severe first. Numeric values are Supervisor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Blather = 3,
    Trace = 5,
    Debug = 10,
    Info = 20,
    Warn = 30,
    Error = 40,
    Critical = 50,
}

impl LogLevel {
    /// The four-letter tag in the main log (`INFO`, `WARN`, ...).
    pub fn tag(self) -> &'static str {
        match self {
            LogLevel::Blather => "BLAT",
            LogLevel::Trace => "TRAC",
            LogLevel::Debug => "DEBG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERRO",
            LogLevel::Critical => "CRIT",
        }
    }
}

/// `[supervisord]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisordSpec {
    pub logfile: MainLog,
    pub logfile_maxbytes: i64,
    pub logfile_backups: i64,
    pub loglevel: LogLevel,
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<UserSpec>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: Vec<(String, String)>,
    pub identifier: String,
    // pidvisor extensions (a real supervisord ignores these keys).
    /// `cgroups = true|false`: default for every program (issue 6).
    pub cgroups: bool,
    /// `dbus = auto|true|false` (issue 7).
    pub dbus: DbusMode,
    /// `dbus_group = NAME`: a group admitted to state-changing D-Bus calls.
    pub dbus_group: Option<String>,
    /// `web_ui = true|false`: the web page on the HTTP servers (issue 16).
    pub web_ui: bool,
    /// `exit_on_fatal = NAME, ...|all`: container mode (issue 18).
    pub exit_on_fatal: ExitOnFatal,
}

/// `[supervisord] exit_on_fatal`: which programs going FATAL stop the whole
/// daemon with a non-zero exit status (so that a container orchestrator
/// restarts the container).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ExitOnFatal {
    /// Never (the default, Supervisor's behaviour).
    #[default]
    Never,
    /// Any program.
    All,
    /// The programs (or every program of the groups) of these names.
    Names(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLog {
    File(PathBuf),
    Syslog,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DbusMode {
    #[default]
    Auto,
    On,
    Off,
}

/// A user from `user=`, resolved against the password database at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    /// As written in the config (name or numeric uid).
    pub written: String,
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: PathBuf,
}

/// `[unix_http_server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnixHttpServerSpec {
    pub section: String,
    pub file: PathBuf,
    pub chmod: u32,
    /// `chown=user[:group]` resolved to ids.
    pub chown: Option<(u32, Option<u32>)>,
    pub auth: Option<Credentials>,
}

/// `[inet_http_server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct InetHttpServerSpec {
    pub section: String,
    /// Lower-cased host; empty means all interfaces.
    pub host: String,
    pub port: u16,
    pub auth: Option<Credentials>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    /// Plain text, or `{SHA}<40 hex>`.
    pub password: String,
}

/// `[supervisorctl]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CtlSpec {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
}

/// What kind of section a group came from.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupKind {
    /// One `[program:x]` not listed in any `[group:]`.
    Program,
    /// A `[group:x]`.
    Group,
    /// An `[eventlistener:x]` pool.
    EventListenerPool(EventPoolSpec),
    /// An `[fcgi-program:x]`.
    Fcgi(FcgiSpec),
}

/// A process group: the unit of `add`, `remove` and `update`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// Sorted by (priority, name). Shared: the loaded config, the core's
    /// pending config, its groups, its processes and the spawner all hold
    /// the same spec, not a copy each.
    pub processes: Vec<Arc<ProgramSpec>>,
    /// `cgroup=` in `[group:x]` (pidvisor extension); `None` = inherit.
    pub cgroup: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventPoolSpec {
    /// Upper-case event type names as written (validated).
    pub events: Vec<String>,
    pub buffer_size: i64,
    pub result_handler: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FcgiSpec {
    /// `unix:///abs/path` or `tcp://host:port`, expanded.
    pub socket: String,
    pub socket_backlog: Option<i64>,
    pub socket_owner: Option<(u32, Option<u32>)>,
    pub socket_mode: u32,
}

/// `autorestart=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// `stdout_logfile=` / `stderr_logfile=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    Auto,
    None,
    Path(PathBuf),
}

/// The per-stream log options of a program.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSpec {
    pub file: LogFile,
    pub maxbytes: i64,
    pub backups: i64,
    pub capture_maxbytes: i64,
    pub events_enabled: bool,
    pub syslog: bool,
    /// `*_log_timestamps` (pidvisor): each line in the file starts with an
    /// ISO-8601 time.
    pub timestamps: bool,
}

/// One process, after `numprocs` expansion: everything needed to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSpec {
    /// The process name (`process_name` expanded).
    pub name: String,
    /// The group it belongs to.
    pub group: String,
    /// The `x` of `[program:x]`.
    pub program: String,
    /// `%(process_num)` for this instance.
    pub process_num: i64,
    /// The command line, expanded but not yet split (shlex happens at spawn,
    /// as in Supervisor, so a bad quote is a spawn error, not a config error).
    pub command: String,
    pub priority: i64,
    pub autostart: bool,
    pub startsecs: i64,
    pub startretries: i64,
    pub autorestart: AutoRestart,
    pub exitcodes: Vec<i32>,
    /// Signal number (0 allowed, as in Supervisor).
    pub stopsignal: i32,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub user: Option<UserSpec>,
    pub redirect_stderr: bool,
    pub stdout: LogSpec,
    pub stderr: LogSpec,
    /// `[supervisord] environment` updated with the program's own pairs,
    /// as Supervisor's `read_config` merges them (so a change of the former
    /// changes every program).
    pub environment: Vec<(String, String)>,
    pub directory: Option<PathBuf>,
    pub umask: Option<u32>,
    /// `None` means AUTO (the daemon's own URL).
    pub serverurl: Option<String>,
    // pidvisor extensions.
    /// `cgroup=` in `[program:x]`; `None` = inherit from group / `[supervisord]`.
    pub cgroup: Option<bool>,
    pub memory_max: Option<String>,
    pub pids_max: Option<String>,
    pub cpu_max: Option<String>,
    /// Readiness, watchdog and forking daemons (issue 17).
    pub notify: NotifySpec,
    /// `depends_on`: program or group names started (and RUNNING) before
    /// this one, and stopped after it (issue 18).
    pub depends_on: Vec<String>,
    /// `restart_delay`, `start_limit_burst`, `start_limit_interval`.
    pub restart: RestartPolicy,
    /// `environment_file`: read at each start, under `environment`.
    pub environment_file: Option<EnvFile>,
    /// `capabilities`: kept as ambient capabilities across the `user=`
    /// drop; bit `n` is capability number `n` (`CAP_NET_BIND_SERVICE` is 10).
    pub capabilities: u64,
    /// `no_new_privs`: `PR_SET_NO_NEW_PRIVS` before exec.
    pub no_new_privs: bool,
    /// Where the section starts.
    pub origin: Origin,
}

/// `ready=`: when a starting program counts as RUNNING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Readiness {
    /// Supervisor's rule: it stayed up `startsecs`.
    #[default]
    Startsecs,
    /// It sent `READY=1` on `NOTIFY_SOCKET` (systemd's `Type=notify`).
    Notify,
}

/// `notify_access=`: whose messages on the notify socket count (systemd's
/// `NotifyAccess=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NotifyAccess {
    /// The program gets no `NOTIFY_SOCKET`; every message is dropped.
    #[default]
    None,
    /// Only the main process (systemd's default for `Type=notify`).
    Main,
    /// Any process of the program (its cgroup leaf, or its descendants).
    All,
}

/// The notify-protocol options of a program (pidvisor extensions; a real
/// supervisord ignores the keys).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NotifySpec {
    /// `ready = startsecs|notify`.
    pub ready: Readiness,
    /// `ready_timeout_sec`: with `ready=notify`, how long a start may take
    /// before it is killed and counted as failed; zero = no limit.
    pub ready_timeout: std::time::Duration,
    /// `watchdog_sec`: a RUNNING program must send `WATCHDOG=1` this often;
    /// zero = no watchdog.
    pub watchdog: std::time::Duration,
    /// `watchdog_signal` (default SIGABRT): sent when a ping is missed.
    pub watchdog_signal: i32,
    /// `notify_access`; `main` when `ready=notify` or a watchdog is set.
    pub access: NotifyAccess,
    /// `pidfile`: a forking program's daemon pid, read when the launcher
    /// exits with status 0.
    pub pidfile: Option<PathBuf>,
}

impl NotifySpec {
    /// Whether the program gets `NOTIFY_SOCKET` (and so needs the socket).
    pub fn uses_socket(&self) -> bool {
        self.access != NotifyAccess::None
    }
}

/// How automatic restarts are paced and bounded (pidvisor's keys; their
/// defaults keep Supervisor's behaviour: no delay, no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestartPolicy {
    /// `restart_delay`: seconds from an exit to its automatic restart.
    pub delay: i64,
    /// `start_limit_burst`: automatic restarts allowed within
    /// `interval` seconds; one more makes the process FATAL. 0: no limit.
    pub limit_burst: i64,
    /// `start_limit_interval`, in seconds.
    pub limit_interval: i64,
}

/// `environment_file = [-]PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    pub path: PathBuf,
    /// Written with a leading `-`: a missing file is no error.
    pub optional: bool,
}

impl ProgramSpec {
    /// `group:name`, or just `name` when both are the same (Supervisor's namespec).
    pub fn namespec(&self) -> String {
        if self.group == self.name {
            self.name.clone()
        } else {
            format!("{}:{}", self.group, self.name)
        }
    }
}
