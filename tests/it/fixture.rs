//! The real-daemon fixture: start `pidvisord` on a config in a temp dir, wait
//! for conditions with deadlines, and clean up the daemon and every
//! descendant on Drop (even when the test panics).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use pidvisor::clock;

/// How long any wait may take before the test fails. Generous: the machine
/// is noisy, and a passing test never waits this long.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Poll `cond` until it returns `Some`, or panic after `timeout` with `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let deadline = clock::mono() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = cond() {
            return v;
        }
        if clock::mono() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        clock::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub conf: PathBuf,
    pub child: Option<Child>,
    pub pid: u32,
}

impl Daemon {
    /// Write `body` as `pidvisord.conf` in a new temp dir (every `{dir}` in it
    /// replaced by that dir) with a `[supervisord]` section added if missing,
    /// start `pidvisord -n` on it, and wait until its main log says it started.
    pub fn start(body: &str) -> Daemon {
        let d = Daemon::prepare(body);
        d.launch()
    }

    /// Like `start`, without launching: for tests that edit files first.
    pub fn prepare(body: &str) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("pidvisor-it")
            .tempdir()
            .unwrap();
        let path = dir.path().to_str().unwrap().to_string();
        let mut text = body.replace("{dir}", &path);
        if !text.contains("[supervisord]") {
            text = format!(
                "[supervisord]\nlogfile={path}/main.log\npidfile={path}/pidvisord.pid\n\
                 childlogdir={path}\n\n[unix_http_server]\nfile={path}/ctl.sock\n\n\
                 [supervisorctl]\nserverurl=unix://{path}/ctl.sock\n\n{text}"
            );
        }
        let conf = dir.path().join("pidvisord.conf");
        fs::write(&conf, text).unwrap();
        Daemon {
            dir,
            conf,
            child: None,
            pid: 0,
        }
    }

    pub fn launch(self) -> Daemon {
        self.launch_env(&[])
    }

    /// `launch` with extra environment variables for the daemon itself.
    pub fn launch_env(self, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pidvisord"));
        cmd.envs(env.iter().copied());
        self.launch_by(cmd)
    }

    /// `launch` through `cmd`, which must end by exec'ing pidvisord (so its
    /// pid is the daemon's): `-n -c CONF` are appended to its arguments,
    /// and its output goes to `daemon.out`.
    pub fn launch_by(mut self, mut cmd: Command) -> Daemon {
        let out = fs::File::create(self.path("daemon.out")).unwrap();
        let child = cmd
            .arg("-n")
            .arg("-c")
            .arg(&self.conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start pidvisord");
        self.pid = child.id();
        self.child = Some(child);
        let pid = self.pid;
        self.wait_log(&format!("supervisord started with pid {pid}"));
        self
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn main_log(&self) -> String {
        fs::read_to_string(self.path("main.log")).unwrap_or_default()
    }

    /// Wait until the main log contains `text`; returns the whole log.
    pub fn wait_log(&self, text: &str) -> String {
        let out = self.path("daemon.out");
        wait_for(&format!("main log line {text:?}"), TIMEOUT, || {
            let log = self.main_log();
            if log.contains(text) {
                return Some(log);
            }
            if let Some(status) = self.exited() {
                panic!(
                    "pidvisord exited ({status}) before logging {text:?}\nlog:\n{log}\noutput:\n{}",
                    fs::read_to_string(&out).unwrap_or_default()
                );
            }
            None
        })
    }

    /// Count of non-overlapping occurrences of `text` in the main log.
    pub fn log_count(&self, text: &str) -> usize {
        self.main_log().matches(text).count()
    }

    /// Wait until the main log contains `text` at least `n` times.
    pub fn wait_log_count(&self, text: &str, n: usize) -> String {
        wait_for(&format!("{n} x {text:?} in the main log"), TIMEOUT, || {
            let log = self.main_log();
            (log.matches(text).count() >= n).then_some(log)
        })
    }

    /// The pid in the most recent `spawned: 'NAME' with pid N` line.
    pub fn spawned_pid(&self, name: &str) -> Option<u32> {
        let needle = format!("spawned: '{name}' with pid ");
        let log = self.main_log();
        let at = log.rfind(&needle)?;
        log[at + needle.len()..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    }

    /// Wait for the `n`-th spawn of `name` and return its pid.
    pub fn wait_spawned(&self, name: &str, n: usize) -> u32 {
        self.wait_log_count(&format!("spawned: '{name}' with pid "), n);
        self.spawned_pid(name).unwrap()
    }

    fn exited(&self) -> Option<String> {
        // Zombie check without reaping: the fixture owns the child.
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid)).ok()?;
        let state = stat.rsplit(") ").next()?.chars().next()?;
        (state == 'Z').then(|| "zombie".to_string())
    }

    /// Run `pidvisorctl -c <conf> args...`.
    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
            .arg("-c")
            .arg(&self.conf)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pidvisorctl")
    }

    /// Send a signal to the daemon.
    pub fn signal(&self, sig: i32) {
        send(self.pid, sig);
    }

    /// SIGTERM the daemon and wait for it to exit; returns its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        send(self.pid, 15);
        let status = wait_for("pidvisord to exit", TIMEOUT, || {
            child.try_wait().ok().flatten()
        });
        status.code()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pids = descendants(self.pid);
        send(self.pid, 15);
        let deadline = clock::mono() + Duration::from_secs(15);
        while clock::mono() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            clock::sleep(Duration::from_millis(20));
        }
        if child.try_wait().ok().flatten().is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Whatever the daemon left behind (it was killed, or a test broke it):
        // only processes it started, found by ancestry before it went away.
        for pid in pids.into_iter().chain(descendants(self.pid)) {
            send(pid, 9);
        }
    }
}

/// `kill(pid, sig)` through the `kill` command (tests stay free of unsafe).
pub fn send(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Every live process whose ancestry reaches `root` (excluding `root`).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parent = std::collections::HashMap::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(ppid) = proc_ppid(pid) {
            parent.insert(pid, ppid);
        }
    }
    let mut out = Vec::new();
    for &pid in parent.keys() {
        let mut p = pid;
        for _ in 0..64 {
            match parent.get(&p) {
                Some(&pp) if pp == root => {
                    out.push(pid);
                    break;
                }
                Some(&pp) if pp > 1 => p = pp,
                _ => break,
            }
        }
    }
    out
}

/// The parent pid from `/proc/PID/stat`.
pub fn proc_ppid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(") ")
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// One `Key:\tvalue` line of `/proc/PID/status`.
pub fn proc_status(pid: u32, key: &str) -> Option<String> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| {
        l.strip_prefix(&format!("{key}:"))
            .map(|v| v.trim().to_string())
    })
}

/// The environment of a process as `KEY=value` strings.
pub fn proc_environ(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// Is `pid` alive (and not a zombie)?
pub fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !matches!(
            stat.rsplit(") ").next().and_then(|s| s.chars().next()),
            Some('Z') | None
        ),
        Err(_) => false,
    }
}

/// Read a file the test's programs write, waiting until it exists and is
/// non-empty.
pub fn wait_file(path: &Path) -> String {
    wait_for(&format!("file {}", path.display()), TIMEOUT, || {
        fs::read_to_string(path).ok().filter(|s| !s.is_empty())
    })
}

/// A python3 for the stdlib-only helpers (`tests/compat/rpc.py`):
/// `PIDVISOR_TEST_PYTHON`, else `python3`. `None` when it does not run,
/// after [`crate::skip::skip`] (a failure unless skips are allowed).
pub fn python() -> Option<PathBuf> {
    let py =
        PathBuf::from(std::env::var_os("PIDVISOR_TEST_PYTHON").unwrap_or_else(|| "python3".into()));
    let probe = Command::new(&py)
        .args(["-c", "import xmlrpc.client"])
        .stdin(Stdio::null())
        .output();
    let ok = match probe {
        Ok(o) if o.status.success() => Ok(py),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Err(e.to_string()),
    };
    crate::skip::need(
        ok,
        "a python3 with xmlrpc.client (python3, or PIDVISOR_TEST_PYTHON)",
    )
}

/// `tests/compat/rpc.py`: XML-RPC through Python's xmlrpc.client.
pub fn rpc_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/rpc.py")
}

/// One XML-RPC call through Python's xmlrpc.client (`rpc.py URL call`):
/// `{"result": ...}` or `{"fault": CODE, "string": ...}`. `params` are JSON.
pub fn xmlrpc_call(py: &Path, url: &str, method: &str, params: &[&str]) -> serde_json::Value {
    let o = Command::new(py)
        .arg(rpc_script())
        .args([url, "call", method])
        .args(params)
        .stdin(Stdio::null())
        .output()
        .expect("run rpc.py");
    assert!(
        o.status.success(),
        "rpc.py {method}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("rpc.py prints JSON")
}
