//! Issue 4: the daemon runs programs. Everything is observed from outside:
//! the main log (Supervisor's messages), `/proc`, and files the children write.

use crate::fixture::*;
use std::fs;
use std::process::Command;
use std::time::Duration;

/// A main-log line's timestamp (`YYYY-MM-DD HH:MM:SS,mmm LEVL ...`) in
/// seconds: the whole date counts, so a test running across midnight
/// compares the right instants.
fn stamp(line: &str) -> f64 {
    let t = chrono::NaiveDateTime::parse_from_str(&line[..23], "%Y-%m-%d %H:%M:%S,%3f")
        .unwrap_or_else(|e| panic!("no timestamp in {line:?}: {e}"));
    t.and_utc().timestamp_millis() as f64 / 1000.0
}

fn lines_with<'a>(log: &'a str, text: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(text)).collect()
}

#[test]
fn autostart_then_running_after_startsecs() {
    let d = Daemon::start("[program:sleeper]\ncommand=sleep 1000\nstartsecs=1\n");
    let pid = d.wait_spawned("sleeper", 1);
    assert!(alive(pid));
    assert_eq!(proc_ppid(pid), Some(d.pid), "children are the daemon's own");
    let log = d.wait_log(
        "success: sleeper entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
    );
    // RUNNING is declared no earlier than startsecs after the spawn. The log
    // stamps are cut to milliseconds and written after the core noted the
    // time, so the bound leaves room for that; load only makes it later.
    let spawned = stamp(lines_with(&log, "spawned: 'sleeper'")[0]);
    let running = stamp(lines_with(&log, "success: sleeper")[0]);
    assert!(
        running - spawned >= 0.9,
        "RUNNING after {}s",
        running - spawned
    );
    // Own process group, like Supervisor's setpgrp.
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let pgrp: u32 = stat
        .rsplit(") ")
        .next()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(pgrp, pid);
}

/// Retry k of a program that keeps exiting too quickly comes k seconds
/// after its k-th failure. Each run writes the time (`date`, nanoseconds)
/// as its last act before exiting: run k+1's stamp comes after its spawn,
/// which comes k seconds after the daemon reaped run k, which is after
/// run k's stamp. So the stamps must be at least k apart, with no margin:
/// load on the machine only makes them further apart.
#[test]
fn too_quick_exits_back_off_then_fatal_with_linear_spacing() {
    let d = Daemon::start(
        "[program:quick]\ncommand=sh -c 'date +%%s.%%N >> %(here)s/runs; exit 0'\n\
         startsecs=1\nstartretries=3\nautorestart=true\n",
    );
    let log = d.wait_log("gave up: quick entered FATAL state, too many start retries too quickly");
    assert_eq!(
        lines_with(&log, "spawned: 'quick'").len(),
        4,
        "startretries + 1 attempts:\n{log}"
    );
    assert_eq!(lines_with(&log, "exited: quick").len(), 4, "{log}");
    let runs: Vec<f64> = fs::read_to_string(d.path("runs"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(runs.len(), 4, "{runs:?}");
    for k in 1..4 {
        let gap = runs[k] - runs[k - 1];
        assert!(
            gap >= k as f64,
            "retry {k} came {gap}s after failure {k}:\n{log}"
        );
    }
    assert!(
        log.contains("exited: quick (exit status 0; not expected)"),
        "{log}"
    );
}

#[test]
fn autorestart_true_false_unexpected() {
    let d = Daemon::start(
        "[program:always]\ncommand=sh -c 'sleep 0.1; exit 0'\nstartsecs=0\nautorestart=true\n\
         [program:never]\ncommand=sh -c 'sleep 0.1; exit 3'\nstartsecs=0\nautorestart=false\n\
         [program:unexp_ok]\ncommand=sh -c 'sleep 0.1; exit 0'\nstartsecs=0\nautorestart=unexpected\n\
         [program:unexp_bad]\ncommand=sh -c 'sleep 0.1; exit 3'\nstartsecs=0\nautorestart=unexpected\n\
         [program:unexp_listed]\ncommand=sh -c 'sleep 0.1; exit 3'\nstartsecs=0\nautorestart=unexpected\nexitcodes=0,3\n",
    );
    // `always` restarts forever; while it restarts 5 times, the others have
    // long had their chance to restart.
    d.wait_log_count("spawned: 'always'", 6);
    d.wait_log_count("spawned: 'unexp_bad'", 3);
    let log = d.main_log();
    assert_eq!(lines_with(&log, "spawned: 'never'").len(), 1, "{log}");
    assert_eq!(lines_with(&log, "spawned: 'unexp_ok'").len(), 1, "{log}");
    assert_eq!(
        lines_with(&log, "spawned: 'unexp_listed'").len(),
        1,
        "{log}"
    );
    assert!(log.contains("exited: never (exit status 3; not expected)"));
    assert!(log.contains("exited: unexp_ok (exit status 0; expected)"));
    assert!(log.contains("exited: unexp_listed (exit status 3; expected)"));
    assert!(log.contains("exited: always (exit status 0; expected)"));
}

/// A program that exits at once is restarted a second after its last
/// start, not flat out (Supervisor's 1 s loop gave the same bound).
#[test]
fn crash_loop_restarts_are_a_second_apart() {
    let d =
        Daemon::start("[program:crashy]\ncommand=sh -c 'exit 1'\nstartsecs=0\nautorestart=true\n");
    let log = d.wait_log_count("spawned: 'crashy'", 3);
    let spawns: Vec<f64> = lines_with(&log, "spawned: 'crashy'")
        .iter()
        .map(|l| stamp(l))
        .collect();
    for pair in spawns.windows(2) {
        // A second from one decision to spawn to the next; the stamps come
        // after each fork and are cut to milliseconds, hence the margin.
        assert!(pair[1] - pair[0] >= 0.9, "restarts {pair:?} apart:\n{log}");
    }
}

/// When a process exits, our ends of its output pipes are closed once what
/// it wrote is read (Supervisor's `finish()`): what it left behind gets EPIPE.
/// The orphan writes only once the test has seen the exit in the main log
/// (the pipes are closed before that line is written), never after a
/// guessed delay.
#[test]
fn output_pipes_close_when_the_process_exits() {
    let d = Daemon::start(
        "[program:o]\ncommand=sh -c '(i=0; while [ ! -e %(here)s/go ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; \
         if echo orphan-line; then r=wrote; else r=epipe; fi; echo $r > %(here)s/orphan.result) & echo main-line; exit 3'\n\
         startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/o.out\n",
    );
    d.wait_log("exited: o (exit status 3; not expected)");
    fs::write(d.path("go"), "").unwrap();
    assert_eq!(wait_file(&d.path("orphan.result")).trim(), "epipe");
    assert_eq!(fs::read_to_string(d.path("o.out")).unwrap(), "main-line\n");
}

/// At `loglevel=debug` every chunk of output is copied into the main log,
/// as Supervisor does.
#[test]
fn debug_level_copies_output_into_the_main_log() {
    let d = Daemon::start(
        "[program:talker]\ncommand=sh -c 'echo hello-main; echo oops >&2; exec sleep 1000'\n\
         stdout_logfile=NONE\n\n[supervisord]\nloglevel=debug\nlogfile={dir}/main.log\n\
         pidfile={dir}/pidvisord.pid\nchildlogdir={dir}\n\n[unix_http_server]\nfile={dir}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n",
    );
    d.wait_log("DEBG 'talker' stdout output:\nhello-main\n");
    d.wait_log("DEBG 'talker' stderr output:\noops\n");
}

/// SIGHUP runs the start-up again, as Supervisor's `main()` does: its CRITs
/// are logged again and the programs start anew.
#[test]
fn sighup_restarts_with_the_start_up_messages() {
    if !crate::skip::need_root("the start-up CRIT about running as root") {
        return;
    }
    let d = Daemon::start("[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
    let first = d.wait_spawned("s", 1);
    d.signal(1);
    d.wait_log_count("supervisord started with pid", 2);
    let second = d.wait_spawned("s", 2);
    assert_ne!(first, second);
    let log = d.main_log();
    assert!(
        log.contains("WARN received SIGHUP indicating restart request"),
        "{log}"
    );
    assert_eq!(
        lines_with(&log, "CRIT Supervisor is running as root.").len(),
        2,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, "running without any HTTP authentication checking").len(),
        2,
        "{log}"
    );
}

/// A restart (SIGHUP or `reload`) on a config that no longer loads is
/// refused before anything is stopped: the error is in the main log with its
/// file and line, and every program keeps running.
#[test]
fn restart_with_a_broken_config_keeps_everything_running() {
    let d = Daemon::start("[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
    let pid = d.wait_spawned("s", 1);
    let good = fs::read_to_string(&d.conf).unwrap();
    fs::write(
        &d.conf,
        format!("{good}\n[program:bad]\ncommand=sleep 1\nstartsecs=soon\n"),
    )
    .unwrap();
    d.signal(1);
    let log = d.wait_log("not restarting: the configuration does not load");
    assert!(
        log.contains("WARN received SIGHUP indicating restart request"),
        "{log}"
    );
    assert!(log.contains("[program:bad] startsecs"), "{log}");
    let out = d.ctl(&["reload"]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(d.log_count("not restarting:"), 2);
    // Nothing was stopped; the daemon still answers and the program runs.
    let status = d.ctl(&["status", "s"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains(&format!("RUNNING   pid {pid},")), "{text}");
    assert!(alive(pid));
    assert_eq!(d.log_count("supervisord started with pid"), 1);
    // Fixed, the restart goes through.
    fs::write(&d.conf, good).unwrap();
    d.signal(1);
    d.wait_log_count("supervisord started with pid", 2);
    d.wait_spawned("s", 2);
}

/// A second daemon on a config whose socket is live is refused before it
/// touches anything, so the first one's AUTO logs stay.
#[test]
fn second_daemon_is_refused_before_cleaning_auto_logs() {
    let d = Daemon::start("[program:talker]\ncommand=sh -c 'echo hi; exec sleep 1000'\n");
    d.wait_spawned("talker", 1);
    let auto = wait_for("the AUTO log", TIMEOUT, || {
        fs::read_dir(d.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("talker-stdout---")
            })
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(["-n", "-c"])
        .arg(&d.conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(auto.exists(), "the running daemon's AUTO log was deleted");
    assert_eq!(wait_file(&auto), "hi\n");
}

/// A log that cannot be written is reported once in the main log, not per
/// chunk and not never.
#[test]
fn a_failing_log_write_is_reported_once() {
    let d = Daemon::start(
        "[program:full]\ncommand=sh -c 'for i in 1 2 3 4 5; do echo line $i; sleep 0.05; done; exec sleep 1000'\n\
         stdout_logfile=/dev/full\n",
    );
    let log = d.wait_log("could not write stdout output of full to /dev/full");
    assert!(
        log.contains("ERRO could not write stdout output of full"),
        "{log}"
    );
    d.wait_spawned("full", 1);
    wait_for("the five lines to be written", TIMEOUT, || {
        let pid = d.spawned_pid("full")?;
        let cmd = fs::read_to_string(format!("/proc/{pid}/cmdline")).ok()?;
        cmd.starts_with("sleep").then_some(())
    });
    assert_eq!(d.log_count("could not write stdout output of full"), 1);
}

#[test]
fn kill_9_respawns_with_a_new_pid() {
    let d = Daemon::start("[program:victim]\ncommand=sleep 1000\nstartsecs=0\n");
    let first = d.wait_spawned("victim", 1);
    send(first, 9);
    let second = d.wait_spawned("victim", 2);
    assert_ne!(first, second);
    assert!(alive(second));
    assert!(d
        .main_log()
        .contains("exited: victim (terminated by SIGKILL; not expected)"));
}

#[test]
fn shutdown_escalates_to_sigkill_for_a_term_ignoring_child() {
    let mut d = Daemon::start(
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; echo ready; while :; do sleep 0.05; done'\n\
         startsecs=0\nstopwaitsecs=1\nstdout_logfile={dir}/stubborn.log\n",
    );
    let pid = d.wait_spawned("stubborn", 1);
    wait_file(&d.path("stubborn.log")); // the trap is installed
    assert_eq!(d.stop(), Some(0), "shutdown exits 0");
    let log = d.main_log();
    assert!(
        log.contains("received SIGTERM indicating exit request"),
        "{log}"
    );
    assert!(
        log.contains(&format!("killing 'stubborn' ({pid}) with SIGKILL")),
        "{log}"
    );
    assert!(
        log.contains("stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
    assert!(!alive(pid));
}

/// User + system CPU time of a process so far, in clock ticks (1/100 s),
/// from `/proc/PID/stat` (all its threads).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13
    // after "pid (comm) ".
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// A stop waits without burning CPU: while a program that ignores SIGTERM
/// runs out its stopwaitsecs, the daemon's own CPU time grows by a small
/// fraction of the wall time (a polling wait would use most of it).
#[test]
fn a_stop_waits_without_burning_cpu() {
    let d = Daemon::start(
        "[program:stubborn]\ncommand=sh -c 'trap \"\" TERM; echo ready; while :; do sleep 0.05; done'\n\
         startsecs=0\nstopwaitsecs=3\nstdout_logfile={dir}/stubborn.log\n",
    );
    d.wait_spawned("stubborn", 1);
    wait_file(&d.path("stubborn.log")); // the trap is installed
    let (cpu_before, start) = (cpu_ticks(d.pid), pidvisor::clock::mono());
    let o = d.ctl(&["stop", "stubborn"]);
    let wall = start.elapsed();
    let cpu = cpu_ticks(d.pid) - cpu_before;
    assert_eq!(String::from_utf8_lossy(&o.stdout), "stubborn: stopped\n");
    assert!(
        d.main_log().contains("killing 'stubborn'"),
        "{}",
        d.main_log()
    );
    assert!(
        wall >= Duration::from_secs(3),
        "the stop took only {wall:?}"
    );
    let cpu_secs = cpu as f64 / 100.0;
    assert!(
        cpu_secs < wall.as_secs_f64() / 15.0,
        "the daemon used {cpu_secs} s of CPU during a {wall:?} stop"
    );
}

#[test]
fn priority_orders_start_and_reverse_orders_shutdown() {
    let mut d = Daemon::start(
        "[program:c]\ncommand=sleep 1000\npriority=300\nstartsecs=0\n\
         [program:a]\ncommand=sleep 1000\npriority=100\nstartsecs=0\n\
         [program:b]\ncommand=sleep 1000\npriority=200\nstartsecs=0\n",
    );
    d.wait_spawned("c", 1);
    let log = d.main_log();
    let pos = |t: &str| log.find(t).unwrap_or_else(|| panic!("{t} missing:\n{log}"));
    assert!(pos("spawned: 'a'") < pos("spawned: 'b'"));
    assert!(pos("spawned: 'b'") < pos("spawned: 'c'"));
    assert_eq!(d.stop(), Some(0));
    let log = d.main_log();
    let pos = |t: &str| log.find(t).unwrap_or_else(|| panic!("{t} missing:\n{log}"));
    assert!(pos("stopped: c") < pos("stopped: b"));
    assert!(pos("stopped: b") < pos("stopped: a"));
}

#[test]
fn user_nobody_drops_groups_ids_and_capabilities() {
    if !crate::skip::need_root("to run a program as nobody") {
        return;
    }
    let d = Daemon::start("[program:low]\ncommand=sleep 1000\nuser=nobody\nstartsecs=0\n");
    let pid = d.wait_spawned("low", 1);
    wait_for("the exec as nobody", TIMEOUT, || {
        (proc_status(pid, "Uid")? == "65534\t65534\t65534\t65534").then_some(())
    });
    assert_eq!(
        proc_status(pid, "Gid").unwrap(),
        "65534\t65534\t65534\t65534"
    );
    assert_eq!(proc_status(pid, "Groups").unwrap(), "65534");
    for cap in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
        assert_eq!(proc_status(pid, cap).unwrap(), "0000000000000000", "{cap}");
    }
    // The uid changes before execve; the environment is the program's
    // only once the exec is done.
    let env = wait_for("the program's own environment", TIMEOUT, || {
        let env = proc_environ(pid);
        env.contains(&"USER=nobody".to_string()).then_some(env)
    });
    assert!(env.contains(&"LOGNAME=nobody".to_string()), "{env:?}");
    assert!(env.contains(&"HOME=/nonexistent".to_string()), "{env:?}");
}

#[test]
fn directory_umask_environment_and_expansions() {
    let d = Daemon::prepare(
        "[supervisord]\nlogfile={dir}/main.log\npidfile={dir}/p.pid\nchildlogdir={dir}\n\
         environment=DAEMON_VAR=\"from-daemon\",OVERRIDE=\"daemon\"\n\
         [program:envy]\ncommand=sh -c 'pwd > %(here)s/pwd.txt; umask > %(here)s/umask.txt; \
         echo \"$FOO|$OVERRIDE|$DAEMON_VAR|$SUPERVISOR_ENABLED|$SUPERVISOR_PROCESS_NAME|$SUPERVISOR_GROUP_NAME\" > %(here)s/env.txt; exec sleep 1000'\n\
         directory={dir}/work\numask=027\nstartsecs=0\n\
         environment=FOO=\"%(program_name)s-%(process_num)d\",OVERRIDE=\"program\"\n",
    );
    fs::create_dir(d.path("work")).unwrap();
    let d = d.launch();
    d.wait_spawned("envy", 1);
    assert_eq!(
        wait_file(&d.path("pwd.txt")).trim(),
        d.path("work").to_str().unwrap()
    );
    assert_eq!(wait_file(&d.path("umask.txt")).trim(), "0027");
    assert_eq!(
        wait_file(&d.path("env.txt")).trim(),
        "envy-0|program|from-daemon|1|envy|envy"
    );
}

#[test]
fn numprocs_names_and_group() {
    let d = Daemon::start(
        "[program:pool]\ncommand=sh -c 'echo %(process_num)02d > %(here)s/pool_%(process_num)02d; exec sleep 1000'\n\
         process_name=%(program_name)s_%(process_num)02d\nnumprocs=3\nnumprocs_start=1\nstartsecs=0\n",
    );
    for n in 1..=3 {
        d.wait_spawned(&format!("pool_{n:02}"), 1);
        assert_eq!(
            wait_file(&d.path(&format!("pool_{n:02}"))).trim(),
            format!("{n:02}")
        );
    }
}

#[test]
fn log_files_path_auto_none_and_redirect() {
    let d = Daemon::start(
        "[program:paths]\ncommand=sh -c 'echo out; echo err >&2; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile={dir}/paths.out\nstderr_logfile={dir}/paths.err\n\
         [program:auto]\ncommand=sh -c 'echo auto-out; echo auto-err >&2; exec sleep 1000'\nstartsecs=0\n\
         [program:none]\ncommand=sh -c 'echo nothing; exec sleep 1000'\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n\
         [program:redir]\ncommand=sh -c 'echo one; echo two >&2; exec sleep 1000'\nstartsecs=0\n\
         redirect_stderr=true\nstdout_logfile={dir}/redir.log\n",
    );
    assert_eq!(wait_file(&d.path("paths.out")), "out\n");
    assert_eq!(wait_file(&d.path("paths.err")), "err\n");
    let redir = wait_for("both lines in redir.log", TIMEOUT, || {
        let s = fs::read_to_string(d.path("redir.log")).ok()?;
        (s.lines().count() == 2).then_some(s)
    });
    assert!(redir.contains("one\n") && redir.contains("two\n"));
    // AUTO: <childlogdir>/<name>-<channel>---<identifier>-<random>.log
    let auto = |channel: &str| {
        wait_for(&format!("AUTO {channel} log"), TIMEOUT, || {
            fs::read_dir(d.dir.path()).unwrap().flatten().find_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                let ok =
                    n.starts_with(&format!("auto-{channel}---supervisor-")) && n.ends_with(".log");
                let body = fs::read_to_string(e.path()).ok()?;
                (ok && !body.is_empty()).then_some((n, body))
            })
        })
    };
    let (name, body) = auto("stdout");
    assert_eq!(body, "auto-out\n");
    assert_eq!(
        name.len(),
        "auto-stdout---supervisor-".len() + 8 + ".log".len(),
        "{name}"
    );
    assert_eq!(auto("stderr").1, "auto-err\n");
    d.wait_spawned("none", 1);
    let none_files: Vec<_> = fs::read_dir(d.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("none-"))
        .collect();
    assert!(none_files.is_empty());
    // No stderr log exists for the redirected program.
    assert!(!fs::read_dir(d.dir.path())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("redir-stderr")));
}

#[test]
fn rotation_names_and_byte_exact_reassembly() {
    // 150000 numbered lines (~1 MiB) written as fast as `seq` can, into 64 KiB
    // files with enough backups to keep everything: reassembled, the files
    // must equal the output exactly.
    let d = Daemon::start(
        "[program:fast]\ncommand=sh -c 'seq 1 150000; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile={dir}/fast.log\nstdout_logfile_maxbytes=64KB\nstdout_logfile_backups=40\n\
         [program:small]\ncommand=sh -c 'seq 1 2000; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile={dir}/small.log\nstdout_logfile_maxbytes=1KB\nstdout_logfile_backups=2\n",
    );
    let expected: String = (1..=150000).map(|n| format!("{n}\n")).collect();
    let got = wait_for("all of seq's output in fast.log*", TIMEOUT, || {
        let mut all = Vec::new();
        for i in (1..=40).rev() {
            if let Ok(b) = fs::read(d.path(&format!("fast.log.{i}"))) {
                all.extend(b);
            }
        }
        all.extend(fs::read(d.path("fast.log")).ok()?);
        (all.len() >= expected.len()).then_some(all)
    });
    assert!(
        got == expected.as_bytes(),
        "reassembled output differs ({} bytes vs {})",
        got.len(),
        expected.len()
    );
    for i in 1..=40 {
        if let Ok(m) = fs::metadata(d.path(&format!("fast.log.{i}"))) {
            assert!(m.len() >= 64 * 1024, "a backup is only rotated when full");
        }
    }
    // With backups=2 at most small.log, .1 and .2 exist; rotation happens
    // after a write, so the newest data may sit in .1 with small.log empty.
    wait_for("small's output to end", TIMEOUT, || {
        let mut all = Vec::new();
        for name in ["small.log.2", "small.log.1", "small.log"] {
            all.extend(fs::read(d.path(name)).unwrap_or_default());
        }
        all.ends_with(b"\n2000\n").then_some(())
    });
    assert!(d.path("small.log.1").exists());
    assert!(!d.path("small.log.3").exists());
}

#[test]
fn sigusr2_reopens_child_and_main_logs() {
    let d = Daemon::start(
        "[program:ticker]\ncommand=sh -c 'while :; do echo tick; sleep 0.05; done'\nstartsecs=0\n\
         stdout_logfile={dir}/ticker.log\n",
    );
    wait_file(&d.path("ticker.log"));
    fs::rename(d.path("ticker.log"), d.path("ticker.log.old")).unwrap();
    fs::rename(d.path("main.log"), d.path("main.log.old")).unwrap();
    d.signal(12);
    // Both files are created again at their configured paths and receive data.
    assert!(wait_file(&d.path("ticker.log")).contains("tick"));
    wait_for("main.log reopened", TIMEOUT, || {
        d.path("main.log").exists().then_some(())
    });
    let old = fs::read_to_string(d.path("main.log.old")).unwrap();
    assert!(
        old.contains("received SIGUSR2 indicating log reopen request"),
        "{old}"
    );
}

#[test]
fn spawn_errors_missing_command_and_bad_directory() {
    let d = Daemon::start(
        "[program:missing]\ncommand=/no/such/command\nstartretries=0\n\
         [program:baddir]\ncommand=sleep 1000\ndirectory=/no/such/dir\nstartretries=0\n\
         stderr_logfile={dir}/baddir.err\n",
    );
    let log = d.wait_log("gave up: missing entered FATAL state");
    assert!(
        log.contains("spawnerr: can't find command '/no/such/command'"),
        "{log}"
    );
    d.wait_log("gave up: baddir entered FATAL state");
    let err = wait_file(&d.path("baddir.err"));
    assert!(
        err.contains("supervisor: couldn't chdir to /no/such/dir: ENOENT"),
        "{err}"
    );
    assert!(
        err.contains("supervisor: child process was not spawned"),
        "{err}"
    );
}

#[test]
fn unknown_user_is_a_config_error_and_nothing_starts() {
    let d = Daemon::prepare("[program:x]\ncommand=sleep 1000\nuser=no_such_user_here\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(["-n", "-c"])
        .arg(&d.conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Invalid user name no_such_user_here"), "{err}");
    assert!(err.contains("For help, use"), "{err}");
}

#[test]
fn idle_daemon_with_100_programs_makes_no_context_switches() {
    let d = Daemon::start(
        "[program:idle]\ncommand=sleep 100000\nprocess_name=idle_%(process_num)03d\nnumprocs=100\n\
         startsecs=1\nstdout_logfile=NONE\nstderr_logfile=NONE\n",
    );
    d.wait_log_count("success: idle_", 100);
    let switches = || -> u64 {
        let mut total = 0;
        for t in fs::read_dir(format!("/proc/{}/task", d.pid))
            .unwrap()
            .flatten()
        {
            let s = fs::read_to_string(t.path().join("status")).unwrap_or_default();
            for l in s.lines() {
                if l.starts_with("voluntary_ctxt_switches")
                    || l.starts_with("nonvoluntary_ctxt_switches")
                {
                    total += l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap();
                }
            }
        }
        total
    };
    // Let the last RUNNING transitions settle: the counter must be still for
    // one quiet second before the measured window starts.
    let mut before = switches();
    wait_for("the daemon to go idle", TIMEOUT, || {
        pidvisor::clock::sleep(Duration::from_secs(1));
        let now = switches();
        let still = now == before;
        before = now;
        still.then_some(())
    });
    // The measured window itself (a measurement, not a wait for a state).
    pidvisor::clock::sleep(Duration::from_secs(5));
    assert_eq!(switches(), before, "the idle daemon woke up");
}

#[test]
fn empty_logfile_options_run_the_program_without_a_log() {
    // Supervisor: stdout_logfile= (or an empty expansion) is '' -> no log.
    let d = Daemon::start(
        "[program:e]\ncommand=sh -c 'echo out; echo err >&2; echo done > %(here)s/e.done; exec sleep 1000'\n\
         startsecs=0\nstdout_logfile=\nenvironment=EMPTY=\"\"\nstderr_logfile=%(ENV_EMPTY)s\n",
    );
    let pid = d.wait_spawned("e", 1);
    // The program has written both lines (and then its marker).
    wait_file(&d.path("e.done"));
    assert!(alive(pid));
    assert!(!d.main_log().contains("spawnerr"), "{}", d.main_log());
    let o = d.ctl(&["status", "e"]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.starts_with("e                                RUNNING   pid "),
        "{s}"
    );
    // No log file anywhere the daemon could have made one: not in the
    // childlogdir (AUTO), nor the config's or the daemon's directory
    // under an empty name; only the files the test expects are there.
    let mut files: Vec<String> = fs::read_dir(d.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "ctl.sock",
            "daemon.out",
            "e.done",
            "main.log",
            "pidvisord.conf",
            "pidvisord.pid"
        ],
        "files in the temp dir"
    );
    // And the daemon knows of none.
    for channel in ["stdout", "stderr"] {
        let out = d.ctl(&["tail", "e", channel]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "e: ERROR (no log file)\n",
            "{channel}"
        );
    }
}

/// A daemon started with SIGCHLD, SIGINT and SIGQUIT ignored (a launcher
/// that ignores SIGCHLD, or `pidvisord -n &` in a script for the other
/// two) still gets each child's exit status (an ignored SIGCHLD makes the
/// kernel reap children itself) and still stops on SIGINT and SIGQUIT, as
/// supervisord does.
#[test]
fn inherited_ignored_signals_change_nothing() {
    let Some(py) = python() else { return };
    for (sig, name) in [(2, "SIGINT"), (3, "SIGQUIT")] {
        // SIG_IGN survives exec.
        let mut python = Command::new(&py);
        python
            .arg("-c")
            .arg(
                "import os, signal, sys\n\
                 for s in (signal.SIGCHLD, signal.SIGINT, signal.SIGQUIT):\n    \
                     signal.signal(s, signal.SIG_IGN)\n\
                 os.execv(sys.argv[1], sys.argv[1:])",
            )
            .arg(env!("CARGO_BIN_EXE_pidvisord"));
        let mut d = Daemon::prepare(
            "[program:quits]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n\
             [program:stays]\ncommand=sleep 1000\nstartsecs=0\n",
        )
        .launch_by(python);
        d.wait_spawned("stays", 1);
        let log = d.wait_log("exited: quits (exit status 3; not expected)");
        assert!(!log.contains("waitid"), "{log}");
        d.signal(sig);
        let mut child = d.child.take().unwrap();
        let status = wait_for(&format!("pidvisord to exit on {name}"), TIMEOUT, || {
            child.try_wait().ok().flatten()
        });
        assert_eq!(status.code(), Some(0), "{name}");
        d.wait_log(&format!("received {name} indicating exit request"));
    }
}
