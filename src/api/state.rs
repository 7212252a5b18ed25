//! The states every face shows: a process's state and the daemon's.
//! Names and codes are Supervisor's (spec §3.1, §6.4); faces render them,
//! never compare strings.

/// A process state with Supervisor's name and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessState {
    Stopped = 0,
    Starting = 10,
    Running = 20,
    Backoff = 30,
    Stopping = 40,
    Exited = 100,
    Fatal = 200,
    Unknown = 1000,
}

use ProcessState::*;

impl ProcessState {
    pub const ALL: [ProcessState; 8] = [
        Stopped, Starting, Running, Backoff, Stopping, Exited, Fatal, Unknown,
    ];

    /// Supervisor's numeric code (`state` in ProcessInfo).
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Supervisor's name (`statename`).
    pub fn name(self) -> &'static str {
        match self {
            Stopped => "STOPPED",
            Starting => "STARTING",
            Running => "RUNNING",
            Backoff => "BACKOFF",
            Stopping => "STOPPING",
            Exited => "EXITED",
            Fatal => "FATAL",
            Unknown => "UNKNOWN",
        }
    }

    /// The state with this code, if any.
    pub fn from_code(code: i64) -> Option<ProcessState> {
        ProcessState::ALL
            .into_iter()
            .find(|s| i64::from(s.code()) == code)
    }

    /// The state with this name, if any.
    pub fn from_name(name: &str) -> Option<ProcessState> {
        ProcessState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// `STOPPED_STATES`: nothing runs (or we gave up knowing).
    pub fn is_stopped(self) -> bool {
        matches!(self, Stopped | Exited | Fatal | Unknown)
    }

    /// `RUNNING_STATES`: started and not being stopped (BACKOFF counts).
    pub fn is_running(self) -> bool {
        matches!(self, Starting | Running | Backoff)
    }

    /// `SIGNALLABLE_STATES`: there is a child to signal.
    pub fn is_signallable(self) -> bool {
        matches!(self, Starting | Running | Stopping)
    }

    /// systemd's vocabulary for this state (`ActiveState`).
    pub fn active_state(self) -> &'static str {
        match self {
            Running => "active",
            Starting | Backoff => "activating",
            Stopping => "deactivating",
            Stopped | Exited => "inactive",
            // FATAL, and UNKNOWN (an internal error in Supervisor).
            Fatal | Unknown => "failed",
        }
    }
}

/// The daemon's state (`getState`): codes are Supervisor's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SupervisorState {
    Shutdown = -1,
    Restarting = 0,
    Running = 1,
    /// Supervisor defines it; neither daemon ever enters it.
    Fatal = 2,
}

impl SupervisorState {
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn name(self) -> &'static str {
        match self {
            SupervisorState::Fatal => "FATAL",
            SupervisorState::Running => "RUNNING",
            SupervisorState::Restarting => "RESTARTING",
            SupervisorState::Shutdown => "SHUTDOWN",
        }
    }

    /// The state with this code, if any.
    pub fn from_code(code: i64) -> Option<SupervisorState> {
        use SupervisorState::*;
        [Fatal, Running, Restarting, Shutdown]
            .into_iter()
            .find(|s| i64::from(s.code()) == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for s in ProcessState::ALL {
            assert_eq!(ProcessState::from_code(s.code().into()), Some(s));
            assert_eq!(ProcessState::from_name(s.name()), Some(s));
        }
        assert_eq!(ProcessState::from_code(5), None);
        assert_eq!(
            SupervisorState::from_code(-1),
            Some(SupervisorState::Shutdown)
        );
    }

    #[test]
    fn active_states_like_systemd() {
        for (s, a) in [
            (Stopped, "inactive"),
            (Exited, "inactive"),
            (Fatal, "failed"),
            (Unknown, "failed"),
            (Starting, "activating"),
            (Backoff, "activating"),
            (Running, "active"),
            (Stopping, "deactivating"),
        ] {
            assert_eq!(s.active_state(), a, "{s:?}");
        }
    }
}
