//! Event listeners against the real thing: the same config, with a
//! `supervisor.childutils` listener recording every event, runs under a
//! REAL supervisord 4.3.0 and under pidvisord; the real supervisorctl
//! drives both through the same steps (a program that runs and crashes,
//! one that backs off to FATAL, a start and a stop, a remote event, a
//! group removed and added). The sequences of (eventname, process or
//! group, from_state, tries, expected) the two listeners recorded must be
//! equal; pids and serial numbers are not compared.
//!
//! Skips (with a printed reason) when the venv cannot be created, unless
//! `PIDVISOR_TEST_STRICT=1`, in which case that is a failure.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

/// Events the scenario subscribes to: everything but ticks and output,
/// whose number depends on timing.
const EVENTS: &str =
    "PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE_RUNNING,REMOTE_COMMUNICATION";

/// `fail` has 5 s to start, as `common::PROGRAMS`'s `quick`: supervisord's
/// loop promotes STARTING to RUNNING before it reaps, so with the default
/// 1 s a loaded machine sometimes made its `/bin/false` RUNNING, then
/// EXITED.
fn programs(venv: &Path) -> String {
    let recorder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events/recorder.py");
    format!(
        "[eventlistener:rec]\ncommand={} {} %(here)s/ev.jsonl\nevents={EVENTS}\nbuffer_size=100\n\n\
         [program:crash]\ncommand=sh -c 'sleep 3; exit 3'\nstartsecs=2\nautorestart=false\npriority=10\n\n\
         [program:fail]\ncommand=/bin/false\nautostart=false\nstartretries=1\nstartsecs=5\npriority=20\n\n\
         [program:svc]\ncommand=sleep 1000\nautostart=false\npriority=30\n",
        venv.join("bin/python").display(),
        recorder.display()
    )
}

/// What is compared of one event: its name, the process (or group, or
/// whole payload) it is about, `from_state`, `tries`, `expected`, and its
/// envelope without the length (pids differ): `ver server serial pool
/// poolserial`.
type Key = (String, String, String, String, String, String);

fn keys(d: &Daemon) -> Vec<Key> {
    let text = std::fs::read_to_string(d.dir.path().join("ev.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            let payload = v["payload"].as_str().unwrap_or("");
            let token = |k: &str| {
                payload
                    .lines()
                    .next()
                    .unwrap_or("")
                    .split(' ')
                    .find_map(|kv| kv.strip_prefix(k)?.strip_prefix(':').map(str::to_string))
                    .unwrap_or_default()
            };
            let who = match token("processname") {
                n if n.is_empty() => token("groupname"),
                n => n,
            };
            let who = if who.is_empty() {
                payload.replace('\n', "\\n")
            } else {
                who
            };
            let h = |k: &str| v["headers"][k].as_str().unwrap_or("").to_string();
            let envelope = ["ver", "server", "serial", "pool", "poolserial"]
                .map(|k| format!("{k}:{}", h(k)))
                .join(" ");
            (
                v["headers"]["eventname"].as_str().unwrap_or("").to_string(),
                who,
                token("from_state"),
                token("tries"),
                token("expected"),
                envelope,
            )
        })
        .collect()
}

/// Poll with the real supervisorctl until `name` is in `state`.
fn wait_state(d: &Daemon, name: &str, state: &str) {
    d.wait_for(
        || d.real(&["status", name]).stdout.split_whitespace().nth(1) == Some(state),
        &format!("{name} {state} ({:?})", d.kind),
    );
}

fn wait_event(d: &Daemon, what: &str, done: impl Fn(&[Key]) -> bool) {
    d.wait_for(|| done(&keys(d)), &format!("{what} ({:?})", d.kind));
}

fn remote_event(venv: &Path, d: &Daemon) {
    let script = format!(
        "import xmlrpc.client\nfrom supervisor.xmlrpc import SupervisorTransport\n\
         p = xmlrpc.client.ServerProxy('http://127.0.0.1', SupervisorTransport('', '', 'unix://{}'))\n\
         print(p.supervisor.sendRemoteCommEvent('deploy', 'v2 is out'))\n",
        d.dir.path().join("s.sock").display()
    );
    let out = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "True");
}

/// The steps, the same for both daemons; returns what the listener got.
fn scenario(v: &Path, kind: Kind) -> Vec<Key> {
    let d = Daemon::start_kind(kind, v, "", "", &programs(v));
    wait_state(&d, "crash", "EXITED");
    d.real(&["start", "fail"]);
    wait_state(&d, "fail", "FATAL");
    d.real(&["start", "svc"]);
    wait_state(&d, "svc", "RUNNING");
    d.real(&["stop", "svc"]);
    wait_state(&d, "svc", "STOPPED");
    remote_event(v, &d);
    d.real(&["remove", "svc"]);
    d.real(&["add", "svc"]);
    wait_event(&d, "svc added again", |k| {
        k.iter()
            .filter(|e| e.0 == "PROCESS_GROUP_ADDED" && e.1 == "svc")
            .count()
            == 2
    });
    keys(&d)
}

#[test]
fn listeners_see_the_same_events_as_under_supervisord() {
    let v = require_venv!();
    let (real, ours) = std::thread::scope(|s| {
        let real = s.spawn(|| scenario(&v, Kind::Real));
        let ours = scenario(&v, Kind::Ours);
        (real.join().unwrap(), ours)
    });
    let show = |k: &[Key]| {
        k.iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        real,
        ours,
        "\n--- supervisord:\n{}\n--- pidvisord:\n{}",
        show(&real),
        show(&ours)
    );
    // The scenario did what it says.
    let names: Vec<&str> = real.iter().map(|e| e.0.as_str()).collect();
    for n in [
        "PROCESS_GROUP_ADDED",
        "SUPERVISOR_STATE_CHANGE_RUNNING",
        "PROCESS_STATE_EXITED",
        "PROCESS_STATE_BACKOFF",
        "PROCESS_STATE_FATAL",
        "PROCESS_STATE_STOPPED",
        "REMOTE_COMMUNICATION",
        "PROCESS_GROUP_REMOVED",
    ] {
        assert!(names.contains(&n), "no {n} in {names:?}");
    }
}
