//! The reactor: the only place that blocks. One `mio::Poll` waits on the
//! signalfd, one pidfd per child, the children's output pipes, the control
//! sockets and a waker; its timeout is the core's next deadline, and with
//! nothing due it is infinite, so an idle daemon never wakes up.
//!
//! The reactor executes what the core decides (spawn, signal, reply, log) and
//! feeds back what happened (spawned, exited, failed). It holds no supervisor
//! state of its own beyond the file descriptors.

mod children;
mod output;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::config::{Config, LogLevel};
use crate::control::server::{ControlServer, Outcome};
use crate::core::{Core, Effect, Now, ProcId};
use crate::logs::mainlog::MainLog;
use crate::sys::signals::SignalReader;

pub use children::ChildTable;
use output::Pipes;

/// Fixed tokens; everything from `FIRST_DYNAMIC` up is allocated.
const SIGNAL: Token = Token(0);
const WAKER: Token = Token(1);
const FIRST_DYNAMIC: usize = 16;

/// What a dynamic token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Pidfd(ProcId),
    Pipe,
    Control,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Shutdown finished: exit 0.
    Exit,
    /// Reload requested and every process stopped: re-read and run again.
    Reload,
}

/// Everything the loop needs from the daemon's set-up.
pub struct Parts {
    pub config: Config,
    pub mainlog: MainLog,
    pub control: ControlServer,
    pub signals: SignalReader,
}

pub struct Reactor {
    poll: Poll,
    core: Core,
    config: Config,
    mainlog: MainLog,
    control: ControlServer,
    signals: SignalReader,
    children: ChildTable,
    pipes: Pipes,
    sources: HashMap<Token, Source>,
    next_token: usize,
    waker: std::sync::Arc<mio::Waker>,
}

/// Local time as Supervisor prints a stop date (`%b %d %I:%M %p`).
pub fn local_stop_time(epoch: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(epoch, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%b %d %I:%M %p").to_string()
        }
        chrono::LocalResult::None => String::new(),
    }
}

pub fn now() -> Now {
    Now {
        mono: crate::clock::mono(),
        wall: crate::clock::wall(),
    }
}

impl Reactor {
    pub fn new(parts: Parts) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let waker = std::sync::Arc::new(mio::Waker::new(poll.registry(), WAKER)?);
        poll.registry().register(
            &mut SourceFd(&parts.signals.as_raw_fd()),
            SIGNAL,
            Interest::READABLE,
        )?;
        let core = Core::new(parts.config.clone(), now(), local_stop_time);
        let mut r = Reactor {
            poll,
            core,
            config: parts.config,
            mainlog: parts.mainlog,
            control: parts.control,
            signals: parts.signals,
            children: ChildTable::default(),
            pipes: Pipes::default(),
            sources: HashMap::new(),
            next_token: FIRST_DYNAMIC,
            waker,
        };
        for fd in r.control.listener_fds() {
            let t = r.token(Source::Control);
            r.poll
                .registry()
                .register(&mut SourceFd(&fd), t, Interest::READABLE)?;
            r.control.bind_token(fd, t);
        }
        Ok(r)
    }

    /// A handle other threads use to wake the loop after queueing work.
    pub fn waker(&self) -> std::sync::Arc<mio::Waker> {
        self.waker.clone()
    }

    fn token(&mut self, src: Source) -> Token {
        let t = Token(self.next_token);
        self.next_token += 1;
        self.sources.insert(t, src);
        t
    }

    fn log(&mut self, level: LogLevel, msg: &str) {
        self.mainlog.log(level, msg);
    }

    /// Run until shutdown or reload.
    pub fn run(mut self) -> io::Result<(Ending, ReactorLeftovers)> {
        let mut events = Events::with_capacity(1024);
        self.after_events();
        loop {
            let timeout = self
                .core
                .next_deadline()
                .map(|d| d.saturating_duration_since(crate::clock::mono()))
                // Round up so we never wake a hair early and spin.
                .map(|d| d + Duration::from_micros(500));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in events.iter() {
                let token = ev.token();
                match token {
                    SIGNAL => self.on_signals(),
                    WAKER => {}
                    t => match self.sources.get(&t).copied() {
                        Some(Source::Pidfd(id)) => self.on_pidfd(id),
                        Some(Source::Pipe) => self.on_pipe(t),
                        Some(Source::Control) => self.on_control(t),
                        // Spurious or already-closed source.
                        None => {}
                    },
                }
            }
            if let Some(ending) = self.after_events() {
                let leftovers = ReactorLeftovers {
                    mainlog: self.mainlog,
                    control: self.control,
                    signals: self.signals,
                };
                return Ok((ending, leftovers));
            }
        }
    }

    /// Fire due deadlines and execute every effect; returns the ending, if any.
    fn after_events(&mut self) -> Option<Ending> {
        self.core.handle_timeout(now());
        let mut ending = None;
        while let Some(effect) = self.core.poll_effect() {
            match effect {
                Effect::Spawn { id, gen } => self.spawn(id, gen),
                Effect::Signal {
                    id,
                    gen,
                    pid,
                    sig,
                    group,
                } => self.signal(id, gen, pid, sig, group),
                Effect::Reply { token, reply } => self.control.reply(token, reply),
                Effect::Log { level, message } => self.log(level, &message),
                Effect::GroupAdded { name } => self.group_added(&name),
                Effect::GroupRemoved { name } => self.group_removed(&name),
                Effect::Exit => ending = Some(Ending::Exit),
                Effect::Reload => ending = Some(Ending::Reload),
                _ => {}
            }
            // Effects can cause more effects (a failed spawn goes to BACKOFF).
            self.core.handle_timeout(now());
        }
        self.control.flush(&mut self.core, now());
        ending
    }

    fn on_signals(&mut self) {
        while let Some(sig) = self.signals.read() {
            if sig == libc::SIGCHLD {
                self.reap_strays();
                continue;
            }
            if sig == libc::SIGUSR2 {
                self.reopen_logs();
            }
            self.core.daemon_signal(sig, now());
        }
    }

    fn on_control(&mut self, token: Token) {
        let mut accepted = Vec::new();
        let outcome = self.control.ready(token, &mut self.core, now(), &mut accepted);
        for fd in accepted {
            let t = self.token(Source::Control);
            if self
                .poll
                .registry()
                .register(&mut SourceFd(&fd), t, Interest::READABLE | Interest::WRITABLE)
                .is_ok()
            {
                self.control.bind_token(fd, t);
            }
        }
        if let Outcome::Closed(fd) = outcome {
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
            self.sources.remove(&token);
        }
    }
}

/// What survives a reload: the main log, the sockets and the signalfd.
pub struct ReactorLeftovers {
    pub mainlog: MainLog,
    pub control: ControlServer,
    pub signals: SignalReader,
}
