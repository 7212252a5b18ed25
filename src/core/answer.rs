//! `handle_command`: the requests the core answers (spec §6.5), with
//! typed [`Response`]s or [`Fault`]s.

use super::command::{Command, CommandCheck, Effect};
use super::describe::{description, DescribeInput};
use super::diff::diff;
use super::machine::Core;
use super::process::Timer;
use super::state::{ProcessState, SupervisorState};
use super::wait::{Wait, WaitItem, WaitKind};
use super::{Now, ProcId};
use crate::api::{ConfigInfo, Diff, Fault, FaultCode, ProcessInfo, Reply, Request, Response};
use crate::config::signal::parse_signal;
use crate::config::{info_fields, Config, InfoContext, LogFile, ProgramSpec};
use crate::py::py_repr;

/// What a per-process step of a call decided.
enum Step {
    /// Done now (`OK`).
    Done,
    /// The reply waits for this item.
    Wait(WaitItem),
}

fn clamp(t: f64) -> i64 {
    (t as i64).clamp(i32::MIN as i64, i32::MAX as i64)
}

impl Core {
    /// Run one command; its answer comes out as `Effect::Reply { token, .. }`,
    /// now or at the transition it waits for.
    pub fn handle_command(&mut self, token: u64, cmd: Command, now: Now) {
        if self.mood != SupervisorState::Running {
            // Every supervisor.* method refuses while stopping (spec §6.3).
            self.reply(token, Err(Fault::new(FaultCode::ShutdownState, "")));
            return;
        }
        if let Some(reply) = self.command(token, cmd, now) {
            self.reply(token, reply);
        }
        self.start_stop_reports(token, now);
        self.drive(now);
    }

    fn reply(&mut self, token: u64, reply: Reply) {
        self.emit(Effect::Reply { token, reply });
    }

    /// `None` when the reply was registered as a wait.
    fn command(&mut self, token: u64, cmd: Command, now: Now) -> Option<Reply> {
        let req = match cmd {
            Command::ReloadConfig { config } => return Some(self.reread(*config)),
            Command::Request(req) => req,
        };
        use Request::*;
        Some(match req {
            GetState => Ok(Response::State(self.mood)),
            GetProcessInfo { name } => match self.lookup(&name) {
                Ok((_, Some(id))) => Ok(Response::Info(self.process_info(id, now))),
                Ok((_, None)) => Err(Fault::new(FaultCode::BadName, &name)),
                Err(f) => Err(f),
            },
            GetAllProcessInfo => {
                // Keys taken once: a comparison must not look processes up.
                let mut keyed: Vec<(&str, &str, ProcId)> = self
                    .processes()
                    .map(|(id, p)| (p.spec.group.as_str(), p.spec.name.as_str(), id))
                    .collect();
                keyed.sort_unstable();
                Ok(Response::Infos(
                    keyed
                        .into_iter()
                        .map(|(_, _, id)| self.process_info(id, now))
                        .collect(),
                ))
            }
            GetAllConfigInfo => Ok(Response::ConfigInfos(self.config_infos())),
            StartProcess { name, wait } => match self.lookup(&name) {
                Err(f) => Err(f),
                Ok((gi, None)) => return self.start_group(token, Some(gi), wait, now),
                Ok((_, Some(id))) => {
                    let step = self.start_one(&name, id, wait, now);
                    return self.single(token, step);
                }
            },
            StartProcessGroup { name, wait } => match self.group_index(&name) {
                None => Err(Fault::new(FaultCode::BadName, &name)),
                Some(gi) => return self.start_group(token, Some(gi), wait, now),
            },
            StartAllProcesses { wait } => return self.start_group(token, None, wait, now),
            StopProcess { name, wait } => match self.lookup(&name) {
                Err(f) => Err(f),
                Ok((gi, None)) => return self.stop_group(token, Some(gi), wait, now),
                Ok((_, Some(id))) => {
                    let step = self.stop_one(&name, id, wait, now);
                    return self.single(token, step);
                }
            },
            StopProcessGroup { name, wait } => match self.group_index(&name) {
                None => Err(Fault::new(FaultCode::BadName, &name)),
                Some(gi) => return self.stop_group(token, Some(gi), wait, now),
            },
            StopAllProcesses { wait } => return self.stop_group(token, None, wait, now),
            SignalProcess { name, signal } => match self.lookup(&name) {
                Err(f) => Err(f),
                Ok((gi, None)) => Ok(self.signal_group(Some(gi), &signal)),
                Ok((_, Some(id))) => self
                    .signal_one(&name, id, &signal)
                    .map(|()| Response::Bool(true)),
            },
            SignalProcessGroup { name, signal } => match self.group_index(&name) {
                None => Err(Fault::new(FaultCode::BadName, &name)),
                Some(gi) => Ok(self.signal_group(Some(gi), &signal)),
            },
            SignalAllProcesses { signal } => Ok(self.signal_group(None, &signal)),
            Shutdown => {
                self.mood = SupervisorState::Shutdown;
                Ok(Response::Bool(true))
            }
            Restart => {
                self.mood = SupervisorState::Restarting;
                Ok(Response::Bool(true))
            }
            AddProcessGroup { name } => {
                let Some(spec) = self.pending.group(&name).cloned() else {
                    return Some(Err(Fault::new(FaultCode::BadName, &name)));
                };
                if self.group_index(&name).is_some() {
                    return Some(Err(Fault::new(FaultCode::AlreadyAdded, &name)));
                }
                self.insert_group(spec);
                self.deps_changed();
                self.reread.remove(&name);
                self.emit(Effect::GroupAdded { name: name.clone() });
                self.reply(token, Ok(Response::Bool(true)));
                self.autostart(&name, now);
                return None;
            }
            RemoveProcessGroup { name } => {
                let Some(gi) = self.group_index(&name) else {
                    return Some(Err(Fault::new(FaultCode::BadName, &name)));
                };
                if self.groups[gi]
                    .procs
                    .iter()
                    .any(|id| !self.procs[id].state.is_stopped())
                {
                    return Some(Err(Fault::new(FaultCode::StillRunning, &name)));
                }
                self.remove_group(gi);
                Ok(Response::Bool(true))
            }
            // The reactor answers the others (`Command::answers`).
            other => Err(Fault::new(
                FaultCode::Failed,
                &format!("not answered by the core: {other:?}"),
            )),
        })
    }

    /// `reloadConfig`: the config the reactor read becomes the pending one,
    /// and the answer is its diff against what runs.
    fn reread(&mut self, loaded: Result<Config, String>) -> Reply {
        let config = loaded.map_err(|msg| Fault::new(FaultCode::CantReread, &msg))?;
        self.pending = config;
        self.reread = self.pending.groups.iter().map(|g| g.name.clone()).collect();
        let (added, changed, removed) =
            diff(self.groups.iter().map(|g| &g.spec), &self.pending.groups);
        Ok(Response::Diff(Diff {
            added,
            changed,
            removed,
        }))
    }

    /// A single-process call: reply now, or when its item settles.
    fn single(&mut self, token: u64, step: Result<Step, Fault>) -> Option<Reply> {
        match step {
            Err(f) => Some(Err(f)),
            Ok(Step::Done) => Some(Ok(Response::Bool(true))),
            Ok(Step::Wait(item)) => {
                let id = item.id;
                self.waits.push(Wait {
                    token,
                    single: true,
                    items: [((id, 0), item)].into(),
                    results: vec![],
                });
                self.resolve_waits(id);
                None
            }
        }
    }

    /// The processes of one group, or of all groups in priority order.
    fn targets(&self, gi: Option<usize>) -> Vec<ProcId> {
        match gi {
            Some(gi) => self.groups[gi].procs.clone(),
            None => self.processes().map(|(id, _)| id).collect(),
        }
    }

    /// Supervisor's `make_allfunc`: run `f` on the selected processes;
    /// faults become result structs, waits settle later.
    fn all(
        &mut self,
        token: u64,
        ids: Vec<ProcId>,
        mut f: impl FnMut(&mut Core, &str, ProcId) -> Result<Step, Fault>,
    ) -> Option<Reply> {
        let mut wait = Wait {
            token,
            single: false,
            items: Default::default(),
            results: vec![],
        };
        for (slot, id) in ids.into_iter().enumerate() {
            let namespec = self.procs[&id].namespec();
            let slot = Some(slot);
            match f(self, &namespec, id) {
                Ok(Step::Done) => wait.results.push((slot, self.result_struct(id, Ok(())))),
                Err(fault) => wait
                    .results
                    .push((slot, self.result_struct(id, Err(fault)))),
                Ok(Step::Wait(item)) => {
                    let key = (item.id, wait.items.len());
                    let slot = item.slot.and(slot);
                    wait.items.insert(key, WaitItem { slot, ..item });
                }
            }
        }
        if wait.items.is_empty() {
            return Some(Ok(Response::Results(wait.ordered())));
        }
        let ids: Vec<ProcId> = wait.items.keys().map(|&(id, _)| id).collect();
        self.waits.push(wait);
        for id in ids {
            self.resolve_waits(id);
        }
        None
    }

    fn start_group(
        &mut self,
        token: u64,
        gi: Option<usize>,
        wait: bool,
        now: Now,
    ) -> Option<Reply> {
        let ids: Vec<ProcId> = self
            .targets(gi)
            .into_iter()
            .filter(|id| !self.procs[id].state.is_running())
            .collect();
        let ids = self.dependency_order(ids, false);
        self.all(token, ids, |core, name, id| {
            core.start_one(name, id, wait, now)
        })
    }

    fn stop_group(&mut self, token: u64, gi: Option<usize>, wait: bool, now: Now) -> Option<Reply> {
        let ids: Vec<ProcId> = self
            .targets(gi)
            .into_iter()
            .filter(|&id| {
                self.procs[&id].state.is_running()
                    || self.restart_pending(id)
                    || self.start_held(id)
            })
            .collect();
        let ids = self.dependency_order(ids, true);
        self.all(token, ids, |core, name, id| {
            core.stop_one(name, id, wait, now)
        })
    }

    fn signal_group(&mut self, gi: Option<usize>, signal: &str) -> Response {
        let ids: Vec<ProcId> = self
            .targets(gi)
            .into_iter()
            .filter(|id| self.procs[id].state.is_signallable())
            .collect();
        match self.all(0, ids, |core, name, id| {
            core.signal_one(name, id, signal).map(|()| Step::Done)
        }) {
            Some(Ok(answer)) => answer,
            _ => unreachable!("signals never wait"),
        }
    }

    /// `startProcess` on one process.
    fn start_one(&mut self, name: &str, id: ProcId, wait: bool, now: Now) -> Result<Step, Fault> {
        match (self.check)(&self.procs[&id].spec) {
            CommandCheck::Ok => {}
            CommandCheck::NotFound(t) => return Err(Fault::new(FaultCode::NoFile, &t)),
            CommandCheck::NotExecutable(t) => return Err(Fault::new(FaultCode::NotExecutable, &t)),
        }
        let p = &self.procs[&id];
        match p.state {
            s if s.is_running() => return Err(Fault::new(FaultCode::AlreadyStarted, name)),
            ProcessState::Unknown => {
                let msg = format!("{name} is in an unknown process state");
                return Err(Fault::new(FaultCode::Failed, &msg));
            }
            ProcessState::Stopping => {
                // Supervisor's spawn() refuses while a pid exists; the wait
                // then sees the process outside STARTING/RUNNING.
                let msg = format!("process {} already running", py_repr(&p.spec.name));
                self.log(crate::config::LogLevel::Warn, msg);
                return if wait {
                    Err(Fault::new(FaultCode::AbnormalTermination, name))
                } else {
                    Ok(Step::Done)
                };
            }
            _ => {}
        }
        // STOPPED/EXITED/FATAL -> STARTING (after its dependencies)
        let gen = self.start_in_order(id, now, true);
        let p = &self.procs[&id];
        // Supervisor answers at once (in list order, within a group call)
        // when it need not wait for RUNNING; it gets there at once with
        // startsecs=0.
        let at_once = !wait || (p.spec.startsecs == 0 && !p.waits_for_ready());
        Ok(Step::Wait(WaitItem {
            id,
            gen,
            kind: WaitKind::Start { wait },
            name: name.into(),
            slot: at_once.then_some(0),
        }))
    }

    /// `stopProcess` on one process.
    fn stop_one(&mut self, name: &str, id: ProcId, wait: bool, now: Now) -> Result<Step, Fault> {
        if self.start_held(id) && !self.procs[&id].state.is_running() {
            // A start held for its dependencies: called off.
            self.cancel_start(id, now);
            return Ok(Step::Done);
        }
        if self.restart_pending(id) {
            // Between runs of a crash loop: call the restart off, like a stop
            // in BACKOFF (Supervisor would answer NOT_RUNNING and restart it).
            self.timers.clear(id, Timer::Restart);
            // EXITED -> STOPPED
            self.set_state(id, ProcessState::Stopped, true, now);
            return Ok(Step::Done);
        }
        let p = &self.procs[&id];
        if !p.state.is_running() {
            return Err(Fault::new(FaultCode::NotRunning, name));
        }
        // After what depends on it.
        if let Some(msg) = self.stop_in_order(id, now) {
            return Err(Fault::new(FaultCode::Failed, &msg));
        }
        let p = &self.procs[&id];
        if wait && !p.state.is_stopped() {
            let gen = p.gen;
            return Ok(Step::Wait(WaitItem {
                id,
                gen,
                kind: WaitKind::Stop,
                name: name.into(),
                slot: None,
            }));
        }
        Ok(Step::Done)
    }

    /// EXITED with an autorestart held back by the crash-loop spacing.
    fn restart_pending(&self, id: ProcId) -> bool {
        self.procs[&id].state == ProcessState::Exited
            && self.timers.get(id, Timer::Restart).is_some()
    }

    /// `signalProcess` on one process.
    fn signal_one(&mut self, name: &str, id: ProcId, signal: &str) -> Result<(), Fault> {
        let sig = parse_signal(signal).map_err(|_| Fault::new(FaultCode::BadSignal, signal))?;
        if !self.procs[&id].state.is_signallable() {
            return Err(Fault::new(FaultCode::NotRunning, name));
        }
        match self.signal(id, sig) {
            Some(msg) => Err(Fault::new(FaultCode::Failed, &msg)),
            None => Ok(()),
        }
    }

    /// `getProcessInfo` for one process.
    pub fn process_info(&self, id: ProcId, now: Now) -> ProcessInfo {
        let p = &self.procs[&id];
        let (start, stop, wall) = (clamp(p.laststart), clamp(p.laststop), clamp(now.wall));
        let mut spawnerr = p.spawnerr.clone().unwrap_or_default();
        let held = self.held_reason(id);
        if let Some(why) = held {
            spawnerr = why.to_string();
        }
        let desc = description(
            &DescribeInput {
                state: p.state,
                name: &p.spec.name,
                pid: p.pid,
                start,
                stop,
                now: wall,
                spawnerr: &spawnerr,
            },
            self.local_time,
        );
        // A start held or given up for its dependencies says why instead.
        let desc = held.map_or(desc, str::to_string);
        ProcessInfo {
            name: p.spec.name.clone(),
            group: p.spec.group.clone(),
            description: desc,
            start,
            stop,
            now: wall,
            state: p.state,
            spawnerr,
            exitstatus: p.exitstatus.unwrap_or(0),
            logfile: p.stdout_logfile.clone(),
            stdout_logfile: p.stdout_logfile.clone(),
            stderr_logfile: p.stderr_logfile.clone(),
            pid: p.pid,
            status_text: p.spec.notify.uses_socket().then(|| p.status_text.clone()),
        }
    }

    /// Supervisor names AUTO log files in the config object a group was
    /// built from, so they show in getAllConfigInfo until a reread replaces
    /// the pending objects with fresh ('auto') ones: the names to show.
    fn auto_log_names(&self, group: &str, p: &ProgramSpec) -> (Option<&str>, Option<&str>) {
        if self.group_index(group).is_none() || self.reread.contains(group) {
            return (None, None);
        }
        let Ok((_, Some(id))) = self.lookup(&format!("{group}:{}", p.name)) else {
            return (None, None);
        };
        let active = &self.procs[&id];
        let stdout = (p.stdout.file == LogFile::Auto).then_some(active.stdout_logfile.as_str());
        let stderr = (p.stderr.file == LogFile::Auto && !active.stderr_logfile.is_empty())
            .then_some(active.stderr_logfile.as_str());
        (stdout, stderr)
    }

    /// `getAllConfigInfo`: every process of the latest config, rendered
    /// from the config's option table, by name.
    fn config_infos(&self) -> Vec<ConfigInfo> {
        let mut out: Vec<ConfigInfo> = Vec::new();
        for g in &self.pending.groups {
            for p in &g.processes {
                let (stdout_logfile, stderr_logfile) = self.auto_log_names(&g.name, p);
                let ctx = InfoContext {
                    group_priority: g.priority,
                    inuse: self.group_index(&g.name).is_some(),
                    stdout_logfile,
                    stderr_logfile,
                };
                out.push(ConfigInfo {
                    fields: info_fields(p, &ctx),
                });
            }
        }
        out.sort_by(|a, b| a.name().cmp(b.name()));
        out
    }
}
