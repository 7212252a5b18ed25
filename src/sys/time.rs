//! `clock_gettime(2)` for the one value `std` does not give: the raw
//! monotonic clock, which systemd's `MONOTONIC_USEC=` is measured on.

/// `clock_gettime(CLOCK_MONOTONIC)` in microseconds.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/clock_gettime.2.html)
pub fn monotonic_usec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always
    // exists, so the call cannot fail on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}
