//! [`ChildLog`]: where one stream (stdout or stderr) of one process goes.
//!
//! Per chunk read from the pipe, [`ChildLog::write`] does, in order:
//! `strip_ansi` (if on) → capture-mode split (if `capture_maxbytes` > 0) →
//! for the logged text: the file (written whole, then rotated if due) and
//! syslog (`NAME <line>` per line, if `*_syslog`). Data is written exactly
//! as read, no line re-assembly; with `*_log_timestamps` (pidvisor) each
//! line in the file starts with its time ([`super::stamp`]), the rest is
//! unchanged. Nothing is kept in memory:
//! like Supervisor's, every reader (`tail`, `readProcessStdoutLog`,
//! `/logtail`, D-Bus `ReadLog`) reads the file.
//!
//! The hot path allocates nothing once warm: the strip buffer is reused.

use std::io;
use std::path::{Path, PathBuf};

use super::ansi::AnsiStripper;
use super::capture::Capture;
use super::rotate::{CreateMode, RotatingFile, Rotation};
use super::stamp::LineStamper;
use super::syslog::{severity, Syslog};
use crate::config::types::{LogFile, LogSpec};

/// Where a stream's log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Discarded.
    None,
    /// A configured path: opened append, created `0666 & ~umask`.
    Path(PathBuf),
    /// An AUTO file allocated by [`super::allocate_auto_name`] (0600).
    Auto(PathBuf),
}

/// Everything a [`ChildLog`] needs.
#[derive(Debug, Clone)]
pub struct ChildLogOptions {
    pub target: Target,
    pub rotation: Rotation,
    /// `*_capture_maxbytes`; 0 disables capture mode.
    pub capture_maxbytes: usize,
    /// `Some(process name)` when `*_syslog=true`.
    pub syslog_name: Option<String>,
    /// `[supervisord] strip_ansi`.
    pub strip_ansi: bool,
    /// `*_log_timestamps`: a time before each line in the file.
    pub timestamps: bool,
}

impl ChildLogOptions {
    /// From a program's `LogSpec`. `auto_path` is the name allocated for
    /// this stream when the group was created (used only for `AUTO`).
    pub fn from_spec(
        spec: &LogSpec,
        auto_path: Option<&Path>,
        name: &str,
        strip_ansi: bool,
    ) -> ChildLogOptions {
        let target = match (&spec.file, auto_path) {
            (LogFile::Path(p), _) => Target::Path(p.clone()),
            (LogFile::Auto, Some(p)) => Target::Auto(p.to_path_buf()),
            (LogFile::Auto, None) | (LogFile::None, _) => Target::None,
        };
        ChildLogOptions {
            target,
            rotation: Rotation::new(spec.maxbytes, spec.backups),
            capture_maxbytes: spec.capture_maxbytes.max(0) as usize,
            syslog_name: spec.syslog.then(|| name.to_string()),
            strip_ansi,
            timestamps: spec.timestamps,
        }
    }

    /// Options for a plain file with no extras (tests, tools).
    pub fn file(path: &Path, rotation: Rotation) -> ChildLogOptions {
        ChildLogOptions {
            target: Target::Path(path.to_path_buf()),
            rotation,
            capture_maxbytes: 0,
            syslog_name: None,
            strip_ansi: false,
            timestamps: false,
        }
    }
}

/// The outcome of a write.
#[derive(Debug, Default)]
pub struct Written {
    /// Completed captures, each the payload of one
    /// `PROCESS_COMMUNICATION_STDOUT/STDERR` event.
    pub communications: Vec<Vec<u8>>,
    /// The first file error (write, rotation or reopen). Syslog still got
    /// the data; the next write retries the file.
    pub error: Option<io::Error>,
}

/// One process stream's log.
#[derive(Debug)]
pub struct ChildLog {
    file: Option<RotatingFile>,
    path: Option<PathBuf>,
    ansi: Option<AnsiStripper>,
    capture: Option<Capture>,
    syslog: Option<(Syslog, Vec<u8>)>,
    /// With `*_log_timestamps`: stamps the lines that go to the file.
    stamp: Option<LineStamper>,
    /// Reused buffer for the stripped chunk.
    stripped: Vec<u8>,
    /// The last chunk had nothing to strip and was used as-is.
    clean: bool,
}

impl ChildLog {
    /// Open the target (append; never truncated on spawn).
    pub fn open(opts: ChildLogOptions) -> io::Result<ChildLog> {
        let (file, path) = match &opts.target {
            Target::None => (None, None),
            Target::Path(p) => (
                Some(RotatingFile::open(p, CreateMode::Shared, opts.rotation)?),
                Some(p.clone()),
            ),
            Target::Auto(p) => (
                Some(RotatingFile::open(p, CreateMode::Private, opts.rotation)?),
                Some(p.clone()),
            ),
        };
        Ok(ChildLog {
            file,
            path,
            ansi: opts.strip_ansi.then(AnsiStripper::new),
            capture: (opts.capture_maxbytes > 0).then(|| Capture::new(opts.capture_maxbytes)),
            syslog: opts.syslog_name.map(|name| {
                let mut prefix = name.into_bytes();
                prefix.push(b' ');
                (Syslog::new("pidvisord"), prefix)
            }),
            stamp: opts
                .timestamps
                .then(|| LineStamper::new(crate::clock::wall)),
            stripped: Vec::new(),
            clean: true,
        })
    }

    /// Replace the syslog client (tests, or another socket path).
    pub fn set_syslog(&mut self, client: Syslog) {
        if let Some((s, _)) = self.syslog.as_mut() {
            *s = client;
        }
    }

    /// The log file's path (`None` for NONE).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether capture mode is between BEGIN and END.
    pub fn is_capturing(&self) -> bool {
        self.capture.as_ref().is_some_and(Capture::is_capturing)
    }

    /// The data of the last [`write`](Self::write) after `strip_ansi`, for
    /// `PROCESS_LOG_*` events and the debug copy into the main log. Pass the
    /// same chunk you wrote; it is returned as-is when `strip_ansi` is off.
    /// (Tokens of capture mode are included, unlike Supervisor's events.)
    pub fn output<'a>(&'a self, chunk: &'a [u8]) -> &'a [u8] {
        if self.ansi.is_some() && !self.clean {
            &self.stripped
        } else {
            chunk
        }
    }

    /// Log one chunk as read from the pipe.
    pub fn write(&mut self, chunk: &[u8]) -> Written {
        let ChildLog {
            file,
            ansi,
            capture,
            syslog,
            stamp,
            stripped,
            clean,
            ..
        } = self;
        *clean = true;
        let data: &[u8] = match ansi.as_mut() {
            Some(a) if !a.is_clean(chunk) => {
                *clean = false;
                stripped.clear();
                a.strip_into(chunk, stripped);
                stripped
            }
            _ => chunk,
        };
        let mut written = Written::default();
        let mut out = Out {
            file,
            stamp,
            syslog,
        };
        emit(&mut out, capture, data, &mut written);
        written
    }

    /// End of stream (process exited): flush bytes held back to decide a
    /// split escape sequence or capture token.
    pub fn finish(&mut self) -> Written {
        let mut written = Written::default();
        let mut tail = Vec::new();
        if let Some(a) = self.ansi.as_mut() {
            a.finish(&mut tail);
        }
        let ChildLog {
            file,
            capture,
            syslog,
            stamp,
            ..
        } = self;
        let mut out = Out {
            file,
            stamp,
            syslog,
        };
        emit(&mut out, capture, &tail, &mut written);
        if let Some(c) = capture.as_mut() {
            let mut sink = |piece: &[u8]| out.log_piece(piece, &mut written.error);
            c.finish(&mut sink);
        }
        written
    }

    /// Close and reopen the same path, no rotation (SIGUSR2).
    pub fn reopen(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.reopen(),
            None => Ok(()),
        }
    }

    /// Delete and recreate the current file; backups are untouched
    /// (`clearProcessLogs`).
    pub fn clear(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.clear(),
            None => Ok(()),
        }
    }
}

/// Where logged text goes: the file (stamped, with `*_log_timestamps`)
/// and syslog.
struct Out<'a> {
    file: &'a mut Option<RotatingFile>,
    stamp: &'a mut Option<LineStamper>,
    syslog: &'a mut Option<(Syslog, Vec<u8>)>,
}

fn emit(out: &mut Out, capture: &mut Option<Capture>, data: &[u8], written: &mut Written) {
    if data.is_empty() {
        return;
    }
    match capture.as_mut() {
        None => out.log_piece(data, &mut written.error),
        Some(c) => {
            let Written {
                communications,
                error,
            } = written;
            c.feed(
                data,
                &mut |piece| out.log_piece(piece, error),
                &mut |comm| communications.push(comm),
            );
        }
    }
}

impl Out<'_> {
    fn log_piece(&mut self, piece: &[u8], error: &mut Option<io::Error>) {
        if let Some(f) = self.file.as_mut() {
            let data = match self.stamp.as_mut() {
                Some(s) => s.stamp(piece),
                None => piece,
            };
            if let Err(e) = f.write(data) {
                error.get_or_insert(e);
            }
        }
        if let Some((s, prefix)) = self.syslog.as_mut() {
            s.send_lines(severity::INFO, prefix, piece, crate::clock::wall());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::rotate::numbered;

    /// A byte stream where every line is unique: "000000 ...\n" numbered.
    fn stream(n_lines: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n_lines {
            v.extend_from_slice(format!("{i:06} the quick brown fox {}\n", i % 7).as_bytes());
        }
        v
    }

    #[test]
    fn reassembly_across_many_rotations_loses_and_duplicates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fast.log");
        let backups = 6u32;
        let maxbytes = 4096u64;
        let mut log =
            ChildLog::open(ChildLogOptions::file(&p, Rotation { maxbytes, backups })).unwrap();
        let all = stream(40_000);
        // Odd chunk sizes that split lines anywhere, like pipe reads.
        let mut pos = 0;
        let mut boundaries = vec![0usize];
        let mut k = 0usize;
        while pos < all.len() {
            k += 1;
            let n = (k * 7919 % 1500 + 1).min(all.len() - pos);
            let w = log.write(&all[pos..pos + n]);
            assert!(w.error.is_none());
            pos += n;
            boundaries.push(pos);
        }
        let mut joined = Vec::new();
        for i in (1..=backups).rev() {
            let b = std::fs::read(numbered(&p, i)).unwrap();
            // Every full backup reached maxbytes and overshot by < one chunk.
            assert!(b.len() as u64 >= maxbytes && (b.len() as u64) < maxbytes + 1500);
            joined.extend_from_slice(&b);
        }
        assert!(!numbered(&p, backups + 1).exists());
        let current = std::fs::read(&p).unwrap();
        assert!((current.len() as u64) < maxbytes);
        joined.extend_from_slice(&current);
        // The kept files are exactly the suffix of the stream that starts at
        // a chunk boundary: nothing lost, nothing repeated, nothing split.
        let start = all.len() - joined.len();
        assert!(boundaries.contains(&start));
        assert_eq!(joined, &all[start..]);
    }

    #[test]
    fn real_writer_through_a_pipe_reassembles_exactly() {
        use std::io::Read;
        use std::process::{Command, Stdio};
        let n = 300_000;
        let mut child = match Command::new("seq")
            .arg(n.to_string())
            .stdout(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(_) => return, // no coreutils: nothing to test against
        };
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("seq.log");
        let rotation = Rotation::new(64 * 1024, 4);
        let mut log = ChildLog::open(ChildLogOptions::file(&p, rotation)).unwrap();
        let mut pipe = child.stdout.take().unwrap();
        let mut buf = vec![0u8; 128 * 1024];
        let mut boundaries = vec![0usize];
        loop {
            let got = pipe.read(&mut buf).unwrap();
            if got == 0 {
                break;
            }
            assert!(log.write(&buf[..got]).error.is_none());
            boundaries.push(boundaries.last().unwrap() + got);
        }
        assert!(child.wait().unwrap().success());
        let all: Vec<u8> = (1..=n)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        assert_eq!(*boundaries.last().unwrap(), all.len());
        let mut joined = Vec::new();
        for i in (1..=4).rev() {
            joined.extend_from_slice(&std::fs::read(numbered(&p, i)).unwrap());
        }
        joined.extend_from_slice(&std::fs::read(&p).unwrap());
        let start = all.len() - joined.len();
        assert!(boundaries.contains(&start));
        assert_eq!(joined, &all[start..]);
    }

    #[test]
    fn none_target_discards_without_error() {
        let mut opts = ChildLogOptions::file(Path::new("/unused"), Rotation::default());
        opts.target = Target::None;
        let mut log = ChildLog::open(opts).unwrap();
        assert!(log.path().is_none());
        assert!(log.write(b"hello").error.is_none());
        assert!(!Path::new("/unused").exists());
        assert!(log.clear().is_ok());
    }

    #[test]
    fn auto_target_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = crate::logs::allocate_auto_name(dir.path(), "w", "stderr", "sup").unwrap();
        let mut opts = ChildLogOptions::file(&p, Rotation::new(10, 1));
        opts.target = Target::Auto(p.clone());
        let mut log = ChildLog::open(opts).unwrap();
        log.write(&[b'x'; 12]);
        for f in [p.clone(), numbered(&p, 1)] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn dev_null_with_maxbytes_never_errors() {
        let mut log = ChildLog::open(ChildLogOptions::file(
            Path::new("/dev/null"),
            Rotation::new(1, 3),
        ))
        .unwrap();
        for _ in 0..10 {
            assert!(log.write(b"data\n").error.is_none());
        }
    }

    #[test]
    fn strip_ansi_and_output() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let mut opts = ChildLogOptions::file(&p, Rotation::default());
        opts.strip_ansi = true;
        let mut log = ChildLog::open(opts).unwrap();
        let c1 = b"\x1b[1;3";
        log.write(c1);
        assert_eq!(log.output(c1), b"");
        let c2 = b"1mred\x1b[0m\n\x1b";
        log.write(c2);
        assert_eq!(log.output(c2), b"red\n");
        let c3 = b"clean\n";
        log.write(c3);
        // The ESC held back from c2 is not a sequence start after all.
        assert_eq!(log.output(c3), b"\x1bclean\n");
        let c4 = b"plain\x1b";
        log.write(c4);
        assert_eq!(log.output(c4), b"plain");
        log.finish();
        assert_eq!(std::fs::read(&p).unwrap(), b"red\n\x1bclean\nplain\x1b");
        let c5 = b"ok";
        log.write(c5);
        assert_eq!(log.output(c5), b"ok");
    }

    #[test]
    fn capture_mode_diverts_and_returns_communications() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut opts = ChildLogOptions::file(&p, Rotation::default());
        opts.capture_maxbytes = 1024;
        let mut log = ChildLog::open(opts).unwrap();
        let w = log.write(b"a<!--XSUPERVISOR:BEGIN-->secret<!--XSUPER");
        assert!(w.communications.is_empty());
        assert!(log.is_capturing());
        let w = log.write(b"VISOR:END-->b\n<!--X");
        assert_eq!(w.communications, vec![b"secret".to_vec()]);
        log.finish();
        assert_eq!(std::fs::read(&p).unwrap(), b"ab\n<!--X");
    }

    #[test]
    fn syslog_lines_are_prefixed_with_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let sock_path = dir.path().join("devlog");
        let server = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
        server.set_nonblocking(true).unwrap();
        let mut opts = ChildLogOptions::file(&dir.path().join("s.log"), Rotation::default());
        opts.syslog_name = Some("web".into());
        let mut log = ChildLog::open(opts).unwrap();
        log.set_syslog(Syslog::with_path(&sock_path, "pidvisord"));
        log.write(b"l1\nl2\n");
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        while let Ok(n) = server.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert_eq!(got.len(), 2);
        assert!(got[0].ends_with(": web l1"), "{got:?}");
        assert!(got[1].ends_with(": web l2"), "{got:?}");
    }

    #[test]
    fn reopen_after_logrotate_rename_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.log");
        let mut log = ChildLog::open(ChildLogOptions::file(&p, Rotation::new(0, 0))).unwrap();
        log.write(b"one\n");
        std::fs::rename(&p, dir.path().join("r.log.1")).unwrap();
        log.reopen().unwrap();
        log.write(b"two\n");
        assert_eq!(std::fs::read(&p).unwrap(), b"two\n");
        log.clear().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"");
        assert_eq!(std::fs::read(dir.path().join("r.log.1")).unwrap(), b"one\n");
        log.write(b"three\n");
        assert_eq!(std::fs::read(&p).unwrap(), b"three\n");
    }

    #[test]
    fn timestamps_start_every_line_in_the_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.log");
        let mut opts = ChildLogOptions::file(&p, Rotation::default());
        opts.timestamps = true;
        opts.capture_maxbytes = 64;
        let mut log = ChildLog::open(opts).unwrap();
        for piece in [
            &b"par"[..],
            b"tial
whole
<!--XSUPERVISOR:BEGIN-->x",
            b"<!--XSUPERVISOR:END-->tail",
        ] {
            log.write(piece);
        }
        log.finish();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text:?}");
        for (line, want) in lines.iter().zip(["partial", "whole", "tail"]) {
            let (stamp, rest) = line.split_once(' ').unwrap();
            assert_eq!(rest, want);
            assert!(stamp.len() == 32 && stamp.as_bytes()[10] == b'T', "{stamp}");
        }
    }

    #[test]
    fn from_spec_maps_targets() {
        let mut spec = LogSpec {
            file: LogFile::Auto,
            maxbytes: 100,
            backups: 2,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: true,
            timestamps: false,
        };
        let o = ChildLogOptions::from_spec(&spec, Some(Path::new("/x/a.log")), "n", false);
        assert_eq!(o.target, Target::Auto("/x/a.log".into()));
        assert_eq!(o.syslog_name.as_deref(), Some("n"));
        assert_eq!(o.rotation, Rotation::new(100, 2));
        spec.file = LogFile::None;
        let o = ChildLogOptions::from_spec(&spec, None, "n", false);
        assert_eq!(o.target, Target::None);
    }

    /// `cargo test --release logs::child::tests::bench_1gib -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_1gib() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bench.log");
        for strip in [false, true] {
            let mut opts = ChildLogOptions::file(&p, Rotation::new(50 * 1024 * 1024, 10));
            opts.strip_ansi = strip;
            let mut log = ChildLog::open(opts).unwrap();
            let chunk: Vec<u8> = (0..65536u32).map(|i| b' ' + (i % 90) as u8).collect();
            let t = crate::clock::mono();
            for _ in 0..(1 << 30) / chunk.len() {
                assert!(log.write(&chunk).error.is_none());
            }
            let dt = t.elapsed();
            eprintln!("strip_ansi={strip}: 1 GiB in {dt:?}");
        }
    }
}
