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

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

pub use crate::api::Stream;
use crate::config::{LogFile, LogLevel, ProgramSpec};
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
    pub stdout: ChildLog,
    pub stderr: Option<ChildLog>,
    /// Our end of the child's stdin, for `sendProcessStdin`.
    pub stdin: Option<OwnedFd>,
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
}

/// The three pipes made for one spawn.
pub struct SpawnPipes {
    stdin: (OwnedFd, OwnedFd),
    stdout: (OwnedFd, OwnedFd),
    stderr: Option<(OwnedFd, OwnedFd)>,
}

impl SpawnPipes {
    /// The ends the child gets as fds 0, 1, 2.
    pub fn child_side(&self) -> Stdio<'_> {
        Stdio {
            stdin: self.stdin.0.as_fd(),
            stdout: self.stdout.1.as_fd(),
            stderr: self
                .stderr
                .as_ref()
                .map(|p| &p.1)
                .unwrap_or(&self.stdout.1)
                .as_fd(),
        }
    }

    /// Our read ends (the child's ends are closed as this is consumed).
    pub fn into_parent_side(self) -> Vec<(OwnedFd, Stream)> {
        let mut v = vec![(self.stdout.0, Stream::Stdout)];
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
    let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    Ok((r, w))
}

fn nonblocking(fd: &OwnedFd) -> io::Result<()> {
    rustix::io::ioctl_fionbio(fd, true)?;
    Ok(())
}

impl Pipes {
    /// Make the pipes for a spawn and (re)open the process's logs.
    pub fn open(
        &mut self,
        id: ProcId,
        gen: u64,
        spec: &ProgramSpec,
        strip_ansi: bool,
    ) -> Result<SpawnPipes, OpenFailure> {
        let made = (|| -> io::Result<SpawnPipes> {
            let stdin = pipe()?;
            let stdout = pipe()?;
            let stderr = if spec.redirect_stderr {
                None
            } else {
                Some(pipe()?)
            };
            nonblocking(&stdout.0)?;
            if let Some(e) = &stderr {
                nonblocking(&e.0)?;
            }
            nonblocking(&stdin.1)?;
            Ok(SpawnPipes {
                stdin,
                stdout,
                stderr,
            })
        })();
        let pipes = made.map_err(|e| OpenFailure {
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
        let logs = open(&spec.stdout, Stream::Stdout).and_then(|out| {
            let err = if spec.redirect_stderr {
                None
            } else {
                Some(open(&spec.stderr, Stream::Stderr)?)
            };
            Ok((out, err))
        });
        let (stdout, stderr) = logs.map_err(|e| OpenFailure {
            text: dispatchers_error(&spec.name, &e),
            out_of_fds: crate::sys::errno::is_fd_exhaustion(&e),
        })?;
        let stdin = pipes.stdin.1.try_clone().ok();
        self.logs.insert(
            id,
            Box::new(ProcLogs {
                gen,
                name: spec.name.clone(),
                failing: [false; 2],
                stdout,
                stderr,
                stdin,
            }),
        );
        Ok(pipes)
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

    /// Our end of a process's stdin, while it has one.
    pub fn stdin(&self, id: ProcId) -> Option<&OwnedFd> {
        self.logs.get(&id)?.stdin.as_ref()
    }

    fn logs_mut(&mut self, id: ProcId) -> Option<&mut ProcLogs> {
        self.logs.get_mut(&id).map(|l| &mut **l)
    }

    /// Delete and recreate a running process's current log files.
    pub fn clear(&mut self, id: ProcId) -> io::Result<()> {
        if let Some(logs) = self.logs_mut(id) {
            logs.stdout.clear()?;
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
            match rustix::io::read(&w.fd, &mut self.buf[..]) {
                Ok(0) => return true,
                Ok(n) => {
                    if let Some(logs) = self.logs.get_mut(&w.id) {
                        if logs.gen == w.gen {
                            let log = match w.stream {
                                Stream::Stdout => Some(&mut logs.stdout),
                                Stream::Stderr => logs.stderr.as_mut(),
                            };
                            if let Some(log) = log {
                                // A file error is retried on the next write
                                // (Supervisor, too, loses what it could not
                                // write); it is reported once until a write
                                // succeeds again.
                                let error = log.write(&self.buf[..n]).error;
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
                Err(rustix::io::Errno::AGAIN) => return false,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return true,
            }
        }
    }
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
            while let Ok(n) = rustix::io::read(&fd, &mut buf) {
                if n == 0 {
                    break;
                }
                if let Some(logs) = self.logs_mut(id).filter(|l| l.gen == gen) {
                    let log = match stream {
                        Stream::Stdout => Some(&mut logs.stdout),
                        Stream::Stderr => logs.stderr.as_mut(),
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
        if let Some(logs) = self.logs_mut(id).filter(|l| l.gen == gen) {
            logs.stdin = None;
        }
        let tokens: Vec<Token> = self
            .watches
            .iter()
            .filter(|(_, w)| w.id == id && w.gen == gen)
            .map(|(t, _)| *t)
            .collect();
        for t in tokens {
            self.read_ready(t, mainlog);
            self.close(t, r);
        }
    }

    /// SIGUSR2: reopen every child log at its path.
    pub fn reopen_all(&mut self) {
        for logs in self.logs.values_mut() {
            let _ = logs.stdout.reopen();
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
}
