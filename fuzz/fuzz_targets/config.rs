//! Bytes as a config file, through the whole loader: the INI reader
//! (Python's configparser), `%(name)s` expansion (Python's `%`) and the
//! validation of every section, as `pidvisord --check-config` and a reload
//! of a running daemon run them. A panic, an abort (an allocation the bounds
//! should have refused) or a hang is a bug: for a running daemon each one
//! would be a reload that kills it.
//!
//! The environment is fixed and the user database is a table, so a run
//! depends on the input only. Inputs that name an `[include]` are skipped:
//! includes read the disk (their reader has its own unit tests).

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pidvisor::config::{
    info_fields, load_str, Env, InfoContext, UserTable, Users, MAX_PROCESSES,
};
use pidvisor::py::percent::{self, Names, Val};

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::new(
            &[("HOME", "/root"), ("PATH", "/bin:/usr/bin"), ("X", "1")],
            "fuzzhost",
            Path::new("/"),
        );
        env.users = Users::Table(UserTable::with_root());
        env
    })
}

/// Python's `%` on the input itself, with a small result bound.
fn check_percent(text: &str) {
    let mut names = Names::new();
    names.insert("program_name".into(), Val::Str("p".into()));
    names.insert("process_num".into(), Val::Int(-3));
    const LIMIT: usize = 1 << 16;
    if let Ok(out) = percent::format(text, &names, LIMIT) {
        assert!(out.len() <= LIMIT, "a result beyond the limit");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_percent(text);
    if text.contains("include") {
        return;
    }
    let path = Path::new("/nonexistent-pidvisor-fuzz/supervisord.conf");
    match load_str(path, text, env()) {
        Ok(config) => {
            let processes: usize = config.groups.iter().map(|g| g.processes.len()).sum();
            assert!(processes as i64 <= MAX_PROCESSES);
            for g in &config.groups {
                let mut names: Vec<&str> = g.processes.iter().map(|p| p.name.as_str()).collect();
                names.sort();
                names.dedup();
                assert_eq!(names.len(), g.processes.len(), "a process name twice");
                for p in &g.processes {
                    let ctx = InfoContext {
                        group_priority: g.priority,
                        inuse: false,
                        stdout_logfile: None,
                        stderr_logfile: None,
                    };
                    assert!(!info_fields(p, &ctx).is_empty());
                }
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors.iter() {
                assert!(!e.message.is_empty(), "an error without a message");
            }
        }
    }
});
