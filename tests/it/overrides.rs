//! pidvisord's command line overrides the config (`-s -u -m -d -l -y -z -e
//! -j -i -q -k -a -t --minprocs`), as supervisord's does. Each option is
//! given a value other than the config's, and its effect is observed from
//! outside: files, `/proc/PID/{status,limits,cwd}`, the main log, the
//! daemon's stdout, and `getIdentification` through Python's xmlrpc.client.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::fixture::*;
use crate::skip;

/// `[supervisord]` values the command line must override.
const CONF: &str = "[supervisord]\nlogfile={dir}/conf.log\nlogfile_maxbytes=50MB\n\
logfile_backups=10\nloglevel=info\npidfile={dir}/conf.pid\nidentifier=conf-id\n\
childlogdir={dir}/conf-logs\nnocleanup=false\nstrip_ansi=false\nsilent=false\n\
umask=022\ndirectory={dir}/conf-cwd\nminfds=260\nminprocs=110\n\n\
[unix_http_server]\nfile={dir}/ctl.sock\n\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\n";

/// A config (`CONF` + `programs`) in a temp dir with the directories the
/// options name, and `before` run on it (files to put in place).
fn prepare(programs: &str, before: impl FnOnce(&Daemon)) -> Daemon {
    let d = Daemon::prepare(&format!("{CONF}{programs}"));
    for sub in ["conf-logs", "cli-logs", "conf-cwd", "cli-cwd"] {
        fs::create_dir(d.path(sub)).unwrap();
    }
    before(&d);
    d
}

/// Start `prefix... pidvisord args... -c CONF` (`{dir}` in `args` is the
/// temp dir), output to `daemon.out`, and wait until the main log at `log`
/// says it started.
fn launch(mut d: Daemon, prefix: &[&str], args: &[&str], log: &str) -> Daemon {
    let dir = d.dir.path().display().to_string();
    let out = fs::File::create(d.path("daemon.out")).unwrap();
    let mut cmd = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(env!("CARGO_BIN_EXE_pidvisord"));
            c
        }
        None => Command::new(env!("CARGO_BIN_EXE_pidvisord")),
    };
    let child = cmd
        .args(args.iter().map(|a| a.replace("{dir}", &dir)))
        .arg("-c")
        .arg(&d.conf)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start pidvisord");
    d.pid = child.id();
    d.child = Some(child);
    let path = d.path(log);
    wait_for(&format!("pidvisord started, in {log}"), TIMEOUT, || {
        let text = fs::read_to_string(&path).unwrap_or_default();
        // (Without -n the process started here ends once it has forked.)
        if args.contains(&"-n") && !alive(d.pid) && !text.contains("supervisord started") {
            let out = fs::read_to_string(d.path("daemon.out")).unwrap_or_default();
            panic!("pidvisord {args:?} ended before it started:\n{out}");
        }
        text.contains("supervisord started with pid").then_some(())
    });
    d
}

/// One `/proc/PID/limits` line's soft limit.
fn soft_limit(pid: u32, name: &str) -> String {
    let text = fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = text.lines().find(|l| l.starts_with(name)).unwrap();
    line[name.len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The files in `dir` whose names start with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// `-l -y -z -e -j -i -q -k -t -s -a --minprocs`, in the foreground, under
/// lower resource limits (`prlimit`, which execs pidvisord in place) so
/// that `-a` and `--minprocs` have something to raise.
#[test]
fn foreground_options_override_the_config() {
    let Some(py) = python() else { return };
    // An AUTO log of an earlier run (with the command line's identifier),
    // for -k to keep where the config says clean up.
    let stale = "old-stdout---cli-id-abcdef12.log";
    let d = prepare(
        // Ten bursts of 100 lines (some 11 KiB), copied into the main log:
        // far more than two files of 2 KiB hold.
        // (After the test has seen the start in the main log: `go`.)
        "[program:talker]\ncommand=sh -c 'while [ ! -e %(here)s/go ]; do sleep 0.01; done; printf \"\\033[31mred\\033[0m\\n\"; \
         b=0; while [ $b -lt 10 ]; do b=$((b+1)); i=0; while [ $i -lt 100 ]; do echo line-$b-$i; i=$((i+1)); done; \
         sleep 0.05; done; exec sleep 1000'\nstartsecs=0\n",
        |d| fs::write(d.path("cli-logs").join(stale), "old\n").unwrap(),
    );
    let args = [
        "-n",
        "-s",
        "-l",
        "{dir}/cli.log",
        "-y",
        "2KB",
        "-z",
        "1",
        "-e",
        "debug",
        "-j",
        "{dir}/cli.pid",
        "-i",
        "cli-id",
        "-q",
        "{dir}/cli-logs",
        "-k",
        "-t",
        "-a",
        "300",
        "--minprocs",
        "150",
    ];
    // Soft limits only: the hard ones may not be raised here (no CAP_SYS_RESOURCE).
    let prlimit = ["prlimit", "--nofile=256:", "--nproc=100:", "--"];
    let d = launch(d, &prlimit, &args, "cli.log");
    fs::write(d.path("go"), "").unwrap();
    // -l: the main log is where the command line says.
    assert!(
        !d.path("conf.log").exists(),
        "the config's logfile was used"
    );
    // -e debug, -y 2KB, -z 1: the child's output copied into the main log
    // (DEBG lines) makes it rotate at 2 KiB, keeping one backup.
    let main = wait_for("the talker's last line in the main log", TIMEOUT, || {
        let all = fs::read_to_string(d.path("cli.log.1")).unwrap_or_default()
            + &fs::read_to_string(d.path("cli.log")).unwrap_or_default();
        all.contains("line-10-99").then_some(all)
    });
    assert!(main.contains("DEBG 'talker' stdout output:"), "{main}");
    // The oldest output went with the backups beyond the first.
    assert!(!main.contains("line-1-0\n"), "nothing was dropped: {main}");
    let backup = fs::metadata(d.path("cli.log.1")).expect("cli.log.1").len();
    assert!(
        backup >= 2048,
        "cli.log.1 rotated at {backup} bytes with -y 2KB"
    );
    assert!(!d.path("cli.log.2").exists(), "-z 1 keeps one backup");
    // -j: the pid file.
    let pidfile = fs::read_to_string(d.path("cli.pid")).unwrap();
    assert_eq!(pidfile.trim(), d.pid.to_string());
    assert!(!d.path("conf.pid").exists());
    // -q and -i: the AUTO log is in the command line's childlogdir, named
    // with its identifier; -t: the colour escapes are stripped.
    let autos = named(&d.path("cli-logs"), "talker-stdout---cli-id-");
    assert_eq!(autos.len(), 1, "{autos:?}");
    assert!(named(&d.path("conf-logs"), "talker").is_empty());
    let out = wait_for("the AUTO log", TIMEOUT, || {
        let out = fs::read_to_string(&autos[0]).ok()?;
        out.contains("line-10-99\n").then_some(out)
    });
    assert!(out.starts_with("red\nline-1-0\n"), "{out:?}");
    // -k: the earlier run's AUTO log is still there.
    assert!(
        d.path("cli-logs").join(stale).exists(),
        "{stale} was cleaned"
    );
    // -i, over XML-RPC.
    let url = format!("unix://{}", d.path("ctl.sock").display());
    let id = xmlrpc_call(&py, &url, "supervisor.getIdentification", &[]);
    assert_eq!(id["result"], "cli-id", "{id}");
    // -a, --minprocs: the soft limits raised to the command line's values.
    assert_eq!(soft_limit(d.pid, "Max open files"), "300");
    assert_eq!(soft_limit(d.pid, "Max processes"), "150");
    // -s: nothing of the main log on stdout (see the -u test for without).
    let stdout = fs::read_to_string(d.path("daemon.out")).unwrap();
    assert!(!stdout.contains("supervisord started"), "{stdout}");
}

/// Stops a daemon that daemonized (its pid from its pid file) on drop,
/// with whatever it started.
struct Daemonized(u32);

impl Drop for Daemonized {
    fn drop(&mut self) {
        let pids = descendants(self.0);
        send(self.0, 15);
        let _ = std::panic::catch_unwind(|| {
            wait_for("the daemonized pidvisord to exit", TIMEOUT, || {
                (!alive(self.0)).then_some(())
            })
        });
        send(self.0, 9);
        for pid in pids {
            send(pid, 9);
        }
    }
}

/// `-d` and `-m` act when the daemon daemonizes (as in supervisord): its
/// working directory and umask are the command line's.
#[test]
fn daemonizing_options_override_the_config() {
    let d = prepare("[program:s]\ncommand=sleep 1000\nstartsecs=0\n", |_| {});
    let args = ["-d", "{dir}/cli-cwd", "-m", "077", "-l", "{dir}/main.log"];
    let mut d = launch(d, &[], &args, "main.log");
    // The process started here forks the daemon and exits 0.
    let mut launcher = d.child.take().unwrap();
    let st = wait_for("the launcher to exit", TIMEOUT, || {
        launcher.try_wait().ok().flatten()
    });
    assert_eq!(st.code(), Some(0));
    let pid: u32 = fs::read_to_string(d.path("conf.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _daemon = Daemonized(pid);
    wait_for("the daemonized pidvisord's cwd", TIMEOUT, || {
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
        (cwd == d.path("cli-cwd")).then_some(())
    });
    assert_eq!(proc_status(pid, "Umask").as_deref(), Some("0077"));
    let log = d.wait_log("set current directory: ");
    assert!(log.contains("cli-cwd'"), "{log}");
}

/// `-u` drops the daemon to that user (the config says root); without
/// `-s` the main log is copied to stdout in the foreground.
#[test]
fn user_option_overrides_the_config() {
    if !skip::need_root("to drop to another user") {
        return;
    }
    let d = prepare("[program:s]\ncommand=sleep 1000\nstartsecs=0\n", |d| {
        use std::os::unix::fs::PermissionsExt;
        let conf = fs::read_to_string(&d.conf).unwrap();
        fs::write(
            &d.conf,
            conf.replace("umask=022\n", "umask=022\nuser=root\n"),
        )
        .unwrap();
        // nobody creates the socket and the logs there.
        fs::set_permissions(d.dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    });
    let args = ["-n", "-u", "nobody", "-l", "{dir}/main.log"];
    let d = launch(d, &[], &args, "main.log");
    let nobody = "65534\t65534\t65534\t65534";
    assert_eq!(proc_status(d.pid, "Uid").as_deref(), Some(nobody));
    let child = d.wait_spawned("s", 1);
    wait_for("the program running as nobody", TIMEOUT, || {
        (proc_status(child, "Uid").as_deref() == Some(nobody)).then_some(())
    });
    let stdout = fs::read_to_string(d.path("daemon.out")).unwrap();
    assert!(stdout.contains("supervisord started with pid"), "{stdout}");
}
