//! The reactor: the only place that blocks. One `mio::Poll` waits on the
//! signalfd, one pidfd per child, the children's output pipes, the control
//! sockets and a waker; its timeout is the core's next deadline, and with
//! nothing due it is infinite, so an idle daemon never wakes up.
//!
//! The reactor carries out what the core decides (spawn, signal, reply, log)
//! and feeds back what happened (spawned, exited, failed). It keeps no
//! supervisor state of its own, only file descriptors.

mod bridge;
mod cgroups;
mod children;
mod local;
mod output;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::config::{Config, LogLevel};
use crate::control::rpc::{self, Plan};
use crate::control::server::{self, ControlServer, Job, TailRequest};
use crate::core::{Core, Effect, Now, ProcId};
use crate::logs::MainLogger;

use children::ChildTable;
use output::Pipes;

/// Fixed tokens; pidfds and pipes get tokens from `FIRST_DYNAMIC` up, the
/// control server from `server::BASE` up.
const SIGNAL: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_DYNAMIC: usize = 16;

/// What a dynamic token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Pidfd(ProcId),
    Pipe,
    /// The inotify fd watching every leaf's `cgroup.events`.
    Cgroup,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Shutdown finished: exit 0.
    Exit,
    /// Reload requested and every process stopped: re-read and run again.
    Reload,
}

/// What the loop needs from the daemon's set-up, and gives back at the end.
pub struct Parts {
    pub config: Config,
    pub mainlog: MainLogger,
    pub control: ControlServer,
    pub signals: nix::sys::signalfd::SignalFd,
    /// The D-Bus service's end of the bridge, when it runs.
    pub dbus: Option<crate::dbus::Link>,
}

pub struct Reactor {
    poll: Poll,
    core: Core,
    config: Config,
    mainlog: MainLogger,
    control: ControlServer,
    signals: nix::sys::signalfd::SignalFd,
    children: ChildTable,
    cgroups: cgroups::Cgroups,
    pipes: Pipes,
    sources: HashMap<Token, Source>,
    next_token: usize,
    jobs: Vec<Job>,
    tails: Vec<TailRequest>,
    /// The daemon's environ and cwd, snapshotted once for every spawn.
    environ: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    cwd: std::path::PathBuf,
    /// `environ` as the C strings every environment block shares.
    base_env: crate::spawn::BaseEnv,
    bridge: Option<bridge::Bridge>,
}

/// Local time as Supervisor prints a stop date (`%b %d %I:%M %p`).
pub fn local_stop_time(epoch: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(epoch, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%b %d %I:%M %p").to_string()
        }
        chrono::LocalResult::None => String::new(),
    }
}

/// `startProcess`'s check of the command before spawning (NO_FILE,
/// NOT_EXECUTABLE), resolved exactly as the spawn will resolve it.
fn command_check(
    environ: &[(std::ffi::OsString, std::ffi::OsString)],
    cwd: &std::path::Path,
) -> crate::core::Checker {
    use crate::core::CommandCheck;
    let daemon_path = environ
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .and_then(|(_, v)| v.to_str())
        .map(str::to_owned);
    let cwd = cwd.to_path_buf();
    Box::new(move |spec| {
        let path = crate::spawn::search_path(&spec.environment, daemon_path.as_deref());
        match crate::spawn::resolve_command(&spec.command, path, &cwd) {
            Ok(_) => CommandCheck::Ok,
            Err(e) if e.starts_with("can't find command") => CommandCheck::NotFound(e),
            Err(e) => CommandCheck::NotExecutable(e),
        }
    })
}

/// The current time, for the core.
pub fn now() -> Now {
    Now {
        mono: crate::clock::mono(),
        wall: crate::clock::wall(),
    }
}

impl Reactor {
    pub fn new(parts: Parts) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&parts.signals.as_raw_fd()),
            SIGNAL,
            Interest::READABLE,
        )?;
        let mut control = parts.control;
        control.register(poll.registry())?;
        let mut core = Core::new(parts.config.clone(), now(), local_stop_time);
        let environ: Vec<_> = std::env::vars_os().collect();
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        core.set_command_check(command_check(&environ, &cwd));
        let groups: Vec<String> = parts.config.groups.iter().map(|g| g.name.clone()).collect();
        let mut r = Reactor {
            poll,
            core,
            config: parts.config,
            mainlog: parts.mainlog,
            control,
            signals: parts.signals,
            children: ChildTable::default(),
            cgroups: cgroups::Cgroups::default(),
            pipes: Pipes::default(),
            sources: HashMap::new(),
            next_token: FIRST_DYNAMIC,
            jobs: Vec::new(),
            tails: Vec::new(),
            base_env: crate::spawn::BaseEnv::new(&environ),
            environ,
            cwd,
            bridge: parts.dbus.map(bridge::Bridge::new),
        };
        r.bridge_start();
        // The initial groups are "added" too: allocate their AUTO log names
        // before anything spawns.
        for g in groups {
            r.group_added(&g);
        }
        r.setup_cgroups();
        Ok(r)
    }

    /// A waker other threads (D-Bus) use after queueing work.
    pub fn waker(&self) -> io::Result<mio::Waker> {
        mio::Waker::new(self.poll.registry(), WAKER)
    }

    fn token(&mut self, src: Source) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        self.sources.insert(t, src);
        t
    }

    fn log(&mut self, level: LogLevel, msg: &str) {
        self.mainlog.log(level, msg);
    }

    /// Run until shutdown or reload; give back what outlives one config.
    pub fn run(mut self) -> io::Result<(Ending, Parts)> {
        let mut events = Events::with_capacity(1024);
        let mut ending = self.settle();
        while ending.is_none() {
            let mut timeout = self
                .core
                .next_deadline()
                .map(|d| d.saturating_duration_since(crate::clock::mono()));
            if self.control.following() {
                timeout =
                    Some(timeout.map_or(server::FOLLOW_EVERY, |t| t.min(server::FOLLOW_EVERY)));
            }
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in events.iter() {
                match ev.token() {
                    SIGNAL => self.on_signals(),
                    WAKER => {}
                    t if t.0 >= server::BASE => {
                        self.control
                            .ready(t, self.poll.registry(), &mut self.jobs, &mut self.tails)
                    }
                    t => match self.sources.get(&t).copied() {
                        Some(Source::Pidfd(id)) => self.on_pidfd(id),
                        Some(Source::Pipe) => self.on_pipe(t),
                        Some(Source::Cgroup) => self.on_cgroup_events(),
                        // Spurious, or already closed.
                        None => {}
                    },
                }
            }
            if self.control.following() {
                self.control.follow_tick(self.poll.registry());
            }
            ending = self.settle();
        }
        self.teardown_cgroups();
        self.control.deregister(self.poll.registry());
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&self.signals.as_raw_fd()));
        let parts = Parts {
            config: self.config,
            mainlog: self.mainlog,
            control: self.control,
            signals: self.signals,
            dbus: self.bridge.map(bridge::Bridge::into_link),
        };
        Ok((ending.unwrap_or(Ending::Exit), parts))
    }

    /// Carry out calls, fire due deadlines and execute every effect until
    /// nothing is left to do; returns the ending, if one came.
    fn settle(&mut self) -> Option<Ending> {
        let mut ending = None;
        loop {
            self.bridge_poll();
            self.run_jobs();
            self.core.handle_timeout(now());
            let mut any = false;
            while let Some(effect) = self.core.poll_effect() {
                any = true;
                match effect {
                    Effect::Spawn { id, gen } => self.spawn(id, gen),
                    Effect::Signal {
                        id,
                        gen,
                        sig,
                        group,
                        ..
                    } => self.signal(id, gen, sig, group),
                    Effect::Reply { token, reply } => self.answer(token, rpc::reply_value(&reply)),
                    Effect::Log { level, message } => self.log(level, &message),
                    Effect::GroupAdded { name } => {
                        self.group_added(&name);
                        self.bridge_group_added(&name);
                    }
                    Effect::GroupRemoved { name } => {
                        self.group_removed(&name);
                        self.forget_removed_leaves();
                        self.bridge_group_removed(&name);
                    }
                    Effect::ReopenLogs => self.reopen_logs(),
                    Effect::StateChanged { id, from, to, .. } => {
                        self.bridge_state_changed(id, from.name(), to.name())
                    }
                    // For event listeners, which do not exist yet.
                    Effect::SupervisorStopping => {}
                    Effect::Exit => ending = Some(Ending::Exit),
                    Effect::Reload => ending = Some(Ending::Reload),
                }
            }
            self.control.resume(&mut self.jobs, &mut self.tails);
            if !any && self.jobs.is_empty() && self.tails.is_empty() {
                break;
            }
        }
        self.control.flush_all(self.poll.registry());
        ending
    }

    /// Carry out the calls the control server parsed.
    fn run_jobs(&mut self) {
        while !self.jobs.is_empty() || !self.tails.is_empty() {
            for tail in std::mem::take(&mut self.tails) {
                self.start_tail(tail);
            }
            for job in std::mem::take(&mut self.jobs) {
                match job.plan {
                    Plan::Now(result) => self.answer(job.id, result),
                    Plan::Core(crate::core::Command::Restart) => match self.restart_refused(None) {
                        Some(why) => {
                            let f = rpc::fault(crate::core::FaultCode::CantReread, &why);
                            self.answer(job.id, Err(f));
                        }
                        None => {
                            self.core
                                .handle_command(job.id, crate::core::Command::Restart, now())
                        }
                    },
                    Plan::Core(cmd) => self.core.handle_command(job.id, cmd, now()),
                    Plan::Local(rpc::Local::Reread) => self.reread(job.id),
                    Plan::Local(l) => {
                        let result = self.local(l);
                        self.answer(job.id, result);
                    }
                    // The server unrolls multicalls itself.
                    Plan::Multi(_) => {}
                }
            }
        }
    }

    /// While RUNNING, the error of the config file as it is now, if it does
    /// not load.
    fn config_error_now(&self) -> Option<String> {
        if self.core.mood() != crate::core::Mood::Running {
            return None;
        }
        crate::config::load(&self.config.path, &crate::config::Env::from_process())
            .err()
            .map(|e| e.to_string())
    }

    /// Before a restart (SIGHUP, `supervisor.restart`) stops anything: a
    /// config that no longer loads would end the daemon with every program
    /// stopped, so the restart is refused, logged, and the old config kept
    /// running (supervisord stops everything, then exits). The error text.
    fn restart_refused(&mut self, announce: Option<&str>) -> Option<String> {
        let why = self.config_error_now()?;
        if let Some(line) = announce {
            self.log(LogLevel::Warn, line);
        }
        self.log(
            LogLevel::Error,
            &format!("not restarting: the configuration does not load; still running the old one:\n{why}"),
        );
        Some(why)
    }

    fn on_signals(&mut self) {
        loop {
            match crate::sys::signal::read_signal(&self.signals) {
                Ok(Some(sig)) => {
                    if sig == libc::SIGCHLD {
                        self.reap_strays();
                    } else if sig == libc::SIGHUP {
                        let heard = "received SIGHUP indicating restart request";
                        if self.restart_refused(Some(heard)).is_none() {
                            self.core.daemon_signal(sig, now());
                        }
                    } else {
                        self.core.daemon_signal(sig, now());
                    }
                }
                Ok(None) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }
}
