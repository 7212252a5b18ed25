//! The reactor: the only place that blocks, and the one place where the
//! parts of the daemon meet.
//!
//! One `mio::Poll` waits on the signalfd, one pidfd per child, the
//! children's output pipes, the cgroup inotify fd, the HTTP sockets and a
//! waker; its timeout is the core's next deadline, and with nothing due it
//! is infinite, so an idle daemon never wakes up.
//!
//! Each part owns its file descriptors and state and answers for its own
//! tokens: `children::ChildTable` (pidfds, exits, strays),
//! `output::Pipes` (pipes and child logs), `cgroups::Cgroups` (leaves,
//! held exits), the [`HttpServer`] (sockets, connections), the XML-RPC face
//! ([`XmlRpc`]), the web face ([`Web`]), the D-Bus `bridge::Bridge`, the
//! event listeners' face,
//! `sockets::Sockets` (fcgi), `survivors::Survivors` (the children record)
//! and, for the notify protocol
//! (issue 17) the [`NotifySocket`] (token `NOTIFY`, bound once a program
//! uses it), `forking::Pidfiles` (launcher exits waiting for a pidfile)
//! and [`Systemd`] (the daemon's own `sd_notify`); `handover::Handover`
//! borrows the core, the children and the leaves to act on a message or a
//! pidfile, and `senders` says which program a pid belongs to. The parts never call each
//! other; this file is the dispatcher. It reads what each part reports,
//! hands faces' [`api::Request`]s to the core (or answers them itself with
//! `local::Locals`), routes every [`api::Reply`] back to whoever asked,
//! and carries out the core's effects (spawn, signal, log). It keeps no
//! supervisor state of its own.
//!
//! A batch never makes the loop deaf: effects are carried out for at most
//! [`SLICE`] before the loop polls its descriptors again (without waiting,
//! while effects remain), and the core hands out spawns after every other
//! effect, so a client's request that comes during a `start all` of
//! thousands is answered between two slices.
//!
//! Event listeners: the core's state changes and group effects, the
//! output [`output::Heard`] on pipes and `sendRemoteCommEvent` become
//! events of the listeners' face ([`ev::Events`]), which answers with
//! envelopes written to listeners' stdin; its tick deadline joins the
//! core's in the poll timeout. [`sockets::Sockets`] holds fcgi-program
//! sockets, given to their processes as stdin.

mod bridge;
mod cgroups;
mod children;
mod forking;
mod handover;
mod local;
mod output;
mod senders;
mod sockets;
mod survivors;

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::api::SupervisorState;
use crate::api::{self, Fault, FaultCode, ProcessState, Request, Response};
use crate::config::{Config, LogLevel, ProgramSpec};
use crate::control::{self, RpcOut, XmlRpc};
use crate::core::{Command, Core, Effect, Now, ProcId};
use crate::dbus::Event;
use crate::events as ev;
use crate::http::{Answer, ConnId, HttpEvent, HttpServer};
use crate::logs::MainLogger;
use crate::notify::{NotifySocket, Received, Systemd};
use crate::sys::signal::SignalFd;
use crate::web::{Web, WebOut};

use bridge::{Bridge, BridgeIn};
use cgroups::Cgroups;
use children::{ChildTable, Exit};
use forking::Pidfiles;
use handover::Handover;
use local::Locals;
use output::{Heard, OpenFailure, Pipes};
use sockets::Sockets;
use survivors::Survivors;

/// Fixed tokens. The parts' tokens: `cgroups::TOKEN`, and ranges of their
/// own for pidfds, pipes and HTTP connections.
const SIGNAL: Token = Token(0);
const WAKER: Token = Token(1);
const NOTIFY: Token = Token(3);

/// HTTP connections closed to free descriptors for a spawn that ran out.
const SHED_FOR_SPAWN: usize = 16;

/// The longest the loop carries out effects before it looks at its file
/// descriptors again: a batch (a `start all` of thousands, each spawn a
/// fork and exec) goes in slices this long, with the control socket,
/// signals and pidfds served between them. Short enough for a client to
/// get its answer within tens of milliseconds; long enough that the poll
/// between slices costs nothing measurable.
const SLICE: std::time::Duration = std::time::Duration::from_millis(5);

/// Ready events taken per poll: a storm of exits is handled this many at a
/// time, with the effects they cause carried out between.
const EVENTS_PER_POLL: usize = 256;

/// Descriptors the daemon holds besides its processes and connections.
const FDS_OF_DAEMON: usize = 32;

/// Control connections a configuration's descriptor need leaves room for
/// (see [`fds_needed`]).
const CONNECTION_ROOM: usize = 128;

/// Descriptors one process of `spec` holds in the daemon while it runs:
/// its pidfd, its cgroup leaf's directory (with a cgroup), and what its
/// pipes and logs hold ([`output::fds_of`]; none with both logs `NONE`).
fn fds_of_process(config: &Config, group: &crate::config::GroupSpec, spec: &ProgramSpec) -> usize {
    let listener = matches!(group.kind, crate::config::GroupKind::EventListenerPool(_));
    let copied = config.supervisord.loglevel <= LogLevel::Debug;
    let leaf = crate::cgroup::wants_cgroup_in(config, group.cgroup, spec);
    1 + usize::from(leaf) + output::fds_of(spec, listener, copied)
}

/// Descriptors the daemon needs to run every process of these groups.
fn fds_of_processes<'a>(
    config: &Config,
    groups: impl Iterator<Item = &'a crate::config::GroupSpec>,
) -> usize {
    groups
        .flat_map(|g| g.processes.iter().map(move |p| (g, p)))
        .map(|(g, p)| fds_of_process(config, g, p))
        .sum()
}

/// The RLIMIT_NOFILE a configuration needs: the daemon's own descriptors,
/// every process's, and room for [`CONNECTION_ROOM`] control connections.
pub fn fds_needed(config: &Config) -> u64 {
    let procs = fds_of_processes(config, config.groups.iter());
    (FDS_OF_DAEMON + procs + CONNECTION_ROOM) as u64
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Shutdown finished: exit 0.
    Exit,
    /// A shutdown started by `exit_on_fatal` finished: exit with this
    /// (non-zero) status.
    ExitWith(i32),
    /// Reload requested and every process stopped: re-read and run again.
    Reload,
}

/// What the loop needs from the daemon's set-up, and gives back at the end.
pub struct Parts {
    pub config: Config,
    pub mainlog: MainLogger,
    pub http: HttpServer,
    pub signals: SignalFd,
    /// The D-Bus service's end of the bridge, when it runs.
    pub dbus: Option<crate::dbus::Link>,
    /// Where the daemon keeps its runtime state (the children record).
    pub runtime_dir: Option<PathBuf>,
    /// The soft RLIMIT_NOFILE children get back, when the daemon raised its
    /// own above it for the configuration (see [`fds_needed`]).
    pub child_nofile: Option<u64>,
}

/// Who asked a request, so that its reply goes back there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asker {
    /// The XML-RPC face's call `id`.
    Rpc(u64),
    /// The D-Bus bridge's request `id`.
    Dbus(u64),
    /// The web face's request `id`.
    Web(u64),
    /// A log follower on this connection waits for its file (`main`: the
    /// main log's stream).
    Follow { conn: ConnId, main: bool },
}

pub struct Reactor {
    poll: Poll,
    core: Core,
    config: Config,
    mainlog: MainLogger,
    http: HttpServer,
    rpc: XmlRpc,
    web: Web,
    signals: SignalFd,
    children: ChildTable,
    cgroups: Cgroups,
    pipes: Pipes,
    sockets: Sockets,
    events: ev::Events,
    bridge: Option<Bridge>,
    survivors: Survivors,
    runtime_dir: Option<PathBuf>,
    /// The core's reply tokens and who waits for each.
    asked: HashMap<u64, Asker>,
    next_token: u64,
    /// The daemon's environ and cwd, snapshotted once for every spawn.
    environ: Vec<(OsString, OsString)>,
    cwd: PathBuf,
    /// `environ` as the C strings every environment block shares.
    base_env: crate::spawn::BaseEnv,
    /// The notify socket, once a program uses it.
    notify: Option<NotifySocket>,
    /// The daemon's own notifications, when systemd started it as a
    /// notify service.
    systemd: Option<Systemd>,
    /// Forking programs' launcher exits waiting for their pidfile.
    pidfiles: Pidfiles,
    /// The last slice ended with effects left: poll without waiting.
    backlog: bool,
    child_nofile: Option<u64>,
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
fn command_check(environ: &[(OsString, OsString)], cwd: &Path) -> crate::core::Checker {
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

/// The daemon's environ for its children, without the variables systemd
/// set for the daemon itself; and the daemon's notifier, if systemd
/// started it as a notify service.
fn daemon_environ() -> (Vec<(OsString, OsString)>, io::Result<Option<Systemd>>) {
    let all: Vec<(OsString, OsString)> = std::env::vars_os().collect();
    let systemd = Systemd::from_env(&all, std::process::id(), crate::clock::mono());
    let own = |k: &OsString| crate::notify::DAEMON_VARIABLES.iter().any(|v| k == v);
    let environ = all.into_iter().filter(|(k, _)| !own(k)).collect();
    (environ, systemd)
}

/// Whether any program of `config` gets the notify socket.
fn uses_notify(config: &Config) -> bool {
    config
        .groups
        .iter()
        .flat_map(|g| &g.processes)
        .any(|p| p.notify.uses_socket())
}

/// The current time, for the core.
pub fn now() -> Now {
    Now {
        mono: crate::clock::mono(),
        wall: crate::clock::wall(),
    }
}

/// `/logtail/NAME[/stdout|/stderr]` and `/mainlogtail`: which log, if the
/// path is one of Supervisor's log streams.
fn logtail_target(path: &str) -> Option<(Option<String>, api::Stream)> {
    if path == "/mainlogtail" {
        return Some((None, api::Stream::Stdout));
    }
    let rest = crate::http::codec::percent_decode(path.strip_prefix("/logtail/")?);
    Some(match rest.rsplit_once('/') {
        Some((name, "stderr")) => (Some(name.to_string()), api::Stream::Stderr),
        Some((name, "stdout")) => (Some(name.to_string()), api::Stream::Stdout),
        _ => (Some(rest), api::Stream::Stdout),
    })
}

impl Reactor {
    pub fn new(parts: Parts) -> io::Result<Reactor> {
        // Before anything per process is opened: the numbers are low now.
        let _ = crate::spawn::reserve_low_fds();
        let poll = Poll::new()?;
        poll.registry().register(
            &mut SourceFd(&parts.signals.as_raw_fd()),
            SIGNAL,
            Interest::READABLE,
        )?;
        let mut http = parts.http;
        http.register(poll.registry())?;
        let mut core = Core::new(parts.config.clone(), now(), local_stop_time);
        let (environ, systemd) = daemon_environ();
        let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
        core.set_command_check(command_check(&environ, &cwd));
        let groups: Vec<String> = parts.config.groups.iter().map(|g| g.name.clone()).collect();
        let survivors = Survivors::new(parts.runtime_dir.as_deref(), &parts.config.path);
        let events = ev::Events::new(&parts.config.supervisord.identifier);
        let web_ui = parts.config.supervisord.web_ui;
        let mut r = Reactor {
            poll,
            core,
            config: parts.config,
            mainlog: parts.mainlog,
            http,
            rpc: XmlRpc::default(),
            web: Web::new(web_ui),
            signals: parts.signals,
            children: ChildTable::default(),
            cgroups: Cgroups::default(),
            pipes: Pipes::default(),
            sockets: Sockets::default(),
            events,
            bridge: parts.dbus.map(Bridge::new),
            survivors,
            runtime_dir: parts.runtime_dir,
            asked: HashMap::new(),
            next_token: 1,
            base_env: crate::spawn::BaseEnv::new(&environ),
            environ,
            cwd,
            notify: None,
            systemd: None,
            pidfiles: Pidfiles::default(),
            backlog: false,
            child_nofile: parts.child_nofile,
        };
        match systemd {
            Ok(s) => r.systemd = s,
            Err(e) => r.mainlog.log(
                LogLevel::Warn,
                format!("NOTIFY_SOCKET is set but unusable, not notifying systemd: {e}"),
            ),
        }
        r.start_bridge();
        // The initial groups are "added" too: allocate their AUTO log names
        // before anything spawns.
        for g in groups {
            r.group_added(&g);
        }
        r.cgroups
            .setup(&r.config, r.poll.registry(), &mut r.mainlog);
        r.survivors.reclaim(&mut r.mainlog);
        if uses_notify(&r.config) {
            // Errors are logged; a spawn that needs the socket retries it.
            let _ = r.ensure_notify();
        }
        r.size_http_budget();
        r.events.notify(ev::Event::supervisor_running());
        // Loading the configuration (the INI, expansions, checks) left its
        // temporaries all over the heap, between what stays.
        crate::sys::malloc::trim();
        Ok(r)
    }

    /// Run until shutdown or reload; give back what outlives one config.
    pub fn run(mut self) -> io::Result<(Ending, Parts)> {
        let mut events = Events::with_capacity(EVENTS_PER_POLL);
        let mut ending = self.settle();
        // The configuration is loaded and the autostart programs launched.
        self.tell_systemd_ready();
        while ending.is_none() {
            let mut timeout = self
                .next_deadline()
                .map(|d| d.saturating_duration_since(crate::clock::mono()));
            if self.http.following() {
                let every = crate::http::FOLLOW_EVERY;
                timeout = Some(timeout.map_or(every, |t| t.min(every)));
            }
            if self.backlog {
                timeout = Some(std::time::Duration::ZERO);
            }
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in events.iter() {
                self.on_ready(ev.token());
            }
            self.http.expire(crate::clock::mono(), self.poll.registry());
            if self.http.following() {
                self.http.follow_tick(self.poll.registry());
            }
            if !self.pidfiles.is_empty() {
                self.try_pidfiles();
            }
            self.ping_systemd();
            ending = self.settle();
            self.tell_systemd_status();
        }
        Ok((ending.unwrap_or(Ending::Exit), self.finish()))
    }

    /// One ready token: the part it belongs to takes it.
    fn on_ready(&mut self, token: Token) {
        let registry = self.poll.registry();
        match token {
            SIGNAL => self.on_signals(),
            WAKER => {}
            cgroups::TOKEN => {
                for exit in self.cgroups.ready(&mut self.mainlog) {
                    self.core.exited(exit.id, exit.gen, exit.status, now());
                }
            }
            NOTIFY => self.on_notify(),
            t if HttpServer::owns(t) => self.http.ready(t, registry),
            t if ChildTable::owns(t) => {
                // What a process sent before it exited counts first (a
                // launcher's MAINPID=, a last STATUS=), as in systemd.
                self.on_notify();
                let registry = self.poll.registry();
                if let Some(exit) = self.children.ready(t, registry, &mut self.mainlog) {
                    self.on_exit(exit);
                }
            }
            t if Pipes::owns(t) => {
                self.pipes.ready(t, registry, &mut self.mainlog);
                self.hear();
            }
            // Spurious, or already closed.
            _ => {}
        }
    }

    /// End of this configuration's run: give back what outlives it.
    fn finish(mut self) -> Parts {
        let registry = self.poll.registry();
        self.sockets.close_all(&mut self.mainlog);
        self.cgroups.teardown(registry);
        self.survivors.close();
        if let Some(n) = self.notify.take() {
            let _ = registry.deregister(&mut SourceFd(&n.raw_fd()));
        }
        self.http.deregister(registry);
        let _ = registry.deregister(&mut SourceFd(&self.signals.as_raw_fd()));
        Parts {
            config: self.config,
            mainlog: self.mainlog,
            http: self.http,
            signals: self.signals,
            dbus: self.bridge.map(Bridge::into_link),
            runtime_dir: self.runtime_dir,
            child_nofile: self.child_nofile,
        }
    }

    /// Take requests, fire due deadlines and carry out effects until
    /// nothing is left to do, or for one [`SLICE`] (then `backlog` is set
    /// and the loop polls its descriptors before it goes on); returns the
    /// ending, if one came.
    fn settle(&mut self) -> Option<Ending> {
        let mut ending = None;
        let slice_end = crate::clock::mono() + SLICE;
        loop {
            let mut any = self.take_requests();
            self.core.handle_timeout(now());
            self.backlog = false;
            while let Some(effect) = self.core.poll_effect() {
                any = true;
                self.carry_out(effect, &mut ending);
                if ending.is_none() && crate::clock::mono() >= slice_end {
                    self.backlog = true;
                    break;
                }
            }
            self.pump_events();
            // Answers written; freed connections may hold the next request.
            self.http.flush_all(self.poll.registry());
            if !any || self.backlog {
                return ending;
            }
        }
    }

    /// Everything the faces have for us; true if there was anything.
    fn take_requests(&mut self) -> bool {
        let mut any = false;
        while let Some(input) = self.bridge.as_mut().and_then(Bridge::poll) {
            any = true;
            match input {
                BridgeIn::Ask { id, request } => self.ask(Asker::Dbus(id), request),
                BridgeIn::Resync => self.resync_bridge(),
                BridgeIn::Log { level, message } => self.mainlog.log(level, message),
            }
        }
        while let Some(ev) = self.http.poll_event() {
            any = true;
            self.on_http(ev);
        }
        while let Some(out) = self.rpc.poll() {
            any = true;
            match out {
                RpcOut::Ask { id, request } => self.ask(Asker::Rpc(id), request),
                RpcOut::Respond { conn, answer } => self.http.respond(conn, answer),
            }
        }
        while let Some(out) = self.web.poll() {
            any = true;
            match out {
                WebOut::Ask { id, request } => self.ask(Asker::Web(id), request),
                WebOut::Respond { conn, answer } => self.http.respond(conn, answer),
            }
        }
        any
    }

    /// One HTTP request: to the face that serves its path.
    fn on_http(&mut self, ev: HttpEvent) {
        let (conn, req) = match ev {
            HttpEvent::Closed { conn } => {
                self.rpc.closed(conn);
                return self.web.closed(conn);
            }
            HttpEvent::Request { conn, request } => (conn, request),
        };
        let path = req.path.split('?').next().unwrap_or("");
        if control::is_rpc_path(path) {
            return self.rpc.request(conn, &req);
        }
        match logtail_target(path) {
            Some(_) if req.method != "GET" => self.http.respond(conn, Answer::error(400)),
            Some((name, stream)) => {
                let main = name.is_none();
                self.ask(
                    Asker::Follow { conn, main },
                    Request::LogFile { name, stream },
                )
            }
            None => self.web.request(conn, &req),
        }
    }

    /// Have a request answered: by the core (the reply comes as an effect)
    /// or here.
    fn ask(&mut self, asker: Asker, req: Request) {
        match req {
            // Always true, in any state, as Supervisor's.
            Request::SendRemoteCommEvent { kind, data } => {
                self.events.notify(ev::Event::remote(&kind, &data));
                self.deliver(asker, Ok(Response::Bool(true)));
            }
            Request::ReloadConfig => {
                let token = self.core_token(asker);
                self.reread(token);
            }
            Request::Restart => match self.restart_refused(None) {
                Some(why) => self.deliver(asker, Err(Fault::new(FaultCode::CantReread, &why))),
                None => {
                    let token = self.core_token(asker);
                    self.core
                        .handle_command(token, Command::Request(Request::Restart), now());
                }
            },
            req => match Command::from_request(req) {
                Ok(cmd) => {
                    let token = self.core_token(asker);
                    self.core.handle_command(token, cmd, now());
                }
                Err(req) => {
                    let reply = self.locals().answer(req);
                    self.deliver(asker, reply);
                }
            },
        }
    }

    fn core_token(&mut self, asker: Asker) -> u64 {
        let token = self.next_token;
        self.next_token += 1;
        self.asked.insert(token, asker);
        token
    }

    fn locals(&mut self) -> Locals<'_> {
        Locals {
            core: &self.core,
            pipes: &mut self.pipes,
            mainlog: &mut self.mainlog,
            cgroups: &self.cgroups,
            children: &self.children,
            identification: &self.config.supervisord.identifier,
        }
    }

    /// A reply, to whoever asked.
    fn deliver(&mut self, asker: Asker, reply: api::Reply) {
        match asker {
            Asker::Rpc(id) => self.rpc.reply(id, &reply),
            Asker::Web(id) => self.web.reply(id, reply),
            Asker::Dbus(id) => {
                if let Some(b) = self.bridge.as_mut() {
                    b.answer(id, reply);
                }
            }
            Asker::Follow { conn, main } => {
                let file = match reply {
                    Ok(Response::LogFile(file)) => file,
                    _ => None,
                };
                self.http.follow(conn, file.as_deref(), main);
            }
        }
    }

    /// Carry out one effect of the core.
    fn carry_out(&mut self, effect: Effect, ending: &mut Option<Ending>) {
        match effect {
            Effect::Spawn { id, gen } => self.spawn(id, gen),
            Effect::Signal {
                id,
                gen,
                sig,
                group,
                ..
            } => self.signal(id, gen, sig, group),
            Effect::Reply { token, reply } => {
                if let Some(asker) = self.asked.remove(&token) {
                    self.deliver(asker, reply);
                }
            }
            Effect::Log { level, message } => self.mainlog.log(level, message),
            Effect::GroupAdded { name } => {
                self.group_added(&name);
                self.size_http_budget();
                self.bridge_group_added(&name);
            }
            Effect::GroupRemoved { name } => self.group_removed(name),
            Effect::ReopenLogs => {
                if let Err(e) = self.mainlog.reopen() {
                    eprintln!("could not reopen the main log: {e}");
                }
                self.pipes.reopen_all();
            }
            Effect::StateChanged {
                id,
                from,
                to,
                expected,
                pid,
                tries,
            } => {
                self.bridge_state_changed(id, from, to);
                self.state_event(id, (from, to), expected, pid, tries);
            }
            Effect::ProcessUpdated { id } => self.bridge_updated(id),
            Effect::SupervisorStopping => {
                self.events.notify(ev::Event::supervisor_stopping());
                self.tell_systemd_stopping();
            }
            Effect::Exit => *ending = Some(Ending::Exit),
            Effect::ExitWith { code } => *ending = Some(Ending::ExitWith(code)),
            Effect::Reload => *ending = Some(Ending::Reload),
        }
    }

    fn spawn(&mut self, id: ProcId, gen: u64) {
        // Shared with the core, so the spec outlives our borrow of it.
        let Some(spec) = self.core.spec_shared(id) else {
            return;
        };
        let mut result = self.start_child(id, gen, &spec);
        // Out of descriptors: idle HTTP connections make room, then one
        // more try, so that a flood of clients cannot make a program FATAL.
        // A failure after that is a spawn error: BACKOFF retries it.
        if let Err(f) = &result {
            let shed = match f.out_of_fds {
                true => self.http.shed(SHED_FOR_SPAWN, self.poll.registry()),
                false => 0,
            };
            if shed > 0 {
                self.mainlog.log(
                    LogLevel::Warn,
                    format!(
                        "out of file descriptors to spawn {}: closed {shed} idle connection(s)",
                        crate::py::py_repr(&spec.name)
                    ),
                );
                result = self.start_child(id, gen, &spec);
            }
        }
        match result {
            Ok(pid) => self.core.spawned(id, gen, pid, now()),
            Err(f) => self.core.spawn_failed(id, gen, f.text, now()),
        }
    }

    /// Prepare, make the leaf and the pipes, spawn, and watch the child.
    fn start_child(
        &mut self,
        id: ProcId,
        gen: u64,
        spec: &ProgramSpec,
    ) -> Result<u32, OpenFailure> {
        let failed = |text: String| OpenFailure {
            text,
            out_of_fds: false,
        };
        if spec.notify.uses_socket() {
            self.ensure_notify().map_err(failed)?;
        }
        let ctx = crate::spawn::Context {
            env: crate::spawn::DaemonEnv {
                environ: &self.environ,
                server_url: self.http.server_url(),
                notify_socket: self.notify.as_ref().map(NotifySocket::address),
            },
            cwd: &self.cwd,
        };
        let prepared = crate::spawn::prepare_with(spec, &ctx, &self.base_env)
            .map_err(|e| failed(e.spawnerr(&spec.name)))?;
        let registry = self.poll.registry();
        let pending = self.core.pending_config();
        self.cgroups
            .prepare_leaf(id, spec, pending, registry, &mut self.mainlog)
            .map_err(failed)?;
        let strip_ansi = self.config.supervisord.strip_ansi;
        let copied = self.mainlog.enabled(LogLevel::Debug);
        let socket = self
            .sockets
            .acquire(&spec.group, id, &mut self.mainlog)
            .map_err(failed)?;
        let stdio = self
            .pipes
            .open(id, gen, spec, (strip_ansi, copied), socket)?;
        let opts = crate::spawn::SpawnOptions {
            cgroup: self.cgroups.leaf_fd(id),
            method: self.cgroups.method,
            nofile_soft: self.child_nofile,
        };
        let child = match crate::spawn::spawn_with(&prepared, stdio.child_side(), &opts) {
            Ok(c) => c,
            Err(e) => {
                // The child may have written `supervisor: couldn't ...` to its
                // stderr pipe before exiting: log it like any output.
                self.pipes.log_failed_child_output(id, gen, stdio);
                return Err(OpenFailure {
                    text: e.spawnerr(&spec.name),
                    out_of_fds: e.out_of_fds(),
                });
            }
        };
        self.pipes.watch(registry, id, gen, stdio);
        let pid = child.pid;
        if self.cgroups.leaf_path(id).is_none() {
            self.survivors.spawned(pid, &spec.name, &mut self.mainlog);
        }
        // A program that may hand over to a process it forks: note when
        // its launcher started, for telling its orphans from others'.
        let forks = spec.notify.pidfile.is_some() || spec.notify.uses_socket();
        let since = forks.then(|| senders::start_ticks(pid)).flatten();
        self.children
            .add(registry, (id, gen), pid, child.pidfd, since)
            .map_err(|e| {
                let errno = e.raw_os_error().unwrap_or(0);
                let text = crate::sys::errno::errno_text(errno);
                failed(format!(
                    "unknown error during fork for '{}': {text}",
                    spec.name
                ))
            })?;
        Ok(pid)
    }

    /// A process in a leaf (even one whose main pid is gone while it
    /// stops) is signalled through the leaf where that applies, else
    /// through its pidfd or process group.
    fn signal(&mut self, id: ProcId, gen: u64, sig: i32, group: bool) {
        let live = self.children.get(id).is_some_and(|c| c.gen == gen);
        let stopping = self.core.process(id).is_some_and(|p| p.killing);
        let in_leaf = if live || self.cgroups.is_held(id, gen) {
            self.cgroups.signal_leaf(id, sig, group, stopping)
        } else {
            None
        };
        let result = in_leaf.unwrap_or_else(|| self.children.signal(id, gen, sig, group));
        if let Err(e) = result {
            let errno = e.raw_os_error().unwrap_or(0);
            if errno != crate::sys::errno::ESRCH {
                let text = crate::sys::errno::errno_text(errno);
                self.core.signal_failed(id, gen, text, now());
            }
        }
    }

    /// A child exited. A forking program's launcher that exited with 0
    /// waits for its pidfile first; any other exit is reported.
    fn on_exit(&mut self, exit: Exit) {
        self.survivors.exited(exit.pid, &mut self.mainlog);
        if let Some(path) = handover::pidfile_of(&self.core, &exit) {
            self.pidfiles.hold(exit, path, crate::clock::mono());
            return self.try_pidfiles();
        }
        self.report_exit(exit);
    }

    /// Take in a finished process's last output, then report its exit
    /// (once its leaf is empty, with a leaf).
    fn report_exit(&mut self, exit: Exit) {
        handover::remove_pidfile(&self.core, exit.id, &mut self.mainlog);
        let registry = self.poll.registry();
        self.pipes
            .drain(exit.id, exit.gen, registry, &mut self.mainlog);
        self.hear();
        let stopping = self.core.process(exit.id).is_some_and(|p| p.killing);
        let name = self
            .core
            .spec(exit.id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        if self
            .cgroups
            .hold_exit(&exit, stopping, &name, &mut self.mainlog)
        {
            // It may be empty already (no inotify event would come then).
            let released = self.cgroups.release_if_empty(exit.id, &mut self.mainlog);
            match released {
                Some(e) => self.core.exited(e.id, e.gen, e.status, now()),
                // Leftovers of a stop: they get the stop signal now.
                None if stopping => self.core.main_exited(exit.id, exit.gen, now()),
                None => {}
            }
            return;
        }
        self.core.exited(exit.id, exit.gen, exit.status, now());
    }

    /// Keep descriptors for every process out of the connections' reach.
    fn size_http_budget(&mut self) {
        let (soft, _) = crate::sys::rlimit::get(crate::sys::rlimit::Limit::NoFile);
        let groups = self.core.groups().iter().map(|g| &g.spec);
        let reserved = FDS_OF_DAEMON + fds_of_processes(&self.config, groups);
        self.http.set_budget(soft, reserved);
    }

    /// A group was added: allocate its AUTO log names and tell the core.
    fn group_added(&mut self, name: &str) {
        let dir = self.config.supervisord.childlogdir.clone();
        let ident = self.config.supervisord.identifier.clone();
        // The group's own processes, not a walk of every process.
        let ids = self.core.group(name).map(|g| g.procs.clone());
        let members: Vec<(ProcId, Arc<ProgramSpec>)> = ids
            .unwrap_or_default()
            .into_iter()
            .filter_map(|id| Some((id, self.core.spec_shared(id)?)))
            .collect();
        for (id, spec) in members {
            let (out, err) = self
                .pipes
                .add_process(id, &spec, &dir, &ident, &mut self.mainlog);
            self.core.set_log_paths(id, out, err);
        }
        self.wire_group(name);
    }

    /// A group was removed: forget its processes' logs and leaves (ids are
    /// never reused).
    fn group_removed(&mut self, name: String) {
        let live: HashSet<ProcId> = self.core.processes().map(|(id, _)| id).collect();
        self.pipes.retain_live(&live);
        self.cgroups.forget_removed(&live, &mut self.mainlog);
        self.sockets.remove_group(&name, &mut self.mainlog);
        self.events.remove_pool(&name);
        self.events.notify(ev::Event::group_removed(&name));
        if let Some(b) = self.bridge.as_mut() {
            b.send(Event::GroupRemoved(name));
        }
    }

    /// `reloadConfig`: read the file here, let the core diff it.
    fn reread(&mut self, token: u64) {
        self.cgroups.config_changed();
        let loaded = crate::config::load(&self.config.path, &crate::config::Env::from_process())
            .map_err(|e| e.to_string());
        let config = Box::new(loaded);
        self.core
            .handle_command(token, Command::ReloadConfig { config }, now());
    }

    /// While RUNNING, the error of the config file as it is now, if it does
    /// not load.
    fn config_error_now(&self) -> Option<String> {
        if self.core.mood() != SupervisorState::Running {
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
            self.mainlog.log(LogLevel::Warn, line);
        }
        self.mainlog.log(
            LogLevel::Error,
            format!("not restarting: the configuration does not load; still running the old one:\n{why}"),
        );
        Some(why)
    }

    fn on_signals(&mut self) {
        use crate::sys::signal::{SIGCHLD, SIGHUP};
        loop {
            match crate::sys::signal::read_signal(&self.signals) {
                Ok(Some(SIGCHLD)) => {
                    self.on_notify();
                    let registry = self.poll.registry();
                    for exit in self.children.reap_strays(registry, &mut self.mainlog) {
                        self.on_exit(exit);
                    }
                }
                Ok(Some(SIGHUP)) => {
                    let heard = "received SIGHUP indicating restart request";
                    match self.restart_refused(Some(heard)) {
                        None => self.core.daemon_signal(SIGHUP, now()),
                        // systemd (notify-reload) waits for the reload to end.
                        Some(why) => self.tell_systemd_reload_refused(&why),
                    }
                }
                Ok(Some(sig)) => self.core.daemon_signal(sig, now()),
                Ok(None) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }

    // ----- the notify protocol (issue 17) -----------------------------------

    /// Bind and watch the notify socket if it is not yet.
    fn ensure_notify(&mut self) -> Result<(), String> {
        if self.notify.is_some() {
            return Ok(());
        }
        let sock = NotifySocket::bind()
            .and_then(|n| {
                let fd = n.raw_fd();
                let registry = self.poll.registry();
                registry.register(&mut SourceFd(&fd), NOTIFY, Interest::READABLE)?;
                Ok(n)
            })
            .map_err(|e| format!("cannot open the notify socket: {e}"))?;
        self.mainlog.log(
            LogLevel::Info,
            format!("notify: programs send to NOTIFY_SOCKET={}", sock.address()),
        );
        self.notify = Some(sock);
        Ok(())
    }

    /// Read every queued notify message.
    fn on_notify(&mut self) {
        loop {
            let received = match self.notify.as_mut().map(NotifySocket::recv) {
                Some(Ok(Some(r))) => r,
                Some(Ok(None)) | None => return,
                Some(Err(e)) => {
                    let msg = format!("notify: cannot read the socket: {e}");
                    return self.mainlog.log(LogLevel::Error, msg);
                }
            };
            let (h, Some(socket)) = self.handover() else {
                return;
            };
            match received {
                Received::Unusable { pid, why } => h.dropped(socket, pid, why),
                Received::Message {
                    sender,
                    notification,
                } => h.notified(socket, sender, notification),
            }
        }
    }

    /// What a notify message or a pidfile may change, borrowed.
    fn handover(&mut self) -> (Handover<'_>, Option<&mut NotifySocket>) {
        let h = Handover {
            core: &mut self.core,
            children: &mut self.children,
            cgroups: &self.cgroups,
            mainlog: &mut self.mainlog,
            registry: self.poll.registry(),
        };
        (h, self.notify.as_mut())
    }

    /// Read the due pidfiles; report the launcher exits given back.
    fn try_pidfiles(&mut self) {
        let at = crate::clock::mono();
        let mut pidfiles = std::mem::take(&mut self.pidfiles);
        let (h, _) = self.handover();
        let back = h.try_pidfiles(&mut pidfiles, at);
        self.pidfiles = pidfiles;
        for exit in back {
            self.report_exit(exit);
        }
    }

    /// The one-line state summary for systemd.
    fn summary(&self) -> String {
        crate::notify::summary(self.core.processes().map(|(_, p)| p.state))
    }

    fn systemd_said(&mut self, failure: Option<io::Error>) {
        if let Some(e) = failure {
            let msg = format!("cannot notify systemd (NOTIFY_SOCKET): {e}");
            self.mainlog.log(LogLevel::Warn, msg);
        }
    }

    fn tell_systemd_ready(&mut self) {
        if self.systemd.is_none() {
            return;
        }
        let summary = self.summary();
        let failure = self.systemd.as_mut().and_then(|s| s.ready(summary));
        self.systemd_said(failure);
    }

    fn tell_systemd_status(&mut self) {
        if self.systemd.is_none() {
            return;
        }
        let summary = self.summary();
        let failure = self.systemd.as_mut().and_then(|s| s.status(summary));
        self.systemd_said(failure);
    }

    /// A shutdown or a reload (SIGHUP, `supervisor.restart`) began.
    fn tell_systemd_stopping(&mut self) {
        let mood = self.core.mood();
        let failure = self.systemd.as_mut().and_then(|s| match mood {
            SupervisorState::Restarting => s.reloading(crate::clock::mono_usec()),
            _ => s.stopping(),
        });
        self.systemd_said(failure);
    }

    /// A SIGHUP that did not reload still ends systemd's reload.
    fn tell_systemd_reload_refused(&mut self, why: &str) {
        if self.systemd.is_none() {
            return;
        }
        let first = why.lines().next().unwrap_or(why).to_string();
        let failure = self.systemd.as_mut().and_then(|s| {
            s.reloading(crate::clock::mono_usec())
                .or_else(|| s.send(&format!("READY=1\nSTATUS=reload refused: {first}")))
        });
        self.systemd_said(failure);
    }

    fn ping_systemd(&mut self) {
        let at = crate::clock::mono();
        let failure = self.systemd.as_mut().and_then(|s| s.ping_if_due(at));
        self.systemd_said(failure);
    }

    /// Give the D-Bus side a waker on this reactor's poll and the whole
    /// state (a new core may have new groups).
    fn start_bridge(&mut self) {
        if self.bridge.is_none() {
            return;
        }
        let waker = match mio::Waker::new(self.poll.registry(), WAKER) {
            Ok(w) => Some(w),
            Err(e) => {
                let msg = format!("cannot create a waker for D-Bus: {e}");
                self.mainlog.log(LogLevel::Critical, msg);
                None
            }
        };
        if let Some(b) = self.bridge.as_mut() {
            b.set_waker(waker);
        }
        self.resync_bridge();
    }

    fn resync_bridge(&mut self) {
        if self.bridge.is_none() {
            return;
        }
        let all = self.snapshots(|_| true);
        if let Some(b) = self.bridge.as_mut() {
            b.send(Event::Resync(all));
        }
    }

    fn snapshots(&self, keep: impl Fn(&ProgramSpec) -> bool) -> Vec<api::ProcessSnapshot> {
        self.core
            .processes()
            .filter(|(_, p)| keep(&p.spec))
            .filter_map(|(id, _)| local::snapshot(&self.core, &self.cgroups, id))
            .collect()
    }

    fn bridge_state_changed(&mut self, id: ProcId, from: ProcessState, to: ProcessState) {
        if self.bridge.is_none() {
            return;
        }
        let Some(snap) = local::snapshot(&self.core, &self.cgroups, id) else {
            return;
        };
        let ev = Event::Changed {
            from,
            to,
            snap: Box::new(snap),
        };
        if let Some(b) = self.bridge.as_mut() {
            b.send(ev);
        }
    }

    fn bridge_updated(&mut self, id: ProcId) {
        if self.bridge.is_none() {
            return;
        }
        let Some(snap) = local::snapshot(&self.core, &self.cgroups, id) else {
            return;
        };
        if let Some(b) = self.bridge.as_mut() {
            b.send(Event::Updated(Box::new(snap)));
        }
    }

    fn bridge_group_added(&mut self, name: &str) {
        if self.bridge.is_none() {
            return;
        }
        let snaps = self.snapshots(|spec| spec.group == name);
        if let Some(b) = self.bridge.as_mut() {
            b.send(Event::GroupAdded(snaps));
        }
    }
}

/// The event system and fcgi sockets: wiring between the parts.
impl Reactor {
    /// The core's next deadline or the next tick a listener waits for.
    fn next_deadline(&self) -> Option<std::time::Instant> {
        [
            self.core.next_deadline(),
            self.events.next_deadline(),
            self.http.next_deadline(),
            self.pidfiles.next_deadline(),
            self.systemd.as_ref().and_then(Systemd::next_deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A group was added: a listener pool joins the event system, an
    /// fcgi-program's socket is made ready; then its `PROCESS_GROUP_ADDED`
    /// (which a new pool receives too, as in Supervisor).
    fn wire_group(&mut self, name: &str) {
        let Some(g) = self.core.group(name) else {
            return;
        };
        match &g.spec.kind {
            crate::config::GroupKind::EventListenerPool(pool) => {
                let members: Vec<(ProcId, String)> = g
                    .procs
                    .iter()
                    .filter_map(|&id| Some((id, self.core.spec(id)?.name.clone())))
                    .collect();
                for (id, _) in &members {
                    self.pipes.set_listener(*id);
                }
                self.events.add_pool(name, pool, members);
            }
            crate::config::GroupKind::Fcgi(fcgi) => self.sockets.add_group(name, fcgi),
            _ => {}
        }
        self.events.notify(ev::Event::group_added(name));
    }

    /// A process changed state: its `PROCESS_STATE_*` event, the listener
    /// bookkeeping, and the fcgi socket it no longer needs.
    fn state_event(
        &mut self,
        id: ProcId,
        (from, to): (ProcessState, ProcessState),
        expected: bool,
        pid: u32,
        tries: i64,
    ) {
        if self.events.wants(ev::EventKind::of_state(to)) {
            if let Some(spec) = self.core.spec(id) {
                let about = ev::About {
                    name: &spec.name,
                    group: &spec.group,
                    pid,
                };
                let event = ev::Event::state(to, from, about, expected, tries);
                self.events.notify(event);
            }
        }
        self.events.process_state(id, to);
        if matches!(
            to,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Backoff
                | ProcessState::Fatal
        ) {
            self.sockets.release(id, &mut self.mainlog);
        }
    }

    /// What the pipes heard: protocol bytes to the listeners' face, output
    /// and captures as events.
    fn hear(&mut self) {
        while let Some(h) = self.pipes.poll_heard() {
            match h {
                Heard::Protocol { id, data } => self.events.listener_output(id, &data),
                Heard::StdinClosed { id } => self.events.write_failed(id),
                Heard::Logged { id, stream, data } => {
                    self.output_event(id, ev::EventKind::log_of(stream), &data)
                }
                Heard::Communication { id, stream, data } => {
                    let kind = ev::EventKind::communication_of(stream);
                    self.output_event(id, kind, &data);
                    let name = self
                        .core
                        .spec(id)
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    let name = crate::py::py_repr(&name);
                    let msg = format!("{name} {} emitted a comm event", stream.name());
                    self.mainlog.log(LogLevel::Debug, msg);
                }
            }
        }
    }

    fn output_event(&mut self, id: ProcId, kind: ev::EventKind, data: &[u8]) {
        if !self.events.wants(kind) {
            return;
        }
        let (Some(spec), Some(p)) = (self.core.spec(id), self.core.process(id)) else {
            return;
        };
        let about = ev::About {
            name: &spec.name,
            group: &spec.group,
            pid: p.pid,
        };
        let stream = match kind {
            ev::EventKind::ProcessLogStderr | ev::EventKind::ProcessCommunicationStderr => {
                api::Stream::Stderr
            }
            _ => api::Stream::Stdout,
        };
        let event = match kind {
            ev::EventKind::ProcessLogStdout | ev::EventKind::ProcessLogStderr => {
                ev::Event::log(stream, about, data)
            }
            _ => ev::Event::communication(stream, about, data),
        };
        self.events.notify(event);
    }

    /// Ticks, and the event face's work: envelopes to listeners' stdin,
    /// log lines. A failed write comes back as heard and is retried on
    /// another listener at once.
    fn pump_events(&mut self) {
        self.events.handle_timeout(now());
        loop {
            self.hear();
            let Some(out) = self.events.poll_output() else {
                return;
            };
            match out {
                ev::Output::Write { id, bytes } => {
                    self.pipes.write_stdin(self.poll.registry(), id, &bytes)
                }
                ev::Output::Log { level, message } => self.mainlog.log(level, message),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logtail_paths() {
        use api::Stream::*;
        assert_eq!(logtail_target("/mainlogtail"), Some((None, Stdout)));
        assert_eq!(
            logtail_target("/logtail/web"),
            Some((Some("web".into()), Stdout))
        );
        assert_eq!(
            logtail_target("/logtail/g%3Aw/stderr"),
            Some((Some("g:w".into()), Stderr))
        );
        assert_eq!(
            logtail_target("/logtail/w/stdout"),
            Some((Some("w".into()), Stdout))
        );
        assert_eq!(logtail_target("/index.html"), None);
    }
}
