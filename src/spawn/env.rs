//! The child's environment, built the way Supervisor builds it.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};

use crate::config::types::{ProgramSpec, UserSpec};

/// An ordered environment where setting an existing key replaces its value
/// in place (Python dict semantics, so the child sees Supervisor's order).
#[derive(Debug, Default, Clone)]
pub struct Environment {
    vars: Vec<(OsString, OsString)>,
    index: HashMap<OsString, usize>,
}

impl Environment {
    pub fn new() -> Environment {
        Environment::default()
    }

    /// Set `key` to `value`; a later set wins.
    pub fn set(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) {
        let (key, value) = (key.into(), value.into());
        match self.index.get(&key) {
            Some(&i) => self.vars[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.vars.len());
                self.vars.push((key, value));
            }
        }
    }

    pub fn get(&self, key: impl AsRef<OsStr>) -> Option<&OsStr> {
        self.index
            .get(key.as_ref())
            .map(|&i| self.vars[i].1.as_os_str())
    }

    /// Where `key` is in [`Environment::vars`].
    pub fn position(&self, key: impl AsRef<OsStr>) -> Option<usize> {
        self.index.get(key.as_ref()).copied()
    }

    /// The variables in order.
    pub fn vars(&self) -> &[(OsString, OsString)] {
        &self.vars
    }
}

/// What the daemon contributes to every child's environment.
#[derive(Debug, Clone, Copy)]
pub struct DaemonEnv<'a> {
    /// The daemon's own environ (a snapshot taken once at start-up).
    pub environ: &'a [(OsString, OsString)],
    /// The daemon's own URL (first unix server as `unix://FILE`, else the
    /// first inet server); a program's `serverurl` overrides it.
    pub server_url: Option<&'a str>,
    /// The notify socket's address (`@name`) for programs that use it.
    pub notify_socket: Option<&'a str>,
}

/// Supervisor's child environment, in order: the daemon's environ,
/// `SUPERVISOR_ENABLED=1`, `SUPERVISOR_SERVER_URL` (omitted when there is no
/// URL), `SUPERVISOR_PROCESS_NAME`, `SUPERVISOR_GROUP_NAME`, then (pidvisor)
/// `NOTIFY_SOCKET` and `WATCHDOG_USEC` for programs on the notify socket,
/// `HOME`/`USER`/`LOGNAME`/`SHELL` of `user=`, then (pidvisor) what the
/// `environment_file` says (see [`overlay`]), then the program's
/// `environment` (`[supervisord] environment` merged under the program's own
/// at load, as Supervisor does); later wins.
///
/// Setting the user's variables before the `environment=` layers is what
/// makes an explicit `environment=HOME=...` win (a documented divergence:
/// Supervisor leaves the daemon's HOME/USER in place under `user=`).
pub fn build(spec: &ProgramSpec, user: Option<&UserSpec>, daemon: &DaemonEnv<'_>) -> Environment {
    let mut env = Environment::new();
    for (k, v) in daemon.environ {
        env.set(k.clone(), v.clone());
    }
    overlay(&mut env, spec, user, daemon, &[]);
    env
}

/// The layers of [`build`] after the daemon's environ: what one program
/// sets on top of it, in the same order. `file` is what its
/// `environment_file` holds (read at this spawn), under `environment=`.
pub fn overlay(
    env: &mut Environment,
    spec: &ProgramSpec,
    user: Option<&UserSpec>,
    daemon: &DaemonEnv<'_>,
    file: &[(String, String)],
) {
    env.set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = spec
        .serverurl
        .as_deref()
        .or(daemon.server_url)
        .filter(|u| !u.is_empty())
    {
        env.set("SUPERVISOR_SERVER_URL", url);
    }
    env.set("SUPERVISOR_PROCESS_NAME", &spec.name);
    env.set("SUPERVISOR_GROUP_NAME", &spec.group);
    // pidvisor (issue 17): the notify socket, and the watchdog interval
    // (WATCHDOG_PID, the child's own pid, is added by the spawner).
    if let Some(socket) = daemon.notify_socket.filter(|_| spec.notify.uses_socket()) {
        env.set("NOTIFY_SOCKET", socket);
        if !spec.notify.watchdog.is_zero() {
            env.set(
                "WATCHDOG_USEC",
                spec.notify.watchdog.as_micros().to_string(),
            );
        }
    }
    if let Some(user) = user {
        env.set("HOME", user.home.as_os_str());
        env.set("USER", &user.name);
        env.set("LOGNAME", &user.name);
        env.set("SHELL", user.shell.as_os_str());
    }
    for (k, v) in file {
        env.set(k, v);
    }
    for (k, v) in &spec.environment {
        env.set(k, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn os(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }
    fn st(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }
    fn flat(env: &Environment) -> Vec<(String, String)> {
        env.vars()
            .iter()
            .map(|(k, v)| (k.to_str().unwrap().into(), v.to_str().unwrap().into()))
            .collect()
    }

    #[test]
    fn supervisor_order_and_precedence() {
        let environ = os(&[
            ("PATH", "/bin"),
            ("HOME", "/root"),
            ("SUPERVISOR_ENABLED", "0"),
        ]);
        let mut spec = ProgramSpec::with_defaults("web_01", "x");
        spec.group = "web".into();
        // [supervisord] environment A=sup,B=sup merged under the program's.
        spec.environment = st(&[
            ("A", "sup"),
            ("B", "sup"),
            ("B", "prog"),
            ("SUPERVISOR_PROCESS_NAME", "mine"),
        ]);
        let daemon = DaemonEnv {
            environ: &environ,
            server_url: Some("unix:///run/s.sock"),
            notify_socket: None,
        };
        let env = build(&spec, None, &daemon);
        assert_eq!(
            flat(&env),
            st(&[
                ("PATH", "/bin"),
                ("HOME", "/root"),
                ("SUPERVISOR_ENABLED", "1"),
                ("SUPERVISOR_SERVER_URL", "unix:///run/s.sock"),
                ("SUPERVISOR_PROCESS_NAME", "mine"),
                ("SUPERVISOR_GROUP_NAME", "web"),
                ("A", "sup"),
                ("B", "prog"),
            ])
        );
        // A program serverurl overrides; no URL at all omits the variable.
        spec.serverurl = Some("http://h:1".into());
        let env = build(&spec, None, &daemon);
        assert_eq!(env.get("SUPERVISOR_SERVER_URL").unwrap(), "http://h:1");
        spec.serverurl = None;
        let none = DaemonEnv {
            server_url: None,
            ..daemon
        };
        assert!(build(&spec, None, &none)
            .get("SUPERVISOR_SERVER_URL")
            .is_none());
    }

    #[test]
    fn user_vars_unless_environment_sets_them() {
        let environ = os(&[("HOME", "/root"), ("USER", "root")]);
        let user = UserSpec {
            written: "nobody".into(),
            name: "nobody".into(),
            uid: 65534,
            gid: 65534,
            home: PathBuf::from("/nonexistent"),
            shell: PathBuf::from("/usr/sbin/nologin"),
        };
        let mut spec = ProgramSpec::with_defaults("p", "x");
        spec.environment = st(&[("LOGNAME", "custom"), ("SHELL", "/bin/sh")]);
        let daemon = DaemonEnv {
            environ: &environ,
            server_url: None,
            notify_socket: None,
        };
        let env = build(&spec, Some(&user), &daemon);
        assert_eq!(env.get("HOME").unwrap(), "/nonexistent");
        assert_eq!(env.get("USER").unwrap(), "nobody");
        assert_eq!(env.get("LOGNAME").unwrap(), "custom");
        assert_eq!(env.get("SHELL").unwrap(), "/bin/sh");
    }

    #[test]
    fn notify_socket_for_programs_that_use_it() {
        use crate::config::NotifyAccess;
        let environ = os(&[("PATH", "/bin")]);
        let daemon = DaemonEnv {
            environ: &environ,
            server_url: None,
            notify_socket: Some("@pidvisord-1-notify"),
        };
        let mut spec = ProgramSpec::with_defaults("p", "x");
        assert!(build(&spec, None, &daemon).get("NOTIFY_SOCKET").is_none());
        spec.notify.access = NotifyAccess::Main;
        let env = build(&spec, None, &daemon);
        assert_eq!(env.get("NOTIFY_SOCKET").unwrap(), "@pidvisord-1-notify");
        assert!(env.get("WATCHDOG_USEC").is_none());
        spec.notify.watchdog = std::time::Duration::from_millis(1500);
        let env = build(&spec, None, &daemon);
        assert_eq!(env.get("WATCHDOG_USEC").unwrap(), "1500000");
        // environment= may still override it.
        spec.environment = st(&[("NOTIFY_SOCKET", "/elsewhere")]);
        let env = build(&spec, None, &daemon);
        assert_eq!(env.get("NOTIFY_SOCKET").unwrap(), "/elsewhere");
    }
}
