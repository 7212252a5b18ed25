//! Command lines: clap derive structs for `pidvisord`, Supervisor's
//! usage-error format (`Error: ...` / `For help, use ... -h`, exit 2), and
//! the per-user mode's paths ([`session`]) both programs share.
//!
//! It may call `crate::config` (the `--session` defaults) and the file
//! system (the runtime and state directories of `--session`); `daemon`
//! and `pidvisorctl`'s option parsing call it.

pub mod session;

use clap::Parser;
use std::path::PathBuf;

/// pidvisord: a supervisord-compatible process supervisor.
///
/// Options mirror supervisord's; values given here override the
/// `[supervisord]` section of the config file.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "pidvisord",
    disable_version_flag = true,
    disable_help_flag = true
)]
pub struct DaemonArgs {
    /// Configuration file path (searched for if not given).
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    pub configuration: Option<PathBuf>,
    /// Run in the foreground.
    #[arg(short = 'n', long)]
    pub nodaemon: bool,
    /// With -n: do not copy the main log to stdout.
    #[arg(short = 's', long)]
    pub silent: bool,
    /// Print this usage message and exit.
    #[arg(short = 'h', long = "help", visible_short_alias = '?')]
    pub help: bool,
    /// Print the version and exit.
    #[arg(short = 'v', long)]
    pub version: bool,
    /// Run the daemon as this user (name or uid): supervisord's `-u`,
    /// `--user USER` and `--user=USER`.
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Per-user mode: XDG paths, a control socket in the runtime
    /// directory, the session bus (pidvisor's counterpart of
    /// `systemctl --user`; the same flag in pidvisorctl).
    #[arg(long = "session")]
    pub session: bool,
    /// Daemon umask (octal).
    #[arg(short = 'm', long, value_name = "UMASK")]
    pub umask: Option<String>,
    /// Directory to chdir to when daemonized.
    #[arg(short = 'd', long, value_name = "DIR")]
    pub directory: Option<String>,
    /// Main log file path.
    #[arg(short = 'l', long, value_name = "FILE")]
    pub logfile: Option<String>,
    /// Rotate the main log at this size (e.g. 50MB).
    #[arg(short = 'y', long = "logfile_maxbytes", value_name = "BYTES")]
    pub logfile_maxbytes: Option<String>,
    /// Number of main log backups to keep.
    #[arg(short = 'z', long = "logfile_backups", value_name = "NUM")]
    pub logfile_backups: Option<String>,
    /// Main log level (critical, error, warn, info, debug, trace, blather).
    #[arg(short = 'e', long, value_name = "LEVEL")]
    pub loglevel: Option<String>,
    /// Pid file path.
    #[arg(short = 'j', long, value_name = "FILE")]
    pub pidfile: Option<String>,
    /// Identifier reported over RPC.
    #[arg(short = 'i', long, value_name = "STR")]
    pub identifier: Option<String>,
    /// Directory for AUTO child logs.
    #[arg(short = 'q', long, value_name = "DIR")]
    pub childlogdir: Option<String>,
    /// Keep old AUTO child logs at start.
    #[arg(short = 'k', long)]
    pub nocleanup: bool,
    /// Minimum number of file descriptors (raises RLIMIT_NOFILE).
    #[arg(short = 'a', long, value_name = "NUM")]
    pub minfds: Option<String>,
    /// Strip ANSI escape sequences from child logs.
    #[arg(short = 't', long = "strip_ansi")]
    pub strip_ansi: bool,
    /// Minimum number of processes (raises RLIMIT_NPROC).
    #[arg(long, value_name = "NUM")]
    pub minprocs: Option<String>,
    /// Accepted for compatibility; profiling Python is not a thing here.
    #[arg(long = "profile_options", value_name = "LIST", hide = true)]
    pub profile_options: Option<String>,
    /// Load the configuration, print every error, and exit 0 (valid) or 1.
    #[arg(long = "check-config")]
    pub check_config: bool,
    /// Print a commented example configuration and exit.
    #[arg(long = "example-config")]
    pub example_config: bool,
    /// Positional arguments are refused, as supervisord does.
    #[arg(hide = true)]
    pub positional: Vec<String>,
}

impl DaemonArgs {
    /// `-u NAME` / `--user NAME`: Supervisor's `user=` override.
    pub fn run_as(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

/// What a usage error looks like on stderr (Supervisor's two lines).
pub fn usage_error(argv0: &str, message: &str) -> String {
    format!("Error: {message}\nFor help, use {argv0} -h\n")
}

/// The `-h` text, with the program name substituted as supervisord does.
pub fn daemon_help(argv0: &str) -> String {
    DAEMON_HELP.replace("{argv0}", argv0)
}

/// supervisord's usage text (its continuation lines keep their indent),
/// then pidvisor's own options.
const DAEMON_HELP: &str = r#"pidvisord -- run a set of applications as daemons.

Usage: {argv0} [options]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)
-h/--help -- print this usage message and exit
-v/--version -- print supervisord version number and exit
-u/--user USER -- run supervisord as this user (or numeric uid)
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)
-d/--directory DIRECTORY -- directory to chdir to when daemonized
-l/--logfile FILENAME -- use FILENAME as logfile path
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME
-i/--identifier STR -- identifier used for this instance of supervisord
-q/--childlogdir DIRECTORY -- the log directory for child process logs
-k/--nocleanup --  prevent the process from performing cleanup (removal of
                   old automatic child log files) at startup.
-a/--minfds NUM -- the minimum number of file descriptors for start success
-t/--strip_ansi -- strip ansi escape codes from process output
--minprocs NUM  -- the minimum number of processes available for start success
--profile_options OPTIONS -- run supervisord under profiler and output
                             results based on OPTIONS, which  is a comma-sep'd
                             list of 'cumulative', 'calls', and/or 'callers',
                             e.g. 'cumulative,callers')

pidvisor additions:
--session -- per-user mode: config in $XDG_CONFIG_HOME/pidvisor, control
             socket in $XDG_RUNTIME_DIR/pidvisor, logs in
             $XDG_STATE_HOME/pidvisor, D-Bus on the session bus
--check-config -- load the configuration, print every error, exit 0 or 1
--example-config -- print a commented example configuration and exit
"#;

/// The commented example printed by `pidvisord --example-config`.
pub const EXAMPLE_CONFIG: &str = include_str!("example.conf");

/// Put the command line's values over the config file's (Supervisor's
/// precedence). Errors read `invalid value for -z 'abc': <why>`.
pub fn apply_overrides(args: &DaemonArgs, cfg: &mut crate::config::Config) -> Result<(), String> {
    use crate::config::{values as v, MainLog};
    use crate::py::py_repr;
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let home = std::env::var("HOME").ok();
    let bad = |flag: &str, value: &str, why: String| {
        format!("invalid value for {flag} {}: {why}", py_repr(value))
    };
    let s = &mut cfg.supervisord;
    if args.nodaemon {
        s.nodaemon = true;
    }
    if args.silent {
        s.silent = true;
    }
    if args.nocleanup {
        s.nocleanup = true;
    }
    if args.strip_ansi {
        s.strip_ansi = true;
    }
    if let Some(u) = args.run_as() {
        s.user = Some(v::parse_user(u).map_err(|e| bad("-u", u, e))?);
    }
    if let Some(x) = &args.umask {
        s.umask = v::parse_octal(x).map_err(|e| bad("-m", x, e))?;
    }
    if let Some(x) = &args.directory {
        let d = v::existing_directory(x, home.as_deref(), &cwd).map_err(|e| bad("-d", x, e))?;
        s.directory = Some(d.into());
    }
    if let Some(x) = &args.logfile {
        s.logfile = if x.eq_ignore_ascii_case("syslog") {
            MainLog::Syslog
        } else {
            let p = v::existing_dirpath(x, home.as_deref(), &cwd).map_err(|e| bad("-l", x, e))?;
            MainLog::File(v::normalize_path(&p, &cwd))
        };
    }
    if let Some(x) = &args.logfile_maxbytes {
        s.logfile_maxbytes = v::parse_bytes(x).map_err(|e| bad("-y", x, e))?;
    }
    if let Some(x) = &args.logfile_backups {
        s.logfile_backups = v::parse_int(x).map_err(|e| bad("-z", x, e))?;
    }
    if let Some(x) = &args.loglevel {
        s.loglevel = v::parse_loglevel(x).map_err(|e| bad("-e", x, e))?;
    }
    if let Some(x) = &args.pidfile {
        let p = v::existing_dirpath(x, home.as_deref(), &cwd).map_err(|e| bad("-j", x, e))?;
        s.pidfile = v::normalize_path(&p, &cwd);
    }
    if let Some(x) = &args.identifier {
        s.identifier = x.clone();
    }
    if let Some(x) = &args.childlogdir {
        let d = v::existing_directory(x, home.as_deref(), &cwd).map_err(|e| bad("-q", x, e))?;
        s.childlogdir = d.into();
    }
    if let Some(x) = &args.minfds {
        s.minfds = v::parse_int(x).map_err(|e| bad("-a", x, e))?;
    }
    if let Some(x) = &args.minprocs {
        s.minprocs = v::parse_int(x).map_err(|e| bad("--minprocs", x, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> DaemonArgs {
        DaemonArgs::try_parse_from(std::iter::once("pidvisord").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn supervisord_short_and_long_options() {
        let a = parse(&[
            "-c",
            "x.conf",
            "-n",
            "-u",
            "nobody",
            "-y",
            "1MB",
            "--minprocs",
            "5",
        ]);
        assert_eq!(a.configuration, Some(PathBuf::from("x.conf")));
        assert!(a.nodaemon);
        assert_eq!(a.run_as(), Some("nobody"));
        assert!(!a.session);
        assert_eq!(a.logfile_maxbytes.as_deref(), Some("1MB"));
        assert_eq!(a.minprocs.as_deref(), Some("5"));
        let a = parse(&["--configuration=y.conf", "--logfile_backups=3", "-?"]);
        assert_eq!(a.configuration, Some(PathBuf::from("y.conf")));
        assert_eq!(a.logfile_backups.as_deref(), Some("3"));
        assert!(a.help);
    }

    #[test]
    fn user_keeps_supervisords_meaning() {
        for args in [
            &["--user", "nobody", "-n"][..],
            &["--user=nobody", "-n"],
            &["-u", "nobody", "-n"],
            &["-unobody", "-n"],
        ] {
            let a = parse(args);
            assert_eq!(a.run_as(), Some("nobody"), "{args:?}");
            assert!(!a.session && a.nodaemon, "{args:?}");
        }
        let a = parse(&["--session", "-n"]);
        assert!(a.session);
        assert_eq!(a.run_as(), None);
        // `--user` needs its value, as supervisord's getopt says.
        assert!(DaemonArgs::try_parse_from(["pidvisord", "--user"]).is_err());
    }

    #[test]
    fn help_keeps_indentation_and_lists_each_option_once() {
        let help = daemon_help("pidvisord");
        assert!(help.contains(
            "-k/--nocleanup --  prevent the process from performing cleanup (removal of\n                   old automatic"
        ));
        assert!(help.contains("\n                             e.g. 'cumulative,callers')\n"));
        for opt in ["--user", "--session", "--check-config", "--minprocs"] {
            let n = help
                .split(|c: char| c == '/' || c.is_whitespace())
                .filter(|w| *w == opt)
                .count();
            assert_eq!(n, 1, "{opt} in {help}");
        }
    }

    #[test]
    fn usage_error_is_two_lines() {
        assert_eq!(
            usage_error("pidvisord", "could not find config file /x"),
            "Error: could not find config file /x\nFor help, use pidvisord -h\n"
        );
    }
}
