//! `pidvisorctl`: supervisorctl's command line, commands, output and exit
//! codes (spec §1.5, §4.7, §5), over Supervisor's XML-RPC.
//!
//! Layout: [`client`] speaks HTTP/XML-RPC to the daemon (unix socket or
//! TCP); [`commands`] is the interpreter (the session, the command table,
//! exit statuses) and the commands live by family: `process` (start,
//! stop, restart, signal), [`status`], `logs` (tail, maintail, clear),
//! `fg`, `groups` (avail, reread, update, add, remove), `daemon` (pid,
//! version, shutdown, reload, open) and [`help`] (with its texts);
//! [`shell`] is the interactive shell with completion. This module parses
//! the command line (Python's getopt, from [`crate::py::getopt`]), reads
//! the `[supervisorctl]` section (via [`crate::config::load_ctl`]) and runs
//! either one command or the shell. The terminal and signal calls it needs
//! are in [`crate::sys::term`].
//!
//! It may call the XML-RPC and HTTP codecs (`control::xmlrpc`,
//! `http::codec`), `config` (the `[supervisorctl]` section), `py` and
//! `sys`; it shares no state with the daemon and is called only by the
//! `pidvisorctl` binary.

pub mod client;
pub mod commands;
mod daemon;
mod fg;
mod groups;
pub mod help;
mod logs;
mod process;
pub mod shell;
pub mod status;

use crate::cli::session::Session;
use crate::config::{self, find_config, CtlSpec, Env};
use crate::py::py_repr;
use crate::sys;
use commands::Controller;
use std::ffi::{OsStr, OsString};
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// supervisorctl's options, parsed by [`CtlArgs::parse`] as Python's
/// `getopt.getopt` and Supervisor's `Options.realize` parse them, so that
/// errors read the same (`Error: ...` / `For help, use ARGV0 -h`, exit 2).
#[derive(Debug, Default)]
pub struct CtlArgs {
    /// `-c`/`--configuration`: configuration file path (searches if not
    /// given; an empty path reads no file).
    pub configuration: Option<PathBuf>,
    /// `-h`/`-?`/`--help`: print the usage message and exit.
    pub help: bool,
    /// `-i`/`--interactive`: confirm shutdown/reload and prompt for
    /// credentials on 401.
    pub interactive: bool,
    /// `-s`/`--serverurl`: URL on which the daemon listens.
    pub serverurl: Option<String>,
    /// `-u`/`--username`: username for HTTP Basic authentication.
    pub username: Option<String>,
    /// `-p`/`--password`: password for HTTP Basic authentication.
    pub password: Option<String>,
    /// `-r`/`--history_file`: keep a command history in FILE.
    pub history_file: Option<PathBuf>,
    /// `--session` (pidvisor's): the per-user daemon of `pidvisord
    /// --session`; config searched in `$XDG_CONFIG_HOME/pidvisor`, server
    /// `unix://$XDG_RUNTIME_DIR/pidvisor/pidvisord.sock` by default.
    pub session: bool,
    /// Action and its arguments; none starts the interactive shell.
    pub action: Vec<String>,
}

/// supervisorctl's getopt strings: `"h?c:is:u:p:r:"` and the long names
/// (a trailing `=` takes an argument).
const SHORT_OPTS: &str = "h?c:is:u:p:r:";
const LONG_OPTS: [&str; 7] = [
    "help",
    "configuration=",
    "interactive",
    "serverurl=",
    "username=",
    "password=",
    "history_file=",
];

/// supervisorctl's getopt, plus `--history-file`: the spelling of
/// supervisorctl's usage text, which its getopt knows only as
/// `--history_file`; and our `--session`. Both are taken only as written,
/// so `--history` stays a unique prefix, and `--s`/`--se` stay prefixes of
/// `--serverurl` as in supervisorctl.
fn getopt(args: &[String]) -> Result<crate::py::getopt::Parsed, String> {
    let spec = crate::py::getopt::Spec {
        short: SHORT_OPTS,
        long: &LONG_OPTS,
        exact: &["history-file=", "session"],
    };
    crate::py::getopt::getopt(args, spec).map_err(|e| e.msg)
}

impl CtlArgs {
    /// Parse the arguments after argv[0]. Options are handled in the order
    /// given, as `Options.realize` does: `-h` stops there (a bad option
    /// before it is still an error), `-s` values must be URLs, and an
    /// option given twice is a conflict. The error is the text after
    /// `Error: `.
    pub fn parse(args: &[String]) -> Result<CtlArgs, String> {
        let (opts, action) = getopt(args)?;
        let mut o = CtlArgs {
            action,
            ..CtlArgs::default()
        };
        for (opt, value) in opts {
            let conflict = || format!("conflicting command line option {}", py_repr(&opt));
            fn set<T>(
                slot: &mut Option<T>,
                v: T,
                conflict: impl Fn() -> String,
            ) -> Result<(), String> {
                if slot.is_some() {
                    return Err(conflict());
                }
                *slot = Some(v);
                Ok(())
            }
            match opt.as_str() {
                "-h" | "-?" | "--help" => {
                    o.help = true;
                    return Ok(o);
                }
                "-i" | "--interactive" => {
                    if o.interactive {
                        return Err(conflict());
                    }
                    o.interactive = true;
                }
                "--session" => {
                    if o.session {
                        return Err(conflict());
                    }
                    o.session = true;
                }
                "-c" | "--configuration" => set(&mut o.configuration, value.into(), conflict)?,
                "-s" | "--serverurl" => {
                    client::check_url(&value).map_err(|msg| {
                        format!("invalid value for {opt} {}: {msg}", py_repr(&value))
                    })?;
                    set(&mut o.serverurl, value, conflict)?
                }
                "-u" | "--username" => set(&mut o.username, value, conflict)?,
                "-p" | "--password" => set(&mut o.password, value, conflict)?,
                _ => set(&mut o.history_file, value.into(), conflict)?,
            }
        }
        Ok(o)
    }
}

/// Why the `[supervisorctl]` settings could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// What supervisorctl reports as a usage error (`Error: ...`, exit 2).
    Usage(String),
    /// An exception supervisorctl does not catch (configparser's syntax
    /// errors): Python prints a traceback ending in this line, exit 1.
    Uncaught(String),
}

/// The `[supervisorctl]` settings: from `path`, else from the first file
/// of the search path, else the defaults (supervisorctl runs without a
/// file). On error, Supervisor's text of the first problem (supervisorctl
/// stops at the first; a syntax error comes before a missing section, as
/// configparser raises it while reading).
///
/// Per-user mode (`session`): the search path is the user's
/// (`$XDG_CONFIG_HOME/pidvisor/pidvisord.conf`), the section may be
/// absent, and the server defaults to the session's socket.
pub fn load_ctl_spec(path: Option<&Path>, session: bool) -> Result<CtlSpec, SpecError> {
    let mut env = Env::from_process();
    let mut fallback = CtlSpec::default();
    if session {
        let s = Session::from_env(&env, crate::sys::cred::getuid()).map_err(SpecError::Usage)?;
        env.defaults = s.defaults();
        fallback.serverurl = s.serverurl();
    }
    // `-c ''` reads no file (Supervisor tests the name for truth).
    if path.is_some_and(|p| p.as_os_str().is_empty()) {
        return Ok(fallback);
    }
    let Some(path) = path
        .map(Path::to_path_buf)
        .or_else(|| find_config(session, &env))
    else {
        return Ok(fallback);
    };
    if let Ok(bytes) = std::fs::read(env.cwd.join(&path)) {
        if let Err(e) = std::str::from_utf8(&bytes) {
            return Err(SpecError::Usage(py_decode_error(&bytes, &e)));
        }
    }
    config::load_ctl(&path, &env).map_err(|errs| {
        let texts: Vec<String> = errs.iter().map(|e| e.supervisor_text()).collect();
        let syntax = texts.iter().find_map(|t| {
            if t.starts_with("File contains no section headers.") {
                Some(format!("configparser.MissingSectionHeaderError: {t}"))
            } else if t.starts_with("Source contains parsing errors") {
                Some(format!("configparser.ParsingError: {t}"))
            } else {
                None
            }
        });
        match syntax {
            Some(t) => SpecError::Uncaught(t),
            None => SpecError::Usage(texts.into_iter().next().unwrap_or_default()),
        }
    })
}

/// Python's `UnicodeDecodeError` text for UTF-8 (`'utf-8' codec can't
/// decode byte 0xff in position 0: invalid start byte`). Python decodes
/// the file as it reads it, 8 KiB at a time, so the position counts from
/// the start of that piece; a sequence cut off by the end of the file is
/// all that is left at the last decode (position 0).
fn py_decode_error(bytes: &[u8], e: &std::str::Utf8Error) -> String {
    let start = e.valid_up_to();
    let (at, len, reason) = match e.error_len() {
        None => (0, bytes.len() - start, "unexpected end of data"),
        Some(n) if (0xc2..=0xf4).contains(&bytes[start]) => {
            (start % 8192, n, "invalid continuation byte")
        }
        Some(n) => (start % 8192, n, "invalid start byte"),
    };
    let what = if len == 1 {
        format!("byte 0x{:02x} in position {at}", bytes[start])
    } else {
        format!("bytes in position {at}-{}", at + len - 1)
    };
    format!("'utf-8' codec can't decode {what}: {reason}")
}

fn usage_error(argv0: &str, msg: &str) -> i32 {
    eprintln!("Error: {msg}");
    eprintln!("For help, use {argv0} -h");
    2
}

/// Run pidvisorctl with these arguments (argv[0] first); returns the exit status.
pub fn run(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pidvisorctl".into());
    let rest: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let opts = match CtlArgs::parse(&rest) {
        Ok(o) => o,
        Err(msg) => return usage_error(&argv0, &msg),
    };
    if opts.help {
        print!("{}", help::usage(&argv0));
        let _ = io::stdout().flush();
        return 0;
    }
    let spec = match load_ctl_spec(opts.configuration.as_deref(), opts.session) {
        Ok(s) => s,
        Err(SpecError::Usage(msg)) => return usage_error(&argv0, &msg),
        Err(SpecError::Uncaught(msg)) => {
            eprintln!("{msg}");
            return 1;
        }
    };
    // Not checked here: an unusable URL fails each call (see Client).
    let serverurl = opts.serverurl.clone().unwrap_or(spec.serverurl.clone());
    let username = opts.username.clone().or(spec.username.clone());
    let password = opts.password.clone().or(spec.password.clone());
    let history = opts.history_file.clone().or(spec.history_file.clone());
    let mut ctl = Controller::new(serverurl, username, password, Box::new(io::stdout()));
    ctl.color = want_color(
        io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    );
    if !opts.action.is_empty() {
        ctl.interactive = opts.interactive;
        ctl.onecmd(&opts.action.join(" "));
        return if ctl.broken_pipe { 0 } else { ctl.exitstatus };
    }
    ctl.interactive = true;
    shell::run(&mut ctl, &format!("{}> ", spec.prompt), history.as_deref());
    0
}

/// Colour `status`'s state words (pidvisor's addition; supervisorctl never
/// colours): only when stdout is a terminal, `NO_COLOR` is unset or empty
/// (<https://no-color.org>) and `TERM` is not `dumb`.
fn want_color(stdout_tty: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    stdout_tty && no_color.map_or(true, OsStr::is_empty) && term != Some(OsStr::new("dumb"))
}

/// On the first Ctrl-C, print `message` and exit with `status` (used while
/// following a log stream, where supervisorctl catches KeyboardInterrupt).
/// SIGINT is blocked in this thread (and so in threads it spawns later) and
/// taken synchronously by a waiter thread.
pub fn install_sigint_exit(message: &'static str, status: i32) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(interrupt) = sys::term::block_interrupt() else {
            return;
        };
        std::thread::spawn(move || {
            if interrupt.wait().is_ok() {
                let mut o = io::stdout();
                let _ = o.write_all(message.as_bytes()).and_then(|_| o.flush());
                std::process::exit(status);
            }
        });
    });
}

/// Python's `getpass.getpass(prompt)` as supervisorctl uses it: on the
/// controlling terminal (`/dev/tty`) when there is one, prompt and answer
/// there with echo off; otherwise Python warns on stderr that the input may
/// be echoed and reads stdin with the prompt on stderr. End of input is
/// `EOFError` with no message, as in getpass.
pub fn getpass(prompt: &str) -> Result<String, client::CallError> {
    if let Ok(tty) = sys::term::open_tty() {
        if let Ok(quiet) = sys::term::echo_off(&tty) {
            let mut term = &tty;
            let _ = term.write_all(prompt.as_bytes()).and_then(|_| term.flush());
            let mut line = String::new();
            let n = io::BufReader::new(term).read_line(&mut line);
            drop(quiet);
            return typed_password(n, line, &mut term);
        }
    }
    // No terminal: getpass's fallback_getpass (its GetPassWarning, less
    // the Python file and line).
    let mut err = io::stderr();
    let _ = write!(
        err,
        "GetPassWarning: Can not control echo on the terminal.\n\
         Warning: Password input may be echoed.\n{prompt}"
    );
    let _ = err.flush();
    let mut line = String::new();
    let n = io::stdin().lock().read_line(&mut line);
    typed_password(n, line, &mut err)
}

/// What getpass makes of its read: `EOFError` at end of input, else the
/// line less its newline, after a newline on `echo` (where the prompt
/// went; the one typed was not echoed).
fn typed_password(
    n: io::Result<usize>,
    mut line: String,
    echo: &mut dyn Write,
) -> Result<String, client::CallError> {
    match n {
        Ok(0) => Err(client::CallError::eof("")),
        Ok(_) => {
            let _ = echo.write_all(b"\n");
            if line.ends_with('\n') {
                line.pop();
            }
            Ok(line)
        }
        Err(e) => Err(client::CallError::Io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CtlArgs, String> {
        let args: Vec<String> = args[1..].iter().map(|s| s.to_string()).collect();
        CtlArgs::parse(&args)
    }

    #[test]
    fn options() {
        let o = parse(&["x", "-c", "f.conf", "-s", "unix:///s", "tail", "-f", "foo"]).unwrap();
        assert_eq!(o.configuration, Some(PathBuf::from("f.conf")));
        assert_eq!(o.serverurl.as_deref(), Some("unix:///s"));
        assert_eq!(o.action, ["tail", "-f", "foo"]);
        assert!(parse(&["x", "-?"]).unwrap().help);
        assert!(parse(&["x", "--help"]).unwrap().help);
        assert!(parse(&["x", "--he"]).unwrap().help);
        let o = parse(&[
            "x",
            "--serverurl=http://h:1",
            "-iuuser",
            "-p",
            "pw",
            "status",
            "-i",
        ])
        .unwrap();
        assert_eq!(o.username.as_deref(), Some("user"));
        assert!(o.interactive);
        assert_eq!(o.action, ["status", "-i"]);
        assert_eq!(
            parse(&["x", "--history", "h"]).unwrap().history_file,
            Some(PathBuf::from("h"))
        );
        assert_eq!(parse(&["x", "--", "-i"]).unwrap().action, ["-i"]);
        // Our addition: the spelling of supervisorctl's usage text.
        assert_eq!(
            parse(&["x", "--history-file=h"]).unwrap().history_file,
            Some(PathBuf::from("h"))
        );
        // Our --session, as spelled only: supervisorctl's prefixes keep
        // their meaning (`--s`/`--se` are --serverurl, `--user` --username).
        let o = parse(&["x", "--session", "status"]).unwrap();
        assert!(o.session);
        assert_eq!(o.action, ["status"]);
        let o = parse(&["x", "--se", "unix:///s", "--user", "nobody"]).unwrap();
        assert_eq!(o.serverurl.as_deref(), Some("unix:///s"));
        assert_eq!(o.username.as_deref(), Some("nobody"));
        assert!(!o.session);
    }

    #[test]
    fn decode_errors() {
        let msg = |b: &[u8]| py_decode_error(b, &std::str::from_utf8(b).unwrap_err());
        assert_eq!(
            msg(b"ab\xe4\xb8x"),
            "'utf-8' codec can't decode bytes in position 2-3: invalid continuation byte"
        );
        assert_eq!(
            msg(b"a\xe4x"),
            "'utf-8' codec can't decode byte 0xe4 in position 1: invalid continuation byte"
        );
        assert_eq!(
            msg(b"a\xe4\xb8"),
            "'utf-8' codec can't decode bytes in position 0-1: unexpected end of data"
        );
        assert_eq!(
            msg(b"\x80"),
            "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte"
        );
    }

    #[test]
    fn colour_only_on_a_terminal() {
        let os = |s| Some(OsStr::new(s));
        assert!(want_color(true, None, os("xterm")));
        assert!(want_color(true, None, None));
        assert!(want_color(true, os(""), os("xterm")));
        assert!(!want_color(false, None, os("xterm")));
        assert!(!want_color(true, os("1"), os("xterm")));
        assert!(!want_color(true, None, os("dumb")));
    }

    #[test]
    fn getopt_errors() {
        for (args, msg) in [
            (&["x", "-x"][..], "option -x not recognized"),
            (&["x", "-s"], "option -s requires argument"),
            (&["x", "-r"], "option -r requires argument"),
            (
                &["x", "--serverurl"],
                "option --serverurl requires argument",
            ),
            (
                &["x", "--history-fil=f"],
                "option --history-fil not recognized",
            ),
            (
                &["x", "--history-file"],
                "option --history-file requires argument",
            ),
            (
                &["x", "--help=1"],
                "option --help must not have an argument",
            ),
            (&["x", "--h"], "option --h not a unique prefix"),
            (
                &["x", "-s", "x"],
                "invalid value for -s 'x': value 'x' is not a URL",
            ),
            (
                &["x", "--serverurl=x"],
                "invalid value for --serverurl 'x': value 'x' is not a URL",
            ),
            (
                &["x", "-s=unix:///s"],
                "invalid value for -s '=unix:///s': value '=unix:///s' is not a URL",
            ),
            (&["x", "-i", "-i"], "conflicting command line option '-i'"),
            (
                &["x", "--session", "--session"],
                "conflicting command line option '--session'",
            ),
            (&["x", "--sess"], "option --sess not recognized"),
            (
                &["x", "--session=1"],
                "option --session must not have an argument",
            ),
            (
                &["x", "-u", "a", "--user", "b"],
                "conflicting command line option '--username'",
            ),
            (
                &["x", "-s", "x", "-h"],
                "invalid value for -s 'x': value 'x' is not a URL",
            ),
        ] {
            assert_eq!(parse(args).unwrap_err(), msg, "{args:?}");
        }
        assert!(parse(&["x", "-h", "-s", "x"]).unwrap().help);
        // Accepted here, fails at the first call as in supervisorctl.
        assert!(parse(&["x", "-s", "https://h", "status"]).is_ok());
    }

    #[test]
    fn config_section() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.conf");
        std::fs::write(
            &p,
            "[supervisord]\nlogfile=x\n[supervisorctl]\nserverurl = unix://%(here)s/../s.sock ; c\n\
             username=u\npassword = p#w\nprompt=mine\n",
        )
        .unwrap();
        let s = load_ctl_spec(Some(&p), false).unwrap();
        let parent = dir.path().parent().unwrap().display().to_string();
        assert_eq!(s.serverurl, format!("unix://{parent}/s.sock"));
        assert_eq!(s.username.as_deref(), Some("u"));
        assert_eq!(s.password.as_deref(), Some("p#w"));
        assert_eq!(s.prompt, "mine");
        std::fs::write(&p, "[supervisord]\n").unwrap();
        let usage = |p: &Path| match load_ctl_spec(Some(p), false) {
            Err(SpecError::Usage(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            usage(&p),
            ".ini file does not include supervisorctl section"
        );
        assert!(usage(Path::new("/nonexistent.conf")).starts_with("could not find config file"));
        std::fs::write(&p, "[supervisorctl\n").unwrap();
        assert_eq!(
            load_ctl_spec(Some(&p), false),
            Err(SpecError::Uncaught(format!(
                "configparser.MissingSectionHeaderError: File contains no section headers.\n\
                 file: '{}', line: 1\n'[supervisorctl\\n'",
                p.display()
            )))
        );
        std::fs::write(&p, b"\xff\xfe[supervisorctl]\n").unwrap();
        assert_eq!(
            usage(&p),
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
        );
    }
}
