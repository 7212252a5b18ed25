//! Requests the reactor answers itself because they need its files or file
//! descriptors: versions and pids, log reads and clears, stdin, the files
//! log followers read, the pids of a program, and the snapshots the live
//! faces show, and the figures `/metrics` exports. [`Locals`] borrows what
//! it needs for one answer.

use std::io;
use std::path::{Path, PathBuf};

use super::cgroups::Cgroups;
use super::children::ChildTable;
use super::output::{Pipes, Stream};
use crate::api::{
    DaemonMetrics, Fault, FaultCode, LogTail, Metrics, ProcResult, ProcessMetrics, ProcessSnapshot,
    ProcessState, Reply, Request, Response, StdinData, SupervisorState,
};
use crate::core::{Core, ProcId};
use crate::logs::{read_window, tail_window, MainLogger, ReadError};

fn read_fault(e: ReadError) -> Fault {
    match e {
        ReadError::BadArguments => Fault::new(FaultCode::BadArguments, ""),
        ReadError::NoFile(p) => Fault::new(FaultCode::NoFile, &p.display().to_string()),
        ReadError::Failed { path, .. } => {
            Fault::new(FaultCode::Failed, &path.display().to_string())
        }
    }
}

/// Log bytes as text. Supervisor decodes strictly and fails the whole call
/// on a split character; we replace it instead.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// What one local answer may use.
pub struct Locals<'a> {
    pub core: &'a Core,
    pub pipes: &'a mut Pipes,
    pub mainlog: &'a mut MainLogger,
    pub cgroups: &'a Cgroups,
    pub children: &'a ChildTable,
    pub identification: &'a str,
}

impl Locals<'_> {
    fn one_process(&self, name: &str) -> Result<ProcId, Fault> {
        let bad = || Fault::new(FaultCode::BadName, name);
        // `group:*` names a group, which these calls do not take.
        if name.ends_with(':') || name.ends_with(":*") {
            return Err(bad());
        }
        match self.core.find(name) {
            Ok(ids) if ids.len() == 1 => Ok(ids[0]),
            _ => Err(bad()),
        }
    }

    fn log_path(&self, id: ProcId, stream: Stream) -> Option<PathBuf> {
        let spec = self.core.spec(id)?;
        let file = match stream {
            Stream::Stdout => &spec.stdout.file,
            Stream::Stderr if spec.redirect_stderr => return None,
            Stream::Stderr => &spec.stderr.file,
        };
        self.pipes.path_of(id, stream, file)
    }

    /// Answer one request the core does not.
    pub fn answer(self, req: Request) -> Reply {
        // (`sendRemoteCommEvent`, the one call Supervisor answers in any
        // state, is the event system's: the reactor answers it.)
        if self.core.mood() != SupervisorState::Running {
            return Err(Fault::new(FaultCode::ShutdownState, ""));
        }
        match req {
            Request::GetApiVersion => Ok(Response::Text(crate::api::API_VERSION.into())),
            Request::GetSupervisorVersion => {
                Ok(Response::Text(crate::api::SUPERVISOR_VERSION.into()))
            }
            Request::GetPid => Ok(Response::Pid(std::process::id())),
            Request::GetIdentification => Ok(Response::Text(self.identification.into())),
            Request::ListProcessPids { name } => {
                let id = self.one_process(&name)?;
                let main = self.children.get(id).map(|c| c.pid);
                Ok(Response::Pids(self.cgroups.pids(id, main)))
            }
            Request::Snapshots { key } => Ok(Response::Snapshots(self.snapshots(key.as_deref()))),
            Request::LogFile { name: None, .. } => Ok(Response::LogFile(
                self.mainlog.path().map(Path::to_path_buf),
            )),
            Request::LogFile {
                name: Some(name),
                stream,
            } => {
                let id = self.one_process(&name)?;
                Ok(Response::LogFile(self.log_path(id, stream)))
            }
            Request::SendProcessStdin { name, data } => self.send_stdin(&name, data),
            Request::Metrics => Ok(Response::Metrics(self.metrics())),
            other => self.logs(other),
        }
    }

    /// Log reads and clears.
    fn logs(self, req: Request) -> Reply {
        match req {
            Request::ReadMainLog { offset, length } => {
                let Some(path) = self.mainlog.path() else {
                    return Err(Fault::new(FaultCode::NoFile, ""));
                };
                read_window(path, offset, length)
                    .map(|b| Response::Text(text(b)))
                    .map_err(read_fault)
            }
            Request::ClearMainLog => {
                if self.mainlog.path().is_none() {
                    return Err(Fault::new(FaultCode::NoFile, ""));
                }
                self.mainlog
                    .clear()
                    .map(|()| Response::Bool(true))
                    .map_err(|e| Fault::new(FaultCode::Failed, &e.to_string()))
            }
            Request::ReadProcessLog {
                name,
                stream,
                offset,
                length,
            } => {
                let id = self.one_process(&name)?;
                let Some(path) = self.log_path(id, stream) else {
                    return Err(Fault::new(FaultCode::NoFile, ""));
                };
                read_window(&path, offset, length)
                    .map(|b| Response::Text(text(b)))
                    .map_err(read_fault)
            }
            Request::TailProcessLog {
                name,
                stream,
                offset,
                length,
            } => {
                let id = self.one_process(&name)?;
                let (data, offset, overflow) = match self.log_path(id, stream) {
                    Some(path) => tail_window(&path, offset, length),
                    None => (Vec::new(), 0, false),
                };
                Ok(Response::Tail(LogTail {
                    text: text(data),
                    offset,
                    overflow,
                }))
            }
            Request::ClearProcessLogs { name } => {
                let id = self.one_process(&name)?;
                self.pipes
                    .clear(id)
                    .map(|()| Response::Bool(true))
                    .map_err(|_| Fault::new(FaultCode::Failed, &name))
            }
            Request::ClearAllProcessLogs => Ok(Response::Results(self.clear_all())),
            other => Err(Fault::new(
                FaultCode::Failed,
                &format!("not answered by the reactor: {other:?}"),
            )),
        }
    }

    /// Supervisor's order: group priority, then process priority (the
    /// core's start order), not names.
    fn clear_all(self) -> Vec<ProcResult> {
        let ids: Vec<(String, String, ProcId)> = self
            .core
            .processes()
            .map(|(id, p)| (p.spec.group.clone(), p.spec.name.clone(), id))
            .collect();
        ids.into_iter()
            .map(|(group, name, id)| {
                let outcome = self
                    .pipes
                    .clear(id)
                    .map_err(|_| Fault::new(FaultCode::Failed, &format!("{group}:{name}")));
                ProcResult {
                    name,
                    group,
                    outcome,
                }
            })
            .collect()
    }

    fn send_stdin(self, name: &str, data: StdinData) -> Reply {
        let bytes = match data {
            StdinData::Bytes(b) => b,
            StdinData::NotText(shown) => {
                return Err(Fault::new(FaultCode::IncorrectParameters, &shown))
            }
        };
        let id = self.one_process(name)?;
        let pid = match self.core.process(id) {
            Some(p) if p.pid != 0 && p.state != ProcessState::Stopping => p.pid,
            _ => return Err(Fault::new(FaultCode::NotRunning, name)),
        };
        let Some(fd) = self.pipes.stdin_writer(id, pid) else {
            return Err(Fault::new(FaultCode::NoFile, name));
        };
        match write_all_nonblocking(fd, &bytes) {
            Ok(()) => Ok(Response::Bool(true)),
            Err(e) if e.raw_os_error() == Some(crate::sys::errno::EPIPE) => {
                Err(Fault::new(FaultCode::NoFile, name))
            }
            Err(e) => Err(Fault::new(FaultCode::Failed, &e.to_string())),
        }
    }

    /// Every process with its counters and leaf figures, and the daemon's
    /// own resources.
    fn metrics(&self) -> Metrics {
        let mono = crate::clock::mono();
        let processes = self
            .core
            .processes()
            .filter_map(|(id, p)| {
                let snapshot = snapshot(self.core, self.cgroups, id)?;
                let leaf = self.cgroups.leaf_path(id);
                let uptime = if p.pid != 0 {
                    p.uptime(mono)
                } else {
                    Default::default()
                };
                Some(ProcessMetrics {
                    snapshot,
                    starts: p.spawn_count,
                    uptime_secs: uptime.as_secs_f64(),
                    memory_bytes: leaf.and_then(|l| crate::cgroup::memory_current(l).ok()),
                    cpu_usec: leaf.and_then(|l| crate::cgroup::cpu_usage_usec(l).ok()),
                })
            })
            .collect();
        Metrics {
            processes,
            daemon: daemon_metrics(),
        }
    }

    /// Every process (in start order), or the one keyed `group:name`.
    fn snapshots(&self, key: Option<&str>) -> Vec<ProcessSnapshot> {
        self.core
            .processes()
            .filter(|(_, p)| key.map_or(true, |k| k == format!("{}:{}", p.spec.group, p.spec.name)))
            .filter_map(|(id, _)| snapshot(self.core, self.cgroups, id))
            .collect()
    }
}

/// One process as the live faces show it.
pub fn snapshot(core: &Core, cgroups: &Cgroups, id: ProcId) -> Option<ProcessSnapshot> {
    let p = core.process(id)?;
    let info = core.process_info(id, super::now());
    let usec = |secs: f64| (secs.max(0.0) * 1e6) as u64;
    Some(ProcessSnapshot {
        namespec: p.namespec(),
        name: info.name,
        group: info.group,
        state: info.state,
        pid: info.pid,
        description: info.description,
        exit_status: info.exitstatus,
        spawn_error: info.spawnerr,
        start_usec: usec(p.laststart),
        stop_usec: usec(p.laststop),
        restarts: p.restart_count,
        control_group: cgroups.control_group(id).unwrap_or_default(),
        status_text: p.status_text.clone(),
    })
}

/// The daemon's resident memory (`VmRSS` of `/proc/self/status`), open
/// descriptors (entries of `/proc/self/fd`, less the one reading it) and
/// descriptor limit.
fn daemon_metrics() -> DaemonMetrics {
    let resident_bytes = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| vm_rss_bytes(&s));
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| (d.count() as u64).saturating_sub(1));
    let (soft, _) = crate::sys::rlimit::get(crate::sys::rlimit::Limit::NoFile);
    DaemonMetrics {
        resident_bytes,
        open_fds,
        max_fds: soft,
    }
}

/// `VmRSS:  1234 kB` from a `/proc/PID/status` text, in bytes.
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kb: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kb * 1024)
}

/// Write to a child's stdin pipe. It is non-blocking: a child that does not
/// read cannot stall the daemon; what does not fit is an error.
fn write_all_nonblocking(fd: &std::os::fd::OwnedFd, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match crate::sys::fd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_from_proc_status() {
        let status = "Name:\tpidvisord\nVmHWM:\t    4000 kB\nVmRSS:\t    3512 kB\nThreads:\t1\n";
        assert_eq!(vm_rss_bytes(status), Some(3512 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\n"), None);
        let own = daemon_metrics();
        assert!(own.resident_bytes.unwrap() > 0);
        assert!(own.open_fds.unwrap() >= 3);
    }
}
