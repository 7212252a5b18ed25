//! `org.pidvisor.Supervisor1.Manager` at `/org/pidvisor/Supervisor1`.

use std::collections::HashMap;

use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue};
use zbus::{interface, message::Header, Connection};

use super::process::{self, boolean, results};
use super::{access, process_path, snapshot_path, Client, Error, Policy, Snapshot};
use crate::api::{Request, Response};

/// `(name, group, status, description)` per process, as Supervisor's
/// group and all-process calls answer.
type Results = Vec<(String, String, i32, String)>;
/// `(added, changed, removed)` group names. The D-Bus methods spell the
/// tuple out: zbus's `out_args` sees three out arguments only in a literal
/// tuple type, and an alias would declare one `(asasas)` struct.
type Diff = (Vec<String>, Vec<String>, Vec<String>);

pub struct Manager {
    client: Client,
    policy: Policy,
}

impl Manager {
    pub(crate) fn new(client: Client, policy: Policy) -> Manager {
        Manager { client, policy }
    }

    async fn check(&self, conn: &Connection, hdr: &Header<'_>, what: &str) -> Result<(), Error> {
        access::check(&self.policy, conn, hdr, what).await
    }

    async fn ask(&self, request: Request) -> Result<Response, Error> {
        self.client.ask(request).await
    }

    /// A state-changing request: the caller's right is checked first.
    async fn change(
        &self,
        conn: &Connection,
        hdr: &Header<'_>,
        what: &str,
        request: Request,
    ) -> Result<Response, Error> {
        self.check(conn, hdr, what).await?;
        self.ask(request).await
    }

    async fn reread(&self) -> Result<Diff, Error> {
        match self.ask(Request::ReloadConfig).await? {
            Response::Diff(d) => Ok((d.added, d.changed, d.removed)),
            other => Err(Error::unexpected(&other)),
        }
    }
}

fn path(s: &Snapshot) -> OwnedObjectPath {
    // Escaped labels are always valid path elements.
    OwnedObjectPath::try_from(snapshot_path(s)).unwrap_or_else(|_| OwnedObjectPath::default())
}

#[interface(name = "org.pidvisor.Supervisor1.Manager")]
impl Manager {
    /// Every process in start order: `(id, group, name, state,
    /// active_state, main_pid, description, object)`.
    async fn list_processes(
        &self,
    ) -> Result<
        Vec<(
            String,
            String,
            String,
            String,
            String,
            u32,
            String,
            OwnedObjectPath,
        )>,
        Error,
    > {
        let snaps = self.client.snapshots(None).await?;
        Ok(snaps
            .iter()
            .map(|s| {
                (
                    s.namespec.clone(),
                    s.group.clone(),
                    s.name.clone(),
                    s.state.name().to_owned(),
                    s.state.active_state().to_owned(),
                    s.pid,
                    s.description.clone(),
                    path(s),
                )
            })
            .collect())
    }

    /// Every process with the named properties (all when `names` is empty),
    /// in one call.
    async fn list_processes_with_properties(
        &self,
        names: Vec<String>,
    ) -> Result<Vec<(OwnedObjectPath, HashMap<String, OwnedValue>)>, Error> {
        let snaps = self.client.snapshots(None).await?;
        Ok(snaps
            .iter()
            .map(|s| (path(s), process::properties(s, &names)))
            .collect())
    }

    /// The object of a process (`name`, `group:name`); BAD_NAME if unknown.
    async fn get_process(&self, name: &str) -> Result<OwnedObjectPath, Error> {
        let name = name.into();
        let Response::Info(info) = self.ask(Request::GetProcessInfo { name }).await? else {
            return Err(Error::FAILED("FAILED: unexpected answer".into()));
        };
        let p = process_path(&info.group, &info.name);
        Ok(OwnedObjectPath::try_from(p).unwrap_or_default())
    }

    /// The object of the process whose main pid is `pid`.
    #[zbus(name = "GetProcessByPID")]
    async fn get_process_by_pid(&self, pid: u32) -> Result<OwnedObjectPath, Error> {
        let snaps = self.client.snapshots(None).await?;
        snaps
            .iter()
            .find(|s| pid != 0 && s.pid == pid)
            .map(path)
            .ok_or_else(|| Error::BAD_NAME(format!("BAD_NAME: no process has pid {pid}")))
    }

    async fn start_process(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        let request = Request::StartProcess {
            name: name.into(),
            wait,
        };
        boolean(self.change(conn, &hdr, "StartProcess", request).await?)
    }

    async fn stop_process(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        let request = Request::StopProcess {
            name: name.into(),
            wait,
        };
        boolean(self.change(conn, &hdr, "StopProcess", request).await?)
    }

    async fn restart_process(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        self.check(conn, &hdr, "RestartProcess").await?;
        process::restart(&self.client, name, wait).await
    }

    async fn signal_process(
        &self,
        name: &str,
        signal: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        let request = Request::SignalProcess {
            name: name.into(),
            signal: signal.into(),
        };
        boolean(self.change(conn, &hdr, "SignalProcess", request).await?)
    }

    async fn start_group(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let request = Request::StartProcessGroup {
            name: name.into(),
            wait,
        };
        results(self.change(conn, &hdr, "StartGroup", request).await?)
    }

    async fn stop_group(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let request = Request::StopProcessGroup {
            name: name.into(),
            wait,
        };
        results(self.change(conn, &hdr, "StopGroup", request).await?)
    }

    /// Stop the group (waiting), then start it; answers the start results.
    async fn restart_group(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        self.check(conn, &hdr, "RestartGroup").await?;
        let name = name.to_string();
        self.ask(Request::StopProcessGroup {
            name: name.clone(),
            wait: true,
        })
        .await?;
        results(self.ask(Request::StartProcessGroup { name, wait }).await?)
    }

    async fn signal_group(
        &self,
        name: &str,
        signal: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let request = Request::SignalProcessGroup {
            name: name.into(),
            signal: signal.into(),
        };
        results(self.change(conn, &hdr, "SignalGroup", request).await?)
    }

    async fn start_all(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let request = Request::StartAllProcesses { wait };
        results(self.change(conn, &hdr, "StartAll", request).await?)
    }

    async fn stop_all(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let request = Request::StopAllProcesses { wait };
        results(self.change(conn, &hdr, "StopAll", request).await?)
    }

    async fn restart_all(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        self.check(conn, &hdr, "RestartAll").await?;
        self.ask(Request::StopAllProcesses { wait: true }).await?;
        results(self.ask(Request::StartAllProcesses { wait }).await?)
    }

    async fn signal_all(
        &self,
        signal: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let request = Request::SignalAllProcesses {
            signal: signal.into(),
        };
        results(self.change(conn, &hdr, "SignalAll", request).await?)
    }

    /// Re-read the config (`reloadConfig`): `(added, changed, removed)` groups.
    #[zbus(out_args("added", "changed", "removed"))]
    async fn reload_config(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(Vec<String>, Vec<String>, Vec<String>), Error> {
        self.check(conn, &hdr, "ReloadConfig").await?;
        self.reread().await
    }

    /// Re-read and apply, like `supervisorctl update`: removed groups are
    /// stopped and removed, changed ones stopped, removed and added again,
    /// new ones added. Answers the diff it applied.
    #[zbus(out_args("added", "changed", "removed"))]
    async fn update(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(Vec<String>, Vec<String>, Vec<String>), Error> {
        self.check(conn, &hdr, "Update").await?;
        let (added, changed, removed) = self.reread().await?;
        for name in removed.iter().chain(&changed) {
            let name = name.clone();
            self.ask(Request::StopProcessGroup {
                name: name.clone(),
                wait: true,
            })
            .await?;
            self.ask(Request::RemoveProcessGroup { name }).await?;
        }
        for name in changed.iter().chain(&added) {
            let name = name.clone();
            self.ask(Request::AddProcessGroup { name }).await?;
        }
        Ok((added, changed, removed))
    }

    /// Clear a process's stdout and stderr logs.
    async fn clear_log(
        &self,
        name: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        let request = Request::ClearProcessLogs { name: name.into() };
        boolean(self.change(conn, &hdr, "ClearLog", request).await?)
    }

    async fn clear_main_log(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        boolean(
            self.change(conn, &hdr, "ClearMainLog", Request::ClearMainLog)
                .await?,
        )
    }

    /// A window of a process log (`stdout`/`stderr`), like
    /// `tailProcessStdoutLog`: `(data, next_offset, overflow)`.
    #[zbus(out_args("data", "offset", "overflow"))]
    async fn read_log(
        &self,
        name: &str,
        stream: &str,
        offset: i64,
        length: i64,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(String, i64, bool), Error> {
        self.check(conn, &hdr, "ReadLog").await?;
        process::read_log(&self.client, name, stream, offset, length).await
    }

    /// `length` bytes of the main log from `offset` (`readLog`).
    async fn read_main_log(
        &self,
        offset: i64,
        length: i64,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<String, Error> {
        let request = Request::ReadMainLog { offset, length };
        match self.change(conn, &hdr, "ReadMainLog", request).await? {
            Response::Text(t) => Ok(t),
            other => Err(Error::unexpected(&other)),
        }
    }

    /// Stop everything and exit.
    async fn shutdown(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        boolean(
            self.change(conn, &hdr, "Shutdown", Request::Shutdown)
                .await?,
        )
    }

    /// Stop everything, re-read the config and start again (`supervisor.restart`).
    async fn reload(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        boolean(self.change(conn, &hdr, "Reload", Request::Restart).await?)
    }

    /// The Supervisor version pidvisor is compatible with.
    async fn version(&self) -> String {
        crate::api::SUPERVISOR_VERSION.to_owned()
    }

    /// The daemon's state: `(code, name)`, e.g. `(1, "RUNNING")`.
    #[zbus(out_args("code", "name"))]
    async fn state(&self) -> Result<(i32, String), Error> {
        match self.ask(Request::GetState).await? {
            Response::State(s) => Ok((s.code(), s.name().to_owned())),
            other => Err(Error::unexpected(&other)),
        }
    }

    /// A process changed state (`id` is its namespec).
    #[zbus(signal)]
    pub async fn process_state_changed(
        emitter: &SignalEmitter<'_>,
        id: &str,
        process: ObjectPath<'_>,
        old_state: &str,
        new_state: &str,
    ) -> zbus::Result<()>;

    /// A process object appeared (a group was added).
    #[zbus(signal)]
    pub async fn process_new(
        emitter: &SignalEmitter<'_>,
        id: &str,
        process: ObjectPath<'_>,
    ) -> zbus::Result<()>;

    /// A process object went away (its group was removed).
    #[zbus(signal)]
    pub async fn process_removed(
        emitter: &SignalEmitter<'_>,
        id: &str,
        process: ObjectPath<'_>,
    ) -> zbus::Result<()>;
}
