//! The one place that reads the clocks. Everything else gets time passed in,
//! so that `core` stays pure and testable on a virtual clock.
#![allow(clippy::disallowed_methods)]

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A monotonic instant for deadlines.
pub fn mono() -> Instant {
    Instant::now()
}

/// Wall-clock time as seconds since the epoch, for timestamps people read.
pub fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Block the current thread; only for tests and benchmarks that poll a condition.
pub fn sleep(d: std::time::Duration) {
    std::thread::sleep(d)
}

/// The monotonic clock as systemd reads it (`CLOCK_MONOTONIC`, in
/// microseconds), for `MONOTONIC_USEC=`.
pub fn mono_usec() -> u64 {
    crate::sys::time::monotonic_usec()
}
