//! The notify face: systemd's readiness protocol (`sd_notify(3)`), both
//! ways (issue 17).
//!
//! # Programs -> pidvisord
//!
//! A program with `ready=notify`, a watchdog or `notify_access` gets
//! `NOTIFY_SOCKET` in its environment and sends newline-separated
//! `KEY=VALUE` datagrams to it: `READY=1`, `STATUS=...`, `WATCHDOG=1`,
//! `MAINPID=...`, `EXTEND_TIMEOUT_USEC=...`. Thousands of daemons already
//! speak this (anything linked to libsystemd, Python's `sdnotify`, the
//! `systemd-notify` tool), so pidvisor learns when they are really up
//! instead of guessing from `startsecs`.
//!
//! There is one socket for all programs ([`NotifySocket`]), in the abstract
//! namespace. It trusts nothing a message says about its origin: the kernel
//! attaches the sender's credentials (`SO_PASSCRED`) and, on Linux 6.5+, a
//! pidfd of it (`SO_PASSPIDFD`), and the reactor maps that pid to a program
//! (its main pid, its cgroup leaf, or its ancestry) and applies the
//! program's `notify_access`. A message that maps to nothing is dropped
//! and counted at debug level. The socket costs nothing while nobody
//! sends: the reactor wakes up only when a datagram is queued.
//!
//! # pidvisord -> systemd
//!
//! [`Systemd`] is the daemon's own `sd_notify`: `READY=1` when the
//! configuration is loaded and the autostart programs are launched,
//! `RELOADING=1` and `STOPPING=1`, a one-line `STATUS=`, and watchdog pings
//! from the reactor's loop.
//!
//! # Boundaries
//!
//! This module owns the notify socket and the datagram format; it holds no
//! process state. It may call `crate::api` (the [`Notification`] it
//! produces), `crate::sys` (credentials, pidfds) and `std`; never the core
//! or another face. The reactor calls it: it registers the socket's fd,
//! drains [`NotifySocket::recv`] when readable, attributes senders, and
//! drives [`Systemd`].
//!
//! [`Notification`]: crate::api::Notification

mod message;
mod socket;
mod systemd;

pub use message::{parse, STATUS_MAX};
pub use socket::{NotifySocket, Received, Sender};
pub use systemd::{summary, Systemd, DAEMON_VARIABLES};
