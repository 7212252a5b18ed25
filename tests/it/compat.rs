//! Divergences from Supervisor 4.3 declared in pidvisord(8), section
//! COMPATIBILITY, asserted exactly (the tests comparing with the real
//! supervisord only cover the cases where its own answer is stable).

use crate::fixture::*;

/// `startProcess` of a program that exits at once. supervisord's answer
/// depends on when its loop notices the exit: with `startsecs` > 0,
/// SPAWN_ERROR, or ABNORMAL_TERMINATION when it notices only after
/// `startsecs`; with `startsecs=0`, success, or ABNORMAL_TERMINATION (exit
/// code expected) / SPAWN_ERROR (not expected) when the reap right after
/// its fork already finds the program gone. pidvisord sees every exit when
/// it happens: always SPAWN_ERROR in the first case, always success in
/// the second (the program was RUNNING at once).
#[test]
fn start_of_a_program_that_exits_at_once_is_answered_the_same_every_time() {
    let Some(py) = python() else { return };
    let d = Daemon::start(
        "[program:quick]\ncommand=/bin/true\nstartsecs=10\nstartretries=0\nautostart=false\n\n\
         [program:zero]\ncommand=/bin/true\nstartsecs=0\nautostart=false\nautorestart=false\n\n\
         [program:zerobad]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautostart=false\nautorestart=false\n",
    );
    let url = format!("unix://{}", d.path("ctl.sock").display());
    for round in 1..=5 {
        let r = xmlrpc_call(&py, &url, "supervisor.startProcess", &["\"quick\""]);
        assert_eq!(
            r,
            serde_json::json!({"fault": 50, "string": "SPAWN_ERROR: quick"}),
            "round {round}"
        );
        for name in ["zero", "zerobad"] {
            let r = xmlrpc_call(
                &py,
                &url,
                "supervisor.startProcess",
                &[&format!("\"{name}\"")],
            );
            assert_eq!(
                r,
                serde_json::json!({"result": true}),
                "{name}, round {round}"
            );
            d.wait_log_count(&format!("exited: {name} "), round);
        }
        d.wait_log_count("gave up: quick entered FATAL state", round);
    }
}
