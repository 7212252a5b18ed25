//! Replies that wait for transitions (`start`/`stop` with `wait`, group
//! and all calls): settled at the transition, never by polling.

use std::collections::BTreeMap;
use std::time::Duration;

use super::command::Effect;
use super::machine::Core;
use super::process::Timer;
use super::state::ProcessState;
use super::{Now, ProcId};
use crate::api::{Fault, FaultCode, ProcResult, Response};
use crate::config::LogLevel;

/// Supervisor's throttle for `waiting for ... to stop`.
const STOP_REPORT_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub(super) enum WaitKind {
    /// Reply when the spawn of `gen` is known to have worked (`wait=false`)
    /// or the process reached RUNNING (`wait=true`).
    Start {
        wait: bool,
    },
    Stop,
}

#[derive(Debug, Clone)]
pub(super) struct WaitItem {
    pub id: ProcId,
    pub gen: u64,
    pub kind: WaitKind,
    /// The name for fault texts (as given, or the namespec in group calls).
    pub name: String,
    /// In a group call, the item's place in the list when Supervisor would
    /// have settled it within the call (its results keep list order); `None`
    /// when Supervisor defers it (its result follows, in completion order).
    pub slot: Option<usize>,
}

/// A command whose reply waits for transitions.
#[derive(Debug)]
pub(super) struct Wait {
    pub token: u64,
    /// A single-process call replies `true` or a fault; group calls reply
    /// result structs once every item is done.
    pub single: bool,
    /// By process, then by place in the call: settling the items of one
    /// process is a range lookup, not a walk of a call of thousands.
    pub items: BTreeMap<(ProcId, usize), WaitItem>,
    /// Settled results with their `slot`.
    pub results: Vec<(Option<usize>, ProcResult)>,
}

impl Wait {
    /// The items about process `id`.
    pub(super) fn items_of(
        &self,
        id: ProcId,
    ) -> impl Iterator<Item = ((ProcId, usize), &WaitItem)> + '_ {
        self.items
            .range((id, 0)..=(id, usize::MAX))
            .map(|(&k, i)| (k, i))
    }

    /// Supervisor's order: results settled within the call in list order,
    /// then the deferred ones as they completed.
    pub(super) fn ordered(mut self) -> Vec<ProcResult> {
        self.results
            .sort_by_key(|(slot, _)| slot.unwrap_or(usize::MAX));
        self.results.into_iter().map(|(_, r)| r).collect()
    }
}

impl Core {
    // ----- waiting replies -------------------------------------------------

    /// Supervisor's `stop_report`: while a stop call waits on a STOPPING
    /// process, `waiting for NAME to stop` at most every 2 s.
    pub(super) fn stop_report(&mut self, id: ProcId, now: Now) {
        let waited = self.waits.iter().any(|w| {
            w.items_of(id)
                .any(|(_, i)| matches!(i.kind, WaitKind::Stop))
        });
        let p = &self.procs[&id];
        if !waited || p.state != ProcessState::Stopping {
            return;
        }
        self.timers
            .set(id, Timer::StopReport, now.mono + STOP_REPORT_EVERY);
        let msg = format!("waiting for {} to stop", p.spec.name);
        self.log(LogLevel::Info, msg);
    }

    /// Start the stop reports of the processes the call `token` waits on
    /// (only its own: a walk of every waiting call at every command cost a
    /// `getState` during a `start all` of 5000 a walk of 5000 items).
    pub(super) fn start_stop_reports(&mut self, token: u64, now: Now) {
        let ids: Vec<ProcId> = self
            .waits
            .iter()
            .filter(|w| w.token == token)
            .flat_map(|w| w.items.values())
            .filter(|i| matches!(i.kind, WaitKind::Stop))
            .map(|i| i.id)
            .collect();
        for id in ids {
            if self.procs.contains_key(&id) && self.timers.get(id, Timer::StopReport).is_none() {
                self.stop_report(id, now);
            }
        }
    }

    pub(super) fn outcome(&self, item: &WaitItem) -> Option<Result<(), Fault>> {
        let Some(p) = self.procs.get(&item.id) else {
            return Some(Ok(()));
        };
        match item.kind {
            WaitKind::Stop => p.state.is_stopped().then_some(Ok(())),
            WaitKind::Start { wait } => {
                let fault = |c| Some(Err(Fault::new(c, &item.name)));
                if p.gen + 1 == item.gen {
                    // A start held for its dependencies: still held, or
                    // given up (SPAWN_ERROR) or called off.
                    return match (self.start_held(item.id), &p.blocked) {
                        (true, _) => None,
                        (false, Some(_)) => fault(FaultCode::SpawnError),
                        (false, None) => fault(FaultCode::AbnormalTermination),
                    };
                }
                if p.gen != item.gen {
                    fault(FaultCode::AbnormalTermination)
                } else if p.spawnerr.is_some() {
                    fault(FaultCode::SpawnError)
                } else if p.state == ProcessState::Running || (!wait && p.pid != 0) {
                    Some(Ok(()))
                } else if p.state != ProcessState::Starting {
                    fault(FaultCode::AbnormalTermination)
                } else {
                    None
                }
            }
        }
    }

    /// Settle every waiting item about `id` whose outcome is now known.
    pub(super) fn resolve_waits(&mut self, id: ProcId) {
        let mut wi = 0;
        while wi < self.waits.len() {
            let keys: Vec<(ProcId, usize)> = self.waits[wi].items_of(id).map(|(k, _)| k).collect();
            for key in keys {
                let Some(res) = self.outcome(&self.waits[wi].items[&key]) else {
                    continue;
                };
                let Some(item) = self.waits[wi].items.remove(&key) else {
                    continue;
                };
                let r = self.result_struct(item.id, res.clone());
                let w = &mut self.waits[wi];
                if w.single {
                    let token = w.token;
                    self.waits.remove(wi);
                    self.emit(Effect::Reply {
                        token,
                        reply: res.map(|()| Response::Bool(true)),
                    });
                    return self.resolve_waits(id);
                }
                w.results.push((item.slot, r));
            }
            if !self.waits[wi].single && self.waits[wi].items.is_empty() {
                let w = self.waits.remove(wi);
                self.emit(Effect::Reply {
                    token: w.token,
                    reply: Ok(Response::Results(w.ordered())),
                });
            } else {
                wi += 1;
            }
        }
    }

    pub(super) fn result_struct(&self, id: ProcId, res: Result<(), Fault>) -> ProcResult {
        let (name, group) = self
            .procs
            .get(&id)
            .map(|p| (p.spec.name.clone(), p.spec.group.clone()))
            .unwrap_or_default();
        ProcResult {
            name,
            group,
            outcome: res,
        }
    }
}
