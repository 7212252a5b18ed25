//! Issue 16: the web UI's URLs, fetched with curl from the real
//! supervisord 4.3 (venv) and from pidvisord on the same config, answer
//! with the same status codes and messages, and their actions have the
//! same effect, observed through the real supervisorctl for both.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{venv, Daemon, Kind, PROGRAMS};
use pidvisor::clock;

/// One request of the list.
struct Step {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    auth: bool,
    /// Seconds curl may take: log streams never end.
    max_time: u32,
    /// Texts whose presence in the body is compared.
    look_for: &'static [&'static str],
}

const fn get(path: &'static str) -> Step {
    Step {
        method: "GET",
        path,
        body: None,
        auth: true,
        max_time: 60,
        look_for: &[],
    }
}

const fn post(path: &'static str, body: &'static str) -> Step {
    Step {
        method: "POST",
        body: Some(body),
        ..get(path)
    }
}

const fn with_method(method: &'static str, path: &'static str) -> Step {
    Step {
        method,
        ..get(path)
    }
}

const fn looking(path: &'static str, look_for: &'static [&'static str]) -> Step {
    Step {
        look_for,
        ..get(path)
    }
}

const fn stream(path: &'static str) -> Step {
    Step {
        max_time: 2,
        ..get(path)
    }
}

fn steps() -> Vec<Step> {
    vec![
        get("/"),
        get("/index.html"),
        get("//index.html"),
        get("/index.html?processname=sleeper"),
        get("/foo"),
        get("/index.html/"),
        with_method("HEAD", "/"),
        with_method("PUT", "/index.html"),
        with_method("DELETE", "/foo"),
        looking("/tail.html", &["No process name found"]),
        looking("/tail.html?processname=talker", &["out-line"]),
        looking("/tail.html?processname=nope", &["BAD_NAME: nope"]),
        looking("/ok.html", &["OK"]),
        get("/logtail/nope"),
        stream("/logtail/talker"),
        stream("/mainlogtail"),
        get("/RPC2"),
        get("/index.html?action=refresh"),
        get("/index.html?processname=nope&action=start"),
        get("/index.html?processname=grp:*&action=stop"),
        get("/index.html?processname=grp:&action=stop"),
        get("/index.html?processname=sleeper&action=stop"),
        get("/index.html?processname=sleeper&action=stop"),
        get("/index.html?processname=sleeper&action=start"),
        get("/index.html?processname=sleeper&action=start"),
        get("/index.html?processname=missing&action=start"),
        get("/index.html?processname=grp:gb&action=start"),
        get("/index.html?processname=grp:gb&action=restart"),
        get("/index.html?processname=talker&action=clearlog"),
        looking("/tail.html?processname=talker", &["out-line"]),
        post("/index.html", "action=start&processname=manual"),
        post("/tail.html", "processname=sleeper"),
        get("/index.html?action=stopall"),
        get("/index.html?action=restartall"),
        Step {
            auth: false,
            ..get("/index.html?action=stopall")
        },
        Step {
            auth: false,
            ..get("/")
        },
    ]
}

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    status: u16,
    /// The `message` of a redirect, times masked.
    message: Option<String>,
    found: Vec<bool>,
    /// Every process's state afterwards.
    states: BTreeMap<String, String>,
    /// The processes whose pid changed.
    new_pids: Vec<String>,
}

fn curl(sock: &Path, step: &Step) -> (u16, String, String) {
    let body_file = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "--path-as-is", "-D", "-", "-o"])
        .arg(body_file.path())
        .arg("--unix-socket")
        .arg(sock)
        .args(["-m", &step.max_time.to_string()]);
    match step.method {
        "HEAD" => {
            cmd.arg("--head");
        }
        "GET" => {}
        m => {
            cmd.args(["-X", m]);
        }
    }
    if step.auth {
        cmd.args(["-u", "u:p"]);
    }
    if let Some(b) = step.body {
        cmd.args(["--data-raw", b]);
    }
    cmd.arg(format!("http://localhost{}", step.path));
    let out = cmd.output().expect("curl is needed (apt-get install curl)");
    let head = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer to {} {}: {out:?}", step.method, step.path));
    let body = String::from_utf8_lossy(&std::fs::read(body_file.path()).unwrap()).into_owned();
    (status, head, body)
}

/// The `message` of a redirect's `Location`, decoded, with its time
/// masked (nothing else: the words are compared as they are).
fn message(head: &str) -> Option<String> {
    let loc = head.lines().find_map(|l| {
        l.strip_prefix("Location: ")
            .or_else(|| l.strip_prefix("location: "))
    })?;
    let (_, m) = loc.trim().split_once("?message=")?;
    let m = pidvisor::http::codec::percent_decode(m);
    let m = match m.split_once(" at ") {
        Some((what, _)) => format!("{what} at TIME"),
        None => m,
    };
    Some(m)
}

/// `name -> (state, pid)` through the real supervisorctl (for both
/// daemons), once no process is between states.
fn settled(d: &Daemon) -> BTreeMap<String, (String, u32)> {
    let start = clock::mono();
    loop {
        // Not `d.real`: it masks the pids.
        let out = Command::new(d.venv.join("bin/supervisorctl"))
            .arg("-c")
            .arg(&d.conf)
            .arg("status")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let map: BTreeMap<String, (String, u32)> = text
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let name = w.next()?.to_string();
                let state = w.next()?.to_string();
                let pid = l
                    .split("pid ")
                    .nth(1)
                    .and_then(|r| r.split(',').next())
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                Some((name, (state, pid)))
            })
            .collect();
        let moving = map
            .values()
            .any(|(s, _)| ["STARTING", "BACKOFF", "STOPPING"].contains(&s.as_str()));
        if !map.is_empty() && !moving {
            return map;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "states never settled:\n{text}"
        );
        clock::sleep(Duration::from_millis(100));
    }
}

fn run_all(kind: Kind, venv: &Path) -> Vec<Seen> {
    let d = Daemon::start_kind(
        kind,
        venv,
        "username=u\npassword=p\n",
        "username=u\npassword=p\n",
        PROGRAMS,
    );
    let sock = d.dir.path().join("s.sock");
    let mut before = settled(&d);
    let mut seen = Vec::new();
    for step in steps() {
        let (status, head, body) = curl(&sock, &step);
        let after = settled(&d);
        let new_pids = after
            .iter()
            .filter(|(n, (_, pid))| *pid != 0 && before.get(*n).map(|b| b.1) != Some(*pid))
            .map(|(n, _)| n.clone())
            .collect();
        seen.push(Seen {
            status,
            message: message(&head),
            found: step.look_for.iter().map(|t| body.contains(t)).collect(),
            states: after
                .iter()
                .map(|(n, (s, _))| (n.clone(), s.clone()))
                .collect(),
            new_pids,
        });
        before = after;
    }
    seen
}

#[test]
fn web_urls_answer_and_act_like_supervisord() {
    let v = require_venv!();
    let real = run_all(Kind::Real, &v);
    let ours = run_all(Kind::Ours, &v);
    let mut diffs = Vec::new();
    for ((step, r), o) in steps().iter().zip(&real).zip(&ours) {
        if r != o {
            diffs.push(format!(
                "{} {} {:?}\n  supervisord: {r:?}\n  pidvisord:   {o:?}",
                step.method, step.path, step.body
            ));
        }
    }
    assert!(diffs.is_empty(), "differences:\n{}", diffs.join("\n"));
    // The list does act: a stop, a restart and Restart All were seen.
    let msgs: Vec<_> = ours.iter().filter_map(|s| s.message.clone()).collect();
    for m in [
        "Process sleeper stopped",
        "Process grp:gb restarted",
        "All restarted at TIME",
        "ERROR: Process missing: no such file",
    ] {
        assert!(msgs.iter().any(|x| x == m), "{m} not in {msgs:?}");
    }
    assert!(ours.iter().any(|s| s.new_pids.len() >= 4), "{ours:?}");
}

/// An unknown action: supervisord fails with an exception (500), pidvisord
/// says it is a bad request (400). The one deliberate difference in the
/// status codes, in pidvisord(8).
#[test]
fn an_unknown_action_is_a_bad_request_not_a_crash() {
    let v = require_venv!();
    for (kind, status) in [(Kind::Real, 500), (Kind::Ours, 400)] {
        let d = Daemon::start_kind(kind, &v, "", "", PROGRAMS);
        let sock = d.dir.path().join("s.sock");
        for path in ["/index.html?action=bogus", "/index.html?action=start"] {
            let (got, _, _) = curl(
                &sock,
                &Step {
                    auth: false,
                    ..get(path)
                },
            );
            assert_eq!(got, status, "{kind:?} {path}");
        }
    }
}
