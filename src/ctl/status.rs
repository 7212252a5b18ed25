//! `status`: the process table (spec §5.4), with our `--json` and `-v`
//! (one line per pid, from pidvisord's `pidvisor.listProcessPids`). Called
//! through [`super::commands`]'s command table.

use super::client::CallError;
use super::commands::{exit, make_namespec, split_namespec, state_of, CmdResult, Controller};
use crate::api::ProcessState;
use crate::control::xmlrpc::Value;
use std::borrow::Borrow;

/// Render `status` lines (spec §5.4): `'%-Ws%-10s%s'`, W = max(30, longest) + 3.
/// With `color`, the state word is coloured (padding computed on the plain text).
pub fn format_status<V: Borrow<Value>>(infos: &[V], color: bool) -> Vec<String> {
    let names: Vec<String> = infos
        .iter()
        .map(Borrow::borrow)
        .map(|i: &Value| make_namespec(i.str_field("group"), i.str_field("name")))
        .collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(30)
        + 3;
    infos
        .iter()
        .map(Borrow::borrow)
        .zip(&names)
        .map(|(info, name): (&Value, _)| {
            let state = info.str_field("statename");
            let padded = format!("{state:<10}");
            let state_col = if color {
                let code = match state {
                    "RUNNING" => "32",
                    "STARTING" | "STOPPING" | "BACKOFF" => "33",
                    "FATAL" | "EXITED" | "UNKNOWN" => "31",
                    _ => "2",
                };
                format!(
                    "\x1b[{code}m{state}\x1b[0m{}",
                    &padded[state.len().min(padded.len())..]
                )
            } else {
                padded
            };
            format!("{name:<width$}{state_col}{}", description(info))
        })
        .collect()
}

/// The description, with a program's `STATUS=` text (pidvisord's
/// `status_text`, issue 17) after it, as systemd's status line shows it.
/// Without that field (a real supervisord, programs not on the notify
/// socket) it is Supervisor's description unchanged.
fn description(info: &Value) -> String {
    let desc = info.str_field("description");
    match info.str_field("status_text") {
        "" => desc.to_string(),
        text if desc.is_empty() => format!("status: {text}"),
        text => format!("{desc}, status: {text}"),
    }
}

/// `status --json` (our addition): the `getProcessInfo` structs of the
/// listed processes as a JSON array, fields in the daemon's order (from
/// pidvisord: `name`, `group`, `start`, `stop`, `now`, `state`,
/// `statename`, `spawnerr`, `exitstatus`, `logfile`, `stdout_logfile`,
/// `stderr_logfile`, `pid`, `description`, and `status_text` for programs
/// on the notify socket).
pub fn status_json<V: Borrow<Value>>(infos: &[V]) -> String {
    let list = serde_json::Value::Array(infos.iter().map(|v| to_json(v.borrow())).collect());
    list.to_string()
}

fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Int(i) => J::from(*i),
        Value::Bool(b) => J::Bool(*b),
        // NaN and infinities have no JSON form; from_f64 gives None.
        Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
        Value::Nil => J::Null,
        Value::String(s) | Value::DateTime(s) => J::String(s.clone()),
        Value::Base64(b) => J::String(String::from_utf8_lossy(b).into_owned()),
        Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Value::Struct(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// `status [--json] [-v] [name...]`.
pub(super) fn status(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        ctl.exitstatus = exit::STATUS_UNKNOWN;
        return Ok(());
    }
    let all = ctl.sv("getAllProcessInfo", &[])?;
    // Borrowed, not cloned: with 500 processes this is most of the reply.
    let all_infos = all.as_array().unwrap_or(&[]);
    let mut names: Vec<&str> = arg.split_whitespace().collect();
    let json = names.contains(&"--json");
    let verbose = names.contains(&"-v");
    names.retain(|n| *n != "--json" && *n != "-v");
    let matching = select(ctl, all_infos, &names);
    if json {
        let j = status_json(&matching);
        ctl.output(&j);
    } else if verbose {
        print_with_pids(ctl, &matching)?;
    } else {
        // One write for the whole table instead of one per line.
        let lines = format_status(&matching, ctl.color);
        if !lines.is_empty() {
            ctl.output(&lines.join("\n"));
        }
    }
    if matching
        .iter()
        .any(|i| state_of(i).is_some_and(ProcessState::is_stopped))
    {
        ctl.exitstatus = exit::STATUS_NOT_RUNNING;
    }
    Ok(())
}

/// The infos `names` pick (all for none or `all`), in the order asked;
/// a name that matches nothing gets its error line and status 4.
fn select<'a>(ctl: &mut Controller, infos: &'a [Value], names: &[&str]) -> Vec<&'a Value> {
    if names.is_empty() || names.contains(&"all") {
        return infos.iter().collect();
    }
    let mut matching = Vec::new();
    for name in names {
        let (group, process) = split_namespec(name);
        let before = matching.len();
        matching.extend(infos.iter().filter(|info| {
            info.str_field("group") == group
                && process
                    .as_deref()
                    .map_or(true, |p| info.str_field("name") == p)
        }));
        if matching.len() == before {
            let msg = match process {
                None => format!("{group}: ERROR (no such group)"),
                Some(_) => format!("{name}: ERROR (no such process)"),
            };
            ctl.output(&msg);
            ctl.exitstatus = exit::STATUS_UNKNOWN;
        }
    }
    matching
}

/// `status -v` (pidvisor only): each status line, then one indented line
/// per pid of the process.
fn print_with_pids(ctl: &mut Controller, matching: &[&Value]) -> CmdResult {
    for (line, info) in format_status(matching, ctl.color).iter().zip(matching) {
        ctl.output(line);
        let spec = make_namespec(info.str_field("group"), info.str_field("name"));
        let pids = match ctl.call("pidvisor.listProcessPids", &[spec.into()]) {
            Ok(v) => v,
            // A real supervisord has no pidvisor.* methods.
            Err(CallError::Fault(f)) => {
                ctl.output(&format!("    (no pid list: {})", f.string));
                continue;
            }
            Err(e) => return Err(e),
        };
        for p in pids.as_array().unwrap_or(&[]) {
            let text = format!("    {} {}", p.int_field("pid"), p.str_field("cmdline"));
            ctl.output(&text);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: i64, statename: &str, desc: &str) -> Value {
        Value::record([
            ("group", group.into()),
            ("name", name.into()),
            ("state", Value::Int(state)),
            ("statename", statename.into()),
            ("description", desc.into()),
        ])
    }

    #[test]
    fn status_columns() {
        let rows = [
            info("grp", "ga", 20, "RUNNING", "pid 5179, uptime 0:00:11"),
            info(
                "quick",
                "quick",
                200,
                "FATAL",
                "Exited too quickly (process log may have details)",
            ),
            info("s", "s", 10, "STARTING", ""),
        ];
        let lines = format_status(&rows, false);
        assert_eq!(
            lines[0],
            "grp:ga                           RUNNING   pid 5179, uptime 0:00:11"
        );
        assert_eq!(
            lines[1],
            "quick                            FATAL     Exited too quickly (process log may have details)"
        );
        assert_eq!(lines[2], format!("{:<33}STARTING  ", "s"));
        let long = "x".repeat(39);
        let lines = format_status(&[info(&long, &long, 0, "STOPPED", "Not started")], false);
        assert_eq!(lines[0], format!("{long}   STOPPED   Not started"));
        let mut told = info("n", "n", 20, "RUNNING", "pid 7, uptime 0:00:03");
        if let Value::Struct(f) = &mut told {
            f.push(("status_text".into(), "Serving 3 clients".into()));
        }
        assert_eq!(
            format_status(&[told], false)[0],
            "n                                RUNNING   pid 7, uptime 0:00:03, status: Serving 3 clients"
        );
        let mut starting = info("n", "n", 10, "STARTING", "");
        if let Value::Struct(f) = &mut starting {
            f.push(("status_text".into(), "loading".into()));
        }
        assert_eq!(
            format_status(&[starting], false)[0],
            format!("{:<33}STARTING  status: loading", "n")
        );
        let colored = format_status(&rows[..1], true);
        assert!(colored[0].contains("\x1b[32mRUNNING\x1b[0m   pid"));
    }

    #[test]
    fn json() {
        let j = status_json(&[info("g", "a\"b", 20, "RUNNING", "x\ny")]);
        assert_eq!(
            j,
            r#"[{"group":"g","name":"a\"b","state":20,"statename":"RUNNING","description":"x\ny"}]"#
        );
    }
}
