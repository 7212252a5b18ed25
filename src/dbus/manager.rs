//! `org.pidvisor.Supervisor1.Manager` at `/org/pidvisor/Supervisor1`.

use std::collections::HashMap;

use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue};
use zbus::{interface, message::Header, Connection};

use super::process::{self, results};
use super::{access, active_state, process_path, Client, Error, Policy, Snapshot};
use crate::control::xmlrpc::Value;

/// `(name, group, status, description)` per process, as Supervisor's
/// group and all-process calls answer.
type Results = Vec<(String, String, i32, String)>;
/// `(added, changed, removed)` group names.
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

    async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, Error> {
        self.client.call(method, params).await
    }

    /// A state-changing call: the caller's right is checked first.
    async fn change(
        &self,
        conn: &Connection,
        hdr: &Header<'_>,
        what: &str,
        method: &str,
        params: Vec<Value>,
    ) -> Result<Value, Error> {
        self.check(conn, hdr, what).await?;
        self.call(method, params).await
    }

    async fn reread(&self) -> Result<Diff, Error> {
        let v = self.call("reloadConfig", vec![]).await?;
        let list = |x: Option<&Value>| -> Vec<String> {
            x.and_then(Value::as_array)
                .unwrap_or(&[])
                .iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        // [[added, changed, removed]]
        let inner = v
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_array)
            .unwrap_or(&[]);
        Ok((list(inner.first()), list(inner.get(1)), list(inner.get(2))))
    }
}

fn path(s: &Snapshot) -> OwnedObjectPath {
    // Escaped labels are always valid path elements.
    OwnedObjectPath::try_from(s.path()).unwrap_or_else(|_| OwnedObjectPath::default())
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
                    s.state.clone(),
                    active_state(&s.state).to_owned(),
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
        let info = self.call("getProcessInfo", vec![name.into()]).await?;
        let p = process_path(info.str_field("group"), info.str_field("name"));
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
        let v = self
            .change(
                conn,
                &hdr,
                "StartProcess",
                "startProcess",
                vec![name.into(), wait.into()],
            )
            .await?;
        Ok(v.as_bool().unwrap_or(true))
    }

    async fn stop_process(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        let v = self
            .change(
                conn,
                &hdr,
                "StopProcess",
                "stopProcess",
                vec![name.into(), wait.into()],
            )
            .await?;
        Ok(v.as_bool().unwrap_or(true))
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
        let v = self
            .change(
                conn,
                &hdr,
                "SignalProcess",
                "signalProcess",
                vec![name.into(), signal.into()],
            )
            .await?;
        Ok(v.as_bool().unwrap_or(true))
    }

    async fn start_group(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let v = self
            .change(
                conn,
                &hdr,
                "StartGroup",
                "startProcessGroup",
                vec![name.into(), wait.into()],
            )
            .await?;
        Ok(results(v))
    }

    async fn stop_group(
        &self,
        name: &str,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let v = self
            .change(
                conn,
                &hdr,
                "StopGroup",
                "stopProcessGroup",
                vec![name.into(), wait.into()],
            )
            .await?;
        Ok(results(v))
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
        self.call("stopProcessGroup", vec![name.into(), true.into()])
            .await?;
        let v = self
            .call("startProcessGroup", vec![name.into(), wait.into()])
            .await?;
        Ok(results(v))
    }

    async fn signal_group(
        &self,
        name: &str,
        signal: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        let v = self
            .change(
                conn,
                &hdr,
                "SignalGroup",
                "signalProcessGroup",
                vec![name.into(), signal.into()],
            )
            .await?;
        Ok(results(v))
    }

    async fn start_all(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        self.check(conn, &hdr, "StartAll").await?;
        Ok(results(
            self.call("startAllProcesses", vec![wait.into()]).await?,
        ))
    }

    async fn stop_all(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        self.check(conn, &hdr, "StopAll").await?;
        Ok(results(
            self.call("stopAllProcesses", vec![wait.into()]).await?,
        ))
    }

    async fn restart_all(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        self.check(conn, &hdr, "RestartAll").await?;
        self.call("stopAllProcesses", vec![true.into()]).await?;
        Ok(results(
            self.call("startAllProcesses", vec![wait.into()]).await?,
        ))
    }

    async fn signal_all(
        &self,
        signal: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Results, Error> {
        self.check(conn, &hdr, "SignalAll").await?;
        Ok(results(
            self.call("signalAllProcesses", vec![signal.into()]).await?,
        ))
    }

    /// Re-read the config (`reloadConfig`): `(added, changed, removed)` groups.
    async fn reload_config(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Diff, Error> {
        self.check(conn, &hdr, "ReloadConfig").await?;
        self.reread().await
    }

    /// Re-read and apply, like `supervisorctl update`: removed groups are
    /// stopped and removed, changed ones stopped, removed and added again,
    /// new ones added. Answers the diff it applied.
    async fn update(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<Diff, Error> {
        self.check(conn, &hdr, "Update").await?;
        let (added, changed, removed) = self.reread().await?;
        for g in removed.iter().chain(&changed) {
            self.call("stopProcessGroup", vec![g.as_str().into(), true.into()])
                .await?;
            self.call("removeProcessGroup", vec![g.as_str().into()])
                .await?;
        }
        for g in changed.iter().chain(&added) {
            self.call("addProcessGroup", vec![g.as_str().into()])
                .await?;
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
        self.check(conn, &hdr, "ClearLog").await?;
        let v = self.call("clearProcessLogs", vec![name.into()]).await?;
        Ok(v.as_bool().unwrap_or(true))
    }

    async fn clear_main_log(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        self.check(conn, &hdr, "ClearMainLog").await?;
        let v = self.call("clearLog", vec![]).await?;
        Ok(v.as_bool().unwrap_or(true))
    }

    /// A window of a process log (`stdout`/`stderr`), like
    /// `tailProcessStdoutLog`: `(data, next_offset, overflow)`.
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
        let v = self
            .change(
                conn,
                &hdr,
                "ReadMainLog",
                "readLog",
                vec![Value::Int(offset), Value::Int(length)],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Stop everything and exit.
    async fn shutdown(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        self.check(conn, &hdr, "Shutdown").await?;
        let v = self.call("shutdown", vec![]).await?;
        Ok(v.as_bool().unwrap_or(true))
    }

    /// Stop everything, re-read the config and start again (`supervisor.restart`).
    async fn reload(
        &self,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        self.check(conn, &hdr, "Reload").await?;
        let v = self.call("restart", vec![]).await?;
        Ok(v.as_bool().unwrap_or(true))
    }

    /// The Supervisor version pidvisor is compatible with.
    async fn version(&self) -> String {
        crate::control::rpc::SUPERVISOR_VERSION.to_owned()
    }

    /// The daemon's state: `(code, name)`, e.g. `(1, "RUNNING")`.
    async fn state(&self) -> Result<(i32, String), Error> {
        let v = self.call("getState", vec![]).await?;
        Ok((
            i32::try_from(v.int_field("statecode")).unwrap_or(0),
            v.str_field("statename").to_owned(),
        ))
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
