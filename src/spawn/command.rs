//! Command resolution, exactly as Supervisor's `get_execv_args` does it.
//!
//! Splitting is a port of Python's `shlex.split(command)` (POSIX mode,
//! whitespace split, no comments) rather than the `shlex` crate: the crate
//! follows POSIX sh, which differs from Python where Supervisor users can see
//! it (`"\$HOME"` keeps its backslash in Python; `\r` separates words in
//! Python), and it reports every error the same way where Python tells
//! "No closing quotation" from "No escaped character" — and that text is part
//! of Supervisor's spawn error.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::config::signal::py_repr;

/// Supervisor's PATH when neither the program nor the daemon has one.
pub const DEFAULT_PATH: &str = "/bin:/usr/bin:/usr/local/bin";

/// Python's `shlex.split(s)`: POSIX quoting and backslashes, no comments.
///
/// Errors carry Python's `ValueError` text.
pub fn shlex_split(s: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        /// After a backslash; holds the state to return to.
        Escape(Before),
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Before {
        Word,
        Quote(char),
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');

    let mut words = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Space;
    for c in s.chars() {
        state = match state {
            State::Space if is_space(c) => State::Space,
            State::Space | State::Word if c == '\\' => State::Escape(Before::Word),
            State::Space | State::Word if c == '"' || c == '\'' => State::Quote(c),
            State::Space => {
                token.push(c);
                State::Word
            }
            State::Word if is_space(c) => {
                words.push(std::mem::take(&mut token));
                quoted = false;
                State::Space
            }
            State::Word => {
                token.push(c);
                State::Word
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    State::Word
                } else if c == '\\' && q == '"' {
                    State::Escape(Before::Quote(q))
                } else {
                    token.push(c);
                    State::Quote(q)
                }
            }
            State::Escape(before) => {
                // Inside double quotes a backslash only escapes `\` and `"`.
                if let Before::Quote(q) = before {
                    if c != '\\' && c != q {
                        token.push('\\');
                    }
                }
                token.push(c);
                match before {
                    Before::Word => State::Word,
                    Before::Quote(q) => State::Quote(q),
                }
            }
        };
    }
    match state {
        State::Space => {}
        State::Word => {
            if !token.is_empty() || quoted {
                words.push(token);
            }
        }
        State::Quote(_) => return Err("No closing quotation"),
        State::Escape(_) => return Err("No escaped character"),
    }
    Ok(words)
}

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
    let argv = shlex_split(command)
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
    if rustix::fs::access(cwd.join(&filename), rustix::fs::Access::EXEC_OK).is_err() {
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
    fn shlex_matches_python() {
        let ok = |s: &str, want: &[&str]| assert_eq!(shlex_split(s).unwrap(), want, "{s:?}");
        ok("", &[]);
        ok("   ", &[]);
        ok("a b\tc\r\nd", &["a", "b", "c", "d"]);
        ok("a 'b c' \"d e\"", &["a", "b c", "d e"]);
        ok("a''b \"\"", &["ab", ""]);
        ok("''", &[""]);
        ok(
            r#"sh -c "echo \$HOME \"x\" \\""#,
            &["sh", "-c", r#"echo \$HOME "x" \"#],
        );
        ok(r"a\ b \'c", &["a b", "'c"]);
        ok(r"'a\b'", &[r"a\b"]);
        ok("x#y # z", &["x#y", "#", "z"]);
        assert_eq!(shlex_split("a 'b"), Err("No closing quotation"));
        assert_eq!(shlex_split("a \"b\\\""), Err("No closing quotation"));
        assert_eq!(shlex_split("a b\\"), Err("No escaped character"));
        assert_eq!(shlex_split("\"a\\"), Err("No escaped character"));
    }

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
