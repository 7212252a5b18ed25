//! The `description` strings of `getProcessInfo` (spec §3.7).

use super::state::ProcessState;

/// Python's `str(timedelta(seconds=secs))` for whole seconds, negative → `0:00:00`.
pub fn timedelta(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

/// The stop-time format of `status` in UTC (`Nov 22 02:03 AM`); the daemon
/// injects a local-time version, tests use this one.
pub fn utc_time(secs: i64) -> String {
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(t) => t.format("%b %d %I:%M %p").to_string(),
        None => String::new(),
    }
}

/// What `description` needs to know about a process.
pub struct DescribeInput<'a> {
    pub state: ProcessState,
    pub name: &'a str,
    pub pid: u32,
    /// Whole epoch seconds; 0 if never started.
    pub start: i64,
    pub stop: i64,
    pub now: i64,
    pub spawnerr: &'a str,
}

pub fn description(d: &DescribeInput<'_>, local_time: fn(i64) -> String) -> String {
    match d.state {
        ProcessState::Running => {
            format!("pid {}, uptime {}", d.pid, timedelta(d.now - d.start))
        }
        ProcessState::Backoff | ProcessState::Fatal => {
            if d.spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", d.name)
            } else {
                d.spawnerr.to_string()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if d.start != 0 {
                local_time(d.stop)
            } else {
                "Not started".to_string()
            }
        }
        ProcessState::Starting | ProcessState::Stopping | ProcessState::Unknown => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timedelta_like_python() {
        assert_eq!(timedelta(5), "0:00:05");
        assert_eq!(timedelta(3661), "1:01:01");
        assert_eq!(timedelta(86_400 + 3661), "1 day, 1:01:01");
        assert_eq!(timedelta(2 * 86_400 + 3), "2 days, 0:00:03");
        assert_eq!(timedelta(-4), "0:00:00");
    }

    #[test]
    fn utc_format() {
        assert_eq!(utc_time(0), "Jan 01 12:00 AM");
        // 2026-11-22 02:03:00 UTC
        assert_eq!(utc_time(1_795_312_980), "Nov 22 02:03 AM");
    }

    #[test]
    fn descriptions_per_state() {
        let mut d = DescribeInput {
            state: ProcessState::Running,
            name: "x",
            pid: 123,
            start: 100,
            stop: 0,
            now: 105,
            spawnerr: "",
        };
        assert_eq!(description(&d, utc_time), "pid 123, uptime 0:00:05");
        d.state = ProcessState::Fatal;
        assert_eq!(description(&d, utc_time), "unknown error (try \"tail x\")");
        d.spawnerr = "Exited too quickly (process log may have details)";
        assert_eq!(description(&d, utc_time), d.spawnerr);
        d.state = ProcessState::Exited;
        assert_eq!(description(&d, utc_time), "Jan 01 12:00 AM");
        d.start = 0;
        assert_eq!(description(&d, utc_time), "Not started");
        for s in [
            ProcessState::Starting,
            ProcessState::Stopping,
            ProcessState::Unknown,
        ] {
            d.state = s;
            assert_eq!(description(&d, utc_time), "");
        }
    }
}
