//! [`MainLogger`]: supervisord's own log (spec §4.1).
//!
//! A record is `YYYY-MM-DD HH:MM:SS,mmm LEVL message\n` in local time; a
//! multi-line message is written verbatim inside one record. Records below
//! `loglevel` are dropped. The file is opened append and rotated as §4.3
//! with `logfile_maxbytes`/`logfile_backups`. `logfile=syslog` sends every
//! line of a record to syslog formatted the same way (Supervisor reuses its
//! format there too). With `nodaemon` and not `silent`, each record is also
//! copied to stdout.
//!
//! A logger is constructible before the config is read ([`MainLogger::new`]:
//! no sink); the caller queues early messages and replays them once the
//! real logger is open, as Supervisor does with parse messages.
//!
//! # Divergences
//!
//! Syslog records carry a severity derived from the level (CRIT → crit,
//! ERRO → err, WARN → warning, INFO → info, lower → debug); Supervisor sends
//! everything at `info`.

use std::io::{self, Write};
use std::path::Path;

use super::rotate::{CreateMode, RotatingFile, Rotation};
use super::syslog::{local_time, severity, Syslog};
use crate::config::types::{LogLevel, MainLog, SupervisordSpec};

#[derive(Debug)]
enum Sink {
    None,
    File(RotatingFile),
    Syslog(Syslog),
}

/// supervisord's main log.
#[derive(Debug)]
pub struct MainLogger {
    level: LogLevel,
    sink: Sink,
    stdout: bool,
    /// Reused record buffer.
    record: Vec<u8>,
    error: Option<io::Error>,
}

impl MainLogger {
    /// A logger with nowhere to write yet (before the config is known).
    pub fn new(level: LogLevel) -> MainLogger {
        MainLogger {
            level,
            sink: Sink::None,
            stdout: false,
            record: Vec::new(),
            error: None,
        }
    }

    /// Open the main log as `[supervisord]` says.
    pub fn open(spec: &SupervisordSpec) -> io::Result<MainLogger> {
        MainLogger::open_with(
            &spec.logfile,
            Rotation::new(spec.logfile_maxbytes, spec.logfile_backups),
            spec.loglevel,
            spec.nodaemon && !spec.silent,
        )
    }

    /// Open a main log on `target`, copying records to stdout if `stdout`.
    pub fn open_with(
        target: &MainLog,
        rotation: Rotation,
        level: LogLevel,
        stdout: bool,
    ) -> io::Result<MainLogger> {
        let sink = match target {
            MainLog::File(p) => Sink::File(RotatingFile::open(p, CreateMode::Shared, rotation)?),
            MainLog::Syslog => Sink::Syslog(Syslog::new("pidvisord")),
        };
        Ok(MainLogger {
            sink,
            stdout,
            ..MainLogger::new(level)
        })
    }

    /// Replace the syslog client of a `logfile=syslog` logger (tests).
    pub fn set_syslog(&mut self, client: Syslog) {
        if let Sink::Syslog(s) = &mut self.sink {
            *s = client;
        }
    }

    pub fn level(&self) -> LogLevel {
        self.level
    }

    pub fn set_level(&mut self, level: LogLevel) {
        self.level = level;
    }

    /// Turn the stdout copy on or off.
    pub fn set_stdout(&mut self, on: bool) {
        self.stdout = on;
    }

    /// Whether a record at `level` would be written (check before building
    /// an expensive message).
    pub fn enabled(&self, level: LogLevel) -> bool {
        level >= self.level
    }

    /// The log file (`None` for syslog or before opening): what `readLog`,
    /// `clearLog` and `/mainlogtail` use.
    pub fn path(&self) -> Option<&Path> {
        match &self.sink {
            Sink::File(f) => Some(f.path()),
            _ => None,
        }
    }

    /// Log `msg` at `level`, now.
    pub fn log(&mut self, level: LogLevel, msg: impl AsRef<[u8]>) {
        if self.enabled(level) {
            self.log_at(crate::clock::wall(), level, msg);
        }
    }

    /// Log `msg` at `level` with the time `now` (seconds since the epoch).
    pub fn log_at(&mut self, now: f64, level: LogLevel, msg: impl AsRef<[u8]>) {
        if !self.enabled(level) {
            return;
        }
        let msg = msg.as_ref();
        self.record.clear();
        format_record(&mut self.record, now, level, msg);
        if self.stdout {
            let mut out = io::stdout().lock();
            let _ = out.write_all(&self.record).and_then(|_| out.flush());
        }
        match &mut self.sink {
            Sink::None => {}
            Sink::File(f) => {
                if let Err(e) = f.write(&self.record) {
                    self.error.get_or_insert(e);
                }
            }
            Sink::Syslog(s) => {
                // One message per line, each formatted as a whole record.
                let end = msg.iter().rposition(|&b| b != b'\n').map_or(0, |i| i + 1);
                let mut line = Vec::new();
                for l in msg[..end].split(|&b| b == b'\n') {
                    line.clear();
                    format_record(&mut line, now, level, l);
                    line.pop();
                    s.send(syslog_severity(level), &line, now);
                }
            }
        }
    }

    /// The first write error since the last call (the log cannot log it).
    pub fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Close and reopen the file, no rotation (SIGUSR2).
    pub fn reopen(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::File(f) => f.reopen(),
            _ => Ok(()),
        }
    }

    /// Delete and recreate the file (`clearLog`); backups untouched.
    pub fn clear(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::File(f) => f.clear(),
            _ => Ok(()),
        }
    }
}

/// Append `YYYY-MM-DD HH:MM:SS,mmm LEVL msg\n` (local time) to `out`.
pub fn format_record(out: &mut Vec<u8>, now: f64, level: LogLevel, msg: &[u8]) {
    let t = local_time(now);
    let millis = ((now - now.floor()) * 1000.0) as u32;
    let _ = write!(
        out,
        "{},{:03} {} ",
        t.format("%Y-%m-%d %H:%M:%S"),
        millis.min(999),
        level.tag()
    );
    out.extend_from_slice(msg);
    out.push(b'\n');
}

fn syslog_severity(level: LogLevel) -> u8 {
    match level {
        LogLevel::Critical => severity::CRIT,
        LogLevel::Error => severity::ERR,
        LogLevel::Warn => severity::WARNING,
        LogLevel::Info => severity::INFO,
        LogLevel::Debug | LogLevel::Trace | LogLevel::Blather => severity::DEBUG,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::rotate::numbered;

    /// `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]{4} ` — the prefix length
    /// (28) if `rec` starts with a well-formed header.
    fn header_len(rec: &[u8]) -> Option<usize> {
        let shape = b"dddd-dd-dd dd:dd:dd,ddd AAAA ";
        if rec.len() < shape.len() {
            return None;
        }
        for (&c, &s) in rec.iter().zip(shape.iter()) {
            let ok = match s {
                b'd' => c.is_ascii_digit(),
                b'A' => c.is_ascii_uppercase(),
                _ => c == s,
            };
            if !ok {
                return None;
            }
        }
        Some(shape.len())
    }

    #[test]
    fn record_format_parses_back() {
        let mut out = Vec::new();
        let now = 1_700_000_000.042;
        format_record(
            &mut out,
            now,
            LogLevel::Info,
            b"supervisord started with pid 7",
        );
        let n = header_len(&out).expect("header");
        assert_eq!(&out[n - 5..n], b"INFO ");
        assert_eq!(&out[n..], b"supervisord started with pid 7\n");
        assert_eq!(&out[20..23], b"042");
        let local = local_time(now).format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(&out[..19], local.as_bytes());
    }

    #[test]
    fn multiline_verbatim_and_level_filter() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("supervisord.log");
        let mut log = MainLogger::open_with(
            &MainLog::File(p.clone()),
            Rotation::default(),
            LogLevel::Info,
            false,
        )
        .unwrap();
        log.log_at(1.5, LogLevel::Debug, "hidden");
        log.log_at(1.5, LogLevel::Blather, "hidden");
        log.log_at(1.5, LogLevel::Info, "a\nb\n");
        log.log_at(2.0, LogLevel::Critical, "crit");
        log.log(LogLevel::Warn, "warned");
        assert!(log.enabled(LogLevel::Info) && !log.enabled(LogLevel::Trace));
        assert!(log.take_error().is_none());
        let text = std::fs::read(&p).unwrap();
        let recs: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
        // "a\nb\n" + "\n": the record's own newline follows the message's.
        assert_eq!(recs.len(), 6, "{}", String::from_utf8_lossy(&text));
        let n = header_len(recs[0]).unwrap();
        assert_eq!(&recs[0][n - 5..], b"INFO a");
        assert_eq!(recs[1], b"b");
        assert_eq!(recs[2], b"");
        assert_eq!(&recs[3][n - 5..], b"CRIT crit");
        assert_eq!(&recs[4][n - 5..], b"WARN warned");
        assert_eq!(recs[5], b"");
        assert_eq!(log.path(), Some(p.as_path()));
    }

    #[test]
    fn rotates_reopens_and_clears() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log");
        let mut log = MainLogger::open_with(
            &MainLog::File(p.clone()),
            Rotation::new(100, 2),
            LogLevel::Blather,
            false,
        )
        .unwrap();
        for i in 0..20 {
            log.log_at(0.0, LogLevel::Info, format!("message number {i:02}"));
        }
        assert!(std::fs::metadata(numbered(&p, 1)).unwrap().len() >= 100);
        assert!(std::fs::metadata(numbered(&p, 2)).unwrap().len() >= 100);
        assert!(!numbered(&p, 3).exists());
        std::fs::rename(&p, dir.path().join("moved")).unwrap();
        log.reopen().unwrap();
        log.log_at(0.0, LogLevel::Info, "x");
        assert!(std::fs::read(&p).unwrap().ends_with(b"INFO x\n"));
        log.clear().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"");
    }

    #[test]
    fn syslog_target_one_message_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("devlog");
        let server = std::os::unix::net::UnixDatagram::bind(&sock).unwrap();
        server.set_nonblocking(true).unwrap();
        let mut log =
            MainLogger::open_with(&MainLog::Syslog, Rotation::default(), LogLevel::Info, false)
                .unwrap();
        log.set_syslog(Syslog::with_path(&sock, "pidvisord"));
        assert!(log.path().is_none());
        log.log_at(0.0, LogLevel::Warn, "l1\nl2\n");
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        while let Ok(n) = server.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        assert_eq!(got.len(), 2);
        for (m, want) in got.iter().zip([&b"WARN l1"[..], b"WARN l2"]) {
            assert!(m.starts_with(b"<12>"));
            let body = &m[m.windows(2).position(|w| w == b": ").unwrap() + 2..];
            let n = header_len(body).unwrap();
            assert_eq!(&body[n - 5..], want);
        }
    }

    #[test]
    fn early_logger_writes_nowhere() {
        let mut log = MainLogger::new(LogLevel::Info);
        log.log_at(0.0, LogLevel::Critical, "queued by the caller instead");
        assert!(log.path().is_none());
        assert!(log.reopen().is_ok() && log.clear().is_ok());
    }
}
