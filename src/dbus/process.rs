//! `org.pidvisor.Supervisor1.Process`: one object per process. Every
//! property is read from the reactor when asked, so it is never staler than
//! `pidvisorctl status`; changes are pushed by the pump.

use std::collections::HashMap;

use zbus::zvariant::{OwnedValue, Str, Value};
use zbus::{interface, message::Header, Connection};

use super::{access, Client, Error, Policy, Snapshot};
use crate::api::{ConfigInfo, ConfigValue, ProcResult, Request, Response, Stream};

/// Every property name, in introspection order.
pub const PROPERTIES: &[&str] = &[
    "Id",
    "Name",
    "Group",
    "State",
    "StateCode",
    "ActiveState",
    "SubState",
    "MainPID",
    "Description",
    "ExitStatus",
    "SpawnError",
    "StartTimestamp",
    "StopTimestamp",
    "NRestarts",
    "ControlGroup",
    "StatusText",
];

/// Properties whose change is not signalled: `Description` carries the
/// uptime and so changes every second (`EmitsChangedSignal=false`).
pub const UNSIGNALLED: &[&str] = &["Description"];

fn text(s: &str) -> OwnedValue {
    OwnedValue::from(Str::from(s.to_owned()))
}

/// One property of a snapshot, as D-Bus sends it.
pub fn property(s: &Snapshot, name: &str) -> Option<OwnedValue> {
    Some(match name {
        "Id" => text(&s.namespec),
        "Name" => text(&s.name),
        "Group" => text(&s.group),
        "State" => text(s.state.name()),
        "StateCode" => OwnedValue::from(s.state.code()),
        "ActiveState" => text(s.state.active_state()),
        "SubState" => text(&s.state.name().to_ascii_lowercase()),
        "MainPID" => OwnedValue::from(s.pid),
        "Description" => text(&s.description),
        "ExitStatus" => OwnedValue::from(s.exit_status),
        "SpawnError" => text(&s.spawn_error),
        "StartTimestamp" => OwnedValue::from(s.start_usec),
        "StopTimestamp" => OwnedValue::from(s.stop_usec),
        "NRestarts" => OwnedValue::from(u32::try_from(s.restarts).unwrap_or(u32::MAX)),
        "ControlGroup" => text(&s.control_group),
        // systemd's StatusText: the last STATUS= of the notify protocol.
        "StatusText" => text(&s.status_text),
        _ => return None,
    })
}

/// A `getAllConfigInfo` value as D-Bus sends it: `b`, `x`, `s` or `ax`.
fn config_value(v: ConfigValue) -> OwnedValue {
    match v {
        ConfigValue::Bool(b) => OwnedValue::from(b),
        ConfigValue::Int(i) => OwnedValue::from(i),
        ConfigValue::Str(s) => text(&s),
        // An array of numbers holds no fd, the one thing that cannot be owned.
        ConfigValue::Ints(list) => {
            OwnedValue::try_from(Value::from(list)).unwrap_or_else(|_| text(""))
        }
    }
}

/// The record of `group:name` among `infos`, as an `a{sv}`.
fn config_of(infos: Vec<ConfigInfo>, key: &str) -> Option<HashMap<String, OwnedValue>> {
    let info = infos.into_iter().find(|i| {
        let group = match i.get("group") {
            Some(ConfigValue::Str(g)) => g.as_str(),
            _ => "",
        };
        format!("{group}:{}", i.name()) == key
    })?;
    Some(
        info.fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), config_value(v)))
            .collect(),
    )
}

/// The named properties (all when `names` is empty); unknown names are
/// skipped, as systemd's bulk getters do.
pub fn properties(s: &Snapshot, names: &[String]) -> HashMap<String, OwnedValue> {
    let all: Vec<String>;
    let names = if names.is_empty() {
        all = PROPERTIES.iter().map(|p| p.to_string()).collect();
        &all
    } else {
        names
    };
    names
        .iter()
        .filter_map(|n| property(s, n).map(|v| (n.clone(), v)))
        .collect()
}

/// The signalled properties that differ between two snapshots.
pub fn changed(old: &Snapshot, new: &Snapshot) -> Vec<(&'static str, OwnedValue)> {
    PROPERTIES
        .iter()
        .filter(|p| !UNSIGNALLED.contains(p))
        .filter_map(|&p| {
            let (a, b) = (property(old, p)?, property(new, p)?);
            (a != b).then_some((p, b))
        })
        .collect()
}

/// Group and all-process results as `a(ssis)`: name, group, status (a
/// fault code, 80 for success), description (`OK` or the fault text).
pub(crate) fn results(r: Response) -> Result<Vec<(String, String, i32, String)>, Error> {
    let Response::Results(items) = r else {
        return Err(Error::unexpected(&r));
    };
    Ok(items.into_iter().map(result_tuple).collect())
}

fn result_tuple(r: ProcResult) -> (String, String, i32, String) {
    let (status, description) = (r.status(), r.description().to_string());
    (r.name, r.group, status, description)
}

/// A plain `true` answer.
pub(crate) fn boolean(r: Response) -> Result<bool, Error> {
    match r {
        Response::Bool(b) => Ok(b),
        other => Err(Error::unexpected(&other)),
    }
}

/// `tailProcess*Log`: `(bytes, next offset, overflow)`.
pub(crate) async fn read_log(
    client: &Client,
    namespec: &str,
    stream: &str,
    offset: i64,
    length: i64,
) -> Result<(String, i64, bool), Error> {
    let stream = match stream {
        "stdout" | "" => Stream::Stdout,
        "stderr" => Stream::Stderr,
        other => {
            return Err(Error::BAD_ARGUMENTS(format!(
                "BAD_ARGUMENTS: stream must be stdout or stderr, not {other}"
            )))
        }
    };
    let request = Request::TailProcessLog {
        name: namespec.into(),
        stream,
        offset,
        length,
    };
    match client.ask(request).await? {
        Response::Tail(t) => Ok((t.text, t.offset, t.overflow)),
        other => Err(Error::unexpected(&other)),
    }
}

/// Supervisorctl's restart: stop (not running is fine), then start.
pub(crate) async fn restart(client: &Client, namespec: &str, wait: bool) -> Result<bool, Error> {
    let name = namespec.to_string();
    let stop = Request::StopProcess {
        name: name.clone(),
        wait: true,
    };
    match client.ask(stop).await {
        Ok(_) | Err(Error::NOT_RUNNING(_)) => {}
        Err(e) => return Err(e),
    }
    boolean(client.ask(Request::StartProcess { name, wait }).await?)
}

pub struct ProcessObject {
    /// `group:name`, the key of its snapshot.
    key: String,
    /// The name as `status` shows it (`name`, or `group:name`), which is
    /// what the calls send, so faults name it as the manager's do.
    namespec: String,
    client: Client,
    policy: Policy,
}

/// What is served at a process's path: the object, its properties
/// refused as read-only on `Set`.
pub type Served = super::readonly::ReadOnly<ProcessObject>;

impl ProcessObject {
    /// The object for process `group:name`, ready to serve.
    pub(crate) fn served(group: &str, name: &str, client: Client, policy: Policy) -> Served {
        super::readonly::ReadOnly {
            inner: ProcessObject::new(group, name, client, policy),
            names: PROPERTIES,
        }
    }

    fn new(group: &str, name: &str, client: Client, policy: Policy) -> ProcessObject {
        ProcessObject {
            key: format!("{group}:{name}"),
            namespec: super::namespec(group, name),
            client,
            policy,
        }
    }

    async fn snapshot(&self) -> zbus::fdo::Result<Snapshot> {
        self.client
            .snapshots(Some(self.key.clone()))
            .await
            .map_err(Error::into_fdo)?
            .into_iter()
            .next()
            .ok_or_else(|| zbus::fdo::Error::UnknownObject(format!("no process {}", self.key)))
    }

    async fn prop(&self, name: &str) -> zbus::fdo::Result<OwnedValue> {
        let s = self.snapshot().await?;
        property(&s, name).ok_or_else(|| zbus::fdo::Error::UnknownProperty(name.into()))
    }
}

fn text_of(v: OwnedValue) -> String {
    String::try_from(v).unwrap_or_default()
}

#[interface(name = "org.pidvisor.Supervisor1.Process")]
impl ProcessObject {
    /// Start the process; with `wait`, answer once it is RUNNING.
    async fn start(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        access::check(&self.policy, conn, &hdr, "Start").await?;
        let name = self.namespec.clone();
        boolean(
            self.client
                .ask(Request::StartProcess { name, wait })
                .await?,
        )
    }

    /// Stop the process; with `wait`, answer once it is stopped.
    async fn stop(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        access::check(&self.policy, conn, &hdr, "Stop").await?;
        let name = self.namespec.clone();
        boolean(self.client.ask(Request::StopProcess { name, wait }).await?)
    }

    /// Stop (if running), then start.
    async fn restart(
        &self,
        wait: bool,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        access::check(&self.policy, conn, &hdr, "Restart").await?;
        restart(&self.client, &self.namespec, wait).await
    }

    /// Send a signal, by name (`HUP`, `SIGHUP`) or number (`1`).
    async fn signal(
        &self,
        signal: &str,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<bool, Error> {
        access::check(&self.policy, conn, &hdr, "Signal").await?;
        let request = Request::SignalProcess {
            name: self.namespec.clone(),
            signal: signal.into(),
        };
        boolean(self.client.ask(request).await?)
    }

    /// Like `tailProcessStdoutLog`: `stream` is `stdout` or `stderr`;
    /// answers `(data, next_offset, overflow)`. Logs may hold secrets, so
    /// this needs the same right as a state change.
    #[zbus(out_args("data", "offset", "overflow"))]
    async fn read_log(
        &self,
        stream: &str,
        offset: i64,
        length: i64,
        #[zbus(header)] hdr: Header<'_>,
        #[zbus(connection)] conn: &Connection,
    ) -> Result<(String, i64, bool), Error> {
        access::check(&self.policy, conn, &hdr, "ReadLog").await?;
        read_log(&self.client, &self.namespec, stream, offset, length).await
    }

    /// The process's configuration as `getAllConfigInfo` gives it (the
    /// same keys, including pidvisor's own options where they are set).
    async fn get_config(&self) -> Result<HashMap<String, OwnedValue>, Error> {
        let infos = match self.client.ask(Request::GetAllConfigInfo).await? {
            Response::ConfigInfos(infos) => infos,
            other => return Err(Error::unexpected(&other)),
        };
        config_of(infos, &self.key)
            .ok_or_else(|| Error::BAD_NAME(format!("BAD_NAME: {}", self.namespec)))
    }

    /// Supervisor's namespec (`name` or `group:name`), as `pidvisorctl status` prints it.
    #[zbus(property(emits_changed_signal = "const"))]
    async fn id(&self) -> zbus::fdo::Result<String> {
        self.prop("Id").await.map(text_of)
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn name(&self) -> zbus::fdo::Result<String> {
        self.prop("Name").await.map(text_of)
    }

    #[zbus(property(emits_changed_signal = "const"))]
    async fn group(&self) -> zbus::fdo::Result<String> {
        self.prop("Group").await.map(text_of)
    }

    /// Supervisor's state name: STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, UNKNOWN.
    #[zbus(property)]
    async fn state(&self) -> zbus::fdo::Result<String> {
        self.prop("State").await.map(text_of)
    }

    /// Supervisor's state code (0, 10, 20, 30, 40, 100, 200, 1000).
    #[zbus(property)]
    async fn state_code(&self) -> zbus::fdo::Result<i32> {
        Ok(i32::try_from(self.prop("StateCode").await?).unwrap_or(0))
    }

    /// systemd's vocabulary: inactive, activating, active, deactivating, failed.
    #[zbus(property)]
    async fn active_state(&self) -> zbus::fdo::Result<String> {
        self.prop("ActiveState").await.map(text_of)
    }

    /// The state name in lower case.
    #[zbus(property)]
    async fn sub_state(&self) -> zbus::fdo::Result<String> {
        self.prop("SubState").await.map(text_of)
    }

    /// 0 when there is no child.
    #[zbus(property, name = "MainPID")]
    async fn main_pid(&self) -> zbus::fdo::Result<u32> {
        Ok(u32::try_from(self.prop("MainPID").await?).unwrap_or(0))
    }

    /// The status text `pidvisorctl status` shows (`pid 42, uptime 0:01:02`).
    #[zbus(property(emits_changed_signal = "false"))]
    async fn description(&self) -> zbus::fdo::Result<String> {
        self.prop("Description").await.map(text_of)
    }

    #[zbus(property)]
    async fn exit_status(&self) -> zbus::fdo::Result<i32> {
        Ok(i32::try_from(self.prop("ExitStatus").await?).unwrap_or(0))
    }

    #[zbus(property)]
    async fn spawn_error(&self) -> zbus::fdo::Result<String> {
        self.prop("SpawnError").await.map(text_of)
    }

    /// Wall clock of the last spawn, microseconds since the epoch; 0 = never.
    #[zbus(property)]
    async fn start_timestamp(&self) -> zbus::fdo::Result<u64> {
        Ok(u64::try_from(self.prop("StartTimestamp").await?).unwrap_or(0))
    }

    /// Wall clock of the last exit, microseconds since the epoch; 0 = never.
    #[zbus(property)]
    async fn stop_timestamp(&self) -> zbus::fdo::Result<u64> {
        Ok(u64::try_from(self.prop("StopTimestamp").await?).unwrap_or(0))
    }

    /// Spawns made by autorestart or start retries.
    #[zbus(property, name = "NRestarts")]
    async fn n_restarts(&self) -> zbus::fdo::Result<u32> {
        Ok(u32::try_from(self.prop("NRestarts").await?).unwrap_or(0))
    }

    /// The process's cgroup; empty while pidvisor runs without cgroups.
    #[zbus(property)]
    async fn control_group(&self) -> zbus::fdo::Result<String> {
        self.prop("ControlGroup").await.map(text_of)
    }

    /// The last `STATUS=` the program sent on its notify socket (as
    /// systemd's `StatusText`); empty when none.
    #[zbus(property)]
    async fn status_text(&self) -> zbus::fdo::Result<String> {
        self.prop("StatusText").await.map(text_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dbus::pump::placeholder;

    #[test]
    fn changed_lists_signalled_properties_only() {
        let old = placeholder("web", "web");
        let mut new = old.clone();
        new.state = crate::api::ProcessState::Running;
        new.pid = 42;
        new.description = "pid 42, uptime 0:00:01".into();
        let mut names: Vec<&str> = changed(&old, &new).into_iter().map(|(k, _)| k).collect();
        names.sort();
        // Description changes all the time and is read, not signalled.
        assert_eq!(
            names,
            ["ActiveState", "MainPID", "State", "StateCode", "SubState"]
        );
        assert!(changed(&new, &new).is_empty());
        let mut told = new.clone();
        told.status_text = "warming up".into();
        let names: Vec<&str> = changed(&new, &told).into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["StatusText"]);
    }

    #[test]
    fn properties_pick_names_and_skip_unknown_ones() {
        let mut s = placeholder("g", "p");
        s.pid = 7;
        s.restarts = 3;
        let all = properties(&s, &[]);
        assert_eq!(all.len(), PROPERTIES.len());
        assert_eq!(all["Id"], text("g:p"));
        assert_eq!(all["NRestarts"], OwnedValue::from(3u32));
        let some = properties(&s, &["MainPID".into(), "Nope".into()]);
        assert_eq!(some.len(), 1);
        assert_eq!(some["MainPID"], OwnedValue::from(7u32));
        assert_eq!(placeholder("p", "p").namespec, "p");
    }
}
