//! Event listeners (issue 15): listeners written against
//! `supervisor.childutils` and superlance's unmodified `crashmail`,
//! `memmon` and `httpok` (from the tests' venv) under pidvisord; and
//! fcgi-program sockets.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::fixture::{wait_for, Daemon, TIMEOUT};

/// The venv with Supervisor (for `childutils`) and superlance; `None` only
/// when it cannot be made, which `PIDVISOR_TEST_STRICT=1` makes a failure.
fn venv() -> Option<PathBuf> {
    crate::common::venv()
}

macro_rules! venv_or_skip {
    () => {
        match venv() {
            Some(v) => v,
            None => return,
        }
    };
}

fn recorder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/events/recorder.py")
}

/// `[eventlistener:NAME]` running the recorder into `{dir}/FILE`.
fn listener(venv: &Path, name: &str, events: &str, file: &str, extra: &str) -> String {
    format!(
        "[eventlistener:{name}]\ncommand={} {} {{dir}}/{file} {extra}\nevents={events}\n",
        venv.join("bin/python").display(),
        recorder().display(),
    )
}

/// One recorded event.
#[derive(Debug, Clone)]
struct Rec {
    listener: String,
    headers: Value,
    payload: String,
}

impl Rec {
    fn header(&self, key: &str) -> &str {
        self.headers[key].as_str().unwrap_or("")
    }

    fn name(&self) -> &str {
        self.header("eventname")
    }

    /// The payload's first-line tokens (`processname:x groupname:y ...`).
    fn token(&self, key: &str) -> Option<String> {
        let first = self.payload.lines().next().unwrap_or("");
        first.split(' ').find_map(|kv| {
            let (k, v) = kv.split_once(':')?;
            (k == key).then(|| v.to_string())
        })
    }
}

fn records(path: &Path) -> Vec<Rec> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| Rec {
            listener: v["listener"].as_str().unwrap_or("").to_string(),
            headers: v["headers"].clone(),
            payload: v["payload"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// Wait until the records satisfy `done`; returns them.
fn wait_records(path: &Path, what: &str, done: impl Fn(&[Rec]) -> bool) -> Vec<Rec> {
    wait_for(what, TIMEOUT, || {
        let r = records(path);
        done(&r).then_some(r)
    })
}

/// The pid of the first `spawned: 'NAME' with pid N` line.
fn first_spawned_pid(d: &Daemon, name: &str) -> u32 {
    let needle = format!("spawned: '{name}' with pid ");
    let log = d.main_log();
    let at = log.find(&needle).expect("a spawn") + needle.len();
    log[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Wait until the recorder `NAME` writing to `file` has started (it says
/// READY right after).
fn wait_up(d: &Daemon, file: &str, name: &str) {
    let up = d.path(&format!("{file}.{name}.up"));
    wait_for(&format!("{name} to start"), TIMEOUT, || {
        up.exists().then_some(())
    });
}

fn status(d: &Daemon, name: &str) -> String {
    let out = d.ctl(&["status", name]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_state(d: &Daemon, name: &str, state: &str) {
    wait_for(&format!("{name} {state}"), TIMEOUT, || {
        (status(d, name).split_whitespace().nth(1) == Some(state)).then_some(())
    });
}

/// Call `supervisor.METHOD(args...)` for each of `calls` on the daemon,
/// with Python's xmlrpc client (the venv's, through Supervisor's own
/// transport); returns what each printed (`FAULT code text` for a fault).
fn xmlrpc(venv: &Path, d: &Daemon, calls: &[&str]) -> Vec<String> {
    let mut script = format!(
        "import xmlrpc.client\nfrom supervisor.xmlrpc import SupervisorTransport\n\
         p = xmlrpc.client.ServerProxy('http://127.0.0.1', SupervisorTransport('', '', 'unix://{}'))\n",
        d.path("ctl.sock").display()
    );
    for call in calls {
        script.push_str(&format!(
            "try:\n    print(p.supervisor.{call})\nexcept xmlrpc.client.Fault as f:\n    print('FAULT', f.faultCode, f.faultString)\n"
        ));
    }
    let out = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{calls:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A program that runs, exits unexpectedly, then fails every restart:
/// each PROCESS_STATE_* transition reaches a childutils listener with
/// Supervisor's header and payload tokens.
#[test]
fn state_events_of_a_run_an_exit_backoffs_and_fatal() {
    let v = venv_or_skip!();
    let d = Daemon::start(&format!(
        "{}buffer_size=50\n\n\
         [program:flaky]\n\
         command=sh -c 'if [ -e {{dir}}/ran ]; then exit 2; fi; touch {{dir}}/ran; sleep 2; exit 3'\n\
         startsecs=1\nstartretries=2\nautorestart=unexpected\n",
        listener(&v, "rec", "PROCESS_STATE", "events.jsonl", "")
    ));
    let path = d.path("events.jsonl");
    let flaky = |r: &[Rec]| -> Vec<Rec> {
        r.iter()
            .filter(|e| e.token("processname").as_deref() == Some("flaky"))
            .cloned()
            .collect()
    };
    let all = wait_records(&path, "flaky's FATAL event", |r| {
        flaky(r).iter().any(|e| e.name() == "PROCESS_STATE_FATAL")
    });
    let first_pid = first_spawned_pid(&d, "flaky").to_string();
    let got: Vec<(String, String)> = flaky(&all)
        .iter()
        .map(|e| (e.name().to_string(), e.payload.clone()))
        .collect();
    let p = "processname:flaky groupname:flaky";
    let want = [
        ("STARTING", format!("{p} from_state:STOPPED tries:0")),
        (
            "RUNNING",
            format!("{p} from_state:STARTING pid:{first_pid}"),
        ),
        (
            "EXITED",
            format!("{p} from_state:RUNNING expected:0 pid:{first_pid}"),
        ),
        ("STARTING", format!("{p} from_state:EXITED tries:0")),
        ("BACKOFF", format!("{p} from_state:STARTING tries:1")),
        ("STARTING", format!("{p} from_state:BACKOFF tries:1")),
        ("BACKOFF", format!("{p} from_state:STARTING tries:2")),
        ("STARTING", format!("{p} from_state:BACKOFF tries:2")),
        ("BACKOFF", format!("{p} from_state:STARTING tries:3")),
        ("FATAL", format!("{p} from_state:BACKOFF")),
    ];
    let want: Vec<(String, String)> = want
        .into_iter()
        .map(|(s, pl)| (format!("PROCESS_STATE_{s}"), pl))
        .collect();
    assert_eq!(got, want);
    // The envelope: ver, server, serials counting up from 0, pool, len.
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.header("ver"), "3.0");
        assert_eq!(e.header("server"), "supervisor");
        assert_eq!(e.header("pool"), "rec");
        assert_eq!(e.header("serial"), i.to_string(), "{all:?}");
        assert_eq!(e.header("poolserial"), i.to_string());
        assert_eq!(e.header("len"), e.payload.chars().count().to_string());
    }
    // The listener's own states come too.
    assert!(all
        .iter()
        .any(|e| e.name() == "PROCESS_STATE_RUNNING"
            && e.token("processname").as_deref() == Some("rec")));
}

/// `RESULT 4\nFAIL`: the same event (same serials and payload) comes again.
#[test]
fn a_failed_event_is_sent_again() {
    let v = venv_or_skip!();
    let d = Daemon::start(&listener(
        &v,
        "rec",
        "REMOTE_COMMUNICATION",
        "ev.jsonl",
        "--fail-first",
    ));
    let path = d.path("ev.jsonl");
    wait_state(&d, "rec", "RUNNING");
    let out = xmlrpc(&v, &d, &["sendRemoteCommEvent('alert', 'disk full')"]);
    assert_eq!(out, ["True"]);
    let r = wait_records(&path, "two deliveries", |r| r.len() >= 2);
    assert_eq!(r[0].headers, r[1].headers);
    assert_eq!(r[0].payload, "type:alert\ndisk full");
    assert_eq!(r[1].payload, r[0].payload);
    assert_eq!(r[0].header("eventname"), "REMOTE_COMMUNICATION");
    d.wait_log("rec: event was rejected");
}

/// Events wait in the pool's buffer while no listener runs; past
/// `buffer_size` the oldest is discarded, and the main log says which.
#[test]
fn buffer_overflow_discards_the_oldest() {
    let v = venv_or_skip!();
    let d = Daemon::start(&format!(
        "{}buffer_size=2\nautostart=false\n",
        listener(&v, "rec", "REMOTE_COMMUNICATION", "ev.jsonl", "")
    ));
    let calls: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|data| format!("sendRemoteCommEvent('t', '{data}')"))
        .collect();
    xmlrpc(
        &v,
        &d,
        &calls.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    d.wait_log("ERRO pool rec event buffer overflowed, discarding event 0");
    d.wait_log("ERRO pool rec event buffer overflowed, discarding event 1");
    d.ctl(&["start", "rec"]);
    let r = wait_records(&d.path("ev.jsonl"), "the two kept events", |r| r.len() >= 2);
    let got: Vec<(&str, &str)> = r
        .iter()
        .map(|e| (e.header("serial"), e.payload.as_str()))
        .collect();
    assert_eq!(got, [("2", "type:t\nc"), ("3", "type:t\nd")]);
}

/// `numprocs=3` listeners share one pool: each gets events, none twice.
#[test]
fn a_pool_of_three_spreads_events() {
    let v = venv_or_skip!();
    let d = Daemon::start(&format!(
        "{}numprocs=3\nprocess_name=rec_%(process_num)d\nbuffer_size=20\n",
        listener(&v, "rec", "REMOTE_COMMUNICATION", "ev.jsonl", "--slow 0.2")
    ));
    for i in 0..3 {
        wait_state(&d, &format!("rec:rec_{i}"), "RUNNING");
        wait_up(&d, "ev.jsonl", &format!("rec_{i}"));
    }
    let calls: Vec<String> = (0..9)
        .map(|i| format!("sendRemoteCommEvent('t', '{i}')"))
        .collect();
    xmlrpc(
        &v,
        &d,
        &calls.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let r = wait_records(&d.path("ev.jsonl"), "nine events", |r| r.len() >= 9);
    let mut serials: Vec<&str> = r.iter().map(|e| e.header("serial")).collect();
    serials.sort_unstable();
    serials.dedup();
    assert_eq!(serials.len(), 9, "each event once: {r:?}");
    for i in 0..3 {
        let who = format!("rec_{i}");
        assert!(
            r.iter().any(|e| e.listener == who),
            "{who} got nothing: {r:?}"
        );
    }
    assert!(r.iter().all(|e| e.header("pool") == "rec"));
}

/// A listener that dies while busy: the event goes back to the buffer and
/// reaches the listener restarted by autorestart.
#[test]
fn a_listener_that_dies_while_busy_gets_the_event_again_after_restart() {
    let v = venv_or_skip!();
    let d = Daemon::start(&format!(
        "{}autorestart=true\n",
        listener(&v, "rec", "REMOTE_COMMUNICATION", "ev.jsonl", "--die-first")
    ));
    wait_state(&d, "rec", "RUNNING");
    xmlrpc(&v, &d, &["sendRemoteCommEvent('t', 'once')"]);
    let r = wait_records(&d.path("ev.jsonl"), "the redelivery", |r| r.len() >= 2);
    assert_eq!(r[0].headers, r[1].headers);
    assert_eq!(r[1].payload, "type:t\nonce");
    let log = d.main_log();
    assert!(
        log.contains("exited: rec (exit status 1; not expected)"),
        "{log}"
    );
    assert_eq!(log.matches("spawned: 'rec'").count(), 2, "{log}");
}

/// A listener that breaks the protocol is UNKNOWN and gets no more events
/// (Supervisor's warnings), but keeps running.
#[test]
fn a_listener_that_writes_garbage_is_unknown() {
    let d = Daemon::start(
        "[eventlistener:bad]\ncommand=sh -c 'echo hello; exec sleep 1000'\nevents=TICK_3600\n",
    );
    d.wait_log("WARN bad: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol");
    wait_state(&d, "bad", "RUNNING");
}

/// `stdout_events_enabled`: PROCESS_LOG_STDOUT; capture mode:
/// PROCESS_COMMUNICATION_STDOUT; the listener's own stdout is never logged.
#[test]
fn output_and_communication_events() {
    let v = venv_or_skip!();
    let d = Daemon::start(&format!(
        "{}\n[program:talker]\n\
         command=sh -c 'echo hello; sleep 0.3; printf \"<!--XSUPERVISOR:BEGIN-->secret<!--XSUPERVISOR:END-->\"; exec sleep 1000'\n\
         stdout_events_enabled=true\nstdout_capture_maxbytes=1MB\nstdout_logfile={{dir}}/talker.log\n",
        listener(&v, "rec", "PROCESS_LOG,PROCESS_COMMUNICATION", "ev.jsonl", "")
            + "stdout_logfile={dir}/rec.log\n"
    ));
    let r = wait_records(&d.path("ev.jsonl"), "the communication", |r| {
        r.iter().any(|e| e.name() == "PROCESS_COMMUNICATION_STDOUT")
    });
    let pid = first_spawned_pid(&d, "talker");
    let head = format!("processname:talker groupname:talker pid:{pid}");
    let log = r
        .iter()
        .find(|e| e.name() == "PROCESS_LOG_STDOUT")
        .expect("a log event");
    assert_eq!(log.payload, format!("{head} channel:stdout\nhello\n"));
    let comm = r
        .iter()
        .find(|e| e.name() == "PROCESS_COMMUNICATION_STDOUT")
        .unwrap();
    assert_eq!(comm.payload, format!("{head}\nsecret"));
    assert!(
        !r.iter().any(|e| e.payload.contains("XSUPERVISOR")),
        "tokens leaked: {r:?}"
    );
    assert_eq!(fs::read_to_string(d.path("talker.log")).unwrap(), "hello\n");
    // The protocol (READY, RESULT) is not the listener's log.
    assert_eq!(
        fs::read_to_string(d.path("rec.log")).unwrap_or_default(),
        ""
    );
}

/// Context switches of every thread of `pid` (/proc/PID/task/*/status).
fn switches(pid: u32) -> u64 {
    let mut n = 0;
    for t in fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let status = fs::read_to_string(t.path().join("status")).unwrap_or_default();
        for line in status.lines() {
            if line.starts_with("voluntary_ctxt_switches")
                || line.starts_with("nonvoluntary_ctxt_switches")
            {
                n += line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    n
}

fn wall() -> f64 {
    pidvisor::clock::wall()
}

/// Wait until the daemon has not switched for a whole second (its start-up
/// and our `status` calls are over).
fn quiet(pid: u32) {
    wait_for("the daemon to be idle", TIMEOUT, || {
        let a = switches(pid);
        pidvisor::clock::sleep(Duration::from_secs(1));
        (switches(pid) == a).then_some(())
    });
}

/// Idle cost: with a TICK_60 listener (and none for TICK_5) the daemon
/// does not wake up between minute boundaries; with a TICK_5 listener it
/// does, once per 5 s boundary, and the listener gets `when:` on the
/// boundary.
#[test]
fn tick_listeners_wake_the_daemon_only_on_their_boundaries() {
    let v = venv_or_skip!();
    let d = Daemon::start(&listener(&v, "minute", "TICK_60", "ev.jsonl", ""));
    wait_state(&d, "minute", "RUNNING");
    quiet(d.pid);
    // A 5 s window that holds no minute boundary.
    if wall() % 60.0 > 50.0 {
        let next = (wall() / 60.0).ceil() * 60.0 + 1.0;
        wait_for("the minute boundary to pass", TIMEOUT * 3, || {
            (wall() > next).then_some(())
        });
        quiet(d.pid);
    }
    let before = switches(d.pid);
    pidvisor::clock::sleep(Duration::from_secs(5));
    assert_eq!(
        switches(d.pid) - before,
        0,
        "a TICK_60 listener must not wake the daemon between minutes"
    );

    let d5 = Daemon::start(&listener(&v, "five", "TICK_5", "ev.jsonl", ""));
    wait_state(&d5, "five", "RUNNING");
    quiet(d5.pid);
    let path = d5.path("ev.jsonl");
    let (seen, before) = (records(&path).len(), switches(d5.pid));
    let r = wait_records(&path, "a TICK_5", |r| r.len() > seen);
    assert!(switches(d5.pid) > before);
    for e in &r {
        assert_eq!(e.name(), "TICK_5");
        let when: i64 = e.payload.strip_prefix("when:").unwrap().parse().unwrap();
        assert_eq!(when % 5, 0);
    }
}

/// An executable fake `sendmail` that appends what it is given to
/// `{dir}/mail.txt`.
fn fake_sendmail(d: &Daemon) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = d.path("sendmail");
    let mail = d.path("mail.txt");
    fs::write(&path, format!("#!/bin/sh\ncat >> '{}'\n", mail.display())).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// superlance's crashmail, unmodified: a program that dies unexpectedly
/// gets a mail through the sendmail command given on crashmail's command
/// line.
#[test]
fn superlance_crashmail_mails_an_unexpected_exit() {
    let v = venv_or_skip!();
    let d = Daemon::prepare(&format!(
        "[eventlistener:crashmail]\n\
         command={} -a -m ops@example.com -s {{dir}}/sendmail\n\
         events=PROCESS_STATE_EXITED\n\n\
         [program:doomed]\ncommand=sh -c 'sleep 1.5; exit 7'\nstartsecs=1\nautorestart=false\n",
        v.join("bin/crashmail").display()
    ));
    fake_sendmail(&d);
    let d = d.launch();
    let pid = d.wait_spawned("doomed", 1);
    let mail = wait_for("the mail", TIMEOUT, || {
        let m = fs::read_to_string(d.path("mail.txt")).ok()?;
        m.contains("exited unexpectedly").then_some(m)
    });
    assert!(
        mail.starts_with("To: ops@example.com\nSubject:  doomed crashed at "),
        "{mail}"
    );
    assert!(
        mail.ends_with(&format!(
            "Process doomed in group doomed exited unexpectedly (pid {pid}) from state RUNNING"
        )),
        "{mail}"
    );
}

/// superlance's memmon, unmodified, on TICK_5: a program whose RSS passes
/// its limit is restarted through the XML-RPC API.
#[test]
fn superlance_memmon_restarts_a_program_over_its_rss_limit() {
    let v = venv_or_skip!();
    let d = Daemon::start(&format!(
        "[eventlistener:memmon]\ncommand={} -p hog=20MB\nevents=TICK_5\n\n\
         [program:hog]\n\
         command=python3 -c 'import time; x = b\"x\" * (64 << 20); time.sleep(1000)'\n\
         startsecs=0\n",
        v.join("bin/memmon").display()
    ));
    let first = d.wait_spawned("hog", 1);
    let second = d.wait_spawned("hog", 2);
    assert_ne!(first, second);
    let log = d.main_log();
    assert!(
        log.contains("stopped: hog (terminated by SIGTERM)"),
        "{log}"
    );
    let memmon_log = wait_for("memmon's report", TIMEOUT, || {
        let err = fs::read_dir(d.dir.path())
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("memmon-stderr"))?;
        let text = fs::read_to_string(err.path()).ok()?;
        text.contains("Restarting hog:hog").then_some(text)
    });
    assert!(memmon_log.contains("RSS of hog:hog is "), "{memmon_log}");
}

/// A free TCP port on 127.0.0.1 (bound and released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// superlance's httpok, unmodified, on TICK_5: a web server on 127.0.0.1
/// that answers once and then hangs is restarted.
#[test]
fn superlance_httpok_restarts_a_program_whose_url_stops_answering() {
    let v = venv_or_skip!();
    let port = free_port();
    // Answers until `{dir}/hang` exists, then hangs.
    let server = r#"
import http.server, os, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        while os.path.exists("DIR/hang"):
            time.sleep(1000)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
http.server.HTTPServer(("127.0.0.1", PORT), H).serve_forever()
"#
    .replace("PORT", &port.to_string());
    let d = Daemon::prepare(&format!(
        "[eventlistener:httpok]\ncommand={} -p web -t 2 http://127.0.0.1:{port}/\nevents=TICK_5\n\n\
         [program:web]\ncommand=python3 {{dir}}/server.py\nstartsecs=0\nstopwaitsecs=2\n",
        v.join("bin/httpok").display()
    ));
    let dir = d.dir.path().display().to_string();
    fs::write(d.path("server.py"), server.replace("DIR", &dir)).unwrap();
    let d = d.launch();
    let first = d.wait_spawned("web", 1);
    wait_for("the server to answer", TIMEOUT, || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        use std::io::{Read, Write};
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.ends_with("ok").then_some(())
    });
    d.wait_log("success: httpok entered RUNNING state");
    fs::write(d.path("hang"), "").unwrap();
    let second = d.wait_spawned("web", 2);
    assert_ne!(first, second);
    fs::remove_file(d.path("hang")).unwrap();
    let report = wait_for("httpok's report", TIMEOUT, || {
        let err = fs::read_dir(d.dir.path())
            .ok()?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("httpok-stderr"))?;
        let text = fs::read_to_string(err.path()).ok()?;
        // httpok writes its report as the restart goes: wait for the end
        // of it (a loaded machine showed the first half only).
        (text.contains("Restarting selected processes") && text.contains("web restarted"))
            .then_some(text)
    });
    assert!(
        report.contains("web is in RUNNING state, restarting\nweb restarted"),
        "{report}"
    );
    assert!(d
        .main_log()
        .contains("stopped: web (terminated by SIGTERM)"));
}

/// An fcgi-program's processes: each serves connections accepted on the
/// socket it got as fd 0, answering with its name.
const FCGI_SERVER: &str = r#"
import os, socket
s = socket.socket(fileno=0)
name = os.environ["SUPERVISOR_PROCESS_NAME"].encode()
while True:
    c, _ = s.accept()
    c.sendall(name)
    c.close()
"#;

/// Connect to the unix socket until every one of `names` has answered.
fn answers_from_all(path: &Path, names: &[&str]) {
    use std::io::Read;
    let mut seen = std::collections::HashSet::new();
    wait_for(&format!("answers from {names:?}"), TIMEOUT, || {
        let mut c = std::os::unix::net::UnixStream::connect(path).ok()?;
        let mut who = String::new();
        c.read_to_string(&mut who).ok()?;
        seen.insert(who);
        names.iter().all(|n| seen.contains(*n)).then_some(())
    });
}

/// `[fcgi-program:x]` with numprocs=2: the daemon makes the unix socket
/// (owner and mode as configured) before the first process starts, both
/// processes get it as fd 0 and serve connections, and it is closed and
/// removed once the whole group is stopped; a restart makes it again.
#[test]
fn fcgi_program_processes_share_the_daemons_socket() {
    let d = Daemon::prepare(
        "[fcgi-program:fc]\ncommand=python3 {dir}/server.py\nsocket=unix://{dir}/fc.sock\n\
         socket_owner=nobody:nogroup\nsocket_mode=0660\nnumprocs=2\n\
         process_name=%(program_name)s_%(process_num)d\nstartsecs=0\n",
    );
    fs::write(d.path("server.py"), FCGI_SERVER).unwrap();
    let d = d.launch();
    let sock = d.path("fc.sock");
    wait_state(&d, "fc:fc_0", "RUNNING");
    wait_state(&d, "fc:fc_1", "RUNNING");
    answers_from_all(&sock, &["fc_0", "fc_1"]);
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let m = fs::symlink_metadata(&sock).unwrap();
        assert!(m.file_type().is_socket());
        assert_eq!(m.mode() & 0o7777, 0o660);
        assert_eq!((m.uid(), m.gid()), (65534, 65534));
    }
    // Both processes hold the same socket on fd 0.
    let inode = |name: &str| {
        let pid = first_spawned_pid(&d, name);
        fs::read_link(format!("/proc/{pid}/fd/0")).unwrap()
    };
    assert_eq!(inode("fc_0"), inode("fc_1"));
    assert!(inode("fc_0").to_string_lossy().starts_with("socket:["));
    d.wait_log(&format!("Creating socket unix://{}", sock.display()));

    // One stopped: the other still serves.
    d.ctl(&["stop", "fc:fc_0"]);
    assert!(sock.exists());
    answers_from_all(&sock, &["fc_1"]);
    d.ctl(&["stop", "fc:*"]);
    wait_for("the socket to go", TIMEOUT, || {
        (!sock.exists()).then_some(())
    });
    d.wait_log(&format!("Closing socket unix://{}", sock.display()));
    d.ctl(&["start", "fc:*"]);
    answers_from_all(&sock, &["fc_0", "fc_1"]);
}

/// A TCP fcgi socket, and a socket that cannot be made: a spawn error
/// naming the section, in the main log and `status`.
#[test]
fn fcgi_tcp_socket_and_a_socket_that_cannot_be_made() {
    let port = free_port();
    let d = Daemon::prepare(&format!(
        "[fcgi-program:tcp]\ncommand=python3 {{dir}}/server.py\nsocket=tcp://127.0.0.1:{port}\n\
         startsecs=0\n\n\
         [fcgi-program:bad]\ncommand=python3 {{dir}}/server.py\nsocket=unix://{{dir}}/no/such/dir/s.sock\n\
         startsecs=0\nstartretries=0\n"
    ));
    fs::write(d.path("server.py"), FCGI_SERVER).unwrap();
    let d = d.launch();
    wait_for("an answer over TCP", TIMEOUT, || {
        use std::io::Read;
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        let mut who = String::new();
        c.read_to_string(&mut who).ok()?;
        (who == "tcp").then_some(())
    });
    let log = d.wait_log("gave up: bad entered FATAL state");
    let dir = d.dir.path().display();
    let why = format!(
        "Could not create FastCGI socket unix://{dir}/no/such/dir/s.sock of [fcgi-program:bad]: [Errno 2] No such file or directory"
    );
    assert!(log.contains(&format!("ERRO {why}")), "{log}");
    assert!(log.contains(&format!("INFO spawnerr: {why}")), "{log}");
}

/// Listeners and fcgi programs are processes like any other in `status`
/// and the XML-RPC API; an fcgi process's stdin is its socket, so
/// `sendProcessStdin` has no file to write to (Supervisor's NO_FILE).
#[test]
fn listeners_and_fcgi_programs_show_in_status() {
    let v = venv_or_skip!();
    let d = Daemon::prepare(
        "[eventlistener:lis]\ncommand=sh -c 'printf \"READY\\n\"; exec sleep 1000'\nevents=TICK_3600\nstartsecs=0\n\n\
         [fcgi-program:fc]\ncommand=python3 {dir}/server.py\nsocket=unix://{dir}/fc.sock\nstartsecs=0\n",
    );
    fs::write(d.path("server.py"), FCGI_SERVER).unwrap();
    let d = d.launch();
    wait_state(&d, "lis", "RUNNING");
    wait_state(&d, "fc", "RUNNING");
    let all = String::from_utf8_lossy(&d.ctl(&["status"]).stdout).into_owned();
    assert!(
        all.lines()
            .any(|l| l.starts_with("fc ") && l.contains("RUNNING")),
        "{all}"
    );
    assert!(
        all.lines()
            .any(|l| l.starts_with("lis ") && l.contains("RUNNING")),
        "{all}"
    );
    let out = xmlrpc(
        &v,
        &d,
        &[
            "getProcessInfo('lis')['statename']",
            "getProcessInfo('fc')['group']",
            "sendProcessStdin('fc', 'x')",
        ],
    );
    assert_eq!(out, ["RUNNING", "fc", "FAULT 20 NO_FILE: fc"]);
}
