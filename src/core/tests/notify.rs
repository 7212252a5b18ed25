//! Timelines of the notify protocol (issue 17): `ready=notify`, the start
//! timeout, the watchdog, `STATUS=` and `MAINPID=`.

use crate::api::Request;
use std::time::Duration;

use super::harness::*;
use crate::api::{Notification, ProcessState as S, Response as Answer, WatchdogMsg};
use crate::config::{AutoRestart, NotifyAccess, ProgramSpec, Readiness};
use crate::core::{Effect, ExitStatus, Timer};

/// A `ready=notify` program (start timeout 10 s, stopwaitsecs 3).
fn notifying(name: &str) -> ProgramSpec {
    let mut p = prog(name);
    p.notify.ready = Readiness::Notify;
    p.notify.access = NotifyAccess::Main;
    p.notify.ready_timeout = secs(10.0);
    p.stopwaitsecs = 3;
    p
}

/// A program with a watchdog of `interval` seconds (ready at startsecs).
fn watched(name: &str, interval: f64) -> ProgramSpec {
    let mut p = prog(name);
    p.notify.access = NotifyAccess::Main;
    p.notify.watchdog = secs(interval);
    p.stopwaitsecs = 3;
    p
}

fn ready() -> Notification {
    Notification {
        ready: true,
        ..Notification::default()
    }
}

fn ping() -> Notification {
    Notification {
        watchdog: Some(WatchdogMsg::Ping),
        ..Notification::default()
    }
}

fn status(text: &str) -> Notification {
    Notification {
        status: Some(text.into()),
        ..Notification::default()
    }
}

#[test]
fn running_exactly_at_ready_not_at_startsecs() {
    // STARTING -> RUNNING at READY=1
    let mut h = Harness::programs(vec![notifying("a")]);
    assert_eq!(h.timer("a", Timer::StartSecs), None);
    assert_eq!(h.timer("a", Timer::ReadyTimeout), Some(secs(10.0)));
    h.secs(5.0);
    assert_eq!(h.state("a"), S::Starting, "startsecs=1 does not count");
    h.notify("a", ready());
    assert_eq!(h.state("a"), S::Running);
    assert!(h.has_log("INFO success: a entered RUNNING state, process sent READY=1 (ready=notify)"));
    // No watchdog: nothing is armed, the daemon sleeps.
    assert_eq!(h.core.next_deadline(), None);
    // A second READY=1 changes nothing.
    let before = h.effects.len();
    h.notify("a", ready());
    assert_eq!(h.effects.len(), before);
}

#[test]
fn ready_in_the_first_instant_is_running_at_once() {
    let mut h = Harness::programs(vec![notifying("a")]);
    h.notify("a", ready());
    assert_eq!(h.state("a"), S::Running);
    assert_eq!(h.t, Duration::ZERO);
}

#[test]
fn exit_before_ready_is_a_failed_start_whatever_the_uptime() {
    // STARTING -> BACKOFF (exited before READY=1)
    let mut h = Harness::programs(vec![notifying("a")]);
    h.secs(7.0);
    h.exited("a", 0);
    assert_eq!(h.state("a"), S::Backoff);
    assert_eq!(
        info(&mut h, "a").spawnerr,
        "Exited before sending READY=1 (process log may have details)"
    );
    assert_eq!(h.timer("a", Timer::ReadyTimeout), None);
}

#[test]
fn no_ready_within_the_timeout_is_killed_then_backoff_then_fatal() {
    let mut p = notifying("a");
    p.startretries = 1;
    let mut h = Harness::programs(vec![p]);
    h.secs(9.999);
    assert!(h.signals().is_empty());
    h.secs(0.001);
    // The stop signal at the timeout; still STARTING while it dies.
    assert_eq!(h.signals(), [("a".to_string(), 100, 15, false)]);
    assert_eq!(h.state("a"), S::Starting);
    assert!(h.has_log(
        "WARN 'a' (pid 100) sent no READY=1 within 10 seconds (ready_timeout_sec); sending SIGTERM"
    ));
    // A READY=1 now is too late.
    h.notify("a", ready());
    assert_eq!(h.state("a"), S::Starting);
    // It ignores SIGTERM: SIGKILL after stopwaitsecs.
    assert_eq!(h.timer("a", Timer::FailKill), Some(secs(13.0)));
    h.secs(3.0);
    assert_eq!(h.signals()[1], ("a".to_string(), 100, 9, false));
    assert!(h.has_log("WARN killing 'a' (100) with SIGKILL"));
    h.killed("a", 9);
    // STARTING -> BACKOFF: a failed start, counted.
    assert_eq!(h.state("a"), S::Backoff);
    assert_eq!(
        info(&mut h, "a").spawnerr,
        "Sent no READY=1 in time (ready_timeout_sec)"
    );
    assert_eq!(h.core.process(h.id("a")).unwrap().backoff, 1);
    // The retry fails the same way: FATAL after startretries.
    h.secs(1.0);
    assert_eq!(h.state("a"), S::Starting);
    h.secs(10.0);
    h.exited("a", 143);
    assert_eq!(h.state("a"), S::Fatal);
    assert!(h.has_log("INFO gave up: a entered FATAL state, too many start retries too quickly"));
}

#[test]
fn extend_timeout_pushes_the_start_timeout_later_only() {
    let mut h = Harness::programs(vec![notifying("a")]);
    h.secs(8.0);
    h.notify(
        "a",
        Notification {
            extend_timeout_usec: Some(5_000_000),
            ..Notification::default()
        },
    );
    assert_eq!(h.timer("a", Timer::ReadyTimeout), Some(secs(13.0)));
    // An extension that ends sooner than the timeout does not shorten it.
    h.notify(
        "a",
        Notification {
            extend_timeout_usec: Some(1_000_000),
            ..Notification::default()
        },
    );
    assert_eq!(h.timer("a", Timer::ReadyTimeout), Some(secs(13.0)));
    h.secs(4.9);
    assert!(h.signals().is_empty());
    h.notify("a", ready());
    assert_eq!(h.state("a"), S::Running);
}

#[test]
fn start_wait_answers_at_ready() {
    let mut p = notifying("a");
    p.autostart = false;
    p.startsecs = 0;
    let mut h = Harness::programs(vec![p]);
    let token = h.send(Request::StartProcess {
        name: "a".into(),
        wait: true,
    });
    h.secs(2.0);
    assert!(
        h.reply(token).is_none(),
        "startsecs=0 does not answer early"
    );
    h.notify("a", ready());
    assert_eq!(h.reply(token), Some(Ok(Answer::Bool(true))));
}

#[test]
fn missed_watchdog_ping_kills_and_restarts_per_autorestart() {
    let mut h = Harness::programs(vec![watched("w", 2.0)]);
    assert_eq!(h.timer("w", Timer::Watchdog), None, "armed at RUNNING");
    h.secs(1.0);
    assert_eq!(h.state("w"), S::Running);
    assert_eq!(h.timer("w", Timer::Watchdog), Some(secs(3.0)));
    h.secs(1.5);
    h.notify("w", ping());
    assert_eq!(h.timer("w", Timer::Watchdog), Some(secs(4.5)));
    h.secs(1.999);
    assert!(h.signals().is_empty());
    h.secs(0.001);
    // Missed: SIGABRT, still RUNNING until it dies, the log says why.
    assert_eq!(h.signals(), [("w".to_string(), 100, 6, false)]);
    assert_eq!(h.state("w"), S::Running);
    assert!(h.has_log(
        "WARN watchdog: 'w' (pid 100) missed its WATCHDOG=1 ping (interval 2 s); sending SIGABRT"
    ));
    // Pings after the miss do not call it off.
    h.notify("w", ping());
    assert_eq!(h.timer("w", Timer::Watchdog), None);
    h.exit("w", ExitStatus::Signal { sig: 6, core: true });
    // RUNNING -> EXITED -> STARTING (unexpected, autorestart=unexpected)
    assert!(h.has_log("WARN exited: w (terminated by SIGABRT (core dumped); not expected)"));
    assert_eq!(h.state("w"), S::Starting);
    assert_eq!(h.timer("w", Timer::FailKill), None);
}

#[test]
fn watchdog_kill_escalates_and_autorestart_false_stays_exited() {
    let mut p = watched("w", 1.0);
    p.autorestart = AutoRestart::Never;
    p.notify.watchdog_signal = 0;
    let mut h = Harness::programs(vec![p]);
    h.secs(2.0);
    // Signal 0: nothing is sent, SIGKILL follows after stopwaitsecs.
    assert!(h.signals().is_empty());
    assert_eq!(h.timer("w", Timer::FailKill), Some(secs(5.0)));
    h.secs(3.0);
    assert_eq!(h.signals(), [("w".to_string(), 100, 9, false)]);
    h.killed("w", 9);
    assert_eq!(h.state("w"), S::Exited);
    assert_eq!(h.core.next_deadline(), None);
}

#[test]
fn watchdog_trigger_and_new_interval() {
    let mut h = Harness::programs(vec![watched("w", 5.0)]);
    h.secs(1.0);
    h.notify(
        "w",
        Notification {
            watchdog_usec: Some(500_000),
            ..Notification::default()
        },
    );
    assert_eq!(h.timer("w", Timer::Watchdog), Some(secs(1.5)));
    h.notify(
        "w",
        Notification {
            watchdog_usec: Some(0),
            ..Notification::default()
        },
    );
    assert_eq!(
        h.timer("w", Timer::Watchdog),
        None,
        "WATCHDOG_USEC=0 turns it off"
    );
    h.notify(
        "w",
        Notification {
            watchdog: Some(WatchdogMsg::Trigger),
            ..Notification::default()
        },
    );
    assert_eq!(h.signals(), [("w".to_string(), 100, 6, false)]);
    assert!(h
        .logs()
        .iter()
        .any(|l| l.contains("asked for it with WATCHDOG=trigger")));
}

#[test]
fn a_stop_takes_over_from_a_watchdog_kill() {
    // RUNNING -> STOPPING -> STOPPED, not EXITED: the stop wins.
    let mut h = Harness::programs(vec![watched("w", 1.0)]);
    h.secs(2.0);
    assert_eq!(h.signals().len(), 1);
    h.send(Request::StopProcess {
        name: "w".into(),
        wait: false,
    });
    assert_eq!(h.state("w"), S::Stopping);
    assert_eq!(h.timer("w", Timer::FailKill), None);
    h.killed("w", 6);
    assert_eq!(h.state("w"), S::Stopped);
    assert!(h.spawns().len() == 1, "not restarted");
}

#[test]
fn status_text_shows_for_notify_programs_only_and_clears_on_respawn() {
    let mut h = Harness::programs(vec![notifying("n"), prog("plain")]);
    assert_eq!(info(&mut h, "plain").status_text, None);
    assert_eq!(info(&mut h, "n").status_text.as_deref(), Some(""));
    h.notify("n", status("loading 3 of 9"));
    assert_eq!(
        info(&mut h, "n").status_text.as_deref(),
        Some("loading 3 of 9")
    );
    let updates = |h: &Harness| {
        h.effects
            .iter()
            .filter(|e| matches!(e, Effect::ProcessUpdated { .. }))
            .count()
    };
    assert_eq!(updates(&h), 1);
    // The same text again is no change.
    h.notify("n", status("loading 3 of 9"));
    assert_eq!(updates(&h), 1);
    h.exited("n", 1);
    h.secs(1.0);
    assert_eq!(h.state("n"), S::Starting);
    assert_eq!(info(&mut h, "n").status_text.as_deref(), Some(""));
}

#[test]
fn messages_for_an_old_generation_or_no_child_change_nothing() {
    let mut h = Harness::programs(vec![notifying("a")]);
    let id = h.id("a");
    let now = h.now();
    h.core.notify(id, 99, &ready(), now);
    h.pump();
    assert_eq!(h.state("a"), S::Starting);
    h.exited("a", 1);
    let gen = h.core.process(id).unwrap().gen;
    h.core.notify(id, gen, &ready(), now);
    h.pump();
    assert_eq!(h.state("a"), S::Backoff);
}

#[test]
fn main_pid_moves_supervision_to_the_daemon() {
    let mut h = Harness::programs(vec![notifying("d")]);
    assert!(h.main_pid("d", 555));
    assert_eq!(h.pid("d"), 555);
    assert!(h.has_log("INFO 'd': main process is now pid 555 (MAINPID=; was pid 100)"));
    assert!(h
        .effects
        .contains(&Effect::ProcessUpdated { id: h.id("d") }));
    h.notify("d", ready());
    assert_eq!(h.state("d"), S::Running);
    // Signals go to the new pid.
    h.send(Request::StopProcess {
        name: "d".into(),
        wait: false,
    });
    assert_eq!(h.signals(), [("d".to_string(), 555, 15, false)]);
    // Not while it is being stopped.
    assert!(!h.main_pid("d", 777));
    h.killed("d", 15);
    assert_eq!(h.state("d"), S::Stopped);
    assert!(!h.main_pid("d", 777), "no child, no main pid");
}
