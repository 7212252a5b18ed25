//! pidvisorctl against the real thing: a REAL supervisord 4.3.0 (from a venv
//! made by `tests/compat/setup-supervisor.sh`) is driven by both the real
//! supervisorctl and our pidvisorctl, and stdout, stderr and exit codes are
//! compared, masking only pids, uptimes and Python file/line details.
//!
//! Skips (with a printed reason) when the venv cannot be created, unless
//! `PIDVISOR_TEST_STRICT=1`, in which case that is a failure.

use pidvisor::clock;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const OURS: &str = env!("CARGO_BIN_EXE_pidvisorctl");
const DEADLINE: Duration = Duration::from_secs(20);

fn venv() -> Option<PathBuf> {
    static VENV: OnceLock<Option<PathBuf>> = OnceLock::new();
    VENV.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("sh")
            .arg(root.join("tests/compat/setup-supervisor.sh"))
            .output();
        match out {
            Ok(o) if o.status.success() => {
                Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            }
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                if std::env::var("PIDVISOR_TEST_STRICT").as_deref() == Ok("1") {
                    panic!("cannot create the supervisor venv: {why}");
                }
                eprintln!("SKIP: cannot create the supervisor venv: {why}");
                None
            }
        }
    })
    .clone()
}

macro_rules! require_venv {
    () => {
        match venv() {
            Some(v) => v,
            None => return,
        }
    };
}

const PROGRAMS: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0
stopwaitsecs=2

[program:quick]
command=/bin/true
startretries=0

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:missing]
command=/nonexistent/pidvisor-binary
autostart=false

[program:talker]
command=sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'
startsecs=0

[group:grp]
programs=ga,gb

[program:ga]
command=sleep 1000
startsecs=0

[program:gb]
command=sleep 1000
autostart=false
startsecs=0
";

/// A running supervisord, killed by pid on drop.
struct Daemon {
    child: Option<Child>,
    dir: tempfile::TempDir,
    conf: PathBuf,
    venv: PathBuf,
}

impl Daemon {
    fn start(venv: &Path, extra_server: &str, ctl_section: &str, programs: &str) -> Daemon {
        let dir = tempfile::Builder::new().prefix("pvctl").tempdir().unwrap();
        let d = dir.path().display();
        let conf = dir.path().join("supervisord.conf");
        std::fs::write(
            &conf,
            format!(
                "[unix_http_server]\nfile={d}/s.sock\n{extra_server}\n\
                 [supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
                 childlogdir={d}\n\n\
                 [rpcinterface:supervisor]\n\
                 supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n\
                 [supervisorctl]\nserverurl=unix://{d}/s.sock\n{ctl_section}\n{programs}"
            ),
        )
        .unwrap();
        let child = Command::new(venv.join("bin/supervisord"))
            .args(["-n", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let daemon = Daemon {
            child: Some(child),
            dir,
            conf,
            venv: venv.to_path_buf(),
        };
        daemon.wait_for(|| daemon.dir.path().join("s.sock").exists(), "socket");
        daemon
    }

    fn standard(venv: &Path) -> Daemon {
        let d = Daemon::start(venv, "", "", PROGRAMS);
        d.wait_state("sleeper", "RUNNING");
        d.wait_state("quick", "FATAL");
        d.wait_state("grp:ga", "RUNNING");
        d.wait_state("talker", "RUNNING");
        d
    }

    fn wait_for(&self, mut cond: impl FnMut() -> bool, what: &str) {
        let start = clock::mono();
        while !cond() {
            assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
            clock::sleep(Duration::from_millis(50));
        }
    }

    /// Poll the real supervisorctl's `status NAME` until it shows `state`.
    fn wait_state(&self, name: &str, state: &str) {
        self.wait_for(
            || {
                let o = self.real(&["status", name]);
                o.stdout.split_whitespace().nth(1) == Some(state)
            },
            &format!("{name} {state}"),
        );
    }

    fn real(&self, args: &[&str]) -> Out {
        run(&self.venv.join("bin/supervisorctl"), &self.conf, args)
    }

    fn ours(&self, args: &[&str]) -> Out {
        run(Path::new(OURS), &self.conf, args)
    }

    /// Run `args` with both clients on the same state and compare.
    fn same(&self, args: &[&str]) {
        let a = self.real(args);
        let b = self.ours(args);
        assert_same(args, &a, &b);
    }

    /// For state-changing commands: `reset` (run with the real client, then
    /// waited on by `settle`) before each of the two runs.
    fn same_after(&self, args: &[&str], reset: &dyn Fn(&Daemon)) {
        reset(self);
        let a = self.real(args);
        reset(self);
        let b = self.ours(args);
        assert_same(args, &a, &b);
    }

    fn stop_daemon(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = nix::unistd::Pid::from_raw(c.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let start = clock::mono();
            loop {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                if start.elapsed() > DEADLINE {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                clock::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Wait for the daemon process (after a `shutdown`) to exit.
    fn wait_exit(&mut self) {
        let mut child = self.child.take().unwrap();
        let start = clock::mono();
        while child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < DEADLINE, "supervisord did not exit");
            clock::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop_daemon();
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Out {
    stdout: String,
    stderr: String,
    code: i32,
}

fn run(bin: &Path, conf: &Path, args: &[&str]) -> Out {
    run_with_input(bin, conf, args, None)
}

fn run_with_input(bin: &Path, conf: &Path, args: &[&str], input: Option<&str>) -> Out {
    use std::io::Write;
    let mut child = Command::new(bin)
        .arg("-c")
        .arg(conf)
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("LANG", "C.UTF-8")
        .spawn()
        .unwrap();
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(text.as_bytes()).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    Out {
        stdout: mask(&String::from_utf8_lossy(&o.stdout), bin),
        stderr: mask(&String::from_utf8_lossy(&o.stderr), bin),
        code: o.status.code().unwrap_or(-1),
    }
}

/// Mask what necessarily differs: pids, uptimes, argv[0], and the Python
/// (or Rust) file/line of the generic `error:` line.
fn mask(s: &str, bin: &Path) -> String {
    let s = s.replace(&bin.display().to_string(), "ARGV0");
    // supervisord itself races between these two for a program that exits
    // at once (it reports whichever state its poll loop sees first).
    let s = s.replace(
        "quick: ERROR (abnormal termination)",
        "quick: ERROR (spawn error)",
    );
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let mut l = line.to_string();
        if let Some(i) = l.find(": file: ") {
            let nl = if l.ends_with('\n') { "\n" } else { "" };
            l = format!("{}: file: F line: L{nl}", &l[..i]);
        }
        out.push_str(&mask_numbers(&l));
    }
    out
}

fn mask_numbers(l: &str) -> String {
    // "pid 123, uptime 0:00:01" -> "pid N, uptime U"; a bare number line -> "N".
    let mut words: Vec<String> = Vec::new();
    let mut prev = "";
    for w in l.split(' ') {
        let digits = w.trim_end_matches([',', '\n']);
        let tail = &w[digits.len()..];
        let masked = if prev == "pid" && digits.chars().all(|c| c.is_ascii_digit()) {
            format!("N{tail}")
        } else if prev == "uptime" {
            format!("U{tail}")
        } else {
            w.to_string()
        };
        prev = if w.ends_with(',') { "" } else { w };
        words.push(masked);
    }
    let joined = words.join(" ");
    if joined.trim_end().chars().all(|c| c.is_ascii_digit()) && !joined.trim().is_empty() {
        return if joined.trim() == "0" {
            joined
        } else {
            "N\n".to_string()
        };
    }
    joined
}

fn assert_same(args: &[&str], real: &Out, ours: &Out) {
    assert_eq!(
        real, ours,
        "pidvisorctl differs from supervisorctl for {args:?}\n--- real:\n{}{}rc={}\n--- ours:\n{}{}rc={}",
        real.stdout, real.stderr, real.code, ours.stdout, ours.stderr, ours.code
    );
}

#[test]
fn read_only_commands_match() {
    let v = require_venv!();
    let d = Daemon::standard(&v);
    for args in [
        &["status"][..],
        &["status", "all"],
        &["status", "sleeper"],
        &["status", "grp:*"],
        &["status", "grp:"],
        &["status", "grp:ga", "quick"],
        &["status", "nosuch"],
        &["status", "nogroup:"],
        &["status", "grp:nosuch", "sleeper"],
        &["status", "quick"],
        &["pid"],
        &["pid", "all"],
        &["pid", "sleeper"],
        &["pid", "manual"],
        &["pid", "nosuch"],
        &["avail"],
        &["avail", "x"],
        &["version"],
        &["version", "x"],
        &["tail", "talker"],
        &["tail", "talker", "stderr"],
        &["tail", "-4", "talker"],
        &["tail", "-4", "talker", "stderr"],
        &["tail", "talker", "bogus"],
        &["tail", "-x", "talker"],
        &["tail"],
        &["tail", "a", "b", "c", "d"],
        &["tail", "nosuch"],
        &["tail", "-f", "nosuch"],
        &["tail", "-f", "nosuch", "stderr"],
        &["maintail", "-x"],
        &["maintail", "x"],
        &["maintail", "a", "b"],
        &["reread"],
        &["reread", "x"],
        &["update", "nosuchgroup"],
        &["start"],
        &["stop"],
        &["restart"],
        &["signal"],
        &["signal", "HUP"],
        &["clear"],
        &["fg"],
        &["fg", "a", "b"],
        &["fg", "nosuch"],
        &["fg", "manual"],
        &["shutdown", "x"],
        &["reload", "x"],
        &["open", "ftp://x"],
        &["start", "sleeper"],
        &["start", "nosuch"],
        &["start", "nogroup:*"],
        &["start", "missing"],
        &["stop", "manual"],
        &["stop", "nosuch"],
        &["stop", "nogroup:"],
        &["stop", "grp:gb"],
        &["signal", "HUP", "manual"],
        &["signal", "NOPE", "sleeper"],
        &["signal", "HUP", "nosuch"],
        &["signal", "HUP", "nogroup:*"],
        &["clear", "nosuch"],
        &["add", "nosuch"],
        &["add", "sleeper"],
        &["remove", "nosuch"],
        &["remove", "sleeper"],
        &["frobnicate"],
        &["EOF"],
        &["quit"],
        &["help"],
        &["help", "nosuch"],
        &["help", "EOF"],
    ] {
        d.same(args);
    }
    for topic in [
        "add", "avail", "clear", "exit", "fg", "help", "maintail", "open", "pid", "quit", "reload",
        "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
        "update", "version",
    ] {
        d.same(&["help", topic]);
    }
}

#[test]
fn state_changing_commands_match() {
    let v = require_venv!();
    let d = Daemon::standard(&v);
    let manual_stopped = |d: &Daemon| {
        d.real(&["stop", "manual"]);
        d.wait_state("manual", "STOPPED");
    };
    let manual_running = |d: &Daemon| {
        d.real(&["start", "manual"]);
        d.wait_state("manual", "RUNNING");
    };
    d.same_after(&["start", "manual"], &manual_stopped);
    d.same_after(&["stop", "manual"], &manual_running);
    d.same_after(&["restart", "manual"], &manual_running);
    d.same_after(&["restart", "manual"], &manual_stopped);
    d.same_after(&["signal", "USR1", "manual"], &manual_running);
    d.same_after(&["signal", "HUP", "manual"], &manual_stopped);
    d.same_after(&["clear", "manual"], &manual_running);
    d.same_after(&["clear", "manual", "nosuch"], &manual_running);
    d.same_after(&["status", "manual"], &manual_stopped);
    // quick exits at once: spawn error, rc 7.
    d.same(&["start", "quick"]);
    let gb_stopped = |d: &Daemon| {
        d.real(&["stop", "grp:gb"]);
        d.wait_state("grp:gb", "STOPPED");
    };
    d.same_after(&["start", "grp:*"], &gb_stopped);
    d.same_after(&["stop", "grp:"], &|d: &Daemon| {
        d.real(&["start", "grp:*"]);
        d.wait_state("grp:gb", "RUNNING");
        d.wait_state("grp:ga", "RUNNING");
    });
    d.same_after(&["stop", "grp:*"], &gb_stopped);
    d.same_after(&["start", "all"], &|d: &Daemon| {
        d.real(&["stop", "all"]);
        d.wait_state("manual", "STOPPED");
        d.wait_state("grp:ga", "STOPPED");
    });
    d.same_after(&["signal", "CONT", "all"], &manual_running);
    d.same_after(&["clear", "all"], &manual_running);
    // update after a config change: a new program appears, one disappears.
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(
        &d.conf,
        conf.replace(
            "[program:manual]",
            "[program:added]\ncommand=sleep 1000\nautostart=false\n\n[program:manual]",
        )
        .replace("[program:quick]\ncommand=/bin/true\nstartretries=0\n", ""),
    )
    .unwrap();
    d.same(&["reread"]);
    d.same(&["avail"]);
    d.same_after(&["add", "added"], &|d: &Daemon| {
        d.real(&["remove", "added"]);
    });
    d.same_after(&["remove", "added"], &|d: &Daemon| {
        d.real(&["add", "added"]);
    });
    let new_conf = std::fs::read_to_string(&d.conf).unwrap();
    d.same_after(&["update"], &|d: &Daemon| {
        std::fs::write(&d.conf, &conf).unwrap();
        d.real(&["update"]);
        d.wait_state("quick", "FATAL");
        std::fs::write(&d.conf, &new_conf).unwrap();
    });
    d.same(&["update"]);
    d.same(&["status"]);
}

#[test]
fn daemon_down_matches() {
    let v = require_venv!();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("gone.sock");
    let conf = dir.path().join("c.conf");
    let write_conf = |url: &str| {
        std::fs::write(&conf, format!("[supervisorctl]\nserverurl={url}\n")).unwrap();
    };
    let real = v.join("bin/supervisorctl");
    let cmds: &[&[&str]] = &[
        &["status"],
        &["start", "x"],
        &["stop", "x"],
        &["pid"],
        &["version"],
        &["tail", "x"],
        &["maintail"],
        &["shutdown"],
        &["help"],
        &["avail"],
        &["reread"],
        &["reload"],
        &["update"],
        &["add", "x"],
        &["remove", "x"],
        &["clear", "x"],
        &["signal", "HUP", "x"],
        &["fg", "x"],
        &["restart", "x"],
        &["open", "unix:///nonexistent/x.sock"],
    ];
    // Socket missing.
    write_conf(&format!("unix://{}", sock.display()));
    for args in cmds {
        assert_same(
            args,
            &run(&real, &conf, args),
            &run(Path::new(OURS), &conf, args),
        );
    }
    // Socket file present, nobody listening: connection refused.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    for args in cmds {
        assert_same(
            args,
            &run(&real, &conf, args),
            &run(Path::new(OURS), &conf, args),
        );
    }
    // TCP port with no listener.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    write_conf(&format!("http://127.0.0.1:{port}"));
    for args in [&["status"][..], &["start", "x"], &["shutdown"], &["pid"]] {
        assert_same(
            args,
            &run(&real, &conf, args),
            &run(Path::new(OURS), &conf, args),
        );
    }
}

#[test]
fn usage_and_config_errors_match() {
    let v = require_venv!();
    let real = v.join("bin/supervisorctl");
    let dir = tempfile::tempdir().unwrap();
    let noctl = dir.path().join("noctl.conf");
    std::fs::write(&noctl, "[supervisord]\n").unwrap();
    let missing = dir.path().join("missing.conf");
    for (conf, args) in [
        (&missing, &["status"][..]),
        (&noctl, &["status"]),
        (&noctl, &["-h"]),
        (&noctl, &["-?"]),
        (&noctl, &["--help"]),
        (&noctl, &["-x"]),
        (&noctl, &["--bogus"]),
    ] {
        let a = run(&real, conf, args);
        let b = run(Path::new(OURS), conf, args);
        // Our -h replaces argv[0] like supervisorctl's; errors differ only in it.
        assert_same(args, &a, &b);
    }
}

#[test]
fn auth_matches() {
    let v = require_venv!();
    let d = Daemon::start(
        &v,
        "username=admin\npassword={SHA}d033e22ae348aeb5660fc2140aec35850c4da997",
        "",
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    // No credentials: 401 handling.
    for args in [
        &["status"][..],
        &["version"],
        &["avail"],
        &["shutdown"],
        &["start", "x"],
    ] {
        d.same(args);
    }
    // Wrong and right credentials from the command line.
    for args in [
        &["-u", "admin", "-p", "wrong", "status"][..],
        &["-u", "admin", "-p", "admin", "status"],
        &["-u", "admin", "-p", "admin", "pid", "sleeper"],
        &["-u", "admin", "-p", "admin", "version"],
    ] {
        d.same(args);
    }
}

#[test]
fn shutdown_and_reload_match() {
    let v = require_venv!();
    let real = v.join("bin/supervisorctl");
    let mut a = Daemon::start(&v, "", "", "[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
    let mut b = Daemon::start(&v, "", "", "[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
    a.wait_state("s", "RUNNING");
    b.wait_state("s", "RUNNING");
    let ra = run(&real, &a.conf, &["reload"]);
    let rb = run(Path::new(OURS), &b.conf, &["reload"]);
    assert_same(&["reload"], &ra, &rb);
    a.wait_state("s", "RUNNING");
    b.wait_state("s", "RUNNING");
    let ra = run(&real, &a.conf, &["shutdown"]);
    let rb = run(Path::new(OURS), &b.conf, &["shutdown"]);
    assert_same(&["shutdown"], &ra, &rb);
    a.wait_exit();
    b.wait_exit();
    // After exit the socket is gone: "no such file (already shut down?)".
    a.same(&["shutdown"]);
    a.same(&["status"]);
}

#[test]
fn interactive_shell_matches() {
    let v = require_venv!();
    let d = Daemon::standard(&v);
    let real = v.join("bin/supervisorctl");
    for input in [
        "help status\nfrobnicate\n\nstatus nosuch\n",
        "version\n? stop\nstart nosuch\nquit\nstatus\n",
        "pid nosuch\nexit\n",
        "",
    ] {
        let a = run_with_input(&real, &d.conf, &[], Some(input));
        let b = run_with_input(Path::new(OURS), &d.conf, &[], Some(input));
        assert_same(&[input], &a, &b);
    }
}
