//! The tables' defaults are the loader's: an option written with its
//! default text loads exactly as the option left out, in every section.

use super::*;
use crate::config::{load_str, option_defaults, Config, CtlSpec, Env, UserTable, Users};

/// A valid config with one section of each kind, and the header line of
/// the section where the kind's options go.
const BASES: &[(&str, &str, &str)] = &[
    ("supervisord", "[supervisord]\n", "[supervisord]\n"),
    (
        "unix_http_server",
        "[supervisord]\n[unix_http_server]\nfile=/tmp/t.sock\n",
        "[unix_http_server]\n",
    ),
    (
        "inet_http_server",
        "[supervisord]\n[inet_http_server]\nport=9001\n",
        "[inet_http_server]\n",
    ),
    (
        "supervisorctl",
        "[supervisord]\n[supervisorctl]\n",
        "[supervisorctl]\n",
    ),
    (
        "program",
        "[supervisord]\n[program:p]\ncommand=c\n",
        "[program:p]\n",
    ),
    (
        "eventlistener",
        "[supervisord]\n[eventlistener:e]\ncommand=c\nevents=TICK_5\n",
        "[eventlistener:e]\n",
    ),
    (
        "fcgi-program",
        "[supervisord]\n[fcgi-program:f]\ncommand=c\nsocket=unix:///tmp/f.sock\n",
        "[fcgi-program:f]\n",
    ),
    (
        "group",
        "[supervisord]\n[program:a]\ncommand=c\n[group:g]\nprograms=a\n",
        "[group:g]\n",
    ),
];

fn load(dir: &std::path::Path, text: &str) -> Config {
    let mut env = Env::new(&[("HOME", "/root")], "host", dir);
    env.users = Users::Table(UserTable::with_root());
    match load_str(&dir.join("t.conf"), text, &env) {
        Ok(c) => c,
        Err(e) => panic!("{text}\n{e}"),
    }
}

#[test]
fn a_default_written_out_loads_as_the_option_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut written = 0;
    for &(kind, base, header) in BASES {
        let omitted = load(dir.path(), base);
        let defaults = option_defaults(kind);
        assert!(!defaults.is_empty(), "{kind}");
        for (key, default) in defaults {
            let OptionDefault::Text(text) = default else {
                continue;
            };
            // An eventlistener's `priority` is also its processes' (a
            // program option, default 999), as in Supervisor.
            if kind == "eventlistener" && key == "priority" {
                continue;
            }
            let with = base.replacen(header, &format!("{header}{key}={text}\n"), 1);
            assert_eq!(load(dir.path(), &with), omitted, "[{kind}] {key}={text}");
            written += 1;
        }
    }
    assert!(written >= 48, "only {written} defaults written out");
}

#[test]
fn defaults_without_a_file_are_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(
        dir.path(),
        "[supervisord]\n[supervisorctl]\n[program:p]\ncommand=c\n",
    );
    assert_eq!(c.supervisorctl, CtlSpec::default());
    let mut want = crate::config::ProgramSpec::with_defaults("p", "c");
    want.origin = c.groups[0].processes[0].origin.clone();
    assert_eq!(*c.groups[0].processes[0], want);
    // Computed defaults: killasgroup follows stopasgroup.
    let c = load(
        dir.path(),
        "[supervisord]\n[program:p]\ncommand=c\nstopasgroup=true\n",
    );
    assert!(c.groups[0].processes[0].killasgroup);
}
