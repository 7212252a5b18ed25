//! Random inputs never break the invariants: only legal transitions (the
//! harness asserts each `StateChanged`), never two live generations of one
//! process, and no deadline in the past once an input has been handled.

use crate::api::Request;
use std::time::Duration;

use proptest::prelude::*;

use super::harness::*;
use crate::config::{AutoRestart, GroupSpec};
use crate::core::{Command, ExitStatus, ProcId};

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Exit(usize, i32),
    Killed(usize),
    StaleExit(usize),
    SpawnOk(usize),
    SpawnFail(usize),
    SignalFailed(usize),
    Start(usize, bool),
    Stop(usize, bool),
    Signal(usize),
    StartAll(bool),
    StopGroup(usize, bool),
    StopAll(bool),
    Remove(usize),
    Add(usize),
    Reread(bool),
    Daemon(i32),
    Shutdown,
    /// A notify message (issue 17) of kind `k` to process `i`.
    Notify(usize, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..4000).prop_map(Op::Advance),
        3 => (0usize..8, 0i32..3).prop_map(|(i, c)| Op::Exit(i, c)),
        1 => (0usize..8).prop_map(Op::Killed),
        1 => (0usize..8).prop_map(Op::StaleExit),
        4 => (0usize..8).prop_map(Op::SpawnOk),
        2 => (0usize..8).prop_map(Op::SpawnFail),
        1 => (0usize..8).prop_map(Op::SignalFailed),
        2 => (0usize..8, any::<bool>()).prop_map(|(i, w)| Op::Start(i, w)),
        2 => (0usize..8, any::<bool>()).prop_map(|(i, w)| Op::Stop(i, w)),
        1 => (0usize..8).prop_map(Op::Signal),
        1 => any::<bool>().prop_map(Op::StartAll),
        1 => (0usize..3, any::<bool>()).prop_map(|(i, w)| Op::StopGroup(i, w)),
        1 => any::<bool>().prop_map(Op::StopAll),
        1 => (0usize..3).prop_map(Op::Remove),
        1 => (0usize..3).prop_map(Op::Add),
        1 => any::<bool>().prop_map(Op::Reread),
        1 => prop_oneof![Just(1), Just(12), Just(17), Just(15)].prop_map(Op::Daemon),
        1 => Just(Op::Shutdown),
        3 => (0usize..8, 0u8..7).prop_map(|(i, k)| Op::Notify(i, k)),
    ]
}

fn groups(variant: bool) -> Vec<GroupSpec> {
    let mut a = prog("a");
    a.startsecs = 0;
    a.autorestart = AutoRestart::Always;
    a.stopwaitsecs = 0;
    let mut b = prog("b");
    b.notify.ready = crate::config::Readiness::Notify;
    b.notify.access = crate::config::NotifyAccess::Main;
    b.notify.ready_timeout = Duration::from_secs(3);
    b.startretries = 1;
    b.stopasgroup = true;
    b.stopwaitsecs = 2;
    let mut c = prog("c");
    c.startsecs = 2;
    c.autorestart = AutoRestart::Never;
    c.startretries = 0;
    c.notify.access = crate::config::NotifyAccess::All;
    c.notify.watchdog = Duration::from_millis(1500);
    let mut d = prog("d");
    d.autostart = false;
    d.exitcodes = vec![0, 2];
    if variant {
        d.command = "/bin/true".into();
    }
    vec![
        group("g1", 5, vec![a, b]),
        group("g2", 10, vec![c]),
        program(d),
    ]
}

fn ids(h: &Harness) -> Vec<ProcId> {
    h.core.processes().map(|(id, _)| id).collect()
}

fn apply(h: &mut Harness, op: Op) {
    let all = ids(h);
    let pick = |i: usize| (!all.is_empty()).then(|| all[i % all.len()]);
    let namespec = |h: &Harness, id: ProcId| h.core.spec(id).unwrap().namespec();
    let gname = |i: usize| ["g1", "g2", "d"][i % 3].to_string();
    let now = h.now();
    match op {
        Op::Advance(ms) => h.advance(Duration::from_millis(ms)),
        Op::Exit(i, code) => {
            if let Some(id) = pick(i).filter(|id| h.core.process(*id).unwrap().pid != 0) {
                h.exit(&namespec(h, id), ExitStatus::Code(code));
            }
        }
        Op::Killed(i) => {
            if let Some(id) = pick(i).filter(|id| h.core.process(*id).unwrap().pid != 0) {
                h.exit(
                    &namespec(h, id),
                    ExitStatus::Signal {
                        sig: 9,
                        core: false,
                    },
                );
            }
        }
        Op::StaleExit(i) => {
            if let Some(id) = pick(i) {
                let gen = h.core.process(id).unwrap().gen;
                h.core
                    .exited(id, gen.wrapping_sub(1), ExitStatus::Code(0), now);
            }
        }
        Op::SpawnOk(i) | Op::SpawnFail(i) => {
            if h.unanswered.is_empty() {
                return;
            }
            let (id, gen) = h.unanswered.remove(i % h.unanswered.len());
            if matches!(op, Op::SpawnFail(_)) {
                h.core
                    .spawn_failed(id, gen, "can't find command 'x'".into(), now);
            } else if h.core.process(id).is_some_and(|p| p.gen == gen) {
                h.answer_spawn(id, gen);
            }
        }
        Op::SignalFailed(i) => {
            if let Some(id) = pick(i) {
                let gen = h.core.process(id).unwrap().gen;
                h.core.signal_failed(id, gen, "EPERM".into(), now);
            }
        }
        Op::Start(i, wait) => {
            if let Some(id) = pick(i) {
                let name = namespec(h, id);
                h.send(Request::StartProcess { name, wait });
            }
        }
        Op::Stop(i, wait) => {
            if let Some(id) = pick(i) {
                let name = namespec(h, id);
                h.send(Request::StopProcess { name, wait });
            }
        }
        Op::Signal(i) => {
            if let Some(id) = pick(i) {
                let name = namespec(h, id);
                h.send(Request::SignalProcess {
                    name,
                    signal: "HUP".into(),
                });
            }
        }
        Op::StartAll(wait) => {
            h.send(Request::StartAllProcesses { wait });
        }
        Op::StopGroup(i, wait) => {
            h.send(Request::StopProcessGroup {
                name: gname(i),
                wait,
            });
        }
        Op::StopAll(wait) => {
            h.send(Request::StopAllProcesses { wait });
        }
        Op::Remove(i) => {
            h.send(Request::RemoveProcessGroup { name: gname(i) });
        }
        Op::Add(i) => {
            h.send(Request::AddProcessGroup { name: gname(i) });
        }
        Op::Reread(variant) => {
            let cfg = config(groups(variant));
            h.send(Command::ReloadConfig {
                config: Box::new(Ok(cfg)),
            });
        }
        Op::Daemon(sig) => h.core.daemon_signal(sig, now),
        Op::Shutdown => {
            h.send(Request::Shutdown);
        }
        Op::Notify(i, kind) => {
            let Some(id) = pick(i) else {
                return;
            };
            let p = h.core.process(id).unwrap();
            let (gen, pid) = (p.gen, p.pid);
            let mut n = crate::api::Notification::default();
            match kind {
                0 => n.ready = true,
                1 => n.watchdog = Some(crate::api::WatchdogMsg::Ping),
                2 => n.watchdog = Some(crate::api::WatchdogMsg::Trigger),
                3 => n.extend_timeout_usec = Some(2_000_000),
                4 => n.watchdog_usec = Some(700_000),
                5 => n.status = Some("busy".into()),
                _ => {
                    h.core.main_pid(id, gen, pid + 1000, "MAINPID=", now);
                    return h.pump();
                }
            }
            h.core.notify(id, gen, &n, now);
        }
    }
    h.pump();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn random_inputs_keep_the_invariants(ops in proptest::collection::vec(op(), 1..80)) {
        let mut h = Harness::new(groups(false));
        h.manual_spawn = true;
        h.pump();
        for op in ops {
            apply(&mut h, op);
            let now = h.now().mono;
            prop_assert!(h.core.next_deadline().map_or(true, |d| d >= now), "deadline in the past");
            for (id, p) in h.core.processes() {
                let live: Vec<u64> = h.live.iter().filter(|(i, _)| *i == id).map(|&(_, g)| g).collect();
                prop_assert!(live.len() <= 1, "two live generations of {id:?}");
                if p.pid != 0 {
                    prop_assert_eq!(live, vec![p.gen]);
                }
                prop_assert_eq!(p.state.is_stopped() && p.state != crate::api::ProcessState::Unknown && p.pid != 0, false);
            }
        }
    }
}

/// A configuration drawn from a small pool: each of five programs is left
/// out or put in a group, with one of two commands and autostart on/off.
fn any_config() -> impl Strategy<Value = Vec<GroupSpec>> {
    proptest::collection::vec((0u8..4, any::<bool>(), any::<bool>()), 5).prop_map(|picks| {
        let mut g1 = Vec::new();
        let mut g2 = Vec::new();
        let mut alone = Vec::new();
        for (i, (place, variant, autostart)) in picks.into_iter().enumerate() {
            let mut p = prog(["a", "b", "c", "d", "e"][i]);
            p.startsecs = 0;
            p.autostart = autostart;
            if variant {
                p.command = "/bin/sleep 2000".into();
            }
            match place {
                0 => {}
                1 => g1.push(p),
                2 => g2.push(p),
                _ => alone.push(program(p)),
            }
        }
        let mut groups = alone;
        if !g1.is_empty() {
            groups.push(group("g1", 5, g1));
        }
        if !g2.is_empty() {
            groups.push(group("g2", 10, g2));
        }
        groups
    })
}

/// `(namespec, pid, state)` of every process.
fn running_set(h: &Harness) -> Vec<(String, u32, crate::api::ProcessState)> {
    h.core
        .processes()
        .map(|(_, p)| (p.spec.namespec(), p.pid, p.state))
        .collect()
}

/// Do what `supervisorctl update` does with a diff.
fn update(h: &mut Harness, diff: &crate::api::Diff) {
    for name in diff.removed.iter().chain(&diff.changed) {
        let name = name.clone();
        h.send(Request::StopProcessGroup {
            name: name.clone(),
            wait: false,
        });
        h.secs(1.0);
        for id in ids(h) {
            let p = h.core.process(id).unwrap();
            if p.spec.group == name && p.pid != 0 {
                let spec = p.spec.namespec();
                h.killed(&spec, 15);
            }
        }
        h.send(Request::RemoveProcessGroup { name });
    }
    for name in diff.changed.iter().chain(&diff.added) {
        h.send(Request::AddProcessGroup { name: name.clone() });
    }
    h.secs(1.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Issue 21: a reload with any config either applies (reread answers
    /// the diff and `update` makes the running set that config's) or, when
    /// the config does not load, leaves the running set untouched.
    #[test]
    fn a_reload_applies_or_leaves_the_running_set_untouched(
        first in any_config(),
        second in any_config(),
        loads in any::<bool>(),
    ) {
        let mut h = Harness::new(first.clone());
        h.secs(2.0);
        let before = running_set(&h);
        let effects_before = h.effects.len();
        let outcome = if loads {
            Ok(config(second.clone()))
        } else {
            Err("pidvisord.conf:3: [program:x] command: is required".to_string())
        };
        let reply = h.call(Command::ReloadConfig { config: Box::new(outcome) });
        // A reread alone never touches anything.
        prop_assert_eq!(running_set(&h), before.clone());
        let touched = h.effects[effects_before..]
            .iter()
            .any(|e| matches!(e, crate::core::Effect::Spawn { .. } | crate::core::Effect::Signal { .. }));
        prop_assert!(!touched, "a reread spawned or signalled");
        let diff = match reply {
            Ok(crate::api::Response::Diff(d)) => d,
            Err(f) => {
                prop_assert!(!loads);
                prop_assert_eq!(f.code, crate::api::FaultCode::CantReread);
                return Ok(());
            }
            other => panic!("reloadConfig answered {other:?}"),
        };
        update(&mut h, &diff);
        // Applied: exactly the new config's processes, autostarted ones up,
        // and every process of an unchanged group kept its pid.
        let mut want: Vec<String> = second
            .iter()
            .flat_map(|g| g.processes.iter().map(|p| p.namespec()))
            .collect();
        want.sort();
        let mut have: Vec<String> = running_set(&h).into_iter().map(|(n, _, _)| n).collect();
        have.sort();
        prop_assert_eq!(have, want);
        for (_, p) in h.core.processes() {
            prop_assert_eq!(p.pid != 0, p.spec.autostart, "{}", p.spec.namespec());
        }
        let untouched = |g: &str| !diff.changed.iter().chain(&diff.removed).chain(&diff.added).any(|n| n == g);
        for (name, pid, _) in &before {
            let group_of = |n: &str| n.split(':').next().unwrap_or(n).to_string();
            let id = h.core.find(name).ok().and_then(|ids| ids.first().copied());
            if let (true, Some(id)) = (untouched(&group_of(name)), id) {
                let p = h.core.process(id).unwrap();
                prop_assert_eq!(p.pid, *pid, "{} was restarted by an update that did not change it", name);
            }
        }
    }
}

/// [`groups`] with issue 18's keys: `c` depends on the group `g1`, `d` on
/// `c`; `a` has a start limit, `b` a restart delay.
fn dependent_groups() -> Vec<GroupSpec> {
    let mut gs = groups(false);
    for g in &mut gs {
        for p in &mut g.processes {
            let p = std::sync::Arc::make_mut(p);
            match p.name.as_str() {
                // And the restart policy: a start limit, a delay.
                "a" => p.restart.limit_burst = 2,
                "b" => p.restart.delay = 1,
                "c" => p.depends_on = vec!["g1".into()],
                "d" => p.depends_on = vec!["c".into()],
                _ => {}
            }
        }
    }
    gs
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// The invariants hold with held starts and ordered stops too, and a
    /// process never has a live child while one it depends on was never
    /// spawned.
    #[test]
    fn random_inputs_keep_the_invariants_with_dependencies(ops in proptest::collection::vec(op(), 1..80)) {
        let mut h = Harness::new(dependent_groups());
        h.manual_spawn = true;
        h.pump();
        for op in ops {
            apply(&mut h, op);
            let now = h.now().mono;
            prop_assert!(h.core.next_deadline().map_or(true, |d| d >= now), "deadline in the past");
            // c may have been removed since (then d is on its own).
            let spawned = |name: &str| h.core.find(name).map_or(true, |ids| {
                ids.iter().all(|id| h.core.process(*id).is_some_and(|p| p.spawn_count > 0))
            });
            for (id, p) in h.core.processes() {
                let live: Vec<u64> = h.live.iter().filter(|(i, _)| *i == id).map(|&(_, g)| g).collect();
                prop_assert!(live.len() <= 1, "two live generations of {id:?}");
                if p.pid != 0 {
                    prop_assert_eq!(live, vec![p.gen]);
                }
                if p.spawn_count > 0 && p.spec.name == "d" && p.spec.depends_on == ["c"] {
                    prop_assert!(spawned("g2:c"), "d spawned before c ever was");
                }
            }
        }
    }
}
