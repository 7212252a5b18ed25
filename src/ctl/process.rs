//! Process control: `start`, `stop`, `restart` and `signal`, and the one
//! way they (and `clear`) act on names: `all` is one call for everything,
//! `g:`/`g:*` one call for the group, anything else one call for the
//! process; results print as supervisorctl prints them. Called through
//! [`super::commands`]'s command table.

use super::client::CallError;
use super::commands::{exit, fault_code, make_namespec, CmdResult, Controller};
use crate::api::FaultCode;
use crate::control::xmlrpc::Value;

/// What one of `start`, `stop`, `signal` and `clear` calls and prints (see
/// [`act`]).
pub(super) struct Action {
    /// The command's name, for its usage error.
    pub cmd: &'static str,
    /// `supervisor.*` methods for `all`, a group (none for `clear`) and one
    /// process.
    pub all: &'static str,
    pub group: Option<&'static str>,
    pub one: &'static str,
    /// One result struct as a line.
    pub render: fn(&Value) -> String,
    /// The fault that leaves the exit status alone (already started / not
    /// running).
    pub ignored: Option<FaultCode>,
    /// What a one-process success prints after `name: `.
    pub done: &'static str,
    /// Exit status for no name and for an unknown group (2 for `start`,
    /// else 1).
    pub bad_args: i32,
}

const START: Action = Action {
    cmd: "start",
    all: "startAllProcesses",
    group: Some("startProcessGroup"),
    one: "startProcess",
    render: start_result,
    ignored: Some(FaultCode::AlreadyStarted),
    done: "started",
    bad_args: exit::INVALID_ARGS,
};

const STOP: Action = Action {
    cmd: "stop",
    all: "stopAllProcesses",
    group: Some("stopProcessGroup"),
    one: "stopProcess",
    render: stop_result,
    ignored: Some(FaultCode::NotRunning),
    done: "stopped",
    bad_args: exit::GENERIC,
};

const SIGNAL: Action = Action {
    cmd: "signal",
    all: "signalAllProcesses",
    group: Some("signalProcessGroup"),
    one: "signalProcess",
    render: signal_result,
    ignored: None,
    done: "signalled",
    bad_args: exit::GENERIC,
};

pub(super) fn start(ctl: &mut Controller, arg: &str) -> CmdResult {
    act_on_names(ctl, &START, arg)
}

pub(super) fn stop(ctl: &mut Controller, arg: &str) -> CmdResult {
    act_on_names(ctl, &STOP, arg)
}

/// `signal SIG name...`: the signal goes after each name (and alone for
/// `all`).
pub(super) fn signal(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    if args.len() < 2 {
        ctl.output("Error: signal requires a signal name and a process name");
        ctl.help_for("signal");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    act(ctl, &SIGNAL, &args[1..], &[args[0].into()])
}

/// `restart names`: `stop names`, then `start names`.
pub(super) fn restart(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    if arg.split_whitespace().next().is_none() {
        ctl.output("Error: restart requires a process name");
        ctl.exitstatus = exit::GENERIC;
        ctl.help_for("restart");
        return Ok(());
    }
    stop(ctl, arg)?;
    start(ctl, arg)
}

/// `cmd name...`: the version check, a usage error without names, then
/// [`act`].
pub(super) fn act_on_names(ctl: &mut Controller, a: &Action, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names = ctl.names_or_usage(a.cmd, arg, a.bad_args);
    act(ctl, a, &names, &[])
}

/// Run `a` on `names`, `extra` after each name (all of the parameters for
/// `all`), printing each result.
fn act(ctl: &mut Controller, a: &Action, names: &[&str], extra: &[Value]) -> CmdResult {
    if names.contains(&"all") {
        let results = ctl.sv(a.all, extra)?;
        print_results(ctl, a, &results);
        return Ok(());
    }
    for name in names {
        let (group, process) = super::commands::split_namespec(name);
        let with_extra = |first: &str| {
            let mut p = vec![Value::from(first)];
            p.extend_from_slice(extra);
            p
        };
        match (process, a.group) {
            (None, Some(method)) => match ctl.sv(method, &with_extra(&group)) {
                Ok(results) => print_results(ctl, a, &results),
                Err(CallError::Fault(f)) if fault_code(f.code) == Some(FaultCode::BadName) => {
                    ctl.output(&format!("{group}: ERROR (no such group)"));
                    ctl.exitstatus = a.bad_args;
                }
                Err(e) => return Err(e),
            },
            (process, _) => match ctl.sv(a.one, &with_extra(name)) {
                Ok(_) => {
                    let r = result_struct(0, &group, process.as_deref(), "");
                    ctl.output(&format!("{}: {}", result_namespec(&r), a.done));
                }
                Err(CallError::Fault(f)) => {
                    let r = result_struct(f.code, &group, process.as_deref(), &f.string);
                    ctl.output(&(a.render)(&r));
                    ctl.set_exitstatus_from_fault(f.code, a.ignored);
                }
                Err(e) => return Err(e),
            },
        }
    }
    Ok(())
}

fn print_results(ctl: &mut Controller, a: &Action, results: &Value) {
    for r in results.as_array().unwrap_or(&[]) {
        ctl.output(&(a.render)(r));
        ctl.set_exitstatus_from_fault(r.int_field("status"), a.ignored);
    }
}

/// A one-process answer as the result struct a group call returns (a
/// missing process name, for `clear g:`, is Python's None).
fn result_struct(code: i64, group: &str, process: Option<&str>, desc: &str) -> Value {
    Value::record([
        ("status", Value::Int(code)),
        ("name", process.map_or(Value::Nil, Value::from)),
        ("group", group.into()),
        ("description", desc.into()),
    ])
}

/// The name of a result struct as supervisorctl's `make_namespec` gives
/// it; a missing process name is Python's `None` (`grp:None`).
pub(super) fn result_namespec(r: &Value) -> String {
    match r.get("name") {
        Some(Value::Nil) => format!("{}:None", r.str_field("group")),
        _ => make_namespec(r.str_field("group"), r.str_field("name")),
    }
}

/// `name: ERROR (what)` for a known failure, `name: <success>` for
/// success, and an unknown code as such: the lines of supervisorctl's
/// `_startresult`, `_stopresult`, `_signalresult` and `_clearresult`.
pub(super) fn result_line(r: &Value, success: &str, errors: &[(FaultCode, &str)]) -> String {
    let name = result_namespec(r);
    let status = r.int_field("status");
    let code = fault_code(status);
    if code == Some(FaultCode::Success) {
        return format!("{name}: {success}");
    }
    match errors.iter().find(|(c, _)| Some(*c) == code) {
        Some((_, what)) => format!("{name}: ERROR ({what})"),
        None => format!("{name}: ERROR (unknown result code {status})"),
    }
}

fn start_result(r: &Value) -> String {
    use FaultCode::*;
    let errors = [
        (BadName, "no such process"),
        (NoFile, "no such file"),
        (NotExecutable, "file is not executable"),
        (AlreadyStarted, "already started"),
        (SpawnError, "spawn error"),
        (AbnormalTermination, "abnormal termination"),
    ];
    result_line(r, "started", &errors)
}

/// `_signalresult`, shared by stop: a FAILED result prints its
/// description alone.
fn signal_result_as(r: &Value, success: &str) -> String {
    use FaultCode::*;
    if fault_code(r.int_field("status")) == Some(Failed) {
        return r.str_field("description").to_string();
    }
    let errors = [
        (BadName, "no such process"),
        (BadSignal, "bad signal name"),
        (NotRunning, "not running"),
    ];
    result_line(r, success, &errors)
}

fn stop_result(r: &Value) -> String {
    signal_result_as(r, "stopped")
}

fn signal_result(r: &Value) -> String {
    signal_result_as(r, "signalled")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: i64, name: Value, desc: &str) -> Value {
        Value::record([
            ("status", Value::Int(status)),
            ("name", name),
            ("group", "g".into()),
            ("description", desc.into()),
        ])
    }

    /// Each row: status code, then the lines of start, stop and signal
    /// (supervisorctl's `_startresult`, `_stopresult`, `_signalresult`).
    #[test]
    #[rustfmt::skip]
    fn result_lines() {
        let unknown = |n| format!("g:p: ERROR (unknown result code {n})");
        let table = [
            (80, "g:p: started".to_string(), "g:p: stopped".to_string(), "g:p: signalled".to_string()),
            (10, "g:p: ERROR (no such process)".into(), "g:p: ERROR (no such process)".into(), "g:p: ERROR (no such process)".into()),
            (20, "g:p: ERROR (no such file)".into(), unknown(20), unknown(20)),
            (21, "g:p: ERROR (file is not executable)".into(), unknown(21), unknown(21)),
            (60, "g:p: ERROR (already started)".into(), unknown(60), unknown(60)),
            (50, "g:p: ERROR (spawn error)".into(), unknown(50), unknown(50)),
            (40, "g:p: ERROR (abnormal termination)".into(), unknown(40), unknown(40)),
            (11, unknown(11), "g:p: ERROR (bad signal name)".into(), "g:p: ERROR (bad signal name)".into()),
            (70, unknown(70), "g:p: ERROR (not running)".into(), "g:p: ERROR (not running)".into()),
            (30, unknown(30), "why".into(), "why".into()),
            (12345, unknown(12345), unknown(12345), unknown(12345)),
        ];
        for (status, start, stop, signal) in table {
            let r = result(status, "p".into(), "why");
            assert_eq!(start_result(&r), start, "{status}");
            assert_eq!(stop_result(&r), stop, "{status}");
            assert_eq!(signal_result(&r), signal, "{status}");
        }
        let r = result(80, Value::Nil, "");
        assert_eq!(start_result(&r), "g:None: started");
    }
}
