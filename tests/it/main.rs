//! Integration tests: the real `pidvisord` (and `pidvisorctl`) on temp configs.

// The fixture: start a daemon, wait with deadlines, clean up on Drop.
mod fixture;
// Shared with the comparison binaries: the venv, and the rule that a test
// that cannot run here fails unless skips are allowed.
#[path = "../common/mod.rs"]
mod common;
use common::skip;
// The daemon runs programs: states, restarts, privilege drop, logs, signals.
mod runtime;
// The main log: rotation, /dev/stdout on a pipe.
mod logging;
// The control socket driven by pidvisorctl: status, start/stop, reread/update.
mod control;
// Divergences from Supervisor declared in pidvisord(8), asserted exactly.
mod compat;
// pidvisorctl, command by command (texts of the real supervisorctl), and its shell on a pty.
mod ctl;
// pidvisord's own command line: --check-config, --example-config, usage errors.
mod cli;
// The configuration end to end: bounded expansion and numprocs, defaults from the tables.
mod config;
// pidvisord's command line overrides the config, option by option.
mod overrides;
// contrib/completions (bash, zsh, fish) against a running daemon.
mod completion;
// The per-user mode (--session) as users created by the test; supervisord's --user.
mod session;
// The Debian package: cargo deb, dpkg -i on this machine, every file, purge.
mod package;
// cgroup v2 leaves (issue 6): whole-tree stop, crash reclaim, limits.
pub mod cgroups;
// The D-Bus service on a private bus, driven by busctl, dbus-send, dbus-monitor.
mod dbus;
// Issue 21: hostile input and exhausted resources never cost a program.
mod reliability;
// Issue 18: dependencies, the start limit, exit_on_fatal, capabilities,
// environment files and log timestamps.
mod issue18;
// (The control server under floods, and the exit storm, load the machine:
// they run one at a time in their own binary, tests/heavy.)
// Event listeners (childutils, superlance) and fcgi-program sockets (issue 15).
mod events;
// Issue 17: readiness, watchdog, forking daemons and pidvisord under systemd.
mod notify;
// A real browser (headless chromium over WebDriver) for the web page's tests.
mod browser;
// The web page and /metrics (issue 16): live table, actions, tail, escaping, CSRF, auth.
mod web;
// Issue 20: descriptors per program; stdin without a kept pipe end.
mod fds;
