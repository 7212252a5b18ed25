//! Parsing one notify datagram: newline-separated `KEY=VALUE` fields, as
//! `sd_notify(3)` sends them, into an [`api::Notification`]. Pure.
//!
//! systemd's rules are kept: a field sent twice keeps its last value, a
//! line without `=` or with a bad value is ignored on its own (the rest of
//! the message still counts), and `STATUS=` must be valid UTF-8.

use crate::api::{Notification, WatchdogMsg};

/// The longest `STATUS=` text kept, in bytes (a datagram is at most 4 KiB).
pub const STATUS_MAX: usize = 1024;

/// Parse a datagram's bytes.
pub fn parse(data: &[u8]) -> Notification {
    let mut n = Notification::default();
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            n.ignored.push(String::from_utf8_lossy(line).into_owned());
            continue;
        };
        let (key, value) = (&line[..eq], &line[eq + 1..]);
        if !field(&mut n, key, value) {
            n.ignored.push(String::from_utf8_lossy(key).into_owned());
        }
    }
    n
}

/// Apply one field; false when it is ignored.
fn field(n: &mut Notification, key: &[u8], value: &[u8]) -> bool {
    let text = std::str::from_utf8(value).ok();
    let number = || text.and_then(|t| t.parse::<u64>().ok());
    match key {
        b"READY" if value == b"1" => n.ready = true,
        b"RELOADING" if value == b"1" => n.reloading = true,
        b"STOPPING" if value == b"1" => n.stopping = true,
        b"STATUS" => match text {
            Some(t) => n.status = Some(clip(t, STATUS_MAX).to_string()),
            None => return false,
        },
        b"WATCHDOG" if value == b"1" => n.watchdog = Some(WatchdogMsg::Ping),
        b"WATCHDOG" if value == b"trigger" => n.watchdog = Some(WatchdogMsg::Trigger),
        b"WATCHDOG_USEC" => match number() {
            Some(u) => n.watchdog_usec = Some(u),
            None => return false,
        },
        b"EXTEND_TIMEOUT_USEC" => match number() {
            Some(u) => n.extend_timeout_usec = Some(u),
            None => return false,
        },
        b"MAINPID" => match number().and_then(|p| u32::try_from(p).ok()) {
            Some(p) if p > 1 => n.main_pid = Some(p),
            _ => return false,
        },
        b"ERRNO" => match text.and_then(|t| t.parse::<i32>().ok()) {
            Some(e) => n.errno = Some(e),
            None => return false,
        },
        _ => return false,
    }
    true
}

/// `s` cut to at most `max` bytes at a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_sd_notify() {
        let n = parse(b"READY=1\nSTATUS=Processing requests...\nMAINPID=4711\n");
        assert!(n.ready);
        assert_eq!(n.status.as_deref(), Some("Processing requests..."));
        assert_eq!(n.main_pid, Some(4711));
        assert!(n.ignored.is_empty());
        assert!(n.acts());
        let n = parse(b"WATCHDOG=1");
        assert_eq!(n.watchdog, Some(WatchdogMsg::Ping));
        let n = parse(b"WATCHDOG=trigger\nWATCHDOG_USEC=2000000\nEXTEND_TIMEOUT_USEC=5");
        assert_eq!(n.watchdog, Some(WatchdogMsg::Trigger));
        assert_eq!(n.watchdog_usec, Some(2_000_000));
        assert_eq!(n.extend_timeout_usec, Some(5));
        let n = parse(b"RELOADING=1\nMONOTONIC_USEC=123\nSTOPPING=1\nERRNO=2");
        assert!(n.reloading && n.stopping);
        assert_eq!(n.errno, Some(2));
        assert_eq!(n.ignored, ["MONOTONIC_USEC"]);
        assert!(!n.acts());
    }

    #[test]
    fn bad_lines_are_ignored_alone() {
        let n = parse(b"READY=0\nMAINPID=1\nMAINPID=x\nWATCHDOG_USEC=-1\nnonsense\n\nSTATUS=ok");
        assert!(!n.ready);
        assert_eq!(n.main_pid, None);
        assert_eq!(n.watchdog_usec, None);
        assert_eq!(n.status.as_deref(), Some("ok"));
        assert_eq!(
            n.ignored,
            ["READY", "MAINPID", "MAINPID", "WATCHDOG_USEC", "nonsense"]
        );
        // Not UTF-8: that STATUS is dropped, nothing else is.
        let n = parse(b"STATUS=\xff\xfe\nREADY=1");
        assert_eq!(n.status, None);
        assert!(n.ready);
        // The last value wins; an empty STATUS= clears the text.
        let n = parse(b"STATUS=a\nSTATUS=");
        assert_eq!(n.status.as_deref(), Some(""));
        // FDSTORE and BARRIER are understood by systemd, not acted on here.
        let n = parse(b"FDSTORE=1\nBARRIER=1");
        assert_eq!(n.ignored, ["FDSTORE", "BARRIER"]);
    }

    #[test]
    fn long_status_is_cut_at_a_character() {
        let long = format!("STATUS={}", "é".repeat(STATUS_MAX));
        let n = parse(long.as_bytes());
        let s = n.status.unwrap();
        assert!(s.len() <= STATUS_MAX && s.len() >= STATUS_MAX - 1);
        assert!(s.chars().all(|c| c == 'é'));
    }
}
