//! Supervisor's event types: their names and their inheritance.
//!
//! A pool subscribes by name (`events=PROCESS_STATE,TICK_60`) and receives
//! every event whose type is that one or descends from it, as Python's
//! `isinstance` decides in Supervisor: `EVENT` matches everything,
//! `PROCESS_STATE` every `PROCESS_STATE_*`, `TICK` every `TICK_*`. Only the
//! concrete types are ever raised; the abstract ones exist to be
//! subscribed to.

use crate::api::{ProcessState, Stream};

/// Every event type of Supervisor 4.3, abstract ones included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Event,
    ProcessState,
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunication,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLog,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChange,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroup,
    ProcessGroupAdded,
    ProcessGroupRemoved,
}

use EventKind as K;

/// (type, name, parent) for every type; the parent of `EVENT` is itself.
const TABLE: [(EventKind, &str, EventKind); 27] = [
    (K::Event, "EVENT", K::Event),
    (K::ProcessState, "PROCESS_STATE", K::Event),
    (
        K::ProcessStateStopped,
        "PROCESS_STATE_STOPPED",
        K::ProcessState,
    ),
    (
        K::ProcessStateExited,
        "PROCESS_STATE_EXITED",
        K::ProcessState,
    ),
    (
        K::ProcessStateStarting,
        "PROCESS_STATE_STARTING",
        K::ProcessState,
    ),
    (
        K::ProcessStateStopping,
        "PROCESS_STATE_STOPPING",
        K::ProcessState,
    ),
    (
        K::ProcessStateBackoff,
        "PROCESS_STATE_BACKOFF",
        K::ProcessState,
    ),
    (K::ProcessStateFatal, "PROCESS_STATE_FATAL", K::ProcessState),
    (
        K::ProcessStateRunning,
        "PROCESS_STATE_RUNNING",
        K::ProcessState,
    ),
    (
        K::ProcessStateUnknown,
        "PROCESS_STATE_UNKNOWN",
        K::ProcessState,
    ),
    (K::ProcessCommunication, "PROCESS_COMMUNICATION", K::Event),
    (
        K::ProcessCommunicationStdout,
        "PROCESS_COMMUNICATION_STDOUT",
        K::ProcessCommunication,
    ),
    (
        K::ProcessCommunicationStderr,
        "PROCESS_COMMUNICATION_STDERR",
        K::ProcessCommunication,
    ),
    (K::ProcessLog, "PROCESS_LOG", K::Event),
    (K::ProcessLogStdout, "PROCESS_LOG_STDOUT", K::ProcessLog),
    (K::ProcessLogStderr, "PROCESS_LOG_STDERR", K::ProcessLog),
    (K::RemoteCommunication, "REMOTE_COMMUNICATION", K::Event),
    (
        K::SupervisorStateChange,
        "SUPERVISOR_STATE_CHANGE",
        K::Event,
    ),
    (
        K::SupervisorStateChangeRunning,
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        K::SupervisorStateChange,
    ),
    (
        K::SupervisorStateChangeStopping,
        "SUPERVISOR_STATE_CHANGE_STOPPING",
        K::SupervisorStateChange,
    ),
    (K::Tick, "TICK", K::Event),
    (K::Tick5, "TICK_5", K::Tick),
    (K::Tick60, "TICK_60", K::Tick),
    (K::Tick3600, "TICK_3600", K::Tick),
    (K::ProcessGroup, "PROCESS_GROUP", K::Event),
    (K::ProcessGroupAdded, "PROCESS_GROUP_ADDED", K::ProcessGroup),
    (
        K::ProcessGroupRemoved,
        "PROCESS_GROUP_REMOVED",
        K::ProcessGroup,
    ),
];

impl EventKind {
    fn row(self) -> &'static (EventKind, &'static str, EventKind) {
        TABLE
            .iter()
            .find(|r| r.0 == self)
            .expect("every kind is in the table")
    }

    /// Supervisor's name, as in `events=` and the `eventname:` header.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The type named `name` (upper case, as the config stores it).
    pub fn from_name(name: &str) -> Option<EventKind> {
        TABLE.iter().find(|r| r.1 == name).map(|r| r.0)
    }

    /// The type it derives from (`EVENT` for itself).
    pub fn parent(self) -> EventKind {
        self.row().2
    }

    /// Python's `isinstance(event_of_this_type, other)`.
    pub fn is_a(self, other: EventKind) -> bool {
        let mut k = self;
        loop {
            if k == other {
                return true;
            }
            if k == K::Event {
                return false;
            }
            k = k.parent();
        }
    }

    /// The event raised when a process enters `state`.
    pub fn of_state(state: ProcessState) -> EventKind {
        match state {
            ProcessState::Stopped => K::ProcessStateStopped,
            ProcessState::Starting => K::ProcessStateStarting,
            ProcessState::Running => K::ProcessStateRunning,
            ProcessState::Backoff => K::ProcessStateBackoff,
            ProcessState::Stopping => K::ProcessStateStopping,
            ProcessState::Exited => K::ProcessStateExited,
            ProcessState::Fatal => K::ProcessStateFatal,
            ProcessState::Unknown => K::ProcessStateUnknown,
        }
    }

    /// `PROCESS_LOG_STDOUT/STDERR`.
    pub fn log_of(stream: Stream) -> EventKind {
        match stream {
            Stream::Stdout => K::ProcessLogStdout,
            Stream::Stderr => K::ProcessLogStderr,
        }
    }

    /// `PROCESS_COMMUNICATION_STDOUT/STDERR`.
    pub fn communication_of(stream: Stream) -> EventKind {
        match stream {
            Stream::Stdout => K::ProcessCommunicationStdout,
            Stream::Stderr => K::ProcessCommunicationStderr,
        }
    }

    /// Every type, abstract ones included, in Supervisor's order.
    pub fn all() -> impl Iterator<Item = EventKind> {
        TABLE.iter().map(|r| r.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in EventKind::all() {
            assert_eq!(EventKind::from_name(k.name()), Some(k));
        }
        assert_eq!(EventKind::from_name("TICK_10"), None);
        assert_eq!(EventKind::from_name("tick_5"), None);
    }

    #[test]
    fn inheritance_is_supervisors() {
        assert!(K::ProcessStateExited.is_a(K::ProcessState));
        assert!(K::ProcessStateExited.is_a(K::Event));
        assert!(K::ProcessStateExited.is_a(K::ProcessStateExited));
        assert!(!K::ProcessStateExited.is_a(K::ProcessStateRunning));
        assert!(!K::ProcessState.is_a(K::ProcessStateExited));
        assert!(K::Tick60.is_a(K::Tick));
        assert!(!K::Tick60.is_a(K::ProcessState));
        assert!(K::ProcessLogStderr.is_a(K::ProcessLog));
        assert!(!K::ProcessLogStderr.is_a(K::ProcessCommunication));
        assert!(K::RemoteCommunication.is_a(K::Event));
        assert!(K::ProcessGroupRemoved.is_a(K::ProcessGroup));
        assert!(K::SupervisorStateChangeStopping.is_a(K::SupervisorStateChange));
        // Every type reaches EVENT.
        assert!(EventKind::all().all(|k| k.is_a(K::Event)));
    }

    #[test]
    fn state_events() {
        for s in ProcessState::ALL {
            let k = EventKind::of_state(s);
            assert_eq!(k.name(), format!("PROCESS_STATE_{}", s.name()));
        }
    }
}
