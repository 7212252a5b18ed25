//! `pidvisorctl`: supervisorctl's command line, commands, output and exit
//! codes (spec §1.5, §4.7, §5), over Supervisor's XML-RPC.
//!
//! Layout: [`client`] speaks HTTP/XML-RPC to the daemon (unix socket or
//! TCP), [`commands`] is the interpreter (one method per action), [`help`]
//! holds the help texts, [`shell`] is the interactive shell with
//! completion, and this module parses the command line, reads the
//! `[supervisorctl]` section (via [`crate::config::load_ctl`]) and runs
//! either one command or the shell.

pub mod client;
pub mod commands;
pub mod help;
pub mod shell;

use crate::config::{self, find_config, CtlSpec, Env};
use clap::Parser;
use commands::Controller;
use std::ffi::OsString;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// supervisorctl's options. Parsing errors are reported the way Supervisor
/// reports them (`Error: ...` / `For help, use ARGV0 -h`, exit 2).
#[derive(Debug, Parser, Default)]
#[command(
    name = "pidvisorctl",
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true
)]
pub struct CtlArgs {
    /// Configuration file path (searches if not given).
    #[arg(short = 'c', long = "configuration", value_name = "FILENAME")]
    pub configuration: Option<PathBuf>,
    /// Print the usage message and exit.
    #[arg(short = 'h', short_alias = '?', long = "help")]
    pub help: bool,
    /// Confirm shutdown/reload and prompt for credentials on 401.
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// URL on which the daemon listens (`unix:///path` or `http://host:port`).
    #[arg(short = 's', long = "serverurl", value_name = "URL")]
    pub serverurl: Option<String>,
    /// Username for HTTP Basic authentication.
    #[arg(short = 'u', long = "username")]
    pub username: Option<String>,
    /// Password for HTTP Basic authentication.
    #[arg(short = 'p', long = "password")]
    pub password: Option<String>,
    /// Keep a command history in FILE (interactive shell).
    #[arg(
        short = 'r',
        long = "history_file",
        alias = "history-file",
        value_name = "FILE"
    )]
    pub history_file: Option<PathBuf>,
    /// Action and its arguments; none starts the interactive shell.
    #[arg(trailing_var_arg = true, allow_hyphen_values = false)]
    pub action: Vec<String>,
}

/// The `[supervisorctl]` settings: from `path`, else from the first file
/// of the search path, else the defaults (supervisorctl runs without a
/// file). On error, Supervisor's text of the first problem (supervisorctl
/// stops at the first).
pub fn load_ctl_spec(path: Option<&Path>) -> Result<CtlSpec, String> {
    let env = Env::from_process();
    let Some(path) = path
        .map(Path::to_path_buf)
        .or_else(|| find_config(false, &env))
    else {
        return Ok(CtlSpec::default());
    };
    config::load_ctl(&path, &env).map_err(|errs| {
        errs.iter()
            .next()
            .map(|e| e.supervisor_text())
            .unwrap_or_default()
    })
}

fn usage_error(argv0: &str, msg: &str) -> i32 {
    eprintln!("Error: {msg}");
    eprintln!("For help, use {argv0} -h");
    2
}

/// Map a clap error to getopt's wording.
fn getopt_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => s.split_whitespace().next().unwrap_or("").to_string(),
        _ => String::new(),
    };
    let arg = arg.split('=').next().unwrap_or("").to_string();
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::NoEquals => {
            format!("option {arg} requires argument")
        }
        ErrorKind::ArgumentConflict => format!("option {arg} must not have an argument"),
        _ if !arg.is_empty() => format!("option {arg} not recognized"),
        _ => e.to_string().lines().next().unwrap_or("").to_string(),
    }
}

/// Run pidvisorctl with these arguments (argv[0] first); returns the exit status.
pub fn run(args: Vec<OsString>) -> i32 {
    let argv0 = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pidvisorctl".into());
    let opts = match CtlArgs::try_parse_from(&args) {
        Ok(o) => o,
        Err(e) => return usage_error(&argv0, &getopt_message(&e)),
    };
    if opts.help {
        print!("{}", help::USAGE.replace("%s", &argv0));
        let _ = io::stdout().flush();
        return 0;
    }
    let spec = match load_ctl_spec(opts.configuration.as_deref()) {
        Ok(s) => s,
        Err(msg) => return usage_error(&argv0, &msg),
    };
    let serverurl = opts.serverurl.clone().unwrap_or(spec.serverurl.clone());
    if serverurl != spec.serverurl && client::ServerUrl::parse(&serverurl).is_none() {
        return usage_error(
            &argv0,
            &format!(
                "invalid value for -s {}: value {} is not a URL",
                serverurl,
                xq(&serverurl)
            ),
        );
    }
    let username = opts.username.clone().or(spec.username.clone());
    let password = opts.password.clone().or(spec.password.clone());
    let history = opts.history_file.clone().or(spec.history_file.clone());
    let stdout_tty = io::stdout().is_terminal();
    let mut ctl = Controller::new(serverurl, username, password, Box::new(io::stdout()));
    ctl.color = stdout_tty && std::env::var_os("NO_COLOR").is_none();
    ignore_sigpipe_as_error();
    if !opts.action.is_empty() {
        ctl.interactive = opts.interactive;
        ctl.onecmd(&opts.action.join(" "));
        return if ctl.broken_pipe { 0 } else { ctl.exitstatus };
    }
    ctl.interactive = true;
    shell::run(&mut ctl, &format!("{}> ", spec.prompt), history.as_deref());
    0
}

fn xq(s: &str) -> String {
    crate::control::xmlrpc::py_repr_str(s)
}

/// Rust already ignores SIGPIPE, so a closed stdout shows up as `EPIPE`
/// on write, which [`Controller::output`] treats as success.
fn ignore_sigpipe_as_error() {}

/// On the first Ctrl-C, print `message` and exit with `status` (used while
/// following a log stream, where supervisorctl catches KeyboardInterrupt).
/// SIGINT is blocked in this thread (and so in threads it spawns later) and
/// taken synchronously by a waiter thread.
pub fn install_sigint_exit(message: &'static str, status: i32) {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut set = SigSet::empty();
        set.add(Signal::SIGINT);
        if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).is_err() {
            return;
        }
        std::thread::spawn(move || {
            if set.wait().is_ok() {
                let mut o = io::stdout();
                let _ = o.write_all(message.as_bytes()).and_then(|_| o.flush());
                std::process::exit(status);
            }
        });
    });
}

/// Read a line from stdin without echo when it is a terminal.
pub fn read_password() -> Option<String> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let stdin = io::stdin();
    let saved = if stdin.is_terminal() {
        tcgetattr(&stdin).ok()
    } else {
        None
    };
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &quiet);
    }
    let mut line = String::new();
    let n = stdin.lock().read_line(&mut line);
    if let Some(t) = &saved {
        let _ = tcsetattr(&stdin, OptionalActions::Now, t);
        println!();
    }
    match n {
        Ok(n) if n > 0 => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<CtlArgs, String> {
        CtlArgs::try_parse_from(args).map_err(|e| getopt_message(&e))
    }

    #[test]
    fn options() {
        let o = parse(&["x", "-c", "f.conf", "-s", "unix:///s", "tail", "-f", "foo"]).unwrap();
        assert_eq!(o.configuration, Some(PathBuf::from("f.conf")));
        assert_eq!(o.serverurl.as_deref(), Some("unix:///s"));
        assert_eq!(o.action, ["tail", "-f", "foo"]);
        assert!(parse(&["x", "-?"]).unwrap().help);
        assert!(parse(&["x", "--help"]).unwrap().help);
        let o = parse(&[
            "x",
            "--serverurl=http://h:1",
            "-i",
            "-uuser",
            "-p",
            "pw",
            "status",
        ])
        .unwrap();
        assert_eq!(o.username.as_deref(), Some("user"));
        assert!(o.interactive);
        assert_eq!(
            parse(&["x", "--history-file", "h"]).unwrap().history_file,
            Some(PathBuf::from("h"))
        );
        assert_eq!(parse(&["x", "-x"]).unwrap_err(), "option -x not recognized");
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
        let s = load_ctl_spec(Some(&p)).unwrap();
        let parent = dir.path().parent().unwrap().display().to_string();
        assert_eq!(s.serverurl, format!("unix://{parent}/s.sock"));
        assert_eq!(s.username.as_deref(), Some("u"));
        assert_eq!(s.password.as_deref(), Some("p#w"));
        assert_eq!(s.prompt, "mine");
        std::fs::write(&p, "[supervisord]\n").unwrap();
        assert_eq!(
            load_ctl_spec(Some(&p)).unwrap_err(),
            ".ini file does not include supervisorctl section"
        );
        assert!(load_ctl_spec(Some(Path::new("/nonexistent.conf")))
            .unwrap_err()
            .starts_with("could not find config file"));
    }
}
