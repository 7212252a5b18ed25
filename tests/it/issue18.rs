//! Issue 18 through the real binaries: `depends_on` (start after the
//! dependency is RUNNING, stop dependents first, a cycle rejected with its
//! path, a FATAL dependency, an update adding or removing an edge), the start limit,
//! `exit_on_fatal`, `capabilities` with `user=nobody`, `environment_file`
//! and log timestamps. Orders are read from the main log and from files
//! the programs write; nothing asserts a duration.

use std::fs;
use std::process::Command;

use crate::fixture::*;

/// Where `needle` first appears in the main log (panics if absent).
fn at(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the main log:\n{log}"))
}

/// `pidvisorctl status NAME` as text.
fn status(d: &Daemon, name: &str) -> String {
    String::from_utf8_lossy(&d.ctl(&["status", name]).stdout).into_owned()
}

/// `a` writes a marker after a second, and only then says it is ready
/// (`ready=notify`): its RUNNING cannot come before the marker, whatever
/// the load. (With `startsecs` standing for readiness, the daemon's timer
/// and the shell's `sleep` raced on a loaded machine.) `b` depends on it
/// and records whether the marker existed when it started.
const A_THEN_B: &str = "[program:a]\n\
    command=sh -c 'sleep 1; echo ready > {dir}/a.ready; systemd-notify --ready; exec sleep 1000'\n\
    ready=notify\n\
    notify_access=all\n\
    [program:b]\n\
    command=sh -c 'if test -f {dir}/a.ready; then echo after > {dir}/b.saw; else echo before > {dir}/b.saw; fi; exec sleep 1000'\n\
    startsecs=0\n\
    depends_on=a\n";

#[test]
fn issue18_a_dependent_starts_after_its_dependency_is_running_and_stops_first() {
    let d = Daemon::start(A_THEN_B);
    let b = d.wait_spawned("b", 1);
    assert_eq!(wait_file(&d.path("b.saw")).trim(), "after");
    let log = d.main_log();
    assert!(at(&log, "b: waiting for a before starting") < at(&log, "success: a entered RUNNING"));
    assert!(at(&log, "success: a entered RUNNING") < at(&log, "spawned: 'b'"));
    assert!(status(&d, "b").contains(&format!("RUNNING   pid {b},")));

    // stop a: b is stopped first, a only then.
    let a = d.spawned_pid("a").unwrap();
    let out = d.ctl(&["stop", "a"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a: stopped\n");
    let log = d.wait_log("stopped: a");
    assert!(at(&log, "stopped: b") < at(&log, "stopped: a"), "{log}");
    assert!(!alive(a) && !alive(b));
    // b was stopped for a: it comes back with it.
    fs::remove_file(d.path("a.ready")).unwrap();
    d.ctl(&["start", "a"]);
    d.wait_spawned("b", 2);
    assert_eq!(wait_file(&d.path("a.ready")).trim(), "ready");
}

#[test]
fn issue18_a_dependency_cycle_is_a_config_error_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("cycle.conf");
    fs::write(
        &conf,
        "[supervisord]\n[program:a]\ncommand=sleep 1\ndepends_on=b\n\
         [program:b]\ncommand=sleep 1\ndepends_on=a\n[program:c]\ncommand=sleep 1\ndepends_on=nosuch\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(["--check-config", "-c"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let f = conf.display();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "{f}:4: [program:a] depends_on: dependency cycle: a -> b -> a\n\
             {f}:10: [program:c] depends_on: depends_on names nosuch, which is neither a program nor a group\n"
        )
    );
    // The daemon refuses to start on it, saying the same.
    let out = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(["-n", "-c"])
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dependency cycle: a -> b -> a"));
}

#[test]
fn issue18_a_fatal_dependency_leaves_its_dependent_stopped_with_the_reason() {
    let d = Daemon::start(
        "[program:a]\ncommand=/nonexistent/a\nstartretries=0\n\
         [program:b]\ncommand=sleep 1000\ndepends_on=a\n",
    );
    let log = d.wait_log("not starting b: dependency a is FATAL");
    assert!(at(&log, "gave up: a entered FATAL state") < at(&log, "not starting b"));
    assert!(!log.contains("spawned: 'b'"), "{log}");
    let text = status(&d, "b");
    assert!(
        text.starts_with("b") && text.contains("STOPPED   not started: dependency a is FATAL"),
        "{text}"
    );
    // `start b` tries a again, and fails with it.
    let out = d.ctl(&["start", "b"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "b: ERROR (spawn error)\n"
    );
}

#[test]
fn issue18_an_update_that_adds_or_removes_an_edge_applies_it() {
    let body = "[program:a]\ncommand=sleep 1000\nstartsecs=0\n\
                [program:b]\ncommand=sleep 1000\nstartsecs=0\n";
    let d = Daemon::start(body);
    d.wait_spawned("a", 1);
    d.wait_spawned("b", 1);
    let text = fs::read_to_string(&d.conf).unwrap();
    fs::write(&d.conf, format!("{text}depends_on=a\n")).unwrap();
    let out = d.ctl(&["update"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "b: stopped\nb: updated process group\n"
    );
    d.wait_spawned("b", 2);
    d.ctl(&["stop", "a"]);
    let log = d.wait_log("stopped: a");
    let second_b = log.rfind("stopped: b").unwrap();
    assert!(
        second_b > at(&log, "stopped: b"),
        "b stopped once more by the stop of a"
    );
    assert!(second_b < at(&log, "stopped: a"), "{log}");

    // Back with a; then an update that removes the edge frees b of it.
    d.ctl(&["start", "a"]);
    d.wait_spawned("b", 3);
    fs::write(&d.conf, text).unwrap();
    let out = d.ctl(&["update"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "b: stopped\nb: updated process group\n"
    );
    let b = d.wait_spawned("b", 4);
    d.ctl(&["stop", "a"]);
    d.wait_log_count("stopped: a", 2);
    assert_eq!(d.log_count("stopped: b"), 3, "only the update stopped b");
    assert!(status(&d, "b").contains(&format!("RUNNING   pid {b},")));
}

#[test]
fn issue18_a_start_limit_restarts_at_once_then_goes_fatal() {
    let d = Daemon::start(
        "[program:c]\ncommand=sh -c 'sleep 2; exit 1'\nautorestart=true\nstartsecs=1\n\
         start_limit_burst=3\nstart_limit_interval=30\n",
    );
    let log = d.wait_log("gave up: c entered FATAL state");
    assert_eq!(log.matches("spawned: 'c'").count(), 4, "{log}");
    assert!(log.contains(
        "gave up: c entered FATAL state, too many restarts: restarted 3 times within 30 seconds (start_limit_burst)"
    ));
    // Restarted at once: each of the first three exits is followed by a
    // spawn before anything else happens to c.
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" c ") || l.contains("'c'") || l.contains(" c:"))
        .collect();
    let exits: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("exited: c"))
        .collect();
    assert_eq!(exits.len(), 4, "{lines:#?}");
    for &i in &exits[..3] {
        assert!(lines[i + 1].contains("spawned: 'c'"), "{lines:#?}");
    }
    assert!(status(&d, "c").contains(
        "FATAL     too many restarts: restarted 3 times within 30 seconds (start_limit_burst)"
    ));
}

#[test]
fn issue18_exit_on_fatal_stops_everything_and_exits_non_zero() {
    let mut d = Daemon::prepare(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/pidvisord.pid\nchildlogdir={dir}\n\
         exit_on_fatal=bad\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n\
         [supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:keep]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n\
         [program:bad]\ncommand=sh -c 'sleep 1; exit 3'\nstartsecs=5\nstartretries=0\npriority=2\n",
    )
    .launch();
    let keep = d.wait_spawned("keep", 1);
    let mut child = d.child.take().unwrap();
    let exit = wait_for("pidvisord to exit", TIMEOUT, || {
        child.try_wait().ok().flatten()
    });
    assert_eq!(exit.code(), Some(1));
    assert!(!alive(keep), "keep was left running");
    let log = d.main_log();
    assert!(at(&log, "gave up: bad entered FATAL state") < at(&log, "exit_on_fatal names it"));
    assert!(at(&log, "exit_on_fatal names it") < at(&log, "stopped: keep"));
}

/// `/usr/bin/python3`, which `nobody` may run (a pyenv shim under root's
/// home would not be).
fn system_python() -> Option<&'static str> {
    let py = "/usr/bin/python3";
    crate::skip::need(
        fs::metadata(py).map(|_| py),
        "/usr/bin/python3 (apt-get install python3), to bind a socket as nobody",
    )
}

const BIND_80: &str = "import socket, sys, time\n\
    s = socket.socket()\n\
    try:\n    s.bind(('127.0.0.1', 80)); s.listen(); print('bound', flush=True)\n\
    except OSError as e:\n    print('refused', e.errno, flush=True)\n\
    time.sleep(1000)\n";

#[test]
fn issue18_nobody_with_cap_net_bind_service_binds_port_80_and_has_no_other_capability() {
    if !crate::skip::need_root("to run a program as nobody with a capability") {
        return;
    }
    let Some(py) = system_python() else { return };
    let d = Daemon::prepare(&format!(
        "[program:web]\ncommand={py} {{dir}}/bind.py\nuser=nobody\nstartsecs=0\n\
         capabilities=CAP_NET_BIND_SERVICE\nno_new_privs=true\nstdout_logfile={{dir}}/web.log\n\
         [program:plain]\ncommand={py} {{dir}}/bind.py\nuser=nobody\nstartsecs=0\nautostart=false\n\
         stdout_logfile={{dir}}/plain.log\n"
    ));
    fs::write(d.path("bind.py"), BIND_80).unwrap();
    let d = d.launch();
    let pid = d.wait_spawned("web", 1);
    assert_eq!(wait_file(&d.path("web.log")).trim(), "bound");
    assert_eq!(
        proc_status(pid, "Uid").unwrap(),
        "65534\t65534\t65534\t65534"
    );
    let one = "0000000000000400"; // CAP_NET_BIND_SERVICE (10) alone
    for set in ["CapEff", "CapPrm", "CapAmb", "CapInh"] {
        assert_eq!(proc_status(pid, set).unwrap(), one, "{set}");
    }
    assert_eq!(proc_status(pid, "NoNewPrivs").unwrap(), "1");
    // Without the capability the same program is refused (EACCES), unless
    // this machine lets anyone bind port 80.
    let unprivileged = fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(1024);
    if unprivileged > 80 {
        d.ctl(&["stop", "web"]);
        d.ctl(&["start", "plain"]);
        assert_eq!(wait_file(&d.path("plain.log")).trim(), "refused 13");
    }
}

#[test]
fn issue18_environment_file_values_reach_the_child_and_every_line_is_stamped() {
    let d = Daemon::prepare(
        "[program:env]\ncommand=sh -c 'echo \"$A|$B|$C\"; printf \"in \"; sleep 0.3; printf \"pieces\\nlast\\n\"; echo err-line >&2; exec sleep 1000'\n\
         startsecs=0\nenvironment_file=%(here)s/app.env\nenvironment=B=\"from environment\"\n\
         stdout_logfile={dir}/env.log\nstdout_log_timestamps=true\n\
         stderr_logfile={dir}/err.log\nstderr_log_timestamps=true\n\
         [program:missing]\ncommand=sleep 1000\nenvironment_file=%(here)s/none.env\nstartretries=0\n\
         [program:optional]\ncommand=sleep 1000\nstartsecs=0\nenvironment_file=-%(here)s/none.env\n",
    );
    fs::write(
        d.path("app.env"),
        "# the app's settings\nA='one  two'\nB=overridden\nC=\"quoted \\\"x\\\"\"\n",
    )
    .unwrap();
    let d = d.launch();
    let pid = d.wait_spawned("env", 1);
    // The spawn is logged when the child exists, maybe before its execve
    // (the daemon's environment, or none readable, until then).
    let env = wait_for("the child's own environment", TIMEOUT, || {
        let env = proc_environ(pid);
        env.iter().any(|v| v.starts_with("A=")).then_some(env)
    });
    for want in ["A=one  two", "B=from environment", "C=quoted \"x\""] {
        assert!(env.contains(&want.to_string()), "{want} not in {env:?}");
    }
    let log = wait_for("three lines in env.log", TIMEOUT, || {
        let text = fs::read_to_string(d.path("env.log")).ok()?;
        (text.lines().count() >= 3).then_some(text)
    });
    let rest: Vec<&str> = log
        .lines()
        .map(|l| {
            let (stamp, rest) = l.split_once(' ').unwrap_or(("", l));
            assert!(is_iso8601(stamp), "no timestamp on {l:?}");
            rest
        })
        .collect();
    assert_eq!(
        rest,
        [
            "one  two|from environment|quoted \"x\"",
            "in pieces",
            "last"
        ]
    );
    let err = wait_for("err-line in err.log", TIMEOUT, || {
        let text = fs::read_to_string(d.path("err.log")).ok()?;
        text.ends_with('\n').then_some(text)
    });
    let (stamp, line) = err.trim_end().split_once(' ').unwrap();
    assert!(is_iso8601(stamp), "no timestamp on {err:?}");
    assert_eq!(line, "err-line");
    // A missing mandatory file is a spawn error naming it; `-` makes it optional.
    let missing = d.path("none.env");
    d.wait_log(&format!(
        "spawnerr: couldn't read environment_file {}: ENOENT",
        missing.display()
    ));
    d.wait_spawned("optional", 1);
    assert!(status(&d, "missing").contains(&format!(
        "FATAL     couldn't read environment_file {}: ENOENT",
        missing.display()
    )));
}

/// `2026-11-22T03:03:00.123456+01:00`.
fn is_iso8601(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 32
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && matches!(b[26], b'+' | b'-')
        && s.chars().filter(char::is_ascii_digit).count() == 24
}
