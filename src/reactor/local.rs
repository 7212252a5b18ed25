//! Calls the reactor answers itself because they need its files or file
//! descriptors: log reads and clears, stdin, `/logtail`, and reading the
//! config for `reloadConfig`.

use std::io;
use std::path::{Path, PathBuf};

use super::output::Stream;
use super::{now, Reactor};
use crate::control::rpc::{fault, Local};
use crate::control::server::TailRequest;
use crate::control::xmlrpc::{Fault as XmlFault, Value};
use crate::core::{Command, FaultCode, Mood, ProcId};
use crate::logs::{read_window, tail_window, ReadError};

fn read_fault(e: ReadError) -> XmlFault {
    match e {
        ReadError::BadArguments => fault(FaultCode::BadArguments, ""),
        ReadError::NoFile(p) => fault(FaultCode::NoFile, &p.display().to_string()),
        ReadError::Failed { path, .. } => fault(FaultCode::Failed, &path.display().to_string()),
    }
}

/// Log text as an XML-RPC string. Supervisor decodes strictly and fails the
/// whole call on a split character; we replace it instead.
fn text(bytes: Vec<u8>) -> Value {
    Value::String(
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

impl Reactor {
    fn one_process(&self, name: &str) -> Result<ProcId, XmlFault> {
        let bad = || fault(FaultCode::BadName, name);
        // `group:*` names a group, which these calls do not take.
        if name.ends_with(':') || name.ends_with(":*") {
            return Err(bad());
        }
        match self.core.find(name) {
            Ok(ids) if ids.len() == 1 => Ok(ids[0]),
            _ => Err(bad()),
        }
    }

    fn log_path(&self, id: ProcId, stderr: bool) -> Option<PathBuf> {
        let spec = self.core.spec(id)?;
        let (stream, file) = if stderr {
            (Stream::Stderr, &spec.stderr.file)
        } else {
            (Stream::Stdout, &spec.stdout.file)
        };
        if stderr && spec.redirect_stderr {
            return None;
        }
        self.pipes.path_of(id, stream, file)
    }

    /// Carry out one local call.
    pub(super) fn local(&mut self, l: Local) -> Result<Value, XmlFault> {
        if self.core.mood() < Mood::Running {
            return Err(fault(FaultCode::ShutdownState, ""));
        }
        match l {
            Local::Const(v) => Ok(v.into()),
            Local::GetPid => Ok(Value::Int(i64::from(std::process::id()))),
            Local::ListProcessPids { name } => Ok(self.list_pids(self.one_process(&name)?)),
            Local::GetIdentification => Ok(self.config.supervisord.identifier.as_str().into()),
            Local::ReadMainLog { offset, length } => {
                let path = self.mainlog.path().map(Path::to_path_buf);
                let Some(path) = path else {
                    return Err(fault(FaultCode::NoFile, ""));
                };
                read_window(&path, offset, length)
                    .map(text)
                    .map_err(read_fault)
            }
            Local::ClearMainLog => {
                if self.mainlog.path().is_none() {
                    return Err(fault(FaultCode::NoFile, ""));
                }
                self.mainlog
                    .clear()
                    .map(|()| Value::Bool(true))
                    .map_err(|e| fault(FaultCode::Failed, &e.to_string()))
            }
            Local::ReadProcessLog {
                name,
                stderr,
                offset,
                length,
            } => {
                let id = self.one_process(&name)?;
                let Some(path) = self.log_path(id, stderr) else {
                    return Err(fault(FaultCode::NoFile, ""));
                };
                read_window(&path, offset, length)
                    .map(text)
                    .map_err(read_fault)
            }
            Local::TailProcessLog {
                name,
                stderr,
                offset,
                length,
            } => {
                let id = self.one_process(&name)?;
                let (data, offset, overflow) = match self.log_path(id, stderr) {
                    Some(path) => tail_window(&path, offset, length),
                    None => (Vec::new(), 0, false),
                };
                Ok(Value::Array(vec![
                    text(data),
                    Value::Int(offset),
                    Value::Bool(overflow),
                ]))
            }
            Local::ClearProcessLogs { name } => {
                let id = self.one_process(&name)?;
                self.clear_logs(id)
                    .map(|()| Value::Bool(true))
                    .map_err(|_| fault(FaultCode::Failed, &name))
            }
            Local::ClearAllProcessLogs => {
                // Supervisor's order: group priority, then process priority
                // (the core's start order), not names.
                let ids: Vec<(String, String, ProcId)> = self
                    .core
                    .processes()
                    .map(|(id, p)| (p.spec.group.clone(), p.spec.name.clone(), id))
                    .collect();
                let results = ids
                    .into_iter()
                    .map(|(group, name, id)| {
                        let (status, description) = match self.clear_logs(id) {
                            Ok(()) => (80, "OK".to_string()),
                            Err(_) => (30, format!("FAILED: {group}:{name}")),
                        };
                        Value::record([
                            ("name", Value::from(name)),
                            ("group", Value::from(group)),
                            ("status", Value::Int(status)),
                            ("description", Value::from(description)),
                        ])
                    })
                    .collect();
                Ok(Value::Array(results))
            }
            Local::SendStdin { name, chars } => {
                let chars = match chars {
                    Value::String(s) => s,
                    Value::Base64(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => {
                        let shown = crate::control::rpc::py_str(&other);
                        return Err(fault(FaultCode::IncorrectParameters, &shown));
                    }
                };
                let id = self.one_process(&name)?;
                let running = self
                    .core
                    .process(id)
                    .map(|p| p.pid != 0 && p.state != crate::core::ProcessState::Stopping)
                    .unwrap_or(false);
                if !running {
                    return Err(fault(FaultCode::NotRunning, &name));
                }
                let Some(fd) = self.pipes.logs_mut(id).and_then(|l| l.stdin.as_ref()) else {
                    return Err(fault(FaultCode::NoFile, &name));
                };
                match write_all_nonblocking(fd, chars.as_bytes()) {
                    Ok(()) => Ok(Value::Bool(true)),
                    Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                        Err(fault(FaultCode::NoFile, &name))
                    }
                    Err(e) => Err(fault(FaultCode::Failed, &e.to_string())),
                }
            }
            // Routed to the core by `run_jobs`.
            Local::Reread => Err(fault(FaultCode::Failed, "reread")),
        }
    }

    /// `reloadConfig`: read the file here, let the core diff it.
    pub(super) fn reread(&mut self, id: u64) {
        let loaded = crate::config::load(&self.config.path, &crate::config::Env::from_process())
            .map_err(|e| e.to_string());
        self.core.handle_command(
            id,
            Command::ReloadConfig {
                config: Box::new(loaded),
            },
            now(),
        );
    }

    /// Delete and recreate a running process's current log files.
    fn clear_logs(&mut self, id: ProcId) -> io::Result<()> {
        if let Some(logs) = self.pipes.logs_mut(id) {
            logs.stdout.clear()?;
            if let Some(e) = logs.stderr.as_mut() {
                e.clear()?;
            }
        }
        Ok(())
    }

    /// `/logtail/NAME[/stream]` or `/mainlogtail`: find the file and stream it.
    pub(super) fn start_tail(&mut self, req: TailRequest) {
        let (file, main) = match &req.name {
            None => (self.mainlog.path().map(Path::to_path_buf), true),
            Some(name) => (
                self.one_process(name)
                    .ok()
                    .and_then(|id| self.log_path(id, req.stderr)),
                false,
            ),
        };
        self.control.start_follow(req, file, main);
    }
}

/// Write to a child's stdin pipe. It is non-blocking: a child that does not
/// read cannot stall the daemon; what does not fit is an error.
fn write_all_nonblocking(fd: &std::os::fd::OwnedFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match rustix::io::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
