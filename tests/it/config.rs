//! The configuration through the real binaries: bounded expansion and
//! numprocs (issue 21: config errors with file and line, from
//! `--check-config` and from a reload of a running daemon that must keep
//! its children), and the option defaults, which come from the option
//! tables (issue 14): the table, `pidvisord --example-config` and the
//! daemon's `getAllConfigInfo` (read with Python's xmlrpc.client) agree.

use std::fs;
use std::path::Path;
use std::process::Command;

use pidvisor::config::{
    self, info_fields, ConfigValue as InfoValue, InfoContext, OptionDefault, ProgramSpec,
};

use crate::fixture::*;

fn pidvisord(args: &[&str]) -> (String, String, i32) {
    let o = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

fn check_config(dir: &Path, text: &str) -> (String, i32) {
    let path = dir.join("check.conf");
    fs::write(&path, text).unwrap();
    let (out, err, rc) = pidvisord(&["--check-config", "-c", path.to_str().unwrap()]);
    (format!("{out}{err}"), rc)
}

/// The two format fields of issue 21 point 1, and what each is told.
const HUGE_FIELDS: [(&str, &str); 2] = [
    (
        "%(process_num)999999999999d",
        "badly formatted: width too big",
    ),
    (
        "%(process_num).999999999999d",
        "badly formatted: precision too big",
    ),
];

#[test]
fn issue21_huge_format_fields_are_config_errors_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (field, why) in HUGE_FIELDS {
        let text = format!("[supervisord]\n[program:c]\ncommand=/bin/echo {field}\n");
        let (out, rc) = check_config(dir.path(), &text);
        assert_eq!(rc, 1, "{out}");
        let file = dir.path().join("check.conf").display().to_string();
        assert_eq!(
            out,
            format!(
                "{file}:3: [program:c] command: Format string '/bin/echo {field}' for 'program:c.command' is {why}\n"
            )
        );
    }
}

/// Append `section` to the running daemon's config.
fn append(d: &Daemon, section: &str) -> String {
    let good = fs::read_to_string(&d.conf).unwrap();
    fs::write(&d.conf, format!("{good}\n{section}")).unwrap();
    good
}

/// The daemon and its child are alive, the child still the daemon's.
fn still_running(d: &Daemon, child: u32) {
    assert!(alive(d.pid), "pidvisord died");
    assert!(alive(child), "the program's process died");
    assert_eq!(proc_ppid(child), Some(d.pid), "the child was orphaned");
    let status = d.ctl(&["status", "s"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(text.contains(&format!("RUNNING   pid {child},")), "{text}");
}

#[test]
fn issue21_reload_with_a_huge_format_field_keeps_the_daemon_and_its_children() {
    let d = Daemon::start("[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
    let child = d.wait_spawned("s", 1);
    for (n, (field, why)) in HUGE_FIELDS.into_iter().enumerate() {
        let good = append(&d, &format!("[program:c]\ncommand=/bin/echo {field}\n"));
        // SIGHUP: the restart is refused before anything stops.
        d.signal(1);
        let log = d.wait_log_count("not restarting: the configuration does not load", n + 1);
        assert!(log.contains(why), "{log}");
        // reread: the error is the caller's, the running set untouched.
        let out = d.ctl(&["reread"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert_ne!(out.status.code(), Some(0), "{text}");
        assert!(text.contains("CANT_REREAD") && text.contains(why), "{text}");
        still_running(&d, child);
        fs::write(&d.conf, good).unwrap();
    }
    assert_eq!(d.spawned_pid("s"), Some(child), "s was restarted");
}

#[test]
fn issue21_numprocs_is_bounded_and_40000_processes_check() {
    let dir = tempfile::tempdir().unwrap();
    let program = |n: &str| {
        format!("[supervisord]\n[program:p]\ncommand=sleep 1\nprocess_name=p%(process_num)d\nnumprocs={n}\n")
    };
    let (out, rc) = check_config(dir.path(), &program("40000"));
    assert_eq!(rc, 0, "{out}");
    assert!(out.ends_with("OK (1 groups, 40000 processes)\n"), "{out}");
    let file = dir.path().join("check.conf").display().to_string();
    let (out, rc) = check_config(dir.path(), &program("99999999999999999999"));
    assert_eq!(rc, 1, "{out}");
    assert_eq!(
        out,
        format!("{file}:5: [program:p] numprocs: numprocs 99999999999999999999 is above the limit of 65536 processes\n")
    );
    // The limit is on the whole configuration too.
    let two = format!(
        "{}[program:q]\ncommand=sleep 1\nprocess_name=q%(process_num)d\nnumprocs=30000\n",
        program("40000")
    );
    let (out, rc) = check_config(dir.path(), &two);
    assert_eq!(rc, 1, "{out}");
    assert_eq!(
        out,
        format!("{file}:9: [program:q] numprocs: this section makes 70000 processes in the configuration, above the limit of 65536\n")
    );
}

#[test]
fn issue21_reread_of_numprocs_keeps_supervising() {
    let d = Daemon::start("[program:s]\ncommand=sleep 1000\nstartsecs=0\n");
    let child = d.wait_spawned("s", 1);
    let good = append(
        &d,
        "[program:many]\ncommand=sleep 1\nautostart=false\nprocess_name=m%(process_num)d\nnumprocs=40000\n",
    );
    let out = d.ctl(&["reread"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, "many: available\n");
    still_running(&d, child);
    fs::write(&d.conf, &good).unwrap();
    append(
        &d,
        "[program:many]\ncommand=sleep 1\nprocess_name=m%(process_num)d\nnumprocs=99999999999999999999\n",
    );
    let out = d.ctl(&["reread"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("numprocs 99999999999999999999 is above the limit of 65536"),
        "{text}"
    );
    still_running(&d, child);
}

// ---- defaults ---------------------------------------------------------------

/// `supervisor.getAllConfigInfo()` over the daemon's unix socket, read by
/// Python's own xmlrpc.client, as JSON.
fn python_config_info(socket: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import http.client, json, socket, sys, xmlrpc.client
class Conn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.unix_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)
class Unix(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.unix_path = path
    def make_connection(self, host):
        return Conn(self.unix_path)
proxy = xmlrpc.client.ServerProxy("http://localhost", transport=Unix(sys.argv[1]))
print(json.dumps(proxy.supervisor.getAllConfigInfo()))
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(socket)
        .output()
        .expect("python3 is installed by .ci/run");
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn json(v: &InfoValue) -> serde_json::Value {
    match v {
        InfoValue::Bool(b) => (*b).into(),
        InfoValue::Int(i) => (*i).into(),
        InfoValue::Str(s) => s.as_str().into(),
        InfoValue::Ints(v) => v.clone().into(),
    }
}

/// The default a comment of the example config states: the word after
/// "default", "def." or "def:" (`(default 50MB)`, `(def. 1)`, `default is
/// 'supervisor'`), or `None`.
fn stated_default(comment: &str) -> Option<String> {
    let words: Vec<&str> = comment
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .map(|w| w.trim_matches(['(', ')']))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words
        .iter()
        .position(|w| matches!(*w, "default" | "default:" | "def" | "def." | "def:"))?;
    let word = words
        .get(at + 1)
        .filter(|w| **w != "is")
        .or(words.get(at + 2))?;
    Some(
        word.trim_matches(['\'', '"'])
            .trim_start_matches("$CWD/")
            .to_string(),
    )
}

/// The options of `[kind...]` in the example config, with their comments.
fn example_options(example: &str, header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in example.lines() {
        let line = line.trim_start_matches(';');
        if line.starts_with('[') {
            inside = line.starts_with(header);
            continue;
        }
        let Some((key, rest)) = line.split_once('=') else {
            continue;
        };
        if inside && !key.contains(' ') && !key.is_empty() {
            let comment = rest.split_once(';').map_or("", |(_, c)| c);
            out.push((key.to_string(), comment.to_string()));
        }
    }
    out
}

#[test]
fn option_defaults_come_from_the_table() {
    let (example, _, rc) = pidvisord(&["--example-config"]);
    assert_eq!(rc, 0);
    // Options the example does not show: as in Supervisor's sample (no
    // fcgi-program section, no numprocs_start or result_handler), and
    // pidvisor's [group:x] cgroup.
    let unshown = [
        ("program", "numprocs_start"),
        ("eventlistener", "result_handler"),
        ("fcgi-program", "socket_backlog"),
        ("fcgi-program", "socket_owner"),
        ("fcgi-program", "socket_mode"),
        ("fcgi-program", "socket"),
        ("group", "cgroup"),
    ];
    let mut missing = Vec::new();
    let mut compared = 0;
    for (kind, keys) in config::known_options() {
        let header = match kind {
            "program" | "eventlistener" | "fcgi-program" | "group" => format!("[{kind}:"),
            other => format!("[{other}"),
        };
        let shown = example_options(&example, &header);
        let defaults = config::option_defaults(kind);
        assert_eq!(
            defaults.iter().map(|d| d.0).collect::<Vec<_>>(),
            keys.to_vec(),
            "[{kind}]"
        );
        for (key, default) in defaults {
            let Some((_, comment)) = shown.iter().find(|(k, _)| k == key) else {
                missing.push((kind, key));
                continue;
            };
            let (OptionDefault::Text(table), Some(stated)) = (default, stated_default(comment))
            else {
                continue;
            };
            assert!(
                stated.eq_ignore_ascii_case(table),
                "[{kind}] {key}: the example says {stated:?}, the table {table:?}"
            );
            compared += 1;
        }
    }
    assert_eq!(missing, unshown, "options absent from the example");
    assert!(compared >= 40, "only {compared} defaults compared");
}

#[test]
fn getallconfiginfo_of_a_minimal_program_shows_the_table_defaults() {
    let d = Daemon::start("[program:m]\ncommand=sleep 1000\n");
    d.wait_spawned("m", 1);
    // After a reread Supervisor shows AUTO logs as 'auto', not by name.
    let reread = d.ctl(&["reread"]);
    assert_eq!(reread.status.code(), Some(0), "{reread:?}");
    let infos = python_config_info(&d.path("ctl.sock"));
    let [record] = infos.as_array().unwrap().as_slice() else {
        panic!("one record expected: {infos}")
    };
    let spec = ProgramSpec::with_defaults("m", "sleep 1000");
    let ctx = InfoContext {
        group_priority: spec.priority,
        inuse: true,
        stdout_logfile: None,
        stderr_logfile: None,
    };
    let want: serde_json::Map<String, serde_json::Value> = info_fields(&spec, &ctx)
        .iter()
        .map(|(k, v)| (k.to_string(), json(v)))
        .collect();
    assert_eq!(record.as_object().unwrap(), &want);
}
