//! `pidvisord`'s own command line: --check-config, --example-config, usage errors.

use std::process::Command;

fn pidvisord(args: &[&str]) -> (String, String, i32) {
    let o = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

fn repo(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_config_prints_every_mistake_with_file_and_line() {
    let file = repo("tests/fixtures/config/five_mistakes.conf");
    let (out, _, rc) = pidvisord(&["--check-config", "-c", &file]);
    assert_eq!(rc, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    for (line, (n, what)) in lines.iter().zip([
        (2, "loglevel"),
        (6, "startsecs"),
        (7, "autorestart"),
        (8, "stopsignal"),
        (12, "events"),
    ]) {
        assert!(line.starts_with(&format!("{file}:{n}: ")), "{line}");
        assert!(line.contains(what), "{line}");
    }
}

#[test]
fn every_file_under_units_loads() {
    let (out, err, rc) = pidvisord(&["--check-config", "-c", &repo("units/pidvisord.conf")]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.ends_with("OK (6 groups, 9 processes)\n"), "{out}");
    // Every file in units/conf.d was included (none is left out by the glob).
    let cfg = pidvisor::config::load(
        std::path::Path::new(&repo("units/pidvisord.conf")),
        &pidvisor::config::Env::from_process(),
    )
    .unwrap();
    let included = cfg
        .messages
        .iter()
        .filter(|(_, m)| m.starts_with("Included extra file"))
        .count();
    let files = std::fs::read_dir(repo("units/conf.d")).unwrap().count();
    assert_eq!(included, files);
}

#[test]
fn example_config_is_valid() {
    let (out, _, rc) = pidvisord(&["--example-config"]);
    assert_eq!(rc, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.conf");
    std::fs::write(&path, out).unwrap();
    let (out, err, rc) = pidvisord(&["--check-config", "-c", path.to_str().unwrap()]);
    assert_eq!(rc, 0, "{out}{err}");
}

#[test]
fn usage_errors_are_supervisords_two_lines_and_exit_2() {
    let (_, err, rc) = pidvisord(&["-c", "/nonexistent.conf"]);
    assert_eq!(rc, 2);
    assert!(
        err.starts_with("Error: could not find config file /nonexistent.conf\nFor help, use "),
        "{err}"
    );
    let (_, err, rc) = pidvisord(&["-c", &repo("units/pidvisord.conf"), "extra"]);
    assert_eq!(rc, 2);
    assert!(
        err.starts_with("Error: positional arguments are not supported: ['extra']\n"),
        "{err}"
    );
    let (out, _, rc) = pidvisord(&["-v"]);
    assert_eq!((out.as_str(), rc), ("4.3.0\n", 0));
}

/// Kills a daemonized pidvisord (found through its pidfile) and what it
/// started, even when the test fails.
struct Daemonized {
    pidfile: std::path::PathBuf,
    pid: Option<u32>,
}

impl Drop for Daemonized {
    fn drop(&mut self) {
        let pid = self.pid.or_else(|| {
            std::fs::read_to_string(&self.pidfile)
                .ok()
                .and_then(|s| s.trim().parse().ok())
        });
        if let Some(pid) = pid {
            let kids = crate::fixture::descendants(pid);
            crate::fixture::send(pid, 9);
            for k in kids {
                crate::fixture::send(k, 9);
            }
        }
    }
}

#[test]
fn daemonizes_like_supervisord_and_keeps_its_pidfile() {
    use crate::fixture::{alive, proc_status, wait_for, TIMEOUT};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let conf = dir.path().join("pidvisord.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={d}/main.log\npidfile={d}/daemon.pid\nchildlogdir={d}\n\
             directory={d}\numask=027\n\n[unix_http_server]\nfile={d}/ctl.sock\n\n\
             [supervisorctl]\nserverurl=unix://{d}/ctl.sock\n\n\
             [program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    )
    .unwrap();
    let mut guard = Daemonized {
        pidfile: dir.path().join("daemon.pid"),
        pid: None,
    };
    // Without -n the command returns once the daemon is in the background.
    let (out, err, rc) = pidvisord(&["-c", conf.to_str().unwrap()]);
    assert_eq!(rc, 0, "{out}{err}");
    let pid: u32 = wait_for("the pidfile", TIMEOUT, || {
        std::fs::read_to_string(&guard.pidfile)
            .ok()
            .and_then(|s| s.strip_suffix('\n').and_then(|s| s.parse().ok()))
    });
    guard.pid = Some(pid);
    assert!(alive(pid));
    // A session of its own, in `directory`, with stdio on /dev/null.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
    assert_eq!(
        fields[3],
        pid.to_string(),
        "session id is its own pid: {stat}"
    );
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap();
    assert_eq!(cwd, dir.path().canonicalize().unwrap());
    for fd in 0..3 {
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, std::path::Path::new("/dev/null"), "fd {fd}");
    }
    assert_eq!(proc_status(pid, "Umask").as_deref(), Some("0027"));
    let log = std::fs::read_to_string(dir.path().join("main.log")).unwrap();
    // supervisord's two lines, written before the pidfile.
    assert!(
        log.contains("INFO daemonizing the supervisord process\n")
            && log.contains(&format!("INFO set current directory: '{d}'\n")),
        "{log}"
    );
    // The pidfile names the daemon the control socket talks to.
    let ctl = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
            .arg("-c")
            .arg(&conf)
            .args(args)
            .output()
            .unwrap()
    };
    let out = ctl(&["pid"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
    wait_for("sleeper RUNNING", TIMEOUT, || {
        let o = ctl(&["status", "sleeper"]);
        String::from_utf8_lossy(&o.stdout)
            .contains("RUNNING")
            .then_some(())
    });
    // shutdown: the daemon exits and removes its pidfile.
    let out = ctl(&["shutdown"]);
    assert!(out.status.success(), "{out:?}");
    wait_for("the daemon to exit", TIMEOUT, || {
        (!alive(pid)).then_some(())
    });
    assert!(!guard.pidfile.exists(), "pidfile removed on exit");
    guard.pid = None;
}

#[test]
fn minfds_beyond_the_system_is_supervisors_error_text() {
    // Even root cannot raise RLIMIT_NOFILE above fs.nr_open (at most 2^30).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = dir.path().join("s.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={d}/main.log\npidfile={d}/p.pid\nminfds=2147483647\n\
             [program:a]\ncommand=/bin/sleep 100\n"
        ),
    )
    .unwrap();
    let (out, err, rc) = pidvisord(&["-n", "-c", conf.to_str().unwrap()]);
    assert_eq!(rc, 2, "{out}{err}");
    let text = format!("{out}{err}");
    assert!(
        text.starts_with(
            "Error: The minimum number of file descriptors required to run this process is 2147483647 as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open 2147483647 file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.\n"
        ),
        "{text}"
    );
}
