//! Logs: `tail`, `maintail` (a byte count, or `-f` to follow the
//! `/logtail` stream) and `clear`; and [`follow`], the stream reader that
//! `tail -f`, `maintail -f` and `fg` share. Called through
//! [`super::commands`]'s command table and by [`super::fg`].

use super::client::{CallError, Client};
use super::commands::{exit, fault_code, CmdResult, Controller};
use super::process::{act_on_names, result_line, Action};
use crate::api::FaultCode;
use crate::config::values::py_int;
use crate::control::xmlrpc::Value;
use crate::py::py_bytes_repr;
use crate::py::py_repr;
use std::sync::mpsc;

/// `tail [-f|-N] name [stdout|stderr]`.
pub(super) fn tail(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let mut args: Vec<&str> = arg.split_whitespace().collect();
    if args.is_empty() || args.len() > 3 {
        let what = if args.is_empty() { "few" } else { "many" };
        ctl.output(&format!("Error: too {what} arguments"));
        ctl.exitstatus = exit::GENERIC;
        ctl.help_for("tail");
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args[..] {
        [] => {
            ctl.output("Error: tail requires process name");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
        [name] => (name, "stdout".to_string()),
        [name, .., last] => (name, last.to_lowercase()),
    };
    if channel != "stderr" && channel != "stdout" {
        ctl.output(&format!("Error: bad channel {}", py_repr(&channel)));
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    let bytes = match modifier.map(|m| (m, &m[1..])) {
        None => 1600,
        Some((_, "f")) => return tailf(ctl, &format!("/logtail/{name}/{channel}")),
        Some((m, n)) => match py_int(n) {
            Some(n) => n,
            None => return bad_argument(ctl, m),
        },
    };
    let method = if channel == "stdout" {
        "readProcessStdoutLog"
    } else {
        "readProcessStderrLog"
    };
    let params = [
        name.into(),
        xmlrpc_int(bytes.saturating_neg())?,
        Value::Int(0),
    ];
    print_log(ctl, name, method, &params)
}

/// `maintail [-f|-N]`: supervisord's own log.
pub(super) fn maintail(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let args: Vec<&str> = arg.split_whitespace().collect();
    let bytes = match args[..] {
        [] => 1600,
        [a] => match a.strip_prefix('-') {
            Some("f") => return tailf(ctl, "/mainlogtail"),
            Some(n) => match py_int(n) {
                Some(n) => n,
                None => return bad_argument(ctl, a),
            },
            None => return bad_argument(ctl, a),
        },
        _ => {
            ctl.output("Error: too many arguments");
            ctl.exitstatus = exit::GENERIC;
            ctl.help_for("maintail");
            return Ok(());
        }
    };
    let params = [xmlrpc_int(bytes.saturating_neg())?, Value::Int(0)];
    print_log(ctl, "supervisord", "readLog", &params)
}

fn bad_argument(ctl: &mut Controller, arg: &str) -> CmdResult {
    ctl.output(&format!("Error: bad argument {arg}"));
    ctl.exitstatus = exit::GENERIC;
    Ok(())
}

/// Print what a log read returns, or `WHO: ERROR (...)` for its fault.
fn print_log(ctl: &mut Controller, who: &str, method: &str, params: &[Value]) -> CmdResult {
    let f = match ctl.sv(method, params) {
        Ok(v) => {
            ctl.output(v.as_str().unwrap_or(""));
            return Ok(());
        }
        Err(CallError::Fault(f)) => f,
        Err(e) => return Err(e),
    };
    ctl.exitstatus = exit::GENERIC;
    let what = match fault_code(f.code) {
        Some(FaultCode::NoFile) => "no log file",
        Some(FaultCode::Failed) => "unknown error reading log",
        // Only process logs have names (readLog has none).
        Some(FaultCode::BadName) if method != "readLog" => "no such process name",
        _ => return Err(CallError::Fault(f)),
    };
    ctl.output(&format!("{who}: ERROR ({what})"));
    Ok(())
}

/// Follow a `/logtail` stream until it ends or Ctrl-C (which exits the
/// program after printing a newline, see [`super::install_sigint_exit`]).
fn tailf(ctl: &mut Controller, path: &str) -> CmdResult {
    ctl.output("==> Press Ctrl-C to exit <==");
    super::install_sigint_exit("\n", ctl.exitstatus);
    let mut client = ctl.another_client();
    let url = format!("{}{}", ctl.serverurl, path);
    follow(
        &mut client,
        &url,
        path,
        &mut |data| ctl.write_raw(data),
        None,
        None,
    );
    Ok(())
}

/// `clear name...`: no group call, `g:` goes to clearProcessLogs as it is.
const CLEAR: Action = Action {
    cmd: "clear",
    all: "clearAllProcessLogs",
    group: None,
    one: "clearProcessLogs",
    render: clear_result,
    ignored: None,
    done: "cleared",
    bad_args: exit::GENERIC,
};

pub(super) fn clear(ctl: &mut Controller, arg: &str) -> CmdResult {
    act_on_names(ctl, &CLEAR, arg)
}

fn clear_result(r: &Value) -> String {
    let errors = [
        (FaultCode::BadName, "no such process"),
        (FaultCode::Failed, "failed"),
    ];
    result_line(r, "cleared", &errors)
}

/// Stream `path` to `write` as supervisorctl's `http_client.Listener`
/// does for `tail -f` and `fg`: text that is not UTF-8 is shown as
/// `Undecodable: b'...'`, and a failure goes to stderr after the URL
/// (`URL Cannot read, status code 404` for a missing log, as for
/// `redirect_stderr` or a `NONE` log).
///
/// `fg` follows stdout and stderr at once; supervisorctl's single asyncore
/// loop reports stdout's failure first. So a follower may wait for
/// `after` (its sender dropped) before reporting its own failure, and
/// drops `settled` once its answer is known and any failure reported.
pub(super) fn follow(
    client: &mut Client,
    url: &str,
    path: &str,
    write: &mut dyn FnMut(&[u8]) -> bool,
    after: Option<mpsc::Receiver<()>>,
    settled: Option<mpsc::Sender<()>>,
) {
    let mut settled = settled;
    let mut pending = Vec::new();
    let mut sink = |data: &[u8]| {
        let text = listener_text(&mut pending, data);
        text.is_empty() || write(&text)
    };
    let result = client.stream_get(path, &mut || drop(settled.take()), &mut sink);
    let failure = match result {
        Ok(200) => None,
        Ok(status) => Some(format!("Cannot read, status code {status}")),
        Err(e) => Some(e.python_class_and_message().1),
    };
    if let Some(f) = failure {
        if let Some(rx) = after {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(5));
        }
        eprintln!("{url} {f}");
    }
    drop(settled);
}

/// `Listener.feed`: the data as UTF-8 text, or `Undecodable: <repr>`. A
/// multi-byte character cut at the end of a piece is held for the next
/// one (Python decodes each HTTP chunk alone; supervisord cuts them at
/// any byte, so that case is Supervisor's bug, not kept).
fn listener_text(pending: &mut Vec<u8>, data: &[u8]) -> Vec<u8> {
    pending.extend_from_slice(data);
    match std::str::from_utf8(pending) {
        Ok(_) => std::mem::take(pending),
        Err(e) if e.error_len().is_none() => {
            let rest = pending.split_off(e.valid_up_to());
            std::mem::replace(pending, rest)
        }
        Err(_) => {
            let text = format!("Undecodable: {}", py_bytes_repr(pending));
            pending.clear();
            text.into_bytes()
        }
    }
}

/// An int as xmlrpc.client sends it: beyond 32 bits it raises
/// `OverflowError: int exceeds XML-RPC limits` before anything is sent.
fn xmlrpc_int(n: i64) -> Result<Value, CallError> {
    if i32::try_from(n).is_err() {
        return Err(CallError::Raised {
            class: "OverflowError".into(),
            message: "int exceeds XML-RPC limits".into(),
        });
    }
    Ok(Value::Int(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_feed() {
        let mut p = Vec::new();
        assert_eq!(listener_text(&mut p, b"ok\n"), b"ok\n");
        // A character cut in two is held, then completed.
        assert_eq!(listener_text(&mut p, b"a\xc3"), b"a");
        assert_eq!(listener_text(&mut p, b"\xa9b"), "\u{e9}b".as_bytes());
        assert_eq!(
            listener_text(&mut p, b"x 's\n\xff\xfe\\"),
            b"Undecodable: b\"x 's\\n\\xff\\xfe\\\\\""
        );
        assert!(p.is_empty());
        assert_eq!(py_bytes_repr(b"\"q\" 's\r\x01"), r#"b'"q" \'s\r\x01'"#);
    }

    #[test]
    fn clear_lines() {
        let r = |status: i64| {
            Value::record([
                ("status", Value::Int(status)),
                ("name", "p".into()),
                ("group", "p".into()),
                ("description", "".into()),
            ])
        };
        assert_eq!(clear_result(&r(80)), "p: cleared");
        assert_eq!(clear_result(&r(10)), "p: ERROR (no such process)");
        assert_eq!(clear_result(&r(30)), "p: ERROR (failed)");
        assert_eq!(clear_result(&r(70)), "p: ERROR (unknown result code 70)");
    }

    #[test]
    fn xmlrpc_ints_are_32_bit() {
        assert!(matches!(
            xmlrpc_int(-2147483648),
            Ok(Value::Int(-2147483648))
        ));
        let e = xmlrpc_int(-2147483649).unwrap_err();
        assert_eq!(
            e.python_class_and_message(),
            ("OverflowError".into(), "int exceeds XML-RPC limits".into())
        );
    }
}
