//! Issue 17: systemd's notify protocol, both ways, with real senders —
//! `systemd-notify` (Debian package `systemd`), Python's `sdnotify`
//! (pinned in the tests' venv), and raw datagrams — and pidvisord itself
//! under a fake service manager (a datagram socket the test reads).
//!
//! Nothing here asserts a duration: readiness is shown by the order of
//! main-log lines around events the test controls (gate files, a witness
//! program that reaches RUNNING at `startsecs`).

use std::fs;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::fixture::*;

/// The venv's python, which has `sdnotify` (made once per test binary by
/// `tests/compat/setup-supervisor.sh`). Without it the test fails unless
/// it may skip (never with `PIDVISOR_TEST_STRICT=1`).
fn sdnotify_python() -> Option<PathBuf> {
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = PY.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("sh")
            .arg(root.join("tests/compat/setup-supervisor.sh"))
            .output()
            .expect("run setup-supervisor.sh");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let venv = String::from_utf8_lossy(&out.stdout).trim().to_string();
        Ok(PathBuf::from(venv).join("bin/python"))
    });
    match made {
        Ok(python) => Some(python.clone()),
        // Each test that needs it reports its own skip.
        Err(why) => {
            crate::skip::skip(&format!("the venv with sdnotify: {why}"));
            None
        }
    }
}

/// Whether `systemd-notify` runs here; if not, [`crate::skip::skip`]
/// names its package (a failure unless the runner allowed skips).
fn have_systemd_notify() -> bool {
    let ok = Command::new("systemd-notify")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        crate::skip::skip("systemd-notify (Debian package systemd)");
    }
    ok
}

/// A loglevel=debug header (the drop lines are at debug).
fn header() -> String {
    header_with("")
}

fn header_with(extra: &str) -> String {
    format!(
        "[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/pidvisord.pid\n\
         childlogdir={{dir}}\nloglevel=debug\n{extra}\n[unix_http_server]\n\
         file={{dir}}/ctl.sock\n\n[supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n"
    )
}

fn ctl_out(d: &Daemon, args: &[&str]) -> String {
    String::from_utf8_lossy(&d.ctl(args).stdout).into_owned()
}

/// `pidvisorctl status NAME`, waited on until it contains `want`.
fn wait_status(d: &Daemon, name: &str, want: &str) -> String {
    wait_for(
        &format!("status of {name} to show {want:?}"),
        TIMEOUT,
        || {
            let s = ctl_out(d, &["status", name]);
            s.contains(want).then_some(s)
        },
    )
}

/// Where `needle` is in the log (panics if absent).
fn at(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the main log:\n{log}"))
}

fn touch(d: &Daemon, name: &str) {
    fs::write(d.path(name), "go").unwrap();
}

/// The pid `status` shows for a RUNNING process.
fn status_pid(d: &Daemon, name: &str) -> u32 {
    let s = wait_status(d, name, "RUNNING");
    s.split("pid ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {s:?}"))
}

#[test]
fn running_at_ready_not_at_startsecs_issue_17() {
    if !have_systemd_notify() {
        return;
    }
    // `late` is spawned first (priority), so if it followed startsecs it
    // would be RUNNING no later than the witness `clock`.
    let d = Daemon::start(&format!(
        "{}[program:late]\npriority=1\nstartsecs=1\nready=notify\n\
         command=sh -c 'while [ ! -e {{dir}}/go ]; do sleep 0.02; done; \
         systemd-notify --ready --status=\"ready now\"; exec sleep 1000'\n\n\
         [program:clock]\npriority=2\nstartsecs=1\ncommand=sleep 1000\n",
        header()
    ));
    d.wait_log("success: clock entered RUNNING state");
    let s = ctl_out(&d, &["status", "late"]);
    assert!(s.contains("STARTING"), "{s}");
    touch(&d, "go");
    let log =
        d.wait_log("success: late entered RUNNING state, process sent READY=1 (ready=notify)");
    assert!(at(&log, "success: clock entered RUNNING") < at(&log, "success: late entered"));
    assert!(!log.contains("late entered RUNNING state, process has stayed up"));
    wait_status(&d, "late", "status: ready now");
    // systemd-notify's own barrier message comes from a non-main pid.
    d.wait_log("not the main process (notify_access=main)");
}

#[test]
fn no_ready_is_killed_at_the_timeout_then_backoff_then_fatal_issue_17() {
    // It ignores SIGTERM (an ignored signal survives exec): SIGKILL follows.
    let d = Daemon::start(&format!(
        "{}[program:never]\nready=notify\nready_timeout_sec=0.5\nstartretries=1\n\
         stopwaitsecs=1\ncommand=sh -c 'trap \"\" TERM; exec sleep 1000'\n",
        header()
    ));
    let log = d.wait_log("gave up: never entered FATAL state, too many start retries too quickly");
    let lines = [
        "spawned: 'never'",
        "'never' (pid ",
        "sent no READY=1 within 0.5 seconds (ready_timeout_sec); sending SIGTERM",
        "killing 'never' (",
        "exited: never (terminated by SIGKILL; not expected)",
    ];
    let mut from = 0;
    for l in lines {
        let i = log[from..]
            .find(l)
            .unwrap_or_else(|| panic!("{l:?} not in order in:\n{log}"));
        from += i;
    }
    assert_eq!(d.log_count("spawned: 'never'"), 2, "one retry");
    assert!(!log.contains("entered RUNNING"));
    let s = wait_status(&d, "never", "FATAL");
    assert!(
        s.contains("Sent no READY=1 in time (ready_timeout_sec)"),
        "{s}"
    );
}

#[test]
fn exit_before_ready_is_backoff_issue_17() {
    let d = Daemon::start(&format!(
        "{}[program:quitter]\nready=notify\nstartsecs=0\nstartretries=0\n\
         command=sh -c 'sleep 0.2; exit 0'\n",
        header()
    ));
    d.wait_log("gave up: quitter entered FATAL state");
    let log = d.main_log();
    assert!(at(&log, "exited: quitter (exit status 0; not expected)") > 0);
    let s = wait_status(&d, "quitter", "FATAL");
    assert!(s.contains("Exited before sending READY=1"), "{s}");
}

#[test]
fn status_text_in_status_and_process_info_issue_17() {
    let Some(py) = sdnotify_python() else {
        return;
    };
    let script = "import sdnotify, os, time\n\
                  n = sdnotify.SystemdNotifier()\n\
                  n.notify('READY=1\\nSTATUS=loading')\n\
                  while not os.path.exists('go'): time.sleep(0.02)\n\
                  n.notify('STATUS=serving 3 clients')\n\
                  time.sleep(1000)\n";
    let d = Daemon::prepare(&format!(
        "{}[program:told]\nready=notify\ndirectory={{dir}}\ncommand={} {{dir}}/told.py\n\n\
         [program:plain]\ncommand=sleep 1000\nstartsecs=0\n",
        header(),
        py.display()
    ));
    fs::write(d.path("told.py"), script).unwrap();
    let d = d.launch();
    d.wait_log("success: told entered RUNNING state, process sent READY=1");
    let s = wait_status(&d, "told", "status: loading");
    assert!(s.contains("RUNNING   pid "), "{s}");
    touch(&d, "go");
    wait_status(&d, "told", "status: serving 3 clients");
    // getProcessInfo carries the text for a notify program only: the
    // others keep Supervisor's exact keys.
    let json = ctl_out(&d, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let by_name = |n: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("told")["status_text"], "serving 3 clients");
    assert!(by_name("plain").get("status_text").is_none(), "{json}");
    let plain = ctl_out(&d, &["status", "plain"]);
    assert!(!plain.contains("status:"), "{plain}");
}

#[test]
fn missed_watchdog_ping_restarts_and_the_log_says_watchdog_issue_17() {
    let Some(py) = sdnotify_python() else {
        return;
    };
    // Pings for a while (each run), then hangs without pinging.
    let script = "import sdnotify, time\n\
                  n = sdnotify.SystemdNotifier()\n\
                  n.notify('READY=1')\n\
                  for _ in range(5):\n    n.notify('WATCHDOG=1'); time.sleep(0.1)\n\
                  time.sleep(1000)\n";
    let d = Daemon::prepare(&format!(
        "{}[program:dog]\nready=notify\nwatchdog_sec=1\nstopwaitsecs=2\n\
         directory={{dir}}\ncommand={} {{dir}}/dog.py\n",
        header(),
        py.display()
    ));
    fs::write(d.path("dog.py"), script).unwrap();
    let d = d.launch();
    let first = d.wait_spawned("dog", 1);
    d.wait_log("success: dog entered RUNNING state");
    let env = proc_environ(first);
    assert!(
        env.contains(&"WATCHDOG_USEC=1000000".to_string()),
        "{env:?}"
    );
    assert!(env.contains(&format!("WATCHDOG_PID={first}")), "{env:?}");
    assert!(env
        .iter()
        .any(|v| v.starts_with("NOTIFY_SOCKET=@pidvisord-")));
    let second = d.wait_spawned("dog", 2);
    assert_ne!(first, second);
    let log = d.main_log();
    let miss = at(
        &log,
        &format!(
            "watchdog: 'dog' (pid {first}) missed its WATCHDOG=1 ping (interval 1 s); sending SIGABRT"
        ),
    );
    let exit = at(&log, "exited: dog (terminated by SIGABRT");
    assert!(miss < exit && exit < log.rfind("spawned: 'dog'").unwrap());
    assert!(log[exit..].contains("not expected)"));
}

#[test]
fn forking_daemon_with_mainpid_is_supervised_issue_17() {
    if !have_systemd_notify() {
        return;
    }
    // The launcher forks the daemon, reports it, and exits.
    let d = Daemon::start(&format!(
        "{}[program:forker]\nready=notify\nstopwaitsecs=2\n\
         command=sh -c 'sleep 1000 & systemd-notify MAINPID=$! READY=1; exit 0'\n",
        header()
    ));
    let launcher = d.wait_spawned("forker", 1);
    let log = d.wait_log("main process is now pid ");
    assert!(
        log.contains(&format!("(MAINPID=; was pid {launcher})")),
        "{log}"
    );
    let daemon = status_pid(&d, "forker");
    assert_ne!(daemon, launcher);
    let cmdline = fs::read_to_string(format!("/proc/{daemon}/cmdline")).unwrap();
    assert!(cmdline.starts_with("sleep\0"), "{cmdline:?}");
    // The launcher's exit is not the program's.
    wait_for("the launcher to be reaped", TIMEOUT, || {
        (!alive(launcher)).then_some(())
    });
    assert!(!d.main_log().contains("exited: forker"));
    // Killing the daemon is the program's exit: it restarts.
    send(daemon, 9);
    d.wait_log("exited: forker (terminated by SIGKILL; not expected)");
    d.wait_spawned("forker", 2);
    d.wait_log_count("main process is now pid ", 2);
    let again = status_pid(&d, "forker");
    assert_ne!(again, daemon);
    // Stop stops the daemon itself.
    let out = ctl_out(&d, &["stop", "forker"]);
    assert!(out.contains("forker: stopped"), "{out}");
    assert!(!alive(again));
    d.wait_log("stopped: forker (terminated by SIGTERM)");
}

#[test]
fn forking_daemon_with_a_late_pidfile_is_supervised_issue_17() {
    // The daemon writes its pidfile a moment after the launcher exited.
    let d = Daemon::start(&format!(
        "{}[program:pf]\npidfile={{dir}}/pf.pid\nstartsecs=1\nstopwaitsecs=2\n\
         command=sh -c 'sh -c \"sleep 0.3; echo \\$\\$ > {{dir}}/pf.pid; exec sleep 1000\" & exit 0'\n",
        header()
    ));
    let launcher = d.wait_spawned("pf", 1);
    let log = d.wait_log("main process is now pid ");
    assert!(
        log.contains(&format!(
            "(pidfile {}; was pid {launcher})",
            d.path("pf.pid").display()
        )),
        "{log}"
    );
    d.wait_log("success: pf entered RUNNING state");
    let daemon = status_pid(&d, "pf");
    assert_eq!(
        fs::read_to_string(d.path("pf.pid")).unwrap().trim(),
        daemon.to_string()
    );
    assert!(!d.main_log().contains("exited: pf"));
    let out = ctl_out(&d, &["stop", "pf"]);
    assert!(out.contains("pf: stopped"), "{out}");
    assert!(!alive(daemon));
    // The pidfile of a finished run goes, so a restart cannot read it.
    assert!(!d.path("pf.pid").exists());
}

#[test]
fn pidfile_that_never_comes_makes_the_launcher_exit_count_issue_17() {
    let d = Daemon::start(&format!(
        "{}[program:nofile]\npidfile={{dir}}/none.pid\nstartsecs=0\nautorestart=false\n\
         command=sh -c 'exit 0'\n",
        header()
    ));
    let log = d.wait_log("exited: nofile (exit status 0; expected)");
    assert!(
        log.contains("the launcher's exit is the program's"),
        "{log}"
    );
}

#[test]
fn forged_messages_change_nothing_issue_17() {
    // `target` never sends anything. `forger`, as nobody, tries to send
    // with target's credentials (the kernel refuses), then sends a plain
    // READY=1 with a MAINPID= pointing at target. The test process,
    // outside any program, sends READY=1 too.
    let forger = "import os, socket, struct, time\n\
        addr = '\\0' + os.environ['NOTIFY_SOCKET'][1:]\n\
        while not os.path.exists('target.pid'): time.sleep(0.02)\n\
        pid = int(open('target.pid').read())\n\
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
        creds = struct.pack('iII', pid, os.getuid(), os.getgid())\n\
        try:\n    s.sendmsg([b'READY=1'], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)], 0, addr)\n    print('forged', flush=True)\n\
        except OSError as e:\n    print('forge refused', e.errno, flush=True)\n\
        s.sendto(('READY=1\\nSTATUS=forged\\nMAINPID=%d' % pid).encode(), addr)\n\
        print('sent', flush=True)\n\
        time.sleep(1000)\n";
    let d = Daemon::prepare(&format!(
        "{}[program:target]\nready=notify\nready_timeout_sec=0\ncommand=sleep 1000\n\n\
         [program:forger]\nuser=nobody\nnotify_access=main\nstartsecs=0\ndirectory={{dir}}\n\
         command=/usr/bin/python3 {{dir}}/forger.py\n",
        header()
    ));
    fs::set_permissions(d.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(d.path("forger.py"), forger).unwrap();
    let d = d.launch();
    let target = d.wait_spawned("target", 1);
    let forger_pid = d.wait_spawned("forger", 1);
    fs::write(d.path("target.pid"), target.to_string()).unwrap();
    // The test process: belongs to no program.
    let sock = wait_for("the notify socket's name", TIMEOUT, || {
        let log = d.main_log();
        let at = log.find("NOTIFY_SOCKET=@")? + "NOTIFY_SOCKET=@".len();
        Some(log[at..].lines().next()?.to_string())
    });
    let addr = SocketAddr::from_abstract_name(sock.as_bytes()).unwrap();
    let tx = UnixDatagram::unbound().unwrap();
    tx.send_to_addr(format!("READY=1\nMAINPID={target}").as_bytes(), &addr)
        .unwrap();
    d.wait_log(&format!(
        "dropped a message from pid {}: it belongs to no program",
        std::process::id()
    ));
    let out_log = wait_for("the forger to finish", TIMEOUT, || {
        let out = ctl_out(&d, &["tail", "forger"]);
        out.contains("sent").then_some(out)
    });
    assert!(out_log.contains("forge refused 1"), "{out_log}");
    d.wait_log(&format!(
        "'forger': MAINPID={target} ignored: pid {target} is not a process of the program"
    ));
    // The forger's own READY/STATUS are its own (it is main of `forger`).
    wait_status(&d, "forger", "status: forged");
    // Nothing changed for target.
    let s = ctl_out(&d, &["status", "target"]);
    assert!(s.contains("STARTING"), "{s}");
    assert!(!s.contains("forged"), "{s}");
    assert!(!d.main_log().contains("success: target"));
    assert!(!d.main_log().contains("main process is now"));
    assert_eq!(d.spawned_pid("forger"), Some(forger_pid));
}

/// A fake service manager: a datagram socket pidvisord is told about.
struct Manager {
    sock: UnixDatagram,
    path: PathBuf,
}

impl Manager {
    fn new(dir: &std::path::Path) -> Manager {
        let path = dir.join("systemd-notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Manager { sock, path }
    }

    /// The next message that contains `want`; every message read on the way
    /// is kept in `seen`.
    fn expect(&self, want: &str, seen: &mut Vec<String>) -> String {
        wait_for(
            &format!("a message with {want:?} (seen {seen:?})"),
            TIMEOUT,
            || {
                let mut buf = [0u8; 4096];
                let n = self.sock.recv(&mut buf).ok()?;
                let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                seen.push(m.clone());
                m.contains(want).then_some(m)
            },
        )
    }
}

#[test]
fn pidvisord_notifies_its_service_manager_issue_17() {
    let d = Daemon::prepare(&format!(
        "{}[program:one]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:env]\ncommand=sh -c 'env > {{dir}}/env.txt; exec sleep 1000'\nstartsecs=0\n",
        header()
    ));
    let m = Manager::new(d.dir.path());
    let socket = m.path.to_str().unwrap().to_string();
    let d = d.launch_env(&[("NOTIFY_SOCKET", &socket), ("WATCHDOG_USEC", "400000")]);
    let mut seen = Vec::new();
    let ready = m.expect("READY=1", &mut seen);
    // Sent once the autostart programs were spawned.
    let log = d.main_log();
    assert!(
        log.contains("spawned: 'one'") && log.contains("spawned: 'env'"),
        "{log}"
    );
    assert!(ready.contains("STATUS="), "{ready}");
    if !ready.contains("STATUS=2 running") {
        m.expect("STATUS=2 running", &mut seen);
    }
    // The watchdog is pinged from the loop (twice, to see it repeat).
    m.expect("WATCHDOG=1", &mut seen);
    m.expect("WATCHDOG=1", &mut seen);
    // The daemon's variables are not its programs'.
    let env = wait_file(&d.path("env.txt"));
    assert!(!env.contains("NOTIFY_SOCKET"), "{env}");
    assert!(!env.contains("WATCHDOG_USEC"), "{env}");
    // A reload: RELOADING=1 with the monotonic clock, then READY=1 again.
    d.signal(1);
    let reloading = m.expect("RELOADING=1", &mut seen);
    let usec: u64 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no MONOTONIC_USEC in {reloading:?}"));
    assert!(usec > 0);
    m.expect("READY=1", &mut seen);
    let mut d = d;
    d.signal(15);
    m.expect("STOPPING=1", &mut seen);
    assert_eq!(d.stop(), Some(0));
}

/// Context switches of every thread of `pid`.
fn switches(pid: u32) -> u64 {
    let mut total = 0;
    for t in fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let s = fs::read_to_string(t.path().join("status")).unwrap_or_default();
        total += s
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

#[test]
fn idle_with_notify_programs_never_wakes_up_issue_17() {
    if !have_systemd_notify() {
        return;
    }
    // Ready programs on the notify socket, no watchdog: nothing is due.
    let d = Daemon::start(&format!(
        "{}[program:n]\nready=notify\nnumprocs=3\nprocess_name=n%(process_num)d\n\
         command=sh -c 'systemd-notify --ready --status=idle; exec sleep 100000'\n",
        header()
    ));
    for i in 0..3 {
        d.wait_log(&format!("success: n{i} entered RUNNING state"));
    }
    let mut before = switches(d.pid);
    wait_for("the daemon to go idle", TIMEOUT, || {
        pidvisor::clock::sleep(Duration::from_secs(1));
        let now = switches(d.pid);
        let still = now == before;
        before = now;
        still.then_some(())
    });
    // The measured window itself (a measurement, not a wait for a state).
    pidvisor::clock::sleep(Duration::from_secs(3));
    assert_eq!(switches(d.pid), before, "the idle daemon woke up");
}

#[test]
fn forking_daemon_in_a_cgroup_leaf_issue_17() {
    let Some(_mount) = crate::cgroups::cgroup2() else {
        return;
    };
    if !have_systemd_notify() {
        return;
    }
    // The daemon makes a session of its own (no process group reaches it);
    // a helper it starts reports STATUS= from inside the leaf.
    let helper = "import os, socket, time\n\
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
        s.sendto(b'STATUS=from the leaf', '\\0' + os.environ['NOTIFY_SOCKET'][1:])\n\
        time.sleep(1000)\n";
    let other = "import os, socket, time\n\
        while not os.path.exists('daemon.pid'): time.sleep(0.02)\n\
        pid = open('daemon.pid').read().strip()\n\
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
        s.sendto(('MAINPID=' + pid).encode(), '\\0' + os.environ['NOTIFY_SOCKET'][1:])\n\
        time.sleep(1000)\n";
    let d = Daemon::prepare(&format!(
        "{}[program:forker]\nready=notify\nnotify_access=all\nstopwaitsecs=2\n\
         command=sh -c 'setsid sh -c \"while [ ! -e {{dir}}/go ]; do sleep 0.02; done; \
         /usr/bin/python3 {{dir}}/helper.py & exec sleep 1000\" & \
         systemd-notify MAINPID=$! READY=1; exit 0'\n\n\
         [program:other]\nnotify_access=main\nstartsecs=0\ndirectory={{dir}}\n\
         command=/usr/bin/python3 {{dir}}/other.py\n",
        header_with("cgroups=true\n")
    ));
    fs::write(d.path("helper.py"), helper).unwrap();
    fs::write(d.path("other.py"), other).unwrap();
    let d = d.launch();
    let launcher = d.wait_spawned("forker", 1);
    let log = d.wait_log("main process is now pid ");
    assert!(
        log.contains(&format!("(MAINPID=; was pid {launcher})")),
        "{log}"
    );
    d.wait_log("success: forker entered RUNNING state, process sent READY=1");
    let daemon = status_pid(&d, "forker");
    let cg = fs::read_to_string(format!("/proc/{daemon}/cgroup")).unwrap();
    let cg = cg
        .lines()
        .find_map(|l| l.strip_prefix("0::/"))
        .unwrap_or_else(|| panic!("no cgroup2 line in {cg:?}"))
        .to_string();
    assert!(cg.ends_with("/forker/forker"), "{cg}");
    // A message from a non-main process of the leaf counts (notify_access=all).
    touch(&d, "go");
    wait_status(&d, "forker", "status: from the leaf");
    // Another program cannot hand the daemon over to itself.
    fs::write(d.path("daemon.pid"), daemon.to_string()).unwrap();
    d.wait_log(&format!(
        "'other': MAINPID={daemon} ignored: pid {daemon} is not a process of the program"
    ));
    assert_eq!(status_pid(&d, "forker"), daemon);
    // Stop: the daemon and its helper go with the leaf.
    let leaf_pids = fs::read_to_string(
        crate::cgroups::cgroup2()
            .unwrap()
            .join(&cg)
            .join("cgroup.procs"),
    )
    .unwrap();
    let out = ctl_out(&d, &["stop", "forker"]);
    assert!(out.contains("forker: stopped"), "{out}");
    for pid in leaf_pids.split_whitespace() {
        let pid: u32 = pid.parse().unwrap();
        assert!(!alive(pid), "pid {pid} of the leaf survived the stop");
    }
}
