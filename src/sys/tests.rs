//! Tests of the wrappers that the spawn tests do not already cover.
//!
//! Anything that reaps "any child" or changes process-wide state runs inside
//! a forked child, so it cannot steal a status from a test running in
//! parallel in this binary.

use std::convert::Infallible;
use std::os::fd::AsFd;
use std::time::Duration;

use super::clone::{spawn_child, CloneMethod};
use super::wait::ExitStatus;
use super::*;

const DEADLINE: Duration = Duration::from_secs(10);

/// The tests' one rule for a test that cannot run here (shared with the
/// integration tests): a failure unless the runner allowed skips.
#[path = "../../tests/common/skip.rs"]
pub(crate) mod skip;

/// Runs `body` in a forked child (free to change process-wide state or its
/// credentials) and returns the child's exit status; `body` returns the code.
pub(crate) fn in_child<F: FnOnce() -> i32>(body: F) -> ExitStatus {
    let c = spawn_child(CloneMethod::Fork, None, false, || -> Infallible {
        exec::exit_now(body())
    })
    .unwrap();
    pidfd::wait_pidfd_timeout(c.pidfd.as_fd(), DEADLINE)
        .unwrap()
        .expect("test child did not finish")
}

#[test]
fn pidfd_of_self_and_signal_zero() {
    let fd = pidfd::pidfd_open(std::process::id()).unwrap();
    pidfd::pidfd_send_signal(&fd, 0).unwrap();
    assert!(pidfd::pidfd_open(0).is_err());
}

/// Auto without a cgroup is the vfork-like clone; clone3 into a cgroup is
/// exercised by the cgroup integration tests, which need a real leaf.
#[test]
fn clone_methods_run_the_closure() {
    let cases = [
        (
            CloneMethod::Auto,
            clone::Via::Vfork,
            clone::vfork_available(),
        ),
        (CloneMethod::Fork, clone::Via::Fork, true),
    ];
    for (method, want, available) in cases {
        let c = spawn_child(method, None, false, || -> Infallible { exec::exit_now(42) }).unwrap();
        if available {
            assert_eq!(c.via, want, "{method:?}");
        } else {
            eprintln!("note: {want:?} unavailable here; the fork path ran instead");
            assert_eq!(c.via, clone::Via::Fork);
        }
        let st = pidfd::wait_pidfd_timeout(c.pidfd.as_fd(), DEADLINE).unwrap();
        assert_eq!(st, Some(ExitStatus::Exited(42)));
    }
}

/// The vfork child runs on its own stack (a 4 KiB local fits) and reads the
/// parent's data through the closure; its exit status comes back through
/// the pidfd. The thread's child stack is reused spawn after spawn.
#[test]
fn vfork_child_reads_the_closure_on_its_own_stack() {
    let marker = [7u8; 64];
    let c = spawn_child(CloneMethod::Auto, None, false, || -> Infallible {
        let local = [1u8; 4096];
        exec::exit_now(i32::from(local[4095] + marker[63]))
    })
    .unwrap();
    let st = pidfd::wait_pidfd_timeout(c.pidfd.as_fd(), DEADLINE).unwrap();
    assert_eq!(st, Some(ExitStatus::Exited(8)));
    // Repeated spawns reuse the thread's stack.
    for i in 0..50 {
        let c = spawn_child(CloneMethod::Auto, None, false, move || -> Infallible {
            exec::exit_now(i)
        })
        .unwrap();
        let st = pidfd::wait_pidfd_timeout(c.pidfd.as_fd(), DEADLINE).unwrap();
        assert_eq!(st, Some(ExitStatus::Exited(i)));
    }
}

/// Subreaper + peek-then-dispatch: an orphaned grandchild is reparented to us,
/// `peek_any` sees it without reaping, `reap_pid` reaps it exactly once.
#[test]
fn subreaper_peek_then_reap_orphan() {
    let st = in_child(|| {
        if prctl::set_child_subreaper().is_err() || !prctl::is_child_subreaper().unwrap_or(false) {
            return 10;
        }
        // The middle child starts an orphan-to-be that exits 7, then exits 0.
        let Ok(middle) = spawn_child(CloneMethod::Fork, None, false, || -> Infallible {
            let _ = spawn_child(CloneMethod::Fork, None, false, || -> Infallible {
                exec::exit_now(7)
            });
            exec::exit_now(0)
        }) else {
            return 11;
        };
        match pidfd::wait_pidfd_timeout(middle.pidfd.as_fd(), DEADLINE) {
            Ok(Some(ExitStatus::Exited(0))) => {}
            _ => return 12,
        }
        // The orphan is ours now; wait (bounded) for it to have exited.
        let deadline = crate::clock::mono() + DEADLINE;
        let (pid, status) = loop {
            match wait::peek_any() {
                Ok(Some(found)) => break found,
                Ok(None) if crate::clock::mono() < deadline => {
                    crate::clock::sleep(Duration::from_millis(1))
                }
                _ => return 13,
            }
        };
        if status != ExitStatus::Exited(7) || pid == middle.pid {
            return 14;
        }
        // Peeking does not consume; reaping does, once.
        if wait::peek_any().ok() != Some(Some((pid, status))) {
            return 15;
        }
        if wait::reap_pid(pid).ok() != Some(Some(ExitStatus::Exited(7))) {
            return 16;
        }
        match wait::peek_any() {
            Ok(None) => 0,
            _ => 17,
        }
    });
    assert_eq!(st, ExitStatus::Exited(0));
}

#[test]
fn killed_and_dumped_statuses() {
    // Fork: a vfork child that never execs would keep us suspended.
    let c = spawn_child(CloneMethod::Fork, None, false, || -> Infallible {
        // Wait for the signal; pause(2) returns only after a handler ran.
        loop {
            rustix::event::pause();
        }
    })
    .unwrap();
    pidfd::pidfd_send_signal(&c.pidfd, libc::SIGKILL).unwrap();
    let st = pidfd::wait_pidfd_timeout(c.pidfd.as_fd(), DEADLINE)
        .unwrap()
        .unwrap();
    assert_eq!(st, ExitStatus::Killed(libc::SIGKILL));
    assert_eq!(st.signal(), Some(libc::SIGKILL));
    assert_eq!(st.code(), None);
    assert!(!ExitStatus::Killed(6).core_dumped());
    assert!(ExitStatus::Dumped(6).core_dumped());
}

#[test]
fn signalfd_reads_a_blocked_signal() {
    let st = in_child(|| {
        let set = signal::daemon_sigset();
        if signal::block(&set).is_err() {
            return 10;
        }
        let Ok(fd) = signal::signalfd(&set) else {
            return 11;
        };
        if !matches!(signal::read_signal(&fd), Ok(None)) {
            return 12;
        }
        if nix::sys::signal::raise(nix::sys::signal::Signal::SIGUSR2).is_err() {
            return 13;
        }
        if !matches!(signal::read_signal(&fd), Ok(Some(libc::SIGUSR2))) {
            return 14;
        }
        match signal::read_signal(&fd) {
            Ok(None) => 0,
            _ => 15,
        }
    });
    assert_eq!(st, ExitStatus::Exited(0));
}

#[test]
fn rlimit_minimum_only_raises() {
    let st = in_child(|| {
        let (soft, hard) = rlimit::get(rlimit::Limit::NoFile);
        let Some(soft) = soft else { return 0 };
        if rlimit::ensure_minimum(rlimit::Limit::NoFile, soft).ok() != Some(false) {
            return 10;
        }
        if hard.is_some_and(|h| h <= soft) {
            return 0;
        }
        if rlimit::ensure_minimum(rlimit::Limit::NoFile, soft + 1).ok() != Some(true) {
            return 11;
        }
        match rlimit::get(rlimit::Limit::NoFile) {
            (Some(s), h) if s == soft + 1 && h == hard => 0,
            _ => 12,
        }
    });
    assert_eq!(st, ExitStatus::Exited(0));
}
