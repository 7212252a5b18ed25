//! Tests that load the machine: 500 concurrent control clients, 1000
//! children exiting at once, a start all of 2000 programs. They run in their own test binary (cargo runs
//! test binaries one after another, so they never overlap the light tests
//! of `tests/it`) and, within it, one at a time ([`one_at_a_time`]).

use std::sync::{Mutex, MutexGuard};

// The same fixture as tests/it: start a daemon, wait with deadlines, clean up.
#[allow(dead_code)]
#[path = "../it/fixture.rs"]
mod fixture;
// A test that cannot run here fails unless skips are allowed (shared rule).
#[path = "../common/skip.rs"]
mod skip;
// The control server under malformed input, floods and slow clients.
mod robust;
// An exit storm of 1000 children.
mod storm;
// Issue 20: requests answered during a start all of 2000 programs.
mod scale;

/// Held for the whole of each heavy test: they run one after another even
/// when libtest runs this binary's tests on several threads.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    // A failed test poisons the lock; the next one still runs alone.
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}
