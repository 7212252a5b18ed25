//! `pidvisord`'s own command line: --check-config, --example-config, usage errors.

use std::process::Command;

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

fn repo(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_config_prints_every_mistake_with_file_and_line() {
    let file = repo("tests/fixtures/config/five_mistakes.conf");
    let (out, _, rc) = pidvisord(&["--check-config", "-c", &file]);
    assert_eq!(rc, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    for (line, (n, what)) in lines.iter().zip([
        (2, "loglevel"),
        (6, "startsecs"),
        (7, "autorestart"),
        (8, "stopsignal"),
        (12, "events"),
    ]) {
        assert!(line.starts_with(&format!("{file}:{n}: ")), "{line}");
        assert!(line.contains(what), "{line}");
    }
}

#[test]
fn every_file_under_units_loads() {
    let (out, err, rc) = pidvisord(&["--check-config", "-c", &repo("units/pidvisord.conf")]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(out.ends_with("OK (4 groups, 7 processes)\n"), "{out}");
    // Every file in units/conf.d was included (none is left out by the glob).
    let cfg = pidvisor::config::load(
        std::path::Path::new(&repo("units/pidvisord.conf")),
        &pidvisor::config::Env::from_process(),
    )
    .unwrap();
    let included = cfg
        .messages
        .iter()
        .filter(|(_, m)| m.starts_with("Included extra file"))
        .count();
    let files = std::fs::read_dir(repo("units/conf.d")).unwrap().count();
    assert_eq!(included, files);
}

#[test]
fn example_config_is_valid() {
    let (out, _, rc) = pidvisord(&["--example-config"]);
    assert_eq!(rc, 0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.conf");
    std::fs::write(&path, out).unwrap();
    let (out, err, rc) = pidvisord(&["--check-config", "-c", path.to_str().unwrap()]);
    assert_eq!(rc, 0, "{out}{err}");
}

#[test]
fn usage_errors_are_supervisords_two_lines_and_exit_2() {
    let (_, err, rc) = pidvisord(&["-c", "/nonexistent.conf"]);
    assert_eq!(rc, 2);
    assert!(
        err.starts_with("Error: could not find config file /nonexistent.conf\nFor help, use "),
        "{err}"
    );
    let (_, err, rc) = pidvisord(&["-c", &repo("units/pidvisord.conf"), "extra"]);
    assert_eq!(rc, 2);
    assert!(
        err.starts_with("Error: positional arguments are not supported: ['extra']\n"),
        "{err}"
    );
    let (out, _, rc) = pidvisord(&["-v"]);
    assert_eq!((out.as_str(), rc), ("4.3.0\n", 0));
}
