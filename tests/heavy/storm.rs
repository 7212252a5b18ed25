//! 1000 children of one daemon exit at the same instant: every exit is
//! reported with its own status, and no zombie is left.

use std::fs;

use crate::fixture::*;

#[test]
fn exit_storm_of_1000_children_every_status_right_no_zombie() {
    let _alone = crate::one_at_a_time();
    let d = Daemon::prepare(
        "[program:storm]\ncommand=sh -c 'exec < %(here)s/fifo; read x; exit %(process_num)d'\n\
         process_name=storm_%(process_num)04d\nnumprocs=1000\nstartsecs=0\nautorestart=false\n\
         stdout_logfile=NONE\nstderr_logfile=NONE\n",
    );
    let fifo = d.path("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // Hold the FIFO open so the children's open() does not block; closing it
    // then makes every child see EOF and exit at once.
    let writer = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let d = d.launch();
    d.wait_log_count("spawned: 'storm_", 1000);
    let log = d.main_log();
    let pids: Vec<u32> = (0..1000)
        .map(|n| {
            let needle = format!("spawned: 'storm_{n:04}' with pid ");
            let at = log.find(&needle).unwrap() + needle.len();
            log[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    wait_for("every child to hold the FIFO", TIMEOUT, || {
        pids.iter()
            .all(|p| {
                fs::read_link(format!("/proc/{p}/fd/0"))
                    .map(|l| l == fifo)
                    .unwrap_or(false)
            })
            .then_some(())
    });
    drop(writer);
    let log = d.wait_log_count("exited: storm_", 1000);
    for n in 0..1000 {
        let code = n % 256;
        let expected = if code == 0 {
            "expected"
        } else {
            "not expected"
        };
        let line = format!("exited: storm_{n:04} (exit status {code}; {expected})");
        assert!(log.contains(&line), "missing {line:?}");
    }
    let zombies: Vec<u32> = descendants(d.pid)
        .into_iter()
        .filter(|&p| !alive(p))
        .collect();
    assert!(zombies.is_empty(), "zombies left: {zombies:?}");
}
