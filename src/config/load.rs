//! Stage two: raw sections -> validated, typed specs (spec §2.2–§2.5).
//!
//! The [`Loader`] holds what one load needs (the raw sections, the
//! expansion names, the problems found) and walks option tables
//! ([`super::table`]) for the section modules, which own the tables and
//! the order of reads: `supervisord.rs`, `program.rs`, `groups.rs`,
//! `servers.rs`. The order of reads and the expansion dict of every option
//! follow Supervisor's `ServerOptions.read_config` /
//! `processes_from_section`, so the same `%(name)s` names are available
//! where Supervisor offers them. Unlike Supervisor, a problem does not stop
//! the load: every option is checked and every problem lands in
//! [`ConfigErrors`].
//!
//! Two bounds keep a load finite whatever the file says: the expanded text
//! of all values together ([`super::expand::MAX_EXPANDED`]) and the number
//! of processes ([`super::program::MAX_PROCESSES`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::env::Env;
use super::error::{ConfigError, ConfigErrors};
use super::expand::{expand, Names, Val, MAX_EXPANDED};
use super::groups::{FCGI_KEYS, GROUP_KEYS, LISTENER_KEYS};
use super::program::{MAX_PROCESSES, PROGRAM_KEYS};
use super::servers::{CTL_KEYS, INET_KEYS, UNIX_KEYS};
use super::supervisord::SUPERVISORD_KEYS;
use super::table::{describe_default, Ctx, DefaultValue, Expansion, Opt, OptionDefault, Rule};
use super::types::*;
use crate::py::configparser::{Ini, ParseError};

const MAIN_RPC_FACTORY: &str = "supervisor.rpcinterface:make_main_rpcinterface";
const RPC_FACTORY_KEY: &str = "supervisor.rpcinterface_factory";

/// Every option each kind of section knows, by section kind (`program` stands
/// for `[program:x]`; an `[eventlistener:x]` or `[fcgi-program:x]` also
/// knows every program option); from the option tables.
pub fn known_options() -> [(&'static str, &'static [&'static str]); 8] {
    [
        ("supervisord", &SUPERVISORD_KEYS),
        ("unix_http_server", &UNIX_KEYS),
        ("inet_http_server", &INET_KEYS),
        ("supervisorctl", &CTL_KEYS),
        ("program", &PROGRAM_KEYS),
        ("eventlistener", &LISTENER_KEYS),
        ("fcgi-program", &FCGI_KEYS),
        ("group", &GROUP_KEYS),
    ]
}

/// Every option of a kind of section (as in [`known_options`]) with its
/// default, from the option tables; an unknown kind has none.
pub fn option_defaults(kind: &str) -> Vec<(&'static str, OptionDefault)> {
    fn rows<T>(table: &[Opt<T>]) -> Vec<(&'static str, OptionDefault)> {
        table
            .iter()
            .map(|row| (row.key, describe_default(row)))
            .collect()
    }
    match kind {
        "supervisord" => rows(super::supervisord::SUPERVISORD),
        "unix_http_server" => rows(super::servers::UNIX),
        "inet_http_server" => rows(super::servers::INET),
        "supervisorctl" => rows(super::servers::CTL),
        "program" => rows(super::program::PROGRAM),
        "eventlistener" => rows(super::groups::LISTENER),
        "fcgi-program" => rows(super::groups::FCGI),
        "group" => rows(super::groups::GROUP),
        _ => Vec::new(),
    }
}

/// Load the main file at `path` and its `[include]` files into a validated
/// [`Config`], or return every problem found.
pub fn load(path: &Path, env: &Env) -> Result<Config, ConfigErrors> {
    let text = read_main(path, env)?;
    load_str(path, &text, env)
}

/// [`load`] with the main file's text given (its `[include]` files are
/// still read from disk, relative to `path`).
pub fn load_str(path: &Path, text: &str, env: &Env) -> Result<Config, ConfigErrors> {
    let mut loader = Loader::new(path, text, env);
    loader.read_includes();
    if !loader.ini.has_section("supervisord") && !env.defaults.sections_optional {
        loader.errors.push(ConfigError::file(
            path,
            ".ini file does not include supervisord section",
        ));
    }
    let supervisord = super::supervisord::supervisord(&mut loader);
    for (k, v) in &supervisord.environment {
        loader
            .env_names
            .insert(format!("ENV_{k}"), Val::Str(v.clone()));
    }
    loader.supervisord_env = supervisord.environment.clone();
    let groups = super::groups::groups(&mut loader);
    super::depends::check(&mut loader, &groups, &supervisord.exit_on_fatal);
    let (unix_http_servers, inet_http_servers) = super::servers::servers(&mut loader);
    // supervisord never reads [supervisorctl]: its problems are the
    // client's (`load_ctl`), not a reason to refuse to start or reread.
    let supervisorctl = if loader.ini.has_section("supervisorctl") {
        let before = loader.errors.len();
        let spec = super::servers::ctl(&mut loader);
        loader.errors.truncate(before);
        spec
    } else {
        CtlSpec::default()
    };
    loader.rpcinterfaces();
    loader.warn_unknown();
    let config = Config {
        path: path.to_path_buf(),
        supervisord,
        unix_http_servers,
        inet_http_servers,
        supervisorctl,
        groups,
        messages: std::mem::take(&mut loader.messages),
    };
    loader.finish().map(|()| config)
}

/// Load what `pidvisorctl` needs: the `[supervisorctl]` section of the main
/// file (Supervisor's client reads no includes and no other section).
pub fn load_ctl(path: &Path, env: &Env) -> Result<CtlSpec, ConfigErrors> {
    let text = read_main(path, env)?;
    let mut loader = Loader::new(path, &text, env);
    if !loader.ini.has_section("supervisorctl") && !env.defaults.sections_optional {
        loader.errors.push(ConfigError::file(
            path,
            ".ini file does not include supervisorctl section",
        ));
        return Err(loader.finish().unwrap_err());
    }
    let spec = super::servers::ctl(&mut loader);
    loader.finish().map(|()| spec)
}

/// The main file's text, or why it cannot be had.
fn read_main(path: &Path, env: &Env) -> Result<String, ConfigErrors> {
    let full = env.cwd.join(path);
    if !full.exists() {
        return Err(ConfigError::file(
            path,
            format!("could not find config file {}", path.display()),
        )
        .into());
    }
    let bytes = std::fs::read(&full).map_err(|_| {
        ConfigError::file(
            path,
            format!("could not read config file {}", path.display()),
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        ConfigError::file(
            path,
            format!("could not read config file {}: {e}", path.display()),
        )
        .into()
    })
}

/// The loader's working state, shared by the section modules.
pub(super) struct Loader<'a> {
    env: &'a Env,
    main: PathBuf,
    /// Absolute directory of the main file (`%(here)s`).
    here: String,
    ini: Ini,
    errors: Vec<ConfigError>,
    /// The errors already in `errors`, so one is reported once (a bad
    /// value is read again for every process).
    seen: HashSet<ConfigError>,
    messages: Vec<(LogLevel, String)>,
    /// `ENV_*` names: the environment, later plus `[supervisord] environment`.
    env_names: Names,
    /// Files in read order, to sort errors.
    files: Vec<PathBuf>,
    /// `[supervisord] environment`, the base of every program's.
    supervisord_env: Vec<(String, String)>,
    /// What is left of [`MAX_EXPANDED`]; 0 once it ran out (and was said).
    expand_budget: usize,
    /// Processes defined so far (bounded by [`MAX_PROCESSES`]).
    processes: i64,
}

/// What a [`Rule`] reports to: its section's problems and warnings.
pub(super) struct Report<'l, 'a> {
    loader: &'l mut Loader<'a>,
    section: &'l str,
}

impl Report<'_, '_> {
    pub fn section(&self) -> &str {
        self.section
    }

    /// A problem with option `key` (at its line, or the section's).
    pub fn fail(&mut self, key: &str, message: String) {
        self.loader.fail(self.section, key, message);
    }

    /// A problem with the section as a whole, shown at option `key`'s line
    /// (or the section's).
    pub fn fail_section(&mut self, key: &str, message: String) {
        let origin = self.loader.origin(self.section, key);
        self.loader.err(self.section, None, &origin, message);
    }

    pub fn warn(&mut self, message: String) {
        self.loader.warn(message);
    }

    /// Whether `key` is written (in the section or `[DEFAULT]`).
    pub fn written(&self, key: &str) -> bool {
        self.loader.ini.get(self.section, key).is_some()
    }
}

impl<'a> Loader<'a> {
    fn new(path: &Path, text: &str, env: &'a Env) -> Loader<'a> {
        let abs = super::values::normalize_path(&path.to_string_lossy(), &env.cwd);
        let here = abs
            .parent()
            .unwrap_or(Path::new("/"))
            .to_string_lossy()
            .into_owned();
        let mut loader = Loader {
            env,
            main: path.to_path_buf(),
            here: here.clone(),
            ini: Ini::default(),
            errors: Vec::new(),
            seen: HashSet::new(),
            messages: Vec::new(),
            env_names: env
                .vars
                .iter()
                .map(|(k, v)| (format!("ENV_{k}"), Val::Str(v.clone())))
                .collect(),
            files: vec![path.to_path_buf()],
            supervisord_env: Vec::new(),
            expand_budget: MAX_EXPANDED,
            processes: 0,
        };
        loader.read_ini(text, path, &here);
        loader
    }

    fn read_ini(&mut self, text: &str, file: &Path, here: &str) {
        let mut problems: Vec<ParseError> = Vec::new();
        self.ini.read_str(text, file, here, &mut problems);
        self.errors
            .extend(problems.into_iter().map(|p| ConfigError {
                file: p.origin.file,
                line: p.origin.line,
                section: p.section,
                option: None,
                message: p.message,
            }));
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

    // ---- for the section modules -------------------------------------------

    pub fn env(&self) -> &'a Env {
        self.env
    }

    /// The names of the sections whose name starts with `prefix`, in order.
    pub fn sections(&self, prefix: &str) -> Vec<String> {
        self.ini
            .sections
            .iter()
            .filter(|s| s.name.starts_with(prefix))
            .map(|s| s.name.clone())
            .collect()
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.ini.has_section(name)
    }

    /// A problem at `origin`.
    pub fn err(&mut self, section: &str, option: Option<&str>, origin: &Origin, message: String) {
        let e = ConfigError {
            file: origin.file.clone(),
            line: origin.line,
            section: Some(section.to_string()),
            option: option.map(str::to_string),
            message,
        };
        if self.seen.insert(e.clone()) {
            self.errors.push(e);
        }
    }

    /// A problem with option `key` of `section`, at its line (or the
    /// section's when it is not written).
    pub fn fail(&mut self, section: &str, key: &str, message: String) {
        let origin = self.origin(section, key);
        self.err(section, Some(key), &origin, message);
    }

    pub fn warn(&mut self, message: String) {
        self.messages.push((LogLevel::Warn, message));
    }

    pub fn section_origin(&self, section: &str) -> Origin {
        self.ini
            .section(section)
            .map(|s| s.origin.clone())
            .unwrap_or_else(|| Origin {
                file: self.main.clone(),
                line: 0,
            })
    }

    /// Where `key` of `section` is written, else the section header.
    pub fn origin(&self, section: &str, key: &str) -> Origin {
        match self.ini.get(section, key) {
            Some(v) => v.origin.clone(),
            None => self.section_origin(section),
        }
    }

    /// The `ENV_*` names plus `extra`.
    pub fn names(&self, extra: &[(&str, Val)]) -> Names {
        let mut n = self.env_names.clone();
        for (k, v) in extra {
            n.insert(k.to_string(), v.clone());
        }
        n
    }

    pub fn here(&self) -> (&'static str, Val) {
        ("here", Val::Str(self.here.clone()))
    }

    pub fn host(&self) -> (&'static str, Val) {
        ("host_node_name", Val::Str(self.env.hostname.clone()))
    }

    /// `[supervisord] environment`, the base of every program's.
    pub fn supervisord_env(&self) -> &[(String, String)] {
        &self.supervisord_env
    }

    /// Supervisor's `expand(text, names, name)` for option `key`; a problem
    /// is recorded at the option and gives `None`.
    pub fn expand_option(
        &mut self,
        section: &str,
        key: &str,
        text: &str,
        names: &Names,
        name: &str,
    ) -> Option<String> {
        if self.expand_budget == 0 {
            // Ran out, and said so once: the load fails anyway.
            return None;
        }
        match expand(text, names, name, self.expand_budget) {
            Ok(v) => {
                self.expand_budget -= v.len().min(self.expand_budget);
                Some(v)
            }
            Err(e) => {
                if e.too_long {
                    self.expand_budget = 0;
                }
                self.fail(section, key, e.message);
                None
            }
        }
    }

    /// Read the rows of `rows` whose [`Expansion`] is listed in `names`
    /// (with those names) from `section` into `target`: the value as
    /// written, else the row's default; expanded; parsed and stored.
    pub fn apply<T>(
        &mut self,
        section: &str,
        rows: &[Opt<T>],
        target: &mut T,
        names: &[(Expansion, &Names)],
    ) {
        for row in rows {
            let Some(&(_, n)) = names.iter().find(|(x, _)| *x == row.expand) else {
                continue;
            };
            let Some(text) = self.read(section, row, target, n) else {
                continue;
            };
            let ctx = Ctx {
                env: self.env,
                section,
            };
            if let Err(m) = (row.store)(target, &text, &ctx) {
                self.fail(section, row.key, m);
            }
        }
    }

    /// One row's text, expanded as the row says; `None` when unset or when a
    /// problem was recorded.
    fn read<T>(
        &mut self,
        section: &str,
        row: &Opt<T>,
        target: &T,
        names: &Names,
    ) -> Option<String> {
        // Per-user mode's defaults (XDG paths) replace Supervisor's.
        let ours = (section.to_string(), row.key.to_string());
        let session_default = self.env.defaults.options.get(&ours);
        let raw = match (self.ini.get(section, row.key), &row.default) {
            (Some(v), _) => v.value.clone(),
            (None, _) if session_default.is_some() => session_default.cloned().unwrap_or_default(),
            (None, DefaultValue::Unset) => return None,
            (None, DefaultValue::Text(t)) => t.to_string(),
            (None, DefaultValue::Computed { text, .. }) => text(target, self.env),
            (None, DefaultValue::Required(message)) => {
                self.fail(section, row.key, message(section));
                return None;
            }
        };
        let key = row.key;
        let first = format!("{section}.{key}");
        match row.expand {
            Expansion::Raw => Some(raw),
            Expansion::HereTwice => {
                let once = self.expand_option(section, key, &raw, names, &first)?;
                let mut with_host = names.clone();
                let (host, name) = self.host();
                with_host.insert(host.into(), name);
                self.expand_option(section, key, &once, &with_host, key)
            }
            Expansion::ProcessTwice => {
                let once = self.expand_option(section, key, &raw, names, &first)?;
                self.expand_option(section, key, &once, names, key)
            }
            _ => self.expand_option(section, key, &raw, names, &first),
        }
    }

    /// Run `rules` on `target`, reporting as `section`.
    pub fn check<T>(&mut self, section: &str, target: &mut T, rules: &[Rule<T>]) {
        let mut report = Report {
            loader: self,
            section,
        };
        for rule in rules {
            rule(target, &mut report);
        }
    }

    /// Whether `count` more processes (from `section`) stay within
    /// [`MAX_PROCESSES`]; if not, a problem is recorded at its `numprocs`.
    pub fn admit_processes(&mut self, section: &str, count: i64) -> bool {
        let total = self.processes.saturating_add(count);
        if total > MAX_PROCESSES {
            self.fail(
                section,
                "numprocs",
                format!(
                    "this section makes {total} processes in the configuration, above the limit of {MAX_PROCESSES}"
                ),
            );
            return false;
        }
        self.processes = total;
        true
    }

    // ---- [include] -----------------------------------------------------

    fn read_includes(&mut self) {
        if !self.ini.has_section("include") {
            return;
        }
        let Some(files) = self.ini.get("include", "files").map(|v| v.value.clone()) else {
            let origin = self.section_origin("include");
            self.err(
                "include",
                Some("files"),
                &origin,
                ".ini file has [include] section, but no files setting".into(),
            );
            return;
        };
        let names = self.names(&[self.here(), self.host()]);
        let Some(files) = self.expand_option("include", "files", &files, &names, "include.files")
        else {
            return;
        };
        let base = PathBuf::from(&self.here);
        for pattern in files.split_whitespace() {
            let pattern = base.join(pattern).to_string_lossy().into_owned();
            // Python's glob.glob, sorted as strings (Supervisor's sorted()).
            let mut matches = crate::py::glob::glob(&pattern);
            if matches.is_empty() {
                self.warn(format!("No file matches via include \"{pattern}\""));
                continue;
            }
            matches.sort();
            for file in matches.into_iter().map(PathBuf::from) {
                self.read_include(&file);
            }
        }
    }

    fn read_include(&mut self, file: &Path) {
        self.messages.push((
            LogLevel::Info,
            format!("Included extra file \"{}\" during parsing", file.display()),
        ));
        // Only regular files are read: a FIFO or a device (`/dev/zero`,
        // `/proc/kmsg`) would block or exhaust a daemon that re-reads its
        // config (Python would try). A directory or an unreadable file is
        // skipped silently, as configparser does.
        match std::fs::metadata(file) {
            Ok(m) if m.is_file() => {}
            Ok(m) if !m.is_dir() => {
                self.warn(format!(
                    "Included file \"{}\" is not a regular file; ignored",
                    file.display()
                ));
                return;
            }
            _ => return,
        }
        let Ok(text) = std::fs::read_to_string(file) else {
            return;
        };
        let here = file
            .parent()
            .unwrap_or(Path::new("/"))
            .to_string_lossy()
            .into_owned();
        self.files.push(file.to_path_buf());
        self.read_ini(&text, file, &here);
    }

    // ---- [rpcinterface:x], unknown sections and options -----------------------

    fn rpcinterfaces(&mut self) {
        let n = self.names(&[]);
        for s in self.sections("rpcinterface:") {
            let Some(v) = self.ini.get(&s, RPC_FACTORY_KEY).cloned() else {
                self.fail(
                    &s,
                    RPC_FACTORY_KEY,
                    format!("section [{s}] does not specify a {RPC_FACTORY_KEY}"),
                );
                continue;
            };
            let name = format!("{s}.{RPC_FACTORY_KEY}");
            let Some(factory) = self.expand_option(&s, RPC_FACTORY_KEY, &v.value, &n, &name) else {
                continue;
            };
            if factory != MAIN_RPC_FACTORY {
                self.warn(format!(
                    "{}:{}: [{s}] factory {factory} is a Python plugin; pidvisor ignores it",
                    v.origin.file.display(),
                    v.origin.line,
                ));
            }
        }
    }

    /// The options a section of this name knows; `None` for sections whose
    /// options are a plugin's (or unknown sections, which are reported).
    fn known_keys(name: &str) -> Option<Vec<&'static str>> {
        let program = || PROGRAM_KEYS.iter().copied();
        let keys: Vec<&'static str> = if name == "supervisord" {
            SUPERVISORD_KEYS.to_vec()
        } else if name.starts_with("unix_http_server") {
            UNIX_KEYS.to_vec()
        } else if name.starts_with("inet_http_server") {
            INET_KEYS.to_vec()
        } else if name == "supervisorctl" {
            CTL_KEYS.to_vec()
        } else if name.starts_with("program:") {
            program().collect()
        } else if name.starts_with("eventlistener:") {
            program().chain(LISTENER_KEYS).collect()
        } else if name.starts_with("fcgi-program:") {
            program().chain(FCGI_KEYS).collect()
        } else if name.starts_with("group:") {
            GROUP_KEYS.to_vec()
        } else if name == "include" {
            vec!["files"]
        } else {
            return None;
        };
        Some(keys)
    }

    fn warn_unknown(&mut self) {
        let mut msgs = Vec::new();
        for sec in &self.ini.sections {
            let name = sec.name.as_str();
            let Some(known) = Self::known_keys(name) else {
                if !name.starts_with("rpcinterface:") && !name.starts_with("ctlplugin:") {
                    msgs.push(format!(
                        "{}:{}: unknown section [{name}] ignored",
                        sec.origin.file.display(),
                        sec.origin.line
                    ));
                }
                continue;
            };
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
        for m in msgs {
            self.warn(m);
        }
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
