//! Issue 6: cgroup v2 leaves. Stop means every descendant is gone; children
//! start inside their leaf; a SIGKILLed daemon's strays are reclaimed;
//! limits fail loudly where their controller is missing; `cgroups=false`
//! keeps Supervisor's behaviour.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::fixture::{alive, send, wait_file, wait_for, Daemon, TIMEOUT};
use crate::skip;

/// The cgroup2 mount when this machine can run these tests; otherwise
/// `None` after [`skip::skip`] (a failure unless skips are allowed).
pub fn cgroup2() -> Option<PathBuf> {
    skip::need(probe(), "a writable cgroup2 with cgroup.kill")
}

fn probe() -> Result<PathBuf, String> {
    let host = pidvisor::cgroup::discover("/proc".as_ref()).map_err(|e| e.to_string())?;
    // One directory per call: the tests of this binary probe in parallel,
    // and one removing a shared directory made another see no cgroup.kill.
    static PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = host
        .own
        .join(format!("pidvisor-probe-{}-{n}", std::process::id()));
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let has_kill = dir.join("cgroup.kill").exists();
    let _ = fs::remove_dir(&dir);
    if !has_kill {
        return Err("cgroup.kill missing (Linux < 5.14)".into());
    }
    Ok(host.mount)
}

/// The cgroup2 directory of a process, from `/proc/PID/cgroup`.
fn cgroup_of(mount: &Path, pid: u32) -> PathBuf {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let rel = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .expect("a cgroup2 line");
    mount.join(rel.trim_start_matches('/'))
}

fn procs(leaf: &Path) -> Vec<u32> {
    fs::read_to_string(leaf.join("cgroup.procs"))
        .unwrap_or_default()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

fn populated(leaf: &Path) -> bool {
    fs::read_to_string(leaf.join("cgroup.events"))
        .unwrap_or_default()
        .contains("populated 1")
}

fn pids_in(path: &Path) -> Vec<u32> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Kills the given pids on drop: strays of a failed test never outlive it.
struct Strays(Vec<u32>);

impl Drop for Strays {
    fn drop(&mut self) {
        for &pid in &self.0 {
            send(pid, 9);
        }
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Stop `name`, then check: STOPPED, leaf empty, and every pid listed in
/// `pidfile` (written by the program's children) dead.
fn stop_leaves_nothing(d: &Daemon, name: &str, leaf: &Path, pidfile: &str) {
    let children = pids_in(&d.path(pidfile));
    assert!(
        !children.is_empty(),
        "the program wrote its children's pids"
    );
    let _guard = Strays(children.clone());
    let o = d.ctl(&["stop", name]);
    assert_eq!(stdout(&o), format!("{name}: stopped\n"));
    // STOPPED is reported only once the leaf is empty (and then removed:
    // every start gets a fresh leaf): no waiting here.
    assert!(!leaf.exists(), "leaf {} not removed", leaf.display());
    assert!(
        procs(leaf).is_empty(),
        "leaf {} still has {:?}",
        leaf.display(),
        procs(leaf)
    );
    assert!(!populated(leaf));
    for pid in pids_in(&d.path(pidfile)) {
        assert!(!alive(pid), "pid {pid} survived the stop of {name}");
    }
    assert!(stdout(&d.ctl(&["status", name])).contains("STOPPED"));
}

#[test]
fn shell_with_background_child_is_stopped_whole_and_listed() {
    let Some(mount) = cgroup2() else { return };
    // No stopasgroup: SIGTERM kills the shell only; its child is left in the
    // leaf until stopwaitsecs, when cgroup.kill takes it.
    let d = Daemon::start(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:bg]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/bg.pids; wait'\nstopwaitsecs=1\n",
    );
    let pid = d.wait_spawned("bg", 1);
    wait_file(&d.path("bg.pids"));
    let leaf = cgroup_of(&mount, pid);
    let rel = leaf
        .strip_prefix(&mount)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        rel.ends_with("/bg/bg"),
        "leaf {rel} is <subtree>/<group>/<process>"
    );
    assert!(
        leaf.parent()
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("pidvisor-"),
        "{rel}"
    );
    let child = pids_in(&d.path("bg.pids"))[0];
    wait_for("both in the leaf", TIMEOUT, || {
        (procs(&leaf).contains(&pid) && procs(&leaf).contains(&child)).then_some(())
    });
    wait_for("RUNNING", TIMEOUT, || {
        stdout(&d.ctl(&["status", "bg"]))
            .contains("RUNNING")
            .then_some(())
    });
    // status -v: the status line, then one indented line per pid.
    let v = stdout(&d.ctl(&["status", "-v", "bg"]));
    let lines: Vec<&str> = v.lines().collect();
    assert!(
        lines[0].starts_with("bg ") && lines[0].contains("RUNNING"),
        "{v}"
    );
    assert!(
        lines.contains(
            &format!(
                "    {pid} sh -c sleep 1000 & echo $! > {}/bg.pids; wait",
                d.dir.path().display()
            )
            .as_str()
        ),
        "{v}"
    );
    assert!(
        lines.contains(&format!("    {child} sleep 1000").as_str()),
        "{v}"
    );

    stop_leaves_nothing(&d, "bg", &leaf, "bg.pids");
    // Issue 21: the main shell's exit sends the stop signal to what it
    // left in its leaf at once; the sleep ends on it, no SIGKILL needed.
    let log = d.main_log();
    assert!(
        log.contains("'bg' exited; stopping what it left in its cgroup with SIGTERM")
            && !log.contains("with SIGKILL"),
        "{log}"
    );

    // Removing the program removes its group node.
    let o = d.ctl(&["remove", "bg"]);
    assert_eq!(stdout(&o), "bg: removed process group\n");
    assert!(!leaf.parent().unwrap().exists());
}

#[test]
fn daemonizer_fork_loop_and_term_ignoring_grandchild_leave_no_survivor() {
    let Some(mount) = cgroup2() else { return };
    let d = Daemon::start(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:daemonizer]\n\
         command=sh -c 'setsid sh -c \"sleep 1000 & echo \\$! > {dir}/dz.pids\" && exec sleep 1000'\n\
         stopasgroup=true\n\
         [program:forker]\n\
         command=sh -c 'while :; do sleep 1000 & echo $! >> {dir}/fork.pids; sleep 0.02; done'\n\
         stopasgroup=true\n\
         [program:stubborn]\n\
         command=sh -c 'sh -c \"trap \\\"\\\" TERM; echo \\$\\$ > {dir}/st.pids; while :; do sleep 0.1; done\" & wait'\n\
         stopasgroup=true\nstopwaitsecs=1\n",
    );
    let mut leaves = Vec::new();
    for name in ["daemonizer", "forker", "stubborn"] {
        let pid = d.wait_spawned(name, 1);
        let leaf = cgroup_of(&mount, pid);
        assert!(
            leaf.ends_with(format!("{name}/{name}")),
            "{}",
            leaf.display()
        );
        leaves.push((name, leaf));
    }
    for f in ["dz.pids", "fork.pids", "st.pids"] {
        wait_file(&d.path(f));
    }
    // The daemonizer's grandchild was reparented (it left the process
    // tree and its session) but not its cgroup.
    let dz = pids_in(&d.path("dz.pids"))[0];
    assert!(procs(&leaves[0].1).contains(&dz));
    wait_for("a few forks", TIMEOUT, || {
        (pids_in(&d.path("fork.pids")).len() >= 3).then_some(())
    });
    let stubborn = pids_in(&d.path("st.pids"))[0];

    stop_leaves_nothing(&d, "daemonizer", &leaves[0].1, "dz.pids");
    stop_leaves_nothing(&d, "forker", &leaves[1].1, "fork.pids");
    stop_leaves_nothing(&d, "stubborn", &leaves[2].1, "st.pids");
    assert!(!alive(stubborn));
    // A leaf that needed cgroup.kill is not reused: the restart runs (on
    // Linux 6.18 a clone3 into a once-killed cgroup is SIGKILLed at once).
    assert_eq!(
        stdout(&d.ctl(&["start", "stubborn"])),
        "stubborn: started\n"
    );
    let again = d.wait_spawned("stubborn", 2);
    assert_eq!(cgroup_of(&mount, again), leaves[2].1);
    let log = d.main_log();
    assert!(
        log.contains("killing what 'stubborn'") && log.contains("left in its cgroup with SIGKILL"),
        "the TERM-ignoring grandchild needed cgroup.kill:\n{log}"
    );
}

/// The program prints its own cgroup as its first act.
fn first_instruction(env: &[(&str, &str)]) {
    let Some(_mount) = cgroup2() else { return };
    let d = Daemon::prepare(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:first]\ncommand=cat /proc/self/cgroup\nstartsecs=0\nautorestart=false\n\
         stdout_logfile={dir}/first.out\n",
    )
    .launch_env(env);
    let log = d.wait_log("exited: first (exit status 0; expected)");
    assert_eq!(
        log.contains("fork fallback forced by PIDVISOR_SPAWN_METHOD=fork"),
        !env.is_empty(),
        "{log}"
    );
    let out = wait_file(&d.path("first.out"));
    let line = out.lines().find(|l| l.starts_with("0::")).unwrap();
    assert!(
        line.starts_with("0::/") && line.contains("/pidvisor-") && line.ends_with("/first/first"),
        "{out}"
    );
}

#[test]
fn child_is_in_its_leaf_before_its_first_instruction_clone3() {
    first_instruction(&[]);
}

#[test]
fn child_is_in_its_leaf_before_its_first_instruction_fork_fallback() {
    first_instruction(&[("PIDVISOR_SPAWN_METHOD", "fork")]);
}

#[test]
fn sigkilled_daemon_strays_are_reclaimed_by_the_next_start() {
    let Some(mount) = cgroup2() else { return };
    let mut d = Daemon::start(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:old]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/old.pids; wait'\n",
    );
    let main = d.wait_spawned("old", 1);
    wait_file(&d.path("old.pids"));
    let child = pids_in(&d.path("old.pids"))[0];
    let _guard = Strays(vec![main, child]);
    let leaf = cgroup_of(&mount, main);

    d.signal(9);
    let mut daemon = d.child.take().unwrap();
    wait_for("pidvisord to die", TIMEOUT, || {
        daemon.try_wait().ok().flatten()
    });
    assert!(
        alive(main) && alive(child),
        "strays outlive a SIGKILLed daemon"
    );
    assert_eq!(procs(&leaf).len(), 2);

    let d = d.launch();
    wait_for("old processes gone", TIMEOUT, || {
        (!alive(main) && !alive(child)).then_some(())
    });
    let log = d.wait_log("killed leftover processes");
    assert!(
        log.contains(&format!(
            "killed leftover processes {main} {child} in {}",
            leaf.display()
        )) || log.contains(&format!(
            "killed leftover processes {child} {main} in {}",
            leaf.display()
        )),
        "{log}"
    );
    // The program runs again, in a fresh leaf at the same place.
    let again = d.wait_spawned("old", 2);
    assert_eq!(cgroup_of(&mount, again), leaf);
}

#[test]
fn limits_error_where_the_controller_is_missing_and_apply_where_enabled() {
    let Some(mount) = cgroup2() else { return };
    let body = "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:lim]\ncommand=sleep 1000\nmemory_max=10MB\n";
    let d = Daemon::prepare(body);
    let check = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .arg("--check-config")
        .arg("-c")
        .arg(&d.conf)
        .output()
        .unwrap();
    let own = pidvisor::cgroup::discover("/proc".as_ref()).unwrap().own;
    let controllers = fs::read_to_string(own.join("cgroup.controllers")).unwrap_or_default();
    let d = d.launch();
    if !controllers.split_whitespace().any(|c| c == "memory") {
        // This host (hybrid cgroup2 without the memory controller).
        let out = stdout(&check);
        let text = fs::read_to_string(&d.conf).unwrap();
        let line = text.lines().position(|l| l == "[program:lim]").unwrap() + 1;
        let want = format!(
            "{}:{line}: [program:lim] memory_max: the memory controller is not available in {}",
            d.conf.display(),
            own.display()
        );
        assert_eq!(check.status.code(), Some(1), "{out}");
        assert!(out.starts_with(&want), "{out}");
        let log = d.wait_log("ERRO ");
        assert!(log.contains(&format!("ERRO {want}")), "{log}");
        // The program does not run without the limit it asked for.
        wait_for("lim FATAL", TIMEOUT, || {
            let s = stdout(&d.ctl(&["status", "lim"]));
            (s.contains("FATAL")
                && s.contains("memory_max: the memory controller is not available"))
            .then_some(())
        });
    } else {
        assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
        let pid = d.wait_spawned("lim", 1);
        let leaf = cgroup_of(&mount, pid);
        assert_eq!(
            fs::read_to_string(leaf.join("memory.max")).unwrap().trim(),
            "10485760"
        );
    }
}

#[test]
fn cgroups_false_keeps_supervisors_behaviour() {
    let d = Daemon::start(
        "[program:plain]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/plain.pids; wait'\nstopwaitsecs=5\n",
    );
    let pid = d.wait_spawned("plain", 1);
    wait_file(&d.path("plain.pids"));
    let child = pids_in(&d.path("plain.pids"))[0];
    let _guard = Strays(vec![child]);
    // No leaf: the program stays in the daemon's cgroup.
    assert_eq!(
        fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap(),
        fs::read_to_string(format!("/proc/{}/cgroup", d.pid)).unwrap()
    );
    // status -v lists the main pid and its descendants from /proc.
    let v = stdout(&d.ctl(&["status", "-v", "plain"]));
    assert!(v.contains(&format!("\n    {pid} sh -c ")), "{v}");
    assert!(v.contains(&format!("\n    {child} sleep 1000")), "{v}");
    assert_eq!(stdout(&d.ctl(&["stop", "plain"])), "plain: stopped\n");
    // As in Supervisor: a plain stop signals the shell only; the background
    // child survives.
    assert!(alive(child), "Supervisor leaves the grandchild running");
    assert!(
        !d.main_log().contains("cgroups:"),
        "nothing said about cgroups when none asked for"
    );
}

#[test]
fn program_added_by_update_gets_a_leaf() {
    let Some(mount) = cgroup2() else { return };
    let d = Daemon::start("[program:plain]\ncommand=sleep 1000\n");
    d.wait_spawned("plain", 1);
    let mut text = fs::read_to_string(&d.conf).unwrap();
    text.push_str("\n[program:late]\ncommand=sleep 1000\ncgroup=true\n");
    fs::write(&d.conf, text).unwrap();
    let o = d.ctl(&["update"]);
    assert_eq!(stdout(&o), "late: added process group\n");
    let pid = d.wait_spawned("late", 1);
    assert!(cgroup_of(&mount, pid).ends_with("late/late"));
    assert_eq!(stdout(&d.ctl(&["stop", "late"])), "late: stopped\n");
}

/// Removes a test's own cgroup when dropped (after its daemon is gone).
struct TestCgroup(PathBuf);

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = wait_for_empty(&self.0);
        let _ = fs::remove_dir(&self.0);
    }
}

fn wait_for_empty(dir: &Path) -> Option<()> {
    for pid in procs(dir) {
        send(pid, 9);
    }
    wait_for("test cgroup empty", TIMEOUT, || {
        (!populated(dir)).then_some(())
    });
    Some(())
}

#[test]
fn without_a_writable_cgroup2_process_groups_are_used_and_said_once() {
    let Some(_mount) = cgroup2() else { return };
    // The daemon runs in a cgroup that may have no children
    // (cgroup.max.descendants = 0), so its subtree cannot be made.
    let own = pidvisor::cgroup::discover("/proc".as_ref()).unwrap().own;
    let cg = own.join(format!("pidvisor-it-nochild-{}", std::process::id()));
    fs::create_dir_all(&cg).unwrap();
    let _cg = TestCgroup(cg.clone());
    fs::write(cg.join("cgroup.max.descendants"), "0").unwrap();

    let mut d = Daemon::prepare(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:fb]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/fb.pids; wait'\nstopasgroup=true\n",
    );
    let out = fs::File::create(d.path("daemon.out")).unwrap();
    // Join the cgroup, then become pidvisord (same pid).
    let child = Command::new("sh")
        .arg("-c")
        .arg("echo $$ > \"$2\"/cgroup.procs && exec \"$0\" -n -c \"$1\"")
        .arg(env!("CARGO_BIN_EXE_pidvisord"))
        .arg(&d.conf)
        .arg(&cg)
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    d.pid = child.id();
    d.child = Some(child);
    let note = "falling back to process groups (stopasgroup/killasgroup as in Supervisor)";
    let log = d.wait_log(note);
    assert!(log.contains("cgroups: cannot create cgroup "), "{log}");
    let pid = d.wait_spawned("fb", 1);
    wait_file(&d.path("fb.pids"));
    let child = pids_in(&d.path("fb.pids"))[0];
    let _guard = Strays(vec![child]);
    assert_eq!(
        cgroup_of(&PathBuf::from("/"), pid),
        cgroup_of(&PathBuf::from("/"), d.pid)
    );
    // stopasgroup through the process group, as in Supervisor.
    assert_eq!(stdout(&d.ctl(&["stop", "fb"])), "fb: stopped\n");
    wait_for("background child gone", TIMEOUT, || {
        (!alive(child)).then_some(())
    });
    // Said once per daemon, not again on reload.
    assert_eq!(stdout(&d.ctl(&["reload"])), "Restarted supervisord\n");
    d.wait_log_count("supervisord started with pid", 2);
    d.wait_spawned("fb", 2);
    assert_eq!(d.log_count(note), 1, "{}", d.main_log());
}

#[test]
fn what_a_program_leaves_when_it_exits_by_itself_is_killed() {
    let Some(mount) = cgroup2() else { return };
    // Documented divergence: Supervisor would leave the sleep running.
    let d = Daemon::start(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\
         [program:quitter]\ncommand=sh -c 'sleep 1000 & echo $! > {dir}/q.pids; read x'\n\
         startsecs=0\nautorestart=false\n",
    );
    let pid = d.wait_spawned("quitter", 1);
    let leaf = cgroup_of(&mount, pid);
    wait_file(&d.path("q.pids"));
    let child = pids_in(&d.path("q.pids"))[0];
    let _guard = Strays(vec![child]);
    // A signal the daemon did not send: for it, the shell exits by itself.
    send(pid, 15);
    d.wait_log("exited: quitter");
    wait_for("the leftover sleep killed", TIMEOUT, || {
        (!alive(child)).then_some(())
    });
    assert!(!populated(&leaf));
    let log = d.wait_log("killed what it left in its cgroup");
    assert!(
        log.contains(&format!(
            "'quitter' exited; killed what it left in its cgroup ({child})"
        )),
        "{log}"
    );
}

/// Where the cgroup2 file system is mounted, from `/proc/self/mountinfo`.
fn cgroup2_mount() -> Option<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
    pidvisor::cgroup::parse_mountinfo(&text)
}

/// A fake cgroup2 tree for the daemon of `d`: the daemon's own cgroup (at
/// the same path as this process's) offers `cpu memory pids`, and the
/// subtree and `lim`'s leaf already exist with the interface files the
/// daemon reads (a plain directory has none). Returns the fake root and
/// the leaf in it.
fn fake_cgroup_tree(d: &Daemon) -> (PathBuf, PathBuf) {
    let fake = d.path("fake-cgroup2");
    let own = fs::read_to_string("/proc/self/cgroup").unwrap();
    let rel = pidvisor::cgroup::parse_own_cgroup(&own).expect("a 0:: line");
    let base = fake.join(rel.trim_matches('/'));
    fs::create_dir_all(&base).unwrap();
    fs::write(base.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
    fs::write(base.join("cgroup.subtree_control"), "").unwrap();
    fs::write(base.join("cgroup.procs"), "").unwrap();
    let root = base.join(pidvisor::cgroup::subtree_name(&d.conf));
    let leaf = root.join("lim/lim");
    fs::create_dir_all(&leaf).unwrap();
    fs::write(root.join("cgroup.kill"), "").unwrap();
    fs::write(leaf.join("cgroup.events"), "populated 0\n").unwrap();
    fs::write(leaf.join("cgroup.procs"), "").unwrap();
    (fake, leaf)
}

/// `pids_max` and `cpu_max` are applied: their controllers enabled on the
/// path down to the program's node and the values written to its leaf.
/// Where this machine's cgroup offers `pids` and `cpu`, on the real tree;
/// in any case on a fake tree bind-mounted over the cgroup2 mount in a
/// private mount namespace (`unshare --mount`), so the check runs on hosts
/// whose cgroup2 has no controllers (hybrid ones). The fake tree is plain
/// files, so the program joins it by the fork fallback, which writes its
/// pid to the leaf's `cgroup.procs`.
#[test]
fn pids_max_and_cpu_max_are_applied() {
    let Some(mount) = cgroup2() else { return };
    let program =
        "[program:lim]\ncommand=sleep 1000\nstartsecs=0\npids_max=64\ncpu_max=50000 100000\n";
    let head = "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\ncgroups=true\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n[supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n";
    let own = pidvisor::cgroup::discover("/proc".as_ref()).unwrap().own;
    let controllers = fs::read_to_string(own.join("cgroup.controllers")).unwrap_or_default();
    let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
    if has("pids") && has("cpu") {
        let d = Daemon::start(&format!("{head}{program}"));
        let leaf = cgroup_of(&mount, d.wait_spawned("lim", 1));
        assert_eq!(
            fs::read_to_string(leaf.join("pids.max")).unwrap().trim(),
            "64"
        );
        assert_eq!(
            fs::read_to_string(leaf.join("cpu.max")).unwrap().trim(),
            "50000 100000"
        );
    }

    let mut d = Daemon::prepare(&format!("{head}{program}"));
    let (fake, leaf) = fake_cgroup_tree(&d);
    let at = cgroup2_mount().expect("a cgroup2 mount");
    let out = fs::File::create(d.path("daemon.out")).unwrap();
    let child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount --bind \"$0\" \"$1\" && exec \"$2\" -n -c \"$3\"")
        .arg(&fake)
        .arg(&at)
        .arg(env!("CARGO_BIN_EXE_pidvisord"))
        .arg(&d.conf)
        .env("PIDVISOR_SPAWN_METHOD", "fork")
        .stdin(std::process::Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("run unshare");
    d.pid = child.id();
    d.child = Some(child);
    let pid = wait_for("lim spawned on the fake tree", TIMEOUT, || {
        if !alive(d.pid) {
            let out = fs::read_to_string(d.path("daemon.out")).unwrap_or_default();
            crate::skip::skip(&format!(
                "a private mount namespace (unshare --mount, root): {out}"
            ));
            return Some(None);
        }
        d.spawned_pid("lim").map(Some)
    });
    let Some(pid) = pid else { return };
    let read = |p: &Path| fs::read_to_string(p).unwrap_or_default();
    assert_eq!(read(&leaf.join("pids.max")), "64");
    assert_eq!(read(&leaf.join("cpu.max")), "50000 100000");
    assert_eq!(
        read(&leaf.join("cgroup.procs")).trim(),
        "0",
        "joined by the fork fallback"
    );
    // Enabled on the daemon's cgroup, the subtree and the group node.
    let mut dir = leaf.parent().unwrap().to_path_buf();
    for _ in 0..3 {
        assert_eq!(
            read(&dir.join("cgroup.subtree_control")),
            "+pids +cpu",
            "{}",
            dir.display()
        );
        dir.pop();
    }
    let log = d.main_log();
    assert!(
        log.contains(&format!("spawned: 'lim' with pid {pid}")),
        "{log}"
    );
    assert!(!log.contains("ERRO"), "{log}");
}
