//! What the loader reads from its surroundings, injected so tests control it:
//! the environment (`%(ENV_X)s`), the host name (`%(host_node_name)s`), the
//! working directory (relative paths, `supervisord.log`) and the user
//! database (`user=`, `~user`). Also the config-file search order
//! (design.md §2, spec §1.3).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::users::Users;

/// The loader's view of the process it runs in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Env {
    /// Environment variables (exposed as `ENV_<NAME>`).
    pub vars: BTreeMap<String, String>,
    /// `platform.node()`.
    pub hostname: String,
    /// The working directory relative paths resolve against.
    pub cwd: PathBuf,
    /// `argv[0]` of the running program, for Supervisor's `<here>` search
    /// entries (`dirname(dirname(argv[0]))`).
    pub argv0: Option<PathBuf>,
    /// Where `user=`, `chown=`, `~user` and group names are looked up.
    pub users: Users,
    /// Defaults that replace Supervisor's (empty but in per-user mode).
    pub defaults: Defaults,
}

/// Defaults for options a file leaves out, in place of Supervisor's: the
/// per-user mode's XDG paths (`crate::cli::session`). Values are written
/// as in a file (`%` doubled); keys are `(section, option)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Defaults {
    pub options: BTreeMap<(String, String), String>,
    /// `[supervisord]` (daemon) and `[supervisorctl]` (ctl) may be absent.
    pub sections_optional: bool,
}

/// What [`Env::from_process`] carries: set once at start-up by a program
/// in per-user mode, so every later load (reread, reload) sees it too.
static PROCESS_DEFAULTS: std::sync::OnceLock<Defaults> = std::sync::OnceLock::new();

/// Set this process's [`Defaults`] (the first call wins).
pub fn set_process_defaults(defaults: Defaults) {
    let _ = PROCESS_DEFAULTS.set(defaults);
}

impl Env {
    /// The real environment, host name, working directory and `argv[0]`.
    pub fn from_process() -> Env {
        Env {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            hostname: crate::sys::user::hostname(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            argv0: std::env::args_os().next().map(PathBuf::from),
            defaults: PROCESS_DEFAULTS.get().cloned().unwrap_or_default(),
            users: Users::System,
        }
    }

    /// An environment for tests: the given variables, host and cwd, and the
    /// system's user database (replace [`Env::users`] to inject one).
    pub fn new(vars: &[(&str, &str)], hostname: &str, cwd: &Path) -> Env {
        Env {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            hostname: hostname.to_string(),
            cwd: cwd.to_path_buf(),
            argv0: None,
            defaults: Defaults::default(),
            users: Users::System,
        }
    }

    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// `$HOME`, for `~` expansion.
    pub fn home(&self) -> Option<&str> {
        self.var("HOME").filter(|h| !h.is_empty())
    }

    /// Python's `tempfile.gettempdir()` as far as it matters here:
    /// `$TMPDIR`/`$TEMP`/`$TMP` when it names a directory, else `/tmp`.
    pub fn tempdir(&self) -> String {
        for name in ["TMPDIR", "TEMP", "TMP"] {
            if let Some(d) = self.var(name).filter(|d| !d.is_empty()) {
                if self.cwd.join(d).is_dir() {
                    return d.trim_end_matches('/').to_string();
                }
            }
        }
        "/tmp".into()
    }
}

/// The config files looked for when `-c` is not given, in order.
///
/// System mode: pidvisor's names (`./pidvisord.conf`, `/etc/pidvisord.conf`,
/// `/etc/pidvisor/pidvisord.conf`), then Supervisor's list as Supervisor
/// writes it (`<here>/etc/supervisord.conf`, `<here>/supervisord.conf`,
/// `supervisord.conf`, `etc/supervisord.conf`, `/etc/supervisord.conf`,
/// `/etc/supervisor/supervisord.conf`), where `<here>` is
/// `dirname(dirname(argv[0]))`. Relative entries stay relative (they are
/// shown in the "No config file found" message); [`find_config`] resolves
/// them against `env.cwd`.
///
/// User mode: `$XDG_CONFIG_HOME/pidvisor/pidvisord.conf`, with
/// `XDG_CONFIG_HOME` defaulting to `$HOME/.config`.
pub fn search_paths(user_mode: bool, env: &Env) -> Vec<PathBuf> {
    if user_mode {
        let base = match env.var("XDG_CONFIG_HOME").filter(|x| x.starts_with('/')) {
            Some(x) => PathBuf::from(x),
            None => PathBuf::from(env.home().unwrap_or("/")).join(".config"),
        };
        return vec![base.join("pidvisor").join("pidvisord.conf")];
    }
    let here = env
        .argv0
        .as_deref()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    vec![
        PathBuf::from("pidvisord.conf"),
        PathBuf::from("/etc/pidvisord.conf"),
        PathBuf::from("/etc/pidvisor/pidvisord.conf"),
        here.join("etc").join("supervisord.conf"),
        here.join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// The first of [`search_paths`] that exists (relative ones resolved against
/// `env.cwd`, and returned so).
pub fn find_config(user_mode: bool, env: &Env) -> Option<PathBuf> {
    search_paths(user_mode, env)
        .into_iter()
        .map(|p| env.cwd.join(p))
        .find(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_search_order() {
        let mut env = Env::new(&[], "h", Path::new("/nonexistent-cwd"));
        env.argv0 = Some("/usr/bin/pidvisord".into());
        let paths: Vec<String> = search_paths(false, &env)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            paths,
            [
                "pidvisord.conf",
                "/etc/pidvisord.conf",
                "/etc/pidvisor/pidvisord.conf",
                "/usr/etc/supervisord.conf",
                "/usr/supervisord.conf",
                "supervisord.conf",
                "etc/supervisord.conf",
                "/etc/supervisord.conf",
                "/etc/supervisor/supervisord.conf",
            ]
        );
        env.argv0 = Some("pidvisord".into());
        assert_eq!(
            search_paths(false, &env)[3],
            PathBuf::from("etc/supervisord.conf")
        );
    }

    #[test]
    fn user_search_and_find() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let env = Env::new(&[("XDG_CONFIG_HOME", d)], "h", dir.path());
        assert_eq!(
            search_paths(true, &env),
            vec![dir.path().join("pidvisor/pidvisord.conf")]
        );
        assert_eq!(find_config(true, &env), None);
        std::fs::create_dir(dir.path().join("pidvisor")).unwrap();
        std::fs::write(dir.path().join("pidvisor/pidvisord.conf"), "").unwrap();
        assert_eq!(
            find_config(true, &env),
            Some(dir.path().join("pidvisor/pidvisord.conf"))
        );
        let env = Env::new(&[("HOME", "/home/u")], "h", dir.path());
        assert_eq!(
            search_paths(true, &env),
            vec![PathBuf::from("/home/u/.config/pidvisor/pidvisord.conf")]
        );
        // System mode finds ./supervisord.conf in the injected cwd.
        std::fs::write(dir.path().join("supervisord.conf"), "").unwrap();
        let env = Env::new(&[], "h", dir.path());
        let found = find_config(false, &env).unwrap();
        assert!(
            found == dir.path().join("supervisord.conf")
                || found.starts_with("/etc")
                || found.starts_with("/usr"),
            "{found:?}"
        );
    }
}
