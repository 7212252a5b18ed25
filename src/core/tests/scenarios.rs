//! Timelines on the virtual clock, one behaviour each. Row names in comments
//! refer to the transition table of spec §3.4.

use crate::api::Request;
use std::time::Duration;

use super::harness::*;
use crate::api::{Fault, FaultCode, ProcessState as S, Response as Answer};
use crate::config::{AutoRestart, LogFile};
use crate::core::{Command, CommandCheck, Effect, ExitStatus, Timer, TRANSITIONS};

fn fault(code: FaultCode, detail: &str) -> Result<Answer, Fault> {
    Err(Fault::new(code, detail))
}

#[test]
fn table_has_every_spec_row_ours_and_nothing_else() {
    let legal = [
        (S::Stopped, S::Starting),
        (S::Exited, S::Starting),
        (S::Fatal, S::Starting),
        (S::Backoff, S::Starting),
        (S::Starting, S::Running),
        (S::Starting, S::Backoff),
        (S::Starting, S::Stopping),
        (S::Running, S::Stopping),
        (S::Running, S::Exited),
        (S::Backoff, S::Fatal),
        // ours: an automatic restart past the start limit (issue 18)
        (S::Exited, S::Fatal),
        (S::Backoff, S::Stopped),
        // ours: a stop between the runs of a crash loop (restart spacing)
        (S::Exited, S::Stopped),
        (S::Stopping, S::Stopped),
        (S::Starting, S::Unknown),
        (S::Running, S::Unknown),
        (S::Stopping, S::Unknown),
        (S::Unknown, S::Exited),
    ];
    assert_eq!(TRANSITIONS.len(), legal.len());
    for from in S::ALL {
        for to in S::ALL {
            assert_eq!(
                crate::core::can_become(from, to),
                legal.contains(&(from, to)),
                "{from:?}->{to:?}"
            );
        }
    }
    let codes: Vec<i32> = S::ALL.iter().map(|s| s.code()).collect();
    assert_eq!(codes, [0, 10, 20, 30, 40, 100, 200, 1000]);
    assert_eq!(S::Backoff.name(), "BACKOFF");
}

#[test]
fn autostart_then_running_exactly_at_startsecs() {
    // STOPPED -> STARTING (autostart), STARTING -> RUNNING
    let mut h = Harness::programs(vec![prog("a")]);
    assert_eq!(h.state("a"), S::Starting);
    assert!(h.has_log("INFO spawned: 'a' with pid 100"));
    assert_eq!(h.timer("a", Timer::StartSecs), Some(secs(1.0)));
    assert_eq!(h.core.next_deadline().map(|d| d - h.epoch), Some(secs(1.0)));
    h.secs(0.999);
    assert_eq!(h.state("a"), S::Starting);
    h.secs(0.001);
    assert_eq!(h.state("a"), S::Running);
    assert!(h.has_log(
        "INFO success: a entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"
    ));
    assert_eq!(h.core.next_deadline(), None);
}

#[test]
fn autostart_false_stays_stopped() {
    let mut p = prog("a");
    p.autostart = false;
    let mut h = Harness::programs(vec![p]);
    assert_eq!(h.state("a"), S::Stopped);
    assert!(h.spawns().is_empty());
    assert_eq!(info(&mut h, "a").description, "Not started");
}

#[test]
fn exit_before_startsecs_is_backoff_whatever_the_code() {
    // STARTING -> BACKOFF (child reaped too quickly)
    let mut h = Harness::programs(vec![prog("a")]);
    h.secs(0.5);
    h.exited("a", 0);
    assert_eq!(h.state("a"), S::Backoff);
    assert!(h.has_log("WARN exited: a (exit status 0; not expected)"));
    let i = info(&mut h, "a");
    assert_eq!(
        i.spawnerr,
        "Exited too quickly (process log may have details)"
    );
    assert_eq!(
        i.description,
        "Exited too quickly (process log may have details)"
    );
    assert_eq!(i.exitstatus, 0);
    assert_eq!(h.timer("a", Timer::Backoff), Some(secs(1.5)));
}

#[test]
fn backoff_timeline_then_fatal() {
    // BACKOFF -> STARTING at failure + k seconds; BACKOFF -> FATAL after startretries+1 attempts
    let mut h = Harness::programs(vec![prog("a")]);
    let mut starts = vec![];
    for k in 1..=4u64 {
        starts.push(h.t);
        h.exited("a", 1); // at once: too quickly
        if k <= 3 {
            assert_eq!(h.state("a"), S::Backoff);
            assert_eq!(h.timer("a", Timer::Backoff), Some(h.t + secs(k as f64)));
            h.advance(secs(k as f64) - secs(0.001));
            assert_eq!(h.state("a"), S::Backoff, "retry {k} too early");
            h.secs(0.001);
            assert_eq!(h.state("a"), S::Starting, "retry {k}");
        }
    }
    assert_eq!(starts, [secs(0.0), secs(1.0), secs(3.0), secs(6.0)]);
    assert_eq!(h.state("a"), S::Fatal);
    assert!(h.has_log("INFO gave up: a entered FATAL state, too many start retries too quickly"));
    assert_eq!(h.core.next_deadline(), None);
    assert_eq!(h.spawns().len(), 4);
    assert_eq!(h.core.process(h.id("a")).unwrap().backoff, 0);
}

#[test]
fn spawn_errors_back_off_with_their_text() {
    // STARTING -> BACKOFF (spawn error)
    let mut p = prog("a");
    p.startretries = 1;
    let mut h = Harness::with_bad(vec![program(p)], &[("a", "can't find command 'nope'")]);
    assert_eq!(h.state("a"), S::Backoff);
    assert!(h.has_log("INFO spawnerr: can't find command 'nope'"));
    assert_eq!(info(&mut h, "a").description, "can't find command 'nope'");
    h.secs(1.0);
    assert_eq!(h.state("a"), S::Fatal);
    assert_eq!(info(&mut h, "a").description, "can't find command 'nope'");
    // manual start of FATAL: fresh cycle, SPAWN_ERROR reply
    let r = h.call(start("a", true));
    assert_eq!(r, fault(FaultCode::SpawnError, "a"));
    assert_eq!(h.state("a"), S::Backoff);
    assert_eq!(h.core.process(h.id("a")).unwrap().backoff, 1);
}

#[test]
fn startretries_zero_is_one_attempt() {
    let mut p = prog("a");
    p.startretries = 0;
    let mut h = Harness::programs(vec![p]);
    h.exited("a", 0);
    assert_eq!(h.state("a"), S::Fatal);
    assert_eq!(h.spawns().len(), 1);
}

#[test]
fn startsecs_zero_never_too_quick_and_restarts_forever() {
    let mut p = prog("a");
    p.startsecs = 0;
    p.autorestart = AutoRestart::Always;
    let mut h = Harness::programs(vec![p]);
    assert_eq!(h.state("a"), S::Running);
    for _ in 0..10 {
        h.secs(1.0);
        h.exited("a", 1);
        assert_eq!(h.state("a"), S::Running);
    }
    assert_eq!(h.spawns().len(), 11);
    assert_eq!(h.core.process(h.id("a")).unwrap().restart_count, 10);
}

/// A run shorter than a second is restarted a second after its spawn, as
/// Supervisor's 1 s loop bounds a crash loop; a longer run restarts at once.
#[test]
fn crash_loop_restarts_once_a_second() {
    // EXITED -> STARTING (autorestart), spaced
    let mut p = prog("a");
    p.startsecs = 0;
    p.autorestart = AutoRestart::Always;
    let mut h = Harness::programs(vec![p]);
    h.secs(0.3);
    h.exited("a", 1);
    assert_eq!(h.state("a"), S::Exited);
    assert_eq!(h.spawns().len(), 1);
    h.secs(0.69);
    assert_eq!(h.state("a"), S::Exited);
    h.secs(0.01);
    assert_eq!(h.state("a"), S::Running);
    assert_eq!(h.spawns().len(), 2);
    assert_eq!(h.core.process(h.id("a")).unwrap().restart_count, 1);
    // Up for longer than the spacing: at once.
    h.secs(2.5);
    h.exited("a", 1);
    assert_eq!(h.state("a"), S::Running);
    assert_eq!(h.spawns().len(), 3);
}

#[test]
fn stop_calls_off_a_held_back_restart() {
    let mut p = prog("a");
    p.startsecs = 0;
    p.autorestart = AutoRestart::Always;
    let mut h = Harness::programs(vec![p]);
    h.exited("a", 1);
    assert_eq!(h.state("a"), S::Exited);
    // EXITED -> STOPPED: the held-back restart is called off.
    assert!(h.call(stop("a", true)).is_ok());
    assert_eq!(h.state("a"), S::Stopped);
    h.secs(5.0);
    assert_eq!(h.state("a"), S::Stopped);
    assert_eq!(h.spawns().len(), 1);
    // An EXITED process with no restart due is still NOT_RUNNING.
    assert_eq!(h.call(stop("a", true)), fault(FaultCode::NotRunning, "a"));
    // A start still works, at once.
    assert!(h.call(start("a", false)).is_ok());
    assert_eq!(h.state("a"), S::Running);
}

#[test]
fn autorestart_against_exitcodes() {
    // RUNNING -> EXITED, EXITED -> STARTING per autorestart
    let cases = [
        (AutoRestart::Never, ExitStatus::Code(0), false, true),
        (AutoRestart::Never, ExitStatus::Code(2), false, false),
        (AutoRestart::Unexpected, ExitStatus::Code(0), false, true),
        (AutoRestart::Unexpected, ExitStatus::Code(2), true, false),
        (
            AutoRestart::Unexpected,
            ExitStatus::Signal {
                sig: 15,
                core: false,
            },
            true,
            false,
        ),
        (AutoRestart::Always, ExitStatus::Code(0), true, true),
        (AutoRestart::Always, ExitStatus::Code(2), true, false),
        (
            AutoRestart::Always,
            ExitStatus::Signal {
                sig: 11,
                core: true,
            },
            true,
            false,
        ),
    ];
    for (policy, status, restarts, expected) in cases {
        let mut p = prog("a");
        p.autorestart = policy;
        let mut h = Harness::programs(vec![p]);
        h.secs(5.0);
        h.exit("a", status);
        let want = if restarts { S::Starting } else { S::Exited };
        assert_eq!(h.state("a"), want, "{policy:?} {status:?}");
        let exited = h.effects.iter().find_map(|e| match e {
            Effect::StateChanged {
                to: S::Exited,
                expected,
                ..
            } => Some(*expected),
            _ => None,
        });
        assert_eq!(exited, Some(expected));
        let how = status.describe();
        let line = if expected {
            format!("INFO exited: a ({how}; expected)")
        } else {
            format!("WARN exited: a ({how}; not expected)")
        };
        assert!(h.has_log(&line), "{line} in {:?}", h.logs());
        if !restarts {
            let i = info(&mut h, "a");
            assert_eq!(i.exitstatus, status.code());
            assert_eq!(i.description, "Nov 22 02:03 AM");
            if !expected {
                assert_eq!(i.spawnerr, format!("Bad exit code {}", status.code()));
            }
        }
    }
    assert_eq!(
        ExitStatus::Signal {
            sig: 11,
            core: true
        }
        .describe(),
        "terminated by SIGSEGV (core dumped)"
    );
}

#[test]
fn stop_escalates_to_repeated_sigkill() {
    // RUNNING -> STOPPING, STOPPING -> STOPPING (SIGKILL), STOPPING -> STOPPED
    let mut p = prog("a");
    p.stopwaitsecs = 10;
    let mut h = Harness::programs(vec![p]);
    h.secs(2.0);
    let tok = h.send(stop("a", true));
    assert_eq!(h.state("a"), S::Stopping);
    assert_eq!(h.reply(tok), None);
    assert_eq!(h.signals(), [("a".into(), 100, 15, false)]);
    assert!(h.has_log("DEBG killing a (pid 100) with signal SIGTERM"));
    assert_eq!(h.timer("a", Timer::StopWait), Some(secs(12.0)));
    h.secs(10.0);
    assert!(h.has_log("WARN killing 'a' (100) with SIGKILL"));
    assert_eq!(h.signals().len(), 2);
    assert_eq!(h.signals()[1], ("a".into(), 100, 9, false));
    h.secs(10.0);
    assert_eq!(h.signals().len(), 3, "SIGKILL repeats every stopwaitsecs");
    h.secs(1.0);
    h.killed("a", 9);
    assert_eq!(h.state("a"), S::Stopped);
    assert!(h.has_log("WARN stopped: a (terminated by SIGKILL)"));
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
    assert_eq!(h.core.next_deadline(), None);
    assert_eq!(info(&mut h, "a").description, "Nov 22 02:03 AM");
}

#[test]
fn stop_without_wait_replies_at_once_and_logs_expected_exit() {
    let mut h = Harness::programs(vec![prog("a")]);
    h.secs(2.0);
    assert_eq!(h.call(stop("a", false)), Ok(Answer::Bool(true)));
    h.exited("a", 0);
    assert!(h.has_log("INFO stopped: a (exit status 0)"));
    assert_eq!(h.call(stop("a", false)), fault(FaultCode::NotRunning, "a"));
}

#[test]
fn stopasgroup_and_killasgroup_flags() {
    let mut p = prog("a");
    p.stopasgroup = true;
    p.killasgroup = true;
    p.stopwaitsecs = 1;
    let mut q = prog("b");
    q.killasgroup = true;
    q.stopwaitsecs = 1;
    let mut h = Harness::programs(vec![p, q]);
    h.secs(2.0);
    h.send(stop("a", false));
    h.send(stop("b", false));
    assert!(h.has_log("DEBG killing a (pid 100) process group with signal SIGTERM"));
    h.secs(1.0);
    let sigs = h.signals();
    assert!(sigs.contains(&("a".into(), 100, 15, true)));
    assert!(sigs.contains(&("a".into(), 100, 9, true)));
    assert!(sigs.contains(&("b".into(), 101, 15, false)));
    assert!(sigs.contains(&("b".into(), 101, 9, true)));
}

#[test]
fn stop_of_backoff_is_immediate_and_start_of_backoff_refused() {
    // BACKOFF -> STOPPED
    let mut h = Harness::programs(vec![prog("a")]);
    h.exited("a", 1);
    assert_eq!(h.state("a"), S::Backoff);
    assert_eq!(
        h.call(start("a", true)),
        fault(FaultCode::AlreadyStarted, "a")
    );
    assert_eq!(h.call(stop("a", true)), Ok(Answer::Bool(true)));
    assert_eq!(h.state("a"), S::Stopped);
    assert!(h.has_log("DEBG Attempted to kill a, which is in BACKOFF state."));
    assert_eq!(
        h.core.process(h.id("a")).unwrap().backoff,
        1,
        "not reset (as Supervisor)"
    );
    assert!(h.signals().is_empty());
    assert_eq!(h.core.next_deadline(), None);
}

#[test]
fn stop_of_starting_process() {
    // STARTING -> STOPPING
    let mut h = Harness::programs(vec![prog("a")]);
    let tok = h.send(start("a", true));
    assert_eq!(h.reply(tok), Some(fault(FaultCode::AlreadyStarted, "a")));
    let s = h.send(stop("a", true));
    assert_eq!(h.state("a"), S::Stopping);
    h.exited("a", 0);
    assert_eq!(h.reply(s), Some(Ok(Answer::Bool(true))));
}

#[test]
fn start_wait_replies_at_running_or_fails() {
    let mut p = prog("a");
    p.autostart = false;
    p.startsecs = 3;
    let mut h = Harness::programs(vec![p]);
    let tok = h.send(start("a", true));
    assert_eq!(h.state("a"), S::Starting);
    h.secs(2.9);
    assert_eq!(h.reply(tok), None);
    h.secs(0.1);
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
    // exits too quickly: SPAWN_ERROR
    h.send(stop("a", false));
    h.exited("a", 0);
    let tok = h.send(start("a", true));
    h.secs(1.0);
    h.exited("a", 0);
    assert_eq!(h.reply(tok), Some(fault(FaultCode::SpawnError, "a")));
    // without wait: as soon as the pid is known
    h.send(stop("a", false));
    let tok = h.send(start("a", false));
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
    assert_eq!(h.state("a"), S::Starting);
}

#[test]
fn start_wait_abnormal_termination_when_stopped_meanwhile() {
    let mut p = prog("a");
    p.autostart = false;
    let mut h = Harness::programs(vec![p]);
    let tok = h.send(start("a", true));
    h.send(stop("a", false));
    assert_eq!(
        h.reply(tok),
        Some(fault(FaultCode::AbnormalTermination, "a"))
    );
}

#[test]
fn start_reply_waits_for_the_spawn_result() {
    let mut p = prog("a");
    p.autostart = false;
    let mut h = Harness::programs(vec![p]);
    h.manual_spawn = true;
    let tok = h.send(start("a", false));
    assert_eq!(h.reply(tok), None);
    let (id, gen) = h.unanswered.pop().unwrap();
    let now = h.now();
    h.core.spawn_failed(
        id,
        gen,
        "Too many processes in process table to spawn 'a'".into(),
        now,
    );
    h.pump();
    assert_eq!(h.reply(tok), Some(fault(FaultCode::SpawnError, "a")));
}

#[test]
fn stop_before_the_pid_is_known_signals_on_spawned() {
    let mut p = prog("a");
    p.autostart = false;
    p.stopasgroup = true;
    p.stopwaitsecs = 7;
    let mut h = Harness::programs(vec![p]);
    h.manual_spawn = true;
    h.send(start("a", false));
    let tok = h.send(stop("a", true));
    assert_eq!(h.state("a"), S::Stopping);
    assert!(h.signals().is_empty());
    let (id, gen) = h.unanswered.pop().unwrap();
    h.answer_spawn(id, gen);
    h.pump();
    assert_eq!(h.signals(), [("a".into(), 100, 15, true)]);
    assert_eq!(h.timer("a", Timer::StopWait), Some(secs(7.0)));
    h.exited("a", 0);
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
}

#[test]
fn command_check_faults() {
    let mut p = prog("a");
    p.autostart = false;
    let mut h = Harness::programs(vec![p]);
    h.core.set_command_check(Box::new(|s| {
        if s.command.starts_with("/bin/sleep") {
            CommandCheck::NotFound("can't find command 'sleep'".into())
        } else {
            CommandCheck::NotExecutable("command at '/x' is a directory".into())
        }
    }));
    let r = h.call(start("a", true));
    assert_eq!(r.unwrap_err().text, "NO_FILE: can't find command 'sleep'");
    assert_eq!(h.state("a"), S::Stopped);
    h.core.set_command_check(Box::new(|_| {
        CommandCheck::NotExecutable("command at '/x' is a directory".into())
    }));
    let r = h.call(start("a", false));
    assert_eq!(
        r.unwrap_err().text,
        "NOT_EXECUTABLE: command at '/x' is a directory"
    );
    // group calls report it per process
    let r = h.call(Request::StartProcessGroup {
        name: "a".into(),
        wait: false,
    });
    let Ok(Answer::Results(rs)) = r else {
        panic!("{r:?}")
    };
    assert_eq!((rs[0].status(), rs[0].name.as_str()), (21, "a"));
}

#[test]
fn failed_kill_is_unknown() {
    // RUNNING/STARTING/STOPPING -> UNKNOWN; UNKNOWN -> EXITED
    let mut h = Harness::programs(vec![prog("a")]);
    h.secs(2.0);
    h.send(stop("a", false));
    let id = h.id("a");
    let now = h.now();
    h.core.signal_failed(id, 1, "EPERM".into(), now);
    h.pump();
    assert_eq!(h.state("a"), S::Unknown);
    assert!(h.has_log("CRIT unknown problem killing a (100):EPERM"));
    assert_eq!(
        h.call(start("a", true)),
        fault(FaultCode::Failed, "a is in an unknown process state")
    );
    assert_eq!(info(&mut h, "a").description, "");
    h.exited("a", 0);
    assert_eq!(h.state("a"), S::Exited);
}

#[test]
fn stale_generations_are_ignored() {
    let mut h = Harness::programs(vec![prog("a")]);
    h.secs(2.0);
    let id = h.id("a");
    h.send(stop("a", false));
    h.exited("a", 0);
    assert_eq!(h.call(start("a", false)), Ok(Answer::Bool(true)));
    assert_eq!(h.core.process(id).unwrap().gen, 2);
    let now = h.now();
    h.core.exited(id, 1, ExitStatus::Code(0), now);
    h.core.spawn_failed(id, 1, "x".into(), now);
    h.core.signal_failed(id, 1, "x".into(), now);
    h.core.spawned(id, 1, 999, now);
    h.pump();
    assert_eq!(h.state("a"), S::Starting);
    assert_eq!(h.pid("a"), 101);
}

#[test]
fn names_and_priority_order_of_autostart() {
    let mut early = prog("ga");
    early.priority = 5;
    let h = Harness::new(vec![
        group("zed", 1, vec![prog("z2"), prog("z1")]),
        program(prog("b")),
        program(prog("a")),
        group("grp", 500, vec![prog("gb"), early]),
    ]);
    assert_eq!(
        h.spawns(),
        ["zed:z1", "zed:z2", "grp:ga", "grp:gb", "a", "b"]
    );
    assert_eq!(h.core.find("grp:*").unwrap().len(), 2);
    assert_eq!(h.core.find("grp:").unwrap().len(), 2);
    assert_eq!(h.core.find("all").unwrap().len(), 6);
    assert_eq!(h.core.find("a").unwrap().len(), 1);
    assert_eq!(h.core.find("a:a").unwrap().len(), 1);
    assert_eq!(h.core.find("gb").unwrap_err().text, "BAD_NAME: gb");
    assert_eq!(
        h.core.find("grp:nope").unwrap_err().code,
        FaultCode::BadName
    );
}

#[test]
fn group_stop_results_come_when_all_are_done() {
    let mut h = Harness::new(vec![group("g", 1, vec![prog("x"), prog("y"), prog("z")])]);
    h.secs(2.0);
    h.send(Request::StopProcess {
        name: "g:z".into(),
        wait: false,
    });
    h.exited("g:z", 0);
    let tok = h.send(Request::StopProcessGroup {
        name: "g".into(),
        wait: true,
    });
    assert_eq!(h.reply(tok), None);
    h.exited("g:y", 0);
    assert_eq!(h.reply(tok), None);
    h.exited("g:x", 0);
    let Some(Ok(Answer::Results(rs))) = h.reply(tok) else {
        panic!()
    };
    let names: Vec<&str> = rs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["y", "x"], "completion order; z was not running");
    assert!(rs
        .iter()
        .all(|r| r.status() == 80 && r.description() == "OK" && r.group == "g"));
    // stop of a stopped group: empty result list
    let r = h.call(Request::StopProcess {
        name: "g:*".into(),
        wait: true,
    });
    assert_eq!(r, Ok(Answer::Results(vec![])));
    assert_eq!(
        h.call(Request::StopProcessGroup {
            name: "nope".into(),
            wait: true
        }),
        fault(FaultCode::BadName, "nope")
    );
}

#[test]
fn start_all_reports_each_process() {
    let mut a = prog("a");
    a.autostart = false;
    let mut b = prog("b");
    b.autostart = false;
    let mut h = Harness::programs(vec![a, b]);
    h.bad
        .insert("b".into(), "command at '/x' is not executable".into());
    let tok = h.send(Request::StartAllProcesses { wait: true });
    h.secs(1.0);
    let Some(Ok(Answer::Results(rs))) = h.reply(tok) else {
        panic!("{:?}", h.reply(tok))
    };
    assert_eq!(rs[0].name, "b");
    assert_eq!(
        (rs[0].status(), rs[0].description()),
        (50, "SPAWN_ERROR: b")
    );
    assert_eq!((rs[1].name.as_str(), rs[1].status()), ("a", 80));
}

#[test]
fn signals_to_processes() {
    let mut p = prog("a");
    p.autostart = false;
    let mut h = Harness::new(vec![program(prog("r")), program(p)]);
    let sig = |name: &str, s: &str| Request::SignalProcess {
        name: name.into(),
        signal: s.into(),
    };
    assert_eq!(h.call(sig("r", "HUP")), Ok(Answer::Bool(true)));
    assert_eq!(h.signals(), [("r".into(), 100, 1, false)]);
    assert!(h.has_log("DEBG sending r (pid 100) sig SIGHUP"));
    assert_eq!(
        h.call(sig("r", "BOGUS")),
        fault(FaultCode::BadSignal, "BOGUS")
    );
    assert_eq!(h.call(sig("a", "HUP")), fault(FaultCode::NotRunning, "a"));
    assert_eq!(
        h.call(sig("nope", "HUP")),
        fault(FaultCode::BadName, "nope")
    );
    let Ok(Answer::Results(rs)) = h.call(Request::SignalAllProcesses {
        signal: "USR1".into(),
    }) else {
        panic!()
    };
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].name, "r");
}

#[test]
fn process_info_fields_and_descriptions() {
    let mut p = prog("a");
    p.stderr.file = LogFile::Path("/var/log/a.err".into());
    let mut h = Harness::programs(vec![p]);
    let id = h.id("a");
    h.core.set_log_paths(
        id,
        "/tmp/a-stdout---supervisor-x.log".into(),
        "/var/log/a.err".into(),
    );
    h.advance(Duration::from_secs(86_400 + 3661));
    let i = info(&mut h, "a");
    assert_eq!(i.description, "pid 100, uptime 1 day, 1:01:01");
    assert_eq!((i.state.code(), i.state.name()), (20, "RUNNING"));
    assert_eq!(i.start, WALL0 as i64);
    assert_eq!(i.stop, 0);
    assert_eq!(i.now, WALL0 as i64 + 86_400 + 3661);
    assert_eq!(i.logfile, "/tmp/a-stdout---supervisor-x.log");
    assert_eq!(i.stderr_logfile, "/var/log/a.err");
    assert_eq!(i.pid, 100);
    assert_eq!((i.name.as_str(), i.group.as_str()), ("a", "a"));
    assert_eq!(
        h.call(Request::GetProcessInfo { name: "a:*".into() }),
        fault(FaultCode::BadName, "a:*")
    );
    let Ok(Answer::Infos(all)) = h.call(Request::GetAllProcessInfo) else {
        panic!()
    };
    assert_eq!(all.len(), 1);
}

#[test]
fn all_process_info_is_sorted_by_group_then_name() {
    let mut h = Harness::new(vec![
        group("b", 1, vec![prog("y"), prog("x")]),
        program(prog("a")),
    ]);
    let Ok(Answer::Infos(all)) = h.call(Request::GetAllProcessInfo) else {
        panic!()
    };
    let names: Vec<String> = all
        .iter()
        .map(|i| format!("{}:{}", i.group, i.name))
        .collect();
    assert_eq!(names, ["a:a", "b:x", "b:y"]);
}

#[test]
fn shutdown_stops_groups_in_descending_priority() {
    let mut h = Harness::new(vec![
        group("low", 1, vec![prog("l1"), prog("l2")]),
        group("high", 10, vec![prog("h1")]),
    ]);
    h.secs(2.0);
    assert_eq!(h.call(Request::Shutdown), Ok(Answer::Bool(true)));
    assert!(h.effects.contains(&Effect::SupervisorStopping));
    assert_eq!(h.signals(), [("high:h1".into(), 102, 15, false)]);
    assert!(h.has_log("INFO waiting for l1, l2, h1 to die"));
    assert_eq!(
        h.call(Request::GetState),
        fault(FaultCode::ShutdownState, "")
    );
    h.secs(1.0);
    assert_eq!(
        h.signals().len(),
        1,
        "next group only after the previous stopped"
    );
    h.exited("high:h1", 0);
    let sigs: Vec<String> = h.signals().into_iter().map(|s| s.0).collect();
    assert_eq!(sigs, ["high:h1", "low:l2", "low:l1"]);
    h.secs(2.0);
    assert!(h.has_log("INFO waiting for l1, l2 to die"));
    h.exited("low:l1", 0);
    assert!(!h.effects.contains(&Effect::Exit));
    h.exited("low:l2", 0);
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
    assert_eq!(h.core.next_deadline(), None);
}

/// Issue 21, point 3: with a cgroup leaf, the main process of a stopped
/// program exits while what it left behind lives on. The leftovers get the
/// stop signal at once and SIGKILL after LEFTOVER_GRACE (not a whole
/// stopwaitsecs), and the shutdown moves on to the next group meanwhile.
#[test]
fn leftovers_of_a_stop_are_signalled_at_once_and_do_not_hold_the_shutdown() {
    let mut high = prog("h1");
    high.stopwaitsecs = 100;
    let mut h = Harness::new(vec![
        group("low", 1, vec![prog("l1")]),
        group("high", 10, vec![high]),
    ]);
    h.secs(2.0);
    assert_eq!(h.call(Request::Shutdown), Ok(Answer::Bool(true)));
    assert_eq!(h.signals(), [("high:h1".into(), 101, 15, false)]);
    let id = h.id("high:h1");
    let gen = h.core.process(id).unwrap().gen;
    let now = h.now();
    h.core.main_exited(id, gen, now);
    h.pump();
    assert_eq!(
        h.state("high:h1"),
        S::Stopping,
        "STOPPED only once the leaf is empty"
    );
    let sigs = h.signals();
    assert_eq!(
        sigs[1],
        ("high:h1".into(), 101, 15, true),
        "the leftovers get SIGTERM"
    );
    assert_eq!(sigs[2].0, "low:l1", "the next group is stopped meanwhile");
    assert_eq!(h.timer("high:h1", Timer::StopWait), Some(secs(3.0)));
    // A second report changes nothing.
    h.core.main_exited(id, gen, now);
    h.pump();
    assert_eq!(h.signals().len(), 3);
    h.secs(1.0);
    assert!(h.has_log("WARN killing what 'h1' (101) left in its cgroup with SIGKILL"));
    h.killed("high:h1", 15);
    h.exited("low:l1", 0);
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
}

#[test]
fn daemon_signals() {
    let mut h = Harness::programs(vec![prog("a")]);
    let now = h.now();
    h.core.daemon_signal(17, now);
    h.core.daemon_signal(12, now);
    h.pump();
    assert!(h.has_log("DEBG received SIGCHLD indicating a child quit"));
    assert!(h.has_log("INFO received SIGUSR2 indicating log reopen request"));
    assert!(h.has_log("INFO supervisord logreopen"));
    assert!(h.effects.contains(&crate::core::Effect::ReopenLogs));
    h.core.daemon_signal(15, now);
    h.core.daemon_signal(1, now);
    h.pump();
    assert!(h.has_log("WARN received SIGTERM indicating exit request"));
    assert!(h.has_log("WARN ignored SIGHUP indicating restart request (shutdown in progress)"));
    h.exited("a", 0);
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
}

#[test]
fn reload_gives_up_backoff_and_ends_in_reload() {
    // BACKOFF -> FATAL (stop_all)
    let mut h = Harness::programs(vec![prog("a"), prog("b")]);
    h.exited("a", 1);
    assert_eq!(h.state("a"), S::Backoff);
    let now = h.now();
    h.core.daemon_signal(1, now);
    h.pump();
    assert!(h.has_log("WARN received SIGHUP indicating restart request"));
    // groups a and b share priority 999: b (last by name) is stopped first
    assert_eq!(h.state("b"), S::Stopping);
    assert_eq!(h.state("a"), S::Backoff);
    h.secs(5.0);
    assert_eq!(h.spawns().len(), 2, "nothing is spawned while stopping");
    assert_eq!(h.state("a"), S::Backoff);
    h.exited("b", 0);
    assert_eq!(h.state("a"), S::Fatal);
    assert_eq!(h.effects.last(), Some(&Effect::Reload));
}

#[test]
fn restart_command_ends_in_reload() {
    let mut h = Harness::programs(vec![prog("a")]);
    assert_eq!(h.call(Request::Restart), Ok(Answer::Bool(true)));
    h.exited("a", 0);
    assert_eq!(h.effects.last(), Some(&Effect::Reload));
}

#[test]
fn reread_update_add_remove() {
    let g_same = group("same", 1, vec![prog("s")]);
    let g_changed = group("chg", 2, vec![prog("c")]);
    let g_gone = program(prog("gone"));
    let mut h = Harness::new(vec![g_same.clone(), g_changed, g_gone]);
    h.secs(2.0);
    let pid_same = h.pid("same:s");
    let mut c2 = prog("c");
    c2.command = "/bin/sleep 2000".into();
    let new = config(vec![
        g_same,
        group("chg", 2, vec![c2]),
        program(prog("new")),
    ]);
    let r = h.call(Command::ReloadConfig {
        config: Box::new(Ok(new)),
    });
    assert_eq!(
        r,
        Ok(Answer::Diff(crate::api::Diff {
            added: vec!["new".into()],
            changed: vec!["chg".into()],
            removed: vec!["gone".into()],
        }))
    );
    let r = h.call(Command::ReloadConfig {
        config: Box::new(Err("bad line".into())),
    });
    assert_eq!(r.unwrap_err().text, "CANT_REREAD: bad line");
    // update, as supervisorctl orchestrates it
    let rm = |n: &str| Request::RemoveProcessGroup { name: n.into() };
    let add = |n: &str| Request::AddProcessGroup { name: n.into() };
    assert_eq!(h.call(rm("gone")), fault(FaultCode::StillRunning, "gone"));
    let tok = h.send(Request::StopProcessGroup {
        name: "gone".into(),
        wait: true,
    });
    h.exited("gone", 0);
    assert!(matches!(h.reply(tok), Some(Ok(Answer::Results(_)))));
    assert_eq!(h.call(rm("gone")), Ok(Answer::Bool(true)));
    assert!(h.effects.contains(&Effect::GroupRemoved {
        name: "gone".into()
    }));
    h.send(Request::StopProcessGroup {
        name: "chg".into(),
        wait: true,
    });
    h.exited("chg:c", 0);
    assert_eq!(h.call(rm("chg")), Ok(Answer::Bool(true)));
    assert_eq!(h.call(add("chg")), Ok(Answer::Bool(true)));
    assert_eq!(h.call(add("new")), Ok(Answer::Bool(true)));
    assert!(h
        .effects
        .contains(&Effect::GroupAdded { name: "new".into() }));
    assert_eq!(h.state("new"), S::Starting, "autostart on add");
    assert_eq!(h.state("chg:c"), S::Starting);
    assert_eq!(h.call(add("new")), fault(FaultCode::AlreadyAdded, "new"));
    assert_eq!(h.call(add("gone")), fault(FaultCode::BadName, "gone"));
    assert_eq!(h.call(rm("gone")), fault(FaultCode::BadName, "gone"));
    assert_eq!(h.pid("same:s"), pid_same, "unchanged group keeps its pid");
    assert_eq!(h.state("same:s"), S::Running);
    // now nothing differs
    let cfg = h.core.pending_config().clone();
    let r = h.call(Command::ReloadConfig {
        config: Box::new(Ok(cfg)),
    });
    assert_eq!(
        r,
        Ok(Answer::Diff(crate::api::Diff {
            added: vec![],
            changed: vec![],
            removed: vec![]
        }))
    );
}

#[test]
fn config_info_from_pending_config() {
    let mut p = prog("a");
    p.stdout.file = LogFile::None;
    let mut h = Harness::programs(vec![p]);
    let new = config(vec![program(prog("a")), program(prog("b"))]);
    assert!(h
        .call(Command::ReloadConfig {
            config: Box::new(Ok(new))
        })
        .is_ok());
    let Ok(Answer::ConfigInfos(cis)) = h.call(Request::GetAllConfigInfo) else {
        panic!()
    };
    use crate::api::ConfigValue::{Bool, Int, Ints, Str};
    assert_eq!(cis.len(), 2);
    let field = |i: usize, k: &str| cis[i].get(k).cloned().unwrap();
    assert_eq!((cis[0].name(), field(0, "inuse")), ("a", Bool(true)));
    assert_eq!((cis[1].name(), field(1, "inuse")), ("b", Bool(false)));
    assert_eq!(field(0, "stdout_logfile"), Str("auto".into()));
    // Supervisor stores serverurl=AUTO as None: 'none' (checked against
    // supervisord 4.3.0 by tests/supervisorctl_vs_pidvisord.rs).
    assert_eq!(field(0, "serverurl"), Str("none".into()));
    assert_eq!(
        (field(0, "group_prio"), field(0, "process_prio")),
        (Int(999), Int(999))
    );
    assert_eq!(field(0, "stopsignal"), Int(15));
    assert_eq!(field(0, "exitcodes"), Ints(vec![0]));
}

#[test]
fn get_state_and_fault_texts() {
    let mut h = Harness::programs(vec![prog("a")]);
    let Ok(Answer::State(state)) = h.call(Request::GetState) else {
        panic!("getState answers a state");
    };
    assert_eq!((state.code(), state.name()), (1, "RUNNING"));
    assert_eq!(
        Fault::new(FaultCode::ShutdownState, "").text,
        "SHUTDOWN_STATE"
    );
    assert_eq!(Fault::new(FaultCode::BadName, "x").text, "BAD_NAME: x");
    let codes = [
        (FaultCode::BadName, 10),
        (FaultCode::BadSignal, 11),
        (FaultCode::NoFile, 20),
        (FaultCode::NotExecutable, 21),
        (FaultCode::Failed, 30),
        (FaultCode::AbnormalTermination, 40),
        (FaultCode::SpawnError, 50),
        (FaultCode::AlreadyStarted, 60),
        (FaultCode::NotRunning, 70),
        (FaultCode::Success, 80),
        (FaultCode::AlreadyAdded, 90),
        (FaultCode::StillRunning, 91),
        (FaultCode::CantReread, 92),
        (FaultCode::ShutdownState, 6),
    ];
    for (c, n) in codes {
        assert_eq!(c.code(), n);
    }
}

#[test]
fn exit_racing_the_startsecs_deadline_is_running_then_exited() {
    // STARTING -> RUNNING -> EXITED in one input
    let mut h = Harness::programs(vec![prog("a")]);
    h.t = secs(1.0); // the deadline is due but no timeout was handled yet
    h.exited("a", 0);
    let changes: Vec<(S, S)> = h
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::StateChanged { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        [
            (S::Stopped, S::Starting),
            (S::Starting, S::Running),
            (S::Running, S::Exited)
        ]
    );
    assert!(h.has_log("INFO exited: a (exit status 0; expected)"));
}

#[test]
fn stopwaitsecs_zero_kills_at_once_then_every_second() {
    let mut p = prog("a");
    p.stopwaitsecs = 0;
    let mut h = Harness::programs(vec![p]);
    h.secs(2.0);
    h.send(stop("a", false));
    let sigs: Vec<i32> = h.signals().iter().map(|s| s.2).collect();
    assert_eq!(sigs, [15, 9]);
    assert_eq!(h.timer("a", Timer::StopWait), Some(secs(3.0)));
    h.secs(1.0);
    assert_eq!(h.signals().len(), 3);
}

#[test]
fn start_of_a_stopping_process() {
    let mut h = Harness::programs(vec![prog("a")]);
    h.secs(2.0);
    h.send(stop("a", false));
    assert_eq!(
        h.call(start("a", true)),
        fault(FaultCode::AbnormalTermination, "a")
    );
    assert!(h.has_log("WARN process 'a' already running"));
    assert_eq!(h.call(start("a", false)), Ok(Answer::Bool(true)));
    assert_eq!(h.state("a"), S::Stopping);
}

#[test]
fn start_group_forms_delegate() {
    let mut x = prog("x");
    x.autostart = false;
    x.startsecs = 0;
    let mut h = Harness::new(vec![group("g", 1, vec![x])]);
    let r = h.call(start("g:*", true));
    let Ok(Answer::Results(rs)) = r else {
        panic!("{r:?}")
    };
    assert_eq!(
        (rs[0].name.as_str(), rs[0].group.as_str(), rs[0].status()),
        ("x", "g", 80)
    );
    let r = h.call(Request::StartProcessGroup {
        name: "g".into(),
        wait: true,
    });
    assert_eq!(r, Ok(Answer::Results(vec![])), "only not-running processes");
    assert_eq!(
        h.call(start("g:x", true)),
        fault(FaultCode::AlreadyStarted, "g:x")
    );
}

#[test]
fn counters_for_dbus() {
    let mut p = prog("a");
    p.autorestart = AutoRestart::Always;
    let mut h = Harness::programs(vec![p]);
    h.secs(3.0);
    h.killed("a", 15);
    let a = h.core.process(h.id("a")).unwrap();
    assert_eq!(a.restart_count, 1);
    assert_eq!(a.spawn_count, 2);
    assert_eq!(
        a.last_exit,
        Some(ExitStatus::Signal {
            sig: 15,
            core: false
        })
    );
    assert_eq!(a.laststop, WALL0 + 3.0);
    assert_eq!(a.laststart, WALL0 + 3.0);
    assert_eq!(h.core.by_pid(101), Some(h.id("a")));
}

#[test]
fn waiting_stop_call_reports_every_two_seconds() {
    let mut h = Harness::programs(vec![prog("a")]);
    h.secs(2.0);
    let tok = h.send(stop("a", true));
    let count = |h: &Harness| {
        h.logs()
            .iter()
            .filter(|l| *l == "INFO waiting for a to stop")
            .count()
    };
    assert_eq!(count(&h), 1);
    assert_eq!(h.timer("a", Timer::StopReport), Some(secs(4.0)));
    h.secs(5.0);
    assert_eq!(count(&h), 3);
    h.exited("a", 0);
    assert_eq!(h.reply(tok), Some(Ok(Answer::Bool(true))));
    h.secs(5.0);
    assert_eq!(count(&h), 3);
    assert_eq!(h.core.next_deadline(), None);
    // without wait: no reports
    h.send(start("a", false));
    h.secs(2.0);
    h.send(stop("a", false));
    h.secs(3.0);
    assert_eq!(count(&h), 3);
}

#[test]
fn sigterm_during_restart_turns_it_into_exit() {
    let mut h = Harness::programs(vec![prog("a")]);
    assert_eq!(h.call(Request::Restart), Ok(Answer::Bool(true)));
    assert_eq!(
        h.call(Request::Shutdown),
        fault(FaultCode::ShutdownState, "")
    );
    let now = h.now();
    h.core.daemon_signal(15, now);
    h.exited("a", 0);
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
    assert!(!h.effects.contains(&Effect::Reload));
}

#[test]
fn shutdown_with_nothing_running_exits_at_once() {
    let mut p = prog("a");
    p.autostart = false;
    let mut h = Harness::programs(vec![p]);
    assert_eq!(h.call(Request::Shutdown), Ok(Answer::Bool(true)));
    assert_eq!(h.effects.last(), Some(&Effect::Exit));
    assert!(!h.logs().iter().any(|l| l.contains("waiting for")));
}

#[test]
fn group_start_results_in_supervisor_order() {
    // Supervisor answers startsecs=0 starts and faults within the call, in
    // list order; those it waits for (startsecs > 0) follow as they finish.
    let mut slow = prog("a");
    slow.autostart = false;
    let mut quick = prog("b");
    quick.autostart = false;
    quick.startsecs = 0;
    let mut missing = prog("c");
    missing.autostart = false;
    missing.command = "/missing".into();
    let mut h = Harness::new(vec![group("g", 1, vec![slow, quick, missing])]);
    h.core.set_command_check(Box::new(|s| {
        if s.command == "/missing" {
            CommandCheck::NotFound("can't find command '/missing'".into())
        } else {
            CommandCheck::Ok
        }
    }));
    let tok = h.send(start("g:*", true));
    h.secs(2.0);
    let Some(Ok(Answer::Results(rs))) = h.reply(tok) else {
        panic!("{:?}", h.reply(tok))
    };
    let got: Vec<(&str, i32)> = rs.iter().map(|r| (r.name.as_str(), r.status())).collect();
    assert_eq!(got, [("b", 80), ("c", 20), ("a", 80)]);
}

#[test]
fn config_info_names_auto_logs_until_a_reread() {
    // Supervisor fills in AUTO log names in the config objects of running
    // groups; a reread replaces them with fresh ones ('auto') until added.
    let mut h = Harness::programs(vec![prog("a")]);
    let id = h.id("a");
    h.core
        .set_log_paths(id, "/tmp/a-out.log".into(), "/tmp/a-err.log".into());
    let logs = |h: &mut Harness| {
        let Ok(Answer::ConfigInfos(c)) = h.call(Request::GetAllConfigInfo) else {
            panic!()
        };
        let text = |k: &str| match c[0].get(k) {
            Some(crate::api::ConfigValue::Str(s)) => s.clone(),
            other => panic!("{k}: {other:?}"),
        };
        (
            text("stdout_logfile"),
            text("stderr_logfile"),
            text("serverurl"),
        )
    };
    assert_eq!(
        logs(&mut h),
        (
            "/tmp/a-out.log".into(),
            "/tmp/a-err.log".into(),
            "none".into()
        )
    );
    let same = config(vec![program(prog("a"))]);
    h.call(Command::ReloadConfig {
        config: Box::new(Ok(same)),
    })
    .unwrap();
    assert_eq!(logs(&mut h), ("auto".into(), "auto".into(), "none".into()));
}

/// Each spawn's log lines come out before the next process's `Spawn`, so
/// the main log shows a batch start as it happens (as Supervisor's does).
#[test]
fn batch_start_logs_each_spawn_before_the_next() {
    let h = Harness::programs(vec![prog("a"), prog("b"), prog("c")]);
    let order: Vec<String> = h
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn { id, .. } => Some(format!("spawn {}", h.core.spec(*id).unwrap().name)),
            Effect::Log { message, .. } if message.starts_with("spawned:") => {
                Some(message.split(' ').take(2).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        [
            "spawn a",
            "spawned: 'a'",
            "spawn b",
            "spawned: 'b'",
            "spawn c",
            "spawned: 'c'"
        ]
    );
}

/// Event payloads quote the pid and the backoff count at each change, also
/// after the exit that ends a run (Supervisor renders them eagerly).
#[test]
fn state_changes_carry_the_pid_and_tries_of_their_moment() {
    let mut p = prog("a");
    p.startretries = 1;
    p.autorestart = AutoRestart::Unexpected;
    let mut h = Harness::programs(vec![p]);
    h.secs(1.5); // RUNNING, pid 100
    h.exited("a", 3); // EXITED (unexpected), restart at once: STARTING
    h.exited("a", 3); // too quickly: BACKOFF 1
    h.secs(1.0); // STARTING again
    h.exited("a", 3); // BACKOFF 2, then FATAL
    assert!(h.call(start("a", false)).is_ok()); // STARTING
    assert!(h.call(stop("a", false)).is_ok()); // STOPPING, then STOPPED
    h.exited("a", -15);
    let got: Vec<(S, S, u32, i64)> = h
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::StateChanged {
                from,
                to,
                pid,
                tries,
                ..
            } => Some((*from, *to, *pid, *tries)),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        [
            (S::Stopped, S::Starting, 0, 0),
            (S::Starting, S::Running, 100, 0),
            (S::Running, S::Exited, 100, 0),
            (S::Exited, S::Starting, 0, 0),
            (S::Starting, S::Backoff, 101, 1),
            (S::Backoff, S::Starting, 0, 1),
            (S::Starting, S::Backoff, 102, 2),
            (S::Backoff, S::Fatal, 102, 0),
            (S::Fatal, S::Starting, 0, 0),
            (S::Starting, S::Stopping, 103, 0),
            (S::Stopping, S::Stopped, 103, 0),
        ]
    );
}

/// Issue 20: a `start all` queues a spawn per process; a request that comes
/// before the runtime has carried them out is answered first, and a stop
/// of a process whose spawn is still queued takes effect once it spawns.
#[test]
fn replies_come_before_a_batch_of_spawns() {
    let specs: Vec<_> = (0..50)
        .map(|i| {
            let mut p = prog(&format!("p{i:02}"));
            p.autostart = false;
            p
        })
        .collect();
    let mut h = Harness::programs(specs);
    let now = h.now();
    h.core
        .handle_command(1, Request::StartAllProcesses { wait: false }.into(), now);
    // The runtime has carried out a slice of the batch so far.
    let mut early = Vec::new();
    while early.len() < 5 {
        match h.core.poll_effect() {
            Some(Effect::Spawn { id, gen }) => early.push((id, gen)),
            Some(_) => {}
            None => panic!("the batch ended early"),
        }
    }
    h.core.handle_command(2, Request::GetState.into(), now);
    h.core.handle_command(
        3,
        Request::StopProcess {
            name: "p40".into(),
            wait: false,
        }
        .into(),
        now,
    );
    let mut next = Vec::new();
    while let Some(e) = h.core.poll_effect() {
        let spawn = matches!(e, Effect::Spawn { .. });
        next.push(e);
        if spawn {
            break;
        }
    }
    let replied = |token| {
        next.iter()
            .any(|e| matches!(e, Effect::Reply { token: t, reply: Ok(_) } if *t == token))
    };
    assert!(replied(2), "getState waits behind the spawns: {next:?}");
    assert!(replied(3), "stop waits behind the spawns: {next:?}");
    assert!(matches!(next.last(), Some(Effect::Spawn { .. })));
    // The rest of the batch, as a reactor would: p40 is signalled at its
    // spawn and stops.
    for (id, gen) in early {
        h.answer_spawn(id, gen);
    }
    if let Some(Effect::Spawn { id, gen }) = next.pop() {
        h.answer_spawn(id, gen);
    }
    h.pump();
    assert_eq!(h.state("p40"), S::Stopping);
    let pid = h.pid("p40");
    assert!(h.signals().contains(&("p40".into(), pid, 15, false)));
    h.exited("p40", 0);
    assert_eq!(h.state("p40"), S::Stopped);
    h.secs(1.0);
    assert_eq!(h.state("p41"), S::Running);
}
