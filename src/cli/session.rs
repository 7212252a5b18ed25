//! The per-user mode (`--session`, the same flag in `pidvisord` and
//! `pidvisorctl`): where a user's daemon keeps its socket, pidfile and logs,
//! found from the XDG base directories, so that a config with nothing but
//! `[program:x]` sections runs, and two users' daemons never share a file.
//!
//! | what | where |
//! | --- | --- |
//! | config | `$XDG_CONFIG_HOME/pidvisor/pidvisord.conf` (`~/.config/...`) |
//! | runtime dir (0700) | `$XDG_RUNTIME_DIR/pidvisor/`; root without it: `/run/pidvisor/` |
//! | control socket, pidfile | `pidvisord.sock`, `pidvisord.pid` in the runtime dir |
//! | main log, AUTO child logs | `$XDG_STATE_HOME/pidvisor/` (`~/.local/state/...`) |
//!
//! The paths become loader defaults ([`config::Defaults`]): a value the
//! file sets wins. Called by `crate::daemon` and `crate::ctl`; reads only
//! the injected [`Env`] and creates directories (`std::fs`).

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::config::{self, Env};

/// A user's per-user-mode directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Socket and pidfile: `$XDG_RUNTIME_DIR/pidvisor`.
    pub runtime_dir: PathBuf,
    /// Main log and AUTO child logs: `$XDG_STATE_HOME/pidvisor`.
    pub state_dir: PathBuf,
}

/// An XDG variable, if set to an absolute path (the spec says to ignore
/// relative ones).
fn xdg<'a>(env: &'a Env, name: &str) -> Option<&'a str> {
    env.var(name).filter(|v| v.starts_with('/'))
}

impl Session {
    /// The directories for the user `uid` runs as, from `env`.
    pub fn from_env(env: &Env, uid: u32) -> Result<Session, String> {
        let runtime_dir = match xdg(env, "XDG_RUNTIME_DIR") {
            Some(d) => Path::new(d).join("pidvisor"),
            None if uid == 0 => PathBuf::from("/run/pidvisor"),
            None => {
                return Err("--session needs XDG_RUNTIME_DIR (a login session or \
                     `systemctl --user` sets it)"
                    .into())
            }
        };
        let state_home = match (xdg(env, "XDG_STATE_HOME"), env.home()) {
            (Some(d), _) => PathBuf::from(d),
            (None, Some(home)) => Path::new(home).join(".local/state"),
            (None, None) => return Err("--session needs XDG_STATE_HOME or HOME".into()),
        };
        Ok(Session {
            runtime_dir,
            state_dir: state_home.join("pidvisor"),
        })
    }

    pub fn socket(&self) -> PathBuf {
        self.runtime_dir.join("pidvisord.sock")
    }

    /// `pidvisorctl`'s default server URL in per-user mode.
    pub fn serverurl(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The loader defaults of per-user mode: programs alone make a config.
    pub fn defaults(&self) -> config::Defaults {
        // Written as in a file: a '%' in a home directory stays a '%'.
        let text = |p: PathBuf| p.display().to_string().replace('%', "%%");
        let mut d = config::Defaults {
            sections_optional: true,
            ..Default::default()
        };
        for (section, key, value) in [
            (
                "supervisord",
                "logfile",
                text(self.state_dir.join("pidvisord.log")),
            ),
            (
                "supervisord",
                "pidfile",
                text(self.runtime_dir.join("pidvisord.pid")),
            ),
            ("supervisord", "childlogdir", text(self.state_dir.clone())),
            (
                "supervisorctl",
                "serverurl",
                format!("unix://{}", text(self.socket())),
            ),
        ] {
            d.options.insert((section.into(), key.into()), value);
        }
        d
    }

    /// Create both directories (mode 0700, parents as needed). The runtime
    /// directory must be ours: another user's would mix two daemons' files.
    pub fn create_dirs(&self, uid: u32) -> Result<(), String> {
        for dir in [&self.runtime_dir, &self.state_dir] {
            make_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let meta = std::fs::metadata(&self.runtime_dir)
            .map_err(|e| format!("{}: {e}", self.runtime_dir.display()))?;
        if meta.uid() != uid {
            return Err(format!(
                "{} belongs to uid {}, not to uid {uid}",
                self.runtime_dir.display(),
                meta.uid()
            ));
        }
        Ok(())
    }
}

/// `mkdir -p` with the usual mode for parents (`~/.local/state`) and 0700
/// for `dir` itself.
fn make_private_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn env(vars: &[(&str, &str)]) -> Env {
        Env::new(vars, "h", Path::new("/"))
    }

    #[test]
    fn xdg_paths_and_their_fallbacks() {
        let s = Session::from_env(
            &env(&[
                ("XDG_RUNTIME_DIR", "/run/user/1000"),
                ("XDG_STATE_HOME", "/st"),
                ("HOME", "/home/u"),
            ]),
            1000,
        )
        .unwrap();
        assert_eq!(s.runtime_dir, Path::new("/run/user/1000/pidvisor"));
        assert_eq!(s.state_dir, Path::new("/st/pidvisor"));
        assert_eq!(
            s.serverurl(),
            "unix:///run/user/1000/pidvisor/pidvisord.sock"
        );
        // A relative XDG_STATE_HOME is ignored (XDG spec): ~/.local/state.
        let s = Session::from_env(
            &env(&[
                ("XDG_RUNTIME_DIR", "/r"),
                ("XDG_STATE_HOME", "rel"),
                ("HOME", "/home/u"),
            ]),
            1000,
        )
        .unwrap();
        assert_eq!(s.state_dir, Path::new("/home/u/.local/state/pidvisor"));
        // root without a login session: /run/pidvisor.
        let s = Session::from_env(&env(&[("HOME", "/root")]), 0).unwrap();
        assert_eq!(s.runtime_dir, Path::new("/run/pidvisor"));
        let e = Session::from_env(&env(&[("HOME", "/home/u")]), 1000).unwrap_err();
        assert!(e.contains("XDG_RUNTIME_DIR"), "{e}");
        let e = Session::from_env(&env(&[("XDG_RUNTIME_DIR", "/r")]), 1000).unwrap_err();
        assert!(e.contains("HOME"), "{e}");
    }

    #[test]
    fn defaults_double_percent_signs() {
        let s = Session {
            runtime_dir: "/r%x/pidvisor".into(),
            state_dir: "/s/pidvisor".into(),
        };
        let d = s.defaults();
        let get = |sec: &str, key: &str| d.options[&(sec.to_string(), key.to_string())].clone();
        assert_eq!(
            get("supervisord", "pidfile"),
            "/r%%x/pidvisor/pidvisord.pid"
        );
        assert_eq!(get("supervisord", "logfile"), "/s/pidvisor/pidvisord.log");
        assert_eq!(get("supervisord", "childlogdir"), "/s/pidvisor");
        assert_eq!(
            get("supervisorctl", "serverurl"),
            "unix:///r%%x/pidvisor/pidvisord.sock"
        );
        assert!(d.sections_optional);
    }

    #[test]
    fn a_config_of_programs_alone_loads_with_the_session_paths() {
        let dir = tempfile::tempdir().unwrap();
        let s = Session {
            runtime_dir: dir.path().join("run/pidvisor"),
            state_dir: dir.path().join("state/pidvisor"),
        };
        s.create_dirs(crate::sys::cred::getuid()).unwrap();
        let mode = std::fs::metadata(&s.runtime_dir)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let conf = dir.path().join("pidvisord.conf");
        std::fs::write(&conf, "[program:x]\ncommand=sleep 1\n").unwrap();
        let mut e = Env::new(&[], "h", dir.path());
        // Supervisor's loader refuses a file without [supervisord] ...
        assert!(config::load(&conf, &e).is_err());
        // ... the per-user mode takes it, with its paths as defaults.
        e.defaults = s.defaults();
        let cfg = config::load(&conf, &e).unwrap();
        let sd = &cfg.supervisord;
        assert_eq!(sd.childlogdir, s.state_dir);
        assert_eq!(sd.pidfile, s.runtime_dir.join("pidvisord.pid"));
        assert_eq!(
            sd.logfile,
            config::MainLog::File(s.state_dir.join("pidvisord.log"))
        );
        let ctl = config::load_ctl(&conf, &e).unwrap();
        assert_eq!(ctl.serverurl, s.serverurl());
        // What the file says wins.
        std::fs::write(
            &conf,
            "[supervisord]\npidfile=%(here)s/mine.pid\n[program:x]\ncommand=sleep 1\n",
        )
        .unwrap();
        let cfg = config::load(&conf, &e).unwrap();
        assert_eq!(cfg.supervisord.pidfile, dir.path().join("mine.pid"));
        assert_eq!(cfg.supervisord.childlogdir, s.state_dir);
    }
}
