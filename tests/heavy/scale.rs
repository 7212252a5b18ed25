//! Issue 20: a daemon that answers while it works. During a `start all` of
//! 2000 programs, a client's `getState` and a `stop` of one program (the
//! last of the batch, whose spawn is still queued) are answered before the
//! batch is done, and the stop takes effect. No timing
//! is asserted: "during the batch" is read from the main log (fewer than
//! 2000 `spawned:` lines when the answers came).

use std::process::{Command, Stdio};

use crate::fixture::*;

const N: usize = 2000;

/// Python's xmlrpc.client (through `tests/compat/rpc.py`'s transport): one
/// thread starts everything, and once the first spawn is in the main log
/// the main thread asks getState and stops the last program, noting how
/// many spawns the main log held at each answer. Prints one JSON record.
const DRIVER: &str = r#"
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
import rpc
url, log, n, last = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def spawned():
    with open(log, errors="replace") as f:
        return f.read().count("spawned: ")
out = {}
def start_all():
    out["start"] = rpc.call(url, "supervisor.startAllProcesses", [False])
t = threading.Thread(target=start_all)
t.start()
deadline = time.monotonic() + 120
while spawned() == 0:
    if time.monotonic() > deadline:
        sys.exit("no spawn within 120 s")
    time.sleep(0.001)
out["state"] = rpc.call(url, "supervisor.getState", [])
out["spawned_at_state"] = spawned()
out["stop"] = rpc.call(url, "supervisor.stopProcess", [last, False])
out["spawned_at_stop"] = spawned()
t.join()
out["spawned_at_end"] = spawned()
print(json.dumps(out))
"#;

#[test]
fn requests_are_answered_during_a_start_all_of_2000() {
    let _alone = crate::one_at_a_time();
    let Some(py) = python() else {
        return;
    };
    let d = Daemon::start(&format!(
        "[program:w]\ncommand=sleep 100000\nprocess_name=w_%(process_num)04d\n\
         numprocs={N}\nautostart=false\nstartsecs=0\nautorestart=false\n\
         stdout_logfile=NONE\nstderr_logfile=NONE\n"
    ));
    let url = format!("unix://{}", d.path("ctl.sock").display());
    let last = format!("w:w_{:04}", N - 1);
    let compat = rpc_script().parent().unwrap().to_path_buf();
    let out = Command::new(&py)
        .arg("-c")
        .arg(DRIVER)
        .arg(&compat)
        .arg(&url)
        .arg(d.path("main.log"))
        .arg(N.to_string())
        .arg(&last)
        .stdin(Stdio::null())
        .output()
        .expect("run the python driver");
    assert!(
        out.status.success(),
        "driver: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rec: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("driver prints JSON");
    let start = rec["start"].take();
    assert_eq!(rec["state"]["result"]["statename"], "RUNNING", "{rec}");
    assert_eq!(rec["stop"]["result"], true, "{rec}");
    let at = |k: &str| rec[k].as_u64().unwrap_or(u64::MAX);
    assert!(
        at("spawned_at_state") < N as u64,
        "getState was answered only after the batch: {rec}"
    );
    assert!(
        at("spawned_at_stop") < N as u64,
        "the stop was answered only after the batch: {rec}"
    );
    // Every start result is there; the stopped one may have been spawned
    // (and stopped at once) or not.
    let results = start["result"].as_array().expect("start results");
    assert_eq!(results.len(), N);
    // The stop took effect, and nothing else was stopped.
    let infos = xmlrpc_call(&py, &url, "supervisor.getAllProcessInfo", &[]);
    let infos = infos["result"].as_array().expect("process infos");
    assert_eq!(infos.len(), N);
    for info in infos {
        let name = format!("w:{}", info["name"].as_str().unwrap());
        let want = if name == last { "STOPPED" } else { "RUNNING" };
        assert_eq!(info["statename"], want, "{info}");
    }
    let log = d.main_log();
    if let Some(pid) = d.spawned_pid(&format!("w_{:04}", N - 1)) {
        assert!(!alive(pid), "the stopped program's process {pid} lives on");
        assert!(log.contains(&format!("stopped: w_{:04}", N - 1)));
    }
}
