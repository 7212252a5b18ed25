//! Log capture and the main log.
//!
//! * [`rotate`]: a size-rotated append-only file (spec §4.3), the storage
//!   under both child logs and the main log.
//! * [`child`]: [`ChildLog`], one per process stream: file / AUTO / NONE
//!   target, `strip_ansi`, capture mode, syslog, and an in-memory tail ring.
//! * [`auto`]: AUTO log names (`NAME-stdout---IDENT-XXXXXXXX.log`) and their
//!   cleanup at start-up (§1.4 step 6).
//! * [`read`]: the RPC read helpers (`readLog`, `tailProcessStdoutLog`) and
//!   the [`Follower`] behind `/logtail`.
//! * [`mainlog`]: [`MainLogger`], Supervisor's main log line format, level
//!   filter, rotation, syslog and the stdout copy.
//!
//! Nothing here blocks on anything but a local file write, reads the clock
//! outside `crate::clock`, or starts a thread: the reactor drives it all.

pub mod ansi;
pub mod auto;
pub mod capture;
pub mod child;
pub mod mainlog;
pub mod read;
pub mod ring;
pub mod rotate;
pub mod syslog;

pub use auto::{allocate_auto_name, cleanup_auto_logs, CleanupReport};
pub use child::{ChildLog, ChildLogOptions, Target, Written};
pub use mainlog::MainLogger;
pub use read::{read_window, tail_window, Follower, ReadError};
pub use ring::TailRing;
pub use rotate::{CreateMode, RotatingFile, Rotation};
