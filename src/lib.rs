//! pidvisor: a Linux service manager that is a drop-in successor to
//! Supervisor (supervisord + supervisorctl).
//!
//! One library, two thin binaries (`src/bin/`): `pidvisord` runs
//! [`daemon::main`], `pidvisorctl` runs [`ctl::run`]. Read it top-down:
//!
//! * [`config`] turns supervisord-format INI into typed specs, reporting
//!   every mistake with file and line; [`py`] holds the Python behaviour
//!   whose output users see (configparser, glob, %-formatting, repr, ...).
//! * [`core`] is the supervisor itself: a pure state machine (time in,
//!   effects out) that decides everything Supervisor decides. It does no
//!   I/O and reads no clock.
//! * [`api`] is the typed vocabulary every front end speaks: requests,
//!   responses, faults, states. No wire format.
//! * [`reactor`] is the only place that blocks: one `mio` loop over the
//!   signalfd, pidfds, pipes, sockets and timers. It carries out the
//!   core's effects with [`spawn`] (fork/exec with a pidfd), [`logs`]
//!   (capture, rotation, the main log) and [`cgroup`] (one cgroup v2 leaf
//!   per process), and is the one dispatcher between the core and the
//!   faces.
//! * The faces translate a wire format into [`api`] requests and render the
//!   replies; none holds process state and none imports another: [`control`]
//!   (Supervisor's XML-RPC on `/RPC2`, served by the [`http`] server) and
//!   [`dbus`] (`org.pidvisor.Supervisor1`).
//! * [`ctl`] is supervisorctl, line for line; it speaks XML-RPC through the
//!   [`control`] and [`http`] codecs, so it drives a real supervisord too.
//! * [`sys`] is the only module allowed `unsafe` and the only one that makes
//!   system calls; [`clock`] is the only one that reads the clocks; [`cli`]
//!   holds the daemon's command line.
#![deny(unsafe_code)]

pub mod api;
pub mod cgroup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod control;
pub mod core;
pub mod ctl;
pub mod daemon;
pub mod dbus;
pub mod events;
pub mod http;
pub mod logs;
pub mod notify;
pub mod py;
pub mod reactor;
pub mod spawn;
pub mod sys;
pub mod web;
