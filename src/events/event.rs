//! One event and its payload, rendered as Supervisor renders it.
//!
//! The payload is made when the event happens (Supervisor renders a state
//! event's `pid` and `tries` eagerly too), so a pid that changes before a
//! listener is ready cannot change what it reads. Output data that is not
//! UTF-8 becomes `Undecodable: b'...'`, Python's repr, as in Supervisor.

use crate::api::{ProcessState, Stream};
use crate::py::py_bytes_repr;

use super::kind::EventKind;

/// An event: its type and its payload text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub payload: String,
}

/// The process an event is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    /// The process name (not the namespec).
    pub name: &'a str,
    pub group: &'a str,
    /// 0 when it has none.
    pub pid: u32,
}

/// The three tick periods, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Five = 5,
    Minute = 60,
    Hour = 3600,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Five, Period::Minute, Period::Hour];

    pub fn secs(self) -> i64 {
        self as i64
    }

    pub fn kind(self) -> EventKind {
        match self {
            Period::Five => EventKind::Tick5,
            Period::Minute => EventKind::Tick60,
            Period::Hour => EventKind::Tick3600,
        }
    }
}

/// Output as Supervisor's `as_string`: UTF-8 text, or its repr.
fn text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(t) => t.to_string(),
        Err(_) => format!("Undecodable: {}", py_bytes_repr(data)),
    }
}

impl Event {
    /// `PROCESS_STATE_<to>`: `processname:X groupname:G from_state:S` and
    /// the extras of the state (`tries` for STARTING and BACKOFF, `pid` for
    /// RUNNING, STOPPING and STOPPED, `expected` and `pid` for EXITED).
    pub fn state(
        to: ProcessState,
        from: ProcessState,
        p: About,
        expected: bool,
        tries: i64,
    ) -> Event {
        let mut payload = format!(
            "processname:{} groupname:{} from_state:{}",
            p.name,
            p.group,
            from.name()
        );
        match to {
            ProcessState::Starting | ProcessState::Backoff => {
                payload.push_str(&format!(" tries:{tries}"));
            }
            ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
                payload.push_str(&format!(" pid:{}", p.pid));
            }
            ProcessState::Exited => {
                payload.push_str(&format!(" expected:{} pid:{}", u8::from(expected), p.pid));
            }
            ProcessState::Fatal | ProcessState::Unknown => {}
        }
        Event {
            kind: EventKind::of_state(to),
            payload,
        }
    }

    /// `PROCESS_LOG_STDOUT/STDERR` (`stdout_events_enabled`): one chunk of
    /// logged output.
    pub fn log(stream: Stream, p: About, data: &[u8]) -> Event {
        Event {
            kind: EventKind::log_of(stream),
            payload: format!(
                "processname:{} groupname:{} pid:{} channel:{}\n{}",
                p.name,
                p.group,
                p.pid,
                stream.name(),
                text(data)
            ),
        }
    }

    /// `PROCESS_COMMUNICATION_STDOUT/STDERR`: what a process wrote between
    /// `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->`.
    pub fn communication(stream: Stream, p: About, data: &[u8]) -> Event {
        Event {
            kind: EventKind::communication_of(stream),
            payload: format!(
                "processname:{} groupname:{} pid:{}\n{}",
                p.name,
                p.group,
                p.pid,
                text(data)
            ),
        }
    }

    /// `REMOTE_COMMUNICATION` (`sendRemoteCommEvent(type, data)`).
    pub fn remote(kind: &str, data: &str) -> Event {
        Event {
            kind: EventKind::RemoteCommunication,
            payload: format!("type:{kind}\n{data}"),
        }
    }

    pub fn group_added(name: &str) -> Event {
        Event {
            kind: EventKind::ProcessGroupAdded,
            payload: format!("groupname:{name}\n"),
        }
    }

    pub fn group_removed(name: &str) -> Event {
        Event {
            kind: EventKind::ProcessGroupRemoved,
            payload: format!("groupname:{name}\n"),
        }
    }

    /// `SUPERVISOR_STATE_CHANGE_RUNNING` (empty payload).
    pub fn supervisor_running() -> Event {
        Event {
            kind: EventKind::SupervisorStateChangeRunning,
            payload: String::new(),
        }
    }

    /// `SUPERVISOR_STATE_CHANGE_STOPPING` (empty payload).
    pub fn supervisor_stopping() -> Event {
        Event {
            kind: EventKind::SupervisorStateChangeStopping,
            payload: String::new(),
        }
    }

    /// `TICK_<period>`: `when:` the start of the period just begun (epoch
    /// seconds, a multiple of the period).
    pub fn tick(period: Period, when: i64) -> Event {
        Event {
            kind: period.kind(),
            payload: format!("when:{when}"),
        }
    }

    /// The `len:` header: the payload's length in characters, as Python's
    /// `len(str)` counts it (a listener reading text reads characters).
    pub fn len(&self) -> usize {
        self.payload.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcessState::*;

    const P: About = About {
        name: "web",
        group: "site",
        pid: 4242,
    };

    #[test]
    fn state_payloads_are_supervisors() {
        let cases = [
            (Starting, Stopped, "from_state:STOPPED tries:0"),
            (Backoff, Starting, "from_state:STARTING tries:2"),
            (Running, Starting, "from_state:STARTING pid:4242"),
            (Stopping, Running, "from_state:RUNNING pid:4242"),
            (Stopped, Stopping, "from_state:STOPPING pid:4242"),
            (Exited, Running, "from_state:RUNNING expected:0 pid:4242"),
            (Fatal, Backoff, "from_state:BACKOFF"),
            (Unknown, Running, "from_state:RUNNING"),
        ];
        for (to, from, tail) in cases {
            let tries = if to == Backoff { 2 } else { 0 };
            let e = Event::state(to, from, P, false, tries);
            assert_eq!(e.kind, EventKind::of_state(to));
            assert_eq!(e.payload, format!("processname:web groupname:site {tail}"));
        }
        let e = Event::state(Exited, Running, P, true, 0);
        assert!(e.payload.ends_with("expected:1 pid:4242"));
    }

    #[test]
    fn output_payloads() {
        let e = Event::log(Stream::Stderr, P, b"oops\n");
        assert_eq!(e.kind, EventKind::ProcessLogStderr);
        assert_eq!(
            e.payload,
            "processname:web groupname:site pid:4242 channel:stderr\noops\n"
        );
        let e = Event::communication(Stream::Stdout, P, b"\xff");
        assert_eq!(e.kind, EventKind::ProcessCommunicationStdout);
        assert_eq!(
            e.payload,
            "processname:web groupname:site pid:4242\nUndecodable: b'\\xff'"
        );
    }

    #[test]
    fn other_payloads() {
        assert_eq!(Event::remote("t", "body").payload, "type:t\nbody");
        assert_eq!(Event::group_added("g").payload, "groupname:g\n");
        assert_eq!(
            Event::group_removed("g").kind,
            EventKind::ProcessGroupRemoved
        );
        assert_eq!(Event::supervisor_running().payload, "");
        assert_eq!(Event::tick(Period::Minute, 120).payload, "when:120");
        assert_eq!(Event::tick(Period::Hour, 0).kind, EventKind::Tick3600);
    }

    #[test]
    fn len_counts_characters() {
        let e = Event::remote("t", "é");
        assert_eq!(e.payload.len(), 9);
        assert_eq!(e.len(), 8);
    }
}
