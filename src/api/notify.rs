//! A message of systemd's notify protocol (`sd_notify(3)`), typed. The
//! notify face parses datagrams into it; the reactor decides who sent it
//! and the core acts on it.

/// What a `WATCHDOG=` field asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchdogMsg {
    /// `WATCHDOG=1`: the keep-alive ping.
    Ping,
    /// `WATCHDOG=trigger`: act as if a ping was missed.
    Trigger,
}

/// One notify datagram's fields. A field sent twice keeps its last value,
/// as in systemd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notification {
    /// `READY=1`.
    pub ready: bool,
    /// `RELOADING=1`.
    pub reloading: bool,
    /// `STOPPING=1`.
    pub stopping: bool,
    /// `STATUS=` text (one line; may be empty, which clears it).
    pub status: Option<String>,
    pub watchdog: Option<WatchdogMsg>,
    /// `WATCHDOG_USEC=`: a new watchdog interval for this run (0 = off).
    pub watchdog_usec: Option<u64>,
    /// `EXTEND_TIMEOUT_USEC=`: the start timeout is at least now + this.
    pub extend_timeout_usec: Option<u64>,
    /// `MAINPID=`: the supervised process is now this pid.
    pub main_pid: Option<u32>,
    /// `ERRNO=`.
    pub errno: Option<i32>,
    /// Names of the fields that were ignored: understood but not acted on
    /// (`FDSTORE=1`, `BARRIER=1`, ...), unknown, or with a bad value.
    pub ignored: Vec<String>,
}

impl Notification {
    /// Whether the message asks anything of the core (besides `MAINPID=`,
    /// which the reactor handles).
    pub fn acts(&self) -> bool {
        self.ready
            || self.status.is_some()
            || self.watchdog.is_some()
            || self.watchdog_usec.is_some()
            || self.extend_timeout_usec.is_some()
    }
}
