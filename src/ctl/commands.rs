//! The supervisorctl command interpreter: one method per action, printing
//! the same lines and setting the same exit statuses as supervisorctl 4.3
//! (spec §5). Everything goes to stdout, like supervisorctl; only the
//! `/logtail` HTTP errors of `tail -f` go to stderr.

use super::client::{CallError, Client, ServerUrl};
use super::help;
use crate::control::xmlrpc::Value;
use crate::py;
use crate::py::py_bytes_repr;
use std::borrow::Borrow;
use std::io::{self, BufRead, Write};
use std::sync::mpsc;

/// LSB init-script exit statuses (supervisorctl's `LSBInitExitStatuses`).
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// LSB status: program not running.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    /// LSB status: unknown.
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// Supervisor's fault codes that supervisorctl looks at.
pub mod faults {
    pub const UNKNOWN_METHOD: i64 = 1;
    pub const SHUTDOWN_STATE: i64 = 6;
    pub const BAD_NAME: i64 = 10;
    pub const BAD_SIGNAL: i64 = 11;
    pub const NO_FILE: i64 = 20;
    pub const NOT_EXECUTABLE: i64 = 21;
    pub const FAILED: i64 = 30;
    pub const ABNORMAL_TERMINATION: i64 = 40;
    pub const SPAWN_ERROR: i64 = 50;
    pub const ALREADY_STARTED: i64 = 60;
    pub const NOT_RUNNING: i64 = 70;
    pub const SUCCESS: i64 = 80;
    pub const ALREADY_ADDED: i64 = 90;
    pub const STILL_RUNNING: i64 = 91;
    pub const CANT_REREAD: i64 = 92;
}

/// Process state codes in `STOPPED_STATES` (STOPPED, EXITED, FATAL, UNKNOWN).
const STOPPED_STATES: [i64; 4] = [0, 100, 200, 1000];
const RUNNING: i64 = 20;

type CmdResult = Result<(), CallError>;

/// `reloadConfig`'s `(added, changed, removed)` group names.
type Changes = (Vec<String>, Vec<String>, Vec<String>);

/// `GROUP:NAME` -> (GROUP, Some(NAME)); `GROUP:` / `GROUP:*` -> (GROUP, None);
/// `NAME` -> (NAME, Some(NAME)). Splits on the first `:` only.
pub fn split_namespec(namespec: &str) -> (String, Option<String>) {
    match namespec.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g.to_string(), None),
        Some((g, p)) => (g.to_string(), Some(p.to_string())),
        None => (namespec.to_string(), Some(namespec.to_string())),
    }
}

/// `NAME` when group and process names match, else `GROUP:NAME`.
pub fn make_namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// The name of a result struct as supervisorctl's `make_namespec` gives
/// it; a missing process name is Python's `None` (`grp:None`).
fn result_namespec(r: &Value) -> String {
    match r.get("name") {
        Some(Value::Nil) => format!("{}:None", r.str_field("group")),
        _ => make_namespec(r.str_field("group"), r.str_field("name")),
    }
}

/// Render `status` lines (spec §5.4): `'%-Ws%-10s%s'`, W = max(30, longest) + 3.
/// With `color`, the state word is coloured (padding computed on the plain text).
pub fn format_status<V: Borrow<Value>>(infos: &[V], color: bool) -> Vec<String> {
    let names: Vec<String> = infos
        .iter()
        .map(Borrow::borrow)
        .map(|i: &Value| make_namespec(i.str_field("group"), i.str_field("name")))
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    infos
        .iter()
        .map(Borrow::borrow)
        .zip(&names)
        .map(|(info, name): (&Value, _)| {
            let state = info.str_field("statename");
            let padded = format!("{state:<10}");
            let state_col = if color {
                let code = match state {
                    "RUNNING" => "32",
                    "STARTING" | "STOPPING" | "BACKOFF" => "33",
                    "FATAL" | "EXITED" | "UNKNOWN" => "31",
                    _ => "2",
                };
                format!(
                    "\x1b[{code}m{state}\x1b[0m{}",
                    &padded[state.len().min(padded.len())..]
                )
            } else {
                padded
            };
            format!("{name:<width$}{state_col}{}", info.str_field("description"))
        })
        .collect()
}

/// `status --json` (our addition): the `getProcessInfo` structs of the
/// listed processes as a JSON array, fields in the daemon's order (from
/// pidvisord: `name`, `group`, `start`, `stop`, `now`, `state`,
/// `statename`, `spawnerr`, `exitstatus`, `logfile`, `stdout_logfile`,
/// `stderr_logfile`, `pid`, `description`).
pub fn status_json<V: Borrow<Value>>(infos: &[V]) -> String {
    let list = serde_json::Value::Array(infos.iter().map(|v| to_json(v.borrow())).collect());
    list.to_string()
}

fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Int(i) => J::from(*i),
        Value::Bool(b) => J::Bool(*b),
        // NaN and infinities have no JSON form; from_f64 gives None.
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
        Value::Nil => J::Null,
        Value::String(s) | Value::DateTime(s) => J::String(s.clone()),
        Value::Base64(b) => J::String(String::from_utf8_lossy(b).into_owned()),
        Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Value::Struct(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// What `start`, `stop`, `signal` and `clear` call and print (see
/// [`Controller::act`]).
struct Action {
    /// `supervisor.*` methods for `all`, a group (none for `clear`) and one
    /// process.
    all: &'static str,
    group: Option<&'static str>,
    one: &'static str,
    /// Parameters after the name (the signal of `signal`); all of them for
    /// `all`.
    extra: Vec<Value>,
    render: fn(&Controller, &Value) -> String,
    /// The fault that leaves the exit status alone (already started / not
    /// running).
    ignored: Option<i64>,
    /// What a one-process success prints after `name: `.
    done: &'static str,
    /// Exit status for an unknown group (2 for `start`, else 1).
    no_group: i32,
}

impl Action {
    fn params(&self, name: &str) -> Vec<Value> {
        let mut p = vec![Value::from(name)];
        p.extend(self.extra.iter().cloned());
        p
    }
}

/// The interpreter. Holds the client, the output and the exit status.
pub struct Controller {
    pub client: Client,
    /// The server URL as given (used verbatim in messages).
    pub serverurl: String,
    /// `-i` given or no action: confirmations and credential prompts.
    pub interactive: bool,
    pub exitstatus: i32,
    /// Colour the status column (only ever true when stdout is a tty).
    pub color: bool,
    out: Box<dyn Write>,
    /// Stdout went away (EPIPE); treated as success and output stops.
    pub broken_pipe: bool,
}

/// Result of one command line: keep going or leave the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

impl Controller {
    pub fn new(
        serverurl: String,
        username: Option<String>,
        password: Option<String>,
        out: Box<dyn Write>,
    ) -> Controller {
        // An unusable URL is not replaced by a default: each call reports
        // it, as supervisorctl's do.
        Controller {
            client: Client::new(ServerUrl::parse(&serverurl), username, password),
            serverurl,
            interactive: false,
            exitstatus: exit::SUCCESS,
            color: false,
            out,
            broken_pipe: false,
        }
    }

    /// Print one line (supervisorctl's `output`).
    pub fn output(&mut self, line: &str) {
        if self.broken_pipe {
            return;
        }
        let r = self
            .out
            .write_all(line.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .and_then(|_| self.out.flush());
        if let Err(e) = r {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.broken_pipe = true;
            }
        }
    }

    fn write_raw(&mut self, data: &[u8]) -> bool {
        if self.broken_pipe {
            return false;
        }
        match self.out.write_all(data).and_then(|_| self.out.flush()) {
            Ok(()) => true,
            Err(e) => {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    self.broken_pipe = true;
                }
                false
            }
        }
    }

    fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.client.call(method, params)
    }

    fn sv(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.call(&format!("supervisor.{method}"), params)
    }

    fn set_exitstatus_from_fault(&mut self, code: i64, ignored: Option<i64>) {
        if Some(code) == ignored || code == faults::SUCCESS {
        } else if matches!(
            code,
            faults::SPAWN_ERROR | faults::ABNORMAL_TERMINATION | faults::NOT_RUNNING
        ) {
            self.exitstatus = exit::NOT_RUNNING;
        } else {
            self.exitstatus = exit::GENERIC;
        }
    }

    /// Python cmd.Cmd's `parseline` + supervisorctl's `onecmd`.
    pub fn onecmd(&mut self, line: &str) -> Flow {
        let mut line = line.trim().to_string();
        if line.is_empty() {
            return Flow::Continue;
        }
        if let Some(rest) = line.strip_prefix('?') {
            line = format!("help {rest}");
        }
        // cmd.Cmd turns `!x` into `shell x` only when there is a do_shell,
        // which supervisorctl lacks: `!x` is then unknown syntax as typed.
        let end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(line.len());
        let (cmd, arg) = (line[..end].to_string(), line[end..].trim().to_string());
        if cmd.is_empty() || line.starts_with('!') || !self.known(&cmd) {
            self.output(&format!("*** Unknown syntax: {line}"));
            self.exitstatus = exit::GENERIC;
            return Flow::Continue;
        }
        if matches!(cmd.as_str(), "EOF" | "quit" | "exit") {
            self.output("");
            return Flow::Quit;
        }
        let mut result = self.dispatch(&cmd, &arg);
        if let Err(CallError::Protocol { status: 401, .. }) = &result {
            self.output("Server requires authentication");
            if self.interactive {
                // supervisorctl's `raw_input('Username:')` (stdout) and
                // `getpass.getpass(prompt='Password:')` (the terminal, or
                // stderr); end of input is its EOFError.
                let _ = self.write_raw(b"Username:");
                match read_input_line().and_then(|u| Ok((u, super::getpass("Password:")?))) {
                    Ok((u, p)) => {
                        self.output("");
                        self.client.username = Some(u);
                        self.client.password = Some(p);
                        return self.onecmd(&line);
                    }
                    Err(e) => result = Err(e),
                }
            } else {
                self.exitstatus = exit::GENERIC;
                result = self.dispatch(&cmd, &arg);
            }
        } else if let Err(CallError::Protocol { .. }) = &result {
            self.exitstatus = exit::GENERIC;
        }
        if let Err(e) = result {
            let (class, msg) = e.python_class_and_message();
            self.output(&format!(
                "error: <class '{class}'>, {msg}: file: {} line: {}",
                file!(),
                line!()
            ));
            self.exitstatus = exit::GENERIC;
        }
        Flow::Continue
    }

    fn known(&self, cmd: &str) -> bool {
        matches!(
            cmd,
            "help"
                | "EOF"
                | "quit"
                | "exit"
                | "add"
                | "avail"
                | "clear"
                | "fg"
                | "maintail"
                | "open"
                | "pid"
                | "reload"
                | "remove"
                | "reread"
                | "restart"
                | "shutdown"
                | "signal"
                | "start"
                | "status"
                | "stop"
                | "tail"
                | "update"
                | "version"
        )
    }

    fn dispatch(&mut self, cmd: &str, arg: &str) -> CmdResult {
        match cmd {
            "help" => {
                self.do_help(arg);
                Ok(())
            }
            "add" => self.do_add(arg),
            "avail" => self.do_avail(arg),
            "clear" => self.do_clear(arg),
            "fg" => self.do_fg(arg),
            "maintail" => self.do_maintail(arg),
            "open" => self.do_open(arg),
            "pid" => self.do_pid(arg),
            "reload" => self.do_reload(arg),
            "remove" => self.do_remove(arg),
            "reread" => self.do_reread(arg),
            "restart" => self.do_restart(arg),
            "shutdown" => self.do_shutdown(arg),
            "signal" => self.do_signal(arg),
            "start" => self.do_start(arg),
            "status" => self.do_status(arg),
            "stop" => self.do_stop(arg),
            "tail" => self.do_tail(arg),
            "update" => self.do_update(arg),
            "version" => self.do_version(arg),
            _ => Ok(()),
        }
    }

    fn help_for(&mut self, topic: &str) {
        if let Some(t) = help::topic(topic) {
            self.output(t);
        }
    }

    /// `getVersion` must answer `3.0` (spec §5.1). `Ok(false)`: a message
    /// was printed and the command must stop.
    pub fn upcheck(&mut self) -> Result<bool, CallError> {
        match self.sv("getVersion", &[]) {
            Ok(v) => {
                if v.as_str() != Some("3.0") {
                    let api = py_str(&v);
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with \
                         API version 3.0, but the remote version is {api}."
                    ));
                    self.exitstatus = exit::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(CallError::Fault(f)) if f.code == faults::UNKNOWN_METHOD => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace \
                     commands that supervisorctl uses to control it.  Please check that the \
                     [rpcinterface:supervisor] section is enabled in the configuration file \
                     (see sample.conf).",
                );
                self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(e) => match e.errno() {
                Some(libc::ECONNREFUSED) => {
                    self.output(&format!("{} refused connection", self.serverurl));
                    self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                    Ok(false)
                }
                Some(libc::ENOENT) => {
                    self.output(&format!("{} no such file", self.serverurl));
                    self.exitstatus = exit::NOT_RUNNING;
                    Ok(false)
                }
                _ => {
                    if !matches!(e, CallError::Protocol { .. }) {
                        self.exitstatus = exit::GENERIC;
                    }
                    Err(e)
                }
            },
        }
    }

    fn do_help(&mut self, arg: &str) {
        let arg = arg.trim();
        if arg.is_empty() {
            let t = help::TOPICS.strip_suffix('\n').unwrap_or(help::TOPICS);
            self.output(t);
        } else if help::topic(arg).is_some() {
            self.help_for(arg);
        } else {
            self.output(&format!("*** No help on {arg}"));
        }
    }

    // ---- status / pid ---------------------------------------------------

    fn do_status(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            self.exitstatus = exit::STATUS_UNKNOWN;
            return Ok(());
        }
        let all = self.sv("getAllProcessInfo", &[])?;
        // Borrowed, not cloned: with 500 processes this is most of the reply.
        let all_infos = all.as_array().unwrap_or(&[]);
        let mut names: Vec<&str> = arg.split_whitespace().collect();
        let json = names.contains(&"--json");
        // `-v`: one indented line per pid of each process (pidvisor only).
        let verbose = names.contains(&"-v");
        names.retain(|n| *n != "--json" && *n != "-v");
        let matching: Vec<&Value> = if names.is_empty() || names.contains(&"all") {
            all_infos.iter().collect()
        } else {
            let mut m = Vec::new();
            for name in names {
                let (group, process) = split_namespec(name);
                let mut bad = true;
                for info in all_infos {
                    let matched = info.str_field("group") == group
                        && process
                            .as_deref()
                            .map_or(true, |p| info.str_field("name") == p);
                    if matched {
                        bad = false;
                        m.push(info);
                    }
                }
                if bad {
                    let msg = match process {
                        None => format!("{group}: ERROR (no such group)"),
                        Some(_) => format!("{name}: ERROR (no such process)"),
                    };
                    self.output(&msg);
                    self.exitstatus = exit::STATUS_UNKNOWN;
                }
            }
            m
        };
        if json {
            let j = status_json(&matching);
            self.output(&j);
        } else if !verbose {
            // One write for the whole table instead of one per line.
            let lines = format_status(&matching, self.color);
            if !lines.is_empty() {
                self.output(&lines.join("\n"));
            }
        } else {
            for (line, info) in format_status(&matching, self.color).iter().zip(&matching) {
                self.output(line);
                if verbose {
                    let spec = make_namespec(info.str_field("group"), info.str_field("name"));
                    let pids = match self.call("pidvisor.listProcessPids", &[spec.into()]) {
                        Ok(v) => v,
                        // A real supervisord has no pidvisor.* methods.
                        Err(CallError::Fault(f)) => {
                            self.output(&format!("    (no pid list: {})", f.string));
                            continue;
                        }
                        Err(e) => return Err(e),
                    };
                    for p in pids.as_array().unwrap_or(&[]) {
                        let text = format!("    {} {}", p.int_field("pid"), p.str_field("cmdline"));
                        self.output(&text);
                    }
                }
            }
        }
        if matching
            .iter()
            .any(|i| STOPPED_STATES.contains(&i.int_field("state")))
        {
            self.exitstatus = exit::STATUS_NOT_RUNNING;
        }
        Ok(())
    }

    fn do_pid(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            let pid = self.sv("getPID", &[])?;
            self.output(&pid.as_i64().unwrap_or(0).to_string());
        } else if names.contains(&"all") {
            let all = self.sv("getAllProcessInfo", &[])?;
            for info in all.as_array().unwrap_or(&[]) {
                self.output(&info.int_field("pid").to_string());
            }
        } else {
            for name in names {
                match self.sv("getProcessInfo", &[name.into()]) {
                    Ok(info) => {
                        let pid = info.int_field("pid");
                        self.output(&pid.to_string());
                        if pid == 0 {
                            self.exitstatus = exit::NOT_RUNNING;
                        }
                    }
                    Err(CallError::Fault(f)) => {
                        self.exitstatus = exit::GENERIC;
                        if f.code == faults::BAD_NAME {
                            self.output(&format!("No such process {name}"));
                        } else {
                            return Err(CallError::Fault(f));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    // ---- start / stop / restart / signal ------------------------------------

    fn startresult(&self, r: &Value) -> String {
        let name = result_namespec(r);
        let what = match r.int_field("status") {
            faults::BAD_NAME => "no such process",
            faults::NO_FILE => "no such file",
            faults::NOT_EXECUTABLE => "file is not executable",
            faults::ALREADY_STARTED => "already started",
            faults::SPAWN_ERROR => "spawn error",
            faults::ABNORMAL_TERMINATION => "abnormal termination",
            faults::SUCCESS => return format!("{name}: started"),
            other => return format!("{name}: ERROR (unknown result code {other})"),
        };
        format!("{name}: ERROR ({what})")
    }

    fn signalresult(&self, r: &Value, success: &str) -> String {
        let name = result_namespec(r);
        let what = match r.int_field("status") {
            faults::BAD_NAME => "no such process",
            faults::BAD_SIGNAL => "bad signal name",
            faults::NOT_RUNNING => "not running",
            faults::SUCCESS => return format!("{name}: {success}"),
            faults::FAILED => return r.str_field("description").to_string(),
            other => return format!("{name}: ERROR (unknown result code {other})"),
        };
        format!("{name}: ERROR ({what})")
    }

    /// A fault on a single-process call as a result struct (no process
    /// name, for `clear g:`, is Python's None).
    fn fault_result(code: i64, group: &str, process: Option<&str>, desc: &str) -> Value {
        Value::record([
            ("status", Value::Int(code)),
            ("name", process.map_or(Value::Nil, Value::from)),
            ("group", group.into()),
            ("description", desc.into()),
        ])
    }

    fn print_results(
        &mut self,
        results: &Value,
        render: fn(&Self, &Value) -> String,
        ignored: Option<i64>,
    ) {
        for r in results.as_array().unwrap_or(&[]) {
            let line = render(self, r);
            self.output(&line);
            self.set_exitstatus_from_fault(r.int_field("status"), ignored);
        }
    }

    /// start, stop, signal and clear on `names`: `all` is one call for
    /// everything, `g:`/`g:*` one for the group, anything else one for the
    /// process; results print as supervisorctl prints them.
    fn act(&mut self, a: &Action, names: &[&str]) -> CmdResult {
        if names.contains(&"all") {
            let results = self.sv(a.all, &a.extra)?;
            self.print_results(&results, a.render, a.ignored);
            return Ok(());
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match (process, a.group) {
                (None, Some(method)) => {
                    let params = a.params(&group);
                    match self.sv(method, &params) {
                        Ok(results) => self.print_results(&results, a.render, a.ignored),
                        Err(CallError::Fault(f)) if f.code == faults::BAD_NAME => {
                            self.output(&format!("{group}: ERROR (no such group)"));
                            self.exitstatus = a.no_group;
                        }
                        Err(e) => return Err(e),
                    }
                }
                (process, _) => {
                    let r = Self::fault_result(0, &group, process.as_deref(), "");
                    match self.sv(a.one, &a.params(name)) {
                        Ok(_) => {
                            let n = result_namespec(&r);
                            self.output(&format!("{n}: {}", a.done));
                        }
                        Err(CallError::Fault(f)) => {
                            let r =
                                Self::fault_result(f.code, &group, process.as_deref(), &f.string);
                            let line = (a.render)(self, &r);
                            self.output(&line);
                            self.set_exitstatus_from_fault(f.code, a.ignored);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// The command's names, or (none given) its error, help and `status`.
    fn names_or_usage<'a>(&mut self, cmd: &str, arg: &'a str, status: i32) -> Vec<&'a str> {
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            self.output(&format!("Error: {cmd} requires a process name"));
            self.exitstatus = status;
            self.help_for(cmd);
        }
        names
    }

    fn do_start(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = self.names_or_usage("start", arg, exit::INVALID_ARGS);
        let start = Action {
            all: "startAllProcesses",
            group: Some("startProcessGroup"),
            one: "startProcess",
            extra: Vec::new(),
            render: Self::startresult,
            ignored: Some(faults::ALREADY_STARTED),
            done: "started",
            no_group: exit::INVALID_ARGS,
        };
        self.act(&start, &names)
    }

    fn stopresult(&self, r: &Value) -> String {
        self.signalresult(r, "stopped")
    }

    fn signalled(&self, r: &Value) -> String {
        self.signalresult(r, "signalled")
    }

    fn do_stop(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = self.names_or_usage("stop", arg, exit::GENERIC);
        let stop = Action {
            all: "stopAllProcesses",
            group: Some("stopProcessGroup"),
            one: "stopProcess",
            extra: Vec::new(),
            render: Self::stopresult,
            ignored: Some(faults::NOT_RUNNING),
            done: "stopped",
            no_group: exit::GENERIC,
        };
        self.act(&stop, &names)
    }

    fn do_signal(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let args: Vec<&str> = arg.split_whitespace().collect();
        if args.len() < 2 {
            self.output("Error: signal requires a signal name and a process name");
            self.help_for("signal");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        let signal = Action {
            all: "signalAllProcesses",
            group: Some("signalProcessGroup"),
            one: "signalProcess",
            extra: vec![args[0].into()],
            render: Self::signalled,
            ignored: None,
            done: "signalled",
            no_group: exit::GENERIC,
        };
        self.act(&signal, &args[1..])
    }

    fn do_restart(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        if arg.split_whitespace().next().is_none() {
            self.output("Error: restart requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("restart");
            return Ok(());
        }
        self.do_stop(arg)?;
        self.do_start(arg)
    }

    // ---- logs -----------------------------------------------------------

    fn do_tail(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let mut args: Vec<&str> = arg.split_whitespace().collect();
        if args.is_empty() {
            self.output("Error: too few arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("tail");
            return Ok(());
        }
        if args.len() > 3 {
            self.output("Error: too many arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("tail");
            return Ok(());
        }
        let modifier = if args[0].starts_with('-') {
            Some(args.remove(0))
        } else {
            None
        };
        let (name, channel) = if args.len() == 1 {
            (args[0].to_string(), "stdout".to_string())
        } else if !args.is_empty() {
            let channel = args[args.len() - 1].to_lowercase();
            if channel != "stderr" && channel != "stdout" {
                self.output(&format!("Error: bad channel {}", py::py_repr(&channel)));
                self.exitstatus = exit::GENERIC;
                return Ok(());
            }
            (args[0].to_string(), channel)
        } else {
            self.output("Error: tail requires process name");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        };
        let mut bytes: Option<i64> = Some(1600);
        if let Some(m) = modifier {
            let what = &m[1..];
            if what == "f" {
                bytes = None;
            } else {
                match parse_py_int(what) {
                    Some(n) => bytes = Some(n),
                    None => {
                        self.output(&format!("Error: bad argument {m}"));
                        self.exitstatus = exit::GENERIC;
                        return Ok(());
                    }
                }
            }
        }
        let Some(bytes) = bytes else {
            return self.tailf(&format!("/logtail/{name}/{channel}"));
        };
        let method = if channel == "stdout" {
            "readProcessStdoutLog"
        } else {
            "readProcessStderrLog"
        };
        let params = [name.as_str().into(), xmlrpc_int(-bytes)?, Value::Int(0)];
        self.print_log(&name, method, &params)
    }

    /// Print what a log read returns, or `WHO: ERROR (...)` for its fault.
    fn print_log(&mut self, who: &str, method: &str, params: &[Value]) -> CmdResult {
        match self.sv(method, params) {
            Ok(v) => {
                let s = v.as_str().unwrap_or("").to_string();
                self.output(&s);
            }
            Err(CallError::Fault(f)) => {
                self.exitstatus = exit::GENERIC;
                let what = match f.code {
                    faults::NO_FILE => "no log file",
                    faults::FAILED => "unknown error reading log",
                    // Only process logs have names (readLog has none).
                    faults::BAD_NAME if method != "readLog" => "no such process name",
                    _ => return Err(CallError::Fault(f)),
                };
                self.output(&format!("{who}: ERROR ({what})"));
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn do_maintail(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let args: Vec<&str> = arg.split_whitespace().collect();
        let bytes = match args.as_slice() {
            [] => 1600,
            [a] => {
                let Some(what) = a.strip_prefix('-') else {
                    self.output(&format!("Error: bad argument {a}"));
                    self.exitstatus = exit::GENERIC;
                    return Ok(());
                };
                if what == "f" {
                    return self.tailf("/mainlogtail");
                }
                match parse_py_int(what) {
                    Some(n) => n,
                    None => {
                        self.output(&format!("Error: bad argument {a}"));
                        self.exitstatus = exit::GENERIC;
                        return Ok(());
                    }
                }
            }
            _ => {
                self.output("Error: too many arguments");
                self.exitstatus = exit::GENERIC;
                self.help_for("maintail");
                return Ok(());
            }
        };
        let params = [xmlrpc_int(-bytes)?, Value::Int(0)];
        self.print_log("supervisord", "readLog", &params)
    }

    /// Follow a `/logtail` stream until it ends or Ctrl-C (which exits the
    /// program after printing a newline, see [`super::install_sigint_exit`]).
    fn tailf(&mut self, path: &str) -> CmdResult {
        self.output("==> Press Ctrl-C to exit <==");
        super::install_sigint_exit("\n", self.exitstatus);
        let mut client = Client::new(
            self.client.url.clone(),
            self.client.username.clone(),
            self.client.password.clone(),
        );
        let url = format!("{}{}", self.serverurl, path);
        follow(
            &mut client,
            &url,
            path,
            &mut |data| self.write_raw(data),
            None,
            None,
        );
        Ok(())
    }

    fn do_clear(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = self.names_or_usage("clear", arg, exit::GENERIC);
        fn clearresult(_: &Controller, r: &Value) -> String {
            let name = result_namespec(r);
            match r.int_field("status") {
                faults::BAD_NAME => format!("{name}: ERROR (no such process)"),
                faults::FAILED => format!("{name}: ERROR (failed)"),
                faults::SUCCESS => format!("{name}: cleared"),
                other => format!("{name}: ERROR (unknown result code {other})"),
            }
        }
        // No group call: `g:` goes to clearProcessLogs as it is.
        let clear = Action {
            all: "clearAllProcessLogs",
            group: None,
            one: "clearProcessLogs",
            extra: Vec::new(),
            render: clearresult,
            ignored: None,
            done: "cleared",
            no_group: exit::GENERIC,
        };
        self.act(&clear, &names)
    }

    // ---- config ------------------------------------------------------------

    fn no_args(&mut self, cmd: &str, arg: &str) -> bool {
        if arg.is_empty() {
            return true;
        }
        self.output(&format!("Error: {cmd} accepts no arguments"));
        self.exitstatus = exit::GENERIC;
        self.help_for(cmd);
        false
    }

    fn do_avail(&mut self, arg: &str) -> CmdResult {
        if !self.no_args("avail", arg) {
            return Ok(());
        }
        match self.sv("getAllConfigInfo", &[]) {
            Ok(v) => {
                for c in v.as_array().unwrap_or(&[]) {
                    let name = make_namespec(c.str_field("group"), c.str_field("name"));
                    let truthy = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(false);
                    let inuse = if truthy("inuse") { "in use" } else { "avail" };
                    let auto = if truthy("autostart") {
                        "auto"
                    } else {
                        "manual"
                    };
                    let prio = format!(
                        "{}:{}",
                        c.int_field("group_prio"),
                        c.int_field("process_prio")
                    );
                    self.output(&format!("{name:<32} {inuse:<9} {auto:<9} {prio}"));
                }
                Ok(())
            }
            Err(CallError::Fault(f)) if f.code == faults::SHUTDOWN_STATE => {
                self.exitstatus = exit::GENERIC;
                self.output("ERROR: supervisor shutting down");
                Ok(())
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                Err(e)
            }
        }
    }

    fn reload_config(&mut self) -> Result<Changes, CallError> {
        let v = self.sv("reloadConfig", &[])?;
        let names = |x: Option<&Value>| -> Vec<String> {
            x.and_then(Value::as_array)
                .unwrap_or(&[])
                .iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        let first = v
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_array);
        let first = first.unwrap_or(&[]);
        Ok((
            names(first.first()),
            names(first.get(1)),
            names(first.get(2)),
        ))
    }

    fn do_reread(&mut self, arg: &str) -> CmdResult {
        if !self.no_args("reread", arg) {
            return Ok(());
        }
        match self.reload_config() {
            Ok((added, changed, dropped)) => {
                let mut all: Vec<(String, &str)> = Vec::new();
                for (list, what) in [
                    (added, "available"),
                    (changed, "changed"),
                    (dropped, "disappeared"),
                ] {
                    for n in list {
                        all.retain(|(k, _)| *k != n);
                        all.push((n, what));
                    }
                }
                if all.is_empty() {
                    self.output("No config updates to processes");
                } else {
                    all.sort();
                    for (n, what) in all {
                        self.output(&format!("{n}: {what}"));
                    }
                }
                Ok(())
            }
            Err(CallError::Fault(f)) => {
                self.exitstatus = exit::GENERIC;
                match f.code {
                    faults::SHUTDOWN_STATE => self.output("ERROR: supervisor shutting down"),
                    faults::CANT_REREAD => self.output(&format!("ERROR: {}", f.string)),
                    _ => return Err(CallError::Fault(f)),
                }
                Ok(())
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                Err(e)
            }
        }
    }

    fn do_add(&mut self, arg: &str) -> CmdResult {
        for name in arg.split_whitespace() {
            match self.sv("addProcessGroup", &[name.into()]) {
                Ok(_) => self.output(&format!("{name}: added process group")),
                Err(CallError::Fault(f)) => match f.code {
                    faults::SHUTDOWN_STATE => {
                        self.output("ERROR: shutting down");
                        self.exitstatus = exit::GENERIC;
                    }
                    faults::ALREADY_ADDED => self.output("ERROR: process group already active"),
                    faults::BAD_NAME => {
                        self.output(&format!("ERROR: no such process/group: {name}"));
                        self.exitstatus = exit::GENERIC;
                    }
                    _ => {
                        self.exitstatus = exit::GENERIC;
                        return Err(CallError::Fault(f));
                    }
                },
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn do_remove(&mut self, arg: &str) -> CmdResult {
        for name in arg.split_whitespace() {
            match self.sv("removeProcessGroup", &[name.into()]) {
                Ok(_) => self.output(&format!("{name}: removed process group")),
                Err(CallError::Fault(f)) => {
                    self.exitstatus = exit::GENERIC;
                    match f.code {
                        faults::STILL_RUNNING => {
                            self.output(&format!("ERROR: process/group still running: {name}"))
                        }
                        faults::BAD_NAME => {
                            self.output(&format!("ERROR: no such process/group: {name}"))
                        }
                        _ => return Err(CallError::Fault(f)),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn do_update(&mut self, arg: &str) -> CmdResult {
        let (added, changed, removed) = match self.reload_config() {
            Ok(r) => r,
            Err(CallError::Fault(f)) if f.code == faults::SHUTDOWN_STATE => {
                self.exitstatus = exit::GENERIC;
                self.output("ERROR: already shutting down");
                return Ok(());
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                return Err(e);
            }
        };
        let mut valid: Vec<String> = Vec::new();
        for g in arg.split_whitespace() {
            if !valid.iter().any(|v| v == g) {
                valid.push(g.to_string());
            }
        }
        if valid.iter().any(|g| g == "all") {
            valid.clear();
        }
        if !valid.is_empty() {
            let infos = self.sv("getAllProcessInfo", &[])?;
            let mut groups: Vec<String> = infos
                .as_array()
                .unwrap_or(&[])
                .iter()
                .map(|i| i.str_field("group").to_string())
                .collect();
            groups.extend(added.iter().cloned());
            // Python iterates a set: order is unspecified; we keep argument order.
            for g in &valid {
                if !groups.contains(g) {
                    self.output(&format!("ERROR: no such group: {g}"));
                    self.exitstatus = exit::GENERIC;
                }
            }
        }
        let wanted = |g: &String| valid.is_empty() || valid.contains(g);
        for g in removed.iter().filter(|g| wanted(g)) {
            let results = self.sv("stopProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: stopped"));
            let fails = results
                .as_array()
                .unwrap_or(&[])
                .iter()
                .any(|r| r.int_field("status") == faults::FAILED);
            if fails {
                self.output(&format!("{g}: has problems; not removing"));
                self.exitstatus = exit::GENERIC;
                continue;
            }
            self.sv("removeProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: removed process group"));
        }
        for g in changed.iter().filter(|g| wanted(g)) {
            self.sv("stopProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: stopped"));
            self.sv("removeProcessGroup", &[g.as_str().into()])?;
            self.sv("addProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: updated process group"));
        }
        for g in added.iter().filter(|g| wanted(g)) {
            self.sv("addProcessGroup", &[g.as_str().into()])?;
            self.output(&format!("{g}: added process group"));
        }
        Ok(())
    }

    // ---- daemon ---------------------------------------------------------------

    /// supervisorctl's `raw_input(question)` check; end of input is
    /// Python's `EOFError`, which the command reports as its error.
    fn confirm(&mut self, question: &str) -> Result<bool, CallError> {
        if !self.interactive {
            return Ok(true);
        }
        let _ = self.write_raw(question.as_bytes());
        let answer = read_input_line()?;
        Ok(answer.trim_start().to_lowercase().starts_with('y'))
    }

    fn do_shutdown(&mut self, arg: &str) -> CmdResult {
        if !self.no_args("shutdown", arg) {
            return Ok(());
        }
        if !self.confirm("Really shut the remote supervisord process down y/N? ")? {
            return Ok(());
        }
        match self.sv("shutdown", &[]) {
            Ok(_) => self.output("Shut down"),
            Err(CallError::Fault(f)) if f.code == faults::SHUTDOWN_STATE => {
                self.output("ERROR: already shutting down")
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                match e.errno() {
                    Some(libc::ECONNREFUSED) => self.output(&format!(
                        "ERROR: {} refused connection (already shut down?)",
                        self.serverurl
                    )),
                    Some(libc::ENOENT) => self.output(&format!(
                        "ERROR: {} no such file (already shut down?)",
                        self.serverurl
                    )),
                    _ => return Err(e),
                }
            }
        }
        Ok(())
    }

    fn do_reload(&mut self, arg: &str) -> CmdResult {
        if !self.no_args("reload", arg) {
            return Ok(());
        }
        if !self.confirm("Really restart the remote supervisord process y/N? ")? {
            return Ok(());
        }
        match self.sv("restart", &[]) {
            Ok(_) => self.output("Restarted supervisord"),
            Err(CallError::Fault(f)) => {
                self.exitstatus = exit::GENERIC;
                if f.code == faults::SHUTDOWN_STATE {
                    self.output("ERROR: already shutting down");
                } else {
                    return Err(CallError::Fault(f));
                }
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn do_version(&mut self, arg: &str) -> CmdResult {
        if !self.no_args("version", arg) {
            return Ok(());
        }
        if !self.upcheck()? {
            return Ok(());
        }
        let v = self.sv("getSupervisorVersion", &[])?;
        let s = v.as_str().unwrap_or("").to_string();
        self.output(&s);
        Ok(())
    }

    fn do_open(&mut self, arg: &str) -> CmdResult {
        let url = arg.trim();
        let (scheme, _) = super::client::split_scheme(url);
        if !(scheme == "unix" || scheme == "http") {
            self.output("ERROR: url must be http:// or unix://");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        self.serverurl = url.to_string();
        self.client = Client::new(
            ServerUrl::parse(url),
            self.client.username.take(),
            self.client.password.take(),
        );
        let old = self.exitstatus;
        let r = self.do_status("");
        self.exitstatus = old;
        r
    }

    fn do_fg(&mut self, arg: &str) -> CmdResult {
        if !self.upcheck()? {
            return Ok(());
        }
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            self.output("ERROR: no process name supplied");
            self.exitstatus = exit::GENERIC;
            self.help_for("fg");
            return Ok(());
        }
        if names.len() > 1 {
            self.output("ERROR: too many process names supplied");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        let name = names[0];
        let info = match self.sv("getProcessInfo", &[name.into()]) {
            Ok(i) => i,
            Err(CallError::Fault(f)) => {
                if f.code == faults::BAD_NAME {
                    self.output("ERROR: bad process name supplied");
                    self.exitstatus = exit::GENERIC;
                } else {
                    self.output(&format!("ERROR: {f}"));
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if info.int_field("state") != RUNNING {
            self.output("ERROR: process not running");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        self.output("==> Press Ctrl-C to exit <==");
        super::install_sigint_exit("Exiting foreground\n", self.exitstatus);
        // stderr's failure is reported after stdout's (see `follow`).
        let (stdout_settled, after_stdout) = mpsc::channel();
        let mut stdout_settled = Some(stdout_settled);
        let mut after_stdout = Some(after_stdout);
        for channel in ["stdout", "stderr"] {
            let (settled, after) = if channel == "stdout" {
                (stdout_settled.take(), None)
            } else {
                (None, after_stdout.take())
            };
            let mut c = Client::new(
                self.client.url.clone(),
                self.client.username.clone(),
                self.client.password.clone(),
            );
            let path = format!("/logtail/{name}/{channel}");
            let url = format!("{}{}", self.serverurl, path);
            std::thread::spawn(move || {
                let mut write = |d: &[u8]| {
                    let mut o = io::stdout().lock();
                    o.write_all(d).and_then(|_| o.flush()).is_ok()
                };
                follow(&mut c, &url, &path, &mut write, after, settled);
            });
        }
        let stdin = io::stdin();
        loop {
            let mut line = String::new();
            if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
                self.output("Exiting foreground");
                return Ok(());
            }
            let inp = format!("{}\n", line.trim_end_matches(['\n', '\r']));
            match self.sv("sendProcessStdin", &[name.into(), inp.into()]) {
                Ok(_) => {}
                Err(CallError::Fault(f)) => {
                    if f.code == faults::NOT_RUNNING {
                        self.output("Process got killed");
                    } else {
                        self.output(&format!("ERROR: {f}"));
                    }
                    self.output("Exiting foreground");
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
            let info = self.sv("getProcessInfo", &[name.into()])?;
            if info.int_field("state") != RUNNING {
                self.output("Process got killed");
                self.output("Exiting foreground");
                return Ok(());
            }
        }
    }
}

/// Stream `path` to `write` as supervisorctl's `http_client.Listener`
/// does for `tail -f` and `fg`: text that is not UTF-8 is shown as
/// `Undecodable: b'...'`, and a failure goes to stderr after the URL
/// (`URL Cannot read, status code 404` for a missing log, as for
/// `redirect_stderr` or a `NONE` log).
///
/// `fg` follows stdout and stderr at once; supervisorctl's single asyncore
/// loop reports stdout's failure first. So a follower may wait for
/// `after` (its sender dropped) before reporting its own failure, and
/// drops `settled` once its answer is known and any failure reported.
fn follow(
    client: &mut Client,
    url: &str,
    path: &str,
    write: &mut dyn FnMut(&[u8]) -> bool,
    after: Option<mpsc::Receiver<()>>,
    settled: Option<mpsc::Sender<()>>,
) {
    let mut settled = settled;
    let mut pending = Vec::new();
    let mut sink = |data: &[u8]| {
        let text = listener_text(&mut pending, data);
        text.is_empty() || write(&text)
    };
    let result = client.stream_get(path, &mut || drop(settled.take()), &mut sink);
    let failure = match result {
        Ok(200) => None,
        Ok(status) => Some(format!("Cannot read, status code {status}")),
        Err(e) => Some(e.python_class_and_message().1),
    };
    if let Some(f) = failure {
        if let Some(rx) = after {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
        }
        eprintln!("{url} {f}");
    }
    drop(settled);
}

/// `Listener.feed`: the data as UTF-8 text, or `Undecodable: <repr>`. A
/// multi-byte character cut at the end of a piece is held for the next
/// one (Python decodes each HTTP chunk alone; supervisord cuts them at
/// any byte, so that case is Supervisor's bug, not kept).
fn listener_text(pending: &mut Vec<u8>, data: &[u8]) -> Vec<u8> {
    pending.extend_from_slice(data);
    match std::str::from_utf8(pending) {
        Ok(_) => std::mem::take(pending),
        Err(e) if e.error_len().is_none() => {
            let rest = pending.split_off(e.valid_up_to());
            std::mem::replace(pending, rest)
        }
        Err(_) => {
            let text = format!("Undecodable: {}", py_bytes_repr(pending));
            pending.clear();
            text.into_bytes()
        }
    }
}

/// Python's `str()` of an XML-RPC value as `%s` shows it (`5`, `3.5`,
/// `True`, `None`; containers roughly as Python's repr).
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) | Value::DateTime(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Double(d) => py_float(*d),
        Value::Nil => "None".into(),
        Value::Base64(b) => py_bytes_repr(b),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Struct(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", py::py_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => py::py_repr(s),
        other => py_str(other),
    }
}

/// Python's `repr()` of a float: shortest round trip, always with a point
/// or exponent, `inf`/`nan`.
fn py_float(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    let s = format!("{d:?}");
    if s.contains(['.', 'e', 'E']) {
        let a = d.abs();
        if a != 0.0 && !(1e-4..1e16).contains(&a) {
            let e = format!("{d:e}");
            let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
            let x: i32 = x.parse().unwrap_or(0);
            return format!("{m}e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs());
        }
        s
    } else {
        format!("{s}.0")
    }
}

/// Python's `input()` after its prompt: a line from stdin without its
/// newline, or `EOFError` at end of input.
fn read_input_line() -> Result<String, CallError> {
    let mut line = String::new();
    match io::stdin().lock().read_line(&mut line) {
        Ok(0) => Err(CallError::eof("EOF when reading a line")),
        Ok(_) => Ok(line.strip_suffix('\n').unwrap_or(&line).to_string()),
        Err(e) => Err(CallError::Io(e)),
    }
}

/// Python's `int()` on a tail modifier (`-100` -> `100`, also `+5`, ` 7`,
/// `1_000`). A number too large for i64 saturates: it is beyond XML-RPC's
/// limits anyway (see [`xmlrpc_int`]).
fn parse_py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !ok {
        return None;
    }
    let n = digits.replace('_', "").parse::<i64>().unwrap_or(i64::MAX);
    Some(if neg { -n } else { n })
}

/// An int as xmlrpc.client sends it: beyond 32 bits it raises
/// `OverflowError: int exceeds XML-RPC limits` before anything is sent.
fn xmlrpc_int(n: i64) -> Result<Value, CallError> {
    if i32::try_from(n).is_err() {
        return Err(CallError::Raised {
            class: "OverflowError".into(),
            message: "int exceeds XML-RPC limits".into(),
        });
    }
    Ok(Value::Int(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: i64, statename: &str, desc: &str) -> Value {
        Value::record([
            ("group", group.into()),
            ("name", name.into()),
            ("state", Value::Int(state)),
            ("statename", statename.into()),
            ("description", desc.into()),
        ])
    }

    #[test]
    fn namespecs() {
        assert_eq!(split_namespec("a"), ("a".into(), Some("a".into())));
        assert_eq!(split_namespec("g:p"), ("g".into(), Some("p".into())));
        assert_eq!(split_namespec("g:"), ("g".into(), None));
        assert_eq!(split_namespec("g:*"), ("g".into(), None));
        assert_eq!(split_namespec("g:p:q"), ("g".into(), Some("p:q".into())));
        assert_eq!(make_namespec("a", "a"), "a");
        assert_eq!(make_namespec("g", "p"), "g:p");
    }

    #[test]
    fn status_columns() {
        let rows = [
            info("grp", "ga", 20, "RUNNING", "pid 5179, uptime 0:00:11"),
            info(
                "quick",
                "quick",
                200,
                "FATAL",
                "Exited too quickly (process log may have details)",
            ),
            info("s", "s", 10, "STARTING", ""),
        ];
        let lines = format_status(&rows, false);
        assert_eq!(
            lines[0],
            "grp:ga                           RUNNING   pid 5179, uptime 0:00:11"
        );
        assert_eq!(
            lines[1],
            "quick                            FATAL     Exited too quickly (process log may have details)"
        );
        assert_eq!(lines[2], format!("{:<33}STARTING  ", "s"));
        let long = "x".repeat(39);
        let lines = format_status(&[info(&long, &long, 0, "STOPPED", "Not started")], false);
        assert_eq!(lines[0], format!("{long}   STOPPED   Not started"));
        let colored = format_status(&rows[..1], true);
        assert!(colored[0].contains("\x1b[32mRUNNING\x1b[0m   pid"));
    }

    #[test]
    fn json() {
        let j = status_json(&[info("g", "a\"b", 20, "RUNNING", "x\ny")]);
        assert_eq!(
            j,
            r#"[{"group":"g","name":"a\"b","state":20,"statename":"RUNNING","description":"x\ny"}]"#
        );
    }

    #[test]
    fn python_str_of_values() {
        assert_eq!(py_str(&Value::Int(5)), "5");
        assert_eq!(py_str(&Value::Double(3.0)), "3.0");
        assert_eq!(py_str(&Value::Double(1e20)), "1e+20");
        assert_eq!(py_str(&Value::Double(0.5)), "0.5");
        assert_eq!(py_str(&Value::Bool(true)), "True");
        assert_eq!(py_str(&Value::Nil), "None");
        assert_eq!(
            py_str(&Value::Array(vec!["a".into(), Value::Int(1)])),
            "['a', 1]"
        );
    }

    #[test]
    fn listener_feed() {
        let mut p = Vec::new();
        assert_eq!(listener_text(&mut p, b"ok\n"), b"ok\n");
        // A character cut in two is held, then completed.
        assert_eq!(listener_text(&mut p, b"a\xc3"), b"a");
        assert_eq!(listener_text(&mut p, b"\xa9b"), "\u{e9}b".as_bytes());
        assert_eq!(
            listener_text(&mut p, b"x 's\n\xff\xfe\\"),
            b"Undecodable: b\"x 's\\n\\xff\\xfe\\\\\""
        );
        assert!(p.is_empty());
        assert_eq!(py_bytes_repr(b"\"q\" 's\r\x01"), r#"b'"q" \'s\r\x01'"#);
    }

    #[test]
    fn offline_commands() {
        let mut c = Controller::new(
            "unix:///nonexistent/pidvisor-test.sock".into(),
            None,
            None,
            Box::new(io::sink()),
        );
        assert_eq!(c.onecmd("help"), Flow::Continue);
        assert_eq!(c.exitstatus, 0);
        c.onecmd("frobnicate");
        assert_eq!(c.exitstatus, 1);
        c.exitstatus = 0;
        c.onecmd("status");
        assert_eq!(c.exitstatus, exit::STATUS_UNKNOWN);
        c.onecmd("start x");
        assert_eq!(c.exitstatus, exit::NOT_RUNNING);
        assert_eq!(c.onecmd("quit"), Flow::Quit);
        assert_eq!(c.onecmd("   "), Flow::Continue);
    }
}
