//! A virtual-clock driver for `Core`: fake pids, instant spawns, helpers that
//! read like a timeline.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::api::{ProcessState, Reply, Request};
use crate::config::{
    Config, CtlSpec, DbusMode, GroupKind, GroupSpec, LogLevel, MainLog, ProgramSpec,
    SupervisordSpec,
};
use crate::core::describe::utc_time;
use crate::core::{can_become, Command, Core, Effect, ExitStatus, Now, ProcId, Timer};

/// Wall time at the epoch: 2026-11-22 02:03:00 UTC.
pub const WALL0: f64 = 1_795_312_980.0;

pub fn config(groups: Vec<GroupSpec>) -> Config {
    let mut groups = groups;
    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    Config {
        path: PathBuf::from("/etc/supervisord.conf"),
        supervisord: SupervisordSpec {
            logfile: MainLog::File("/tmp/supervisord.log".into()),
            logfile_maxbytes: 50 << 20,
            logfile_backups: 10,
            loglevel: LogLevel::Info,
            pidfile: "/tmp/supervisord.pid".into(),
            umask: 0o22,
            nodaemon: true,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: "/tmp".into(),
            user: None,
            directory: None,
            strip_ansi: false,
            environment: vec![],
            identifier: "supervisor".into(),
            cgroups: false,
            dbus: DbusMode::Off,
            dbus_group: None,
            web_ui: true,
            exit_on_fatal: Default::default(),
        },
        unix_http_servers: vec![],
        inet_http_servers: vec![],
        supervisorctl: CtlSpec::default(),
        groups,
        messages: vec![],
    }
}

/// A homogeneous group for one program.
pub fn program(spec: ProgramSpec) -> GroupSpec {
    GroupSpec {
        name: spec.group.clone(),
        priority: spec.priority,
        kind: GroupKind::Program,
        processes: vec![std::sync::Arc::new(spec)],
        cgroup: None,
    }
}

/// A `[group:name]` of programs.
pub fn group(name: &str, priority: i64, mut specs: Vec<ProgramSpec>) -> GroupSpec {
    for s in &mut specs {
        s.group = name.into();
    }
    specs.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    GroupSpec {
        name: name.into(),
        priority,
        kind: GroupKind::Group,
        processes: specs.into_iter().map(std::sync::Arc::new).collect(),
        cgroup: None,
    }
}

pub fn prog(name: &str) -> ProgramSpec {
    ProgramSpec::with_defaults(name, "/bin/sleep 1000")
}

/// A duration of `s` seconds (timelines read in seconds).
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

pub fn start(name: &str, wait: bool) -> Request {
    Request::StartProcess {
        name: name.into(),
        wait,
    }
}

pub fn stop(name: &str, wait: bool) -> Request {
    Request::StopProcess {
        name: name.into(),
        wait,
    }
}

/// `getProcessInfo` of `name`, which must answer.
pub fn info(h: &mut Harness, name: &str) -> crate::api::ProcessInfo {
    match h.call(Request::GetProcessInfo { name: name.into() }) {
        Ok(crate::api::Response::Info(i)) => i,
        other => panic!("{other:?}"),
    }
}

pub struct Harness {
    pub core: Core,
    pub epoch: Instant,
    /// Virtual time since the epoch.
    pub t: Duration,
    next_pid: u32,
    next_token: u64,
    /// Every effect seen, oldest first.
    pub effects: Vec<Effect>,
    /// Namespecs whose spawns fail, with the error text.
    pub bad: HashMap<String, String>,
    /// When set, `Spawn` effects are left for the test to answer.
    pub manual_spawn: bool,
    /// Spawns the test has not answered yet (with `manual_spawn`).
    pub unanswered: Vec<(ProcId, u64)>,
    /// (id, gen) pairs that have a live child, to check generations.
    pub live: HashSet<(ProcId, u64)>,
}

impl Harness {
    pub fn new(groups: Vec<GroupSpec>) -> Harness {
        Harness::with_config(config(groups))
    }

    pub fn programs(specs: Vec<ProgramSpec>) -> Harness {
        Harness::new(specs.into_iter().map(program).collect())
    }

    pub fn with_config(config: Config) -> Harness {
        Harness::build(config, HashMap::new())
    }

    /// A harness whose spawns of the namespecs in `bad` fail with that text.
    pub fn with_bad(groups: Vec<GroupSpec>, bad: &[(&str, &str)]) -> Harness {
        let bad = bad
            .iter()
            .map(|&(n, e)| (n.to_string(), e.to_string()))
            .collect();
        Harness::build(config(groups), bad)
    }

    fn build(config: Config, bad: HashMap<String, String>) -> Harness {
        // Any instant works as the epoch: the core never reads the clock.
        let epoch = crate::clock::mono();
        let now = Now {
            mono: epoch,
            wall: WALL0,
        };
        let core = Core::new(config, now, utc_time);
        let mut h = Harness {
            core,
            epoch,
            t: Duration::ZERO,
            next_pid: 100,
            next_token: 1,
            effects: vec![],
            bad,
            manual_spawn: false,
            unanswered: vec![],
            live: HashSet::new(),
        };
        h.pump();
        h
    }

    pub fn now(&self) -> Now {
        Now {
            mono: self.epoch + self.t,
            wall: WALL0 + self.t.as_secs_f64(),
        }
    }

    /// Drain effects, answering spawns like a reactor whose forks succeed
    /// (or fail, for names in `bad`).
    pub fn pump(&mut self) {
        while let Some(e) = self.core.poll_effect() {
            if let Effect::StateChanged { from, to, .. } = e {
                assert!(can_become(from, to), "illegal {from:?} -> {to:?}");
            }
            self.effects.push(e.clone());
            if let Effect::Spawn { id, gen } = e {
                assert!(
                    !self.live.iter().any(|&(i, _)| i == id),
                    "spawn of {id:?} while a child of it is alive"
                );
                if self.manual_spawn {
                    self.unanswered.push((id, gen));
                    continue;
                }
                self.answer_spawn(id, gen);
            }
        }
    }

    pub fn answer_spawn(&mut self, id: ProcId, gen: u64) {
        let now = self.now();
        let name = self.core.spec(id).unwrap().namespec();
        if let Some(err) = self.bad.get(&name).cloned() {
            self.core.spawn_failed(id, gen, err, now);
        } else {
            let pid = self.next_pid;
            self.next_pid += 1;
            assert!(
                !self.live.iter().any(|&(i, _)| i == id),
                "two live generations of {name}"
            );
            self.live.insert((id, gen));
            self.core.spawned(id, gen, pid, now);
        }
    }

    /// Move the clock forward, stopping at every deadline on the way.
    pub fn advance(&mut self, d: Duration) {
        let target = self.t + d;
        while let Some(at) = self.core.next_deadline() {
            let at = at - self.epoch;
            if at > target {
                break;
            }
            assert!(at >= self.t, "deadline in the past: {at:?} < {:?}", self.t);
            self.t = at;
            self.core.handle_timeout(self.now());
            self.pump();
        }
        self.t = target;
        self.core.handle_timeout(self.now());
        self.pump();
    }

    pub fn secs(&mut self, s: f64) {
        self.advance(Duration::from_secs_f64(s));
    }

    pub fn id(&self, name: &str) -> ProcId {
        let ids = self.core.find(name).unwrap();
        assert_eq!(ids.len(), 1, "{name} is not one process");
        ids[0]
    }

    pub fn state(&self, name: &str) -> ProcessState {
        self.core.process(self.id(name)).unwrap().state
    }

    pub fn pid(&self, name: &str) -> u32 {
        self.core.process(self.id(name)).unwrap().pid
    }

    /// The child of `name` dies with `status`.
    pub fn exit(&mut self, name: &str, status: ExitStatus) {
        let id = self.id(name);
        let gen = self.core.process(id).unwrap().gen;
        self.live.remove(&(id, gen));
        let now = self.now();
        self.core.exited(id, gen, status, now);
        self.pump();
    }

    /// `name`'s current run sends a notify message.
    pub fn notify(&mut self, name: &str, n: crate::api::Notification) {
        let id = self.id(name);
        let gen = self.core.process(id).unwrap().gen;
        let now = self.now();
        self.core.notify(id, gen, &n, now);
        self.pump();
    }

    /// The reactor asks the core to supervise `pid` instead (MAINPID=).
    pub fn main_pid(&mut self, name: &str, pid: u32) -> bool {
        let id = self.id(name);
        let gen = self.core.process(id).unwrap().gen;
        let now = self.now();
        let taken = self.core.main_pid(id, gen, pid, "MAINPID=", now);
        self.pump();
        taken
    }

    pub fn exited(&mut self, name: &str, code: i32) {
        self.exit(name, ExitStatus::Code(code));
    }

    pub fn killed(&mut self, name: &str, sig: i32) {
        self.exit(name, ExitStatus::Signal { sig, core: false });
    }

    /// Send a command; returns its token.
    pub fn send(&mut self, cmd: impl Into<Command>) -> u64 {
        let cmd = cmd.into();
        let token = self.next_token;
        self.next_token += 1;
        let now = self.now();
        self.core.handle_command(token, cmd, now);
        self.pump();
        token
    }

    /// The reply to `token`, if it came.
    pub fn reply(&self, token: u64) -> Option<Reply> {
        self.effects.iter().find_map(|e| match e {
            Effect::Reply { token: t, reply } if *t == token => Some(reply.clone()),
            _ => None,
        })
    }

    /// Send a command that must reply at once.
    pub fn call(&mut self, cmd: impl Into<Command>) -> Reply {
        let token = self.send(cmd);
        self.reply(token).expect("an immediate reply")
    }

    /// Main-log lines so far, as `LEVEL message`.
    pub fn logs(&self) -> Vec<String> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Log { level, message } => Some(format!("{} {message}", level.tag())),
                _ => None,
            })
            .collect()
    }

    pub fn has_log(&self, line: &str) -> bool {
        self.logs().iter().any(|l| l == line)
    }

    /// Signals sent so far: (namespec, pid, sig, group).
    pub fn signals(&self) -> Vec<(String, u32, i32, bool)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Signal {
                    id,
                    pid,
                    sig,
                    group,
                    ..
                } => {
                    let name = self
                        .core
                        .spec(*id)
                        .map(|s| s.namespec())
                        .unwrap_or_default();
                    Some((name, *pid, *sig, *group))
                }
                _ => None,
            })
            .collect()
    }

    /// Namespecs in the order they were spawned.
    pub fn spawns(&self) -> Vec<String> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Spawn { id, .. } => self.core.spec(*id).map(|s| s.namespec()),
                _ => None,
            })
            .collect()
    }

    /// Virtual time at which `name`'s timer is armed.
    pub fn timer(&self, name: &str, t: Timer) -> Option<Duration> {
        self.core.timer(self.id(name), t).map(|at| at - self.epoch)
    }
}
