//! One supervised process: its spec, state and counters.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::command::ExitStatus;
use super::state::ProcessState;
use crate::config::{LogFile, ProgramSpec};

/// The named per-process timers. At most one matters in any state, but
/// naming them keeps "what is this deadline for" readable in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// STARTING -> RUNNING at `laststart + startsecs`.
    StartSecs,
    /// BACKOFF -> STARTING at `failure + backoff` seconds.
    Backoff,
    /// STOPPING: send SIGKILL (again) at this instant.
    StopWait,
    /// STOPPING with a stop call waiting: `waiting for x to stop` every 2 s.
    StopReport,
    /// EXITED -> STARTING (autorestart) when it is due later than the
    /// exit: after `restart_delay`, or for a run shorter than
    /// [`RESTART_SPACING`] (without a start limit) at `laststart +
    /// RESTART_SPACING`.
    Restart,
    /// `ready=notify`: STARTING without `READY=1` until here is a failed
    /// start (`ready_timeout_sec`, pushed later by `EXTEND_TIMEOUT_USEC`).
    ReadyTimeout,
    /// RUNNING with `watchdog_sec`: the last `WATCHDOG=1` plus the interval.
    Watchdog,
    /// A process being failed (ready timeout, watchdog) still lives: SIGKILL.
    FailKill,
}

impl Timer {
    /// In declaration order, indexed by `Timer as usize`.
    pub const ALL: [Timer; 8] = [
        Timer::StartSecs,
        Timer::Backoff,
        Timer::StopWait,
        Timer::StopReport,
        Timer::Restart,
        Timer::ReadyTimeout,
        Timer::Watchdog,
        Timer::FailKill,
    ];
}

/// Why the core is killing a process that nobody asked to stop: its exit
/// is then a failure (BACKOFF or EXITED), not a STOPPED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failing {
    /// `ready=notify` and no `READY=1` within `ready_timeout_sec`.
    ReadyTimeout,
    /// RUNNING and no `WATCHDOG=1` within the watchdog interval.
    Watchdog,
}

/// The least time from one spawn of a process to its automatic restart.
/// Supervisor restarts an EXITED process on the next pass of its main loop,
/// which waits up to a second, so a program that exits at once restarts about
/// once a second there; without this bound it would be forked flat out.
pub const RESTART_SPACING: Duration = Duration::from_secs(1);

/// The longest what a stopped process left in its cgroup gets between the
/// stop signal (sent when the main process exits) and `cgroup.kill`, so
/// that leftovers never make a stop wait a whole `stopwaitsecs` again.
pub const LEFTOVER_GRACE: Duration = Duration::from_secs(1);

/// A process as the core sees it. Read-only outside the core.
#[derive(Debug, Clone)]
pub struct Process {
    pub spec: Arc<ProgramSpec>,
    pub state: ProcessState,
    /// 0 when there is no child.
    pub pid: u32,
    /// The pid of the latest spawn, kept after its exit (0 until the spawn
    /// result): the `pid` of the STOPPED/EXITED event that exit causes.
    pub last_pid: u32,
    /// Bumped by every spawn; inputs quoting another generation are stale.
    pub gen: u64,
    /// Failed starts in the current cycle (Supervisor's `backoff`).
    pub backoff: i64,
    /// Wall time of the last spawn (0.0 never) and of the last exit.
    pub laststart: f64,
    pub laststop: f64,
    laststart_mono: Option<Instant>,
    /// Supervisor's `spawnerr`.
    pub spawnerr: Option<String>,
    /// Supervisor's `exitstatus` (None after "exited too quickly").
    pub exitstatus: Option<i32>,
    /// The last exit as the runtime reported it (for D-Bus).
    pub last_exit: Option<ExitStatus>,
    /// A stop was requested and the next exit is its result.
    pub killing: bool,
    /// With a cgroup leaf: the main process exited during a stop and what
    /// it left in its leaf is being stopped; `exited` comes once the leaf
    /// is empty.
    pub main_gone: bool,
    /// Autostart happens once per process object.
    pub autostarted: bool,
    pub spawn_count: u64,
    /// Spawns done by autorestart or backoff retries.
    pub restart_count: u64,
    pub stdout_logfile: String,
    pub stderr_logfile: String,
    /// The last `STATUS=` text of the current run (notify programs).
    pub status_text: String,
    /// Set while the core kills the process as a failure.
    pub failing: Option<Failing>,
    /// The watchdog interval of this run: `watchdog_sec`, or what the
    /// program asked with `WATCHDOG_USEC=` (zero: off).
    pub watchdog: Duration,
    /// Why a start asked for has not happened: held for a dependency
    /// (`waiting for db`) or given up (`not started: dependency db is
    /// FATAL`); shown by `status` while there is no child (issue 18).
    pub blocked: Option<String>,
    /// When the automatic restarts counted against the start limit were
    /// decided (oldest first, at most `start_limit_burst`).
    pub(super) recent_restarts: VecDeque<Instant>,
}

fn logfile_name(f: &LogFile) -> String {
    match f {
        LogFile::Path(p) => p.display().to_string(),
        // AUTO names are made by the runtime and set with `set_log_paths`.
        LogFile::Auto | LogFile::None => String::new(),
    }
}

impl Process {
    pub fn new(spec: Arc<ProgramSpec>) -> Process {
        Process {
            watchdog: spec.notify.watchdog,
            stdout_logfile: logfile_name(&spec.stdout.file),
            stderr_logfile: logfile_name(&spec.stderr.file),
            spec,
            state: ProcessState::Stopped,
            pid: 0,
            last_pid: 0,
            gen: 0,
            backoff: 0,
            laststart: 0.0,
            laststop: 0.0,
            laststart_mono: None,
            spawnerr: None,
            exitstatus: None,
            last_exit: None,
            killing: false,
            main_gone: false,
            autostarted: false,
            spawn_count: 0,
            restart_count: 0,
            status_text: String::new(),
            failing: None,
            blocked: None,
            recent_restarts: VecDeque::new(),
        }
    }

    pub fn namespec(&self) -> String {
        self.spec.namespec()
    }

    pub(super) fn mark_started(&mut self, mono: Instant, wall: f64) {
        self.laststart = wall;
        self.laststart_mono = Some(mono);
    }

    /// Seconds since the spawn on the monotonic clock (immune to wall jumps,
    /// which Supervisor has to special-case).
    pub fn uptime(&self, now: Instant) -> Duration {
        self.laststart_mono
            .map(|s| now.saturating_duration_since(s))
            .unwrap_or_default()
    }

    /// When an automatic restart may happen: at once after a run of at least
    /// [`RESTART_SPACING`], else that long after the last spawn; never
    /// before `restart_delay`. With a start limit, which bounds a crash
    /// loop by itself, the spacing does not apply (see `policy.rs`).
    pub(super) fn restart_at(&self, now: Instant) -> Instant {
        let delay = now + Duration::from_secs(self.spec.restart.delay.max(0) as u64);
        if self.spec.restart.limit_burst > 0 {
            return delay;
        }
        self.laststart_mono
            .map_or(now, |s| (s + RESTART_SPACING).max(now))
            .max(delay)
    }

    /// Whether `ready=notify`: RUNNING only on `READY=1`.
    pub fn waits_for_ready(&self) -> bool {
        self.spec.notify.ready == crate::config::Readiness::Notify
    }

    /// With `ready=notify`, the start timeout (`None`: no limit).
    pub(super) fn ready_deadline(&self) -> Option<Instant> {
        let t = self.spec.notify.ready_timeout;
        self.laststart_mono.filter(|_| !t.is_zero()).map(|s| s + t)
    }

    pub(super) fn startsecs_deadline(&self) -> Option<Instant> {
        self.laststart_mono
            .map(|s| s + Duration::from_secs(self.spec.startsecs.max(0) as u64))
    }
}
