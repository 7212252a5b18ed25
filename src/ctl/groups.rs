//! The configured process groups: `avail` (what the configuration
//! defines), `reread` (what changed in it), `update` (apply the change),
//! `add` and `remove` (one group). Called through [`super::commands`]'s
//! command table.

use super::client::CallError;
use super::commands::{exit, fault_code, make_namespec, CmdResult, Controller};
use crate::api::FaultCode;
use crate::control::xmlrpc::{Fault, Value};

/// `reloadConfig`'s `(added, changed, removed)` group names.
type Changes = (Vec<String>, Vec<String>, Vec<String>);

/// The answer to a call after which any failure makes the exit status 1:
/// a fault `explain` has a line for is printed and ends the command
/// (`None`); any other failure is the command's error.
fn or_explain<T>(
    ctl: &mut Controller,
    result: Result<T, CallError>,
    explain: impl Fn(&Fault) -> Option<String>,
) -> Result<Option<T>, CallError> {
    let e = match result {
        Ok(v) => return Ok(Some(v)),
        Err(e) => e,
    };
    ctl.exitstatus = exit::GENERIC;
    if let CallError::Fault(f) = &e {
        if let Some(line) = explain(f) {
            ctl.output(&line);
            return Ok(None);
        }
    }
    Err(e)
}

fn shutting_down(f: &Fault) -> bool {
    fault_code(f.code) == Some(FaultCode::ShutdownState)
}

/// `avail`: one line per configured process.
pub(super) fn avail(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.no_args("avail", arg) {
        return Ok(());
    }
    let result = ctl.sv("getAllConfigInfo", &[]);
    let Some(configs) = or_explain(ctl, result, |f| {
        shutting_down(f).then(|| "ERROR: supervisor shutting down".into())
    })?
    else {
        return Ok(());
    };
    for c in configs.as_array().unwrap_or(&[]) {
        let name = make_namespec(c.str_field("group"), c.str_field("name"));
        let truthy = |k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(false);
        let inuse = if truthy("inuse") { "in use" } else { "avail" };
        let auto = if truthy("autostart") {
            "auto"
        } else {
            "manual"
        };
        let prio = format!(
            "{}:{}",
            c.int_field("group_prio"),
            c.int_field("process_prio")
        );
        ctl.output(&format!("{name:<32} {inuse:<9} {auto:<9} {prio}"));
    }
    Ok(())
}

fn reload_config(ctl: &mut Controller) -> Result<Changes, CallError> {
    let v = ctl.sv("reloadConfig", &[])?;
    let names = |x: Option<&Value>| -> Vec<String> {
        x.and_then(Value::as_array)
            .unwrap_or(&[])
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let first = v
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_array);
    let first = first.unwrap_or(&[]);
    Ok((
        names(first.first()),
        names(first.get(1)),
        names(first.get(2)),
    ))
}

/// `reread`: each changed group and how, sorted by name.
pub(super) fn reread(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.no_args("reread", arg) {
        return Ok(());
    }
    let result = reload_config(ctl);
    let Some((added, changed, dropped)) = or_explain(ctl, result, |f| match fault_code(f.code) {
        Some(FaultCode::ShutdownState) => Some("ERROR: supervisor shutting down".into()),
        Some(FaultCode::CantReread) => Some(format!("ERROR: {}", f.string)),
        _ => None,
    })?
    else {
        return Ok(());
    };
    let mut all: Vec<(String, &str)> = Vec::new();
    for (list, what) in [
        (added, "available"),
        (changed, "changed"),
        (dropped, "disappeared"),
    ] {
        for n in list {
            all.retain(|(k, _)| *k != n);
            all.push((n, what));
        }
    }
    if all.is_empty() {
        ctl.output("No config updates to processes");
    } else {
        all.sort();
        for (n, what) in all {
            ctl.output(&format!("{n}: {what}"));
        }
    }
    Ok(())
}

/// `add name...`.
pub(super) fn add(ctl: &mut Controller, arg: &str) -> CmdResult {
    use FaultCode::*;
    let answers = [
        (ShutdownState, "ERROR: shutting down", true),
        (AlreadyAdded, "ERROR: process group already active", false),
        (BadName, "ERROR: no such process/group: {}", true),
    ];
    each_group(ctl, arg, "addProcessGroup", "added process group", &answers)
}

/// `remove name...`.
pub(super) fn remove(ctl: &mut Controller, arg: &str) -> CmdResult {
    use FaultCode::*;
    let answers = [
        (StillRunning, "ERROR: process/group still running: {}", true),
        (BadName, "ERROR: no such process/group: {}", true),
    ];
    each_group(
        ctl,
        arg,
        "removeProcessGroup",
        "removed process group",
        &answers,
    )
}

/// Call `method` on each group named in `arg`: `name: done` on success; for
/// a fault listed in `answers`, its line (`{}` is the name) and, when
/// marked, exit status 1; any other fault is the command's error.
fn each_group(
    ctl: &mut Controller,
    arg: &str,
    method: &str,
    done: &str,
    answers: &[(FaultCode, &str, bool)],
) -> CmdResult {
    for name in arg.split_whitespace() {
        let f = match ctl.sv(method, &[name.into()]) {
            Ok(_) => {
                ctl.output(&format!("{name}: {done}"));
                continue;
            }
            Err(CallError::Fault(f)) => f,
            Err(e) => return Err(e),
        };
        let code = fault_code(f.code);
        let Some(&(_, line, fails)) = answers.iter().find(|(c, ..)| Some(*c) == code) else {
            ctl.exitstatus = exit::GENERIC;
            return Err(CallError::Fault(f));
        };
        ctl.output(&line.replace("{}", name));
        if fails {
            ctl.exitstatus = exit::GENERIC;
        }
    }
    Ok(())
}

/// `update [all|group...]`: stop and remove the groups that went away,
/// restart the changed ones, add the new ones.
pub(super) fn update(ctl: &mut Controller, arg: &str) -> CmdResult {
    let result = reload_config(ctl);
    let Some((added, changed, removed)) = or_explain(ctl, result, |f| {
        shutting_down(f).then(|| "ERROR: already shutting down".into())
    })?
    else {
        return Ok(());
    };
    let mut valid: Vec<String> = Vec::new();
    for g in arg.split_whitespace() {
        if !valid.iter().any(|v| v == g) {
            valid.push(g.to_string());
        }
    }
    if valid.iter().any(|g| g == "all") {
        valid.clear();
    }
    if !valid.is_empty() {
        check_groups(ctl, &valid, &added)?;
    }
    let wanted = |g: &String| valid.is_empty() || valid.contains(g);
    for g in removed.iter().filter(|g| wanted(g)) {
        let results = ctl.sv("stopProcessGroup", &[g.as_str().into()])?;
        ctl.output(&format!("{g}: stopped"));
        let fails = results
            .as_array()
            .unwrap_or(&[])
            .iter()
            .any(|r| fault_code(r.int_field("status")) == Some(FaultCode::Failed));
        if fails {
            ctl.output(&format!("{g}: has problems; not removing"));
            ctl.exitstatus = exit::GENERIC;
            continue;
        }
        ctl.sv("removeProcessGroup", &[g.as_str().into()])?;
        ctl.output(&format!("{g}: removed process group"));
    }
    for g in changed.iter().filter(|g| wanted(g)) {
        ctl.sv("stopProcessGroup", &[g.as_str().into()])?;
        ctl.output(&format!("{g}: stopped"));
        ctl.sv("removeProcessGroup", &[g.as_str().into()])?;
        ctl.sv("addProcessGroup", &[g.as_str().into()])?;
        ctl.output(&format!("{g}: updated process group"));
    }
    for g in added.iter().filter(|g| wanted(g)) {
        ctl.sv("addProcessGroup", &[g.as_str().into()])?;
        ctl.output(&format!("{g}: added process group"));
    }
    Ok(())
}

/// `update`'s check of the groups it was given: each must be running or
/// newly added.
fn check_groups(ctl: &mut Controller, asked: &[String], added: &[String]) -> CmdResult {
    let infos = ctl.sv("getAllProcessInfo", &[])?;
    let mut groups: Vec<&str> = infos
        .as_array()
        .unwrap_or(&[])
        .iter()
        .map(|i| i.str_field("group"))
        .collect();
    groups.extend(added.iter().map(String::as_str));
    // Python iterates a set: order is unspecified; we keep argument order.
    for g in asked {
        if !groups.contains(&g.as_str()) {
            ctl.output(&format!("ERROR: no such group: {g}"));
            ctl.exitstatus = exit::GENERIC;
        }
    }
    Ok(())
}
