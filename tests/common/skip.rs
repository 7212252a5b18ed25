//! The one rule for a test that cannot run on this machine (no venv, no
//! cgroup2, no pseudo-terminal, not root...): it never passes silently.
//!
//! - By default a skip is a FAILURE whose message names what is missing
//!   and how to get it, so `cargo test` on a machine that lacks something
//!   says so instead of reporting "ok" for tests that did nothing.
//! - `PIDVISOR_TEST_ALLOW_SKIP=1` lets the runner opt in to skips: the
//!   test then passes, and `SKIPPED <test>: <reason>` is written straight
//!   to the process's stderr. libtest captures only the print macros
//!   (`eprintln!`) of passing tests, not writes to the file descriptor,
//!   so the line shows in every run, with or without `--nocapture` and
//!   without a terminal (CI).
//! - `PIDVISOR_TEST_STRICT=1` (CI) makes every skip a failure, whatever
//!   else is set.
//!
//! Shared by every test binary and by the unit tests in `src/` that need
//! root (included with `#[path]`): one policy, one wording. Std only.
#![allow(dead_code)]

use std::io::Write;

/// Set to `1` by CI: a skip is a failure.
pub const STRICT: &str = "PIDVISOR_TEST_STRICT";
/// Set to `1` by a runner that accepts skips (they pass, and are listed).
pub const ALLOW: &str = "PIDVISOR_TEST_ALLOW_SKIP";

fn set(var: &str) -> bool {
    std::env::var(var).as_deref() == Ok("1")
}

/// The running test's name (libtest names each test's thread after it).
pub fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string()
}

/// The current test cannot run here because `missing` (what is missing and
/// why, e.g. "the Supervisor 4.3.0 venv: python3 not found"). Returns only
/// when skips are allowed, after reporting the skip; panics otherwise.
/// The caller returns right after.
pub fn skip(missing: &str) {
    let test = test_name();
    if set(STRICT) {
        panic!("{test} cannot run: {missing} ({STRICT}=1: a skip is a failure)");
    }
    if !set(ALLOW) {
        panic!(
            "{test} cannot run: {missing}\n\
             Install what is missing (README.md, \"run the tests\"), or set \
             {ALLOW}=1 to let such tests pass as SKIPPED."
        );
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test}: {missing} ({ALLOW}=1)"
    );
}

/// `Some(value)`, or `None` after [`skip`] (which panics unless skips are
/// allowed): `let Some(x) = skip::need(probe(), "what") else { return };`.
pub fn need<T, E: std::fmt::Display>(probe: Result<T, E>, what: &str) -> Option<T> {
    match probe {
        Ok(v) => Some(v),
        Err(e) => {
            skip(&format!("{what}: {e}"));
            None
        }
    }
}

/// Whether this process runs as root (from `/proc/self/status`, so that
/// the tests need no syscall of their own).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// For a test that needs root: `false` (after [`skip`]) when not root.
pub fn need_root(why: &str) -> bool {
    if is_root() {
        return true;
    }
    skip(&format!("root ({why})"));
    false
}
