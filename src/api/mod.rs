//! The typed vocabulary every face speaks.
//!
//! pidvisor has several front ends on one supervisor: Supervisor's XML-RPC
//! over HTTP (`control`), D-Bus (`dbus`), and, built on the same words, the
//! web page, the event listeners and the notify socket. Each face turns
//! its wire format into a [`Request`], the reactor has it answered (by the
//! core, or by itself for logs, files and pids), and the face renders the
//! [`Reply`]: a [`Response`] or a [`Fault`] with a [`FaultCode`]. So every
//! face shows the same truth, and none speaks another's format: a D-Bus
//! `StopGroup` is a `Request::StopProcessGroup`, never an XML-RPC value.
//!
//! This module owns no state and calls nothing: it is data. Everything may
//! import it; it imports nothing of the crate.

mod fault;
mod request;
mod response;
mod state;

pub use fault::{Fault, FaultCode};
pub use request::{Request, StdinData, Stream};
pub use response::{
    ConfigInfo, ConfigLogInfo, ConfigValue, Diff, LogTail, PidInfo, ProcResult, ProcessInfo,
    ProcessSnapshot, Reply, Response,
};
pub use state::{ProcessState, SupervisorState};

/// Supervisor's RPC API version.
pub const API_VERSION: &str = "3.0";
/// The Supervisor version pidvisor is compatible with (what `version` prints).
pub const SUPERVISOR_VERSION: &str = "4.3.0";
