//! The `Core` record, its read-only views, and the transitions every input
//! goes through (spawn, kill, timers).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::command::{CommandCheck, Effect};
use super::depends::Deps;
use super::process::{Process, Timer};
use super::state::{ProcessState, SupervisorState};
use super::timers::Timers;
use super::wait::Wait;
use super::{Now, ProcId};
use crate::api::{Fault, FaultCode};
use crate::config::signal::signame;
use crate::config::{Config, ExitOnFatal, GroupSpec, LogLevel, ProgramSpec};
use crate::py::py_repr;

const SIGKILL: i32 = 9;

/// Groups up to this size are searched by name without an index.
const SEARCHED_AS_IT_IS: usize = 8;

/// An active process group.
#[derive(Debug, Clone)]
pub struct Group {
    /// The spec it was created from (what `reread` compares against).
    pub spec: GroupSpec,
    /// In spec order: (priority, name).
    pub procs: Vec<ProcId>,
    /// `procs` sorted by process name, for lookups by name; empty for a
    /// group small enough to search as it is (most are of one program).
    pub(super) by_name: Vec<ProcId>,
}

/// The `startProcess` command check, done by the reactor (it needs the file
/// system). The default accepts everything: spawn errors then surface as
/// `SPAWN_ERROR` through `spawn_failed`.
pub type Checker = Box<dyn Fn(&ProgramSpec) -> CommandCheck>;

/// The supervisor state machine. See the module docs of `core`.
pub struct Core {
    pub(super) groups: Vec<Group>,
    /// Boxed: a BTreeMap filled in id order keeps its leaves about half
    /// full, which doubled the cost of each (large) state held inline.
    pub(super) procs: BTreeMap<ProcId, Box<Process>>,
    /// The armed timers of `procs`.
    pub(super) timers: Timers,
    next_id: u32,
    pub(super) pending: Config,
    pub(super) mood: SupervisorState,
    /// Group names still to stop, ascending priority; set on the first
    /// shutdown pass.
    pub(super) stop_groups: Option<Vec<String>>,
    /// During a shutdown: the group being stopped (its stop sent) and the
    /// first of its processes not yet done.
    pub(super) stopping: Option<(String, usize)>,
    pub(super) shutdown_report_at: Option<Instant>,
    pub(super) finished: bool,
    pub(super) waits: Vec<Wait>,
    pub(super) effects: VecDeque<Effect>,
    /// `Log` effects, handed out before the others: the main log then shows
    /// each transition as it happens, not after a whole batch of spawns
    /// (a spawn's `spawned:` line would otherwise queue behind the batch).
    pub(super) logs: VecDeque<Effect>,
    /// `Spawn` effects, handed out after every other kind: a `start all` of
    /// thousands queues a spawn each, and a reply to a request that comes
    /// while the runtime works through them must not wait behind them
    /// (each spawn costs the runtime a fork and exec). The runtime takes a
    /// bounded slice at a time and serves its clients between slices.
    pub(super) spawns: VecDeque<Effect>,
    pub(super) local_time: fn(i64) -> String,
    pub(super) check: Checker,
    /// Pending groups read by the last reread and not added since (their
    /// AUTO log names show as 'auto' in getAllConfigInfo).
    pub(super) reread: std::collections::BTreeSet<String>,
    /// Issue 18: the dependency graph and the starts and stops it holds
    /// (`depends.rs`); `[supervisord] exit_on_fatal`, a FATAL it names
    /// (acted on at the end of the input) and the exit status it gives
    /// (`policy.rs`).
    pub(super) deps: Deps,
    pub(super) exit_on_fatal: ExitOnFatal,
    pub(super) fatal_exit: Option<String>,
    pub(super) exit_status: i32,
    /// Indexes of `groups` sorted by group name (see [`Core::reindex`]).
    by_name: Vec<usize>,
    /// Each process's place in start order, indexed by `ProcId.0`.
    rank: Vec<u32>,
    /// How many processes are not in a stopped state (kept by
    /// `set_state`): a shutdown knows it is done without a walk.
    pub(super) unstopped: usize,
}

impl Core {
    /// Build the supervisor for `config` and autostart its processes (the
    /// `Spawn` effects are waiting in `poll_effect`).
    pub fn new(config: Config, now: Now, local_time: fn(i64) -> String) -> Core {
        let mut core = Core {
            groups: Vec::new(),
            procs: BTreeMap::new(),
            timers: Timers::default(),
            next_id: 0,
            pending: config.clone(),
            mood: SupervisorState::Running,
            stop_groups: None,
            stopping: None,
            shutdown_report_at: None,
            finished: false,
            waits: Vec::new(),
            effects: VecDeque::new(),
            logs: VecDeque::new(),
            spawns: VecDeque::new(),
            local_time,
            check: Box::new(|_| CommandCheck::Ok),
            reread: Default::default(),
            deps: Deps::default(),
            exit_on_fatal: config.supervisord.exit_on_fatal.clone(),
            fatal_exit: None,
            exit_status: 0,
            by_name: Vec::new(),
            rank: Vec::new(),
            unstopped: 0,
        };
        for g in &config.groups {
            let group = core.new_group(g.clone());
            core.groups.push(group);
        }
        core.groups
            .sort_by(|a, b| (a.spec.priority, &a.spec.name).cmp(&(b.spec.priority, &b.spec.name)));
        core.reindex();
        core.deps_changed();
        for gi in 0..core.groups.len() {
            core.autostart_at(gi, now);
        }
        core.drive(now);
        core
    }

    /// Install the reactor's command check for `startProcess`.
    pub fn set_command_check(&mut self, check: Checker) {
        self.check = check;
    }

    /// Record the log file names the runtime chose (AUTO) for ProcessInfo.
    pub fn set_log_paths(&mut self, id: ProcId, stdout: String, stderr: String) {
        if let Some(p) = self.procs.get_mut(&id) {
            p.stdout_logfile = stdout;
            p.stderr_logfile = stderr;
        }
    }

    // ----- read-only views -------------------------------------------------

    pub fn process(&self, id: ProcId) -> Option<&Process> {
        self.procs.get(&id).map(|p| &**p)
    }

    pub fn spec(&self, id: ProcId) -> Option<&ProgramSpec> {
        self.procs.get(&id).map(|p| &*p.spec)
    }

    /// [`Core::spec`] as a shared handle, for keeping beyond a borrow.
    pub fn spec_shared(&self, id: ProcId) -> Option<Arc<ProgramSpec>> {
        self.procs.get(&id).map(|p| p.spec.clone())
    }

    /// Every process in start order (group priority, then process priority).
    pub fn processes(&self) -> impl Iterator<Item = (ProcId, &Process)> + '_ {
        self.groups
            .iter()
            .flat_map(|g| g.procs.iter())
            .map(move |&id| (id, &*self.procs[&id]))
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The active group named `name` (a lookup in the name index).
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.group_index(name).map(|gi| &self.groups[gi])
    }

    pub fn by_pid(&self, pid: u32) -> Option<ProcId> {
        (pid != 0)
            .then(|| self.procs.iter().find(|(_, p)| p.pid == pid))
            .flatten()
            .map(|(&id, _)| id)
    }

    pub fn mood(&self) -> SupervisorState {
        self.mood
    }

    /// The last config read (`reloadConfig`), which `addProcessGroup` uses.
    pub fn pending_config(&self) -> &Config {
        &self.pending
    }

    /// Resolve a namespec: `name`, `group:name`, `group:*`, `group:`, `all`.
    pub fn find(&self, namespec: &str) -> Result<Vec<ProcId>, Fault> {
        if namespec == "all" {
            return Ok(self.processes().map(|(id, _)| id).collect());
        }
        let (gi, id) = self.lookup(namespec)?;
        Ok(match id {
            Some(id) => vec![id],
            None => self.groups[gi].procs.clone(),
        })
    }

    /// Supervisor's `_getGroupAndProcess`: split on the first `:`.
    pub(super) fn lookup(&self, namespec: &str) -> Result<(usize, Option<ProcId>), Fault> {
        let bad = || Fault::new(FaultCode::BadName, namespec);
        let (group, name) = match namespec.split_once(':') {
            Some((g, "" | "*")) => (g, None),
            Some((g, n)) => (g, Some(n)),
            None => (namespec, Some(namespec)),
        };
        let gi = self.group_index(group).ok_or_else(bad)?;
        match name {
            None => Ok((gi, None)),
            Some(n) => Ok((gi, Some(self.process_in(gi, n).ok_or_else(bad)?))),
        }
    }

    /// The group named `name`: a binary search of the name index.
    pub(super) fn group_index(&self, name: &str) -> Option<usize> {
        let at = self
            .by_name
            .binary_search_by(|&gi| self.groups[gi].spec.name.as_str().cmp(name))
            .ok()?;
        Some(self.by_name[at])
    }

    /// The process named `name` in group `gi`.
    fn process_in(&self, gi: usize, name: &str) -> Option<ProcId> {
        let g = &self.groups[gi];
        if g.by_name.is_empty() {
            return g
                .procs
                .iter()
                .copied()
                .find(|id| self.procs[id].spec.name == name);
        }
        let at = g
            .by_name
            .binary_search_by(|id| self.procs[id].spec.name.as_str().cmp(name))
            .ok()?;
        Some(g.by_name[at])
    }

    /// Rebuild the name index and the start-order ranks after the set of
    /// groups changed (lookups by name are then O(log n), not a walk).
    fn reindex(&mut self) {
        let mut by_name: Vec<usize> = (0..self.groups.len()).collect();
        by_name.sort_by(|&a, &b| self.groups[a].spec.name.cmp(&self.groups[b].spec.name));
        self.by_name = by_name;
        self.rank = vec![u32::MAX; self.next_id as usize];
        let ids: Vec<ProcId> = self.processes().map(|(id, _)| id).collect();
        for (i, id) in ids.into_iter().enumerate() {
            self.rank[id.0 as usize] = i as u32;
        }
    }

    /// A process's place in start order (group priority, then process
    /// priority).
    pub(super) fn rank(&self, id: ProcId) -> u32 {
        self.rank.get(id.0 as usize).copied().unwrap_or(u32::MAX)
    }

    /// Fire every timer that is due.
    pub fn handle_timeout(&mut self, now: Now) {
        self.drive(now);
    }

    /// The earliest armed deadline; never in the past after any input.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers
            .first()
            .into_iter()
            .chain(self.shutdown_report_at)
            .min()
    }

    /// Which timer of `id` is armed, and when (for tests and diagnostics).
    pub fn timer(&self, id: ProcId, t: Timer) -> Option<Instant> {
        self.timers.get(id, t)
    }

    /// The next effect: main-log lines first, then everything else in
    /// order, then spawns (see the `spawns` field for why).
    pub fn poll_effect(&mut self) -> Option<Effect> {
        let e = (self.logs.pop_front())
            .or_else(|| self.effects.pop_front())
            .or_else(|| self.spawns.pop_front());
        // A `start all` queues an effect per process; do not keep that
        // high-water mark for the daemon's lifetime.
        if e.is_none() {
            self.effects.shrink_to(64);
            self.logs.shrink_to(64);
            self.spawns.shrink_to(64);
        }
        e
    }

    // ----- internals ---------------------------------------------------------

    pub(super) fn proc_mut(&mut self, id: ProcId) -> &mut Process {
        self.procs
            .get_mut(&id)
            .expect("process id of an active group")
    }

    pub(super) fn log(&mut self, level: LogLevel, message: String) {
        self.logs.push_back(Effect::Log { level, message });
    }

    pub(super) fn emit(&mut self, e: Effect) {
        match e {
            Effect::Spawn { .. } => self.spawns.push_back(e),
            e => self.effects.push_back(e),
        }
    }

    /// A group's processes, made and recorded; the group is not placed.
    fn new_group(&mut self, spec: GroupSpec) -> Group {
        let mut procs = Vec::new();
        for ps in &spec.processes {
            let id = ProcId(self.next_id);
            self.next_id += 1;
            self.procs.insert(id, Box::new(Process::new(ps.clone())));
            procs.push(id);
        }
        let mut by_name = Vec::new();
        if procs.len() > SEARCHED_AS_IT_IS {
            by_name = procs.clone();
            by_name.sort_by(|a, b| self.procs[a].spec.name.cmp(&self.procs[b].spec.name));
        }
        Group {
            spec,
            procs,
            by_name,
        }
    }

    pub(super) fn insert_group(&mut self, spec: GroupSpec) {
        let group = self.new_group(spec);
        let key = (group.spec.priority, &group.spec.name);
        let at = self
            .groups
            .partition_point(|g| (g.spec.priority, &g.spec.name) <= key);
        self.groups.insert(at, group);
        self.reindex();
    }

    pub(super) fn remove_group(&mut self, gi: usize) {
        let g = self.groups.remove(gi);
        self.reindex();
        for id in &g.procs {
            if !self.procs[id].state.is_stopped() {
                self.unstopped -= 1;
            }
        }
        for id in &g.procs {
            self.procs.remove(id);
            self.timers.clear_all(*id);
        }
        self.deps_changed();
        self.emit(Effect::GroupRemoved { name: g.spec.name });
        // No reply may wait forever on a process that is gone.
        for id in g.procs {
            self.resolve_waits(id);
        }
    }

    /// Start the group's autostart processes that were never started.
    pub(super) fn autostart(&mut self, group: &str, now: Now) {
        if let Some(gi) = self.group_index(group) {
            self.autostart_at(gi, now);
        }
    }

    fn autostart_at(&mut self, gi: usize, now: Now) {
        for id in self.groups[gi].procs.clone() {
            let p = &self.procs[&id];
            if self.mood == SupervisorState::Running
                && p.spec.autostart
                && p.spawn_count == 0
                && p.state == ProcessState::Stopped
            {
                // STOPPED -> STARTING (after its dependencies)
                self.start_in_order(id, now, true);
            }
        }
    }

    /// Every state change goes through here: checked against the table,
    /// announced, and waiting replies resolved.
    pub(super) fn set_state(&mut self, id: ProcId, to: ProcessState, expected: bool, now: Now) {
        let p = self.proc_mut(id);
        let from = p.state;
        if from == to {
            return;
        }
        debug_assert!(
            super::state::can_become(from, to),
            "illegal transition {from:?} -> {to:?}"
        );
        p.state = to;
        match (from.is_stopped(), to.is_stopped()) {
            (true, false) => self.unstopped += 1,
            (false, true) => self.unstopped -= 1,
            _ => {}
        }
        let p = self.proc_mut(id);
        if to == ProcessState::Backoff {
            p.backoff += 1;
        }
        let (pid, tries) = (p.last_pid, p.backoff);
        if to == ProcessState::Backoff {
            let at = now.mono + Duration::from_secs(tries as u64);
            self.timers.set(id, Timer::Backoff, at);
        }
        self.emit(Effect::StateChanged {
            id,
            from,
            to,
            expected,
            pid,
            tries,
        });
        if to == ProcessState::Fatal {
            self.on_fatal(id);
        }
        self.resolve_waits(id);
    }

    /// Supervisor's `spawn()`: ask the runtime for a new child.
    pub(super) fn spawn(&mut self, id: ProcId, now: Now) {
        let p = self.proc_mut(id);
        if p.pid != 0 {
            let msg = format!("process {} already running", py_repr(&p.spec.name));
            self.log(LogLevel::Warn, msg);
            return;
        }
        p.killing = false;
        p.spawnerr = None;
        p.blocked = None;
        p.exitstatus = None;
        p.last_pid = 0;
        p.failing = None;
        p.status_text.clear();
        p.watchdog = p.spec.notify.watchdog;
        p.mark_started(now.mono, now.wall);
        p.gen += 1;
        p.spawn_count += 1;
        let gen = p.gen;
        self.deps.waiting.remove(&id);
        self.timers.clear_all(id);
        self.set_state(id, ProcessState::Starting, true, now);
        self.emit(Effect::Spawn { id, gen });
    }

    /// BACKOFF -> FATAL once the retries are used up.
    pub(super) fn maybe_give_up(&mut self, id: ProcId, now: Now) {
        let p = &self.procs[&id];
        if p.state == ProcessState::Backoff && p.backoff > p.spec.startretries {
            let msg = format!(
                "gave up: {} entered FATAL state, too many start retries too quickly",
                p.spec.name
            );
            self.give_up(id, now);
            self.log(LogLevel::Info, msg);
        }
    }

    pub(super) fn give_up(&mut self, id: ProcId, now: Now) {
        let p = self.proc_mut(id);
        p.backoff = 0;
        self.timers.clear_all(id);
        self.set_state(id, ProcessState::Fatal, true, now);
    }

    /// Supervisor's `kill(sig)`: the stop path. Returns a message when there
    /// was nothing to signal.
    pub(super) fn kill(&mut self, id: ProcId, sig: i32, now: Now) -> Option<String> {
        let p = self.proc_mut(id);
        let name = p.spec.name.clone();
        if p.state == ProcessState::Backoff {
            self.timers.clear_all(id);
            self.log(
                LogLevel::Debug,
                format!("Attempted to kill {name}, which is in BACKOFF state."),
            );
            // BACKOFF -> STOPPED
            self.set_state(id, ProcessState::Stopped, true, now);
            return None;
        }
        let wait = Duration::from_secs(p.spec.stopwaitsecs.max(0) as u64);
        if p.pid == 0 {
            if p.state == ProcessState::Starting {
                // Spawn requested, pid not reported yet: the signal goes out in `spawned`.
                p.killing = true;
                self.timers.clear_all(id);
                self.timers.set(id, Timer::StopWait, now.mono + wait);
                self.set_state(id, ProcessState::Stopping, true, now);
                return None;
            }
            let msg = format!(
                "attempted to kill {name} with sig {} but it wasn't running",
                signame(sig)
            );
            self.log(LogLevel::Debug, msg.clone());
            return Some(msg);
        }
        let escalating = p.state == ProcessState::Stopping;
        self.send_kill(id, sig, escalating, now);
        None
    }

    /// Signal a live child as part of a stop. `escalating` is the SIGKILL
    /// after `stopwaitsecs` (to the group when `killasgroup`); otherwise it is
    /// the stop signal (to the group when `stopasgroup`).
    pub(super) fn send_kill(&mut self, id: ProcId, sig: i32, escalating: bool, now: Now) {
        let p = self.proc_mut(id);
        let name = p.spec.name.clone();
        let wait = Duration::from_secs(p.spec.stopwaitsecs.max(0) as u64);
        let group = if escalating {
            p.spec.killasgroup
        } else {
            p.spec.stopasgroup
        };
        // A repeated SIGKILL never re-arms in the past (stopwaitsecs=0 would spin).
        let wait = if escalating {
            wait.max(Duration::from_secs(1))
        } else {
            wait
        };
        let (pid, gen) = (p.pid, p.gen);
        p.killing = true;
        // A stop takes over from a failure in progress (ready timeout,
        // watchdog): its exit is then a STOPPED.
        p.failing = None;
        for t in [
            Timer::StartSecs,
            Timer::Backoff,
            Timer::ReadyTimeout,
            Timer::Watchdog,
            Timer::FailKill,
        ] {
            self.timers.clear(id, t);
        }
        self.timers.set(id, Timer::StopWait, now.mono + wait);
        let as_group = if group { "process group " } else { "" };
        self.log(
            LogLevel::Debug,
            format!(
                "killing {name} (pid {pid}) {as_group}with signal {}",
                signame(sig)
            ),
        );
        // RUNNING/STARTING/STOPPING -> STOPPING
        self.set_state(id, ProcessState::Stopping, true, now);
        self.emit(Effect::Signal {
            id,
            gen,
            pid,
            sig,
            group,
        });
    }

    /// Supervisor's `signal(sig)`: any signal to the pid only.
    pub(super) fn signal(&mut self, id: ProcId, sig: i32) -> Option<String> {
        let p = &self.procs[&id];
        let name = p.spec.name.clone();
        let (pid, gen) = (p.pid, p.gen);
        if pid == 0 {
            let msg = format!(
                "attempted to send {name} sig {} but it wasn't running",
                signame(sig)
            );
            self.log(LogLevel::Debug, msg.clone());
            return Some(msg);
        }
        self.log(
            LogLevel::Debug,
            format!("sending {name} (pid {pid}) sig {}", signame(sig)),
        );
        self.emit(Effect::Signal {
            id,
            gen,
            pid,
            sig,
            group: false,
        });
        None
    }

    /// Fire due timers and advance a shutdown, until nothing more is due.
    pub(super) fn drive(&mut self, now: Now) {
        // Each firing re-arms strictly later, so this terminates; the cap
        // turns a bug that re-arms in the past into a failed assertion.
        for round in 0..100 {
            let mut due = self.timers.due(now.mono);
            if due.len() > 1 {
                // Fire in start order, as Supervisor's tick walks processes.
                due.sort_by_key(|&(id, _)| self.rank(id));
            }
            if due.is_empty() {
                break;
            }
            debug_assert!(round < 99, "timers keep firing at one instant: {due:?}");
            for (id, t) in due {
                if self.procs.contains_key(&id) {
                    self.fire(id, t, now);
                }
            }
        }
        self.drive_dependencies(now);
        self.drive_fatal_exit();
        self.drive_shutdown(now);
    }

    pub(super) fn fire(&mut self, id: ProcId, t: Timer, now: Now) {
        let running = self.mood == SupervisorState::Running;
        if self.timers.get(id, t).map_or(true, |at| at > now.mono) {
            return;
        }
        self.timers.clear(id, t);
        let p = self.proc_mut(id);
        match t {
            Timer::StartSecs if p.state == ProcessState::Starting && p.pid != 0 => {
                let msg = format!(
                    "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                    p.spec.name, p.spec.startsecs
                );
                // STARTING -> RUNNING
                self.become_running(id, msg, now);
            }
            Timer::ReadyTimeout if p.state == ProcessState::Starting && p.pid != 0 => {
                self.ready_timed_out(id, now);
            }
            Timer::Watchdog if p.state == ProcessState::Running && p.pid != 0 => {
                self.watchdog_missed(id, "missed its WATCHDOG=1 ping", now);
            }
            Timer::FailKill if p.failing.is_some() && p.pid != 0 => {
                self.fail_kill(id, now);
            }
            Timer::Backoff
                if p.state == ProcessState::Backoff
                    && running
                    && p.backoff <= p.spec.startretries =>
            {
                p.restart_count += 1;
                // BACKOFF -> STARTING (after its dependencies)
                self.start_in_order(id, now, false);
            }
            Timer::StopWait if p.state == ProcessState::Stopping => {
                if p.pid == 0 {
                    let wait = Duration::from_secs(p.spec.stopwaitsecs.max(1) as u64);
                    self.timers.set(id, Timer::StopWait, now.mono + wait);
                    return;
                }
                let msg = if p.main_gone {
                    let name = py_repr(&p.spec.name);
                    format!(
                        "killing what {name} ({}) left in its cgroup with SIGKILL",
                        p.pid
                    )
                } else {
                    format!("killing {} ({}) with SIGKILL", py_repr(&p.spec.name), p.pid)
                };
                self.log(LogLevel::Warn, msg);
                // STOPPING -> STOPPING
                self.kill(id, SIGKILL, now);
            }
            Timer::StopReport if p.state == ProcessState::Stopping => {
                self.stop_report(id, now);
            }
            Timer::Restart if p.state == ProcessState::Exited && running => {
                p.restart_count += 1;
                // EXITED -> STARTING (after its dependencies)
                self.start_in_order(id, now, false);
            }
            _ => {}
        }
    }
}
