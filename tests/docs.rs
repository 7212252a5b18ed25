//! The man pages stay complete: every ctl action, every daemon option and
//! every config option appears in its page, and groff finds no problem.

use std::path::Path;
use std::process::Command;

fn page(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The page's text with roff escapes for `-` undone, so options read plainly.
fn plain(roff: &str) -> String {
    roff.replace("\\-", "-")
}

fn output(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin).args(args).output().expect("run binary");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn ctl_page_lists_every_action() {
    let text = plain(&page("pidvisorctl.1"));
    let help = output(env!("CARGO_BIN_EXE_pidvisorctl"), &["help"]);
    // The action table is the lines after the ===== rule.
    let actions: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("===="))
        .skip(1)
        .flat_map(str::split_whitespace)
        .collect();
    assert!(actions.len() >= 20, "help listed too few actions: {help}");
    for a in actions {
        let entry = text.lines().filter(|l| l.starts_with(".B")).any(|l| {
            l.split_whitespace()
                .skip(1)
                .any(|w| w.trim_matches(|c| c == '"' || c == ',') == a)
        });
        assert!(entry, "pidvisorctl.1 has no entry for action {a:?}");
    }
}

#[test]
fn daemon_page_lists_every_option() {
    let text = plain(&page("pidvisord.8"));
    let help = output(env!("CARGO_BIN_EXE_pidvisord"), &["--help"]);
    let mut seen = 0;
    for line in help.lines() {
        for word in line.split(|c: char| c == '/' || c.is_whitespace()) {
            if word.starts_with("--") && word.len() > 2 {
                seen += 1;
                assert!(text.contains(word), "pidvisord.8 does not mention {word}");
            }
        }
    }
    assert!(seen >= 20, "--help listed too few options: {help}");
}

#[test]
fn config_page_lists_every_option() {
    let text = plain(&page("pidvisord.conf.5"));
    for (section, keys) in pidvisor::config::known_options() {
        assert!(
            text.contains(&format!("[{section}")),
            "no section [{section}]"
        );
        for key in keys {
            let shown = text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .any(|w| w == *key);
            // The six stderr_ options are documented as "the same six stderr_ options".
            let stderr_twin = key
                .strip_prefix("stderr_")
                .is_some_and(|rest| text.contains(&format!("stdout_{rest}")));
            assert!(
                shown || stderr_twin,
                "pidvisord.conf.5 lacks [{section}] {key}"
            );
        }
    }
}

/// Every page under man/.
fn pages() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(v.len() >= 4, "{v:?}");
    v
}

/// groff (`-ww`), man-db (`man --warnings`) and mandoc (`-Tlint
/// -Wwarning`) find nothing to say about any page.
#[test]
fn pages_render_cleanly() {
    for path in pages() {
        let name = path.display();
        let out = Command::new("groff")
            .args(["-ww", "-man", "-z"])
            .arg(&path)
            .output()
            .expect("groff is installed by .ci/run (groff-base)");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.is_empty(),
            "groff: {name}: {warnings}"
        );
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MAN_KEEP_FORMATTING", "0")
            .output()
            .expect("man is installed by .ci/run (man-db)");
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.is_empty(),
            "man --warnings: {name}: {warnings}"
        );
        let out = Command::new("mandoc")
            .args(["-Tlint", "-Wwarning"])
            .arg(&path)
            .output()
            .expect("mandoc is installed by .ci/run (mandoc)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && text.is_empty(),
            "mandoc -Tlint: {name}: {text}"
        );
    }
}

#[test]
fn ctl_page_lists_every_option() {
    let text = plain(&page("pidvisorctl.1"));
    let help = output(env!("CARGO_BIN_EXE_pidvisorctl"), &["-h"]);
    let mut seen = 0;
    for word in help.split(|c: char| c == '/' || c.is_whitespace() || c == ')' || c == '(') {
        if word.starts_with('-') && word.len() > 1 && word != "--" {
            seen += 1;
            assert!(text.contains(word), "pidvisorctl.1 does not mention {word}");
        }
    }
    assert!(seen >= 14, "-h listed too few options: {help}");
}

/// What issue 19 found missing: the daemon's page has D-Bus and
/// ENVIRONMENT sections and points to the D-Bus page; the ctl's page gives
/// its config search path.
#[test]
fn pages_have_dbus_environment_and_search_path() {
    let daemon = page("pidvisord.8");
    for needle in [
        ".SH D-BUS",
        ".SH ENVIRONMENT",
        ".SH PER-USER MODE",
        "pidvisor\\-dbus (5)",
    ] {
        assert!(daemon.contains(needle), "pidvisord.8 lacks {needle:?}");
    }
    let ctl = plain(&page("pidvisorctl.1"));
    for needle in [
        "./pidvisord.conf",
        "/etc/pidvisord.conf",
        "/etc/pidvisor/pidvisord.conf",
        "/etc/supervisor/supervisord.conf",
        "$XDG_CONFIG_HOME/pidvisor/pidvisord.conf",
    ] {
        assert!(ctl.contains(needle), "pidvisorctl.1 lacks {needle:?}");
    }
}

/// The README's test prerequisites name every package `.ci/run` installs,
/// and its test command is the one `.ci/run` runs: a newcomer following
/// the README gets CI's setup.
#[test]
fn readme_names_what_ci_installs_and_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let install = ci
        .split("apt-get install")
        .nth(1)
        .and_then(|rest| rest.split(">/dev/null").next())
        .expect(".ci/run has an apt-get install line");
    let packages: Vec<&str> = install
        .split_whitespace()
        .filter(|w| !w.starts_with('-') && *w != "\\")
        .collect();
    assert!(packages.len() > 10, "{packages:?}");
    let listed: Vec<&str> = readme
        .split("apt-get install")
        .flat_map(|part| part.split("```").next().unwrap_or("").split_whitespace())
        .collect();
    for p in packages {
        assert!(listed.contains(&p), "README.md does not list {p}");
    }
    let command = "cargo fmt --check && cargo clippy --all-targets -- -D warnings && cargo test";
    assert!(ci.lines().any(|l| l == command), ".ci/run: {command}");
    assert!(readme.lines().any(|l| l == command), "README.md: {command}");
}
