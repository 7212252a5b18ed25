//! Command resolution, exactly as Supervisor's `get_execv_args` does it:
//! the command line split by Python's `shlex.split` ([`crate::py::shlex`]),
//! then argv[0] looked up on PATH with Supervisor's checks and error texts.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::py::{py_repr, shlex};

/// Supervisor's PATH when neither the program nor the daemon has one.
pub const DEFAULT_PATH: &str = "/bin:/usr/bin:/usr/local/bin";

/// Python's `os.path.join(dir, name)` for a `name` without `/`.
fn path_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Split `command` and find the file to execute: Supervisor's
/// `get_execv_args` + `check_execv_args`, with its exact error texts.
///
/// `path_env` is the PATH to search (see [`search_path`]); `None` means
/// [`DEFAULT_PATH`]. A relative argv\[0\] containing `/`, or a relative PATH
/// entry, is checked against `cwd` (the daemon's directory at this point, as
/// in Supervisor) but returned as written: `execve` happens after the child's
/// `chdir`.
pub fn resolve_command(
    command: &str,
    path_env: Option<&str>,
    cwd: &Path,
) -> Result<(PathBuf, Vec<String>), String> {
    let argv = shlex::split(command)
        .map_err(|e| format!("can't parse command {}: {e}", py_repr(command)))?;
    let Some(program) = argv.first() else {
        return Err("command is empty".to_owned());
    };
    let stat = |p: &str| std::fs::metadata(cwd.join(p)).ok();

    let (filename, meta) = if program.contains('/') {
        (program.clone(), stat(program))
    } else {
        path_env
            .unwrap_or(DEFAULT_PATH)
            .split(':')
            .find_map(|dir| {
                let candidate = path_join(dir, program);
                stat(&candidate).map(|m| (candidate, Some(m)))
            })
            .unwrap_or_else(|| (program.clone(), None))
    };

    let Some(meta) = meta else {
        return Err(format!("can't find command {}", py_repr(&filename)));
    };
    if meta.is_dir() {
        return Err(format!("command at {} is a directory", py_repr(&filename)));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "command at {} is not executable",
            py_repr(&filename)
        ));
    }
    if !crate::sys::fd::executable(&cwd.join(&filename)) {
        return Err(format!(
            "no permission to run command {}",
            py_repr(&filename)
        ));
    }
    Ok((PathBuf::from(filename), argv))
}

/// Which PATH Supervisor searches: the program's `environment` PATH (which
/// holds `[supervisord] environment` merged under the program's own, as
/// Supervisor merges them at load), else the daemon's `$PATH` if non-empty,
/// else `None` (meaning [`DEFAULT_PATH`]).
pub fn search_path<'a>(
    program_env: &'a [(String, String)],
    daemon_path: Option<&'a str>,
) -> Option<&'a str> {
    program_env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .or(daemon_path.filter(|p| !p.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_and_empty() {
        let cwd = Path::new("/");
        assert_eq!(
            resolve_command("cat 'x", None, cwd).unwrap_err(),
            "can't parse command \"cat 'x\": No closing quotation"
        );
        assert_eq!(
            resolve_command("cat x\\", None, cwd).unwrap_err(),
            "can't parse command 'cat x\\\\': No escaped character"
        );
        assert_eq!(
            resolve_command("  ", None, cwd).unwrap_err(),
            "command is empty"
        );
    }

    #[test]
    fn path_search_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::create_dir(d.join("bin2")).unwrap();
        std::fs::write(d.join("plain"), "x").unwrap();
        std::fs::write(d.join("bin2/tool"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(d.join("bin2/tool"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let path = format!("/nonexistent:{}", d.join("bin2").display());

        let (f, argv) = resolve_command("tool -x 'a b'", Some(&path), d).unwrap();
        assert_eq!(f, d.join("bin2/tool"));
        assert_eq!(argv, ["tool", "-x", "a b"]);
        // The first PATH dir where stat succeeds wins, even a directory.
        let path2 = format!("{}:{}", d.display(), d.join("bin2").display());
        assert_eq!(
            resolve_command("sub", Some(&path2), d).unwrap_err(),
            format!("command at '{}/sub' is a directory", d.display())
        );
        assert_eq!(
            resolve_command("nope-xyz", Some(&path), d).unwrap_err(),
            "can't find command 'nope-xyz'"
        );
        assert_eq!(
            resolve_command("/nope/x", None, d).unwrap_err(),
            "can't find command '/nope/x'"
        );
        let plain = d.join("plain");
        assert_eq!(
            resolve_command(plain.to_str().unwrap(), None, d).unwrap_err(),
            format!("command at '{}' is not executable", plain.display())
        );
        assert_eq!(
            resolve_command(d.to_str().unwrap(), None, d).unwrap_err(),
            format!("command at '{}' is a directory", d.display())
        );
        // Relative with a slash: checked against cwd, returned as written.
        let (f, _) = resolve_command("./bin2/tool", None, d).unwrap();
        assert_eq!(f, Path::new("./bin2/tool"));
        // An empty PATH entry means the cwd, as Python's os.path.join('', x).
        assert_eq!(
            resolve_command("plain", Some(""), d).unwrap_err(),
            "command at 'plain' is not executable"
        );
        assert_eq!(
            resolve_command("sh", None, d).unwrap().0,
            Path::new("/bin/sh")
        );
    }

    #[test]
    fn path_precedence() {
        let p = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        // [supervisord] environment's PATH, then the program's (merged).
        let mut merged = p("PATH", "/sup");
        merged.extend(p("PATH", "/prog"));
        assert_eq!(search_path(&merged, Some("/d")), Some("/prog"));
        assert_eq!(search_path(&merged[..1], Some("/d")), Some("/sup"));
        assert_eq!(search_path(&[], Some("/d")), Some("/d"));
        assert_eq!(search_path(&[], Some("")), None);
        assert_eq!(search_path(&[], None), None);
    }
}
