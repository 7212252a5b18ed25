//! contrib/completions/pidvisorctl.bash completes actions and the names a
//! running daemon reports.

use crate::fixture::Daemon;
use std::process::Command;

/// Candidates bash would offer for `line` (cursor at the end).
fn complete(d: &Daemon, line: &str) -> Vec<String> {
    let script = format!(
        "{}/contrib/completions/pidvisorctl.bash",
        env!("CARGO_MANIFEST_DIR")
    );
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_pidvisorctl"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let line = line.replace("{conf}", d.conf.to_str().unwrap());
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {script}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
             _pidvisorctl; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
        .env("PATH", path)
        .current_dir(d.dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[test]
fn completes_actions_names_and_groups() {
    let d = Daemon::start(
        "[program:solo]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:web]\ncommand=sleep 1000\nstartsecs=0\nnumprocs=2\n\
         process_name=%(program_name)s_%(process_num)d\n",
    );
    d.wait_spawned("web_1", 1);
    assert_eq!(
        complete(&d, "pidvisorctl re"),
        ["reload", "remove", "reread", "restart"]
    );
    assert_eq!(complete(&d, "pidvisorctl help sh"), ["shutdown"]);
    assert_eq!(
        complete(&d, "pidvisorctl -c {conf} stop "),
        ["all", "solo", "web:*", "web:web_0", "web:web_1"]
    );
    // After a ':' bash replaces only what follows it.
    assert_eq!(
        complete(&d, "pidvisorctl -c {conf} start web:"),
        ["*", "web_0", "web_1"]
    );
    assert_eq!(complete(&d, "pidvisorctl -c {conf} signal H"), ["HUP"]);
    assert_eq!(complete(&d, "pidvisorctl -c {conf} update w"), ["web"]);
    assert_eq!(complete(&d, "pidvisorctl -c {conf} status --j"), ["--json"]);
}
