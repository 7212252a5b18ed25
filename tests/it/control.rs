//! The daemon's control socket driven by the real `pidvisorctl`: output lines
//! and exit codes as supervisorctl prints them.

use crate::fixture::*;

fn out(o: &std::process::Output) -> (String, i32) {
    let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
    s.push_str(&String::from_utf8_lossy(&o.stderr));
    (s, o.status.code().unwrap_or(-1))
}

#[test]
fn status_start_stop_and_errors_through_pidvisorctl() {
    let d = Daemon::start(
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:later]\ncommand=sleep 1000\nautostart=false\nstartsecs=0\n\
         [program:broken]\ncommand=/no/such/binary\nautostart=false\n",
    );
    d.wait_spawned("sleeper", 1);
    wait_for("sleeper RUNNING in status", TIMEOUT, || {
        let (s, _) = out(&d.ctl(&["status", "sleeper"]));
        s.starts_with("sleeper                          RUNNING   pid ")
            .then_some(())
    });
    // A STOPPED process makes `status` exit 3.
    let (s, rc) = out(&d.ctl(&["status"]));
    assert!(
        s.contains("later                            STOPPED   Not started"),
        "{s}"
    );
    assert_eq!(rc, 3);
    assert_eq!(
        out(&d.ctl(&["start", "later"])),
        ("later: started\n".into(), 0)
    );
    assert_eq!(
        out(&d.ctl(&["start", "later"])),
        ("later: ERROR (already started)\n".into(), 0)
    );
    assert_eq!(
        out(&d.ctl(&["stop", "later"])),
        ("later: stopped\n".into(), 0)
    );
    assert_eq!(
        out(&d.ctl(&["stop", "later"])),
        ("later: ERROR (not running)\n".into(), 0)
    );
    assert_eq!(
        out(&d.ctl(&["start", "nosuch"])),
        ("nosuch: ERROR (no such process)\n".into(), 1)
    );
    assert_eq!(
        out(&d.ctl(&["start", "broken"])),
        ("broken: ERROR (no such file)\n".into(), 1)
    );
    let pid = d.spawned_pid("sleeper").unwrap();
    assert_eq!(out(&d.ctl(&["pid", "sleeper"])), (format!("{pid}\n"), 0));
    assert_eq!(out(&d.ctl(&["pid"])), (format!("{}\n", d.pid), 0));
    assert_eq!(out(&d.ctl(&["version"])), ("4.3.0\n".into(), 0));
    // Stopping through the socket waits for the exit and is logged once.
    assert_eq!(
        out(&d.ctl(&["stop", "sleeper"])),
        ("sleeper: stopped\n".into(), 0)
    );
    assert_eq!(d.log_count("stopped: sleeper (terminated by SIGTERM)"), 1);
    assert!(!alive(pid));
}

#[test]
fn reread_and_update_apply_a_config_change() {
    let d = Daemon::start("[program:one]\ncommand=sleep 1000\nstartsecs=0\n");
    let first = d.wait_spawned("one", 1);
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(
        &d.conf,
        format!("{conf}\n[program:two]\ncommand=sleep 1000\nstartsecs=0\n"),
    )
    .unwrap();
    assert_eq!(out(&d.ctl(&["reread"])), ("two: available\n".into(), 0));
    assert_eq!(
        out(&d.ctl(&["update"])),
        ("two: added process group\n".into(), 0)
    );
    d.wait_spawned("two", 1);
    // The unchanged program kept running with the same pid.
    assert_eq!(d.spawned_pid("one"), Some(first));
    assert!(alive(first));
    // A broken config is refused and nothing running is touched.
    std::fs::write(
        &d.conf,
        format!("{conf}\n[program:bad]\ncommand=x\nstartsecs=soon\n"),
    )
    .unwrap();
    let (s, rc) = out(&d.ctl(&["reread"]));
    assert!(s.starts_with("ERROR: CANT_REREAD: "), "{s}");
    assert!(s.contains("startsecs"), "names the option: {s}");
    assert_eq!(rc, 1);
    assert!(alive(first));
}

#[test]
fn daemon_down_is_reported_like_supervisorctl() {
    let mut d = Daemon::start("[program:x]\ncommand=sleep 1000\nstartsecs=0\n");
    d.wait_spawned("x", 1);
    assert_eq!(d.stop(), Some(0));
    let (s, rc) = out(&d.ctl(&["status"]));
    assert_eq!(
        s,
        format!("unix://{} no such file\n", d.path("ctl.sock").display())
    );
    assert_eq!(rc, 4);
}

/// `pidvisorctl` through a config holding only a good `[supervisorctl]`,
/// for daemons whose own config has a `[supervisorctl]` the client refuses.
fn ctl_aside(d: &Daemon, args: &[&str]) -> (String, i32) {
    let conf = d.path("ctl-only.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisorctl]\nserverurl=unix://{}\n",
            d.path("ctl.sock").display()
        ),
    )
    .unwrap();
    out(
        &std::process::Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
            .arg("-c")
            .arg(&conf)
            .args(args)
            .output()
            .unwrap(),
    )
}

#[test]
fn a_bad_supervisorctl_section_does_not_stop_the_daemon_or_reread() {
    // supervisord never reads [supervisorctl]: it starts, and rereads.
    let d = Daemon::start(
        "[program:a]\ncommand=sleep 1000\nstartsecs=0\n\
         [supervisorctl]\nhistory_file=%(ENV_PIDVISOR_IT_UNSET)s/h\n",
    );
    d.wait_spawned("a", 1);
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(
        &d.conf,
        format!(
            "{conf}\n[supervisorctl]\nprompt=50%\nserverurl=notaurl\n\
             [program:b]\ncommand=sleep 1000\nstartsecs=0\n"
        ),
    )
    .unwrap();
    assert_eq!(ctl_aside(&d, &["reread"]), ("b: available\n".into(), 0));
    // The client itself still reports the section's problems.
    let (s, rc) = out(&d.ctl(&["status"]));
    assert_ne!(rc, 0, "{s}");
    assert!(s.contains("'supervisorctl.history_file'"), "{s}");
}

#[test]
fn supervisord_environment_change_is_a_change_on_reread_and_update() {
    let d = Daemon::prepare(
        "[program:a]\ncommand=sh -c 'echo XS=$XS >> %(here)s/a.env; exec sleep 1000'\nstartsecs=0\n\
         [program:b]\ncommand=sleep 1000\nstartsecs=0\nenvironment=XS=own\n",
    );
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(
        &d.conf,
        conf.replacen("[supervisord]\n", "[supervisord]\nenvironment=XS=1\n", 1),
    )
    .unwrap();
    let d = d.launch();
    d.wait_spawned("a", 1);
    let b = d.wait_spawned("b", 1);
    wait_for("a's first environment", TIMEOUT, || {
        let t = std::fs::read_to_string(d.path("a.env")).ok()?;
        (t == "XS=1\n").then_some(())
    });
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(
        &d.conf,
        conf.replace("environment=XS=1\n", "environment=XS=2\n"),
    )
    .unwrap();
    // Supervisor: every program's environment includes the supervisord one;
    // b's own XS wins before and after, so b is unchanged.
    assert_eq!(out(&d.ctl(&["reread"])), ("a: changed\n".into(), 0));
    out(&d.ctl(&["update"]));
    d.wait_spawned("a", 2);
    wait_for("a restarted with XS=2", TIMEOUT, || {
        let t = std::fs::read_to_string(d.path("a.env")).ok()?;
        (t == "XS=1\nXS=2\n").then_some(())
    });
    assert_eq!(d.spawned_pid("b"), Some(b));
    assert!(proc_environ(b).contains(&"XS=own".to_string()));
    // A key taken out of [supervisord] environment is gone from the next run.
    let conf = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(&d.conf, conf.replace("environment=XS=2\n", "")).unwrap();
    assert_eq!(out(&d.ctl(&["reread"])), ("a: changed\n".into(), 0));
    out(&d.ctl(&["update"]));
    d.wait_spawned("a", 3);
    wait_for("a restarted without XS", TIMEOUT, || {
        let t = std::fs::read_to_string(d.path("a.env")).ok()?;
        (t == "XS=1\nXS=2\nXS=\n").then_some(())
    });
}
