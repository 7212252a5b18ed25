//! The daemon's life, in Supervisor's order (spec §1.4): parse, drop
//! privileges, raise limits, open the main log, clean AUTO logs, open the
//! control sockets, daemonize, write the pidfile, run; on reload do it again
//! (minus daemonizing and limits); on shutdown clean up and exit 0.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::Parser;

use crate::api::SUPERVISOR_VERSION;
use crate::cli::session::Session;
use crate::cli::{daemon_help, usage_error, DaemonArgs, EXAMPLE_CONFIG};
use crate::config::{self, Config, Env, LogLevel, MainLog, UnixHttpServerSpec};
use crate::http::HttpServer;
use crate::logs::MainLogger;
use crate::reactor::{Ending, Parts, Reactor};

/// A start-up failure: printed as Supervisor's usage error, exit 2.
struct Usage(String);

impl<E: std::fmt::Display> From<E> for Usage {
    fn from(e: E) -> Usage {
        Usage(e.to_string())
    }
}

/// `pidvisord`'s whole life; returns the exit status.
pub fn main(argv: Vec<OsString>) -> i32 {
    // Before anything is allocated in earnest and before any thread exists:
    // big replies must not leave the heap at their high-water mark.
    crate::sys::malloc::return_memory_eagerly();
    let argv0 = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pidvisord".into());
    let args = match DaemonArgs::try_parse_from(&argv) {
        Ok(a) => a,
        Err(e) => {
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_string();
            eprint!("{}", usage_error(&argv0, &first));
            return 2;
        }
    };
    if args.help {
        print!("{}", daemon_help(&argv0));
        return 0;
    }
    if args.version {
        println!("{SUPERVISOR_VERSION}");
        return 0;
    }
    if args.example_config {
        print!("{EXAMPLE_CONFIG}");
        return 0;
    }
    // Absolute, so that a reload or reread still finds the file after the
    // daemon changed to `directory=` (supervisord keeps it relative and
    // then cannot restart).
    let mut args = args;
    if let Some(p) = &args.configuration {
        args.configuration = std::path::absolute(p).ok().or(args.configuration.clone());
    }
    match start(&args) {
        Ok(code) => code,
        Err(Usage(msg)) => {
            eprint!("{}", usage_error(&argv0, &msg));
            2
        }
    }
}

/// Find, load and check the configuration, with the command line's values
/// on top (command line > file > default). In per-user mode the loader's
/// defaults are the session's paths (set in [`enter_session`]) and a config
/// without `[unix_http_server]` gets the session's socket.
fn load(args: &DaemonArgs, env: &Env, session: Option<&Session>) -> Result<Config, Usage> {
    let path = match &args.configuration {
        Some(p) => p.clone(),
        None => config::find_config(args.session, env).ok_or_else(|| {
            let paths: Vec<String> = config::search_paths(args.session, env)
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            Usage(format!(
                "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
                paths.join(", ")
            ))
        })?,
    };
    if !path.exists() {
        return Err(Usage(format!(
            "could not find config file {}",
            path.display()
        )));
    }
    let mut cfg = config::load(&path, env).map_err(|e| Usage(e.to_string()))?;
    crate::cli::apply_overrides(args, &mut cfg).map_err(Usage)?;
    if let Some(session) = session {
        if cfg.unix_http_servers.is_empty() {
            cfg.unix_http_servers.push(UnixHttpServerSpec {
                section: "unix_http_server".into(),
                file: session.socket(),
                chmod: 0o700,
                chown: None,
                auth: None,
            });
        }
    }
    Ok(cfg)
}

/// `--session`: find the user's directories, create them, and make the
/// session's paths the loader's defaults for this process (so a reread
/// sees them too).
fn enter_session(args: &DaemonArgs) -> Result<Session, Usage> {
    if args.run_as().is_some() {
        return Err(Usage(
            "--session runs as the calling user: run it as that user instead of -u/--user".into(),
        ));
    }
    let uid = crate::sys::cred::getuid();
    let session = Session::from_env(&Env::from_process(), uid).map_err(Usage)?;
    session.create_dirs(uid).map_err(Usage)?;
    config::set_process_defaults(session.defaults());
    Ok(session)
}

fn start(args: &DaemonArgs) -> Result<i32, Usage> {
    if !args.positional.is_empty() {
        let list: Vec<String> = args
            .positional
            .iter()
            .map(|p| crate::py::py_repr(p))
            .collect();
        return Err(Usage(format!(
            "positional arguments are not supported: [{}]",
            list.join(", ")
        )));
    }
    let session = if args.session {
        Some(enter_session(args)?)
    } else {
        None
    };
    let session = session.as_ref();
    let env = Env::from_process();
    if args.check_config {
        return Ok(check_config(args, &env, session));
    }
    let config = load(args, &env, session)?;
    let mut queued: Vec<(LogLevel, String)> = Vec::new();
    drop_privileges(&config, &mut queued)?;
    raise_limits(&config, &mut queued)?;
    let child_nofile = fit_nofile(&config, &mut queued);
    let mut parts = open_parts(config, session, queued)?;
    parts.child_nofile = child_nofile;
    // Daemonize before any thread exists and before the pidfile is written.
    if !parts.config.supervisord.nodaemon {
        parts
            .mainlog
            .log(LogLevel::Info, "daemonizing the supervisord process");
        let s = &parts.config.supervisord;
        if let Err(e) = crate::sys::daemon::daemonize(s.umask) {
            parts
                .mainlog
                .log(LogLevel::Critical, format!("could not daemonize: {e}"));
            return Ok(1);
        }
        if let Some(dir) = parts.config.supervisord.directory.clone() {
            let shown = crate::py::py_repr(&dir.display().to_string());
            match std::env::set_current_dir(&dir) {
                Ok(()) => parts
                    .mainlog
                    .log(LogLevel::Info, format!("set current directory: {shown}")),
                Err(e) => parts.mainlog.log(
                    LogLevel::Critical,
                    format!("can't chdir into {shown}: {}", py_os_error(&e, &dir)),
                ),
            }
        }
    }
    let _ = crate::sys::prctl::set_child_subreaper();
    // After daemonizing and blocking signals: zbus starts threads.
    match crate::dbus::start(&parts.config, args.session) {
        Ok(crate::dbus::Service::Running(link)) => parts.dbus = Some(link),
        Ok(crate::dbus::Service::Unavailable(why)) => parts.mainlog.log(LogLevel::Info, why),
        Ok(crate::dbus::Service::Off) => {}
        Err(e) => {
            parts.mainlog.log(LogLevel::Critical, e.to_string());
            return Err(Usage(format!("{e} (dbus=true in [supervisord])")));
        }
    }
    loop {
        write_pidfile(&mut parts);
        let pid = std::process::id();
        parts.mainlog.log(
            LogLevel::Info,
            format!("supervisord started with pid {pid}"),
        );
        let reactor =
            Reactor::new(parts).map_err(|e| Usage(format!("cannot start the event loop: {e}")))?;
        let (ending, old) = reactor
            .run()
            .map_err(|e| Usage(format!("event loop failed: {e}")))?;
        let _ = std::fs::remove_file(&old.config.supervisord.pidfile);
        old.http.unlink();
        if let (Some(link), Ending::Exit | Ending::ExitWith(_)) = (&old.dbus, &ending) {
            link.flush(std::time::Duration::from_secs(1));
        }
        match ending {
            Ending::Exit => return Ok(0),
            // exit_on_fatal: the container's orchestrator sees the failure.
            Ending::ExitWith(code) => return Ok(code),
            Ending::Reload => {
                // The reactor made sure the config loads before it stopped
                // anything; one broken in the meantime ends the daemon (exit
                // 2), as supervisord does. As Supervisor's `main()` runs
                // again: the user is checked (and dropped to if newly set),
                // and the start-up CRITs are logged again.
                let config = load(args, &env, session)?;
                let mut queued = Vec::new();
                drop_privileges(&config, &mut queued)?;
                let child_nofile = old.child_nofile.or(fit_nofile(&config, &mut queued));
                let signals = old.signals;
                let dbus = old.dbus;
                let runtime_dir = old.runtime_dir;
                let mut mainlog = old.mainlog;
                drop(old.http);
                emit(&mut mainlog, &queued);
                emit(&mut mainlog, &config.messages);
                let control = HttpServer::open(&config)?;
                cleanup_auto_logs(&config, &mut mainlog);
                warn_unauthenticated(&config, session, &mut mainlog);
                parts = Parts {
                    config,
                    mainlog,
                    http: control,
                    signals,
                    dbus,
                    runtime_dir,
                    child_nofile,
                };
            }
        }
    }
}

/// `--check-config`: every error, then exit 0 (valid) or 1.
fn check_config(args: &DaemonArgs, env: &Env, session: Option<&Session>) -> i32 {
    match load(args, env, session) {
        Ok(cfg) => {
            for (level, msg) in &cfg.messages {
                if *level >= LogLevel::Warn {
                    println!("{}: {msg}", level.tag());
                }
            }
            // Limits this host cannot apply (issue 6): errors, not silence.
            let limits = crate::cgroup::check_host(&cfg);
            for e in &limits {
                println!("{e}");
            }
            if !limits.is_empty() {
                return 1;
            }
            let procs: usize = cfg.groups.iter().map(|g| g.processes.len()).sum();
            println!(
                "{}: OK ({} groups, {} processes)",
                cfg.path.display(),
                cfg.groups.len(),
                procs
            );
            0
        }
        Err(Usage(msg)) => {
            println!("{msg}");
            1
        }
    }
}

/// Python's `str(OSError)` for a call on `path`:
/// `[Errno 2] No such file or directory: '/x'`.
fn py_os_error(e: &std::io::Error, path: &std::path::Path) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let shown = crate::py::py_repr(&path.display().to_string());
    match e.raw_os_error() {
        Some(n) => format!("[Errno {n}] {text}: {shown}"),
        None => format!("{text}: {shown}"),
    }
}

/// `[supervisord] user=`: drop to it now, or refuse as Supervisor does.
fn drop_privileges(config: &Config, queued: &mut Vec<(LogLevel, String)>) -> Result<(), Usage> {
    let uid = crate::sys::cred::getuid();
    match &config.supervisord.user {
        None if uid == 0 => queued.push((
            LogLevel::Critical,
            "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.".into(),
        )),
        None => {}
        // Supervisor's drop_privileges succeeds at once for its own uid.
        Some(u) if u.uid == uid => {
            queued.push((LogLevel::Info, format!("Set uid to user {} succeeded", u.uid)));
        }
        Some(_) if uid != 0 => return Err(Usage("Can't drop privilege as nonroot user".into())),
        Some(u) => {
            let groups = supplementary_groups(u);
            crate::sys::cred::set_groups(&crate::sys::cred::gids(&groups))
                .and_then(|()| crate::sys::cred::set_res_gid(u.gid))
                .and_then(|()| crate::sys::cred::set_res_uid(u.uid))
                .map_err(|e| Usage(format!("Could not set user id of process to {}: {e}", u.uid)))?;
            queued.push((LogLevel::Info, format!("Set uid to user {} succeeded", u.uid)));
        }
    }
    Ok(())
}

/// The primary gid and every group that lists the user.
fn supplementary_groups(u: &crate::config::UserSpec) -> Vec<u32> {
    crate::sys::user::group_list(&u.name, u.gid)
}

/// `minfds` / `minprocs`: raise the soft (and if need be hard) limits.
fn raise_limits(config: &Config, queued: &mut Vec<(LogLevel, String)>) -> Result<(), Usage> {
    use crate::sys::rlimit::{ensure_minimum, Limit};
    let s = &config.supervisord;
    for (limit, min, name) in [
        (Limit::NoFile, s.minfds, "RLIMIT_NOFILE"),
        (Limit::NProc, s.minprocs, "RLIMIT_NPROC"),
    ] {
        match ensure_minimum(limit, min.max(0) as u64) {
            Ok(true) => queued.push((LogLevel::Info, format!("Increased {name} limit to {min}"))),
            Ok(false) => {}
            Err(_) => {
                let (_, hard) = crate::sys::rlimit::get(limit);
                return Err(Usage(limit_error(limit, min, hard)));
            }
        }
    }
    Ok(())
}

/// Raise the soft RLIMIT_NOFILE to what the configuration needs (its
/// processes' pipes, logs and pidfds, see [`crate::reactor::fds_needed`]),
/// up to the hard limit, with a CRIT when the hard limit cannot cover it.
/// Returns the soft limit from before the raise, which children get back
/// (as systemd gives services the soft limit it started with), when it
/// raised it; that is the limit after `minfds`, as supervisord's children
/// would have.
fn fit_nofile(config: &Config, queued: &mut Vec<(LogLevel, String)>) -> Option<u64> {
    use crate::sys::rlimit::{get, raise_nofile, Limit};
    let need = crate::reactor::fds_needed(config);
    let procs: usize = config.groups.iter().map(|g| g.processes.len()).sum();
    let (before, hard) = get(Limit::NoFile);
    let plan = match raise_nofile(need) {
        Ok(plan) => plan,
        Err(e) => {
            let msg = format!("could not raise RLIMIT_NOFILE to the {need} file descriptors this configuration needs: {e}");
            queued.push((LogLevel::Critical, msg));
            return None;
        }
    };
    if plan.short {
        let hard = hard.map_or("unlimited".to_string(), |h| h.to_string());
        queued.push((
            LogLevel::Critical,
            format!("RLIMIT_NOFILE: this configuration needs {need} file descriptors for its {procs} processes, but the hard limit is {hard}: programs may fail to start with 'too many open files'. Raise the hard limit (LimitNOFILE= in the systemd unit, ulimit -Hn), or log fewer streams to files (a program whose logs are NONE holds one descriptor)"),
        ));
    }
    let to = plan.raise_to?;
    let shown = before.map_or("unlimited".to_string(), |b| b.to_string());
    queued.push((
        LogLevel::Info,
        format!("raised the soft RLIMIT_NOFILE from {shown} to {to} for {procs} processes; programs start with {shown}"),
    ));
    before
}

/// Supervisor's `set_rlimits_or_exit` message for a limit it could not
/// raise to `min`. `%(hard)s` there is the hard limit, already replaced by
/// `min` when it was lower, and `-1` when unlimited.
fn limit_error(limit: crate::sys::rlimit::Limit, min: i64, hard: Option<u64>) -> String {
    use crate::sys::rlimit::Limit;
    let hard = match hard {
        None => "-1".to_string(),
        Some(h) if i128::from(h) < i128::from(min) => min.to_string(),
        Some(h) => h.to_string(),
    };
    match limit {
        Limit::NoFile => format!(
            "The minimum number of file descriptors required to run this process is {min} as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open {hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start."
        ),
        Limit::NProc => format!(
            "The minimum number of available processes required to run this program is {min} as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open {hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start."
        ),
    }
}

fn emit(mainlog: &mut MainLogger, messages: &[(LogLevel, String)]) {
    // Supervisor emits parse messages by severity: criticals, warnings, infos.
    for level in [LogLevel::Critical, LogLevel::Warn, LogLevel::Info] {
        for (l, m) in messages {
            if *l == level {
                mainlog.log(level, m);
            }
        }
    }
}

fn cleanup_auto_logs(config: &Config, mainlog: &mut MainLogger) {
    let s = &config.supervisord;
    if s.nocleanup {
        return;
    }
    if let Err(e) = crate::logs::cleanup_auto_logs(&s.childlogdir, &s.identifier) {
        mainlog.log(
            LogLevel::Warn,
            format!(
                "could not clean up AUTO logs in {}: {e}",
                s.childlogdir.display()
            ),
        );
    }
}

/// Supervisor's CRIT for every control server without a password, but a
/// session's socket in its runtime directory: the user's own directory
/// (made 0700), and the socket itself 0700 unless the file says otherwise.
fn warn_unauthenticated(config: &Config, session: Option<&Session>, mainlog: &mut MainLogger) {
    let private = |file: &Path| session.is_some_and(|s| file.starts_with(&s.runtime_dir));
    let open = config
        .unix_http_servers
        .iter()
        .filter(|u| u.auth.is_none() && !private(&u.file))
        .map(|u| &u.section)
        .chain(
            config
                .inet_http_servers
                .iter()
                .filter(|i| i.auth.is_none())
                .map(|i| &i.section),
        );
    for section in open {
        mainlog.log(
            LogLevel::Critical,
            format!("Server '{section}' running without any HTTP authentication checking"),
        );
    }
}

fn open_parts(
    config: Config,
    session: Option<&Session>,
    queued: Vec<(LogLevel, String)>,
) -> Result<Parts, Usage> {
    let s = &config.supervisord;
    let mut mainlog = MainLogger::open(s).map_err(|e| {
        let shown = match &s.logfile {
            MainLog::File(p) => p.display().to_string(),
            MainLog::Syslog => "syslog".into(),
        };
        Usage(format!("could not open the main log {shown}: {e}"))
    })?;
    mainlog.set_stdout(s.nodaemon && !s.silent);
    emit(&mut mainlog, &queued);
    emit(&mut mainlog, &config.messages);
    // The socket first: a second daemon on the same config is refused there,
    // before it could delete the running one's AUTO logs.
    let control = HttpServer::open(&config)?;
    cleanup_auto_logs(&config, &mut mainlog);
    warn_unauthenticated(&config, session, &mut mainlog);
    let set = crate::sys::signal::daemon_sigset();
    crate::sys::signal::block(&set).map_err(|e| Usage(format!("cannot block signals: {e}")))?;
    // Blocked first, so none of them can act between the two calls.
    crate::sys::signal::default_daemon_dispositions()
        .map_err(|e| Usage(format!("cannot reset signal dispositions: {e}")))?;
    let signals = crate::sys::signal::signalfd(&set)
        .map_err(|e| Usage(format!("cannot create a signalfd: {e}")))?;
    Ok(Parts {
        config,
        mainlog,
        http: control,
        signals,
        dbus: None,
        runtime_dir: runtime_dir(session),
        child_nofile: None,
    })
}

/// Where this daemon keeps runtime state: the session's directory, else
/// `/run/pidvisor` for root or `$XDG_RUNTIME_DIR/pidvisor` for a user
/// (made if missing). `None` when there is no such place to write.
fn runtime_dir(session: Option<&Session>) -> Option<PathBuf> {
    if let Some(s) = session {
        return Some(s.runtime_dir.clone());
    }
    let dir = if crate::sys::cred::getuid() == 0 {
        PathBuf::from("/run/pidvisor")
    } else {
        PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?).join("pidvisor")
    };
    use std::os::unix::fs::DirBuilderExt;
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(&dir);
    made.is_ok().then_some(dir)
}

fn write_pidfile(parts: &mut Parts) {
    let path: &Path = &parts.config.supervisord.pidfile;
    if let Err(e) = std::fs::write(path, format!("{}\n", std::process::id())) {
        let msg = format!("could not write pidfile {}: {e}", path.display());
        parts.mainlog.log(LogLevel::Critical, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::rlimit::Limit;

    #[test]
    fn limit_errors_are_supervisors_texts() {
        assert_eq!(
            limit_error(Limit::NoFile, 99999999, Some(1048576)),
            "The minimum number of file descriptors required to run this process is 99999999 as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open 99999999 file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start."
        );
        assert_eq!(
            limit_error(Limit::NProc, 500, None),
            "The minimum number of available processes required to run this program is 500 as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open -1 processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start."
        );
        assert!(limit_error(Limit::NProc, 500, Some(4096)).contains("open 4096 processes."));
    }
}
