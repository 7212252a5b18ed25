//! `fg name`: a process in the foreground. Its stdout and stderr streams
//! are followed (see [`super::logs::follow`]) while each line typed on
//! stdin goes to the process with `sendProcessStdin`, until end of input,
//! Ctrl-C or the process stops. Called through [`super::commands`]'s
//! command table.

use super::client::CallError;
use super::commands::{exit, fault_code, state_of, CmdResult, Controller};
use super::logs::follow;
use crate::api::{FaultCode, ProcessState};
use std::io::{self, BufRead, Write};
use std::sync::mpsc;

pub(super) fn fg(ctl: &mut Controller, arg: &str) -> CmdResult {
    if !ctl.upcheck()? {
        return Ok(());
    }
    let name = match arg.split_whitespace().collect::<Vec<_>>()[..] {
        [name] => name,
        [] => {
            ctl.output("ERROR: no process name supplied");
            ctl.exitstatus = exit::GENERIC;
            ctl.help_for("fg");
            return Ok(());
        }
        _ => {
            ctl.output("ERROR: too many process names supplied");
            ctl.exitstatus = exit::GENERIC;
            return Ok(());
        }
    };
    let info = match ctl.sv("getProcessInfo", &[name.into()]) {
        Ok(i) => i,
        Err(CallError::Fault(f)) => {
            if fault_code(f.code) == Some(FaultCode::BadName) {
                ctl.output("ERROR: bad process name supplied");
                ctl.exitstatus = exit::GENERIC;
            } else {
                ctl.output(&format!("ERROR: {f}"));
            }
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if state_of(&info) != Some(ProcessState::Running) {
        ctl.output("ERROR: process not running");
        ctl.exitstatus = exit::GENERIC;
        return Ok(());
    }
    ctl.output("==> Press Ctrl-C to exit <==");
    super::install_sigint_exit("Exiting foreground\n", ctl.exitstatus);
    follow_both(ctl, name);
    forward_stdin(ctl, name)
}

/// Follow the process's stdout and stderr on two threads, writing to our
/// stdout. stderr's failure is reported after stdout's (see [`follow`]).
fn follow_both(ctl: &Controller, name: &str) {
    let (stdout_settled, after_stdout) = mpsc::channel();
    let mut stdout_settled = Some(stdout_settled);
    let mut after_stdout = Some(after_stdout);
    for channel in ["stdout", "stderr"] {
        let (settled, after) = if channel == "stdout" {
            (stdout_settled.take(), None)
        } else {
            (None, after_stdout.take())
        };
        let mut client = ctl.another_client();
        let path = format!("/logtail/{name}/{channel}");
        let url = format!("{}{}", ctl.serverurl, path);
        std::thread::spawn(move || {
            let mut write = |d: &[u8]| {
                let mut o = io::stdout().lock();
                o.write_all(d).and_then(|_| o.flush()).is_ok()
            };
            follow(&mut client, &url, &path, &mut write, after, settled);
        });
    }
}

/// Each line of stdin to the process, as long as it runs.
fn forward_stdin(ctl: &mut Controller, name: &str) -> CmdResult {
    let stdin = io::stdin();
    loop {
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).unwrap_or(0) == 0 {
            ctl.output("Exiting foreground");
            return Ok(());
        }
        let input = format!("{}\n", line.trim_end_matches(['\n', '\r']));
        match ctl.sv("sendProcessStdin", &[name.into(), input.into()]) {
            Ok(_) => {}
            Err(CallError::Fault(f)) => {
                if fault_code(f.code) == Some(FaultCode::NotRunning) {
                    ctl.output("Process got killed");
                } else {
                    ctl.output(&format!("ERROR: {f}"));
                }
                ctl.output("Exiting foreground");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        let info = ctl.sv("getProcessInfo", &[name.into()])?;
        if state_of(&info) != Some(ProcessState::Running) {
            ctl.output("Process got killed");
            ctl.output("Exiting foreground");
            return Ok(());
        }
    }
}
