//! Dependencies between programs (`depends_on`, issue 18): starts held
//! until what a process depends on is up, stops held until what depends
//! on it is down.
//!
//! # The rules
//!
//! A process *depends on* every active process whose program or group
//! bears a name in its `depends_on`. A dependency is *up* when it is
//! RUNNING (and not itself being stopped), or EXITED with an expected exit
//! code (a task that did its work).
//!
//! * **Starting.** Every start, asked for (`start`, autostart) or
//!   automatic (autorestart, a BACKOFF retry), goes through
//!   [`Core::start_in_order`]: if every dependency is up the process is
//!   spawned at once, as without dependencies; otherwise it is *held*
//!   (it keeps its state, and `status` says `waiting for NAME`), and the
//!   dependencies that are down and not on their way are started in turn.
//!   A held process is spawned when its last dependency comes up; it gives
//!   up (stays as it is, with the reason in `status` and the main log) when
//!   a dependency is FATAL or UNKNOWN, or gave up itself. A name with no
//!   active process (a group not added yet) keeps it waiting.
//! * **Stopping.** A stop ([`Core::stop_in_order`]), asked for or part of
//!   a shutdown, first stops what depends on the process (recursively) and
//!   holds the process's own stop signal until those are down. A dependent
//!   stopped that way is started again once its dependencies are all up
//!   again (so `update` of a changed dependency brings its dependents
//!   back); a stop or start asked for it forgets that.
//! * A dependency that exits on its own does not stop its dependents.
//! * `start all`, `stop all` and group calls take their processes in
//!   dependency order ([`Core::dependency_order`]), priority order
//!   otherwise; a shutdown stops the groups in the reverse of that order.
//!
//! Nothing here adds a state: a held process stays STOPPED (or EXITED,
//! BACKOFF, FATAL) until it is spawned, so the transition table and
//! Supervisor's state names are unchanged. The work is done in
//! [`Core::drive_dependencies`], called at the end of every input; the
//! sets it walks hold only the processes concerned, so a config without
//! `depends_on` pays nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::command::ExitStatus;
use super::machine::Core;
use super::process::Timer;
use super::state::{ProcessState, SupervisorState};
use super::{Now, ProcId};
use crate::config::LogLevel;

/// The dependency graph of the active processes and the work it holds.
#[derive(Debug, Default)]
pub(super) struct Deps {
    /// Per process with `depends_on`: each name and the active processes
    /// it stands for (none while that group is not added).
    needs: BTreeMap<ProcId, Vec<(String, Vec<ProcId>)>>,
    /// The reverse edges: who depends on each process.
    needed_by: BTreeMap<ProcId, Vec<ProcId>>,
    /// Starts held until the dependencies are up.
    pub waiting: BTreeSet<ProcId>,
    /// Stops held until the dependents are down.
    pub stopping: BTreeSet<ProcId>,
    /// Dependents stopped for a dependency's stop, to start again once
    /// their dependencies are up.
    pub resume: BTreeSet<ProcId>,
}

/// Where a held start stands.
enum Check {
    /// Every dependency is up.
    Ready,
    /// Waiting for this name; these dependencies are down and not on
    /// their way, to be started.
    Waiting(String, Vec<ProcId>),
    /// It cannot happen: why.
    Failed(String),
}

impl Deps {
    fn is_empty(&self) -> bool {
        self.needs.is_empty()
    }
}

impl Core {
    /// Resolve every `depends_on` against the active groups again (after
    /// a group was added or removed).
    pub(super) fn deps_changed(&mut self) {
        let mut by_name: HashMap<&str, Vec<ProcId>> = HashMap::new();
        let mut any = false;
        for (id, p) in self.processes() {
            by_name.entry(&p.spec.program).or_default().push(id);
            if p.spec.group != p.spec.program {
                by_name.entry(&p.spec.group).or_default().push(id);
            }
            any |= !p.spec.depends_on.is_empty();
        }
        let mut needs = BTreeMap::new();
        let mut needed_by: BTreeMap<ProcId, Vec<ProcId>> = BTreeMap::new();
        if any {
            for (id, p) in self.processes() {
                let mut names = Vec::new();
                for name in &p.spec.depends_on {
                    let ids: Vec<ProcId> = by_name
                        .get(name.as_str())
                        .into_iter()
                        .flatten()
                        .copied()
                        .filter(|&d| d != id)
                        .collect();
                    for &d in &ids {
                        let list = needed_by.entry(d).or_default();
                        if !list.contains(&id) {
                            list.push(id);
                        }
                    }
                    names.push((name.clone(), ids));
                }
                if !names.is_empty() {
                    needs.insert(id, names);
                }
            }
        }
        let deps = &mut self.deps;
        deps.needs = needs;
        deps.needed_by = needed_by;
        let procs = &self.procs;
        deps.waiting.retain(|id| procs.contains_key(id));
        deps.stopping.retain(|id| procs.contains_key(id));
        deps.resume.retain(|id| procs.contains_key(id));
    }

    /// Whether dependency `id` is up.
    fn is_up(&self, id: ProcId) -> bool {
        let p = &self.procs[&id];
        match p.state {
            ProcessState::Running => !self.deps.stopping.contains(&id),
            ProcessState::Exited => {
                matches!(p.last_exit, Some(ExitStatus::Code(c)) if p.spec.exitcodes.contains(&c))
            }
            _ => false,
        }
    }

    /// Whether dependent `id` is down: in a stopped state with no start
    /// held for it.
    fn is_down(&self, id: ProcId) -> bool {
        self.procs[&id].state.is_stopped() && !self.deps.waiting.contains(&id)
    }

    /// Where the dependencies of `id` stand. `asked` (a start someone asked
    /// for) also starts FATAL dependencies again.
    fn check(&self, id: ProcId, asked: bool) -> Check {
        let Some(names) = self.deps.needs.get(&id) else {
            return Check::Ready;
        };
        let mut first: Option<String> = None;
        let mut to_start = Vec::new();
        for (name, ids) in names {
            if ids.is_empty() {
                first.get_or_insert_with(|| name.clone());
            }
            for &d in ids {
                if self.is_up(d) {
                    continue;
                }
                first.get_or_insert_with(|| name.clone());
                let dep = &self.procs[&d];
                let held = self.deps.waiting.contains(&d);
                match dep.state {
                    ProcessState::Fatal if asked => to_start.push(d),
                    ProcessState::Fatal | ProcessState::Unknown => {
                        let state = dep.state.name();
                        return Check::Failed(format!("dependency {} is {state}", dep.spec.name));
                    }
                    ProcessState::Stopped | ProcessState::Exited if !held => {
                        if dep.blocked.is_some() {
                            let why = format!("dependency {} did not start", dep.spec.name);
                            return Check::Failed(why);
                        }
                        to_start.push(d);
                    }
                    _ => {}
                }
            }
        }
        match first {
            None => Check::Ready,
            Some(name) => Check::Waiting(name, to_start),
        }
    }

    /// Start `id` once its dependencies are up: at once if they are, else
    /// hold it and start the dependencies that are down. `asked` is a start
    /// someone asked for (it also resets the start-limit window). Returns
    /// the generation the start will have.
    pub(super) fn start_in_order(&mut self, id: ProcId, now: Now, asked: bool) -> u64 {
        self.deps.resume.remove(&id);
        if asked {
            self.proc_mut(id).recent_restarts.clear();
        }
        if self.deps.is_empty() {
            self.spawn(id, now);
            return self.procs[&id].gen;
        }
        if !self.deps.waiting.insert(id) {
            return self.procs[&id].gen + 1;
        }
        match self.check(id, asked) {
            Check::Ready => {
                self.spawn(id, now);
                return self.procs[&id].gen;
            }
            Check::Failed(why) => self.give_up_start(id, why, now),
            Check::Waiting(name, down) => {
                let msg = format!("waiting for {name}");
                let p = self.proc_mut(id);
                if p.blocked.as_deref() != Some(msg.as_str()) {
                    p.blocked = Some(msg);
                    let line = format!("{}: waiting for {name} before starting", p.spec.name);
                    self.log(LogLevel::Info, line);
                }
                for d in down {
                    self.start_in_order(d, now, asked);
                }
            }
        }
        self.procs[&id].gen + 1
    }

    /// A held start that cannot happen: the process stays as it is, with
    /// the reason in `status` and the main log.
    fn give_up_start(&mut self, id: ProcId, why: String, now: Now) {
        self.deps.waiting.remove(&id);
        let p = self.proc_mut(id);
        let name = p.spec.name.clone();
        p.blocked = Some(format!("not started: {why}"));
        self.log(LogLevel::Warn, format!("not starting {name}: {why}"));
        if p_state(self, id) == ProcessState::Backoff {
            // BACKOFF -> FATAL: its retry would wait forever.
            self.give_up(id, now);
        }
        self.resolve_waits(id);
    }

    /// A held start called off by a stop (or a shutdown).
    pub(super) fn cancel_start(&mut self, id: ProcId, now: Now) {
        if !self.deps.waiting.remove(&id) {
            return;
        }
        self.proc_mut(id).blocked = None;
        match p_state(self, id) {
            // BACKOFF -> STOPPED
            ProcessState::Backoff => {
                self.kill(id, self.procs[&id].spec.stopsignal, now);
            }
            // EXITED -> STOPPED: its automatic restart is called off.
            ProcessState::Exited => self.set_state(id, ProcessState::Stopped, true, now),
            _ => {}
        }
        self.resolve_waits(id);
    }

    /// Why `status` shows no child for `id`: its start is held or was given
    /// up for a dependency.
    pub(super) fn held_reason(&self, id: ProcId) -> Option<&str> {
        let p = &self.procs[&id];
        let live = matches!(
            p.state,
            ProcessState::Starting | ProcessState::Running | ProcessState::Stopping
        );
        p.blocked.as_deref().filter(|_| !live)
    }

    /// Whether a start of `id` is held for its dependencies.
    pub(super) fn start_held(&self, id: ProcId) -> bool {
        self.deps.waiting.contains(&id)
    }

    /// Stop `id` after what depends on it: stop the dependents first
    /// and send `id` its stop signal once they are all down. `None`, or
    /// [`Core::kill`]'s message when there was nothing to signal.
    pub(super) fn stop_in_order(&mut self, id: ProcId, now: Now) -> Option<String> {
        self.deps.resume.remove(&id);
        self.cancel_start(id, now);
        let dependents = self.deps.needed_by.get(&id).cloned().unwrap_or_default();
        for d in dependents {
            if !self.is_down(d) || self.restart_due(d) {
                self.stop_dependent(d, now);
            }
        }
        if self.dependents_down(id) {
            self.deps.stopping.remove(&id);
            if self.procs[&id].state.is_stopped() {
                // Its held start was called off: nothing to signal.
                return None;
            }
            let sig = self.procs[&id].spec.stopsignal;
            return self.kill(id, sig, now);
        }
        let p = &self.procs[&id];
        if self.deps.stopping.insert(id) {
            let msg = format!("{}: stopping what depends on it first", p.spec.name);
            self.log(LogLevel::Debug, msg);
        }
        None
    }

    /// EXITED with an automatic restart armed.
    fn restart_due(&self, id: ProcId) -> bool {
        self.procs[&id].state == ProcessState::Exited
            && self.timers.get(id, Timer::Restart).is_some()
    }

    fn dependents_down(&self, id: ProcId) -> bool {
        self.deps
            .needed_by
            .get(&id)
            .map_or(true, |ds| ds.iter().all(|&d| self.is_down(d)))
    }

    /// Stop a dependent of a process being stopped, and remember to start
    /// it again if it was up.
    fn stop_dependent(&mut self, id: ProcId, now: Now) {
        let state = self.procs[&id].state;
        if self.restart_due(id) {
            self.timers.clear(id, Timer::Restart);
            // EXITED -> STOPPED: its restart is called off.
            self.set_state(id, ProcessState::Stopped, true, now);
            self.deps.resume.insert(id);
            return;
        }
        if self.deps.waiting.contains(&id) {
            self.cancel_start(id, now);
            return;
        }
        if matches!(
            state,
            ProcessState::Running | ProcessState::Starting | ProcessState::Backoff
        ) {
            self.stop_in_order(id, now);
            self.deps.resume.insert(id);
        }
    }

    /// The processes of `ids` in dependency order: each after what it
    /// depends on (`dependents_first`: before), otherwise as given.
    pub(super) fn dependency_order(&self, ids: Vec<ProcId>, dependents_first: bool) -> Vec<ProcId> {
        if self.deps.is_empty() {
            return ids;
        }
        let edges = |id: ProcId| -> Vec<ProcId> {
            if dependents_first {
                self.deps.needed_by.get(&id).cloned().unwrap_or_default()
            } else {
                self.deps
                    .needs
                    .get(&id)
                    .map(|n| n.iter().flat_map(|(_, ids)| ids.iter().copied()).collect())
                    .unwrap_or_default()
            }
        };
        let wanted: BTreeSet<ProcId> = ids.iter().copied().collect();
        let mut placed = BTreeSet::new();
        let mut out = Vec::with_capacity(ids.len());
        for root in ids {
            // Post-order walk; `placed` also marks the ones on the path, so
            // a cycle (possible across rereads) cannot loop.
            let mut stack = vec![(root, false)];
            while let Some((id, expanded)) = stack.pop() {
                if expanded {
                    out.push(id);
                    continue;
                }
                if !wanted.contains(&id) || !placed.insert(id) {
                    continue;
                }
                stack.push((id, true));
                for e in edges(id).into_iter().rev() {
                    stack.push((e, false));
                }
            }
        }
        out
    }

    /// The groups in the order a shutdown stops them from the end of:
    /// each after the groups its processes depend on.
    pub(super) fn shutdown_order(&self) -> Vec<String> {
        let all: Vec<ProcId> = self.processes().map(|(id, _)| id).collect();
        let mut names: Vec<String> = Vec::with_capacity(self.groups.len());
        for id in self.dependency_order(all, false) {
            let g = &self.procs[&id].spec.group;
            if !names.contains(g) {
                names.push(g.clone());
            }
        }
        for g in &self.groups {
            if !names.contains(&g.spec.name) {
                names.push(g.spec.name.clone());
            }
        }
        names
    }

    /// Release the held stops whose dependents are down, start the held
    /// starts whose dependencies are up (or give them up), and start again
    /// the dependents stopped for a dependency that is back.
    pub(super) fn drive_dependencies(&mut self, now: Now) {
        if self.deps.is_empty() {
            return;
        }
        for id in self.deps.stopping.clone() {
            let state = self.procs[&id].state;
            if !matches!(state, ProcessState::Running | ProcessState::Starting) {
                self.deps.stopping.remove(&id);
            } else if self.dependents_down(id) {
                self.deps.stopping.remove(&id);
                let sig = self.procs[&id].spec.stopsignal;
                self.kill(id, sig, now);
            }
        }
        if self.mood != SupervisorState::Running {
            for id in self.deps.waiting.clone() {
                self.cancel_start(id, now);
            }
            self.deps.resume.clear();
            return;
        }
        // Each pass spawns or gives up at least one held start, or stops.
        for _ in 0..=self.deps.waiting.len() {
            let mut moved = false;
            for id in self.deps.waiting.clone() {
                match self.check(id, false) {
                    Check::Ready => {
                        // STOPPED/EXITED/BACKOFF/FATAL -> STARTING
                        self.spawn(id, now);
                        moved = true;
                    }
                    Check::Failed(why) => {
                        self.give_up_start(id, why, now);
                        moved = true;
                    }
                    Check::Waiting(..) => {}
                }
            }
            if !moved {
                break;
            }
        }
        for id in self.deps.resume.clone() {
            let p = &self.procs[&id];
            if p.state.is_running() && !self.deps.stopping.contains(&id) {
                // Started by something else meanwhile.
                self.deps.resume.remove(&id);
            } else if p.state.is_stopped() && matches!(self.check(id, false), Check::Ready) {
                self.deps.resume.remove(&id);
                self.start_in_order(id, now, false);
            }
        }
    }
}

fn p_state(core: &Core, id: ProcId) -> ProcessState {
    core.procs[&id].state
}
