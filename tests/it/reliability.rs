//! Issue 21: hostile input and exhausted resources must never cost a
//! supervised program. Each test reproduces one report of the issue.

use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::fixture::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Room for this test's own sockets (the flood needs more than 1024).
fn raise_own_nofile() {
    use pidvisor::sys::rlimit::{get, set, Limit};
    let (soft, hard) = get(Limit::NoFile);
    let want = hard.map_or(16384, |h| h.min(16384));
    if soft.is_some_and(|s| s < want) {
        set(Limit::NoFile, Some(want), hard).unwrap();
    }
}

/// `d` launched under `prlimit --nofile=SOFT:HARD`, as systemd starts a
/// service (soft limit 1024).
fn launch_with_nofile(mut d: Daemon, soft: u64, hard: u64) -> Daemon {
    let out = std::fs::File::create(d.path("daemon.out")).unwrap();
    let child = Command::new("prlimit")
        .arg(format!("--nofile={soft}:{hard}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_pidvisord"))
        .arg("-n")
        .arg("-c")
        .arg(&d.conf)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start pidvisord under prlimit");
    // prlimit execs the daemon: same pid.
    d.pid = child.id();
    d.child = Some(child);
    let pid = d.pid;
    d.wait_log(&format!("supervisord started with pid {pid}"));
    d
}

/// Whether the server closed this connection (EOF or reset), without
/// waiting for it.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_nonblocking(true).unwrap();
    let mut b = [0u8; 16];
    match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

/// Issue 21, point 2: 1100 idle clients that never log in, at a soft fd
/// limit of 1024. A killed program still restarts (Supervisor 4.3 does),
/// and the flood's connections are closed oldest-first.
#[test]
fn idle_connection_flood_cannot_make_a_program_fatal() {
    raise_own_nofile();
    let port = free_port();
    let d = Daemon::prepare(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\n\n\
         [program:victim]\ncommand=sleep 1000\nstartsecs=0\nautorestart=true\n"
    ));
    let d = launch_with_nofile(d, 1024, 4096);
    let first = d.wait_spawned("victim", 1);
    let mut flood: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).expect("connect"))
        .collect();
    // The daemon has taken in every connection it will keep once a
    // connection made after the flood is accepted and answered.
    let probe = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&probe.stdout), "401");
    send(first, 9);
    let second = d.wait_spawned("victim", 2);
    assert_ne!(first, second);
    let log = d.main_log();
    assert!(
        !log.contains("too many open files"),
        "a spawn ran out of descriptors:\n{log}"
    );
    wait_for("victim RUNNING again", TIMEOUT, || {
        let out = d.ctl(&["status", "victim"]);
        String::from_utf8_lossy(&out.stdout)
            .contains("RUNNING")
            .then_some(())
    });
    // Oldest first: the first connections are gone, the newest still open.
    assert!(closed_by_server(&mut flood[0]), "the oldest was kept");
    let last = flood.len() - 1;
    assert!(!closed_by_server(&mut flood[last]), "the newest was closed");
    flood.clear();
}

/// Issue 21, point 5: loose HTTP framing is refused with 400, and an
/// error page answers HTTP/1.1 with HTTP/1.1.
#[test]
fn ambiguous_framing_is_refused() {
    use std::io::Write;
    let port = free_port();
    let d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\n\n\
         [program:p]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    d.wait_spawned("p", 1);
    let ask = |raw: &str| -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if out.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&out).into_owned();
        text.lines().next().unwrap_or("").to_string()
    };
    let body =
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getPID</methodName></methodCall>";
    assert_eq!(
        ask(&format!(
            "POST /RPC2 HTTP/1.1\r\nContent-Length: +{}\r\n\r\n{body}",
            body.len()
        )),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        ask(&format!(
            "POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        ask(&format!(
            "POST /RPC2 HTTP/1.1\r\nContent-Length: {n}\r\nContent-Length: {n}\r\n\r\n{body}",
            n = body.len()
        )),
        "HTTP/1.1 400 Bad Request"
    );
    assert_eq!(
        ask(&format!(
            "POST /RPC2 HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )),
        "HTTP/1.0 200 OK"
    );
}

/// Issue 21, point 3: with cgroups, what each main process leaves behind
/// gets the stop signal as soon as the main process exits, and the
/// shutdown moves on at once: it no longer takes N x stopwaitsecs (here it
/// would be 500 s, far past the fixture's deadline).
#[test]
fn cgroup_shutdown_does_not_add_up_stopwaitsecs() {
    if crate::cgroups::cgroup2().is_none() {
        return;
    }
    let programs: String = (0..5)
        .map(|i| {
            format!(
                "[program:p{i}]\ncommand=sh -c 'sleep 1000 & exec sleep 1001'\n\
                 startsecs=0\nstopwaitsecs=100\n\n"
            )
        })
        .collect();
    let mut d = Daemon::start(&format!(
        "[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/pidvisord.pid\n\
         childlogdir={{dir}}\ncgroups=true\n\n[unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n{programs}"
    ));
    for i in 0..5 {
        d.wait_spawned(&format!("p{i}"), 1);
    }
    // Every program's two sleeps are up (the leftover is the main's sibling).
    let all = wait_for("both sleeps of every program", TIMEOUT, || {
        let pids = descendants(d.pid);
        (pids.len() >= 10).then_some(pids)
    });
    assert_eq!(d.stop(), Some(0));
    let log = d.main_log();
    for pid in &all {
        assert!(!alive(*pid), "pid {pid} outlived the shutdown:\n{log}");
    }
    assert!(
        !log.contains("with SIGKILL"),
        "the leftovers should have stopped on the stop signal:\n{log}"
    );
    for i in 0..5 {
        assert!(
            log.contains(&format!("stopped: p{i} (terminated by SIGTERM)")),
            "{log}"
        );
    }
}

/// Kills the given pids on drop: survivors of a failed test never outlive it.
struct KillOnDrop(Vec<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if alive(pid) {
                send(pid, 9);
            }
        }
    }
}

/// Issue 21, point 6: without cgroups, a SIGKILLed daemon's children run
/// on (as under supervisord); the next daemon on the same config stops
/// them before it starts its own, instead of running a second copy beside
/// each, and says so in the main log.
#[test]
fn a_sigkilled_daemons_children_are_stopped_by_the_next_one() {
    let d = Daemon::start(
        "[program:web]\ncommand=sh -c 'sleep 1000 & exec sleep 1001'\nstartsecs=0\n\n\
         [program:plain]\ncommand=sleep 1002\nstartsecs=0\n",
    );
    let web = d.wait_spawned("web", 1);
    let plain = d.wait_spawned("plain", 1);
    let left = wait_for("web's background sleep", TIMEOUT, || {
        let pids = descendants(web);
        (!pids.is_empty()).then_some(pids)
    });
    let mut old = vec![web, plain];
    old.extend(&left);
    let _guard = KillOnDrop(old.clone());
    let mut d = d;
    send(d.pid, 9);
    let mut child = d.child.take().unwrap();
    child.wait().unwrap();
    for &pid in &old {
        assert!(alive(pid), "{pid} died with the daemon");
    }
    let d = d.launch();
    let log = d.wait_log("a previous pidvisord on this config left running");
    for &pid in &old {
        wait_for(&format!("{pid} stopped"), TIMEOUT, || {
            (!alive(pid)).then_some(())
        });
        assert!(log.contains(&format!("({pid})")), "{pid} not named:\n{log}");
    }
    let web2 = d.wait_spawned("web", 2);
    assert!(!old.contains(&web2));
    // Stopped before anything was started again (read again: the log above
    // may predate the new spawn, and then its last spawn is the old one).
    let log = d.main_log();
    let stopped_at = log.find("left running").unwrap();
    let started_at = log.rfind("spawned: 'web'").unwrap();
    assert!(stopped_at < started_at, "{log}");
}
