//! Log capture and the main log.
//!
//! * [`rotate`]: a size-rotated append-only file (spec §4.3), the storage
//!   under both child logs and the main log.
//! * [`child`]: [`ChildLog`], one per process stream: file / AUTO / NONE
//!   target, `strip_ansi`, capture mode, syslog and (pidvisor) a
//!   timestamp per line ([`stamp`]).
//! * [`auto`]: AUTO log names (`NAME-stdout---IDENT-XXXXXXXX.log`) and their
//!   cleanup at start-up (§1.4 step 6).
//! * [`read`]: the RPC read helpers (`readLog`, `tailProcessStdoutLog`) and
//!   the [`Follower`] behind `/logtail`.
//! * [`mainlog`]: [`MainLogger`], Supervisor's main log line format, level
//!   filter, rotation, syslog and the stdout copy.
//!
//! Nothing here blocks on anything but a local file write, reads the clock
//! outside `crate::clock`, or starts a thread: the reactor drives it all.
//!
//! # Divergences from Supervisor 4.3 (for the man page's COMPATIBILITY)
//!
//! * A non-regular log target (`/dev/stdout`, a pipe, a tty) with
//!   `maxbytes` > 0 is simply never rotated; Supervisor fails every write
//!   with "Illegal seek" (#935, #1078, #1224). `/dev/stdout`/`/dev/stderr`
//!   are dup'ed from our fds 1/2 rather than reopened (works on sockets).
//! * `clear` never deletes a non-regular target (Supervisor would unlink
//!   `/dev/null` if told to clear it while running as root).
//! * AUTO logs stay 0600 when re-created by rotation or `clear`.
//! * `strip_ansi` removes sequences split across two reads.
//! * Capture mode never loses a short trailing chunk (Supervisor's
//!   "≤ token length is held back" quirk, §4.4) and keeps the last
//!   `capture_maxbytes` bytes of an over-long capture.
//! * `/logtail` sends what was appended to the old file before switching to
//!   the rotated-in file, and sends the data following a truncation marker
//!   in the same poll.
//! * Main-log syslog records carry a severity mapped from the level.
//! * Rotation decisions use a tracked size (fstat only when the tracked size
//!   reaches `maxbytes`), see [`rotate`]: appends by *another* writer alone
//!   do not trigger our rotation.
//!
//! It owns the open log files; it may call the file system, `py` (repr of
//! bytes in the main log) and `sys`; the reactor (child logs, the main log,
//! `readLog`/`tail`) and the daemon (the main log before the loop starts)
//! call it.

pub mod ansi;
pub mod auto;
pub mod capture;
pub mod child;
pub mod mainlog;
pub mod read;
pub mod rotate;
pub mod stamp;
pub mod syslog;

pub use auto::{allocate_auto_name, cleanup_auto_logs, CleanupReport};
pub use child::{ChildLog, ChildLogOptions, Target, Written};
pub use mainlog::MainLogger;
pub use read::{read_window, tail_window, Follower, ReadError};
pub use rotate::{CreateMode, RotatingFile, Rotation};
