//! pidvisorctl against a real pidvisord: every command's success and error
//! lines and exit codes, with the texts the real supervisorctl 4.3.0 prints
//! (taken from it against a real supervisord), and the interactive shell
//! on a pseudo-terminal (completion, history).

use crate::fixture::*;
use crate::skip;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const PROGRAMS: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:notexec]
command={dir}/pidvisord.conf
autostart=false

[program:missing]
command=/nonexistent/pidvisor-binary
autostart=false

[program:quick]
command=/bin/false
autostart=false
startsecs=1
startretries=0

[program:talker]
command=sh -c 'echo line1; echo line2; echo err1 >&2; exec sleep 1000'
startsecs=0

[group:grp]
programs=ga,gb

[program:ga]
command=sleep 1000
startsecs=0

[program:gb]
command=sleep 1000
startsecs=0

[program:old]
command=sleep 1000
autostart=false
";

/// stdout + stderr and the exit code, pids and uptimes masked.
fn run(d: &Daemon, args: &[&str]) -> (String, i32) {
    let o = d.ctl(args);
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    (mask(&s), o.status.code().unwrap_or(-1))
}

/// `pid 123, uptime 0:00:01` -> `pid N, uptime T`.
fn mask(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        match line.find("pid ").filter(|_| line.contains(", uptime ")) {
            Some(at) => {
                out.push_str(&line[..at]);
                out.push_str("pid N, uptime T");
                out.push_str(if line.ends_with('\n') { "\n" } else { "" });
            }
            None => out.push_str(line),
        }
    }
    out
}

fn expect(d: &Daemon, args: &[&str], text: &str, code: i32) {
    assert_eq!(
        run(d, args),
        (text.to_string(), code),
        "pidvisorctl {args:?}"
    );
}

/// Like [`expect`], for calls whose results come in the order the
/// processes finished (stopping a group or `all`).
fn expect_unordered(d: &Daemon, args: &[&str], text: &str, code: i32) {
    let (s, rc) = run(d, args);
    let mut got: Vec<&str> = s.lines().collect();
    let mut want: Vec<&str> = text.lines().collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!((got, rc), (want, code), "pidvisorctl {args:?}");
}

fn running(name: &str) -> String {
    format!("{name:<33}RUNNING   pid N, uptime T\n")
}

fn started() -> Daemon {
    let d = Daemon::start(PROGRAMS);
    for name in ["sleeper", "talker", "ga", "gb"] {
        d.wait_spawned(name, 1);
    }
    wait_for("autostarted programs RUNNING", TIMEOUT, || {
        let (s, _) = run(&d, &["status"]);
        (s.matches("RUNNING").count() == 4).then_some(())
    });
    d
}

#[test]
fn status_names_groups_and_all() {
    let d = started();
    let all = format!(
        "{}{}{:<33}STOPPED   Not started\n{:<33}STOPPED   Not started\n\
         {:<33}STOPPED   Not started\n{:<33}STOPPED   Not started\n\
         {:<33}STOPPED   Not started\n{}{}",
        running("grp:ga"),
        running("grp:gb"),
        "manual",
        "missing",
        "notexec",
        "old",
        "quick",
        running("sleeper"),
        running("talker"),
    );
    // Any stopped process: exit 3 (LSB "not running").
    expect(&d, &["status"], &all, 3);
    expect(&d, &["status", "all"], &all, 3);
    let grp = format!("{}{}", running("grp:ga"), running("grp:gb"));
    expect(&d, &["status", "grp:"], &grp, 0);
    expect(&d, &["status", "grp:*"], &grp, 0);
    expect(&d, &["status", "grp:gb"], &running("grp:gb"), 0);
    // Unknown names: exit 4 (LSB "unknown"), the known ones still listed.
    expect(
        &d,
        &["status", "nosuch"],
        "nosuch: ERROR (no such process)\n",
        4,
    );
    expect(
        &d,
        &["status", "nosuch:"],
        "nosuch: ERROR (no such group)\n",
        4,
    );
    expect(
        &d,
        &["status", "sleeper", "nosuch"],
        &format!("nosuch: ERROR (no such process)\n{}", running("sleeper")),
        4,
    );
}

#[test]
fn start_stop_restart_and_their_errors() {
    let d = started();
    expect(
        &d,
        &["start", "nosuch"],
        "nosuch: ERROR (no such process)\n",
        1,
    );
    expect(
        &d,
        &["start", "sleeper"],
        "sleeper: ERROR (already started)\n",
        0,
    );
    expect(&d, &["start", "manual"], "manual: started\n", 0);
    expect(
        &d,
        &["start", "manual"],
        "manual: ERROR (already started)\n",
        0,
    );
    expect(&d, &["stop", "manual"], "manual: stopped\n", 0);
    expect(&d, &["stop", "manual"], "manual: ERROR (not running)\n", 0);
    expect(
        &d,
        &["stop", "nosuch"],
        "nosuch: ERROR (no such process)\n",
        1,
    );
    // Groups: `g:` and `g:*` alike; a started group prints nothing.
    expect(&d, &["start", "grp:*"], "", 0);
    expect_unordered(
        &d,
        &["stop", "grp:"],
        "grp:ga: stopped\ngrp:gb: stopped\n",
        0,
    );
    expect_unordered(
        &d,
        &["start", "grp:"],
        "grp:ga: started\ngrp:gb: started\n",
        0,
    );
    expect(
        &d,
        &["stop", "nosuch:*"],
        "nosuch: ERROR (no such group)\n",
        1,
    );
    expect(
        &d,
        &["start", "nosuch:"],
        "nosuch: ERROR (no such group)\n",
        2,
    );
    expect(
        &d,
        &["restart", "sleeper"],
        "sleeper: stopped\nsleeper: started\n",
        0,
    );
    expect(
        &d,
        &["restart", "nosuch"],
        "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n",
        1,
    );
    // No name: the error, the command's help, and supervisorctl's codes.
    let (s, rc) = run(&d, &["start"]);
    assert!(
        s.starts_with("Error: start requires a process name\nstart <name>\t\tStart a process\n"),
        "{s}"
    );
    assert_eq!(rc, 2);
    let (s, rc) = run(&d, &["stop"]);
    assert!(
        s.starts_with("Error: stop requires a process name\n"),
        "{s}"
    );
    assert_eq!(rc, 1);
    let (s, rc) = run(&d, &["restart"]);
    assert!(
        s.starts_with("Error: restart requires a process name\n")
            && s.ends_with(
                "Note: restart does not reread config files. For that, see reread and update.\n"
            ),
        "{s}"
    );
    assert_eq!(rc, 1);
    // `all`: every running process.
    expect_unordered(
        &d,
        &["stop", "all"],
        "grp:ga: stopped\ngrp:gb: stopped\nsleeper: stopped\ntalker: stopped\n",
        0,
    );
}

#[test]
fn spawn_errors() {
    let d = started();
    expect(
        &d,
        &["start", "notexec"],
        "notexec: ERROR (file is not executable)\n",
        1,
    );
    expect(
        &d,
        &["start", "missing"],
        "missing: ERROR (no such file)\n",
        1,
    );
    // Exits before startsecs with startretries=0: FATAL, "spawn error",
    // exit 7 (LSB "not running").
    expect(&d, &["start", "quick"], "quick: ERROR (spawn error)\n", 7);
    expect(
        &d,
        &["status", "quick"],
        "quick                            FATAL     Exited too quickly (process log may have details)\n",
        3,
    );
}

#[test]
fn signal_pid_tail_and_clear() {
    let d = started();
    // CONT: delivered, and the programs (sleep) live on.
    expect(
        &d,
        &["signal", "CONT", "sleeper"],
        "sleeper: signalled\n",
        0,
    );
    expect(
        &d,
        &["signal", "CONT", "manual"],
        "manual: ERROR (not running)\n",
        7,
    );
    expect(
        &d,
        &["signal", "BOGUS", "sleeper"],
        "sleeper: ERROR (bad signal name)\n",
        1,
    );
    expect(
        &d,
        &["signal", "CONT", "nosuch"],
        "nosuch: ERROR (no such process)\n",
        1,
    );
    expect(
        &d,
        &["signal", "CONT", "grp:*"],
        "grp:ga: signalled\ngrp:gb: signalled\n",
        0,
    );
    // `all`: the running ones.
    expect(
        &d,
        &["signal", "CONT", "all"],
        "grp:ga: signalled\ngrp:gb: signalled\nsleeper: signalled\ntalker: signalled\n",
        0,
    );
    let (s, rc) = run(&d, &["signal", "CONT"]);
    assert!(
        s.starts_with("Error: signal requires a signal name and a process name\n"),
        "{s}"
    );
    assert_eq!(rc, 1);

    let pid = d.spawned_pid("talker").unwrap();
    expect(&d, &["pid"], &format!("{}\n", d.pid), 0);
    expect(&d, &["pid", "talker"], &format!("{pid}\n"), 0);
    // Not running: 0 and exit 7.
    expect(&d, &["pid", "manual"], "0\n", 7);
    expect(&d, &["pid", "nosuch"], "No such process nosuch\n", 1);
    let (s, rc) = run(&d, &["pid", "all"]);
    assert_eq!(s.lines().count(), 9, "{s}");
    assert!(s.lines().any(|l| l == pid.to_string()), "{s}");
    assert_eq!(rc, 0);

    wait_for("talker's output in its log", TIMEOUT, || {
        (run(&d, &["tail", "talker"]).0 == "line1\nline2\n\n").then_some(())
    });
    // `-N`: the last N bytes.
    expect(&d, &["tail", "-5", "talker"], "ine2\n\n", 0);
    wait_for("talker's stderr in its log", TIMEOUT, || {
        (run(&d, &["tail", "talker", "stderr"]).0 == "err1\n\n").then_some(())
    });
    expect(&d, &["tail", "-3", "talker", "stderr"], "r1\n\n", 0);
    expect(
        &d,
        &["tail", "nosuch"],
        "nosuch: ERROR (no such process name)\n",
        1,
    );
    expect(
        &d,
        &["tail", "talker", "bogus"],
        "Error: bad channel 'bogus'\n",
        1,
    );
    let (s, rc) = run(&d, &["tail"]);
    assert!(
        s.starts_with("Error: too few arguments\ntail [-f] <name>"),
        "{s}"
    );
    assert_eq!(rc, 1);

    expect(&d, &["clear", "talker"], "talker: cleared\n", 0);
    expect(&d, &["tail", "talker"], "\n", 0);
    expect(
        &d,
        &["clear", "nosuch"],
        "nosuch: ERROR (no such process)\n",
        1,
    );
    let (s, rc) = run(&d, &["clear", "all"]);
    assert_eq!(s.matches(": cleared\n").count(), 9, "{s}");
    assert_eq!(rc, 0);
    let (s, rc) = run(&d, &["clear"]);
    assert!(
        s.starts_with("Error: clear requires a process name\n"),
        "{s}"
    );
    assert_eq!(rc, 1);
}

#[test]
fn avail_version_reread_update_add_remove() {
    let d = started();
    let (s, rc) = run(&d, &["avail"]);
    assert_eq!(rc, 0);
    assert_eq!(s.lines().count(), 9, "{s}");
    assert!(
        s.contains("grp:ga                           in use    auto      999:999\n")
            && s.contains("manual                           in use    manual    999:999\n"),
        "{s}"
    );
    expect(&d, &["version"], "4.3.0\n", 0);
    for (cmd, help) in [
        ("avail", "avail\t\t\tDisplay all configured processes\n"),
        (
            "version",
            "version\t\t\tShow the version of the remote supervisord process\n",
        ),
        (
            "reread",
            "reread \t\t\tReload the daemon's configuration files without add/remove\n",
        ),
    ] {
        expect(
            &d,
            &[cmd, "x"],
            &format!("Error: {cmd} accepts no arguments\n{help}"),
            1,
        );
    }
    expect(&d, &["reread"], "No config updates to processes\n", 0);
    expect(&d, &["update"], "", 0);
    expect(
        &d,
        &["add", "nosuch"],
        "ERROR: no such process/group: nosuch\n",
        1,
    );
    expect(
        &d,
        &["remove", "nosuch"],
        "ERROR: no such process/group: nosuch\n",
        1,
    );
    expect(
        &d,
        &["remove", "sleeper"],
        "ERROR: process/group still running: sleeper\n",
        1,
    );
    expect(&d, &["stop", "sleeper"], "sleeper: stopped\n", 0);
    expect(
        &d,
        &["remove", "sleeper"],
        "sleeper: removed process group\n",
        0,
    );
    expect(&d, &["add", "sleeper"], "sleeper: added process group\n", 0);
    expect(
        &d,
        &["add", "sleeper"],
        "ERROR: process group already active\n",
        0,
    );
    expect(
        &d,
        &["update", "nosuch"],
        "ERROR: no such group: nosuch\n",
        1,
    );

    // A new program and one gone: reread says so, avail lists the new one
    // as available, update applies both. (`old` is the last section, so
    // no other section moves.)
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    let at = conf.find("[program:old]").unwrap();
    let conf = format!(
        "{}[program:newone]\ncommand=sleep 1000\nstartsecs=0\n",
        &conf[..at]
    );
    std::fs::write(&d.conf, conf).unwrap();
    expect(&d, &["reread"], "newone: available\nold: disappeared\n", 0);
    let (s, _) = run(&d, &["avail"]);
    assert!(
        s.contains("newone                           avail     auto      999:999\n"),
        "{s}"
    );
    expect(&d, &["update", "grp"], "", 0);
    expect(
        &d,
        &["update"],
        "old: stopped\nold: removed process group\nnewone: added process group\n",
        0,
    );
    d.wait_spawned("newone", 1);
}

#[test]
fn status_json_is_json() {
    let d = started();
    let o = d.ctl(&["status", "--json", "sleeper", "manual"]);
    let text = String::from_utf8(o.stdout).unwrap();
    // Exit code as plain `status`: manual is stopped.
    assert_eq!(o.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_str(&text).expect(&text);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 2, "{text}");
    let pid = d.spawned_pid("sleeper").unwrap();
    assert_eq!(list[0]["name"], "sleeper");
    assert_eq!(list[0]["group"], "sleeper");
    assert_eq!(list[0]["statename"], "RUNNING");
    assert_eq!(list[0]["state"], 20);
    assert_eq!(list[0]["pid"], pid);
    assert_eq!(list[1]["name"], "manual");
    assert_eq!(list[1]["statename"], "STOPPED");
    assert_eq!(list[1]["description"], "Not started");
    for field in ["start", "stop", "now", "spawnerr", "exitstatus", "logfile"] {
        assert!(list[1].get(field).is_some(), "{field} in {text}");
    }
}

#[test]
fn daemon_down_and_refused() {
    let mut d = Daemon::start("[program:x]\ncommand=sleep 1000\nstartsecs=0\n");
    d.wait_spawned("x", 1);
    assert_eq!(d.stop(), Some(0));
    let sock = d.path("ctl.sock");
    let gone = format!("unix://{} no such file\n", sock.display());
    expect(&d, &["status"], &gone, 4);
    for args in [&["start", "x"][..], &["stop", "x"], &["pid"], &["version"]] {
        expect(&d, args, &gone, 7);
    }
    let (s, rc) = run(&d, &["avail"]);
    assert!(
        s.starts_with(
            "error: <class 'FileNotFoundError'>, [Errno 2] No such file or directory: file: "
        ),
        "{s}"
    );
    assert_eq!(rc, 1);
    // A socket file nobody listens on: connection refused, exit 4.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    let refused = format!("unix://{} refused connection\n", sock.display());
    for args in [&["status"][..], &["start", "x"], &["version"]] {
        expect(&d, args, &refused, 4);
    }
}

#[test]
fn bad_auth() {
    let d = Daemon::start(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/pidvisord.pid\n\
         [unix_http_server]\nfile={dir}/ctl.sock\nusername=admin\npassword=secret\n\
         [supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:s]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    d.wait_spawned("s", 1);
    let denied = "Server requires authentication\n\
                  error: <class 'xmlrpc.client.ProtocolError'>, \
                  <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>: file: ";
    for args in [
        &["status"][..],
        &["start", "s"],
        &["-u", "admin", "-p", "wrong", "status"],
        &["-u", "admin", "-p", "wrong", "stop", "s"],
    ] {
        let (s, rc) = run(&d, args);
        assert!(s.starts_with(denied), "{args:?}: {s}");
        assert_eq!(rc, 1, "{args:?}");
    }
    wait_for("s RUNNING with the right password", TIMEOUT, || {
        (run(&d, &["-u", "admin", "-p", "secret", "status"]) == (running("s"), 0)).then_some(())
    });
}

/// pidvisorctl's shell on a pseudo-terminal: what it writes is collected by
/// a reader thread; the child is killed (by pid) on drop.
struct Pty {
    child: Child,
    master: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    /// `None` when the machine has no pseudo-terminals, after
    /// [`skip::skip`] (a failure unless skips are allowed).
    fn spawn(conf: &Path, args: &[&str]) -> Option<Pty> {
        use nix::pty::{openpty, Winsize};
        let size = Winsize {
            ws_row: 50,
            ws_col: 200,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = skip::need(openpty(&size, None), "a pseudo-terminal (openpty)")?;
        let slave = std::fs::File::from(pty.slave);
        let child = Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
            .arg("-c")
            .arg(conf)
            .args(args)
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .expect("start pidvisorctl");
        let master = std::fs::File::from(pty.master);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (mut r, s) = (master.try_clone().unwrap(), seen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once every slave end is closed (the child is gone).
            while let Ok(n @ 1..) = r.read(&mut buf) {
                s.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Some(Pty {
            child,
            master,
            seen,
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap()).into_owned()
    }

    /// Wait for a prompt written after the last `after` (the editor then
    /// is in raw mode again and reads keys one by one; a prompt redrawn
    /// while editing comes before the command's output, so it does not
    /// count).
    fn prompt_after(&self, after: &str) {
        self.until(&format!("a prompt after {after:?}"), |t| {
            let at = t.rfind(after)?;
            t[at + after.len()..].contains("supervisor> ").then_some(())
        });
    }

    fn wait_text(&self, what: &str) {
        self.until(&format!("{what:?}"), |t| t.contains(what).then_some(()));
    }

    /// [`wait_for`] `cond` on the terminal's text, showing the text if not.
    fn until(&self, what: &str, cond: impl Fn(&str) -> Option<()>) {
        let deadline = pidvisor::clock::mono() + TIMEOUT;
        wait_for(what, TIMEOUT * 2, || {
            let t = self.text();
            if pidvisor::clock::mono() > deadline {
                panic!("timed out waiting for {what} on the terminal:\n{t:?}");
            }
            cond(&t)
        });
    }

    fn keys(&mut self, k: &str) {
        self.master.write_all(k.as_bytes()).unwrap();
    }

    fn wait_exit(&mut self) -> i32 {
        let st = wait_for("pidvisorctl to exit", TIMEOUT, || {
            self.child.try_wait().ok().flatten()
        });
        st.code().unwrap_or(-1)
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn shell_on_a_tty_completes_and_keeps_history() {
    let d = Daemon::start(
        "[program:long-name-one]\ncommand=sleep 1000\nstartsecs=0\n\
         [group:grp]\nprograms=ga,gb\n\
         [program:ga]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:gb]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let pid = d.wait_spawned("long-name-one", 1);
    d.wait_spawned("ga", 1);
    d.wait_spawned("gb", 1);
    let hist = d.path("history");
    let hist_arg = hist.to_str().unwrap();

    let Some(mut sh) = Pty::spawn(&d.conf, &["-r", hist_arg]) else {
        return;
    };
    sh.prompt_after("long-name-one");
    // A command name: `vers` + TAB -> `version `.
    sh.keys("vers\t\r");
    sh.prompt_after("4.3.0\r\n");
    // A process name with dashes (not a delimiter): `pid long` + TAB.
    sh.keys("pid long\t\r");
    sh.prompt_after(&format!("\r\n{pid}\r\n"));
    // `grp:` is ambiguous: the first TAB completes nothing more, the
    // second lists the candidates; `gb` + TAB then finishes the word.
    sh.keys("status grp:\t\t");
    sh.wait_text("grp:*");
    assert!(sh.text().contains("grp:ga"), "{}", sh.text());
    sh.keys("gb\t\r");
    // (On a tty the state is coloured.)
    sh.prompt_after("status grp:gb \r");
    sh.prompt_after("\r\ngrp:gb                           \x1b[32mRUNNING\x1b[0m   pid ");
    sh.keys("quit\r");
    assert_eq!(sh.wait_exit(), 0);
    let saved = std::fs::read_to_string(&hist).unwrap();
    let lines: Vec<&str> = saved.lines().map(str::trim_end).collect();
    assert_eq!(
        lines,
        ["version", "pid long-name-one", "status grp:gb", "quit"],
        "{saved:?}"
    );

    // A new shell loads the history: Up four times is `version` again.
    let Some(mut sh) = Pty::spawn(&d.conf, &["-r", hist_arg]) else {
        return;
    };
    sh.prompt_after("long-name-one");
    assert!(!sh.text().contains("4.3.0"));
    sh.keys("\x1b[A\x1b[A\x1b[A\x1b[A\r");
    sh.prompt_after("4.3.0\r\n");
    // Ctrl-D (EOF) leaves the shell; the history is saved again.
    sh.keys("\x04");
    assert_eq!(sh.wait_exit(), 0);
    let saved = std::fs::read_to_string(&hist).unwrap();
    assert_eq!(saved.lines().last().map(str::trim_end), Some("version"));
}

/// Lines typed ahead or pasted in one go on a terminal all run, in order
/// (rustyline reads the terminal 1 KiB at a time; what it read past the
/// first line must be kept for the next one: rustyline issue #690). That
/// needs rustyline's `buffer-redux` feature (Cargo.toml), which hands the
/// read-ahead of one `readline` to the next; without it this fails.
#[test]
fn shell_on_a_tty_runs_every_pasted_line() {
    let d = Daemon::start("[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n");
    let pid = d.wait_spawned("sleeper", 1);
    let Some(mut sh) = Pty::spawn(&d.conf, &[]) else {
        return;
    };
    sh.prompt_after("sleeper");
    sh.keys("pid sleeper\nhelp quit\nfoo\nversion\n");
    sh.prompt_after("4.3.0\r\n");
    let t = sh.text();
    let order = [
        format!("\r\n{pid}\r\n"),
        "quit\tExit the supervisor shell.".to_string(),
        "*** Unknown syntax: foo".to_string(),
        "4.3.0".to_string(),
    ];
    let mut at = 0;
    for want in &order {
        let Some(i) = t[at..].find(want.as_str()) else {
            panic!("{want:?} missing (or out of order) on the terminal:\n{t:?}");
        };
        at += i + want.len();
    }
    // A pasted block that ends in `quit` runs all of it, then leaves.
    sh.keys("pid sleeper\nfoo2\nquit\n");
    assert_eq!(sh.wait_exit(), 0);
    // The reader thread may still hold the last output when the child is
    // gone: wait for it rather than look once.
    sh.wait_text("*** Unknown syntax: foo2");
}

/// `status` with stdout on a terminal: the state word is coloured (our
/// addition), except with `NO_COLOR` set (not empty) or `TERM=dumb`; to a
/// pipe it never is.
#[test]
fn status_colour_only_on_a_terminal() {
    use nix::pty::openpty;
    let d = Daemon::start("[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n");
    d.wait_spawned("sleeper", 1);
    let on_tty = |env: &[(&str, &str)]| -> Option<String> {
        let pty = skip::need(openpty(None, None), "a pseudo-terminal (openpty)")?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pidvisorctl"));
        cmd.arg("-c")
            .arg(&d.conf)
            .arg("status")
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::from(pty.slave)))
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        drop(cmd);
        let mut master = std::fs::File::from(pty.master);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the child (the only slave end) is gone.
        while let Ok(n @ 1..) = master.read(&mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
        child.wait().unwrap();
        Some(String::from_utf8_lossy(&out).into_owned())
    };
    let Some(coloured) = on_tty(&[]) else {
        return;
    };
    assert!(coloured.contains("\x1b[32mRUNNING\x1b[0m"), "{coloured:?}");
    for env in [&[("NO_COLOR", "1")][..], &[("TERM", "dumb")]] {
        let plain = on_tty(env).unwrap();
        assert!(plain.contains("RUNNING   pid"), "{env:?}: {plain:?}");
        assert!(!plain.contains('\x1b'), "{env:?}: {plain:?}");
    }
    // NO_COLOR set but empty does not count (no-color.org).
    assert!(on_tty(&[("NO_COLOR", "")]).unwrap().contains("\x1b[32m"));
    let (piped, _) = run(&d, &["status"]);
    assert!(!piped.contains('\x1b'), "{piped:?}");
}
