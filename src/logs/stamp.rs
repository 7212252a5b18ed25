//! `stdout_log_timestamps` / `stderr_log_timestamps` (issue 18): every
//! line of a child's log file starts with the time its first byte was
//! read, as `ts '%Y-%m-%dT%H:%M:%.S%z'` would write it (ISO 8601, local
//! time with its offset, microseconds): `2026-11-22T03:03:00.123456+01:00 `.
//!
//! A line read in pieces is stamped once, when its first piece comes; the
//! stamper remembers whether the last piece ended a line. Only the file
//! gets the stamps: syslog has its own, and events carry the output as
//! the program wrote it.

use chrono::TimeZone;

/// Puts a timestamp before each line of a stream written in pieces.
#[derive(Debug)]
pub struct LineStamper {
    /// The next byte starts a line.
    at_line_start: bool,
    /// The stamped copy of the last piece (reused).
    out: Vec<u8>,
    /// Wall time in epoch seconds (the clock; tests fix it).
    now: fn() -> f64,
}

impl LineStamper {
    pub fn new(now: fn() -> f64) -> LineStamper {
        LineStamper {
            at_line_start: true,
            out: Vec::new(),
            now,
        }
    }

    /// `piece` with a timestamp before each line that starts in it.
    pub fn stamp(&mut self, piece: &[u8]) -> &[u8] {
        self.out.clear();
        let mut stamp: Option<String> = None;
        for line in piece.split_inclusive(|&b| b == b'\n') {
            if self.at_line_start {
                let s = stamp.get_or_insert_with(|| format_stamp((self.now)()));
                self.out.extend_from_slice(s.as_bytes());
                self.out.push(b' ');
            }
            self.out.extend_from_slice(line);
            self.at_line_start = line.ends_with(b"\n");
        }
        &self.out
    }
}

/// `wall` (epoch seconds) as local ISO 8601 with microseconds and offset.
pub fn format_stamp(wall: f64) -> String {
    let secs = wall.floor();
    let micros = ((wall - secs) * 1e6).round().min(999_999.0) as u32;
    match chrono::Local.timestamp_opt(secs as i64, micros * 1000) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
        }
        chrono::LocalResult::None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: f64 = 1_795_312_980.25;

    fn fixed() -> f64 {
        T
    }

    #[test]
    fn the_format_is_iso_8601_with_an_offset() {
        let s = format_stamp(T);
        let b = s.as_bytes();
        assert_eq!(s.len(), "2026-11-22T02:03:00.250000+00:00".len(), "{s}");
        assert_eq!(
            (b[4], b[7], b[10], b[13], b[16], b[19]),
            (b'-', b'-', b'T', b':', b':', b'.')
        );
        assert_eq!(&s[20..26], "250000");
        assert!(matches!(b[26], b'+' | b'-') && b[29] == b':', "{s}");
    }

    #[test]
    fn each_line_once_even_in_pieces() {
        let t = format_stamp(T);
        let mut s = LineStamper::new(fixed);
        let mut all = Vec::new();
        for piece in [&b"one\ntw"[..], b"o", b"\n", b"three\nfour\n", b""] {
            all.extend_from_slice(s.stamp(piece));
        }
        let want = format!("{t} one\n{t} two\n{t} three\n{t} four\n");
        assert_eq!(String::from_utf8(all).unwrap(), want);
    }
}
