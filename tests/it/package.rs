//! The Debian package (issue 19): `cargo deb` builds it from Cargo.toml's
//! `[package.metadata.deb]`, `dpkg -i` installs it on this machine (CI runs
//! as root on a throwaway machine), every file is checked, `systemd-analyze
//! verify` checks the units, the packaged daemon runs on the packaged config,
//! and `dpkg --purge` leaves the machine as it was, also when the test fails
//! (the Drop guard purges).
//!
//! To stay inside CI's time, the package is made from the binaries this test
//! run built (`cargo deb --no-build --strip` over a copy of them in a target
//! directory of the test's own) rather than by a fat-LTO release build;
//! everything else is what `cargo deb` packs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::fixture::*;

/// What the package installs, as Debian names the places.
const FILES: &[&str] = &[
    "/usr/bin/pidvisord",
    "/usr/bin/pidvisorctl",
    "/usr/share/man/man8/pidvisord.8.gz",
    "/usr/share/man/man1/pidvisorctl.1.gz",
    "/usr/share/man/man5/pidvisord.conf.5.gz",
    "/usr/share/man/man5/pidvisor-dbus.5.gz",
    "/usr/share/bash-completion/completions/pidvisorctl",
    "/usr/share/bash-completion/completions/pidvisord",
    "/usr/share/zsh/vendor-completions/_pidvisorctl",
    "/usr/share/fish/vendor_completions.d/pidvisorctl.fish",
    "/usr/share/fish/vendor_completions.d/pidvisord.fish",
    "/usr/lib/systemd/system/pidvisord.service",
    "/usr/lib/systemd/user/pidvisord.service",
    "/usr/share/dbus-1/system.d/org.pidvisor.Supervisor1.conf",
    "/usr/lib/tmpfiles.d/pidvisor.conf",
    "/etc/pidvisord.conf",
    "/usr/share/doc/pidvisor/README.md",
    "/usr/share/doc/pidvisor/README.dbus.md",
    "/usr/share/doc/pidvisor/copyright",
];

/// Text files installed verbatim: (installed, in the repository).
const SAME: &[(&str, &str)] = &[
    ("/etc/pidvisord.conf", "contrib/debian/pidvisord.conf"),
    (
        "/usr/lib/systemd/system/pidvisord.service",
        "contrib/systemd/pidvisord.service",
    ),
    (
        "/usr/lib/systemd/user/pidvisord.service",
        "contrib/systemd/pidvisord-user.service",
    ),
    (
        "/usr/share/zsh/vendor-completions/_pidvisorctl",
        "contrib/completions/_pidvisorctl",
    ),
    (
        "/usr/share/bash-completion/completions/pidvisord",
        "contrib/completions/pidvisorctl.bash",
    ),
];

/// Made by the package's scripts (tmpfiles, postinst), gone after a purge.
const DIRS: &[&str] = &["/run/pidvisor", "/var/log/pidvisor", "/etc/pidvisor/conf.d"];

const ENABLED: &str = "/etc/systemd/system/multi-user.target.wants/pidvisord.service";
const PROGRAM_CONF: &str = "/etc/pidvisor/conf.d/pkgtest.conf";

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "pidvisor"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("installed"))
}

/// Purges the package (and what the test put beside it) on Drop.
struct Installed {
    daemon: Option<Child>,
}

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            let kids = descendants(c.id());
            send(c.id(), 9);
            for k in kids {
                send(k, 9);
            }
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(PROGRAM_CONF);
        if installed() {
            let _ = Command::new("dpkg")
                .args(["--purge", "pidvisor"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null())
                .output();
        }
    }
}

/// `cargo deb` over the binaries of this test run; returns the .deb.
fn build_deb(dir: &Path) -> PathBuf {
    let release = dir.join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    for bin in [
        env!("CARGO_BIN_EXE_pidvisord"),
        env!("CARGO_BIN_EXE_pidvisorctl"),
    ] {
        let name = Path::new(bin).file_name().unwrap();
        std::fs::copy(bin, release.join(name)).unwrap();
    }
    let deb = dir.join("pidvisor.deb");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let version = Command::new(&cargo).args(["deb", "--version"]).output();
    assert!(
        version.is_ok_and(|o| o.status.success()),
        "cargo-deb is not installed (.ci/run installs it: cargo install cargo-deb --locked)"
    );
    run(Command::new(&cargo)
        .args(["deb", "--no-build", "--strip", "--fast", "-o"])
        .arg(&deb)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .current_dir(env!("CARGO_MANIFEST_DIR")));
    deb
}

fn dpkg_install(deb: &Path) {
    run(Command::new("dpkg")
        .arg("-i")
        .arg(deb)
        .env("DEBIAN_FRONTEND", "noninteractive"));
}

fn check_files() {
    let listed =
        String::from_utf8(run(Command::new("dpkg").args(["-L", "pidvisor"])).stdout).unwrap();
    for f in FILES {
        assert!(Path::new(f).is_file(), "{f} is not installed");
        assert!(listed.lines().any(|l| l == *f), "dpkg -L lacks {f}");
    }
    for bin in ["/usr/bin/pidvisord", "/usr/bin/pidvisorctl"] {
        let mode = std::fs::metadata(bin).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{bin}");
    }
    for (installed, source) in SAME {
        assert_eq!(
            std::fs::read_to_string(installed).unwrap(),
            std::fs::read_to_string(repo(source)).unwrap(),
            "{installed} is not {source}"
        );
    }
    let conffiles = run(Command::new("dpkg-query").args(["-W", "-f=${Conffiles}", "pidvisor"]));
    assert!(
        String::from_utf8_lossy(&conffiles.stdout).contains("/etc/pidvisord.conf "),
        "/etc/pidvisord.conf is not a conffile: {conffiles:?}"
    );
    for d in DIRS {
        assert!(Path::new(d).is_dir(), "{d} was not made");
    }
    // Enabled as Debian's supervisor is; the per-user unit is each user's choice.
    let link = std::fs::read_link(ENABLED).expect("pidvisord.service is not enabled");
    assert!(link.ends_with("pidvisord.service"), "{link:?}");
    assert!(!Path::new("/etc/systemd/user/default.target.wants/pidvisord.service").exists());
    // What the files are for works: units, completions, man pages.
    // A user manager needs a runtime directory, even for a check.
    let runtime = tempfile::tempdir().unwrap();
    for args in [
        &["verify", "/usr/lib/systemd/system/pidvisord.service"][..],
        &[
            "--user",
            "verify",
            "/usr/lib/systemd/user/pidvisord.service",
        ],
    ] {
        let out = run(Command::new("systemd-analyze")
            .args(args)
            .env("XDG_RUNTIME_DIR", runtime.path()));
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !text.contains("pidvisord"),
            "systemd-analyze {args:?}: {text}"
        );
    }
    run(Command::new("bash").args(["-n", "/usr/share/bash-completion/completions/pidvisorctl"]));
    run(Command::new("zsh").args(["-n", "/usr/share/zsh/vendor-completions/_pidvisorctl"]));
    run(Command::new("fish").args([
        "-n",
        "/usr/share/fish/vendor_completions.d/pidvisorctl.fish",
    ]));
    let out = run(Command::new("man").args(["-w", "pidvisor-dbus"]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "/usr/share/man/man5/pidvisor-dbus.5.gz"
    );
}

/// The packaged daemon on the packaged /etc/pidvisord.conf, with a program
/// in /etc/pidvisor/conf.d: the installed pidvisorctl finds it with no -c.
fn run_packaged_daemon(guard: &mut Installed, cwd: &Path) {
    std::fs::write(
        PROGRAM_CONF,
        "[program:pkgtest]\ncommand=sleep 1000\nstartsecs=0\n",
    )
    .unwrap();
    let child = Command::new("/usr/bin/pidvisord")
        .arg("-n")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    guard.daemon = Some(child);
    let ctl = |args: &[&str]| {
        Command::new("/usr/bin/pidvisorctl")
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    wait_for(
        "pkgtest RUNNING through the packaged config",
        TIMEOUT,
        || {
            let o = ctl(&["status"]);
            String::from_utf8_lossy(&o.stdout)
                .starts_with("pkgtest ")
                .then_some(())
        },
    );
    let log = std::fs::read_to_string("/var/log/pidvisor/pidvisord.log").unwrap();
    assert!(
        log.contains(&format!("supervisord started with pid {pid}")),
        "{log}"
    );
    assert!(Path::new("/run/pidvisor/pidvisord.sock").exists());
    let out = ctl(&["shutdown"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Shut down"));
    let mut child = guard.daemon.take().unwrap();
    let status = wait_for("the packaged daemon to exit", TIMEOUT, || {
        child.try_wait().ok().flatten()
    });
    assert!(status.success());
    std::fs::remove_file(PROGRAM_CONF).unwrap();
}

/// The maintainer scripts' systemd steps, run on copies whose "systemd is
/// running" test points at a directory of the test and whose helpers are
/// stubs that log their arguments: start on install, no restart on upgrade,
/// stop on removal.
fn check_script_logic(dir: &Path) {
    let stubs = dir.join("stubs");
    let running = dir.join("systemd-running");
    let log = dir.join("calls.log");
    std::fs::create_dir_all(&stubs).unwrap();
    std::fs::create_dir_all(&running).unwrap();
    for tool in [
        "deb-systemd-helper",
        "deb-systemd-invoke",
        "systemctl",
        "systemd-tmpfiles",
    ] {
        let stub = stubs.join(tool);
        std::fs::write(
            &stub,
            format!("#!/bin/sh\necho \"{tool} $*\" >> {}\n", log.display()),
        )
        .unwrap();
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let calls = |script: &str, args: &[&str]| -> String {
        let text = std::fs::read_to_string(repo(&format!("contrib/debian/{script}"))).unwrap();
        assert!(text.contains("/run/systemd/system"), "{script}");
        let copy = dir.join(script);
        std::fs::write(
            &copy,
            text.replace("/run/systemd/system", running.to_str().unwrap()),
        )
        .unwrap();
        let _ = std::fs::remove_file(&log);
        let path = format!("{}:{}", stubs.display(), std::env::var("PATH").unwrap());
        run(Command::new("sh").arg(&copy).args(args).env("PATH", path));
        std::fs::read_to_string(&log).unwrap_or_default()
    };
    let first = calls("postinst", &["configure", ""]);
    for call in [
        "deb-systemd-helper enable pidvisord.service",
        "systemctl --system daemon-reload",
        "deb-systemd-invoke start pidvisord.service",
    ] {
        assert!(
            first.contains(call),
            "first install: {call:?} missing in\n{first}"
        );
    }
    let upgrade = calls("postinst", &["configure", "0.0.1-1"]);
    assert!(
        upgrade.contains("systemctl --system daemon-reload"),
        "{upgrade}"
    );
    assert!(
        !upgrade.contains("deb-systemd-invoke"),
        "an upgrade touched the daemon:\n{upgrade}"
    );
    assert_eq!(calls("prerm", &["upgrade", "0.2.0-1"]), "");
    assert_eq!(
        calls("prerm", &["remove"]),
        "deb-systemd-invoke stop pidvisord.service\n"
    );
    assert_eq!(
        calls("postrm", &["remove"]),
        "systemctl --system daemon-reload\n"
    );
}

#[test]
fn debian_package_installs_every_file_and_purges_cleanly() {
    for tool in ["dpkg", "systemd-analyze", "man", "deb-systemd-helper"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .any(|d| d.join(tool).is_file());
        assert!(found, "{tool} is not installed (.ci/run installs it)");
    }
    // Nothing of a real installation may be overwritten, then purged.
    assert!(
        !installed(),
        "pidvisor is installed on this machine: the test would purge it"
    );
    for p in ["/etc/pidvisord.conf", "/etc/pidvisor", "/var/log/pidvisor"] {
        assert!(
            !Path::new(p).exists(),
            "{p} exists: the test would remove it"
        );
    }
    let dir = tempfile::Builder::new()
        .prefix("pidvisor-deb")
        .tempdir()
        .unwrap();
    let deb = build_deb(dir.path());
    let mut guard = Installed { daemon: None };
    dpkg_install(&deb);
    check_files();
    run_packaged_daemon(&mut guard, dir.path());
    check_script_logic(dir.path());
    // An upgrade keeps the admin's choice: a disabled unit stays disabled.
    run(Command::new("systemctl").args(["disable", "pidvisord.service"]));
    assert!(!Path::new(ENABLED).exists());
    dpkg_install(&deb);
    assert!(
        !Path::new(ENABLED).exists(),
        "the upgrade enabled pidvisord again"
    );
    // A purge leaves nothing behind.
    run(Command::new("dpkg")
        .args(["--purge", "pidvisor"])
        .env("DEBIAN_FRONTEND", "noninteractive"));
    assert!(!installed());
    // /run/pidvisor is every root daemon's runtime directory (each keeps
    // the record of its children there): other daemons on this machine,
    // such as the other tests', may have made it again meanwhile.
    let owned = DIRS.iter().filter(|d| **d != "/run/pidvisor");
    for f in FILES.iter().chain(owned).chain(&["/etc/pidvisor", ENABLED]) {
        assert!(
            std::fs::symlink_metadata(f).is_err(),
            "{f} is left after the purge"
        );
    }
    let state = Path::new("/var/lib/systemd/deb-systemd-helper-enabled");
    if state.is_dir() {
        let out = Command::new("grep")
            .args(["-rl", "pidvisord"])
            .arg(state)
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "deb-systemd-helper still knows pidvisord: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
