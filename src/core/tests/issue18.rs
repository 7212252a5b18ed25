//! Issue 18 on the virtual clock: dependencies (held starts, ordered
//! stops, `start all` and shutdown in graph order, a FATAL dependency, an
//! update that adds an edge), the restart policy (`restart_delay`, the
//! start limit, the crash-loop spacing kept without one) and
//! `exit_on_fatal`.

use crate::api::Request;

use super::harness::*;
use crate::api::{Diff, FaultCode, ProcessState as S, Response as Answer};
use crate::config::{AutoRestart, ExitOnFatal, ProgramSpec};
use crate::core::{Command, Effect, Timer};

fn needs(mut p: ProgramSpec, deps: &[&str]) -> ProgramSpec {
    p.depends_on = deps.iter().map(|d| d.to_string()).collect();
    p
}

/// The index of the first log line equal to `line`.
fn log_at(h: &Harness, line: &str) -> usize {
    h.logs()
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line:?} not in {:#?}", h.logs()))
}

/// `a` takes 2 s to be RUNNING; `b` depends on it.
fn a_then_b() -> Harness {
    let mut a = prog("a");
    a.startsecs = 2;
    Harness::programs(vec![a, needs(prog("b"), &["a"])])
}

#[test]
fn a_dependent_is_spawned_when_its_dependency_is_running() {
    let mut h = a_then_b();
    assert_eq!(h.spawns(), ["a"]);
    assert_eq!(h.state("b"), S::Stopped);
    assert_eq!(info(&mut h, "b").description, "waiting for a");
    assert!(h.has_log("INFO b: waiting for a before starting"));
    h.secs(1.999);
    assert_eq!(h.spawns(), ["a"]);
    h.secs(0.001);
    assert_eq!(h.spawns(), ["a", "b"]);
    // The spawn comes at the dependency's RUNNING, in the main log too.
    let running = log_at(
        &h,
        "INFO success: a entered RUNNING state, process has stayed up for > than 2 seconds (startsecs)",
    );
    assert!(running < log_at(&h, "INFO spawned: 'b' with pid 101"));
    h.secs(1.0);
    assert_eq!(h.state("b"), S::Running);
    assert_eq!(info(&mut h, "b").spawnerr, "");
}

#[test]
fn starting_a_dependent_starts_its_dependency_first() {
    let mut a = prog("a");
    a.autostart = false;
    let mut b = needs(prog("b"), &["a"]);
    b.autostart = false;
    let mut h = Harness::programs(vec![a, b]);
    let tok = h.send(start("b", true));
    assert_eq!(h.spawns(), ["a"]);
    assert_eq!(h.reply(tok), None);
    h.secs(1.0);
    assert_eq!(h.spawns(), ["a", "b"]);
    assert_eq!(h.reply(tok), None);
    h.secs(1.0);
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
    // A start of a running dependency is refused as usual.
    assert_eq!(
        h.call(start("a", false)),
        Err(crate::api::Fault::new(FaultCode::AlreadyStarted, "a"))
    );
}

#[test]
fn stopping_a_dependency_stops_its_dependents_first_and_brings_them_back() {
    let mut h = a_then_b();
    h.secs(5.0);
    let tok = h.send(stop("a", true));
    // b gets its stop signal; a only once b is down.
    assert_eq!(h.signals(), [("b".into(), 101, 15, false)]);
    assert_eq!(h.state("a"), S::Running);
    h.secs(0.5);
    h.killed("b", 15);
    assert_eq!(h.signals().len(), 2);
    assert_eq!(h.signals()[1], ("a".into(), 100, 15, false));
    assert_eq!(h.reply(tok), None);
    h.killed("a", 15);
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
    let (b, a) = (
        log_at(&h, "WARN stopped: b (terminated by SIGTERM)"),
        log_at(&h, "WARN stopped: a (terminated by SIGTERM)"),
    );
    assert!(b < a);
    assert_eq!((h.state("a"), h.state("b")), (S::Stopped, S::Stopped));
    // b was stopped for a: it comes back once a is RUNNING again.
    h.secs(10.0);
    assert_eq!(h.spawns(), ["a", "b"]);
    h.send(start("a", false));
    h.secs(2.0);
    assert_eq!(h.spawns(), ["a", "b", "a", "b"]);
}

#[test]
fn a_chain_stops_from_its_end_and_comes_back_from_its_start() {
    let mut h = Harness::programs(vec![
        prog("a"),
        needs(prog("b"), &["a"]),
        needs(prog("c"), &["b"]),
    ]);
    h.secs(3.0);
    assert_eq!(h.spawns(), ["a", "b", "c"]);
    h.send(stop("a", false));
    assert_eq!(h.signals().len(), 1);
    h.killed("c", 15);
    h.killed("b", 15);
    h.killed("a", 15);
    let order: Vec<String> = h.signals().into_iter().map(|s| s.0).collect();
    assert_eq!(order, ["c", "b", "a"]);
    h.send(start("a", false));
    h.secs(3.0);
    assert_eq!(h.spawns(), ["a", "b", "c", "a", "b", "c"]);
}

#[test]
fn a_dependent_stopped_on_purpose_stays_stopped() {
    let mut h = a_then_b();
    h.secs(5.0);
    h.send(stop("b", false));
    h.killed("b", 15);
    h.send(stop("a", false));
    h.killed("a", 15);
    h.send(start("a", false));
    h.secs(5.0);
    assert_eq!(h.spawns(), ["a", "b", "a"]);
    assert_eq!(h.state("b"), S::Stopped);
}

#[test]
fn a_fatal_dependency_leaves_its_dependent_stopped_with_the_reason() {
    let mut a = prog("a");
    a.startretries = 0;
    let b = needs(prog("b"), &["a"]);
    let mut h = Harness::with_bad(
        vec![program(a), program(b)],
        &[("a", "can't find command 'nope'")],
    );
    assert_eq!(h.state("a"), S::Fatal);
    assert_eq!(h.state("b"), S::Stopped);
    let i = info(&mut h, "b");
    assert_eq!(i.description, "not started: dependency a is FATAL");
    assert_eq!(i.spawnerr, "not started: dependency a is FATAL");
    assert!(h.has_log("WARN not starting b: dependency a is FATAL"));
    assert_eq!(h.spawns(), ["a"]);
    // Asked for, the start of b tries a again, and fails with it.
    let tok = h.send(start("b", true));
    assert_eq!(h.spawns(), ["a", "a"]);
    assert_eq!(
        h.reply(tok),
        Some(Err(crate::api::Fault::new(FaultCode::SpawnError, "b")))
    );
    assert_eq!(h.state("b"), S::Stopped);
}

#[test]
fn a_dependent_of_a_dependent_that_gave_up_gives_up_too() {
    let mut a = prog("a");
    a.startretries = 0;
    let mut h = Harness::with_bad(
        vec![
            program(a),
            program(needs(prog("b"), &["a"])),
            program(needs(prog("c"), &["b"])),
        ],
        &[("a", "can't find command 'nope'")],
    );
    assert_eq!(
        info(&mut h, "c").description,
        "not started: dependency b did not start"
    );
    assert_eq!(h.spawns(), ["a"]);
}

#[test]
fn start_all_and_autostart_follow_the_graph_then_priority() {
    // b has the lower priority number but depends on a.
    let mut a = prog("a");
    a.priority = 20;
    a.autostart = false;
    let mut b = needs(prog("b"), &["a"]);
    b.priority = 10;
    b.autostart = false;
    let mut c = prog("c");
    c.priority = 5;
    c.autostart = false;
    let mut h = Harness::programs(vec![a, b, c]);
    let tok = h.send(Request::StartAllProcesses { wait: false });
    assert_eq!(h.spawns(), ["c", "a"]);
    // The answer waits for the held start of b.
    assert_eq!(h.reply(tok), None);
    h.secs(1.0);
    assert_eq!(h.spawns(), ["c", "a", "b"]);
    let Some(Ok(Answer::Results(results))) = h.reply(tok) else {
        panic!("no results");
    };
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
}

#[test]
fn stop_all_and_shutdown_stop_dependents_first() {
    let mut a = prog("a");
    a.priority = 1;
    let mut b = needs(prog("b"), &["a"]);
    b.priority = 500;
    let mut h = Harness::programs(vec![a.clone(), b.clone()]);
    h.secs(3.0);
    let Ok(Answer::Results(results)) = h.call(Request::StopAllProcesses { wait: false }) else {
        panic!("stop all answered at once");
    };
    assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
    assert_eq!(h.signals(), [("b".into(), 101, 15, false)]);
    h.killed("b", 15);
    assert_eq!(h.signals()[1].0, "a");

    // A shutdown: b (stopped first by priority anyway) then a; and with the
    // priorities the other way round, still b first.
    a.priority = 500;
    b.priority = 1;
    let mut h = Harness::programs(vec![a, b]);
    h.secs(3.0);
    h.send(Request::Shutdown);
    assert_eq!(h.signals(), [("b".into(), 101, 15, false)]);
    h.killed("b", 15);
    assert_eq!(h.signals()[1].0, "a");
    h.killed("a", 15);
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
}

#[test]
fn a_group_name_stands_for_its_programs() {
    let mut h = Harness::new(vec![
        group("backend", 999, vec![prog("db"), prog("cache")]),
        program(needs(prog("web"), &["backend"])),
    ]);
    assert_eq!(h.spawns(), ["backend:cache", "backend:db"]);
    h.secs(1.0);
    assert_eq!(h.spawns(), ["backend:cache", "backend:db", "web"]);
}

#[test]
fn a_dependency_not_added_yet_keeps_the_dependent_waiting_until_it_runs() {
    let a = prog("a");
    let b = needs(prog("b"), &["a"]);
    let mut h = Harness::programs(vec![b.clone()]);
    assert_eq!(h.state("b"), S::Stopped);
    assert_eq!(info(&mut h, "b").description, "waiting for a");
    let cfg = config(vec![program(a), program(b)]);
    let reread = h.call(Command::ReloadConfig {
        config: Box::new(Ok(cfg)),
    });
    assert!(reread.is_ok());
    assert_eq!(
        h.call(Request::AddProcessGroup { name: "a".into() }),
        Ok(Answer::Bool(true))
    );
    assert_eq!(h.spawns(), ["a"]);
    h.secs(1.0);
    assert_eq!(h.spawns(), ["a", "b"]);
}

#[test]
fn an_update_that_adds_an_edge_applies_it() {
    let mut h = Harness::programs(vec![prog("a"), prog("b")]);
    h.secs(2.0);
    let cfg = config(vec![program(prog("a")), program(needs(prog("b"), &["a"]))]);
    let reply = h.call(Command::ReloadConfig {
        config: Box::new(Ok(cfg)),
    });
    assert_eq!(
        reply,
        Ok(Answer::Diff(Diff {
            added: vec![],
            changed: vec!["b".into()],
            removed: vec![],
        }))
    );
    // supervisorctl update: stop, remove and add the changed group.
    h.send(Request::StopProcessGroup {
        name: "b".into(),
        wait: false,
    });
    h.killed("b", 15);
    assert!(h
        .call(Request::RemoveProcessGroup { name: "b".into() })
        .is_ok());
    assert!(h
        .call(Request::AddProcessGroup { name: "b".into() })
        .is_ok());
    h.secs(2.0);
    assert_eq!(h.state("b"), S::Running);
    // The new edge: stopping a stops b first.
    h.send(stop("a", false));
    let last = h.signals().last().cloned().unwrap();
    assert_eq!(last.0, "b");
    assert_eq!(h.state("a"), S::Running);
}

#[test]
fn a_stop_of_a_backoff_process_held_for_its_dependency_stops_it() {
    let mut a = prog("a");
    a.autorestart = AutoRestart::Always;
    a.startsecs = 2;
    let mut b = needs(prog("b"), &["a"]);
    b.startsecs = 10;
    let mut h = Harness::programs(vec![a, b]);
    h.secs(3.0);
    // a restarts (RUNNING at 5 s); b fails within its startsecs meanwhile,
    // and its retry (at 4 s) waits for a.
    h.exited("a", 1);
    h.exited("b", 1);
    assert_eq!(h.state("b"), S::Backoff);
    h.secs(1.5);
    assert_eq!((h.state("a"), h.state("b")), (S::Starting, S::Backoff));
    assert_eq!(info(&mut h, "b").description, "waiting for a");
    assert_eq!(h.call(stop("b", false)), Ok(Answer::Bool(true)));
    assert_eq!(h.state("b"), S::Stopped);
    h.secs(5.0);
    assert_eq!((h.state("a"), h.state("b")), (S::Running, S::Stopped));
}

#[test]
fn a_stop_calls_off_a_held_start() {
    let mut h = a_then_b();
    assert_eq!(h.call(stop("b", true)), Ok(Answer::Bool(true)));
    assert_eq!(info(&mut h, "b").description, "Not started");
    h.secs(5.0);
    assert_eq!(h.spawns(), ["a"]);
    assert_eq!(
        h.call(stop("b", true)),
        Err(crate::api::Fault::new(FaultCode::NotRunning, "b"))
    );
}

#[test]
fn an_automatic_restart_waits_for_its_dependency() {
    let mut a = prog("a");
    a.autorestart = AutoRestart::Always;
    let mut b = needs(prog("b"), &["a"]);
    b.autorestart = AutoRestart::Always;
    let mut h = Harness::programs(vec![a, b]);
    h.secs(5.0);
    // a crashes (b stays up), restarts; b then crashes while a is STARTING.
    h.exited("a", 1);
    assert_eq!(h.state("a"), S::Starting);
    assert_eq!(h.state("b"), S::Running);
    h.exited("b", 1);
    assert_eq!(h.state("b"), S::Exited);
    assert_eq!(info(&mut h, "b").description, "waiting for a");
    h.secs(1.0);
    assert_eq!(h.state("b"), S::Starting);
    assert_eq!(h.spawns(), ["a", "b", "a", "b"]);
}

// ---- restart policy -------------------------------------------------------

fn crasher(burst: i64, interval: i64) -> ProgramSpec {
    let mut p = prog("c");
    p.autorestart = AutoRestart::Always;
    p.restart.limit_burst = burst;
    p.restart.limit_interval = interval;
    p
}

#[test]
fn a_start_limit_restarts_at_once_then_goes_fatal_with_the_reason() {
    // RUNNING for 2 s, then a crash: 3 restarts in 30 s are allowed.
    let mut h = Harness::programs(vec![crasher(3, 30)]);
    for n in 1..=3 {
        h.secs(2.0);
        h.exited("c", 1);
        assert_eq!(h.state("c"), S::Starting, "restart {n} is immediate");
    }
    h.secs(2.0);
    h.exited("c", 1);
    assert_eq!(h.state("c"), S::Fatal);
    assert_eq!(h.spawns().len(), 4);
    let why = "restarted 3 times within 30 seconds (start_limit_burst)";
    assert!(h.has_log(&format!(
        "INFO gave up: c entered FATAL state, too many restarts: {why}"
    )));
    assert_eq!(
        info(&mut h, "c").description,
        format!("too many restarts: {why}")
    );
    assert_eq!(h.core.next_deadline(), None);
    // A start asked for opens a new window.
    assert!(h.call(start("c", false)).is_ok());
    for _ in 1..=3 {
        h.secs(2.0);
        h.exited("c", 1);
        assert_eq!(h.state("c"), S::Starting);
    }
}

#[test]
fn with_a_start_limit_a_short_run_restarts_at_once() {
    let mut p = crasher(5, 10);
    p.startsecs = 0;
    let mut h = Harness::programs(vec![p]);
    h.secs(0.3);
    h.exited("c", 1);
    // No crash-loop spacing: the limit bounds the loop.
    assert_eq!(h.state("c"), S::Running);
    assert_eq!(h.spawns().len(), 2);
}

#[test]
fn restarts_spread_over_more_than_the_interval_never_hit_the_limit() {
    let mut h = Harness::programs(vec![crasher(2, 10)]);
    for _ in 0..10 {
        h.secs(6.0);
        h.exited("c", 1);
        assert_eq!(h.state("c"), S::Starting);
    }
}

#[test]
fn restart_delay_comes_before_an_automatic_restart() {
    let mut p = prog("d");
    p.autorestart = AutoRestart::Always;
    p.restart.delay = 5;
    let mut h = Harness::programs(vec![p]);
    h.secs(10.0);
    h.exited("d", 1);
    assert_eq!(h.state("d"), S::Exited);
    assert_eq!(h.timer("d", Timer::Restart), Some(secs(15.0)));
    h.secs(4.999);
    assert_eq!(h.state("d"), S::Exited);
    h.secs(0.001);
    assert_eq!(h.state("d"), S::Starting);
    // A stop during the delay calls the restart off.
    h.secs(10.0);
    h.exited("d", 1);
    assert_eq!(h.call(stop("d", false)), Ok(Answer::Bool(true)));
    assert_eq!(h.state("d"), S::Stopped);
    h.secs(10.0);
    assert_eq!(h.spawns().len(), 2);
}

#[test]
fn without_a_limit_a_crash_loop_keeps_supervisors_pace() {
    let mut p = prog("e");
    p.startsecs = 0;
    p.autorestart = AutoRestart::Always;
    let mut h = Harness::programs(vec![p]);
    for _ in 0..20 {
        h.secs(0.1);
        h.exited("e", 1);
        assert_eq!(h.state("e"), S::Exited);
        h.secs(0.9);
        assert_eq!(h.state("e"), S::Running);
    }
    assert_eq!(h.spawns().len(), 21, "restarts forever, once a second");
}

// ---- exit_on_fatal ----------------------------------------------------------

fn with_exit_on_fatal(on: ExitOnFatal) -> Harness {
    let mut a = prog("a");
    a.startretries = 0;
    let mut cfg = config(vec![program(a), program(prog("b"))]);
    cfg.supervisord.exit_on_fatal = on;
    let mut h = Harness::with_config(cfg);
    h.secs(2.0);
    h.send(Request::StopProcess {
        name: "a".into(),
        wait: false,
    });
    h.killed("a", 15);
    h.bad.insert("a".into(), "can't find command 'nope'".into());
    h.send(start("a", false));
    h
}

#[test]
fn exit_on_fatal_stops_everything_and_exits_non_zero() {
    let mut h = with_exit_on_fatal(ExitOnFatal::Names(vec!["a".into()]));
    assert_eq!(h.state("a"), S::Fatal);
    assert!(h.has_log(
        "CRIT a entered FATAL state and exit_on_fatal names it: stopping everything, then exiting with status 1"
    ));
    assert_eq!(h.core.mood(), crate::api::SupervisorState::Shutdown);
    assert_eq!(h.signals().last().unwrap().0, "b");
    h.killed("b", 15);
    assert_eq!(h.effects.last(), Some(&Effect::ExitWith { code: 1 }));
    let mut h = with_exit_on_fatal(ExitOnFatal::All);
    h.killed("b", 15);
    assert_eq!(h.effects.last(), Some(&Effect::ExitWith { code: 1 }));
}

#[test]
fn exit_on_fatal_ignores_other_programs_and_fatals_of_a_shutdown() {
    let h = with_exit_on_fatal(ExitOnFatal::Names(vec!["b".into()]));
    assert_eq!(h.state("a"), S::Fatal);
    assert_eq!(h.core.mood(), crate::api::SupervisorState::Running);
    // A BACKOFF process given up by a shutdown is no reason to fail it.
    let mut b = prog("b");
    b.startsecs = 5;
    let mut cfg = config(vec![program(b)]);
    cfg.supervisord.exit_on_fatal = ExitOnFatal::All;
    let mut h = Harness::with_config(cfg);
    h.exited("b", 1);
    assert_eq!(h.state("b"), S::Backoff);
    h.send(Request::Shutdown);
    assert_eq!(h.state("b"), S::Fatal);
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
}
