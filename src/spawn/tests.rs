//! Real spawns (as root for the `user=` tests, which fail without root
//! unless skips are allowed: `tests/common/skip.rs`). Every process killed here
//! was started here, and only through its pidfd.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::config::types::UserSpec;
use crate::sys::tests::{in_child, skip};

const DEADLINE: Duration = Duration::from_secs(10);
const METHODS: [CloneMethod; 2] = [CloneMethod::Auto, CloneMethod::Fork];

fn environ() -> Vec<(OsString, OsString)> {
    std::env::vars_os().collect()
}

fn prep(spec: &ProgramSpec) -> Result<Prepared, SpawnError> {
    let environ = environ();
    let ctx = Context {
        env: DaemonEnv {
            environ: &environ,
            server_url: Some("unix:///tmp/test.sock"),
            notify_socket: Some("@pidvisord-test-notify"),
        },
        cwd: Path::new("/"),
    };
    prepare(spec, &ctx)
}

/// A spawned child with the parent ends of its stdout and stderr pipes.
struct Running {
    child: Child,
    stdout: File,
    stderr: File,
}

fn start(spec: &ProgramSpec, method: CloneMethod) -> Result<Running, (SpawnError, File)> {
    let prepared = prep(spec).map_err(|e| (e, File::open("/dev/null").unwrap()))?;
    let stdin = File::open("/dev/null").unwrap();
    let (out_rd, out_wr) = sys::fd::pipe_cloexec().unwrap();
    let (err_rd, err_wr) = sys::fd::pipe_cloexec().unwrap();
    let stdio = Stdio {
        stdin: stdin.as_fd(),
        stdout: out_wr.as_fd(),
        stderr: err_wr.as_fd(),
    };
    let opts = SpawnOptions {
        cgroup: None,
        method,
        nofile_soft: None,
    };
    let result = spawn_with(&prepared, stdio, &opts);
    // The parent's copies of the child ends go, so reads see EOF at exit.
    drop((stdin, out_wr, err_wr));
    match result {
        Ok(child) => Ok(Running {
            child,
            stdout: File::from(out_rd),
            stderr: File::from(err_rd),
        }),
        Err(e) => Err((e, File::from(err_rd))),
    }
}

fn read_all(mut f: File) -> String {
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

fn wait(child: &Child) -> ExitStatus {
    sys::pidfd::wait_pidfd_timeout(child.pidfd.as_fd(), DEADLINE)
        .unwrap()
        .expect("child did not exit before the deadline")
}

fn spec(command: &str) -> ProgramSpec {
    ProgramSpec::with_defaults("t", command)
}

/// `/proc/PID/status` field `name`, whitespace-normalised.
fn status_field(pid: u32, name: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in status"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn kill(run: &Running) {
    run.child.signal(sys::signal::SIGKILL).unwrap();
    assert_eq!(wait(&run.child), ExitStatus::Killed(sys::signal::SIGKILL));
}

#[test]
fn exit_codes_through_the_pidfd() {
    for method in METHODS {
        let run = start(&spec("/bin/true"), method).unwrap();
        assert_eq!(wait(&run.child), ExitStatus::Exited(0), "{method:?}");
        let run = start(&spec("sh -c 'exit 3'"), method).unwrap();
        assert_eq!(wait(&run.child), ExitStatus::Exited(3), "{method:?}");
        // Reaped: a second wait finds nothing (ECHILD), not a second exit.
        assert!(run.child.try_wait().is_err());
    }
}

#[test]
fn kill_via_pidfd_send_signal() {
    for method in METHODS {
        let run = start(&spec("sleep 100"), method).unwrap();
        assert_eq!(run.child.try_wait().unwrap(), None);
        run.child.signal(sys::signal::SIGTERM).unwrap();
        assert_eq!(wait(&run.child), ExitStatus::Killed(sys::signal::SIGTERM));
        assert_eq!(
            run.child.signal(0).unwrap_err().raw_os_error(),
            Some(sys::errno::ESRCH)
        );
    }
}

#[test]
fn output_pipes_and_environment() {
    let mut s = spec("sh -c 'echo out $SUPERVISOR_PROCESS_NAME $X; echo err >&2'");
    s.environment = vec![("X".into(), "y z".into())];
    let run = start(&s, CloneMethod::Auto).unwrap();
    assert_eq!(wait(&run.child), ExitStatus::Exited(0));
    assert_eq!(read_all(run.stdout), "out t y z\n");
    assert_eq!(read_all(run.stderr), "err\n");
}

#[test]
fn fresh_process_group_signals_and_fds() {
    // Block SIGTERM in this thread (the daemon blocks it for its signalfd)
    // and leave an fd without CLOEXEC: neither may reach the child.
    let set = sys::signal::sigset(&[sys::signal::SIGTERM]);
    sys::signal::block(&set).unwrap();
    let leaked: OwnedFd = sys::fd::dup(File::open("/dev/null").unwrap()).unwrap();
    // An ignored signal of ours must not reach the child either (SIGTTOU:
    // harmless to ignore in the test process).
    sys::signal::ignore(sys::signal::SIGTTOU);

    for method in METHODS {
        let run = start(&spec("sleep 100"), method).unwrap();
        let pid = run.child.pid;
        assert_eq!(status_field(pid, "SigBlk"), "0000000000000000");
        // Only SIGPIPE (13) and SIGXFSZ (25) are ignored, as under
        // supervisord (its Python ignores both); nothing else inherited.
        assert_eq!(status_field(pid, "SigIgn"), "0000000001001000");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
        let pgrp: u32 = after_comm.split(' ').nth(2).unwrap().parse().unwrap();
        assert_eq!(pgrp, pid, "own process group");
        // `sleep` opens files of its own while starting (ld.so, locale), so
        // wait for it to settle: a leaked fd would stay and fail the wait.
        let deadline = crate::clock::mono() + std::time::Duration::from_secs(20);
        loop {
            let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            fds.sort();
            if fds == ["0", "1", "2"] {
                break;
            }
            assert!(crate::clock::mono() < deadline, "{method:?}: fds {fds:?}");
            crate::clock::sleep(std::time::Duration::from_millis(10));
        }
        kill(&run);
    }
    sys::signal::unblock(&set).unwrap();
    drop(leaked);
}

fn nobody() -> UserSpec {
    let u = sys::user::user_by_name("nobody").unwrap();
    UserSpec {
        written: "nobody".into(),
        name: u.name,
        uid: u.uid,
        gid: u.gid,
        home: u.home,
        shell: u.shell,
    }
}

#[test]
fn user_drops_ids_groups_and_capabilities() {
    if !skip::need_root("to become nobody") {
        return;
    }
    let user = nobody();
    for method in METHODS {
        let mut s = spec("sleep 100");
        s.user = Some(user.clone());
        let run = start(&s, method).unwrap();
        let pid = run.child.pid;
        let uid = user.uid.to_string();
        let gid = user.gid.to_string();
        assert_eq!(status_field(pid, "Uid"), [uid.as_str(); 4].join(" "));
        assert_eq!(status_field(pid, "Gid"), [gid.as_str(); 4].join(" "));
        let want_groups = supplementary_groups(&user.name, user.gid);
        let groups: Vec<u32> = status_field(pid, "Groups")
            .split(' ')
            .map(|g| g.parse().unwrap())
            .collect();
        assert_eq!(groups[0..1], want_groups[0..1]);
        assert_eq!(groups.len(), want_groups.len());
        for cap in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
            assert_eq!(status_field(pid, cap), "0000000000000000", "{cap}");
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
        let home = format!("HOME={}", user.home.display());
        assert!(vars.contains(&home.as_bytes()));
        assert!(vars.contains(&&b"USER=nobody"[..]));
        assert!(vars.contains(&&b"LOGNAME=nobody"[..]));
        kill(&run);
    }
}

#[test]
fn directory_and_umask_applied() {
    let dir = tempfile::tempdir().unwrap();
    for method in METHODS {
        let mut s = spec("sh -c 'pwd; umask; echo > made'");
        s.directory = Some(dir.path().to_owned());
        s.umask = Some(0o027);
        let run = start(&s, method).unwrap();
        assert_eq!(wait(&run.child), ExitStatus::Exited(0));
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(read_all(run.stdout), format!("{}\n0027\n", real.display()));
        let mode = std::fs::metadata(dir.path().join("made"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        std::fs::remove_file(dir.path().join("made")).unwrap();
    }
}

#[test]
fn bad_directory_is_reported_by_stage() {
    for method in METHODS {
        let mut s = spec("/bin/true");
        s.directory = Some(PathBuf::from("/nope"));
        let (err, stderr) = start(&s, method).err().expect("spawn must fail");
        match &err {
            SpawnError::Child { stage, errno, .. } => {
                assert_eq!(*stage, ExecStage::Chdir);
                assert_eq!(*errno, sys::errno::ENOENT);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.to_string(), "couldn't chdir to /nope: ENOENT");
        assert_eq!(
            read_all(stderr),
            "supervisor: couldn't chdir to /nope: ENOENT\n\
             supervisor: child process was not spawned\n"
        );
    }
}

#[test]
fn exec_failure_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage");
    std::fs::write(&bad, b"\x7fELF\x00\x00not really").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (err, stderr) = start(&spec(bad.to_str().unwrap()), CloneMethod::Auto)
        .err()
        .expect("spawn must fail");
    let line = format!("couldn't exec {}: ENOEXEC", bad.display());
    assert_eq!(err.to_string(), line);
    assert_eq!(
        read_all(stderr),
        format!("supervisor: {line}\nsupervisor: child process was not spawned\n")
    );
}

#[test]
fn resolution_errors_are_supervisors_texts() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::write(&plain, "x").unwrap();
    let d = dir.path().display();
    let cases = [
        (
            "nonexistent-cmd-xyz -a".to_owned(),
            "can't find command 'nonexistent-cmd-xyz'".to_owned(),
        ),
        (format!("{d}"), format!("command at '{d}' is a directory")),
        (
            format!("{d}/plain"),
            format!("command at '{d}/plain' is not executable"),
        ),
        ("".to_owned(), "command is empty".to_owned()),
        (
            "echo 'x".to_owned(),
            "can't parse command \"echo 'x\": No closing quotation".to_owned(),
        ),
    ];
    for (command, want) in cases {
        match prep(&spec(&command)) {
            Err(SpawnError::Command(msg)) => assert_eq!(msg, want),
            other => panic!("{command}: {other:?}"),
        }
    }
}

#[test]
fn spawnerr_texts_for_fork_and_pipe_failures() {
    let e = SpawnError::Fork(io::Error::from_raw_os_error(sys::errno::EAGAIN));
    assert_eq!(
        e.spawnerr("web"),
        "Too many processes in process table to spawn 'web'"
    );
    let e = SpawnError::Fork(io::Error::from_raw_os_error(sys::errno::ENOMEM));
    assert_eq!(
        e.spawnerr("web"),
        "unknown error during fork for 'web': ENOMEM"
    );
    let e = SpawnError::Pipe(io::Error::from_raw_os_error(sys::errno::EMFILE));
    assert_eq!(e.spawnerr("web"), "too many open files to spawn 'web'");
}

#[test]
fn watchdog_pid_is_the_childs_own_pid() {
    // Issue 17: only the child knows its pid before exec; every clone
    // method must fill it in, and a reused Prepared (or a clone of it)
    // must get the new child's pid each time.
    let mut s = spec("sh -c 'echo $NOTIFY_SOCKET $WATCHDOG_USEC $WATCHDOG_PID'");
    s.notify.access = crate::config::NotifyAccess::Main;
    s.notify.watchdog = Duration::from_secs(3);
    let p = prep(&s).unwrap();
    assert!(p.envp().iter().any(|v| v.to_bytes() == b"WATCHDOG_PID="));
    for method in METHODS {
        for prepared in [&p, &p, &p.clone()] {
            let (out_rd, out_wr) = sys::fd::pipe_cloexec().unwrap();
            let null = File::open("/dev/null").unwrap();
            let stdio = Stdio {
                stdin: null.as_fd(),
                stdout: out_wr.as_fd(),
                stderr: null.as_fd(),
            };
            let opts = SpawnOptions {
                cgroup: None,
                method,
                nofile_soft: None,
            };
            let child = spawn_with(prepared, stdio, &opts).unwrap();
            drop(out_wr);
            assert_eq!(wait(&child), ExitStatus::Exited(0));
            let out = read_all(File::from(out_rd));
            assert_eq!(
                out.trim(),
                format!("@pidvisord-test-notify 3000000 {}", child.pid),
                "{method:?}"
            );
        }
    }
}

#[test]
fn prepared_is_reusable() {
    let p = prep(&spec("sh -c 'exit 7'")).unwrap();
    assert!(p.filename().to_str().unwrap().ends_with("/sh"));
    assert!(p
        .envp()
        .iter()
        .any(|v| v.to_bytes() == b"SUPERVISOR_ENABLED=1"));
    let null = File::open("/dev/null").unwrap();
    let stdio = Stdio {
        stdin: null.as_fd(),
        stdout: null.as_fd(),
        stderr: null.as_fd(),
    };
    for _ in 0..3 {
        let child = spawn(&p, stdio).unwrap();
        assert_eq!(wait(&child), ExitStatus::Exited(7));
    }
}

/// Rough cost of 500 prepare + spawn + reap cycles of `/bin/true`
/// (`cargo test --release spawn_500 -- --ignored --nocapture`).
#[test]
#[ignore]
fn spawn_500_timing() {
    for method in METHODS {
        let null = File::open("/dev/null").unwrap();
        let stdio = Stdio {
            stdin: null.as_fd(),
            stdout: null.as_fd(),
            stderr: null.as_fd(),
        };
        let t0 = crate::clock::mono();
        let mut prepare_time = Duration::ZERO;
        let mut children = Vec::new();
        for i in 0..500 {
            let t = crate::clock::mono();
            let p = prep(&ProgramSpec::with_defaults(&format!("p{i}"), "/bin/true")).unwrap();
            prepare_time += crate::clock::mono() - t;
            children.push(
                spawn_with(
                    &p,
                    stdio,
                    &SpawnOptions {
                        cgroup: None,
                        method,
                        nofile_soft: None,
                    },
                )
                .unwrap(),
            );
        }
        let spawned = crate::clock::mono() - t0;
        for c in &children {
            assert_eq!(wait(c), ExitStatus::Exited(0));
        }
        eprintln!(
            "{method:?}: 500 spawns in {spawned:?} (prepare {prepare_time:?}), all reaped after {:?}",
            crate::clock::mono() - t0
        );
    }
}

/// As a non-root daemon: `user=` of another uid fails with Supervisor's text,
/// and a root-only executable gives `no permission to run command`.
#[test]
fn non_root_daemon_texts() {
    if !skip::need_root("to become nobody") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let private = dir.path().join("private");
    std::fs::write(&private, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let nobody = nobody();
    let root = UserSpec {
        written: "root".into(),
        name: "root".into(),
        uid: 0,
        gid: 0,
        home: "/root".into(),
        shell: "/bin/sh".into(),
    };
    let st = in_child(|| {
        if sys::cred::set_res_gid(nobody.gid).is_err()
            || sys::cred::set_res_uid(nobody.uid).is_err()
        {
            return 10;
        }
        match prep(&spec(private.to_str().unwrap())) {
            Err(SpawnError::Command(m))
                if m == format!(
                    "no permission to run command {}",
                    py_repr(private.to_str().unwrap())
                ) => {}
            _ => return 11,
        }
        let mut s = spec("/bin/true");
        s.user = Some(root.clone());
        let Err((err, stderr)) = start(&s, CloneMethod::Auto) else {
            return 12;
        };
        let line = "couldn't setuid to 0: Can't drop privilege as nonroot user";
        if !matches!(
            err,
            SpawnError::Child {
                stage: ExecStage::NotRoot,
                ..
            }
        ) {
            return 13;
        }
        if err.to_string() != line {
            return 14;
        }
        let want = format!("supervisor: {line}\nsupervisor: child process was not spawned\n");
        if read_all(stderr) != want {
            return 15;
        }
        0
    });
    assert_eq!(st, ExitStatus::Exited(0));
}

/// The fork fallback joins the cgroup in the child, before exec, by writing
/// "0" to `cgroup.procs` next to the given directory fd. A plain directory
/// with a regular `cgroup.procs` file shows that write (a real cgroup is
/// covered by tests/it/cgroups.rs); a directory without one is a spawn error.
#[test]
fn fork_fallback_joins_the_cgroup_in_the_child() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cgroup.procs"), "").unwrap();
    let fd = File::open(dir.path()).unwrap();
    let prepared = prep(&ProgramSpec::with_defaults("j", "/bin/true")).unwrap();
    let null = File::open("/dev/null").unwrap();
    let stdio = Stdio {
        stdin: null.as_fd(),
        stdout: null.as_fd(),
        stderr: null.as_fd(),
    };
    let opts = SpawnOptions {
        cgroup: Some(fd.as_fd()),
        method: CloneMethod::Fork,
        nofile_soft: None,
    };
    let child = spawn_with(&prepared, stdio, &opts).unwrap();
    assert!(child.in_cgroup);
    assert_eq!(wait(&child), ExitStatus::Exited(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("cgroup.procs")).unwrap(),
        "0"
    );

    let empty = tempfile::tempdir().unwrap();
    let fd = File::open(empty.path()).unwrap();
    let opts = SpawnOptions {
        cgroup: Some(fd.as_fd()),
        method: CloneMethod::Fork,
        nofile_soft: None,
    };
    let e = spawn_with(&prepared, stdio, &opts).unwrap_err();
    assert!(matches!(e, SpawnError::Cgroup(_)), "{e:?}");
    assert!(
        e.to_string().starts_with("couldn't open cgroup.procs"),
        "{e}"
    );
}

/// The block built from the shared base plus the program's layers is
/// exactly `env::build`'s: same variables, same order, later layer wins.
#[test]
fn envp_from_shared_base_equals_build() {
    let os = |pairs: &[(&str, &str)]| -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    };
    let environ = os(&[
        ("PATH", "/bin"),
        ("HOME", "/root"),
        ("SUPERVISOR_ENABLED", "0"),
        ("A", "environ"),
        ("PATH", "/usr/bin"),
        ("Z", "last"),
    ]);
    let mut spec = ProgramSpec::with_defaults("web", "/bin/true");
    spec.environment = vec![
        ("A".into(), "sup".into()),
        ("N".into(), "sup".into()),
        ("N".into(), "prog".into()),
        ("HOME".into(), "/srv".into()),
    ];
    let ctx = Context {
        env: DaemonEnv {
            environ: &environ,
            server_url: Some("unix:///tmp/x.sock"),
            notify_socket: None,
        },
        cwd: Path::new("/"),
    };
    let base = BaseEnv::new(&environ);
    let got: Vec<String> = prepare_with(&spec, &ctx, &base)
        .unwrap()
        .envp()
        .iter()
        .map(|s| s.to_str().unwrap().to_owned())
        .collect();
    let want: Vec<String> = build_environment(&spec, None, &ctx.env)
        .vars()
        .iter()
        .map(|(k, v)| format!("{}={}", k.to_str().unwrap(), v.to_str().unwrap()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        got,
        [
            "PATH=/usr/bin",
            "HOME=/srv",
            "SUPERVISOR_ENABLED=1",
            "A=sup",
            "Z=last",
            "SUPERVISOR_SERVER_URL=unix:///tmp/x.sock",
            "SUPERVISOR_PROCESS_NAME=web",
            "SUPERVISOR_GROUP_NAME=web",
            "N=prog",
        ]
    );
    // A NUL in the program's own variables is still a spawn error.
    spec.environment = vec![("BAD".into(), "a\0b".into())];
    assert!(matches!(
        prepare_with(&spec, &ctx, &base),
        Err(SpawnError::Nul { .. })
    ));
}

/// Issue 18: `environment_file` is read at each prepare, under
/// `environment=`; a missing mandatory file is a spawn error naming it.
#[test]
fn environment_file_is_read_at_each_prepare_under_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.env");
    let mut spec = ProgramSpec::with_defaults("web", "/bin/true");
    spec.environment = vec![("B".into(), "from environment=".into())];
    spec.environment_file = Some(crate::config::EnvFile {
        path: file.clone(),
        optional: false,
    });
    let err = prep(&spec).unwrap_err();
    assert_eq!(
        err.spawnerr("web"),
        format!("couldn't read environment_file {}: ENOENT", file.display())
    );
    spec.environment_file.as_mut().unwrap().optional = true;
    assert!(prep(&spec).is_ok());
    std::fs::write(&file, "A='one two'\nB=from the file\n").unwrap();
    let vars = |p: &Prepared| -> Vec<String> {
        p.envp()
            .iter()
            .map(|s| s.to_str().unwrap().to_owned())
            .filter(|s| s.starts_with("A=") || s.starts_with("B="))
            .collect()
    };
    let p = prep(&spec).unwrap();
    assert_eq!(vars(&p), ["A=one two", "B=from environment="]);
    // An edit applies at the next prepare.
    std::fs::write(&file, "A=changed\n").unwrap();
    assert_eq!(
        vars(&prep(&spec).unwrap()),
        ["A=changed", "B=from environment="]
    );
    std::fs::write(&file, "NOT VALID=1\n").unwrap();
    let err = prep(&spec).unwrap_err();
    assert_eq!(
        err.spawnerr("web"),
        format!(
            "environment_file {}:1: 'NOT VALID' is not a valid variable name",
            file.display()
        )
    );
}

/// Issue 20: a daemon that raised its own soft RLIMIT_NOFILE gives the
/// child the soft limit it was started with (the hard limit stays).
#[test]
fn the_child_gets_back_the_soft_nofile_limit() {
    let (_, hard) = sys::rlimit::get(sys::rlimit::Limit::NoFile);
    let soft = hard.map_or(777, |h| h.min(777));
    for method in METHODS {
        let prepared = prep(&spec("sh -c 'ulimit -Sn; ulimit -Hn'")).unwrap();
        let null = File::open("/dev/null").unwrap();
        let (out_rd, out_wr) = sys::fd::pipe_cloexec().unwrap();
        let stdio = Stdio {
            stdin: null.as_fd(),
            stdout: out_wr.as_fd(),
            stderr: null.as_fd(),
        };
        let opts = SpawnOptions {
            cgroup: None,
            method,
            nofile_soft: Some(soft),
        };
        let child = spawn_with(&prepared, stdio, &opts).unwrap();
        drop(out_wr);
        assert_eq!(wait(&child), ExitStatus::Exited(0));
        let hard = hard.map_or("unlimited".to_string(), |h| h.to_string());
        assert_eq!(read_all(File::from(out_rd)), format!("{soft}\n{hard}\n"));
    }
}

/// Issue 20: the child starts from a small copy of the daemon's table
/// (the low slots), so many descriptors open in the daemon neither reach
/// it nor keep its pipes from ending when it exits.
#[test]
fn many_open_descriptors_do_not_reach_the_child() {
    let null = File::open("/dev/null").unwrap();
    let many: Vec<OwnedFd> = (0..2000).map(|_| sys::fd::dup(&null).unwrap()).collect();
    for method in METHODS {
        let run = start(&spec("sh -c 'ls /proc/self/fd | wc -l'"), method).unwrap();
        assert_eq!(wait(&run.child), ExitStatus::Exited(0));
        // 0, 1, 2 and the directory `ls` reads.
        assert_eq!(read_all(run.stdout).trim(), "4", "{method:?}");
    }
    drop(many);
}
