//! Issue 20: what a program costs the daemon in file descriptors. A stream
//! whose log is `NONE` and that nothing else reads goes to `/dev/null`, and
//! stdin is a pipe the daemon keeps no end of until `sendProcessStdin`
//! writes to it: a program with both logs `NONE` holds one descriptor (its
//! pidfd), and the limit is at most two.

use std::fs;

use crate::fixture::*;

/// The daemon's open descriptors, as `/proc/PID/fd` lists them.
fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count()
}

/// What descriptor `n` of `pid` is (`pipe:[123]`, `/dev/null`...).
fn fd_target(pid: u32, n: u32) -> String {
    fs::read_link(format!("/proc/{pid}/fd/{n}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// Every target of the daemon's descriptors.
fn targets(pid: u32) -> Vec<String> {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|e| fs::read_link(e.path()).ok())
        .map(|p| p.display().to_string())
        .collect()
}

#[test]
fn logs_none_hold_at_most_two_fds_per_program() {
    const N: usize = 300;
    let d = Daemon::start(&format!(
        "[program:q]\ncommand=sleep 1000\nprocess_name=q_%(process_num)03d\nnumprocs={N}\n\
         autostart=false\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n"
    ));
    let before = fd_count(d.pid);
    let out = d.ctl(&["start", "all"]);
    assert!(out.status.success(), "{out:?}");
    d.wait_log_count("success: q_", N);
    let after = fd_count(d.pid);
    assert!(
        after - before <= 2 * N,
        "{N} programs with logs NONE took {} descriptors",
        after - before
    );
    // Each child writes to /dev/null, reads a pipe the daemon has no end of.
    let pid = d.spawned_pid("q_000").unwrap();
    assert_eq!(fd_target(pid, 1), "/dev/null");
    assert_eq!(fd_target(pid, 2), "/dev/null");
    let stdin = fd_target(pid, 0);
    assert!(stdin.starts_with("pipe:"), "stdin is {stdin}");
    assert!(!targets(d.pid).contains(&stdin), "the daemon holds {stdin}");
}

#[test]
fn a_stdin_without_a_kept_pipe_end_never_ends_and_takes_send_process_stdin() {
    let Some(py) = python() else {
        return;
    };
    let d = Daemon::start(
        "[program:reader]\ncommand=sh -c 'while read l; do echo \"got $l\"; done; echo stdin-ended'\n\
         startsecs=0\nautorestart=false\nstdout_logfile={dir}/reader.log\nstderr_logfile=NONE\n\n\
         [program:closer]\ncommand=sh -c 'exec 0<&-; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=NONE\nstderr_logfile=NONE\n",
    );
    let url = format!("unix://{}", d.path("ctl.sock").display());
    let pid = d.wait_spawned("reader", 1);
    d.wait_spawned("closer", 1);
    d.wait_log("success: reader entered RUNNING");
    let stdin = fd_target(pid, 0);
    assert!(!targets(d.pid).contains(&stdin), "the daemon holds {stdin}");
    let sent = xmlrpc_call(
        &py,
        &url,
        "supervisor.sendProcessStdin",
        &["\"reader\"", "\"one\\n\""],
    );
    assert_eq!(sent["result"], true, "{sent}");
    // Had stdin ended before, the loop would have ended with it.
    let log = wait_for("the reader's answer", TIMEOUT, || {
        fs::read_to_string(d.path("reader.log"))
            .ok()
            .filter(|s| s.contains("got one"))
    });
    assert_eq!(log, "got one\n");
    // The writer opened for it is kept for the next write, and it works.
    assert!(targets(d.pid).contains(&stdin));
    let sent = xmlrpc_call(
        &py,
        &url,
        "supervisor.sendProcessStdin",
        &["\"reader\"", "\"two\\n\""],
    );
    assert_eq!(sent["result"], true, "{sent}");
    wait_for("the second answer", TIMEOUT, || {
        let log = fs::read_to_string(d.path("reader.log")).ok()?;
        (log == "got one\ngot two\n").then_some(())
    });
    // A program that closed its stdin: NO_FILE, as supervisord's EPIPE.
    let sent = xmlrpc_call(
        &py,
        &url,
        "supervisor.sendProcessStdin",
        &["\"closer\"", "\"x\""],
    );
    assert_eq!(sent["fault"], 20, "{sent}");
    assert_eq!(sent["string"], "NO_FILE: closer", "{sent}");
    // Stopped: the writer goes with the process.
    let out = d.ctl(&["stop", "reader"]);
    assert!(out.status.success(), "{out:?}");
    assert!(!targets(d.pid).contains(&stdin));
}

/// `pidvisord` started by `prlimit --nofile=SOFT:HARD` (which execs it, so
/// the pid is the daemon's), on `body`.
fn launch_with_nofile(body: &str, soft: u64, hard: u64) -> Daemon {
    let mut prlimit = std::process::Command::new("prlimit");
    prlimit
        .arg(format!("--nofile={soft}:{hard}"))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_pidvisord"));
    Daemon::prepare(body).launch_by(prlimit)
}

/// The soft and hard `Max open files` of `pid`.
fn nofile(pid: u32) -> (String, String) {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .to_string();
    let mut w = line["Max open files".len()..].split_whitespace();
    (w.next().unwrap().into(), w.next().unwrap().into())
}

const MANY: &str = "[program:m]\ncommand=sleep 1000\nprocess_name=m_%(process_num)03d\n\
                    numprocs=300\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n";

#[test]
fn the_soft_fd_limit_fits_the_config_and_children_get_theirs_back() {
    // minfds below the soft limit: only the configuration's need raises it.
    let body = format!("[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/p.pid\n\
                        childlogdir={{dir}}\nminfds=100\n\n[unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
                        [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n{MANY}");
    let d = launch_with_nofile(&body, 256, 4096);
    let log = d.wait_log_count("success: m_", 300);
    let (soft, hard) = nofile(d.pid);
    let soft: u64 = soft.parse().unwrap();
    assert!(
        soft > 256 && soft <= 4096,
        "the daemon's soft limit is {soft}"
    );
    assert_eq!(hard, "4096");
    assert!(
        log.contains(&format!(
            "raised the soft RLIMIT_NOFILE from 256 to {soft} for 300 processes; programs start with 256"
        )),
        "{log}"
    );
    let child = d.spawned_pid("m_299").unwrap();
    assert_eq!(nofile(child), ("256".to_string(), "4096".to_string()));
    assert!(!log.contains("CRIT RLIMIT_NOFILE"), "{log}");
}

#[test]
fn a_hard_fd_limit_too_low_for_the_config_is_a_crit() {
    let body = format!("[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/p.pid\n\
                        childlogdir={{dir}}\nminfds=100\n\n[unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
                        [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n{MANY}");
    let d = launch_with_nofile(&body, 200, 300);
    let log = d.wait_log("CRIT RLIMIT_NOFILE");
    let line = log
        .lines()
        .find(|l| l.contains("CRIT RLIMIT_NOFILE"))
        .unwrap();
    assert!(
        line.contains("for its 300 processes, but the hard limit is 300"),
        "{line}"
    );
    assert_eq!(nofile(d.pid), ("300".to_string(), "300".to_string()));
}

/// Issue 21 point 2: a spawn that runs out of descriptors closes the idle
/// HTTP connections (they see EOF) and tries again, and the main log says
/// so; once nothing is left to close it is a spawn error, and a program
/// starts again once descriptors are freed. The hard limit is below the
/// config's need, so the connection budget is its minimum (4).
#[test]
fn a_spawn_out_of_fds_closes_idle_connections_and_tries_again() {
    use std::io::{Read, Write};
    let port = crate::browser::free_port();
    let body = format!(
        "[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/p.pid\nchildlogdir={{dir}}\n\
         minfds=64\n\n[unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n\
         [inet_http_server]\nport=127.0.0.1:{port}\n\n\
         [program:hog]\ncommand=sleep 1000\nprocess_name=hog_%(process_num)03d\nnumprocs=100\n\
         autostart=false\nstartsecs=0\nstartretries=0\n\
         stdout_logfile={{dir}}/hog_%(process_num)03d.log\nstderr_logfile=NONE\n\n\
         [program:late]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\
         stdout_logfile=NONE\nstderr_logfile=NONE\n"
    );
    let d = launch_with_nofile(&body, 96, 96);
    // Three clients that connect and stay silent (with pidvisorctl's own
    // connection, the budget of 4).
    let idle: Vec<std::net::TcpStream> = (0..3)
        .map(|_| {
            let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(TIMEOUT)).unwrap();
            s
        })
        .collect();
    // The daemon has accepted them: an idle one answers a request.
    let mut probe = idle[2].try_clone().unwrap();
    probe
        .write_all(b"GET /ok.html HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = probe.read(&mut buf).unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 "), "{:?}", &buf[..n]);

    let out = String::from_utf8_lossy(&d.ctl(&["start", "hog:*"]).stdout).into_owned();
    assert!(
        out.contains("ERROR (spawn error)"),
        "some hog ran out: {out}"
    );
    let log = d.main_log();
    let warn = log
        .lines()
        .find(|l| l.contains("out of file descriptors to spawn"))
        .unwrap_or_else(|| panic!("no shed in the main log:\n{log}"));
    // Three were open; pidvisorctl's own connections may have taken the
    // place of one or two (the budget evicts the oldest idle one).
    let closed: usize = warn
        .rsplit(": closed ")
        .next()
        .and_then(|r| r.strip_suffix(" idle connection(s)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{warn}"));
    assert!((1..=3).contains(&closed), "{warn}");
    // The spawn it was for went through on the second try.
    let name = warn.split('\'').nth(1).unwrap();
    assert!(
        log.contains(&format!("spawned: '{name}'")),
        "{name} after the shed:\n{log}"
    );
    assert!(log.contains("too many open files to spawn 'hog_"), "{log}");
    for mut s in idle {
        let got = s.read(&mut buf);
        assert!(
            matches!(got, Ok(0))
                || got.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "an idle connection was left open"
        );
    }
    // Descriptors freed: a program starts again.
    d.ctl(&["stop", "hog:*"]);
    let out = d.ctl(&["start", "late"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "late: started\n");
}
