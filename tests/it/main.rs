//! Integration tests: the real `pidvisord` (and `pidvisorctl`) on temp configs.

// The fixture: start a daemon, wait with deadlines, clean up on Drop.
mod fixture;
// The daemon runs programs: states, restarts, privilege drop, logs, signals.
mod runtime;
// The control socket driven by pidvisorctl: status, start/stop, reread/update.
mod control;
// pidvisord's own command line: --check-config, --example-config, usage errors.
mod cli;
// The control server under malformed input, floods and slow clients.
mod robust;
