//! The per-user mode (`--session`, issue 19) as real users would run it:
//! users created by the test (removed by their Drop guard), each with a
//! session bus of its own (`dbus-run-session`), a config of nothing but
//! `[program:x]`, and `pidvisorctl --session` / `busctl --user` with no
//! `-c`. Also supervisord's `--user USER`, which keeps its meaning.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::fixture::*;

fn need(tool: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(found, "{tool} is not installed (Debian package {package})");
}

/// A user made for one test with `useradd`, home in the test's temp dir;
/// `userdel --remove` on Drop, after its processes are gone.
struct TestUser {
    name: String,
    uid: u32,
    home: PathBuf,
    /// Its `XDG_RUNTIME_DIR` (0700, its own), as logind would make it.
    runtime: PathBuf,
}

impl TestUser {
    fn create(base: &Path) -> TestUser {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "pvs{}x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let home = base.join(&name);
        let out = Command::new("useradd")
            .args(["--create-home", "--user-group", "--shell", "/bin/sh"])
            .arg("--home-dir")
            .arg(&home)
            .arg(&name)
            .output()
            .expect("run useradd (Debian package passwd)");
        assert!(out.status.success(), "useradd {name}: {out:?}");
        let mut user = TestUser {
            name,
            uid: 0,
            home,
            runtime: base.join(format!("run-{}", std::process::id())),
        };
        let id = Command::new("id")
            .arg("-u")
            .arg(&user.name)
            .output()
            .unwrap();
        user.uid = String::from_utf8_lossy(&id.stdout).trim().parse().unwrap();
        user.runtime = base.join(format!("run-{}", user.name));
        std::fs::create_dir(&user.runtime).unwrap();
        std::os::unix::fs::chown(&user.runtime, Some(user.uid), Some(user.uid)).unwrap();
        std::fs::set_permissions(&user.runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        user
    }

    /// Write `~/.config/pidvisor/pidvisord.conf`, owned by the user.
    fn write_config(&self, text: &str) {
        let mut dir = self.home.clone();
        for part in [".config", "pidvisor"] {
            dir.push(part);
            std::fs::create_dir_all(&dir).unwrap();
            std::os::unix::fs::chown(&dir, Some(self.uid), Some(self.uid)).unwrap();
        }
        let conf = dir.join("pidvisord.conf");
        std::fs::write(&conf, text).unwrap();
        std::os::unix::fs::chown(&conf, Some(self.uid), Some(self.uid)).unwrap();
    }

    /// `program args` as this user, in a login-like environment: HOME,
    /// XDG_RUNTIME_DIR, PATH and nothing else (no XDG_CONFIG_HOME and
    /// XDG_STATE_HOME: their defaults under HOME are what is shown).
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.uid))
            .arg("--init-groups")
            .arg(program)
            .env_clear()
            .env("HOME", &self.home)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("PATH", std::env::var_os("PATH").unwrap())
            .current_dir(&self.home)
            .stdin(Stdio::null());
        c
    }

    fn ctl(&self, pidvisorctl: &Path, args: &[&str]) -> Output {
        self.command(pidvisorctl.to_str().unwrap())
            .arg("--session")
            .args(args)
            .output()
            .unwrap()
    }

    fn state_dir(&self) -> PathBuf {
        self.home.join(".local/state/pidvisor")
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel")
            .arg("--remove")
            .arg(&self.name)
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.runtime);
    }
}

/// A process tree the test started (`dbus-run-session` and the daemon under
/// it), killed by pid on Drop.
struct Tree(Child);

impl Drop for Tree {
    fn drop(&mut self) {
        let root = self.0.id();
        let kids = descendants(root);
        send(root, 9);
        for k in kids {
            send(k, 9);
        }
        let _ = self.0.wait();
    }
}

/// The binaries as `user` can run them: in place when it can reach them,
/// else copies in `dir` (a checkout under a private directory).
fn reachable_bins(user: &TestUser, dir: &Path) -> (PathBuf, PathBuf) {
    let d = PathBuf::from(env!("CARGO_BIN_EXE_pidvisord"));
    let c = PathBuf::from(env!("CARGO_BIN_EXE_pidvisorctl"));
    let ok = user
        .command("test")
        .arg("-x")
        .arg(&d)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return (d, c);
    }
    let (d2, c2) = (dir.join("pidvisord"), dir.join("pidvisorctl"));
    std::fs::copy(&d, &d2).unwrap();
    std::fs::copy(&c, &c2).unwrap();
    (d2, c2)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn owner(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .uid()
}

/// `pidvisord --session -n` as `user` under its own session bus; the bus
/// address is written to `$XDG_RUNTIME_DIR/bus-address` for busctl.
fn start_session_daemon(user: &TestUser, pidvisord: &Path) -> Tree {
    let script = format!(
        "printf '%s' \"$DBUS_SESSION_BUS_ADDRESS\" > \"$XDG_RUNTIME_DIR/bus-address.tmp\" && \
         mv \"$XDG_RUNTIME_DIR/bus-address.tmp\" \"$XDG_RUNTIME_DIR/bus-address\" && \
         exec {} --session -n",
        pidvisord.display()
    );
    let out = std::fs::File::create(user.runtime.join("daemon.out")).unwrap();
    let child = user
        .command("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("start dbus-run-session");
    Tree(child)
}

/// The one process of `status` as `(name, state, pid)`.
fn status_line(user: &TestUser, ctl: &Path) -> Option<(String, String, u32)> {
    let out = user.ctl(ctl, &["status"]);
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut w = s.split_whitespace();
    let (name, state) = (w.next()?.to_string(), w.next()?.to_string());
    let pid = w.nth(1)?.trim_end_matches(',').parse().ok()?;
    (state == "RUNNING").then_some((name, state, pid))
}

#[test]
fn session_mode_runs_a_programs_only_config_for_two_users_side_by_side() {
    need("dbus-run-session", "dbus-daemon");
    need("busctl", "systemd");
    need("setpriv", "util-linux");
    let base = tempfile::Builder::new()
        .prefix("pidvisor-session")
        .tempdir()
        .unwrap();
    // The users must reach their homes inside it.
    std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let users = [TestUser::create(base.path()), TestUser::create(base.path())];
    let (pidvisord, pidvisorctl) = reachable_bins(&users[0], base.path());
    // The same program name for both: anything shared would show.
    for u in &users {
        u.write_config(
            "[program:x]\ncommand=sh -c 'echo hello from $(id -un); exec sleep 1000'\n\
             startsecs=0\n",
        );
    }
    let trees: Vec<Tree> = users
        .iter()
        .map(|u| start_session_daemon(u, &pidvisord))
        .collect();
    let mut pids = Vec::new();
    for u in &users {
        let (name, _, pid) = wait_for(&format!("x RUNNING for {}", u.name), TIMEOUT, || {
            status_line(u, &pidvisorctl)
        });
        assert_eq!(name, "x");
        // The program runs as its user, under that user's daemon.
        assert_eq!(
            proc_status(pid, "Uid").unwrap().split_whitespace().next(),
            Some(&*u.uid.to_string())
        );
        pids.push(pid);
        // Runtime directory 0700 with the socket; logs in the state dir.
        let run = u.runtime.join("pidvisor");
        let meta = std::fs::metadata(&run).unwrap();
        assert_eq!(
            (meta.uid(), meta.permissions().mode() & 0o777),
            (u.uid, 0o700)
        );
        assert_eq!(owner(&run.join("pidvisord.sock")), u.uid);
        assert_eq!(owner(&run.join("pidvisord.pid")), u.uid);
        let state = u.state_dir();
        let log = std::fs::read_to_string(state.join("pidvisord.log")).unwrap();
        assert!(
            log.contains(&format!("spawned: 'x' with pid {pid}")),
            "{log}"
        );
        assert!(
            !log.contains("running without any HTTP authentication"),
            "the session socket is private: {log}"
        );
        let auto: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("x-stdout---")
            })
            .collect();
        assert_eq!(auto.len(), 1, "{auto:?}");
        assert_eq!(owner(&auto[0]), u.uid);
        // pidvisorctl finds the socket without -c; tail reads this user's log.
        let tail = wait_for("x's greeting", TIMEOUT, || {
            let t = text(&u.ctl(&pidvisorctl, &["tail", "x"]));
            t.contains("hello from").then_some(t)
        });
        assert_eq!(tail.trim(), format!("hello from {}", u.name));
        // busctl --user sees the same program on this user's session bus.
        let address = wait_file(&u.runtime.join("bus-address"));
        let out = u
            .command("busctl")
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .args([
                "--user",
                "call",
                "org.pidvisor.Supervisor1",
                "/org/pidvisor/Supervisor1",
                "org.pidvisor.Supervisor1.Manager",
                "GetProcessByPID",
                "u",
                &pid.to_string(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "o \"/org/pidvisor/Supervisor1/process/x_3ax\""
        );
    }
    assert_ne!(pids[0], pids[1]);
    // Each daemon knows only its own x.
    for (u, pid) in users.iter().zip(&pids) {
        let out = u.ctl(&pidvisorctl, &["pid", "x"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
    }
    // Shut down through the session socket: the runtime files go away.
    for (u, tree) in users.iter().zip(trees) {
        let out = u.ctl(&pidvisorctl, &["shutdown"]);
        assert!(text(&out).contains("Shut down"), "{}", text(&out));
        let daemon_gone = || (!u.runtime.join("pidvisor/pidvisord.pid").exists()).then_some(());
        wait_for("the session daemon to exit", TIMEOUT, daemon_gone);
        drop(tree);
    }
}

#[test]
fn session_mode_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let o = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .output()
            .unwrap();
        (text(&o), o.status.code())
    };
    let (out, rc) = run(&["--session", "-u", "nobody"], &[("HOME", "/nonexistent")]);
    assert_eq!(rc, Some(2));
    assert!(
        out.starts_with("Error: --session runs as the calling user"),
        "{out}"
    );
    // No config: the per-user search path is named.
    let home = dir.path().to_str().unwrap();
    let xdg = dir.path().join("run");
    std::fs::create_dir(&xdg).unwrap();
    let (out, rc) = run(
        &["--session", "-n"],
        &[("HOME", home), ("XDG_RUNTIME_DIR", xdg.to_str().unwrap())],
    );
    assert_eq!(rc, Some(2));
    assert!(
        out.contains(&format!("({home}/.config/pidvisor/pidvisord.conf)")),
        "{out}"
    );
    // pidvisorctl --session without a daemon: the session socket is named.
    let o = Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
        .args(["--session", "status"])
        .env_clear()
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", &xdg)
        .output()
        .unwrap();
    let out = text(&o);
    assert!(
        out.contains(&format!("unix://{}/pidvisor/pidvisord.sock", xdg.display())),
        "{out}"
    );
}

#[test]
fn user_option_keeps_supervisords_meaning() {
    for form in [
        &["--user", "nobody"][..],
        &["--user=nobody"],
        &["-u", "nobody"],
    ] {
        let dir = tempfile::Builder::new()
            .prefix("pidvisor-user")
            .tempdir()
            .unwrap();
        // nobody writes the logs and the socket after the drop.
        std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
        let d = dir.path().display();
        let conf = dir.path().join("s.conf");
        std::fs::write(
            &conf,
            format!(
                "[supervisord]\nlogfile={d}/main.log\npidfile={d}/d.pid\nchildlogdir={d}\n\
                 [unix_http_server]\nfile={d}/s.sock\n[supervisorctl]\nserverurl=unix://{d}/s.sock\n\
                 [program:x]\ncommand=sleep 1000\nstartsecs=0\n"
            ),
        )
        .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
            .args(form)
            .args(["-n", "-c", conf.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let tree = Tree(child);
        let log = wait_for("x RUNNING", TIMEOUT, || {
            let log = std::fs::read_to_string(dir.path().join("main.log")).ok()?;
            log.contains("entered RUNNING state").then_some(log)
        });
        // supervisord's own line, and the daemon really is nobody now.
        assert!(
            log.contains("INFO Set uid to user 65534 succeeded"),
            "{form:?}: {log}"
        );
        let uid = proc_status(tree.0.id(), "Uid").unwrap();
        assert!(
            uid.split_whitespace().all(|u| u == "65534"),
            "{form:?}: {uid}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
            .args(["-c", conf.to_str().unwrap(), "status"])
            .output()
            .unwrap();
        assert!(text(&out).starts_with("x "), "{form:?}: {}", text(&out));
        drop(tree);
    }
}

/// Every method, signal and property the service introspects is in
/// man/pidvisor-dbus.5, each as a `.B Name` entry (found on a session bus of
/// the test's own, with the daemon in per-user mode as root).
#[test]
fn dbus_page_lists_every_member() {
    need("dbus-run-session", "dbus-daemon");
    need("busctl", "systemd");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let run = dir.path().join("run");
    std::fs::create_dir_all(home.join(".config/pidvisor")).unwrap();
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(
        home.join(".config/pidvisor/pidvisord.conf"),
        "[program:x]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    .unwrap();
    let script = format!(
        "printf '%s' \"$DBUS_SESSION_BUS_ADDRESS\" > \"$XDG_RUNTIME_DIR/a.tmp\" && \
         mv \"$XDG_RUNTIME_DIR/a.tmp\" \"$XDG_RUNTIME_DIR/bus-address\" && exec {} --session -n",
        env!("CARGO_BIN_EXE_pidvisord")
    );
    let env = |c: &mut Command| {
        c.env_clear()
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &run)
            .env("PATH", std::env::var_os("PATH").unwrap())
            .stdin(Stdio::null());
    };
    let mut c = Command::new("dbus-run-session");
    env(&mut c);
    let _tree = Tree(
        c.args(["--", "sh", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let address = wait_file(&run.join("bus-address"));
    let introspect = |path: &str| {
        wait_for(&format!("introspection of {path}"), TIMEOUT, || {
            let mut c = Command::new("busctl");
            env(&mut c);
            let out = c
                .env("DBUS_SESSION_BUS_ADDRESS", &address)
                .args(["--user", "introspect", "org.pidvisor.Supervisor1", path])
                .output()
                .unwrap();
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })
    };
    let page = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/man/pidvisor-dbus.5"))
        .unwrap();
    let mut seen = 0;
    for path in [
        "/org/pidvisor/Supervisor1",
        "/org/pidvisor/Supervisor1/process/x_3ax",
    ] {
        let mut ours = false;
        for line in introspect(path).lines() {
            let mut w = line.split_whitespace();
            let (Some(name), Some(kind)) = (w.next(), w.next()) else {
                continue;
            };
            if kind == "interface" {
                ours = name.starts_with("org.pidvisor.Supervisor1.");
                continue;
            }
            let Some(member) = name.strip_prefix('.').filter(|_| ours) else {
                continue;
            };
            let entry = match kind {
                "property" => format!("\n.B {member} "),
                _ => format!("\n.B {member}("),
            };
            assert!(
                page.contains(&entry),
                "pidvisor-dbus.5 lacks {kind} {member}"
            );
            seen += 1;
        }
    }
    // 26 manager methods, 3 signals, 5 process methods, 15 properties.
    assert!(seen >= 49, "only {seen} members introspected");
}
