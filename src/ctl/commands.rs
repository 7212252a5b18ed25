//! The supervisorctl command interpreter: reads a command line, runs the
//! command, and keeps the exit status as supervisorctl 4.3 does (spec §5).
//!
//! [`Controller`] is the session every command works through: the client,
//! the output, the exit status, and the checks most commands share
//! (`upcheck`, a missing name, a confirmation). The commands themselves
//! live by family beside this file, as functions of a `&mut Controller`:
//! `process` (start, stop, restart, signal), `status`, `logs` (tail,
//! maintail, clear), `fg`, `groups` (avail, reread, update, add, remove),
//! `daemon` (pid, version, shutdown, reload, open) and `help`. They reach
//! the session only through its methods and its public fields. Everything
//! goes to stdout, like supervisorctl; only the
//! `/logtail` HTTP errors of `tail -f` and `fg` go to stderr.
//!
//! Fault codes and process states come from the core
//! ([`FaultCode`], [`ProcessState`]); the wire carries them as numbers.

use super::client::{CallError, Client, ServerUrl};
use super::{daemon, fg, groups, help, logs, process, status};
use crate::api::{FaultCode, ProcessState};
use crate::control::xmlrpc::Value;
use crate::py::pystr::{py_str, Decoder};
use std::io::{self, BufRead, Write};

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

pub(super) type CmdResult = Result<(), CallError>;

/// A command: `do_<name>(arg)` in supervisorctl.
type Command = fn(&mut Controller, &str) -> CmdResult;

/// supervisorctl's commands but `EOF`, `quit` and `exit`, which
/// [`Controller::onecmd`] answers itself.
const COMMANDS: [(&str, Command); 20] = [
    ("help", help::help),
    ("add", groups::add),
    ("avail", groups::avail),
    ("clear", logs::clear),
    ("fg", fg::fg),
    ("maintail", logs::maintail),
    ("open", daemon::open),
    ("pid", daemon::pid),
    ("reload", daemon::reload),
    ("remove", groups::remove),
    ("reread", groups::reread),
    ("restart", process::restart),
    ("shutdown", daemon::shutdown),
    ("signal", process::signal),
    ("start", process::start),
    ("status", status::status),
    ("stop", process::stop),
    ("tail", logs::tail),
    ("update", groups::update),
    ("version", daemon::version),
];

/// The fault code a reply carries, when it is one of Supervisor's.
pub(super) fn fault_code(code: i64) -> Option<FaultCode> {
    FaultCode::ALL
        .into_iter()
        .find(|c| i64::from(c.code()) == code)
}

/// The state of a `getProcessInfo` struct (its `state` number).
pub(super) fn state_of(info: &Value) -> Option<ProcessState> {
    let code = info.int_field("state");
    ProcessState::ALL
        .into_iter()
        .find(|s| i64::from(s.code()) == code)
}

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
        let mut text = Vec::with_capacity(line.len() + 1);
        text.extend_from_slice(line.as_bytes());
        text.push(b'\n');
        self.write_raw(&text);
    }

    /// Write `data` as it is; false once stdout is gone.
    pub(super) fn write_raw(&mut self, data: &[u8]) -> bool {
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

    /// Call `method` (any namespace).
    pub(super) fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.client.call(method, params)
    }

    /// Call `supervisor.<method>`.
    pub(super) fn sv(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        self.call(&format!("supervisor.{method}"), params)
    }

    /// A second connection to the same server with the same credentials
    /// (for log followers, which hold theirs open).
    pub(super) fn another_client(&self) -> Client {
        Client::new(
            self.client.url.clone(),
            self.client.username.clone(),
            self.client.password.clone(),
        )
    }

    /// supervisorctl's `set_exitstatus_from_xmlrpc_fault`: success and the
    /// `ignored` fault leave the status alone, a process that is not
    /// running makes it 7, anything else 1.
    pub(super) fn set_exitstatus_from_fault(&mut self, code: i64, ignored: Option<FaultCode>) {
        use FaultCode::*;
        let code = fault_code(code);
        if code == Some(Success) || (ignored.is_some() && code == ignored) {
        } else if matches!(code, Some(SpawnError | AbnormalTermination | NotRunning)) {
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
        let (cmd, arg) = (&line[..end], line[end..].trim());
        // `!x` ends up here: `!` starts no name, so the command is empty.
        if matches!(cmd, "EOF" | "quit" | "exit") {
            self.output("");
            return Flow::Quit;
        }
        let Some(&(_, command)) = COMMANDS.iter().find(|(name, _)| *name == cmd) else {
            self.output(&format!("*** Unknown syntax: {line}"));
            self.exitstatus = exit::GENERIC;
            return Flow::Continue;
        };
        let mut result = command(self, arg);
        if let Err(CallError::Protocol { status: 401, .. }) = &result {
            self.output("Server requires authentication");
            if self.interactive {
                match self.ask_credentials() {
                    Ok(()) => return self.onecmd(&line),
                    Err(e) => result = Err(e),
                }
            } else {
                self.exitstatus = exit::GENERIC;
                result = command(self, arg);
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

    /// supervisorctl's `raw_input('Username:')` (stdout) and
    /// `getpass.getpass(prompt='Password:')` (the terminal, or stderr),
    /// kept for the next calls; end of input is its EOFError.
    fn ask_credentials(&mut self) -> CmdResult {
        let _ = self.write_raw(b"Username:");
        let username = read_input_line()?;
        let password = super::getpass("Password:")?;
        self.output("");
        self.client.username = Some(username);
        self.client.password = Some(password);
        Ok(())
    }

    /// Print the help text of `topic`.
    pub(super) fn help_for(&mut self, topic: &str) {
        if let Some(t) = help::topic(topic) {
            self.output(t);
        }
    }

    /// `getVersion` must answer `3.0` (spec §5.1). `Ok(false)`: a message
    /// was printed and the command must stop.
    pub fn upcheck(&mut self) -> Result<bool, CallError> {
        let e = match self.sv("getVersion", &[]) {
            Ok(v) if v.as_str() == Some("3.0") => return Ok(true),
            Ok(v) => {
                let api = py_str(&v, Decoder::XmlrpcClient);
                self.output(&format!(
                    "Sorry, this version of supervisorctl expects to talk to a server with \
                     API version 3.0, but the remote version is {api}."
                ));
                self.exitstatus = exit::NOT_INSTALLED;
                return Ok(false);
            }
            Err(e) => e,
        };
        match (&e, e.errno_name()) {
            (CallError::Fault(f), _) if fault_code(f.code) == Some(FaultCode::UnknownMethod) => {
                self.output(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace \
                     commands that supervisorctl uses to control it.  Please check that the \
                     [rpcinterface:supervisor] section is enabled in the configuration file \
                     (see sample.conf).",
                );
                self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            (_, Some("ECONNREFUSED")) => {
                self.output(&format!("{} refused connection", self.serverurl));
                self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                Ok(false)
            }
            (_, Some("ENOENT")) => {
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
        }
    }

    /// A command that takes no arguments got some: its error and help.
    pub(super) fn no_args(&mut self, cmd: &str, arg: &str) -> bool {
        if arg.is_empty() {
            return true;
        }
        self.output(&format!("Error: {cmd} accepts no arguments"));
        self.exitstatus = exit::GENERIC;
        self.help_for(cmd);
        false
    }

    /// The command's names, or (none given) its error, help and `status`.
    pub(super) fn names_or_usage<'a>(
        &mut self,
        cmd: &str,
        arg: &'a str,
        status: i32,
    ) -> Vec<&'a str> {
        let names: Vec<&str> = arg.split_whitespace().collect();
        if names.is_empty() {
            self.output(&format!("Error: {cmd} requires a process name"));
            self.exitstatus = status;
            self.help_for(cmd);
        }
        names
    }

    /// supervisorctl's `raw_input(question)` check; end of input is
    /// Python's `EOFError`, which the command reports as its error.
    pub(super) fn confirm(&mut self, question: &str) -> Result<bool, CallError> {
        if !self.interactive {
            return Ok(true);
        }
        let _ = self.write_raw(question.as_bytes());
        let answer = read_input_line()?;
        Ok(answer.trim_start().to_lowercase().starts_with('y'))
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn codes_from_the_wire() {
        assert_eq!(fault_code(10), Some(FaultCode::BadName));
        assert_eq!(fault_code(92), Some(FaultCode::CantReread));
        assert_eq!(fault_code(12345), None);
        let info = Value::record([("state", Value::Int(200))]);
        assert_eq!(state_of(&info), Some(ProcessState::Fatal));
        let info = Value::record([("state", Value::Int(7))]);
        assert_eq!(state_of(&info), None);
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
