//! The daemon itself: `pid`, `version`, `shutdown`, `reload`, and `open`
//! (talk to another one). Called through [`super::commands`]'s command
//! table.

use super::client::{CallError, Client, ServerUrl};
use super::commands::{exit, fault_code, CmdResult, Controller};
use crate::api::FaultCode;
use crate::py::urlsplit::urlparse;

/// `pid`: the daemon's; `pid name...`: each process's; `pid all`: every
/// process's.
pub(super) fn pid(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let names: Vec<&str> = arg.split_whitespace().collect();
    if names.is_empty() {
        let pid = ctl.sv("getPID", &[])?;
        ctl.output(&pid.as_i64().unwrap_or(0).to_string());
    } else if names.contains(&"all") {
        let all = ctl.sv("getAllProcessInfo", &[])?;
        for info in all.as_array().unwrap_or(&[]) {
            ctl.output(&info.int_field("pid").to_string());
        }
    } else {
        for name in names {
            match ctl.sv("getProcessInfo", &[name.into()]) {
                Ok(info) => {
                    let pid = info.int_field("pid");
                    ctl.output(&pid.to_string());
                    if pid == 0 {
                        ctl.exitstatus = exit::NOT_RUNNING;
                    }
                }
                Err(CallError::Fault(f)) => {
                    ctl.exitstatus = exit::GENERIC;
                    if fault_code(f.code) != Some(FaultCode::BadName) {
                        return Err(CallError::Fault(f));
                    }
                    ctl.output(&format!("No such process {name}"));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// `version`: supervisord's version string.
pub(super) fn version(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.no_args("version", arg) || !ctl.upcheck()? {
        return Ok(());
    }
    let v = ctl.sv("getSupervisorVersion", &[])?;
    ctl.output(v.as_str().unwrap_or(""));
    Ok(())
}

/// `shutdown`, confirmed first when interactive.
pub(super) fn shutdown(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !go_ahead(
        ctl,
        "shutdown",
        arg,
        "shut the remote supervisord process down",
    )? {
        return Ok(());
    }
    let e = match ctl.sv("shutdown", &[]) {
        Ok(_) => {
            ctl.output("Shut down");
            return Ok(());
        }
        Err(CallError::Fault(f)) if fault_code(f.code) == Some(FaultCode::ShutdownState) => {
            ctl.output("ERROR: already shutting down");
            return Ok(());
        }
        Err(e) => e,
    };
    ctl.exitstatus = exit::GENERIC;
    let what = match e.errno_name() {
        Some("ECONNREFUSED") => "refused connection",
        Some("ENOENT") => "no such file",
        _ => return Err(e),
    };
    let line = format!("ERROR: {} {what} (already shut down?)", ctl.serverurl);
    ctl.output(&line);
    Ok(())
}

/// `reload` (supervisord's `restart`), confirmed first when interactive.
pub(super) fn reload(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !go_ahead(ctl, "reload", arg, "restart the remote supervisord process")? {
        return Ok(());
    }
    match ctl.sv("restart", &[]) {
        Ok(_) => ctl.output("Restarted supervisord"),
        Err(CallError::Fault(f)) => {
            ctl.exitstatus = exit::GENERIC;
            if fault_code(f.code) != Some(FaultCode::ShutdownState) {
                return Err(CallError::Fault(f));
            }
            ctl.output("ERROR: already shutting down");
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// No arguments, and (when interactive) `Really <what> y/N? ` answered yes.
fn go_ahead(ctl: &mut Controller, cmd: &str, arg: &str, what: &str) -> Result<bool, CallError> {
    Ok(ctl.no_args(cmd, arg) && ctl.confirm(&format!("Really {what} y/N? "))?)
}

/// `open URL`: talk to the daemon at URL from now on, and show its
/// `status` (whose exit status does not count).
pub(super) fn open(ctl: &mut Controller, arg: &str) -> CmdResult {
    let url = arg.trim();
    // urlparse's ValueError is not caught in supervisorctl's do_open.
    let scheme = urlparse(url)
        .map_err(|message| CallError::Raised {
            class: "ValueError".into(),
            message,
        })?
        .scheme;
    if !(scheme == "unix" || scheme == "http") {
        ctl.output("ERROR: url must be http:// or unix://");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    ctl.serverurl = url.to_string();
    ctl.client = Client::new(
        ServerUrl::parse(url),
        ctl.client.username.take(),
        ctl.client.password.take(),
    );
    let old = ctl.exitstatus;
    let r = super::status::status(ctl, "");
    ctl.exitstatus = old;
    r
}
