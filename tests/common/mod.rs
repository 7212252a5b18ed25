//! Shared by the tests that compare with the real Supervisor 4.3.0 (from a
//! venv made by `tests/compat/setup-supervisor.sh`): the venv, a daemon
//! guard (a real supervisord, or our pidvisord on the same config), running
//! a client and masking what necessarily differs (pids, uptimes, temp dirs,
//! argv[0], Python file/line details).
//!
//! Each test binary uses a different part of this module.
#![allow(dead_code)]

use pidvisor::clock;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

pub const OURS: &str = env!("CARGO_BIN_EXE_pidvisorctl");
pub const PIDVISORD: &str = env!("CARGO_BIN_EXE_pidvisord");
pub const DEADLINE: Duration = Duration::from_secs(20);

pub mod skip;

/// The venv holding Supervisor 4.3.0, made once per test binary. `None`
/// when it cannot be made, after [`skip::skip`] (which fails the test
/// unless the runner opted in to skips).
pub fn venv() -> Option<PathBuf> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = VENV.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("sh")
            .arg(root.join("tests/compat/setup-supervisor.sh"))
            .output();
        match out {
            Ok(o) if o.status.success() => {
                Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
            }
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
            Err(e) => Err(format!("sh: {e}")),
        }
    });
    skip::need(
        made.clone(),
        "the Supervisor 4.3.0 venv (tests/compat/setup-supervisor.sh)",
    )
}

#[macro_export]
macro_rules! require_venv {
    () => {
        match venv() {
            Some(v) => v,
            None => return,
        }
    };
}

/// `tests/compat/rpc.py`: plain XML-RPC through Python's xmlrpc.client.
pub fn rpc_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/rpc.py")
}

/// The programs both daemons run. `quick` has 5 s to start: with the
/// default 1 s, supervisord's late loop (its tick promotes STARTING to
/// RUNNING before it reaps) sometimes made `/bin/true` EXITED instead of
/// FATAL on a loaded machine; 5 s makes every start a spawn error in both.
pub const PROGRAMS: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0
stopwaitsecs=2

[program:quick]
command=/bin/true
startretries=0
startsecs=5

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

/// A D-Bus address where no bus listens.
pub const NO_BUS: &str = "unix:path=/nonexistent/pidvisor-test-bus";

/// Which daemon a guard runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The real supervisord from the venv.
    Real,
    /// Our pidvisord.
    Ours,
}

/// A running daemon, killed by pid on drop.
pub struct Daemon {
    pub child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub venv: PathBuf,
    pub kind: Kind,
}

impl Daemon {
    /// A real supervisord.
    pub fn start(venv: &Path, extra_server: &str, ctl_section: &str, programs: &str) -> Daemon {
        Daemon::start_kind(Kind::Real, venv, extra_server, ctl_section, programs)
    }

    /// Write the config in a new temp dir and start `kind` on it; returns
    /// once the socket exists (autostarts may still be under way).
    pub fn start_kind(
        kind: Kind,
        venv: &Path,
        extra_server: &str,
        ctl_section: &str,
        programs: &str,
    ) -> Daemon {
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
        let bin = match kind {
            Kind::Real => venv.join("bin/supervisord"),
            Kind::Ours => PathBuf::from(PIDVISORD),
        };
        let child = Command::new(bin)
            .args(["-n", "-c"])
            .arg(&conf)
            // No system bus, whatever this machine has: pidvisord's one
            // D-Bus line in the main log is then always the same.
            .env("DBUS_SYSTEM_BUS_ADDRESS", NO_BUS)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let daemon = Daemon {
            child: Some(child),
            dir,
            conf,
            venv: venv.to_path_buf(),
            kind,
        };
        daemon.wait_for(|| daemon.dir.path().join("s.sock").exists(), "socket");
        daemon
    }

    /// A real supervisord on `PROGRAMS`, settled.
    pub fn standard(venv: &Path) -> Daemon {
        let d = Daemon::start(venv, "", "", PROGRAMS);
        d.settle_standard();
        d
    }

    /// Wait until the autostarts of `PROGRAMS` are done.
    pub fn settle_standard(&self) {
        self.wait_state("sleeper", "RUNNING");
        self.wait_state("quick", "FATAL");
        self.wait_state("grp:ga", "RUNNING");
        self.wait_state("talker", "RUNNING");
    }

    pub fn wait_for(&self, mut cond: impl FnMut() -> bool, what: &str) {
        let start = clock::mono();
        while !cond() {
            if start.elapsed() >= DEADLINE {
                panic!(
                    "timed out waiting for {what}; supervisorctl `status` says:\n{}\n\
                     end of the main log:\n{}",
                    self.real(&["status"]).stdout,
                    self.log_tail(40)
                );
            }
            clock::sleep(Duration::from_millis(50));
        }
    }

    /// The last `n` lines of the daemon's main log, for failure messages.
    pub fn log_tail(&self, n: usize) -> String {
        let log =
            std::fs::read_to_string(self.dir.path().join("supervisord.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The daemon's control socket as an XML-RPC URL.
    pub fn url(&self) -> String {
        format!("unix://{}/s.sock", self.dir.path().display())
    }

    /// Wait until `name` is in `state`, asked through plain XML-RPC
    /// (`tests/compat/rpc.py`, Python's xmlrpc.client), the same way for
    /// both daemons: the oracle never relies on pidvisorctl.
    ///
    /// For RUNNING, also wait until the process has exec'd its command:
    /// supervisord loses a SIGTERM that arrives between its fork and exec
    /// (the child still runs Python's handler, which only sets a flag) and
    /// then needs stopwaitsecs and a SIGKILL to stop it.
    pub fn wait_state(&self, name: &str, state: &str) {
        self.wait_state_as(name, state, None);
    }

    /// [`Daemon::wait_state`] with credentials `(user, password)`.
    pub fn wait_state_as(&self, name: &str, state: &str, auth: Option<(&str, &str)>) {
        let mut cmd = Command::new(self.venv.join("bin/python"));
        cmd.arg(rpc_script())
            .args([&self.url(), "wait", name, state])
            .arg(DEADLINE.as_secs().to_string())
            .stdin(Stdio::null());
        if let Some((user, pass)) = auth {
            cmd.env("RPC_USER", user).env("RPC_PASS", pass);
        }
        let o = cmd.output().unwrap();
        assert!(
            o.status.success(),
            "{:?}: {}\nend of the main log:\n{}",
            self.kind,
            String::from_utf8_lossy(&o.stderr),
            self.log_tail(40)
        );
    }

    /// The real supervisorctl against this daemon.
    pub fn real(&self, args: &[&str]) -> Out {
        run(&self.venv.join("bin/supervisorctl"), &self.conf, args)
    }

    /// pidvisorctl against this daemon.
    pub fn ours(&self, args: &[&str]) -> Out {
        run(Path::new(OURS), &self.conf, args)
    }

    /// Run `args` with both clients on the same state and compare.
    pub fn same(&self, args: &[&str]) {
        let a = self.real(args);
        let b = self.ours(args);
        assert_same(args, &a, &b);
    }

    /// For state-changing commands: `reset` (run with the real client, then
    /// waited on by `settle`) before each of the two runs.
    pub fn same_after(&self, args: &[&str], reset: &dyn Fn(&Daemon)) {
        reset(self);
        let a = self.real(args);
        reset(self);
        let b = self.ours(args);
        assert_same(args, &a, &b);
    }

    /// `same_after` for commands that wait on several processes, which
    /// supervisord reports in completion order (a race of its own): stdout
    /// lines are compared sorted.
    pub fn same_after_sorted(&self, args: &[&str], reset: &dyn Fn(&Daemon)) {
        reset(self);
        let a = self.real(args).sorted();
        reset(self);
        let b = self.ours(args).sorted();
        assert_same(args, &a, &b);
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn stop_daemon(&mut self) {
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
    pub fn wait_exit(&mut self) {
        let mut child = self.child.take().unwrap();
        let start = clock::mono();
        while child.try_wait().unwrap().is_none() {
            assert!(start.elapsed() < DEADLINE, "daemon did not exit");
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
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Out {
    /// The same output with stdout's lines sorted: for group and `all`
    /// commands, whose results supervisord itself reports in completion
    /// order.
    pub fn sorted(&self) -> Out {
        let mut lines: Vec<&str> = self.stdout.lines().collect();
        lines.sort_unstable();
        let mut stdout = lines.join("\n");
        if !stdout.is_empty() {
            stdout.push('\n');
        }
        Out {
            stdout,
            ..self.clone()
        }
    }
}

pub fn run(bin: &Path, conf: &Path, args: &[&str]) -> Out {
    run_with_input(bin, conf, args, None)
}

pub fn run_with_input(bin: &Path, conf: &Path, args: &[&str], input: Option<&str>) -> Out {
    run_prefixed(&[], bin, conf, args, input)
}

/// [`run_with_input`] under a wrapper command (`prefix`, e.g. `unshare -n`).
pub fn run_prefixed(
    prefix: &[&str],
    bin: &Path,
    conf: &Path,
    args: &[&str],
    input: Option<&str>,
) -> Out {
    use std::io::Write;
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let mut child = cmd
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
    let dir = conf.parent().unwrap_or(Path::new("/"));
    let m = |b: &[u8]| {
        mask(
            &String::from_utf8_lossy(b).replace(&dir.display().to_string(), "DIR"),
            bin,
        )
    };
    Out {
        stdout: m(&o.stdout),
        stderr: m(&o.stderr),
        code: o.status.code().unwrap_or(-1),
    }
}

/// Mask what necessarily differs: pids, uptimes, argv[0], and the Python
/// (or Rust) file/line of the generic `error:` line.
pub fn mask(s: &str, bin: &Path) -> String {
    let s = s.replace(&bin.display().to_string(), "ARGV0");
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

pub fn mask_numbers(l: &str) -> String {
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

pub fn assert_same(args: &[&str], real: &Out, ours: &Out) {
    assert_eq!(
        real, ours,
        "pidvisorctl differs from supervisorctl for {args:?}\n--- real:\n{}{}rc={}\n--- ours:\n{}{}rc={}",
        real.stdout, real.stderr, real.code, ours.stdout, ours.stderr, ours.code
    );
}
