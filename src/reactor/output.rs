//! Child output: the pipes between the daemon and each child, and the logs
//! the output goes to. A pipe lives until EOF or until its process exits,
//! whichever comes first: at the exit what it holds is read and our end is
//! closed, as Supervisor's `finish()` does, so what the process left behind
//! gets EPIPE instead of writing into the log of the next run.
//!
//! [`Pipes`] owns our ends of the pipes (registered with the poll under
//! tokens of its own range) and every process's log files; the reactor
//! makes the pipes at a spawn, hands them over, and tells it when a
//! process exited.
//!
//! For the event system it also reports what it [`Heard`] besides log
//! text: an event listener's stdout is its protocol channel, handed over
//! whole and never logged; a chunk of a stream with `*_events_enabled`
//! (`PROCESS_LOG_*`); a capture between `<!--XSUPERVISOR:BEGIN-->` and
//! `<!--XSUPERVISOR:END-->` (`PROCESS_COMMUNICATION_*`). And it writes
//! events to a listener's stdin, keeping what the pipe cannot take yet
//! until it is writable ([`Pipes::write_stdin`]).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::rc::Rc;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

pub use crate::api::Stream;
use crate::config::{LogFile, LogLevel, LogSpec, ProgramSpec};
use crate::core::ProcId;
use crate::logs::{ChildLog, ChildLogOptions, MainLogger};
use crate::py::{py_bytes_repr, py_repr};
use crate::spawn::Stdio;

/// Bytes read from a pipe at once (Supervisor reads 128 KiB chunks).
const CHUNK: usize = 128 * 1024;

/// Pipe tokens: `[BASE, BASE + 2^32)`.
const BASE: usize = 2 << 32;
const END: usize = 3 << 32;

struct Watch {
    id: ProcId,
    gen: u64,
    stream: Stream,
    fd: OwnedFd,
}

/// The logs of one process, (re)opened at every spawn as Supervisor does.
pub struct ProcLogs {
    pub gen: u64,
    /// The process name, for the main-log copy of its output at debug level.
    name: String,
    /// Per stream: the last write failed (reported once, not per chunk).
    failing: [bool; 2],
    /// The logs of the streams something reads (see [`is_read`]); none for
    /// the others, whose output goes to `/dev/null`.
    stdout: Option<Box<ChildLog>>,
    stderr: Option<Box<ChildLog>>,
    /// Our end of the child's stdin, for `sendProcessStdin` and events.
    pub stdin: Option<OwnedFd>,
    /// The identity of a stdin pipe we keep no end of (opened through
    /// `/proc` when something is first written to it).
    stdin_pipe: Option<(u64, u64)>,
    /// The tokens of this spawn's watched pipes.
    watches: [Option<Token>; 2],
    /// Bytes for stdin that the pipe could not take yet, and the token
    /// that waits for it to be writable.
    pending: Vec<u8>,
    writer: Option<Token>,
    /// An event listener: stdout is the protocol, not a log.
    protocol: bool,
    /// `stdout_events_enabled`, `stderr_events_enabled`.
    events: [bool; 2],
    /// Capture mode is on (`*_capture_maxbytes` > 0).
    capture: [bool; 2],
}

/// What a pipe carried besides log text, for the event system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// An event listener's stdout.
    Protocol { id: ProcId, data: Vec<u8> },
    /// A chunk logged from a stream with `*_events_enabled`.
    Logged {
        id: ProcId,
        stream: Stream,
        data: Vec<u8>,
    },
    /// A capture completed (`*_capture_maxbytes`).
    Communication {
        id: ProcId,
        stream: Stream,
        data: Vec<u8>,
    },
    /// A write to the process's stdin failed: it closed its end (EPIPE).
    StdinClosed { id: ProcId },
}

#[derive(Default)]
pub struct Pipes {
    watches: HashMap<Token, Watch>,
    next: usize,
    /// Boxed: a `ProcLogs` is large and the map's spare buckets would
    /// otherwise each hold one.
    logs: HashMap<ProcId, Box<ProcLogs>>,
    /// AUTO file names, allocated once when the group is added.
    auto_names: HashMap<(ProcId, Stream), PathBuf>,
    buf: Vec<u8>,
    /// Event listeners (their stdout is the protocol channel).
    listeners: HashSet<ProcId>,
    /// Tokens waiting for a stdin to be writable.
    writers: HashMap<Token, ProcId>,
    heard: VecDeque<Heard>,
    /// `/dev/null`, opened once, for the streams nobody reads.
    null: Option<Rc<OwnedFd>>,
}

/// What one spawn gets as fds 0, 1 and 2. A stream that nothing reads
/// (its log `NONE`, no syslog, capture, events, listener protocol or
/// main-log copy) goes to `/dev/null` instead of a pipe: the daemon then
/// holds no descriptor for it.
pub struct SpawnPipes {
    stdin: ChildStdin,
    /// (our read end, the child's write end); `None`: `/dev/null`.
    stdout: Option<(OwnedFd, OwnedFd)>,
    stderr: Option<(OwnedFd, OwnedFd)>,
    /// Whether stderr goes where stdout goes (`redirect_stderr`).
    redirected: bool,
    null: Rc<OwnedFd>,
}

enum ChildStdin {
    /// (the child's read end, our write end): an event listener's, which
    /// the daemon writes to all the time.
    Pipe(OwnedFd, OwnedFd),
    /// A pipe open for reading and writing, of which the daemon keeps
    /// nothing: the child blocks on it as on Supervisor's pipe (it is a
    /// writer itself, so it never sees end of file), and `sendProcessStdin`
    /// opens a writer through `/proc` when it is first called
    /// ([`Pipes::stdin_writer`]). Its identity tells that writer it found
    /// the same pipe.
    Shared(OwnedFd, (u64, u64)),
    /// A descriptor of the shared socket, closed here after the spawn.
    Socket(OwnedFd),
}

impl SpawnPipes {
    /// The ends the child gets as fds 0, 1, 2.
    pub fn child_side(&self) -> Stdio<'_> {
        let stdin = match &self.stdin {
            ChildStdin::Pipe(r, _) => r,
            ChildStdin::Shared(rw, _) => rw,
            ChildStdin::Socket(s) => s,
        };
        let null = &*self.null;
        let stdout = self.stdout.as_ref().map_or(null, |p| &p.1);
        let stderr = if self.redirected {
            stdout
        } else {
            self.stderr.as_ref().map_or(null, |p| &p.1)
        };
        Stdio {
            stdin: stdin.as_fd(),
            stdout: stdout.as_fd(),
            stderr: stderr.as_fd(),
        }
    }

    /// Our read ends (the child's ends are closed as this is consumed).
    pub fn into_parent_side(self) -> Vec<(OwnedFd, Stream)> {
        let mut v = Vec::new();
        if let Some((r, _w)) = self.stdout {
            v.push((r, Stream::Stdout));
        }
        if let Some((r, _w)) = self.stderr {
            v.push((r, Stream::Stderr));
        }
        v
    }
}

/// Why a spawn's pipes or logs could not be made.
pub struct OpenFailure {
    /// Supervisor's spawnerr text.
    pub text: String,
    /// The daemon was out of descriptors.
    pub out_of_fds: bool,
}

fn dispatchers_error(name: &str, e: &io::Error) -> String {
    let errno = e.raw_os_error().unwrap_or(0);
    let shown = crate::sys::errno::errno_name(errno).unwrap_or("EIO");
    format!("unknown error making dispatchers for '{name}': {shown}")
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    crate::sys::fd::pipe_cloexec()
}

fn nonblocking(fd: &OwnedFd) -> io::Result<()> {
    crate::sys::fd::set_nonblocking(fd)
}

/// Whether anything takes in what a stream carries: its log file (`file`),
/// syslog, capture mode, `*_events_enabled`, or `also` (a listener's
/// protocol, the main log's copy at loglevel debug).
fn is_read(log: &LogSpec, file: bool, also: bool) -> bool {
    file || also || log.syslog || log.events_enabled || log.capture_maxbytes > 0
}

/// The descriptors the pipes and logs of one running process of `spec`
/// hold in the daemon (`listener`: an event listener; `copied`: the main
/// log copies output): a pipe's read end for each stream something reads,
/// a file for each log file, a socket for each stream sent to syslog, and
/// a listener's stdin. A program whose logs are `NONE` holds none: its
/// output goes to `/dev/null`, and its stdin is a pipe the daemon keeps no
/// end of until `sendProcessStdin` writes to it (one more then).
pub fn fds_of(spec: &ProgramSpec, listener: bool, copied: bool) -> usize {
    let stream = |log: &LogSpec, also: bool| {
        let file = log.file != LogFile::None;
        usize::from(is_read(log, file, also)) + usize::from(file) + usize::from(log.syslog)
    };
    let mut n = stream(&spec.stdout, listener || copied) + usize::from(listener);
    if !spec.redirect_stderr {
        n += stream(&spec.stderr, copied);
    }
    n
}

/// A child's stdin of which the daemon keeps nothing (see
/// [`ChildStdin::Shared`]); without `/proc`, a pipe whose write end we
/// keep, as Supervisor does.
fn shared_stdin() -> io::Result<ChildStdin> {
    let (r, w) = pipe()?;
    match crate::sys::fd::reopen_read_write(&r) {
        Ok(rw) => {
            let ident = crate::sys::fd::identity(&rw)?;
            Ok(ChildStdin::Shared(rw, ident))
        }
        Err(_) => {
            nonblocking(&w)?;
            Ok(ChildStdin::Pipe(r, w))
        }
    }
}

impl Pipes {
    /// Make the pipes for a spawn and (re)open the process's logs. With
    /// `socket` (an fcgi-program's), the child gets it as stdin instead of
    /// a pipe, and has no stdin for us to write to. `copied`: the main log
    /// takes a copy of all output (loglevel debug or below).
    pub fn open(
        &mut self,
        id: ProcId,
        gen: u64,
        spec: &ProgramSpec,
        (strip_ansi, copied): (bool, bool),
        socket: Option<OwnedFd>,
    ) -> Result<SpawnPipes, OpenFailure> {
        let listener = self.listeners.contains(&id);
        let read = [
            self.is_read(id, Stream::Stdout, &spec.stdout, listener || copied),
            !spec.redirect_stderr && self.is_read(id, Stream::Stderr, &spec.stderr, copied),
        ];
        let pipes = self
            .make_pipes(socket, listener, read, spec.redirect_stderr)
            .map_err(|e| OpenFailure {
                text: if e.raw_os_error() == Some(crate::sys::errno::EMFILE) {
                    format!("too many open files to spawn '{}'", spec.name)
                } else {
                    dispatchers_error(&spec.name, &e)
                },
                out_of_fds: crate::sys::errno::is_fd_exhaustion(&e),
            })?;
        let strip = strip_ansi;
        let open = |log: &crate::config::LogSpec, stream: Stream| {
            let auto = self.auto_names.get(&(id, stream));
            ChildLog::open(ChildLogOptions::from_spec(
                log,
                auto.map(|p| p.as_path()),
                &spec.name,
                strip,
            ))
        };
        let logs = (|| {
            let out = match read[0] {
                true => Some(Box::new(open(&spec.stdout, Stream::Stdout)?)),
                false => None,
            };
            let err = match read[1] {
                true => Some(Box::new(open(&spec.stderr, Stream::Stderr)?)),
                false => None,
            };
            io::Result::Ok((out, err))
        })();
        let (stdout, stderr) = logs.map_err(|e| OpenFailure {
            text: dispatchers_error(&spec.name, &e),
            out_of_fds: crate::sys::errno::is_fd_exhaustion(&e),
        })?;
        let (stdin, stdin_pipe) = match &pipes.stdin {
            ChildStdin::Pipe(_, w) => (w.try_clone().ok(), None),
            ChildStdin::Shared(_, ident) => (None, Some(*ident)),
            ChildStdin::Socket(_) => (None, None),
        };
        if let Some(t) = self.logs.get_mut(&id).and_then(|l| l.writer.take()) {
            self.writers.remove(&t);
        }
        self.logs.insert(
            id,
            Box::new(ProcLogs {
                gen,
                name: spec.name.clone(),
                failing: [false; 2],
                stdout,
                stderr,
                stdin,
                stdin_pipe,
                pending: Vec::new(),
                writer: None,
                watches: [None; 2],
                protocol: listener,
                events: [spec.stdout.events_enabled, spec.stderr.events_enabled],
                capture: [
                    spec.stdout.capture_maxbytes > 0,
                    spec.stderr.capture_maxbytes > 0,
                ],
            }),
        );
        Ok(pipes)
    }

    /// Whether anything takes in what `stream` carries (see [`is_read`]).
    fn is_read(&self, id: ProcId, stream: Stream, log: &LogSpec, also: bool) -> bool {
        let file = match &log.file {
            LogFile::Path(_) => true,
            LogFile::Auto => self.auto_names.contains_key(&(id, stream)),
            LogFile::None => false,
        };
        is_read(log, file, also)
    }

    /// The descriptors of one spawn: a pipe for each stream that is
    /// `read`, `/dev/null` for the others; stdin as [`ChildStdin`] says.
    fn make_pipes(
        &mut self,
        socket: Option<OwnedFd>,
        listener: bool,
        [out, err]: [bool; 2],
        redirected: bool,
    ) -> io::Result<SpawnPipes> {
        let null = match &self.null {
            Some(n) => n.clone(),
            None => Rc::new(crate::sys::fd::open_dev_null()?),
        };
        self.null = Some(null.clone());
        let stdin = match socket {
            Some(s) => ChildStdin::Socket(s),
            None if listener => {
                let (r, w) = pipe()?;
                nonblocking(&w)?;
                ChildStdin::Pipe(r, w)
            }
            None => shared_stdin()?,
        };
        let read_pipe = |wanted: bool| -> io::Result<Option<(OwnedFd, OwnedFd)>> {
            if !wanted {
                return Ok(None);
            }
            let p = pipe()?;
            nonblocking(&p.0)?;
            Ok(Some(p))
        };
        Ok(SpawnPipes {
            stdin,
            stdout: read_pipe(out)?,
            stderr: read_pipe(err)?,
            redirected,
            null,
        })
    }

    /// The file a stream logs to: the configured path, the AUTO name, or none.
    pub fn path_of(&self, id: ProcId, stream: Stream, file: &LogFile) -> Option<PathBuf> {
        match file {
            LogFile::Path(p) => Some(p.clone()),
            LogFile::Auto => self.auto_names.get(&(id, stream)).cloned(),
            LogFile::None => None,
        }
    }

    /// Whether `token` is one of ours.
    pub fn owns(token: Token) -> bool {
        (BASE..END).contains(&token.0)
    }

    /// Watch our read ends of a spawn's pipes (the child's ends are closed
    /// as `pipes` is consumed, so EOF comes when the last writer is gone).
    pub fn watch(&mut self, r: &Registry, id: ProcId, gen: u64, pipes: SpawnPipes) {
        for (fd, stream) in pipes.into_parent_side() {
            let token = Token(BASE + self.next);
            self.next = (self.next + 1) % (END - BASE);
            if r.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)
                .is_ok()
            {
                if let Some(logs) = self.logs.get_mut(&id).filter(|l| l.gen == gen) {
                    logs.watches[stream as usize] = Some(token);
                }
                let w = Watch {
                    id,
                    gen,
                    stream,
                    fd,
                };
                self.watches.insert(token, w);
            }
        }
    }

    /// Our end of the stdin of process `id` (main pid `pid`), while it has
    /// one. A stdin we kept no end of gets a writer now, opened through
    /// `/proc/PID/fd/0` and kept until the exit, if that descriptor is
    /// still the pipe the process was given (`None` when it closed or
    /// replaced it, as a write to a pipe without reader fails there).
    pub fn stdin_writer(&mut self, id: ProcId, pid: u32) -> Option<&OwnedFd> {
        let logs = self.logs.get_mut(&id)?;
        if logs.stdin.is_none() {
            let ident = logs.stdin_pipe?;
            let fd = crate::sys::fd::open_writer_of(pid, 0).ok()?;
            if crate::sys::fd::identity(&fd).ok()? != ident {
                return None;
            }
            logs.stdin = Some(fd);
        }
        logs.stdin.as_ref()
    }

    fn logs_mut(&mut self, id: ProcId) -> Option<&mut ProcLogs> {
        self.logs.get_mut(&id).map(|l| &mut **l)
    }

    /// Delete and recreate a running process's current log files.
    pub fn clear(&mut self, id: ProcId) -> io::Result<()> {
        if let Some(logs) = self.logs_mut(id) {
            if let Some(o) = logs.stdout.as_mut() {
                o.clear()?;
            }
            if let Some(e) = logs.stderr.as_mut() {
                e.clear()?;
            }
        }
        Ok(())
    }

    /// Forget the logs of processes that are gone.
    pub fn retain_live(&mut self, live: &std::collections::HashSet<ProcId>) {
        self.logs.retain(|id, _| live.contains(id));
        self.auto_names.retain(|(id, _), _| live.contains(id));
        self.listeners.retain(|id| live.contains(id));
        self.writers.retain(|_, id| live.contains(id));
    }

    /// Read what is there on one pipe; returns true at EOF or error. At
    /// `loglevel` debug or below each chunk is also copied into the main
    /// log, as Supervisor does.
    fn read_ready(&mut self, token: Token, mainlog: &mut MainLogger) -> bool {
        let Some(w) = self.watches.get(&token) else {
            return true;
        };
        if self.buf.len() < CHUNK {
            self.buf.resize(CHUNK, 0);
        }
        loop {
            match crate::sys::fd::read(&w.fd, &mut self.buf[..]) {
                Ok(0) => return true,
                Ok(n) => {
                    if let Some(logs) = self.logs.get_mut(&w.id) {
                        if logs.gen == w.gen && logs.protocol && w.stream == Stream::Stdout {
                            let data = &self.buf[..n];
                            if mainlog.enabled(LogLevel::Debug) {
                                mainlog.log(
                                    LogLevel::Debug,
                                    output_record(&logs.name, w.stream, data),
                                );
                            }
                            let id = w.id;
                            self.heard.push_back(Heard::Protocol {
                                id,
                                data: data.to_vec(),
                            });
                            continue;
                        }
                        if logs.gen == w.gen {
                            let log = match w.stream {
                                Stream::Stdout => logs.stdout.as_deref_mut(),
                                Stream::Stderr => logs.stderr.as_deref_mut(),
                            };
                            if let Some(log) = log {
                                // A file error is retried on the next write
                                // (Supervisor, too, loses what it could not
                                // write); it is reported once until a write
                                // succeeds again.
                                let written = log.write(&self.buf[..n]);
                                let data = log.output(&self.buf[..n]);
                                let i = w.stream as usize;
                                hear(
                                    &mut self.heard,
                                    (w.id, w.stream),
                                    (logs.events[i], logs.capture[i]),
                                    data,
                                    written.communications,
                                );
                                let error = written.error;
                                let failing = &mut logs.failing[w.stream as usize];
                                match error {
                                    Some(e) if !*failing => {
                                        *failing = true;
                                        let path = log.path().map(|p| p.display().to_string());
                                        mainlog.log(
                                            LogLevel::Error,
                                            format!(
                                                "could not write {} output of {} to {}: {e}; output is lost until a write succeeds",
                                                w.stream.name(),
                                                logs.name,
                                                path.unwrap_or_default()
                                            ),
                                        );
                                    }
                                    None if *failing => {
                                        *failing = false;
                                        mainlog.log(
                                            LogLevel::Info,
                                            format!(
                                                "writing {} output of {} again",
                                                w.stream.name(),
                                                logs.name
                                            ),
                                        );
                                    }
                                    _ => {}
                                }
                                if mainlog.enabled(LogLevel::Debug) {
                                    let data = log.output(&self.buf[..n]);
                                    let msg = output_record(&logs.name, w.stream, data);
                                    mainlog.log(LogLevel::Debug, msg);
                                }
                            }
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true,
            }
        }
    }
}

/// Queue what a logged chunk means for events: the chunk itself when
/// `*_events_enabled` (without capture mode's tokens, as Supervisor's),
/// and each completed capture.
fn hear(
    heard: &mut VecDeque<Heard>,
    (id, stream): (ProcId, Stream),
    (events_enabled, capture): (bool, bool),
    data: &[u8],
    communications: Vec<Vec<u8>>,
) {
    if events_enabled && !data.is_empty() {
        let data = if capture {
            without_tokens(data)
        } else {
            data.to_vec()
        };
        heard.push_back(Heard::Logged { id, stream, data });
    }
    for data in communications {
        heard.push_back(Heard::Communication { id, stream, data });
    }
}

/// `data` without capture mode's BEGIN and END tokens.
fn without_tokens(data: &[u8]) -> Vec<u8> {
    use crate::logs::capture::{BEGIN_TOKEN, END_TOKEN};
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while !rest.is_empty() {
        match [BEGIN_TOKEN, END_TOKEN]
            .iter()
            .find(|t| rest.starts_with(t))
        {
            Some(t) => rest = &rest[t.len()..],
            None => {
                out.push(rest[0]);
                rest = &rest[1..];
            }
        }
    }
    out
}

/// Supervisor's main-log copy of a chunk of output:
/// `'name' stdout output:\n<text>`, or `Undecodable: b'...'` for bytes
/// that are not UTF-8.
fn output_record(name: &str, stream: Stream, data: &[u8]) -> String {
    let text = match std::str::from_utf8(data) {
        Ok(t) => t.to_string(),
        Err(_) => format!("Undecodable: {}", py_bytes_repr(data)),
    };
    format!("{} {} output:\n{text}", py_repr(name), stream.name())
}

impl Pipes {
    /// A pipe is readable: take in what it holds; close it at EOF.
    pub fn ready(&mut self, token: Token, r: &Registry, mainlog: &mut MainLogger) {
        if self.stdin_ready(token, r) {
            return;
        }
        if self.read_ready(token, mainlog) {
            self.close(token, r);
        }
    }

    fn close(&mut self, token: Token, r: &Registry) {
        if let Some(w) = self.watches.remove(&token) {
            let _ = r.deregister(&mut SourceFd(&w.fd.as_raw_fd()));
        }
    }

    /// A spawn failed after fork: log what the child wrote on its way out
    /// (Supervisor's `supervisor: couldn't ...` lines), then drop the pipes.
    pub fn log_failed_child_output(&mut self, id: ProcId, gen: u64, pipes: SpawnPipes) {
        for (fd, stream) in pipes.into_parent_side() {
            let mut buf = [0u8; 4096];
            while let Ok(n) = crate::sys::fd::read(&fd, &mut buf) {
                if n == 0 {
                    break;
                }
                if let Some(logs) = self.logs_mut(id).filter(|l| l.gen == gen) {
                    let log = match stream {
                        Stream::Stdout => logs.stdout.as_deref_mut(),
                        Stream::Stderr => logs.stderr.as_deref_mut(),
                    };
                    if let Some(log) = log {
                        let _ = log.write(&buf[..n]);
                    }
                }
            }
        }
    }

    /// The process of one spawn exited: read everything it already wrote,
    /// then close our ends of its pipes, as Supervisor's `finish()` does.
    pub fn drain(&mut self, id: ProcId, gen: u64, r: &Registry, mainlog: &mut MainLogger) {
        if self.logs_mut(id).is_some_and(|l| l.gen == gen) {
            self.close_stdin(id, r);
        }
        // The spawn's own tokens, not a walk of every pipe of every process.
        let tokens = match self.logs.get_mut(&id).filter(|l| l.gen == gen) {
            Some(l) => std::mem::take(&mut l.watches),
            None => [None; 2],
        };
        let ours = |w: &Watch| w.id == id && w.gen == gen;
        for t in tokens.into_iter().flatten() {
            if !self.watches.get(&t).is_some_and(ours) {
                continue;
            }
            self.read_ready(t, mainlog);
            self.close(t, r);
        }
    }

    /// SIGUSR2: reopen every child log at its path.
    pub fn reopen_all(&mut self) {
        for logs in self.logs.values_mut() {
            if let Some(o) = logs.stdout.as_mut() {
                let _ = o.reopen();
            }
            if let Some(e) = logs.stderr.as_mut() {
                let _ = e.reopen();
            }
        }
    }

    /// A process was added: allocate its AUTO log names (stable while it
    /// lives). Returns the stdout and stderr paths as `getProcessInfo`
    /// shows them.
    pub fn add_process(
        &mut self,
        id: ProcId,
        spec: &ProgramSpec,
        dir: &std::path::Path,
        ident: &str,
        mainlog: &mut MainLogger,
    ) -> (String, String) {
        for (stream, log) in [
            (Stream::Stdout, &spec.stdout),
            (Stream::Stderr, &spec.stderr),
        ] {
            if log.file != LogFile::Auto || (stream == Stream::Stderr && spec.redirect_stderr) {
                continue;
            }
            match crate::logs::allocate_auto_name(dir, &spec.name, stream.name(), ident) {
                Ok(p) => {
                    self.auto_names.insert((id, stream), p);
                }
                Err(e) => mainlog.log(
                    LogLevel::Error,
                    format!("could not create AUTO log for {}: {e}", spec.name),
                ),
            }
        }
        let shown = |p: Option<PathBuf>| p.map(|p| p.display().to_string()).unwrap_or_default();
        let out = shown(self.path_of(id, Stream::Stdout, &spec.stdout.file));
        let err = if spec.redirect_stderr {
            String::new()
        } else {
            shown(self.path_of(id, Stream::Stderr, &spec.stderr.file))
        };
        (out, err)
    }
}

/// The event system's side: listeners, what was heard, and writes to stdin.
impl Pipes {
    /// `id` is an event listener: its stdout is handed over as
    /// [`Heard::Protocol`], never logged (from its next spawn on).
    pub fn set_listener(&mut self, id: ProcId) {
        self.listeners.insert(id);
    }

    /// The next thing heard, oldest first.
    pub fn poll_heard(&mut self) -> Option<Heard> {
        self.heard.pop_front()
    }

    /// Write to a process's stdin without blocking: what the pipe cannot
    /// take now is kept, in order, and written when it is writable. A
    /// closed pipe (EPIPE) is reported as [`Heard::StdinClosed`]; a process
    /// without stdin (not running, an fcgi-program) is reported the same.
    pub fn write_stdin(&mut self, r: &Registry, id: ProcId, bytes: &[u8]) {
        let Some(logs) = self.logs.get_mut(&id).filter(|l| l.stdin.is_some()) else {
            self.heard.push_back(Heard::StdinClosed { id });
            return;
        };
        logs.pending.extend_from_slice(bytes);
        self.flush_stdin(r, id);
    }

    /// Write what is pending; wait for writability if the pipe is full.
    fn flush_stdin(&mut self, r: &Registry, id: ProcId) {
        let Some(logs) = self.logs.get_mut(&id) else {
            return;
        };
        let Some(fd) = logs.stdin.as_ref() else {
            logs.pending.clear();
            return;
        };
        let mut done = 0;
        let failed = loop {
            if done == logs.pending.len() {
                break false;
            }
            match crate::sys::fd::write(fd, &logs.pending[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
                Err(_) => break true,
            }
        };
        logs.pending.drain(..done);
        if failed {
            logs.pending.clear();
            self.heard.push_back(Heard::StdinClosed { id });
        }
        let raw = fd.as_raw_fd();
        let waiting = !logs.pending.is_empty();
        match (waiting, logs.writer) {
            (true, None) => {
                let token = Token(BASE + self.next);
                self.next = (self.next + 1) % (END - BASE);
                if r.register(&mut SourceFd(&raw), token, Interest::WRITABLE)
                    .is_ok()
                {
                    logs.writer = Some(token);
                    self.writers.insert(token, id);
                }
            }
            (false, Some(token)) => {
                logs.writer = None;
                self.writers.remove(&token);
                let _ = r.deregister(&mut SourceFd(&raw));
            }
            _ => {}
        }
    }

    /// A stdin we wait on is writable: `true` if `token` was one of those.
    fn stdin_ready(&mut self, token: Token, r: &Registry) -> bool {
        let Some(&id) = self.writers.get(&token) else {
            return false;
        };
        self.flush_stdin(r, id);
        true
    }

    /// The process exited: stop writing to its stdin (what is pending is
    /// lost, as Supervisor's is) and close our end.
    fn close_stdin(&mut self, id: ProcId, r: &Registry) {
        let Some(logs) = self.logs.get_mut(&id) else {
            return;
        };
        if let Some(token) = logs.writer.take() {
            self.writers.remove(&token);
            if let Some(fd) = logs.stdin.as_ref() {
                let _ = r.deregister(&mut SourceFd(&fd.as_raw_fd()));
            }
        }
        logs.pending = Vec::new();
        logs.stdin = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_records_as_supervisor_writes_them() {
        assert_eq!(
            output_record("web", Stream::Stdout, b"got SIGTERM\n"),
            "'web' stdout output:\ngot SIGTERM\n"
        );
        // Python's repr quotes with "" when the data has ' and no ".
        assert_eq!(
            output_record("w", Stream::Stderr, b"a'\x00\xff\\\n"),
            "'w' stderr output:\nUndecodable: b\"a'\\x00\\xff\\\\\\n\""
        );
        assert_eq!(py_bytes_repr(b"\xc3'\"\t"), "b'\\xc3\\'\"\\t'");
    }

    #[test]
    fn log_events_leave_out_capture_tokens() {
        assert_eq!(
            without_tokens(b"a<!--XSUPERVISOR:BEGIN-->b<!--XSUPERVISOR:END-->c<!--X"),
            b"abc<!--X"
        );
    }
}
