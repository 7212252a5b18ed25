//! The real thing against us: a REAL supervisord 4.3.0 and our pidvisord run
//! equivalent configs (same programs, same states reached). For every
//! supervisorctl command, the REAL supervisorctl drives both daemons and our
//! pidvisorctl drives pidvisord; stdout, stderr and exit code must match the
//! real pair's, masking only pids, uptimes, temp dirs and Python file/line
//! details. Python's xmlrpc.client then calls every XML-RPC method on both
//! (`tests/compat/xmlrpc_shapes.py`) and the recorded shapes must match.
//!
//! Without the venv each test fails, naming what is missing, unless the
//! runner allowed skips (`tests/common/skip.rs`).

mod common;

use common::*;
use pidvisor::clock;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;

/// A real supervisord and a pidvisord on the same programs.
struct Pair {
    real: Daemon,
    ours: Daemon,
}

/// The three runs of one command: the real client against the real daemon
/// (the reference), the real client against pidvisord, and pidvisorctl
/// against pidvisord.
struct Runs {
    reference: Out,
    real_client: Out,
    our_client: Out,
}

impl Runs {
    /// Every difference from the reference, described; empty when equal.
    /// No tolerance: the list of known pidvisorctl divergences this used to
    /// accept was stale (pidvisorctl now prints `grp:None` as supervisorctl
    /// does), so a difference is always a failure.
    fn differences(&self, args: &[&str], sorted: bool) -> Vec<String> {
        let norm = |o: &Out| if sorted { o.sorted() } else { o.clone() };
        let reference = norm(&self.reference);
        let mut out = Vec::new();
        for (who, o) in [
            ("supervisorctl -> pidvisord", &self.real_client),
            ("pidvisorctl -> pidvisord", &self.our_client),
        ] {
            let o = norm(o);
            if o != reference {
                out.push(format!(
                    "{args:?}: {who} differs from supervisorctl -> supervisord\n\
                     --- supervisord:\n{}{}rc={}\n--- {who}:\n{}{}rc={}\n",
                    reference.stdout, reference.stderr, reference.code, o.stdout, o.stderr, o.code
                ));
            }
        }
        out
    }
}

fn check(args: &[&str], runs: &Runs, sorted: bool) {
    let d = runs.differences(args, sorted);
    assert!(d.is_empty(), "{}", d.join("\n"));
}

impl Pair {
    /// Start both daemons at once on `programs`.
    fn start(v: &Path, extra_server: &str, programs: &str) -> Pair {
        std::thread::scope(|s| {
            let real = s.spawn(|| Daemon::start_kind(Kind::Real, v, extra_server, "", programs));
            let ours = Daemon::start_kind(Kind::Ours, v, extra_server, "", programs);
            Pair {
                real: real.join().unwrap(),
                ours,
            }
        })
    }

    /// Both daemons on `programs()`, with their autostarts done.
    fn standard(v: &Path) -> Pair {
        let p = Pair::start(v, "", &programs());
        p.both(|d| d.wait_state("ticker", "RUNNING"));
        p.both(Daemon::settle_standard);
        p
    }

    /// Run `f` on both daemons at once.
    fn both(&self, f: impl Fn(&Daemon) + Sync) {
        std::thread::scope(|s| {
            let f = &f;
            s.spawn(|| f(&self.real));
            f(&self.ours);
        });
    }

    fn runs(&self, args: &[&str]) -> Runs {
        std::thread::scope(|s| {
            let reference = s.spawn(|| self.real.real(args));
            let real_client = s.spawn(|| self.ours.real(args));
            let our_client = self.ours.ours(args);
            Runs {
                reference: reference.join().unwrap(),
                real_client: real_client.join().unwrap(),
                our_client,
            }
        })
    }

    fn same(&self, args: &[&str]) {
        check(args, &self.runs(args), false);
    }

    /// For state-changing commands: `reset` both daemons, run the real
    /// client on both, `reset` pidvisord again, run pidvisorctl on it.
    /// Resets drive the daemons with the real supervisorctl and wait
    /// through plain XML-RPC ([`Daemon::wait_state`]).
    fn same_after(&self, args: &[&str], reset: &(dyn Fn(&Daemon) + Sync)) {
        self.same_after_with(args, reset, false)
    }

    /// For group and `all` commands that wait on several processes:
    /// supervisord reports them in completion order, a race even against
    /// itself, so lines are compared sorted.
    fn same_after_sorted(&self, args: &[&str], reset: &(dyn Fn(&Daemon) + Sync)) {
        self.same_after_with(args, reset, true)
    }

    fn same_after_with(&self, args: &[&str], reset: &(dyn Fn(&Daemon) + Sync), sorted: bool) {
        self.both(reset);
        let (reference, real_client) = std::thread::scope(|s| {
            let a = s.spawn(|| self.real.real(args));
            (a.join().unwrap(), self.ours.real(args))
        });
        reset(&self.ours);
        let our_client = self.ours.ours(args);
        let runs = Runs {
            reference,
            real_client,
            our_client,
        };
        check(args, &runs, sorted);
    }

    /// Run many commands that change nothing, a few at a time, and report
    /// every difference at once.
    fn same_many(&self, cmds: &[&[&str]]) {
        let next = Mutex::new(cmds.iter());
        let failures = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| loop {
                    let Some(args) = next.lock().unwrap().next() else {
                        return;
                    };
                    let d = self.runs(args).differences(args, false);
                    failures.lock().unwrap().extend(d);
                });
            }
        });
        let failures = failures.into_inner().unwrap();
        assert!(
            failures.is_empty(),
            "{} difference(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Keeps supervisord's loop busy. It notices exits and runs its deferred
/// answers only when its select() returns, which SIGCHLD does not make it
/// do: idle, that is once a second. Output every 50 ms wakes it, which
/// takes many seconds off every stop and group call against it.
const TICKER: &str = "
[program:ticker]
command=sh -c 'while :; do echo t; sleep 0.05; done'
startsecs=0
priority=1
";

/// `PROGRAMS` with the ticker.
fn programs() -> String {
    PROGRAMS.to_string() + TICKER
}

/// Edit both daemons' configs the same way (their texts differ only in
/// their temp dir).
fn edit_conf(d: &Daemon, f: &dyn Fn(String) -> String) {
    let text = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(&d.conf, f(text)).unwrap();
}

#[test]
fn read_only_commands_match() {
    let v = require_venv!();
    let p = Pair::standard(&v);
    p.same_many(&[
        &["status"],
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
        &["pid", "grp:ga"],
        &["pid", "manual"],
        &["pid", "nosuch"],
        &["pid", "sleeper", "manual", "nosuch"],
        &["avail"],
        &["version"],
        &["tail", "talker"],
        &["tail", "talker", "stderr"],
        &["tail", "-4", "talker"],
        &["tail", "grp:ga"],
        &["tail", "grp:*"],
        &["tail", "manual"],
        &["tail", "nosuch"],
        &["tail", "-f", "nosuch"],
        &["reread"],
        &["update", "nosuchgroup"],
        &["fg", "nosuch"],
        &["fg", "manual"],
        // Usage errors are the client's own (no call reaches the daemon);
        // ctl_vs_supervisord checks them all. Two, and help, for the record.
        &["start"],
        // Errors that change nothing: unknown names, already started, not
        // running, no such file, bad signal.
        &["start", "sleeper"],
        &["start", "grp:ga"],
        &["start", "nosuch"],
        &["start", "nosuch:*"],
        &["start", "nogroup:"],
        &["start", "missing"],
        &["stop", "manual"],
        &["stop", "nosuch"],
        &["stop", "nogroup:"],
        &["stop", "grp:gb"],
        &["restart", "nosuch"],
        &["signal", "HUP", "manual"],
        &["signal", "NOPE", "sleeper"],
        &["signal", "HUP", "nosuch"],
        &["signal", "HUP", "grp:gb"],
        &["clear", "nosuch"],
        &["clear", "nogroup:*"],
        &["add", "nosuch"],
        &["add", "sleeper"],
        &["remove", "nosuch"],
        &["remove", "sleeper"],
        &["frobnicate"],
        &["help"],
    ]);
}

/// Main-log lines only one of the daemons writes, on purpose, and which
/// one. Each is checked both ways (in its daemon's log, absent from the
/// other's), so an entry that no longer holds fails the test.
const MAINLOG_ONLY: &[(&str, Kind)] = &[
    // pidvisord has no Python plugins to load.
    ("INFO RPC interface 'supervisor' initialized", Kind::Real),
    // pidvisor's own service; the tests give it no system bus (NO_BUS).
    (
        "INFO D-Bus service disabled: cannot connect to the D-Bus system bus: \
         unix:path=/nonexistent/pidvisor-test-bus: No such file or directory (os error 2)",
        Kind::Ours,
    ),
];

/// Main log lines with dates and pids masked, sorted (the two daemons
/// interleave their autostart lines differently), without the lines of
/// [`MAINLOG_ONLY`]: each must be there exactly once in `kind`'s log and
/// never in the other's.
fn main_log_lines(o: &Out, kind: Kind) -> Vec<String> {
    let mut lines: Vec<String> = o
        .stdout
        .lines()
        // `maintail -N` starts mid-line; the first line is partial.
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            // "2026-11-22 03:12:43,504 INFO ..." -> "DATE INFO ..."
            let rest = l.get(24..).unwrap_or(l);
            let rest = rest
                .split(' ')
                .map(|w| {
                    if w.chars().all(|c| c.is_ascii_digit()) && !w.is_empty() {
                        "N"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            format!("DATE {rest}")
        })
        .collect();
    for (text, who) in MAINLOG_ONLY {
        let n = lines.iter().filter(|l| l.ends_with(text)).count();
        let want = usize::from(*who == kind);
        assert_eq!(
            n, want,
            "{kind:?}'s main log has {n} x {text:?}:\n{lines:#?}"
        );
        lines.retain(|l| !l.ends_with(text));
    }
    lines.sort();
    lines
}

#[test]
fn maintail_matches() {
    let v = require_venv!();
    let p = Pair::standard(&v);
    // The whole log (both are far smaller than this), compared as a set of
    // lines: it says the same things in both daemons.
    let runs = p.runs(&["maintail", "-100000"]);
    let reference = main_log_lines(&runs.reference, Kind::Real);
    assert!(
        reference
            .iter()
            .any(|l| l.contains("gave up: quick entered FATAL state")),
        "{reference:?}"
    );
    assert_eq!(reference, main_log_lines(&runs.real_client, Kind::Ours));
    assert_eq!(reference, main_log_lines(&runs.our_client, Kind::Ours));
    for o in [&runs.reference, &runs.real_client, &runs.our_client] {
        assert_eq!((o.code, o.stderr.as_str()), (0, ""));
    }
}

fn manual_stopped(d: &Daemon) {
    d.real(&["stop", "manual"]);
    d.wait_state("manual", "STOPPED");
}

fn manual_running(d: &Daemon) {
    d.real(&["start", "manual"]);
    d.wait_state("manual", "RUNNING");
}

#[test]
fn process_commands_match() {
    let v = require_venv!();
    let p = Pair::standard(&v);
    p.same_after(&["start", "manual"], &manual_stopped);
    p.same_after(&["start", "manual", "nosuch", "sleeper"], &manual_stopped);
    p.same_after(&["stop", "manual"], &manual_running);
    p.same_after(&["stop", "nosuch", "manual"], &manual_running);
    p.same_after(&["restart", "manual"], &manual_running);
    p.same_after(&["restart", "manual"], &manual_stopped);
    p.same_after(&["signal", "USR1", "manual"], &manual_running);
    p.same_after(&["signal", "HUP", "manual"], &manual_stopped);
    p.same_after(&["signal", "CONT", "manual", "nosuch"], &manual_running);
    p.same_after(&["clear", "manual"], &manual_running);
    p.same_after(&["clear", "manual", "nosuch"], &manual_running);
    p.same_after(&["status", "manual"], &manual_stopped);
    p.same_after(&["pid", "manual"], &manual_running);
    // quick exits at once: spawn error, rc 7.
    let quick_fatal = |d: &Daemon| d.wait_state("quick", "FATAL");
    p.same_after(&["start", "quick"], &quick_fatal);
    p.same_after(&["restart", "quick"], &quick_fatal);
}

#[test]
fn group_commands_match() {
    let v = require_venv!();
    let p = Pair::standard(&v);
    let gb_stopped = |d: &Daemon| {
        d.real(&["stop", "grp:gb"]);
        d.wait_state("grp:gb", "STOPPED");
    };
    let grp_running = |d: &Daemon| {
        d.real(&["start", "grp:*"]);
        d.wait_state("grp:gb", "RUNNING");
        d.wait_state("grp:ga", "RUNNING");
    };
    p.same_after(&["start", "grp:*"], &gb_stopped);
    p.same_after(&["start", "grp:"], &gb_stopped);
    p.same_after(&["start", "grp:gb", "grp:ga"], &gb_stopped);
    p.same_after_sorted(&["stop", "grp:"], &grp_running);
    p.same_after(&["stop", "grp:*"], &gb_stopped);
    p.same_after_sorted(&["restart", "grp:*"], &grp_running);
    p.same_after_sorted(&["signal", "CONT", "grp:*"], &grp_running);
    p.same_after(&["signal", "CONT", "grp:"], &gb_stopped);
    p.same_after(&["clear", "grp:*"], &grp_running);
}

#[test]
fn all_commands_match() {
    let v = require_venv!();
    let p = Pair::standard(&v);
    let all_running = |d: &Daemon| {
        d.real(&["start", "all"]);
        for name in ["manual", "grp:ga", "grp:gb", "sleeper", "talker", "ticker"] {
            d.wait_state(name, "RUNNING");
        }
        d.wait_state("quick", "FATAL");
    };
    // Sorted: whether supervisord reports quick's spawn error in list order
    // or last depends on whether its reap() right after the fork already
    // sees /bin/true gone.
    p.same_after_sorted(&["start", "all"], &|d: &Daemon| {
        d.real(&["stop", "all"]);
        d.wait_state("manual", "STOPPED");
        d.wait_state("grp:ga", "STOPPED");
    });
    p.same_after_sorted(&["stop", "all"], &all_running);
    p.same_after(&["signal", "CONT", "all"], &manual_running);
    p.same_after(&["clear", "all"], &manual_running);
    p.same_after_sorted(&["restart", "all"], &all_running);
}

#[test]
fn config_commands_match() {
    let v = require_venv!();
    let p = Pair::standard(&v);
    // reread / avail / add / remove / update after a config change: a new
    // program appears, one disappears, one changes.
    let old = |d: &Daemon| std::fs::read_to_string(&d.conf).unwrap();
    let (old_real, old_ours) = (old(&p.real), old(&p.ours));
    let change = |text: String| {
        text.replace(
            "[program:manual]",
            "[program:added]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\n[program:manual]",
        )
        .replace(
            "[program:quick]\ncommand=/bin/true\nstartretries=0\nstartsecs=5\n",
            "",
        )
        .replace("[program:talker]\n", "[program:talker]\npriority=5\n")
    };
    edit_conf(&p.real, &change);
    edit_conf(&p.ours, &change);
    p.same(&["reread"]);
    p.same(&["avail"]);
    p.same(&["update", "nosuch"]);
    let removed = |d: &Daemon| {
        d.real(&["remove", "added"]);
    };
    p.same_after(&["add", "added"], &removed);
    p.same_after(&["add", "added", "nosuch"], &removed);
    // Now active in both: these change nothing.
    p.same(&["add", "added"]);
    p.same(&["avail"]);
    p.same_after(&["start", "added"], &|d: &Daemon| {
        d.real(&["stop", "added"]);
        d.wait_state("added", "STOPPED");
    });
    p.same(&["remove", "added"]);
    p.same_after(&["remove", "added"], &|d: &Daemon| {
        d.real(&["stop", "added"]);
        d.real(&["add", "added"]);
        d.wait_state("added", "STOPPED");
    });
    let (new_real, new_ours) = (old(&p.real), old(&p.ours));
    p.same_after_sorted(&["update"], &|d: &Daemon| {
        let (old, new) = if d.kind == Kind::Real {
            (&old_real, &new_real)
        } else {
            (&old_ours, &new_ours)
        };
        std::fs::write(&d.conf, old).unwrap();
        d.real(&["update"]);
        d.wait_state("quick", "FATAL");
        d.wait_state("talker", "RUNNING");
        std::fs::write(&d.conf, new).unwrap();
    });
    // Applied in both: nothing left to do.
    p.same(&["update"]);
    p.same(&["update", "talker"]);
    p.same(&["reread"]);
    p.same(&["status"]);
    p.same(&["avail"]);
}

#[test]
fn auth_matches() {
    let v = require_venv!();
    let p = Pair::start(
        &v,
        "username=admin\npassword={SHA}d033e22ae348aeb5660fc2140aec35850c4da997",
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    p.same_many(&[
        // No credentials: the 401 handling.
        &["status"],
        &["version"],
        &["avail"],
        &["shutdown"],
        &["start", "x"],
        &["tail", "-f", "sleeper"],
        // Wrong and right credentials from the command line.
        &["-u", "admin", "-p", "wrong", "status"],
        &["-u", "nobody", "-p", "admin", "pid"],
        &["-u", "admin", "-p", "admin", "pid", "sleeper"],
        &["-u", "admin", "-p", "admin", "version"],
        &["-u", "admin", "-p", "admin", "start", "sleeper"],
        &["-u", "admin", "-p", "admin", "tail", "sleeper"],
        &["-u", "admin", "-p", "admin", "tail", "-f", "nosuch"],
    ]);
    p.both(|d| d.wait_state_as("sleeper", "RUNNING", Some(("admin", "admin"))));
    p.same(&["-u", "admin", "-p", "admin", "status"]);
}

/// A log follower (`tail -f`, `maintail -f`): its stdout lines arrive
/// through a reader thread; killed (by its pid) on drop.
struct Follower {
    child: std::process::Child,
    rx: mpsc::Receiver<String>,
    lines: Vec<String>,
    args: Vec<String>,
}

impl Follower {
    fn start(bin: &Path, conf: &Path, args: &[&str]) -> Follower {
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(conf)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .env("LANG", "C.UTF-8")
            .env("PYTHONUNBUFFERED", "1")
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Follower {
            child,
            rx,
            lines: Vec::new(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// Read lines until `done(lines so far)`; fails after the deadline.
    fn until(&mut self, what: &str, done: impl Fn(&[String]) -> bool) {
        let start = clock::mono();
        while !done(&self.lines) {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.rx.recv_timeout(left) {
                Ok(l) => self.lines.push(l),
                Err(_) => panic!(
                    "{:?}: no {what} before the deadline; it printed {:?}",
                    self.args, self.lines
                ),
            }
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number in a `WORD N` line.
fn numbered(line: &str, word: &str) -> Option<u64> {
    line.strip_prefix(word)?.trim().parse().ok()
}

/// The highest `WORD N` in `name`'s AUTO log of `channel`.
fn last_logged(d: &Daemon, name: &str, channel: &str, word: &str) -> u64 {
    let prefix = format!("{name}-{channel}---");
    std::fs::read_dir(d.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .flat_map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            text.lines()
                .filter_map(|l| numbered(l, word))
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0)
}

/// `tail -f` and `maintail -f` keep streaming: each follower must show a
/// line written after its first output (so read by following, not in the
/// tail it starts with), and every whole line in order.
#[test]
fn tail_follow_streams() {
    let v = require_venv!();
    let p = Pair::start(
        &v,
        "",
        "[program:ticker]\ncommand=sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; \
         echo tock $i >&2; sleep 0.1; done'\nstartsecs=0\n\
         [program:marker]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n",
    );
    p.both(|d| d.wait_state("ticker", "RUNNING"));
    let real = v.join("bin/supervisorctl");
    let ours = Path::new(OURS);
    let banner = "==> Press Ctrl-C to exit <==";
    for (bin, d) in [(&*real, &p.real), (&*real, &p.ours), (ours, &p.ours)] {
        for (args, channel, word) in [
            (&["tail", "-f", "ticker"][..], "stdout", "tick"),
            (&["tail", "-f", "ticker", "stderr"], "stderr", "tock"),
        ] {
            let mut f = Follower::start(bin, &d.conf, args);
            f.until("first output", |l| l.len() >= 2);
            assert_eq!(f.lines[0], banner, "{args:?}");
            // Everything the follower could have read at its start.
            let logged = last_logged(d, "ticker", channel, word);
            f.until(&format!("{word} line after {word} {logged}"), |l| {
                l.iter()
                    .any(|x| numbered(x, word).is_some_and(|n| n > logged))
            });
            // The first line may be cut (the stream starts 1024 bytes from
            // the end); the ones after it are whole and in order.
            let numbers: Vec<Option<u64>> =
                f.lines[2..].iter().map(|l| numbered(l, word)).collect();
            assert!(
                numbers.iter().all(Option::is_some),
                "{args:?}: {:?}",
                f.lines
            );
            assert!(
                numbers.windows(2).all(|w| w[1] == w[0].map(|n| n + 1)),
                "{args:?}: {:?}",
                f.lines
            );
        }
        // maintail -f: start `marker` once the follower has shown its first
        // output; its `spawned:` line (with the new pid) must follow.
        let mut f = Follower::start(bin, &d.conf, &["maintail", "-f"]);
        f.until("first output", |l| l.len() >= 2);
        assert_eq!(f.lines[0], banner);
        assert_eq!(
            run(&real, &d.conf, &["start", "marker"]).stdout,
            "marker: started\n"
        );
        let log = std::fs::read_to_string(d.dir.path().join("supervisord.log")).unwrap();
        let at = log
            .rfind("spawned: 'marker' with pid ")
            .expect("marker's spawn logged");
        let spawned = log[at..].lines().next().unwrap().to_string();
        f.until(&format!("{spawned:?}"), |l| {
            l.iter().any(|x| x.ends_with(&spawned))
        });
        assert!(f.lines[1..].iter().all(|l| !l.is_empty()), "{:?}", f.lines);
        drop(f);
        assert_eq!(
            run(&real, &d.conf, &["stop", "marker"]).stdout,
            "marker: stopped\n"
        );
    }
}

#[test]
fn reload_and_shutdown_match() {
    let v = require_venv!();
    let prog = "[program:s]\ncommand=sleep 1000\nstartsecs=0\n";
    let (mut p, mut third) = std::thread::scope(|s| {
        let t = s.spawn(|| Daemon::start_kind(Kind::Ours, &v, "", "", prog));
        (Pair::start(&v, "", prog), t.join().unwrap())
    });
    let all = |f: &(dyn Fn(&Daemon) + Sync)| {
        p.both(f);
        f(&third);
    };
    all(&|d| d.wait_state("s", "RUNNING"));
    let real = v.join("bin/supervisorctl");
    let go = |args: &[&str], p: &Pair, third: &Daemon| {
        let runs = std::thread::scope(|s| {
            let a = s.spawn(|| run(&real, &p.real.conf, args));
            let b = s.spawn(|| run(&real, &p.ours.conf, args));
            let c = run(Path::new(OURS), &third.conf, args);
            Runs {
                reference: a.join().unwrap(),
                real_client: b.join().unwrap(),
                our_client: c,
            }
        });
        check(args, &runs, false);
    };
    go(&["reload"], &p, &third);
    all(&|d| d.wait_state("s", "RUNNING"));
    go(&["shutdown"], &p, &third);
    p.real.wait_exit();
    p.ours.wait_exit();
    third.wait_exit();
    // After exit the socket is gone: "no such file (already shut down?)".
    go(&["shutdown"], &p, &third);
    go(&["status"], &p, &third);
    go(&["reload"], &p, &third);
}

/// What `SHAPES_PROGRAMS` runs is what `tests/compat/xmlrpc_shapes.py`
/// expects.
const SHAPES_PROGRAMS: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:missing]
command=/nonexistent/pidvisor-binary
autostart=false

[program:notexec]
command=/etc
autostart=false

[program:quick]
command=/bin/true
autostart=false
startretries=0
startsecs=5

[program:talker]
command=sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'
startsecs=0

[program:nolog]
command=sleep 1000
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

[program:redir]
command=sh -c 'echo both-out; echo both-err >&2; exec sleep 1000'
startsecs=0
redirect_stderr=true

[program:stubborn]
command=sh -c \"trap '' TERM; exec sleep 1000\"
startsecs=0
stopwaitsecs=3

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

/// Calls where pidvisord answers differently on purpose: the start of the
/// record's call and params, and why.
const SHAPE_DIVERGENCES: &[(&str, &str)] = &[
    // A non-int offset makes supervisord's method raise a Python TypeError
    // or ValueError, which its HTTP layer turns into "500 Internal Server
    // Error". We answer the documented INCORRECT_PARAMETERS fault.
    (
        r#"{"call": "supervisor.readLog", "params": [["str", "a"], ["int", 0]]"#,
        "python crash -> HTTP 500",
    ),
    (
        r#"{"call": "supervisor.readProcessStdoutLog", "params": [["str", "talker"], ["str", "a"], ["int", 0]]"#,
        "python crash -> HTTP 500",
    ),
    (
        r#"{"call": "supervisor.readProcessLog", "params": [["str", "talker"], ["str", "a"], ["int", 0]]"#,
        "python crash -> HTTP 500",
    ),
    (
        r#"{"call": "supervisor.readProcessStderrLog", "params": [["str", "talker"], ["str", "a"], ["int", 0]]"#,
        "python crash -> HTTP 500",
    ),
    // system.multicall with a string instead of an array: a TypeError in
    // supervisord (HTTP 500); INCORRECT_PARAMETERS here.
    (
        r#"{"call": "system.multicall", "params": [["str", "x"]]"#,
        "python crash -> HTTP 500",
    ),
];

/// The [`SHAPE_DIVERGENCES`] entry a record falls under: the record's
/// "call" and "params" prefix, as the script prints them (keys sorted:
/// "call", then "fault"/"params").
fn divergence(record: &str) -> Option<usize> {
    // Records put "fault" between "call" and "params"; drop it to match.
    let key = match (
        record.find(r#", "fault": "#),
        record.find(r#", "params": "#),
    ) {
        (Some(f), Some(p)) if f < p => format!("{}{}", &record[..f], &record[p..]),
        _ => record.to_string(),
    };
    SHAPE_DIVERGENCES
        .iter()
        .position(|(prefix, _)| key.starts_with(prefix))
}

fn shapes(venv: &Path, d: &Daemon) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat/xmlrpc_shapes.py");
    let dir = d.dir.path();
    let o = Command::new(venv.join("bin/python"))
        .arg(script)
        .arg(format!("unix://{}/s.sock", dir.display()))
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "xmlrpc_shapes.py failed against {:?}:\n{}",
        d.kind,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn xmlrpc_shapes_match() {
    let v = require_venv!();
    let mut p = Pair::start(&v, "", &format!("{SHAPES_PROGRAMS}{TICKER}"));
    let (real, ours) = std::thread::scope(|s| {
        let real = s.spawn(|| shapes(&v, &p.real));
        (real.join().unwrap(), shapes(&v, &p.ours))
    });
    // The script ends with supervisor.shutdown.
    p.real.wait_exit();
    p.ours.wait_exit();
    assert!(real.len() > 250, "only {} records", real.len());
    assert_eq!(real.len(), ours.len(), "record counts differ");
    let mut diffs = Vec::new();
    let mut used = vec![0; SHAPE_DIVERGENCES.len()];
    for (r, o) in real.iter().zip(&ours) {
        if r == o {
            continue;
        }
        match (divergence(r), divergence(o)) {
            (Some(a), Some(b)) if a == b => used[a] += 1,
            _ => diffs.push(format!("supervisord: {r}\npidvisord:   {o}\n")),
        }
    }
    assert!(
        diffs.is_empty(),
        "{} record(s) differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    // Every documented divergence is still real, once (else drop it).
    for ((prefix, why), n) in SHAPE_DIVERGENCES.iter().zip(used) {
        assert_eq!(n, 1, "stale SHAPE_DIVERGENCES entry ({why}): {prefix}");
    }
}

/// A free TCP port on 127.0.0.1 (free when asked; the daemon binds it next).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn inet_server_matches() {
    let v = require_venv!();
    let prog = "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n";
    let server = |port: u16| {
        format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\nusername=admin\npassword=secret\n\n{prog}"
        )
    };
    let (real_port, our_port) = (free_port(), free_port());
    let (real, ours) = std::thread::scope(|s| {
        let r = s.spawn(|| Daemon::start_kind(Kind::Real, &v, "", "", &server(real_port)));
        let o = Daemon::start_kind(Kind::Ours, &v, "", "", &server(our_port));
        (r.join().unwrap(), o)
    });
    for d in [&real, &ours] {
        d.wait_state("sleeper", "RUNNING");
    }
    let real_ctl = v.join("bin/supervisorctl");
    // The same command over TCP, the port masked.
    let over_tcp = |bin: &Path, d: &Daemon, port: u16, args: &[&str]| {
        let url = format!("http://127.0.0.1:{port}");
        let mut all = vec!["-s", url.as_str()];
        all.extend_from_slice(args);
        let o = run(bin, &d.conf, &all);
        let m = |s: &str| s.replace(&port.to_string(), "PORT");
        Out {
            stdout: m(&o.stdout),
            stderr: m(&o.stderr),
            code: o.code,
        }
    };
    for args in [
        &["status"][..],
        &["-u", "admin", "-p", "wrong", "status"],
        &["-u", "admin", "-p", "secret", "status"],
        &["-u", "admin", "-p", "secret", "version"],
        &["-u", "admin", "-p", "secret", "pid", "sleeper"],
        &["-u", "admin", "-p", "secret", "tail", "sleeper"],
        &["-u", "admin", "-p", "secret", "tail", "-f", "nosuch"],
        &["-u", "admin", "-p", "secret", "stop", "nosuch"],
        &["tail", "-f", "sleeper"],
    ] {
        let runs = std::thread::scope(|s| {
            let a = s.spawn(|| over_tcp(&real_ctl, &real, real_port, args));
            let b = s.spawn(|| over_tcp(&real_ctl, &ours, our_port, args));
            let c = over_tcp(Path::new(OURS), &ours, our_port, args);
            Runs {
                reference: a.join().unwrap(),
                real_client: b.join().unwrap(),
                our_client: c,
            }
        });
        check(args, &runs, false);
    }
}

/// Issue 20: pidvisord gives a program whose logs are `NONE` `/dev/null`
/// for its output and keeps no end of its stdin pipe; `tail`, `clear` and
/// `sendProcessStdin` on it still answer as supervisord's do.
#[test]
fn programs_without_logs_answer_as_supervisord() {
    let v = require_venv!();
    let programs = "
[program:silent]
command=sh -c 'while read l; do echo \"$l\"; done; exec sleep 1000'
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE

[program:closer]
command=sh -c 'exec 0<&-; exec sleep 1000'
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
";
    let p = Pair::start(&v, "", programs);
    p.both(|d| {
        d.wait_state("silent", "RUNNING");
        d.wait_state("closer", "RUNNING");
    });
    p.same_many(&[
        &["tail", "silent"],
        &["tail", "silent", "stderr"],
        &["tail", "-5", "silent"],
        &["tail", "-f", "silent"],
        &["clear", "silent"],
        &["status"],
    ]);
    let send = |d: &Daemon, name: &str| {
        let o = Command::new(v.join("bin/python"))
            .arg(rpc_script())
            .args([&d.url(), "call", "supervisor.sendProcessStdin"])
            .args([format!("\"{name}\""), "\"hi\\n\"".to_string()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    for name in ["silent", "closer", "nosuch"] {
        assert_eq!(
            send(&p.ours, name),
            send(&p.real, name),
            "sendProcessStdin {name}"
        );
    }
    // Written to, the program still runs (its stdin did not end).
    p.same(&["status"]);
}
