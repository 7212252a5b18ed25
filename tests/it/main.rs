//! Integration tests: the real `pidvisord` (and `pidvisorctl`) on temp configs.

// The fixture: start a daemon, wait with deadlines, clean up on Drop.
mod fixture;
// The daemon runs programs: states, restarts, privilege drop, logs, signals.
mod runtime;
// The control socket driven by pidvisorctl: status, start/stop, reread/update.
mod control;
// pidvisorctl, command by command (texts of the real supervisorctl), and its shell on a pty.
mod ctl;
// pidvisord's own command line: --check-config, --example-config, usage errors.
mod cli;
// contrib/completions/pidvisorctl.bash against a running daemon.
mod completion;
// cgroup v2 leaves (issue 6): whole-tree stop, crash reclaim, limits.
mod cgroups;
// The D-Bus service on a private bus, driven by busctl, dbus-send, dbus-monitor.
mod dbus;
// The control server under malformed input, floods and slow clients.
mod robust;
// A real browser (headless chromium over WebDriver) for the web page's tests.
mod browser;
// The web page and /metrics (issue 16): live table, actions, tail, escaping, CSRF, auth.
mod web;
