//! Command lines: clap derive structs for `pidvisord`, and Supervisor's
//! usage-error format (`Error: ...` / `For help, use ... -h`, exit 2).

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
    /// Run the daemon as this user (name or uid).
    #[arg(short = 'u', value_name = "USER")]
    pub user_short: Option<String>,
    /// `--user=USER` as `-u`; alone, `--user` selects the per-user mode
    /// (session bus, XDG paths) instead.
    #[arg(long = "user", value_name = "USER", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub user: Option<String>,
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
    /// `--user` given alone: per-user session mode.
    pub fn user_mode(&self) -> bool {
        self.user.as_deref() == Some("")
    }

    /// `-u NAME` / `--user=NAME`: Supervisor's `user=` override.
    pub fn run_as(&self) -> Option<&str> {
        self.user_short
            .as_deref()
            .or(self.user.as_deref())
            .filter(|u| !u.is_empty())
    }
}

/// What a usage error looks like on stderr (Supervisor's two lines).
pub fn usage_error(argv0: &str, message: &str) -> String {
    format!("Error: {message}\nFor help, use {argv0} -h\n")
}

/// The `-h` text, with the program name substituted as supervisord does.
pub fn daemon_help(argv0: &str) -> String {
    format!(
        "{argv0} -- run a set of applications as daemons.\n\
\n\
Usage: {argv0} [options]\n\
\n\
Options:\n\
-c/--configuration FILENAME -- configuration file path (searches if not given)\n\
-n/--nodaemon -- run in the foreground (same as 'nodaemon=true' in config file)\n\
-s/--silent -- no logs to stdout (maps to 'silent=true' in config file)\n\
-h/--help -- print this usage message and exit\n\
-v/--version -- print supervisord version number and exit\n\
-u/--user USER -- run supervisord as this user (or numeric uid)\n\
-m/--umask UMASK -- use this umask for daemon subprocess (default is 022)\n\
-d/--directory DIRECTORY -- directory to chdir to when daemonized\n\
-l/--logfile FILENAME -- use FILENAME as logfile path\n\
-y/--logfile_maxbytes BYTES -- use BYTES to limit the max size of logfile\n\
-z/--logfile_backups NUM -- number of backups to keep when max bytes reached\n\
-e/--loglevel LEVEL -- use LEVEL as log level (debug,info,warn,error,critical)\n\
-j/--pidfile FILENAME -- write a pid file for the daemon process to FILENAME\n\
-i/--identifier STR -- identifier used for this instance of supervisord\n\
-q/--childlogdir DIRECTORY -- the log directory for child process logs\n\
-k/--nocleanup --  prevent the process from performing cleanup (removal of\n\
                   old automatic child log files) at startup.\n\
-a/--minfds NUM -- the minimum number of file descriptors for start success\n\
-t/--strip_ansi -- strip ansi escape codes from process output\n\
--minprocs NUM  -- the minimum number of processes available for start success\n\
--profile_options OPTIONS -- run supervisord under profiler and output\n\
                             results based on OPTIONS, which  is a comma-sep'd\n\
                             list of 'cumulative', 'calls', and/or 'callers',\n\
                             e.g. 'cumulative,callers')\n\
\n\
pidvisor additions:\n\
--user -- per-user mode: config in $XDG_CONFIG_HOME/pidvisor, session bus\n\
--check-config -- load the configuration, print every error, exit 0 or 1\n\
--example-config -- print a commented example configuration and exit\n"
    )
}

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
        assert!(!a.user_mode());
        assert_eq!(a.logfile_maxbytes.as_deref(), Some("1MB"));
        assert_eq!(a.minprocs.as_deref(), Some("5"));
        let a = parse(&["--configuration=y.conf", "--logfile_backups=3", "-?"]);
        assert_eq!(a.configuration, Some(PathBuf::from("y.conf")));
        assert_eq!(a.logfile_backups.as_deref(), Some("3"));
        assert!(a.help);
    }

    #[test]
    fn bare_user_is_per_user_mode() {
        let a = parse(&["--user", "-n"]);
        assert!(a.user_mode());
        assert_eq!(a.run_as(), None);
        let a = parse(&["--user=www"]);
        assert_eq!(a.run_as(), Some("www"));
    }

    #[test]
    fn usage_error_is_two_lines() {
        assert_eq!(
            usage_error("pidvisord", "could not find config file /x"),
            "Error: could not find config file /x\nFor help, use pidvisord -h\n"
        );
    }
}
