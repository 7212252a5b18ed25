//! Stage two: raw sections -> validated, typed specs (spec §2.2–§2.5).
//!
//! The order of reads and the expansion dict of every option follow
//! Supervisor's `ServerOptions.read_config` / `processes_from_section`, so
//! the same `%(name)s` names are available where Supervisor offers them.
//! Unlike Supervisor, a problem does not stop the load: every option is
//! checked and every problem lands in [`ConfigErrors`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::env::Env;
use super::error::{ConfigError, ConfigErrors};
use super::expand::{expand, Names, Val};
use super::ini::Ini;
use super::signal::parse_signal;
use super::types::*;
use super::values::*;

/// The longest `startsecs`/`stopwaitsecs` kept (68 years): a deadline that
/// far is never reached, a monotonic clock can hold it (`i64::MAX` seconds
/// added to now overflows), and it is the largest int XML-RPC can carry
/// (Supervisor faults on getAllConfigInfo above it).
const MAX_WAIT_SECS: i64 = i32::MAX as i64;

const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";
const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
const RPC_FACTORY_KEY: &str = "supervisor.rpcinterface_factory";

const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    "cgroups",
    "dbus",
    "dbus_group",
    "web_ui",
];
const UNIX_KEYS: &[&str] = &["file", "chmod", "chown", "username", "password"];
const INET_KEYS: &[&str] = &["port", "username", "password"];
const CTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
];
const GROUP_KEYS: &[&str] = &["programs", "priority", "cgroup"];
const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "startsecs",
    "startretries",
    "autorestart",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    "cgroup",
    "memory_max",
    "pids_max",
    "cpu_max",
];
const LISTENER_KEYS: &[&str] = &["events", "buffer_size", "result_handler"];
const FCGI_KEYS: &[&str] = &["socket", "socket_backlog", "socket_owner", "socket_mode"];

/// Every option each kind of section knows, by section kind (`program` stands
/// for `[program:x]`); for documentation checks.
pub fn known_options() -> [(&'static str, &'static [&'static str]); 8] {
    [
        ("supervisord", SUPERVISORD_KEYS),
        ("unix_http_server", UNIX_KEYS),
        ("inet_http_server", INET_KEYS),
        ("supervisorctl", CTL_KEYS),
        ("program", PROGRAM_KEYS),
        ("eventlistener", LISTENER_KEYS),
        ("fcgi-program", FCGI_KEYS),
        ("group", GROUP_KEYS),
    ]
}

/// Load the main file at `path` and its `[include]` files into a validated
/// [`Config`], or return every problem found.
pub fn load(path: &Path, env: &Env) -> Result<Config, ConfigErrors> {
    let mut l = Loader::new(path, env)?;
    l.read_includes();
    if !l.ini.has_section("supervisord") {
        l.errors.push(ConfigError::file(
            path,
            ".ini file does not include supervisord section",
        ));
    }
    let supervisord = l.supervisord();
    for (k, v) in &supervisord.environment {
        l.env_names.insert(format!("ENV_{k}"), Val::Str(v.clone()));
    }
    l.supervisord_env = supervisord.environment.clone();
    let groups = l.groups();
    let (unix_http_servers, inet_http_servers) = l.servers();
    // supervisord never reads [supervisorctl]: its problems are the
    // client's (`load_ctl`), not a reason to refuse to start or reread.
    let supervisorctl = if l.ini.has_section("supervisorctl") {
        let before = l.errors.len();
        let spec = l.ctl();
        l.errors.truncate(before);
        spec
    } else {
        CtlSpec::default()
    };
    l.rpcinterfaces();
    l.warn_unknown();
    let config = Config {
        path: path.to_path_buf(),
        supervisord,
        unix_http_servers,
        inet_http_servers,
        supervisorctl,
        groups,
        messages: std::mem::take(&mut l.messages),
    };
    l.finish().map(|()| config)
}

/// Load what `pidvisorctl` needs: the `[supervisorctl]` section of the main
/// file (Supervisor's client reads no includes and no other section).
pub fn load_ctl(path: &Path, env: &Env) -> Result<CtlSpec, ConfigErrors> {
    let mut l = Loader::new(path, env)?;
    if !l.ini.has_section("supervisorctl") {
        l.errors.push(ConfigError::file(
            path,
            ".ini file does not include supervisorctl section",
        ));
        return Err(l.finish().unwrap_err());
    }
    let spec = l.ctl();
    l.finish().map(|()| spec)
}

/// The loader's working state.
struct Loader<'a> {
    env: &'a Env,
    main: PathBuf,
    /// Absolute directory of the main file (`%(here)s`).
    here: String,
    ini: Ini,
    errors: Vec<ConfigError>,
    messages: Vec<(LogLevel, String)>,
    /// `ENV_*` names: the environment, later plus `[supervisord] environment`.
    env_names: Names,
    /// Files in read order, to sort errors.
    files: Vec<PathBuf>,
    /// `[supervisord] environment`, the base of every program's.
    supervisord_env: Vec<(String, String)>,
}

/// An expanded value and where it was written (or the section header when
/// the default was used).
struct Got {
    text: String,
    origin: Origin,
}

/// `Err(())`: the problem is already recorded in `Loader::errors`.
type Checked<T> = Result<T, ()>;

impl<'a> Loader<'a> {
    fn new(path: &Path, env: &'a Env) -> Result<Loader<'a>, ConfigErrors> {
        let abs = normalize_path(&path.to_string_lossy(), &env.cwd);
        let here = abs
            .parent()
            .unwrap_or(Path::new("/"))
            .to_string_lossy()
            .into_owned();
        let full = env.cwd.join(path);
        if !full.exists() {
            return Err(ConfigError::file(
                path,
                format!("could not find config file {}", path.display()),
            )
            .into());
        }
        let text = std::fs::read(&full).map_err(|_| {
            ConfigError::file(
                path,
                format!("could not read config file {}", path.display()),
            )
        })?;
        let text = String::from_utf8(text).map_err(|e| {
            ConfigError::file(
                path,
                format!("could not read config file {}: {e}", path.display()),
            )
        })?;
        let mut l = Loader {
            env,
            main: path.to_path_buf(),
            here: here.clone(),
            ini: Ini::default(),
            errors: Vec::new(),
            messages: Vec::new(),
            env_names: env
                .vars
                .iter()
                .map(|(k, v)| (format!("ENV_{k}"), Val::Str(v.clone())))
                .collect(),
            files: vec![path.to_path_buf()],
            supervisord_env: Vec::new(),
        };
        l.ini.read_str(&text, path, &here, &mut l.errors);
        Ok(l)
    }

    fn finish(mut self) -> Result<(), ConfigErrors> {
        if self.errors.is_empty() {
            return Ok(());
        }
        let files = self.files.clone();
        let rank = |f: &Path| files.iter().position(|x| x == f).unwrap_or(usize::MAX);
        self.errors.sort_by_key(|e| (rank(&e.file), e.line));
        Err(ConfigErrors(self.errors))
    }

    // ---- helpers -------------------------------------------------------

    fn err(&mut self, section: &str, option: Option<&str>, origin: &Origin, message: String) {
        let e = ConfigError {
            file: origin.file.clone(),
            line: origin.line,
            section: Some(section.to_string()),
            option: option.map(str::to_string),
            message,
        };
        if !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }

    fn section_origin(&self, section: &str) -> Origin {
        self.ini
            .section(section)
            .map(|s| s.origin.clone())
            .unwrap_or_else(|| Origin {
                file: self.main.clone(),
                line: 0,
            })
    }

    /// The `ENV_*` names plus `extra`.
    fn names(&self, extra: &[(&str, Val)]) -> Names {
        let mut n = self.env_names.clone();
        for (k, v) in extra {
            n.insert(k.to_string(), v.clone());
        }
        n
    }

    fn here(&self) -> (&'static str, Val) {
        ("here", Val::Str(self.here.clone()))
    }

    fn host(&self) -> (&'static str, Val) {
        ("host_node_name", Val::Str(self.env.hostname.clone()))
    }

    /// Supervisor's `saneget`: the value (or `default`), expanded with
    /// `names` under the name `section.key`.
    fn get(
        &mut self,
        section: &str,
        key: &str,
        default: Option<&str>,
        names: &Names,
    ) -> Checked<Option<Got>> {
        let (raw, origin) = match self.ini.get(section, key) {
            Some(v) => (v.value.clone(), v.origin.clone()),
            None => match default {
                Some(d) => (d.to_string(), self.section_origin(section)),
                None => return Ok(None),
            },
        };
        match expand(&raw, names, &format!("{section}.{key}")) {
            Ok(text) => Ok(Some(Got { text, origin })),
            Err(m) => {
                self.err(section, Some(key), &origin, m);
                Err(())
            }
        }
    }

    /// The raw (unexpanded) value, if set.
    fn raw(&self, section: &str, key: &str) -> Option<Got> {
        self.ini.get(section, key).map(|v| Got {
            text: v.value.clone(),
            origin: v.origin.clone(),
        })
    }

    /// [`Self::get`] then `parse`; `None` when unset without default.
    fn typed<T>(
        &mut self,
        section: &str,
        key: &str,
        default: Option<&str>,
        names: &Names,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<Option<T>> {
        let Some(got) = self.get(section, key, default, names)? else {
            return Ok(None);
        };
        match parse(&got.text) {
            Ok(v) => Ok(Some(v)),
            Err(m) => {
                self.err(section, Some(key), &got.origin, m);
                Err(())
            }
        }
    }

    /// [`Self::typed`] with a default, so always a value (or an error).
    fn req<T>(
        &mut self,
        section: &str,
        key: &str,
        default: &str,
        names: &Names,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Checked<T> {
        self.typed(section, key, Some(default), names, parse)?
            .ok_or(())
    }

    // ---- [include] -----------------------------------------------------

    fn read_includes(&mut self) {
        if !self.ini.has_section("include") {
            return;
        }
        let origin = self.section_origin("include");
        let Some(files) = self.raw("include", "files") else {
            self.err(
                "include",
                Some("files"),
                &origin,
                ".ini file has [include] section, but no files setting".into(),
            );
            return;
        };
        let names = self.names(&[self.here(), self.host()]);
        let files = match expand(&files.text, &names, "include.files") {
            Ok(f) => f,
            Err(m) => {
                self.err("include", Some("files"), &files.origin, m);
                return;
            }
        };
        let base = PathBuf::from(&self.here);
        for pattern in files.split_whitespace() {
            let pattern = base.join(pattern).to_string_lossy().into_owned();
            // Python's glob.glob, sorted as strings (Supervisor's sorted()).
            let mut matches = super::pyglob::glob(&pattern);
            if matches.is_empty() {
                self.messages.push((
                    LogLevel::Warn,
                    format!("No file matches via include \"{pattern}\""),
                ));
                continue;
            }
            matches.sort();
            for file in matches.into_iter().map(PathBuf::from) {
                self.messages.push((
                    LogLevel::Info,
                    format!("Included extra file \"{}\" during parsing", file.display()),
                ));
                // Unreadable files are skipped silently, as configparser does.
                let Ok(text) = std::fs::read_to_string(&file) else {
                    continue;
                };
                let here = file
                    .parent()
                    .unwrap_or(Path::new("/"))
                    .to_string_lossy()
                    .into_owned();
                self.files.push(file.clone());
                self.ini.read_str(&text, &file, &here, &mut self.errors);
            }
        }
    }

    // ---- [supervisord] ---------------------------------------------------

    fn supervisord(&mut self) -> SupervisordSpec {
        let s = "supervisord";
        let env = self.env;
        let (home, cwd) = (env.home(), env.cwd.as_path());
        let n = self.names(&[self.here()]);
        let minfds = self.req(s, "minfds", "1024", &n, parse_int).unwrap_or(1024);
        let minprocs = self.req(s, "minprocs", "200", &n, parse_int).unwrap_or(200);
        let directory = self
            .typed(s, "directory", None, &n, |v| {
                existing_directory(v, home, cwd)
            })
            .unwrap_or(None)
            .map(PathBuf::from);
        let user = self.typed(s, "user", None, &n, parse_user).unwrap_or(None);
        let umask = self.req(s, "umask", "022", &n, parse_octal).unwrap_or(0o22);
        let logfile = self
            .req(s, "logfile", "supervisord.log", &n, |v| {
                existing_dirpath(v, home, cwd)
            })
            .map(|v| {
                if v == "syslog" {
                    MainLog::Syslog
                } else {
                    MainLog::File(normalize_path(&v, cwd))
                }
            })
            .unwrap_or(MainLog::Syslog);
        let logfile_maxbytes = self
            .req(s, "logfile_maxbytes", "50MB", &n, parse_bytes)
            .unwrap_or(0);
        let logfile_backups = self
            .req(s, "logfile_backups", "10", &n, parse_int)
            .unwrap_or(0);
        let loglevel = self
            .req(s, "loglevel", "info", &n, parse_loglevel)
            .unwrap_or(LogLevel::Info);
        let pidfile = self
            .req(s, "pidfile", "supervisord.pid", &n, |v| {
                existing_dirpath(v, home, cwd)
            })
            .map(|v| normalize_path(&v, cwd))
            .unwrap_or_default();
        let identifier = self
            .req(s, "identifier", "supervisor", &n, |v| Ok(v.to_string()))
            .unwrap_or_default();
        let nodaemon = self
            .req(s, "nodaemon", "false", &n, parse_bool)
            .unwrap_or(false);
        let silent = self
            .req(s, "silent", "false", &n, parse_bool)
            .unwrap_or(false);
        let tmp = env.tempdir();
        let childlogdir = self
            .req(s, "childlogdir", &tmp, &n, |v| {
                existing_directory(v, home, cwd)
            })
            .map(PathBuf::from)
            .unwrap_or_default();
        let nocleanup = self
            .req(s, "nocleanup", "false", &n, parse_bool)
            .unwrap_or(false);
        let strip_ansi = self
            .req(s, "strip_ansi", "false", &n, parse_bool)
            .unwrap_or(false);
        // Expanded twice (Supervisor's quirk, issue #1441).
        let n2 = self.names(&[self.here(), self.host()]);
        let environment = match self.get(s, "environment", Some(""), &n) {
            Ok(Some(got)) => {
                match expand(&got.text, &n2, "environment").and_then(|v| parse_environment(&v)) {
                    Ok(pairs) => pairs,
                    Err(m) => {
                        self.err(s, Some("environment"), &got.origin, m);
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        };
        let cgroups = self
            .req(s, "cgroups", "false", &n, parse_bool)
            .unwrap_or(true);
        let dbus = self
            .req(s, "dbus", "auto", &n, parse_dbus)
            .unwrap_or_default();
        let dbus_group = self
            .typed(s, "dbus_group", None, &n, |v| {
                parse_group(v).map(|_| v.to_string())
            })
            .unwrap_or(None);
        let web_ui = self
            .req(s, "web_ui", "true", &n, parse_bool)
            .unwrap_or(true);
        SupervisordSpec {
            logfile,
            logfile_maxbytes,
            logfile_backups,
            loglevel,
            pidfile,
            umask,
            nodaemon,
            silent,
            minfds,
            minprocs,
            nocleanup,
            childlogdir,
            user,
            directory,
            strip_ansi,
            environment,
            identifier,
            cgroups,
            dbus,
            dbus_group,
            web_ui,
        }
    }

    // ---- programs ----------------------------------------------------------

    /// Supervisor's `processes_from_section`: one [`ProgramSpec`] per
    /// `process_num`. Errors are recorded; the specs returned then don't matter.
    fn processes(&mut self, section: &str, group_name: &str) -> Vec<ProgramSpec> {
        let s = section;
        let env = self.env;
        let (home, cwd) = (env.home(), env.cwd.as_path());
        let origin = self.section_origin(s);
        let raw_name = s.split_once(':').map_or("", |(_, n)| n);
        let program_name = match parse_name(raw_name) {
            Ok(n) => n,
            Err(m) => {
                self.err(s, None, &origin, m);
                return Vec::new();
            }
        };
        let common = self.names(&[
            self.here(),
            ("program_name", Val::Str(program_name.clone())),
            self.host(),
            ("group_name", Val::Str(group_name.to_string())),
        ]);
        let n = &common;
        let d = ProgramSpec::with_defaults(&program_name, "");
        let priority = self
            .req(s, "priority", "999", n, parse_int)
            .unwrap_or(d.priority);
        let autostart = self
            .req(s, "autostart", "true", n, parse_bool)
            .unwrap_or(true);
        let autorestart = self
            .req(s, "autorestart", "unexpected", n, parse_autorestart)
            .unwrap_or(d.autorestart);
        let startsecs = self
            .req(s, "startsecs", "1", n, parse_int)
            .map(|v| v.min(MAX_WAIT_SECS))
            .unwrap_or(1);
        let startretries = self.req(s, "startretries", "3", n, parse_int).unwrap_or(3);
        let stopsignal = self
            .req(s, "stopsignal", "TERM", n, parse_signal)
            .unwrap_or(15);
        let stopwaitsecs = self
            .req(s, "stopwaitsecs", "10", n, parse_int)
            .map(|v| v.min(MAX_WAIT_SECS))
            .unwrap_or(10);
        let stopasgroup = self
            .req(s, "stopasgroup", "false", n, parse_bool)
            .unwrap_or(false);
        let killasgroup = self
            .req(
                s,
                "killasgroup",
                if stopasgroup { "true" } else { "false" },
                n,
                parse_bool,
            )
            .unwrap_or(stopasgroup);
        let exitcodes = self
            .req(s, "exitcodes", "0", n, parse_exitcodes)
            .unwrap_or_default();
        let redirect_stderr = self
            .req(s, "redirect_stderr", "false", n, parse_bool)
            .unwrap_or(false);
        let numprocs = self.req(s, "numprocs", "1", n, parse_int).unwrap_or(1);
        let numprocs_start = self
            .req(s, "numprocs_start", "0", n, parse_int)
            .unwrap_or(0);
        let environment_raw = self.raw(s, "environment");
        let mut capture = [0i64; 2];
        let mut events = [false; 2];
        for (i, k) in ["stdout", "stderr"].iter().enumerate() {
            capture[i] = self
                .req(s, &format!("{k}_capture_maxbytes"), "0", n, parse_bytes)
                .unwrap_or(0);
            events[i] = self
                .req(s, &format!("{k}_events_enabled"), "false", n, parse_bool)
                .unwrap_or(false);
        }
        let serverurl = self
            .typed(s, "serverurl", None, n, |v| Ok(v.to_string()))
            .unwrap_or(None)
            .filter(|u| !u.is_empty() && !u.trim().eq_ignore_ascii_case("AUTO"));
        let user = self.typed(s, "user", None, n, parse_user).unwrap_or(None);
        let umask = self.typed(s, "umask", None, n, parse_octal).unwrap_or(None);
        let cgroup = self.typed(s, "cgroup", None, n, parse_bool).unwrap_or(None);
        let memory_max = self
            .typed(s, "memory_max", None, n, parse_memory_max)
            .unwrap_or(None);
        let pids_max = self
            .typed(s, "pids_max", None, n, parse_pids_max)
            .unwrap_or(None);
        let cpu_max = self
            .typed(s, "cpu_max", None, n, parse_cpu_max)
            .unwrap_or(None);
        let pn_raw = self.raw(s, "process_name").unwrap_or(Got {
            text: "%(program_name)s".into(),
            origin: origin.clone(),
        });
        let process_name = match parse_name(&pn_raw.text) {
            Ok(p) => p,
            Err(m) => {
                self.err(s, Some("process_name"), &pn_raw.origin, m);
                "%(program_name)s".into()
            }
        };
        if numprocs > 1 && !process_name.contains("%(process_num)") {
            self.err(
                s,
                Some("process_name"),
                &pn_raw.origin,
                "%(process_num) must be present within process_name when numprocs > 1".into(),
            );
        }
        if stopasgroup && !killasgroup {
            let o = self
                .raw(s, "killasgroup")
                .map_or(origin.clone(), |g| g.origin);
            self.err(
                s,
                Some("killasgroup"),
                &o,
                "Cannot set stopasgroup=true and killasgroup=false".into(),
            );
        }

        let mut out = Vec::new();
        for process_num in numprocs_start..numprocs_start.saturating_add(numprocs.max(0)) {
            let mut n = common.clone();
            n.insert("process_num".into(), Val::Int(process_num));
            n.insert("numprocs".into(), Val::Int(numprocs));
            let environment = match &environment_raw {
                None => Vec::new(),
                Some(raw) => {
                    match expand(&raw.text, &n, "environment").and_then(|v| parse_environment(&v)) {
                        Ok(pairs) => pairs,
                        Err(m) => {
                            self.err(s, Some("environment"), &raw.origin, m);
                            Vec::new()
                        }
                    }
                }
            };
            for (k, v) in &environment {
                n.insert(format!("ENV_{k}"), Val::Str(v.clone()));
            }
            let directory = self
                .typed(s, "directory", None, &n, |v| Ok(PathBuf::from(v)))
                .unwrap_or(None);
            let mut logs = Vec::new();
            // `stderr_logfile=` (empty) is kept as no log, yet Supervisor's
            // redirect_stderr warning still sees it as a filename.
            let mut stderr_named = false;
            for (i, k) in ["stdout", "stderr"].iter().enumerate() {
                let lf_key = format!("{k}_logfile");
                let file = match self.get(s, &lf_key, None, &n) {
                    Ok(Some(got)) => match expand(&got.text, &n, &lf_key)
                        .and_then(|v| parse_logfile(&v, home, cwd))
                    {
                        Ok(f) => f,
                        Err(m) => {
                            self.err(s, Some(&lf_key), &got.origin, m);
                            LogName::Auto
                        }
                    },
                    Ok(None) => LogName::Auto,
                    Err(()) => LogName::Auto,
                };
                if i == 1 {
                    stderr_named = matches!(file, LogName::Path(_));
                }
                let backups = self
                    .req(s, &format!("{k}_logfile_backups"), "10", &n, parse_int)
                    .unwrap_or(10);
                let maxbytes = self
                    .req(s, &format!("{k}_logfile_maxbytes"), "50MB", &n, parse_bytes)
                    .unwrap_or(1);
                let mut syslog = self
                    .req(s, &format!("{k}_syslog"), "false", &n, parse_bool)
                    .unwrap_or(false);
                let file = match file {
                    LogName::Syslog => {
                        self.messages.push((
                            LogLevel::Warn,
                            format!(
                                "For [{s}], {lf_key}=syslog but this is deprecated and will be removed.  Use {k}_syslog=true to enable syslog instead."
                            ),
                        ));
                        syslog = true;
                        LogFile::None
                    }
                    LogName::None => LogFile::None,
                    LogName::Auto => {
                        if maxbytes == 0 {
                            self.messages.push((
                                LogLevel::Warn,
                                format!(
                                    "For [{s}], AUTO logging used for {lf_key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
                                ),
                            ));
                        }
                        LogFile::Auto
                    }
                    // An empty name is falsy to Supervisor: no log kept.
                    LogName::Path(p) if p.is_empty() => LogFile::None,
                    LogName::Path(p) => LogFile::Path(PathBuf::from(p)),
                };
                logs.push(LogSpec {
                    file,
                    maxbytes,
                    backups,
                    capture_maxbytes: capture[i],
                    events_enabled: events[i],
                    syslog,
                });
            }
            let mut stderr = logs.pop().unwrap_or_else(|| d.stderr.clone());
            let stdout = logs.pop().unwrap_or_else(|| d.stdout.clone());
            if redirect_stderr {
                if stderr_named {
                    self.messages.push((
                        LogLevel::Warn,
                        format!(
                            "For [{s}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
                        ),
                    ));
                }
                stderr.file = LogFile::None;
            }
            let command = match self.get(s, "command", None, &n) {
                Ok(Some(got)) => got.text,
                Ok(None) => {
                    self.err(
                        s,
                        Some("command"),
                        &origin,
                        format!("program section {s} does not specify a command"),
                    );
                    String::new()
                }
                Err(()) => String::new(),
            };
            let name = match expand(&process_name, &n, "process_name") {
                Ok(v) => v,
                Err(m) => {
                    self.err(s, Some("process_name"), &pn_raw.origin, m);
                    program_name.clone()
                }
            };
            out.push(ProgramSpec {
                name,
                group: group_name.to_string(),
                program: program_name.clone(),
                process_num,
                command,
                priority,
                autostart,
                startsecs,
                startretries,
                autorestart,
                exitcodes: exitcodes.clone(),
                stopsignal,
                stopwaitsecs,
                stopasgroup,
                killasgroup,
                user: user.clone(),
                redirect_stderr,
                stdout,
                stderr,
                environment: merge_env(&self.supervisord_env, environment),
                directory,
                umask,
                serverurl: serverurl.clone(),
                cgroup,
                memory_max: memory_max.clone(),
                pids_max: pids_max.clone(),
                cpu_max: cpu_max.clone(),
                origin: origin.clone(),
            });
        }
        out
    }

    // ---- groups ------------------------------------------------------------

    /// Supervisor's `process_groups_from_parser`.
    fn groups(&mut self) -> Vec<GroupSpec> {
        let sections: Vec<String> = self.ini.sections.iter().map(|s| s.name.clone()).collect();
        let has = |name: &str| sections.iter().any(|s| s == name);
        let n = self.names(&[self.here()]);
        let mut exclude: HashSet<String> = HashSet::new();
        let mut groups = Vec::new();

        for s in sections.iter().filter(|s| s.starts_with("group:")) {
            let origin = self.section_origin(s);
            let name = match parse_name(&s["group:".len()..]) {
                Ok(n) => n,
                Err(m) => {
                    self.err(s, None, &origin, m);
                    continue;
                }
            };
            let programs = self.get(s, "programs", None, &n).unwrap_or(None);
            let priority = self.req(s, "priority", "999", &n, parse_int).unwrap_or(999);
            let cgroup = self
                .typed(s, "cgroup", None, &n, parse_bool)
                .unwrap_or(None);
            let mut processes = Vec::new();
            if let Some(programs) = programs.filter(|p| !p.text.is_empty()) {
                for program in programs.text.split(',').map(str::trim) {
                    let p_sec = format!("program:{program}");
                    let f_sec = format!("fcgi-program:{program}");
                    let chosen = match (has(&p_sec), has(&f_sec)) {
                        (false, false) => {
                            self.err(
                                s,
                                Some("programs"),
                                &programs.origin,
                                format!("[{s}] names unknown program or fcgi-program {program}"),
                            );
                            continue;
                        }
                        (true, true) => {
                            self.err(
                                s,
                                Some("programs"),
                                &programs.origin,
                                format!(
                                    "[{s}] name {program} is ambiguous (exists as program and fcgi-program)"
                                ),
                            );
                            continue;
                        }
                        (true, false) => p_sec,
                        (false, true) => {
                            self.messages.push((
                                LogLevel::Warn,
                                format!(
                                    "[{s}] includes [{f_sec}], which runs as a plain program in a group: its socket is not created (as in Supervisor)"
                                ),
                            ));
                            f_sec
                        }
                    };
                    let procs = self.processes(&chosen, &name);
                    exclude.insert(chosen);
                    processes.extend(procs);
                }
            }
            groups.push(GroupSpec {
                name,
                priority,
                kind: GroupKind::Group,
                processes: shared(processes),
                cgroup,
            });
        }

        for s in sections.iter().filter(|s| s.starts_with("program:")) {
            if exclude.contains(s) {
                continue;
            }
            let Ok(name) = parse_name(&s["program:".len()..]) else {
                // Reported by `processes`.
                self.processes(s, "");
                continue;
            };
            let priority = self.req(s, "priority", "999", &n, parse_int).unwrap_or(999);
            let processes = self.processes(s, &name);
            groups.push(GroupSpec {
                name,
                priority,
                kind: GroupKind::Program,
                processes: shared(processes),
                cgroup: None,
            });
        }

        for s in sections.iter().filter(|s| s.starts_with("eventlistener:")) {
            let origin = self.section_origin(s);
            let pool = s["eventlistener:".len()..].to_string();
            let priority = self.req(s, "priority", "-1", &n, parse_int).unwrap_or(-1);
            let buffer_size = self
                .req(s, "buffer_size", "10", &n, parse_int)
                .unwrap_or(10);
            if buffer_size < 1 {
                let o = self
                    .raw(s, "buffer_size")
                    .map_or(origin.clone(), |g| g.origin);
                self.err(
                    s,
                    Some("buffer_size"),
                    &o,
                    format!("[{s}] section sets invalid buffer_size ({buffer_size})"),
                );
            }
            let result_handler = self
                .req(s, "result_handler", DEFAULT_RESULT_HANDLER, &n, |v| {
                    Ok(v.to_string())
                })
                .unwrap_or_else(|()| DEFAULT_RESULT_HANDLER.into());
            if result_handler != DEFAULT_RESULT_HANDLER {
                self.messages.push((
                    LogLevel::Warn,
                    format!(
                        "[{s}] result_handler {result_handler} is a Python callable; pidvisor uses the default handler"
                    ),
                ));
            }
            let mut events = Vec::new();
            match self.get(s, "events", None, &n) {
                Ok(None) => self.err(
                    s,
                    Some("events"),
                    &origin,
                    format!("[{s}] section requires an \"events\" line"),
                ),
                Ok(Some(got)) => {
                    for e in got.text.split(',').map(|e| e.trim().to_uppercase()) {
                        if EVENT_TYPES.contains(&e.as_str()) {
                            events.push(e);
                        } else {
                            self.err(
                                s,
                                Some("events"),
                                &got.origin,
                                format!("Unknown event type {e} in [{s}] events"),
                            );
                        }
                    }
                }
                Err(()) => {}
            }
            if let Ok(true) = self.req(s, "redirect_stderr", "false", &n, parse_bool) {
                let o = self
                    .raw(s, "redirect_stderr")
                    .map_or(origin.clone(), |g| g.origin);
                self.err(
                    s,
                    Some("redirect_stderr"),
                    &o,
                    format!(
                        "[{s}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
                    ),
                );
            }
            let processes = self.processes(s, &pool);
            groups.push(GroupSpec {
                name: pool,
                priority,
                kind: GroupKind::EventListenerPool(EventPoolSpec {
                    events,
                    buffer_size,
                    result_handler,
                }),
                processes: shared(processes),
                cgroup: None,
            });
        }

        for s in sections.iter().filter(|s| s.starts_with("fcgi-program:")) {
            if exclude.contains(s) {
                continue;
            }
            if let Some(g) = self.fcgi_group(s, &n) {
                groups.push(g);
            }
        }

        for g in &mut groups {
            // supervisord keeps a group's processes in a dict keyed by name:
            // a later process of the same name replaces the earlier one
            // (`programs=a,a`, or a process_name that expands alike for
            // several numprocs). We keep the later spec too, and say so.
            let mut unique: Vec<std::sync::Arc<ProgramSpec>> = Vec::new();
            for p in std::mem::take(&mut g.processes) {
                match unique.iter_mut().find(|q| q.name == p.name) {
                    Some(slot) => {
                        self.messages.push((
                            LogLevel::Warn,
                            format!(
                                "a second process named {} in group {} replaces the first (process names in a group must differ)",
                                p.name, g.name
                            ),
                        ));
                        *slot = p;
                    }
                    None => unique.push(p),
                }
            }
            g.processes = unique;
            g.processes
                .sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        }
        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        // supervisord keeps the first group of a name (in this order) and
        // silently drops the rest; we say so.
        let mut seen = HashSet::new();
        groups.retain(|g| {
            if seen.insert(g.name.clone()) {
                true
            } else {
                self.messages.push((
                    LogLevel::Warn,
                    format!(
                        "a second process group named {} is ignored (names of [program:], [group:], [eventlistener:] and [fcgi-program:] sections must differ)",
                        g.name
                    ),
                ));
                false
            }
        });
        groups
    }

    fn fcgi_group(&mut self, s: &str, n: &Names) -> Option<GroupSpec> {
        let origin = self.section_origin(s);
        let env = self.env;
        let Ok(name) = parse_name(&s["fcgi-program:".len()..]) else {
            self.processes(s, "");
            return None;
        };
        let priority = self.req(s, "priority", "999", n, parse_int).unwrap_or(999);
        let proc_user = self.typed(s, "user", None, n, parse_user).unwrap_or(None);
        let socket_backlog = match self.typed(s, "socket_backlog", None, n, parse_int) {
            Ok(Some(b)) if !(1..=65535).contains(&b) => {
                let o = self
                    .raw(s, "socket_backlog")
                    .map_or(origin.clone(), |g| g.origin);
                self.err(
                    s,
                    Some("socket_backlog"),
                    &o,
                    format!("Invalid socket_backlog value {b}"),
                );
                None
            }
            Ok(b) => b,
            Err(()) => None,
        };
        let socket_owner = self
            .typed(s, "socket_owner", None, n, |v| {
                parse_user_group(v).map_err(|_| format!("Invalid socket_owner value {v}"))
            })
            .unwrap_or(None);
        let socket_mode = self
            .typed(s, "socket_mode", None, n, |v| {
                parse_octal(v).map_err(|_| format!("Invalid socket_mode value {v}"))
            })
            .unwrap_or(None);
        let sn = {
            let mut sn = n.clone();
            sn.insert("program_name".into(), Val::Str(name.clone()));
            sn
        };
        let socket = match self.get(s, "socket", None, &sn) {
            Ok(Some(got)) if !got.text.is_empty() => {
                let checked = if let Some(path) = got.text.strip_prefix("unix://") {
                    if path.starts_with('/') {
                        Ok(format!(
                            "unix://{}",
                            normalize_path(path, &env.cwd).display()
                        ))
                    } else {
                        Err(format!("Unix socket path {path} is not an absolute path"))
                    }
                } else if socket_owner.is_some() || socket_mode.is_some() {
                    Err("socket_owner and socket_mode params should only be used with a Unix domain socket".into())
                } else if is_tcp_socket(&got.text) {
                    Ok(got.text.clone())
                } else {
                    Err(format!("Bad socket format {}", got.text))
                };
                match checked {
                    Ok(v) => v,
                    Err(m) => {
                        self.err(
                            s,
                            Some("socket"),
                            &got.origin,
                            format!("{m} in [{s}] socket"),
                        );
                        String::new()
                    }
                }
            }
            Ok(_) => {
                self.err(
                    s,
                    Some("socket"),
                    &origin,
                    format!("[{s}] section requires a \"socket\" line"),
                );
                String::new()
            }
            Err(()) => String::new(),
        };
        // A unix socket is chowned to the program's user when that differs
        // from ours and socket_owner is unset (Supervisor's rule).
        let socket_owner = match (socket_owner, &proc_user) {
            (None, Some(u))
                if socket.starts_with("unix://") && u.uid != nix::unistd::getuid().as_raw() =>
            {
                Some((u.uid, Some(u.gid)))
            }
            (o, _) => o,
        };
        let processes = self.processes(s, &name);
        Some(GroupSpec {
            name,
            priority,
            kind: GroupKind::Fcgi(FcgiSpec {
                socket,
                socket_backlog,
                socket_owner,
                socket_mode: socket_mode.unwrap_or(0o700),
            }),
            processes: shared(processes),
            cgroup: None,
        })
    }

    // ---- servers -------------------------------------------------------------

    fn auth(&mut self, s: &str, n: &Names) -> Option<Credentials> {
        let username = self.get(s, "username", None, n).unwrap_or(None);
        let password = self.get(s, "password", None, n).unwrap_or(None);
        match (username, password) {
            (Some(u), Some(p)) => Some(Credentials {
                username: u.text,
                password: p.text,
            }),
            (None, None) => None,
            (Some(g), None) | (None, Some(g)) => {
                self.err(
                    s,
                    None,
                    &g.origin,
                    format!(
                        "Section [{s}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
                    ),
                );
                None
            }
        }
    }

    fn servers(&mut self) -> (Vec<UnixHttpServerSpec>, Vec<InetHttpServerSpec>) {
        let env = self.env;
        let sections: Vec<String> = self.ini.sections.iter().map(|s| s.name.clone()).collect();
        let n_env = self.names(&[]);
        let n_here = self.names(&[self.here()]);
        let mut inet = Vec::new();
        for s in sections
            .iter()
            .filter(|s| s.starts_with("inet_http_server"))
        {
            let auth = self.auth(s, &n_env);
            let origin = self.section_origin(s);
            let port = match self.typed(s, "port", None, &n_env, parse_inet_address) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    self.err(
                        s,
                        Some("port"),
                        &origin,
                        format!("section [{s}] has no port value"),
                    );
                    continue;
                }
                Err(()) => continue,
            };
            inet.push(InetHttpServerSpec {
                section: s.clone(),
                host: port.0,
                port: port.1,
                auth,
            });
        }
        let mut unix = Vec::new();
        for s in sections
            .iter()
            .filter(|s| s.starts_with("unix_http_server"))
        {
            let origin = self.section_origin(s);
            let file = match self.get(s, "file", None, &n_here) {
                Ok(Some(f)) => Some(normalize_path(
                    &expanduser(f.text.trim(), env.home()),
                    &env.cwd,
                )),
                Ok(None) => {
                    self.err(
                        s,
                        Some("file"),
                        &origin,
                        format!("section [{s}] has no file value"),
                    );
                    None
                }
                Err(()) => None,
            };
            let auth = self.auth(s, &n_env);
            let chown = self
                .typed(s, "chown", None, &n_env, |v| {
                    parse_user_group(v).map_err(|_| format!("Invalid sockchown value {v}"))
                })
                .unwrap_or(None);
            let chmod = self
                .typed(s, "chmod", None, &n_env, |v| {
                    parse_octal(v).map_err(|_| format!("Invalid chmod value {v}"))
                })
                .unwrap_or(None)
                .unwrap_or(0o700);
            if let Some(file) = file {
                unix.push(UnixHttpServerSpec {
                    section: s.clone(),
                    file,
                    chmod,
                    chown,
                    auth,
                });
            }
        }
        (unix, inet)
    }

    // ---- [supervisorctl] -----------------------------------------------------

    fn ctl(&mut self) -> CtlSpec {
        let s = "supervisorctl";
        let env = self.env;
        let n_env = self.names(&[]);
        let n_here = self.names(&[self.here()]);
        let d = CtlSpec::default();
        // Taken as written, as supervisorctl does: an unusable URL fails each
        // call (src/ctl/client.rs), not the config.
        let serverurl = self
            .req(s, "serverurl", &d.serverurl, &n_here, |v| {
                Ok(match v.strip_prefix("unix://") {
                    Some(p) => format!(
                        "unix://{}",
                        normalize_path(&expanduser(p, env.home()), &env.cwd).display()
                    ),
                    None => v.to_string(),
                })
            })
            .unwrap_or(d.serverurl);
        let prompt = self
            .req(s, "prompt", &d.prompt, &n_env, |v| Ok(v.to_string()))
            .unwrap_or(d.prompt);
        let username = self
            .get(s, "username", None, &n_env)
            .unwrap_or(None)
            .map(|g| g.text);
        let password = self
            .get(s, "password", None, &n_env)
            .unwrap_or(None)
            .map(|g| g.text);
        let history_file = self
            .get(s, "history_file", None, &n_here)
            .unwrap_or(None)
            .filter(|g| !g.text.is_empty())
            .map(|g| normalize_path(&expanduser(&g.text, env.home()), &env.cwd));
        CtlSpec {
            serverurl,
            username,
            password,
            prompt,
            history_file,
        }
    }

    // ---- [rpcinterface:x], unknown sections and options -----------------------

    fn rpcinterfaces(&mut self) {
        let sections: Vec<String> = self
            .ini
            .sections
            .iter()
            .map(|s| s.name.clone())
            .filter(|s| s.starts_with("rpcinterface:"))
            .collect();
        let n = self.names(&[]);
        for s in sections {
            let origin = self.section_origin(&s);
            match self.get(&s, RPC_FACTORY_KEY, None, &n) {
                Ok(None) => self.err(
                    &s,
                    Some(RPC_FACTORY_KEY),
                    &origin,
                    format!("section [{s}] does not specify a {RPC_FACTORY_KEY}"),
                ),
                Ok(Some(f)) if f.text != MAIN_RPC_FACTORY => self.messages.push((
                    LogLevel::Warn,
                    format!(
                        "{}:{}: [{s}] factory {} is a Python plugin; pidvisor ignores it",
                        f.origin.file.display(),
                        f.origin.line,
                        f.text
                    ),
                )),
                _ => {}
            }
        }
    }

    fn warn_unknown(&mut self) {
        let mut msgs = Vec::new();
        for sec in &self.ini.sections {
            let name = sec.name.as_str();
            let program = || PROGRAM_KEYS.iter();
            let known: Option<Vec<&str>> = if name == "supervisord" {
                Some(SUPERVISORD_KEYS.to_vec())
            } else if name.starts_with("unix_http_server") {
                Some(UNIX_KEYS.to_vec())
            } else if name.starts_with("inet_http_server") {
                Some(INET_KEYS.to_vec())
            } else if name == "supervisorctl" {
                Some(CTL_KEYS.to_vec())
            } else if name.starts_with("program:") {
                Some(program().copied().collect())
            } else if name.starts_with("eventlistener:") {
                Some(program().chain(LISTENER_KEYS).copied().collect())
            } else if name.starts_with("fcgi-program:") {
                Some(program().chain(FCGI_KEYS).copied().collect())
            } else if name.starts_with("group:") {
                Some(GROUP_KEYS.to_vec())
            } else if name == "include" {
                Some(vec!["files"])
            } else if name.starts_with("rpcinterface:") || name.starts_with("ctlplugin:") {
                None
            } else {
                msgs.push(format!(
                    "{}:{}: unknown section [{name}] ignored",
                    sec.origin.file.display(),
                    sec.origin.line
                ));
                None
            };
            let Some(known) = known else { continue };
            for (key, v) in &sec.entries {
                if !known.contains(&key.as_str()) {
                    msgs.push(format!(
                        "{}:{}: unknown option '{key}' in section [{name}] ignored",
                        v.origin.file.display(),
                        v.origin.line
                    ));
                }
            }
        }
        self.messages
            .extend(msgs.into_iter().map(|m| (LogLevel::Warn, m)));
    }
}

fn is_tcp_socket(s: &str) -> bool {
    // Supervisor: re.match(r'tcp://([^\s:]+):(\d+)$', sock)
    let Some(rest) = s.strip_prefix("tcp://") else {
        return false;
    };
    let Some((host, port)) = rest.split_once(':') else {
        return false;
    };
    !host.is_empty()
        && !host.chars().any(char::is_whitespace)
        && !port.is_empty()
        && port.chars().all(|c| c.is_ascii_digit())
}

/// pidvisor's `[supervisord] dbus = auto|true|false` (boolean words accepted).
fn parse_dbus(v: &str) -> Result<DbusMode, String> {
    if v.eq_ignore_ascii_case("auto") {
        return Ok(DbusMode::Auto);
    }
    match parse_bool(v) {
        Ok(true) => Ok(DbusMode::On),
        Ok(false) => Ok(DbusMode::Off),
        Err(_) => Err(format!(
            "not a valid dbus value: {} (expected auto, true or false)",
            super::signal::py_repr(v)
        )),
    }
}

/// A program's environment as Supervisor's `read_config` leaves it: a copy
/// of `[supervisord] environment` updated with the program's own pairs (a
/// key of both keeps its place and takes the program's value). So a change
/// of the supervisord environment changes every program's spec.
fn merge_env(base: &[(String, String)], own: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    for (k, v) in own {
        match env.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => env.push((k, v)),
        }
    }
    env
}

/// The specs of a group as the shared handles `GroupSpec` keeps.
fn shared(specs: Vec<ProgramSpec>) -> Vec<std::sync::Arc<ProgramSpec>> {
    specs.into_iter().map(std::sync::Arc::new).collect()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
