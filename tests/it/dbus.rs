//! The D-Bus service (issue 7) on a private `dbus-daemon` per test, with
//! our policy file included, driven by the real `busctl`, `dbus-send` and
//! `dbus-monitor`; whatever D-Bus shows must agree with `pidvisorctl status`.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Output, Stdio};

use crate::fixture::*;
use crate::skip;

const NAME: &str = "org.pidvisor.Supervisor1";
const MANAGER: &str = "/org/pidvisor/Supervisor1";
const MIFACE: &str = "org.pidvisor.Supervisor1.Manager";
const PIFACE: &str = "org.pidvisor.Supervisor1.Process";

/// A private system-like bus: strict default policy plus our policy file.
struct Bus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

/// Whether `tool` is on PATH; if not, [`skip::skip`] names its package.
fn need(tool: &str, package: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        skip::skip(&format!("{tool} (Debian package {package})"));
    }
    found
}

impl Bus {
    /// A private bus; `None` when a D-Bus tool is missing, after
    /// [`skip::skip`] (a failure unless skips are allowed).
    fn start() -> Option<Bus> {
        let tools = [
            ("dbus-daemon", "dbus-daemon"),
            ("busctl", "systemd"),
            ("dbus-send", "dbus-bin"),
            ("dbus-monitor", "dbus-bin"),
        ];
        if !tools.iter().all(|(tool, package)| need(tool, package)) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("pidvisor-bus")
            .tempdir()
            .unwrap();
        // `nobody` must reach the socket.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let policy = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contrib/dbus/org.pidvisor.Supervisor1.conf"
        );
        let sock = dir.path().join("bus.sock");
        let conf = format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={sock}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"#,
            sock = sock.display()
        );
        let conf_path = dir.path().join("bus.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf_path.display()))
            .args(["--nofork", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        // It prints its address once it listens.
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dbus-daemon did not start with {}", conf_path.display());
        }
        Some(Bus {
            child,
            address: line.trim().to_string(),
            _dir: dir,
        })
    }

    /// Kill the bus daemon (by its pid) and reap it.
    fn kill(&mut self) {
        send(self.child.id(), 9);
        let _ = self.child.wait();
    }

    fn busctl(&self, args: &[&str]) -> Output {
        Command::new("busctl")
            .arg(format!("--address={}", self.address))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run busctl")
    }

    /// `busctl` as `nobody`, with no groups.
    fn busctl_nobody(&self, args: &[&str]) -> Output {
        Command::new("setpriv")
            .args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "busctl",
            ])
            .arg(format!("--address={}", self.address))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run setpriv busctl")
    }

    /// `dbus-send --print-reply` to our name, optionally as `nobody`.
    fn send(&self, nobody: bool, path: &str, method: &str, args: &[&str]) -> Output {
        let mut cmd = if nobody {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "dbus-send",
            ]);
            c
        } else {
            Command::new("dbus-send")
        };
        cmd.arg(format!("--bus={}", self.address))
            .args(["--print-reply", &format!("--dest={NAME}"), path, method])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run dbus-send")
    }

    fn call(&self, path: &str, iface: &str, method: &str, args: &[&str]) -> String {
        let mut a = vec!["call", NAME, path, iface, method];
        a.extend_from_slice(args);
        let o = self.busctl(&a);
        assert!(o.status.success(), "busctl {a:?}: {}", text(&o));
        text(&o)
    }

    /// A property's value as busctl prints it, without the type letter.
    fn prop(&self, path: &str, name: &str) -> Option<String> {
        let o = self.busctl(&["get-property", NAME, path, PIFACE, name]);
        if !o.status.success() {
            return None;
        }
        let s = text(&o);
        let v = s.trim().split_once(' ')?.1.trim_matches('"').to_string();
        Some(v)
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.kill();
        }
    }
}

/// A running `dbus-monitor`, killed on drop.
struct Monitor {
    child: Child,
    out: std::path::PathBuf,
}

impl Monitor {
    /// Watch our signals: property changes and the manager's.
    fn start(bus: &Bus, dir: &std::path::Path) -> Monitor {
        let out = dir.join("monitor.out");
        let file = std::fs::File::create(&out).unwrap();
        let child = Command::new("dbus-monitor")
            .args(["--address", &bus.address])
            .arg("type='signal',interface='org.freedesktop.DBus.Properties'")
            .arg(format!("type='signal',interface='{MIFACE}'"))
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-monitor");
        let m = Monitor { child, out };
        // Becoming a monitor drops its name: NameLost means it listens.
        wait_for("dbus-monitor to listen", TIMEOUT, || {
            m.text().contains("member=NameLost").then_some(())
        });
        m
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        send(self.child.id(), 9);
        let _ = self.child.wait();
    }
}

fn text(o: &Output) -> String {
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    s
}

fn path_of(group: &str, name: &str) -> String {
    format!(
        "{MANAGER}/process/{}",
        pidvisor::dbus::escape_label(&format!("{group}:{name}"))
    )
}

const HEAD: &str = "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/pidvisord.pid\n\
childlogdir={dir}\ndbus=true\n\n[unix_http_server]\nfile={dir}/ctl.sock\n\n\
[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\n";

/// Start pidvisord on `bus` with `programs` after a `dbus=true` header.
fn daemon_on(bus: &Bus, programs: &str) -> Daemon {
    daemon_with(&format!("{HEAD}{programs}"), &bus.address)
}

fn daemon_with(body: &str, address: &str) -> Daemon {
    Daemon::prepare(body).launch_env(&[("DBUS_SYSTEM_BUS_ADDRESS", address)])
}

/// `(state, pid)` of `name` as `pidvisorctl status` prints it.
fn ctl_state(d: &Daemon, name: &str) -> (String, u32) {
    let s = text(&d.ctl(&["status", name]));
    let mut words = s.split_whitespace().skip(1);
    let state = words.next().unwrap_or_default().to_string();
    let pid = if words.next() == Some("pid") {
        words
            .next()
            .unwrap_or_default()
            .trim_end_matches(',')
            .parse()
            .unwrap_or(0)
    } else {
        0
    };
    (state, pid)
}

/// Wait until D-Bus and pidvisorctl both show `want` for the process, with
/// the same pid; returns that pid.
fn agree(bus: &Bus, d: &Daemon, group: &str, name: &str, want: &str) -> u32 {
    let path = path_of(group, name);
    let spec = if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    };
    wait_for(
        &format!("{spec} {want} on D-Bus and in status"),
        TIMEOUT,
        || {
            let (state, pid) = ctl_state(d, &spec);
            let dstate = bus.prop(&path, "State")?;
            let dpid: u32 = bus.prop(&path, "MainPID")?.parse().ok()?;
            (state == want && dstate == want && dpid == pid).then_some(pid)
        },
    )
}

#[test]
fn dbus_introspect_list_and_properties_agree_with_status() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(
        &bus,
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:later]\ncommand=sleep 1000\nautostart=false\n\n\
         [group:web]\nprograms=a\n\n[program:a]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let pid = agree(&bus, &d, "sleeper", "sleeper", "RUNNING");
    agree(&bus, &d, "later", "later", "STOPPED");
    agree(&bus, &d, "web", "a", "RUNNING");

    let tree = text(&bus.busctl(&["tree", NAME]));
    for p in [
        path_of("sleeper", "sleeper"),
        path_of("later", "later"),
        path_of("web", "a"),
    ] {
        assert!(tree.contains(&p), "{p} missing from\n{tree}");
    }
    assert!(tree.contains("/org/pidvisor/Supervisor1/process/web_3aa"));

    let manager = text(&bus.busctl(&["introspect", NAME, MANAGER, MIFACE]));
    for m in [
        ".ListProcesses ",
        ".ListProcessesWithProperties ",
        ".GetProcess ",
        ".GetProcessByPID ",
        ".StartProcess ",
        ".StopProcess ",
        ".RestartProcess ",
        ".SignalProcess ",
        ".StartGroup ",
        ".StopGroup ",
        ".RestartGroup ",
        ".SignalGroup ",
        ".StartAll ",
        ".StopAll ",
        ".RestartAll ",
        ".SignalAll ",
        ".ReloadConfig ",
        ".Update ",
        ".ClearLog ",
        ".ClearMainLog ",
        ".ReadLog ",
        ".ReadMainLog ",
        ".Shutdown ",
        ".Reload ",
        ".Version ",
        ".State ",
        ".ProcessStateChanged ",
        ".ProcessNew ",
        ".ProcessRemoved ",
    ] {
        assert!(manager.contains(m), "{m} missing from\n{manager}");
    }
    let process = text(&bus.busctl(&["introspect", NAME, &path_of("sleeper", "sleeper")]));
    for m in [
        ".Start ",
        ".Stop ",
        ".Restart ",
        ".Signal ",
        ".ReadLog ",
        ".Name ",
        ".Group ",
        ".State ",
        ".StateCode ",
        ".ActiveState ",
        ".MainPID ",
        ".Description ",
        ".ExitStatus ",
        ".SpawnError ",
        ".StartTimestamp ",
        ".StopTimestamp ",
        ".NRestarts ",
        ".ControlGroup ",
        "org.freedesktop.DBus.Properties",
    ] {
        assert!(process.contains(m), "{m} missing from\n{process}");
    }
    // The raw XML is complete too (dbus-send, a second client).
    let xml = text(&bus.send(
        false,
        MANAGER,
        "org.freedesktop.DBus.Introspectable.Introspect",
        &[],
    ));
    assert!(
        xml.contains(r#"<interface name="org.pidvisor.Supervisor1.Manager">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"<node name="process">"#), "{xml}");

    let sleeper = path_of("sleeper", "sleeper");
    assert_eq!(bus.prop(&sleeper, "ActiveState").unwrap(), "active");
    assert_eq!(bus.prop(&sleeper, "StateCode").unwrap(), "20");
    assert_eq!(bus.prop(&sleeper, "Name").unwrap(), "sleeper");
    assert_eq!(bus.prop(&path_of("web", "a"), "Group").unwrap(), "web");
    assert_eq!(bus.prop(&path_of("web", "a"), "Id").unwrap(), "web:a");
    assert_eq!(
        bus.prop(&path_of("later", "later"), "ActiveState").unwrap(),
        "inactive"
    );
    assert_eq!(bus.prop(&sleeper, "ControlGroup").unwrap(), "");
    let started: u64 = bus
        .prop(&sleeper, "StartTimestamp")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        started > 1_000_000_000_000_000,
        "usec since the epoch: {started}"
    );

    // ListProcesses: one row per process, with the same states and pids.
    let list = bus.call(MANAGER, MIFACE, "ListProcesses", &[]);
    assert!(list.starts_with("a(sssssuso) 3 "), "{list}");
    assert!(
        list.contains(&format!(
            r#""sleeper" "sleeper" "sleeper" "RUNNING" "active" {pid} "pid {pid}, uptime"#
        )),
        "{list}"
    );
    assert!(
        list.contains(r#""later" "later" "later" "STOPPED" "inactive" 0 "Not started""#),
        "{list}"
    );
    let bulk = bus.call(
        MANAGER,
        MIFACE,
        "ListProcessesWithProperties",
        &["as", "2", "State", "MainPID"],
    );
    assert!(bulk.starts_with("a(oa{sv}) 3 "), "{bulk}");
    assert!(bulk.contains(&format!(r#""MainPID" u {pid}"#)), "{bulk}");
    assert!(!bulk.contains("Description"), "{bulk}");

    // Lookups by name and by pid.
    assert_eq!(
        bus.call(MANAGER, MIFACE, "GetProcess", &["s", "web:a"])
            .trim(),
        format!(r#"o "{}""#, path_of("web", "a"))
    );
    assert_eq!(
        bus.call(MANAGER, MIFACE, "GetProcessByPID", &["u", &pid.to_string()])
            .trim(),
        format!(r#"o "{sleeper}""#)
    );
    let bad = text(&bus.send(
        false,
        MANAGER,
        &format!("{MIFACE}.GetProcess"),
        &["string:nosuch"],
    ));
    assert!(
        bad.contains("org.pidvisor.Supervisor1.Error.BAD_NAME: BAD_NAME: nosuch"),
        "{bad}"
    );
    assert_eq!(
        bus.call(MANAGER, MIFACE, "Version", &[]).trim(),
        r#"s "4.3.0""#
    );
    assert_eq!(
        bus.call(MANAGER, MIFACE, "State", &[]).trim(),
        r#"is 1 "RUNNING""#
    );
}

#[test]
fn dbus_start_stop_restart_signal_agree_with_status() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(
        &bus,
        "[program:svc]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\n\
         [program:once]\ncommand=sleep 1000\nstartsecs=0\nautorestart=false\n\n\
         [program:quits]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautostart=false\nautorestart=false\nexitcodes=3\n\n\
         [group:pair]\nprograms=x,y\n\n\
         [program:x]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\n\
         [program:y]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n",
    );
    let svc = path_of("svc", "svc");
    agree(&bus, &d, "svc", "svc", "STOPPED");

    // Manager calls with busctl.
    assert_eq!(
        bus.call(MANAGER, MIFACE, "StartProcess", &["sb", "svc", "true"])
            .trim(),
        "b true"
    );
    let first = agree(&bus, &d, "svc", "svc", "RUNNING");
    assert!(alive(first));
    let again = text(&bus.busctl(&[
        "call",
        NAME,
        MANAGER,
        MIFACE,
        "StartProcess",
        "sb",
        "svc",
        "true",
    ]));
    // The fault's text names the process as supervisord does: `svc`,
    // never its `svc:svc` namespec.
    assert!(
        again.trim_end().ends_with("ALREADY_STARTED: svc"),
        "{again}"
    );

    bus.call(MANAGER, MIFACE, "RestartProcess", &["sb", "svc", "true"]);
    let second = agree(&bus, &d, "svc", "svc", "RUNNING");
    assert_ne!(first, second, "restart spawns a new process");
    assert!(!alive(first));

    bus.call(MANAGER, MIFACE, "StopProcess", &["sb", "svc", "true"]);
    agree(&bus, &d, "svc", "svc", "STOPPED");
    assert!(!alive(second));

    // Process object methods with dbus-send.
    let o = bus.send(false, &svc, &format!("{PIFACE}.Start"), &["boolean:true"]);
    assert!(o.status.success(), "{}", text(&o));
    let third = agree(&bus, &d, "svc", "svc", "RUNNING");
    let o = bus.send(false, &svc, &format!("{PIFACE}.Start"), &["boolean:true"]);
    assert_eq!(
        text(&o).trim_end(),
        "Error org.pidvisor.Supervisor1.Error.ALREADY_STARTED: ALREADY_STARTED: svc"
    );
    let o = bus.send(false, &svc, &format!("{PIFACE}.Restart"), &["boolean:true"]);
    assert!(o.status.success(), "{}", text(&o));
    let fourth = agree(&bus, &d, "svc", "svc", "RUNNING");
    assert_ne!(third, fourth);
    let o = bus.send(false, &svc, &format!("{PIFACE}.Stop"), &["boolean:true"]);
    assert!(o.status.success(), "{}", text(&o));
    agree(&bus, &d, "svc", "svc", "STOPPED");
    assert_eq!(bus.prop(&svc, "ActiveState").unwrap(), "inactive");

    // Signal: TERM to a program that is not restarted leaves it EXITED.
    let once = path_of("once", "once");
    let pid = agree(&bus, &d, "once", "once", "RUNNING");
    bus.call(&once, PIFACE, "Signal", &["s", "TERM"]);
    agree(&bus, &d, "once", "once", "EXITED");
    assert!(!alive(pid));
    let stop: u64 = bus.prop(&once, "StopTimestamp").unwrap().parse().unwrap();
    assert!(stop > 0);
    let sig = text(&bus.busctl(&[
        "call",
        NAME,
        MANAGER,
        MIFACE,
        "SignalProcess",
        "ss",
        "once",
        "HUP",
    ]));
    assert!(sig.contains("NOT_RUNNING"), "{sig}");

    // An exit code shows as ExitStatus.
    bus.call(MANAGER, MIFACE, "StartProcess", &["sb", "quits", "false"]);
    agree(&bus, &d, "quits", "quits", "EXITED");
    assert_eq!(
        bus.prop(&path_of("quits", "quits"), "ExitStatus").unwrap(),
        "3"
    );

    // Groups and everything.
    let r = bus.call(MANAGER, MIFACE, "StartGroup", &["sb", "pair", "true"]);
    assert!(r.starts_with("a(ssis) 2 "), "{r}");
    let x = agree(&bus, &d, "pair", "x", "RUNNING");
    agree(&bus, &d, "pair", "y", "RUNNING");
    bus.call(MANAGER, MIFACE, "SignalGroup", &["ss", "pair", "KILL"]);
    wait_for("x to respawn after KILL", TIMEOUT, || {
        let (state, pid) = ctl_state(&d, "pair:x");
        (state == "RUNNING" && pid != x && pid != 0).then_some(())
    });
    let x2 = agree(&bus, &d, "pair", "x", "RUNNING");
    assert_ne!(x, x2);
    wait_for("NRestarts to count the respawn", TIMEOUT, || {
        (bus.prop(&path_of("pair", "x"), "NRestarts")? != "0").then_some(())
    });
    bus.call(MANAGER, MIFACE, "StopGroup", &["sb", "pair", "true"]);
    agree(&bus, &d, "pair", "x", "STOPPED");
    agree(&bus, &d, "pair", "y", "STOPPED");
    bus.call(MANAGER, MIFACE, "StartAll", &["b", "true"]);
    for (g, n) in [
        ("svc", "svc"),
        ("once", "once"),
        ("pair", "x"),
        ("pair", "y"),
    ] {
        agree(&bus, &d, g, n, "RUNNING");
    }
    bus.call(MANAGER, MIFACE, "StopAll", &["b", "true"]);
    for (g, n) in [
        ("svc", "svc"),
        ("once", "once"),
        ("pair", "x"),
        ("pair", "y"),
    ] {
        agree(&bus, &d, g, n, "STOPPED");
    }
}

#[test]
fn dbus_properties_changed_when_a_program_is_killed_and_respawns() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(&bus, "[program:victim]\ncommand=sleep 1000\nstartsecs=0\n");
    let path = path_of("victim", "victim");
    let pid = agree(&bus, &d, "victim", "victim", "RUNNING");
    let mon = Monitor::start(&bus, d.dir.path());
    send(pid, 9);
    let new = wait_for("respawn", TIMEOUT, || {
        let (state, p) = ctl_state(&d, "victim");
        (state == "RUNNING" && p != pid && p != 0).then_some(p)
    });
    agree(&bus, &d, "victim", "victim", "RUNNING");
    let seen = wait_for("signals of the respawn", TIMEOUT, || {
        let t = mon.text();
        // The last signals of the respawn: the new pid, then STARTING -> RUNNING.
        let done = t.contains(&format!("uint32 {new}"))
            && t.contains("string \"STARTING\"\n   string \"RUNNING\"");
        done.then_some(t)
    });
    let changed: Vec<&str> = seen
        .split("signal time=")
        .filter(|m| m.contains("member=PropertiesChanged") && m.contains(&format!("path={path}")))
        .collect();
    assert!(!changed.is_empty(), "{seen}");
    let all = changed.join("\n");
    assert!(
        all.contains(r#"string "org.pidvisor.Supervisor1.Process""#),
        "{all}"
    );
    // The exit (a new StopTimestamp, one more restart) and the respawn
    // (STARTING, then RUNNING with the new pid) are both visible; the core
    // moves EXITED -> STARTING in one step, so properties show the result.
    assert!(all.contains(r#"string "StopTimestamp""#), "{all}");
    assert!(
        all.contains(
            r#"string "NRestarts"
         variant             uint32 1"#
        ),
        "{all}"
    );
    assert!(all.contains(r#"string "STARTING""#), "{all}");
    assert!(all.contains(r#"string "RUNNING""#), "{all}");
    assert!(all.contains(r#"string "MainPID""#), "{all}");
    assert_eq!(bus.prop(&path, "NRestarts").unwrap(), "1");
    // The manager's signal carries every transition, the exit included.
    let transitions: Vec<&str> = seen
        .split("signal time=")
        .filter(|m| m.contains("member=ProcessStateChanged"))
        .collect();
    let all = transitions.join("\n");
    for (from, to) in [
        ("RUNNING", "EXITED"),
        ("EXITED", "STARTING"),
        ("STARTING", "RUNNING"),
    ] {
        let pair = format!("string \"{from}\"\n   string \"{to}\"");
        assert!(all.contains(&pair), "{from} -> {to} missing:\n{all}");
    }
    assert!(all.contains(&format!("object path \"{path}\"")), "{all}");
}

#[test]
fn dbus_refuses_state_changes_from_nobody_but_lets_it_read() {
    if !skip::need_root("to call as nobody through setpriv") {
        return;
    }
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(
        &bus,
        "[program:keep]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n",
    );
    let pid = agree(&bus, &d, "keep", "keep", "RUNNING");
    let keep = path_of("keep", "keep");
    let m = |name: &str| format!("{MIFACE}.{name}");
    let p = |name: &str| format!("{PIFACE}.{name}");
    let calls: Vec<(String, String, Vec<&str>)> = vec![
        (
            MANAGER.into(),
            m("StartProcess"),
            vec!["string:idle", "boolean:true"],
        ),
        (
            MANAGER.into(),
            m("StopProcess"),
            vec!["string:keep", "boolean:true"],
        ),
        (
            MANAGER.into(),
            m("RestartProcess"),
            vec!["string:keep", "boolean:true"],
        ),
        (
            MANAGER.into(),
            m("SignalProcess"),
            vec!["string:keep", "string:KILL"],
        ),
        (
            MANAGER.into(),
            m("StartGroup"),
            vec!["string:idle", "boolean:true"],
        ),
        (
            MANAGER.into(),
            m("StopGroup"),
            vec!["string:keep", "boolean:true"],
        ),
        (
            MANAGER.into(),
            m("RestartGroup"),
            vec!["string:keep", "boolean:true"],
        ),
        (
            MANAGER.into(),
            m("SignalGroup"),
            vec!["string:keep", "string:KILL"],
        ),
        (MANAGER.into(), m("StartAll"), vec!["boolean:true"]),
        (MANAGER.into(), m("StopAll"), vec!["boolean:true"]),
        (MANAGER.into(), m("RestartAll"), vec!["boolean:true"]),
        (MANAGER.into(), m("SignalAll"), vec!["string:KILL"]),
        (MANAGER.into(), m("ReloadConfig"), vec![]),
        (MANAGER.into(), m("Update"), vec![]),
        (MANAGER.into(), m("ClearLog"), vec!["string:keep"]),
        (MANAGER.into(), m("ClearMainLog"), vec![]),
        (
            MANAGER.into(),
            m("ReadLog"),
            vec!["string:keep", "string:stdout", "int64:0", "int64:100"],
        ),
        (
            MANAGER.into(),
            m("ReadMainLog"),
            vec!["int64:0", "int64:100"],
        ),
        (MANAGER.into(), m("Shutdown"), vec![]),
        (MANAGER.into(), m("Reload"), vec![]),
        (keep.clone(), p("Start"), vec!["boolean:true"]),
        (keep.clone(), p("Stop"), vec!["boolean:true"]),
        (keep.clone(), p("Restart"), vec!["boolean:true"]),
        (keep.clone(), p("Signal"), vec!["string:KILL"]),
        (
            keep.clone(),
            p("ReadLog"),
            vec!["string:stdout", "int64:0", "int64:100"],
        ),
    ];
    for (path, method, args) in &calls {
        let o = bus.send(true, path, method, args);
        let t = text(&o);
        assert!(!o.status.success(), "{method} as nobody succeeded: {t}");
        assert!(
            t.contains("Error org.pidvisor.Supervisor1.Error.AccessDenied: "),
            "{method}: {t}"
        );
        // Issue 19: a refused log read says so, not "change state".
        let what = if method.contains(".Read") {
            "read logs"
        } else {
            "change state"
        };
        assert!(
            t.contains(&format!("uid 65534 may not {what}")),
            "{method}: {t}"
        );
    }
    // Nothing changed: same pid, idle still stopped, daemon up.
    assert_eq!(agree(&bus, &d, "keep", "keep", "RUNNING"), pid);
    agree(&bus, &d, "idle", "idle", "STOPPED");
    assert!(alive(d.pid));

    // Reads work for nobody.
    let o = bus.busctl_nobody(&["call", NAME, MANAGER, MIFACE, "ListProcesses"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(r#""keep" "RUNNING" "active" {pid} "#)),
        "{}",
        text(&o)
    );
    let o = bus.busctl_nobody(&["get-property", NAME, &keep, PIFACE, "State"]);
    assert_eq!(text(&o).trim(), r#"s "RUNNING""#);
    let o = bus.busctl_nobody(&["introspect", NAME, &keep]);
    assert!(
        o.status.success() && text(&o).contains(".MainPID"),
        "{}",
        text(&o)
    );
    let o = bus.busctl_nobody(&["call", NAME, MANAGER, MIFACE, "GetProcess", "s", "keep"]);
    assert!(o.status.success(), "{}", text(&o));

    // root may.
    bus.call(MANAGER, MIFACE, "StopProcess", &["sb", "keep", "true"]);
    agree(&bus, &d, "keep", "keep", "STOPPED");
}

#[test]
fn dbus_update_adds_and_removes_process_objects() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(&bus, "[program:old]\ncommand=sleep 1000\nstartsecs=0\n");
    agree(&bus, &d, "old", "old", "RUNNING");
    let mon = Monitor::start(&bus, d.dir.path());
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    let conf = conf.replace(
        "[program:old]\ncommand=sleep 1000\nstartsecs=0\n",
        "[program:new]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    std::fs::write(&d.conf, conf).unwrap();
    let diff = bus.call(MANAGER, MIFACE, "ReloadConfig", &[]);
    assert_eq!(diff.trim(), r#"asasas 1 "new" 0 1 "old""#);
    let diff = bus.call(MANAGER, MIFACE, "Update", &[]);
    assert_eq!(diff.trim(), r#"asasas 1 "new" 0 1 "old""#);
    agree(&bus, &d, "new", "new", "RUNNING");
    wait_for("old object gone, new one there", TIMEOUT, || {
        let tree = text(&bus.busctl(&["tree", NAME]));
        (tree.contains(&path_of("new", "new")) && !tree.contains(&path_of("old", "old")))
            .then_some(())
    });
    assert!(!text(&d.ctl(&["status"])).contains("old"));
    let seen = wait_for("ProcessNew and ProcessRemoved", TIMEOUT, || {
        let t = mon.text();
        (t.contains("member=ProcessNew") && t.contains("member=ProcessRemoved")).then_some(t)
    });
    assert!(
        seen.contains(&format!("object path \"{}\"", path_of("new", "new"))),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("object path \"{}\"", path_of("old", "old"))),
        "{seen}"
    );
}

#[test]
fn dbus_daemon_keeps_running_when_the_bus_dies() {
    let Some(mut bus) = Bus::start() else { return };
    let d = daemon_on(&bus, "[program:steady]\ncommand=sleep 1000\nstartsecs=0\n");
    let pid = agree(&bus, &d, "steady", "steady", "RUNNING");
    bus.kill();
    d.wait_log("lost the connection to the D-Bus bus");
    assert!(alive(d.pid));
    // The control socket answers, and state changes still flow (into a
    // bridge nobody reads: the reactor must not block on it).
    assert_eq!(ctl_state(&d, "steady"), ("RUNNING".into(), pid));
    for _ in 0..3 {
        let (_, p) = ctl_state(&d, "steady");
        send(p, 9);
        wait_for("respawn without D-Bus", TIMEOUT, || {
            let (state, q) = ctl_state(&d, "steady");
            (state == "RUNNING" && q != p && q != 0).then_some(())
        });
    }
    let o = d.ctl(&["stop", "steady"]);
    assert_eq!(text(&o), "steady: stopped\n");
    assert!(alive(d.pid));
}

#[test]
fn dbus_true_without_a_bus_fails_and_auto_carries_on() {
    let nowhere = "unix:path=/nonexistent/pidvisor-no-bus";
    let d = Daemon::prepare(HEAD);
    let o = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .arg("-n")
        .arg("-c")
        .arg(&d.conf)
        .env("DBUS_SYSTEM_BUS_ADDRESS", nowhere)
        .stdin(Stdio::null())
        .output()
        .expect("run pidvisord");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("cannot connect to the D-Bus system bus"), "{t}");
    assert!(t.contains("dbus=true"), "{t}");

    let d = daemon_with(
        &format!(
            "{}[program:p]\ncommand=sleep 1000\nstartsecs=0\n",
            HEAD.replace("dbus=true", "dbus=auto")
        ),
        nowhere,
    );
    d.wait_log("D-Bus service disabled: cannot connect to the D-Bus system bus");
    wait_for("p RUNNING", TIMEOUT, || {
        (ctl_state(&d, "p").0 == "RUNNING").then_some(())
    });
    assert_eq!(d.log_count("D-Bus service disabled"), 1);
}

#[test]
fn dbus_user_mode_uses_the_session_bus_and_follows_a_reload() {
    let Some(bus) = Bus::start() else { return };
    let d = Daemon::prepare(&format!(
        "{HEAD}[program:app]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    let out = std::fs::File::create(d.path("daemon.out")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(["--session", "-n", "-c"])
        .arg(&d.conf)
        // The per-user directories in the test's own dir, not the machine's.
        .env("XDG_RUNTIME_DIR", d.dir.path())
        .env("XDG_STATE_HOME", d.dir.path())
        // Only the session bus is reachable: dbus=true proves it is used.
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env(
            "DBUS_SYSTEM_BUS_ADDRESS",
            "unix:path=/nonexistent/pidvisor-no-bus",
        )
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start pidvisord --session");
    let mut d = d;
    d.pid = child.id();
    d.child = Some(child);
    d.wait_log(&format!("supervisord started with pid {}", d.pid));
    let first = agree(&bus, &d, "app", "app", "RUNNING");

    // Reload over D-Bus: everything stops, the config is read again, and
    // the service goes on with the new core.
    bus.call(MANAGER, MIFACE, "Reload", &[]);
    d.wait_log_count(&format!("supervisord started with pid {}", d.pid), 2);
    let second = wait_for("app respawned after the reload", TIMEOUT, || {
        let (state, pid) = ctl_state(&d, "app");
        (state == "RUNNING" && pid != first && pid != 0).then_some(pid)
    });
    assert_eq!(agree(&bus, &d, "app", "app", "RUNNING"), second);
    // Calls and change signals still reach the new reactor.
    let mon = Monitor::start(&bus, d.dir.path());
    bus.call(MANAGER, MIFACE, "StopProcess", &["sb", "app", "true"]);
    agree(&bus, &d, "app", "app", "STOPPED");
    wait_for("PropertiesChanged after the reload", TIMEOUT, || {
        mon.text().contains(r#"string "STOPPED""#).then_some(())
    });
}

/// Context switches of every thread of `pid` (zbus adds two).
fn switches(pid: u32) -> u64 {
    let mut total = 0;
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let s = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        for l in s.lines() {
            if l.starts_with("voluntary_ctxt_switches")
                || l.starts_with("nonvoluntary_ctxt_switches")
            {
                total += l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap();
            }
        }
    }
    total
}

#[test]
fn dbus_idle_daemon_on_the_bus_never_wakes_up() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(&bus, "[program:quiet]\ncommand=sleep 100000\nstartsecs=0\n");
    agree(&bus, &d, "quiet", "quiet", "RUNNING");
    bus.call(MANAGER, MIFACE, "ListProcesses", &[]);
    let mut before = switches(d.pid);
    wait_for("the daemon to go idle", TIMEOUT, || {
        pidvisor::clock::sleep(std::time::Duration::from_secs(1));
        let now = switches(d.pid);
        let still = now == before;
        before = now;
        still.then_some(())
    });
    // The measured window itself (a measurement, not a wait for a state).
    pidvisor::clock::sleep(std::time::Duration::from_secs(3));
    assert_eq!(switches(d.pid), before, "the idle daemon woke up");
}

#[test]
fn dbus_group_admits_its_members() {
    if !skip::need_root("to call as nobody through setpriv") {
        return;
    }
    let Some(bus) = Bus::start() else { return };
    // nobody's primary group is nogroup: dbus_group=nogroup admits it.
    let d = daemon_with(
        &format!(
            "{}[program:shared]\ncommand=sleep 1000\nstartsecs=0\n",
            HEAD.replace("dbus=true\n", "dbus=true\ndbus_group=nogroup\n")
        ),
        &bus.address,
    );
    agree(&bus, &d, "shared", "shared", "RUNNING");
    let o = bus.busctl_nobody(&[
        "call",
        NAME,
        MANAGER,
        MIFACE,
        "StopProcess",
        "sb",
        "shared",
        "true",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    agree(&bus, &d, "shared", "shared", "STOPPED");
    let o = bus.send(
        true,
        &path_of("shared", "shared"),
        &format!("{PIFACE}.Start"),
        &["boolean:true"],
    );
    assert!(o.status.success(), "{}", text(&o));
    agree(&bus, &d, "shared", "shared", "RUNNING");
}

#[test]
fn dbus_control_group_is_the_leaf_the_kernel_reports() {
    if crate::cgroups::cgroup2().is_none() {
        return;
    }
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(
        &bus,
        "[program:boxed]\ncommand=sleep 1000\nstartsecs=0\ncgroup=true\n\n\
         [program:plain]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let pid = agree(&bus, &d, "boxed", "boxed", "RUNNING");
    agree(&bus, &d, "plain", "plain", "RUNNING");
    let kernel = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let kernel = kernel
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a cgroup2 line")
        .to_string();
    assert!(kernel.ends_with("/boxed/boxed"), "{kernel}");
    assert_eq!(
        bus.prop(&path_of("boxed", "boxed"), "ControlGroup")
            .as_deref(),
        Some(kernel.as_str())
    );
    // Without a cgroup of its own the property stays empty, as systemd's
    // does for a unit without one.
    assert_eq!(
        bus.prop(&path_of("plain", "plain"), "ControlGroup")
            .as_deref(),
        Some("")
    );
}

/// The calls whose refusal to `nobody` is tested above also work for root:
/// `ReadLog`, `ReadMainLog`, `ClearLog`, `ClearMainLog`, `RestartGroup`,
/// `RestartAll`, `SignalAll`, `Shutdown`, each checked by its effect.
#[test]
fn dbus_logs_groups_all_and_shutdown_succeed() {
    let Some(bus) = Bus::start() else { return };
    // Each program notes a USR1 in a file of its own.
    let looper = "command=sh -c 'trap \"echo usr1 >> %(here)s/%(program_name)s.usr1\" USR1; \
                  echo out-%(program_name)s; echo err-%(program_name)s >&2; \
                  while :; do sleep 0.05; done'\nstartsecs=0\n";
    let mut d = daemon_on(
        &bus,
        &format!(
            "[program:talker]\n{looper}\n[group:pair]\nprograms=x,y\n\n\
             [program:x]\n{looper}\n[program:y]\n{looper}"
        ),
    );
    let procs = [("talker", "talker"), ("pair", "x"), ("pair", "y")];
    let pids = |d: &Daemon| -> Vec<u32> {
        procs
            .iter()
            .map(|(g, n)| agree(&bus, d, g, n, "RUNNING"))
            .collect()
    };
    let first = pids(&d);

    // ReadLog, both streams: what the program wrote.
    let read = |stream: &str| {
        bus.call(
            MANAGER,
            MIFACE,
            "ReadLog",
            &["ssxx", "talker", stream, "0", "100"],
        )
    };
    wait_for("talker's output through ReadLog", TIMEOUT, || {
        (read("stdout").contains(r#""out-talker\n""#)
            && read("stderr").contains(r#""err-talker\n""#))
        .then_some(())
    });
    // ReadMainLog: the main log, from the start.
    // (busctl escapes the quotes.)
    let main = bus.call(MANAGER, MIFACE, "ReadMainLog", &["xx", "0", "0"]);
    assert!(main.contains(r"spawned: \'talker\' with pid"), "{main}");

    // ClearLog empties the program's logs (the files stay, empty).
    let auto = |channel: &str| {
        std::fs::read_dir(d.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with(&format!("talker-{channel}---"))
            })
            .expect("talker's AUTO log")
    };
    let logs = [auto("stdout"), auto("stderr")];
    assert_eq!(
        bus.call(MANAGER, MIFACE, "ClearLog", &["s", "talker"])
            .trim(),
        "b true"
    );
    for log in &logs {
        assert_eq!(
            std::fs::metadata(log).unwrap().len(),
            0,
            "{}",
            log.display()
        );
    }
    assert_eq!(read("stdout").trim(), r#"sxb "" 0 false"#);
    // ClearMainLog empties the main log.
    assert_eq!(
        bus.call(MANAGER, MIFACE, "ClearMainLog", &[]).trim(),
        "b true"
    );
    assert!(
        !d.main_log().contains("spawned: 'talker'"),
        "{}",
        d.main_log()
    );

    // RestartGroup: both members restarted, the other program untouched.
    let r = bus.call(MANAGER, MIFACE, "RestartGroup", &["sb", "pair", "true"]);
    assert!(r.starts_with("a(ssis) 2 "), "{r}");
    let second = pids(&d);
    assert_eq!(second[0], first[0], "RestartGroup touched talker");
    assert!(
        second[1] != first[1] && second[2] != first[2],
        "{first:?} {second:?}"
    );

    // SignalAll: every program gets the signal.
    let r = bus.call(MANAGER, MIFACE, "SignalAll", &["s", "USR1"]);
    assert!(r.starts_with("a(ssis) 3 "), "{r}");
    for name in ["talker", "x", "y"] {
        assert_eq!(
            wait_file(&d.path(&format!("{name}.usr1"))),
            "usr1\n",
            "{name}"
        );
    }

    // RestartAll: every program restarted.
    let r = bus.call(MANAGER, MIFACE, "RestartAll", &["b", "true"]);
    assert!(r.starts_with("a(ssis) 3 "), "{r}");
    let third = pids(&d);
    for (a, b) in second.iter().zip(&third) {
        assert_ne!(a, b, "{second:?} {third:?}");
    }

    // Shutdown: the daemon stops everything and exits 0.
    assert_eq!(bus.call(MANAGER, MIFACE, "Shutdown", &[]).trim(), "b true");
    let mut child = d.child.take().unwrap();
    let status = wait_for("pidvisord to exit after Shutdown", TIMEOUT, || {
        child.try_wait().ok().flatten()
    });
    assert_eq!(status.code(), Some(0));
    for pid in third {
        assert!(!alive(pid), "{pid} outlived the shutdown");
    }
}

/// Issue 19: a typed Gio client (what every gdbus-codegen client is)
/// accepts every reply. It checks each method's reply against the declared
/// out arguments (`ReloadConfig` once declared `(asasas)` and answered
/// `asasas`, which Gio refuses), reads every property with its declared
/// type, and gets `PropertyReadOnly` for a Set of a read-only property.
#[test]
fn dbus_typed_gio_client_accepts_every_reply() {
    let Some(bus) = Bus::start() else { return };
    let gi = Command::new("/usr/bin/python3")
        .args(["-c", "import gi; gi.require_version('Gio', '2.0')"])
        .output();
    if !gi.is_ok_and(|o| o.status.success()) {
        skip::skip("python3-gi for /usr/bin/python3 (Debian package python3-gi)");
        return;
    }
    let d = daemon_on(
        &bus,
        "[program:keep]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n",
    );
    agree(&bus, &d, "keep", "keep", "RUNNING");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/compat/gio_client.py");
    let o = Command::new("/usr/bin/python3")
        .arg(script)
        .args([&bus.address, &path_of("keep", "keep"), "keep"])
        .output()
        .expect("run the Gio client");
    let out = text(&o);
    assert!(
        o.status.success(),
        "the Gio client refused something:\n{out}"
    );
    for method in [
        "ReloadConfig",
        "Update",
        "ReadLog",
        "State",
        "ListProcesses",
    ] {
        assert!(out.contains(&format!("Manager.{method} replies")), "{out}");
    }
    assert!(
        out.contains("answers org.freedesktop.DBus.Error.PropertyReadOnly"),
        "{out}"
    );
}

#[test]
fn dbus_status_text_follows_the_programs_status_issue_17() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(
        &bus,
        "[program:told]\nready=notify\n\
         command=sh -c 'systemd-notify --ready --status=\"warming up\"; \
         while [ ! -e {dir}/go ]; do sleep 0.02; done; \
         systemd-notify --status=serving; exec sleep 1000'\n\n\
         [program:plain]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let path = path_of("told", "told");
    agree(&bus, &d, "told", "told", "RUNNING");
    wait_for("StatusText warming up", TIMEOUT, || {
        (bus.prop(&path, "StatusText")? == "warming up").then_some(())
    });
    let mon = Monitor::start(&bus, d.dir.path());
    std::fs::write(d.path("go"), "go").unwrap();
    wait_for("StatusText serving", TIMEOUT, || {
        (bus.prop(&path, "StatusText")? == "serving").then_some(())
    });
    // The change is signalled, with its value, and agrees with status.
    let seen = wait_for("PropertiesChanged StatusText", TIMEOUT, || {
        let t = mon.text();
        t.contains(r#"string "StatusText""#).then_some(t)
    });
    assert!(seen.contains(r#"string "serving""#), "{seen}");
    let s = text(&d.ctl(&["status", "told"]));
    assert!(s.contains(", status: serving"), "{s}");
    // A program off the notify protocol has an empty StatusText.
    agree(&bus, &d, "plain", "plain", "RUNNING");
    assert_eq!(
        bus.prop(&path_of("plain", "plain"), "StatusText")
            .as_deref(),
        Some("")
    );
}

/// Issue 15 point 4: an event listener and an fcgi program are process
/// objects like any other: same state and pid as `status`, and their
/// object's Restart gives them a new process.
#[test]
fn dbus_listeners_and_fcgi_programs_are_process_objects_issue_15() {
    let Some(bus) = Bus::start() else { return };
    let d = daemon_on(
        &bus,
        "[eventlistener:lis]\ncommand=sh -c 'printf \"READY\\n\"; exec sleep 1000'\n\
         events=TICK_3600\nstartsecs=0\n\n\
         [fcgi-program:fc]\ncommand=sleep 1000\nsocket=unix://{dir}/fc.sock\nstartsecs=0\n",
    );
    for name in ["lis", "fc"] {
        let first = agree(&bus, &d, name, name, "RUNNING");
        let o = bus.send(
            false,
            &path_of(name, name),
            &format!("{PIFACE}.Restart"),
            &["boolean:true"],
        );
        assert!(o.status.success(), "{}", text(&o));
        let second = agree(&bus, &d, name, name, "RUNNING");
        assert_ne!(first, second, "{name}: restart spawns a new process");
    }
}

/// Issue 18 point 7: a process object's `GetConfig` is its
/// `getAllConfigInfo` record (read through Python's xmlrpc.client), key for
/// key and value for value, pidvisor's own options included, typed `b`,
/// `x`, `s` or `ax`.
#[test]
fn dbus_get_config_is_the_config_info_record_issue_18() {
    let Some(bus) = Bus::start() else { return };
    let Some(py) = python() else { return };
    let d = daemon_on(
        &bus,
        "[program:db]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:web]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\nrestart_delay=2\n\
         start_limit_burst=3\nstart_limit_interval=30\nexitcodes=0,3\n",
    );
    agree(&bus, &d, "web", "web", "RUNNING");
    let out = bus.busctl(&[
        "--json=short",
        "call",
        NAME,
        &path_of("web", "web"),
        PIFACE,
        "GetConfig",
    ]);
    let reply: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(reply["type"], "a{sv}");
    let dbus = reply["data"][0].as_object().unwrap();
    let url = format!("unix://{}", d.path("ctl.sock").display());
    let all = xmlrpc_call(&py, &url, "supervisor.getAllConfigInfo", &[]);
    let record = all["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "web")
        .unwrap()
        .as_object()
        .unwrap();
    let mut keys: Vec<&String> = dbus.keys().collect();
    let mut want: Vec<&String> = record.keys().collect();
    keys.sort();
    want.sort();
    assert_eq!(keys, want);
    for (key, value) in record {
        let typed = &dbus[key];
        let sig = match value {
            serde_json::Value::Bool(_) => "b",
            serde_json::Value::Number(_) => "x",
            serde_json::Value::Array(_) => "ax",
            _ => "s",
        };
        assert_eq!(typed["type"], sig, "{key}: {typed}");
        assert_eq!(&typed["data"], value, "{key}");
    }
    for key in ["depends_on", "restart_delay", "start_limit_burst"] {
        assert!(dbus.contains_key(key), "{key} not in {dbus:?}");
    }
}
