//! `[supervisord]`: its option table and how it is read.
//!
//! Every value is expanded with `here` and the `ENV_*` names of the
//! daemon's own environment (not yet `[supervisord] environment`, which is
//! read here); `environment` itself is expanded twice, the second time with
//! `host_node_name` too (Supervisor's quirk, issue #1441). The rows are in
//! Supervisor's read order.

use std::path::PathBuf;

use super::load::Loader;
use super::table::{DefaultValue, Expansion, Opt};
use super::types::*;
use super::values::*;
use crate::py::py_repr;

type Row = Opt<SupervisordSpec>;
use DefaultValue::{Computed, Text, Unset};
use Expansion::{Here, HereTwice};

/// Every option of `[supervisord]`.
pub(super) const SUPERVISORD: &[Row] = &[
    Row::new("minfds", Here, Text("1024"), |s, v, _| {
        s.minfds = parse_int(v)?;
        Ok(())
    }),
    Row::new("minprocs", Here, Text("200"), |s, v, _| {
        s.minprocs = parse_int(v)?;
        Ok(())
    }),
    Row::new("directory", Here, Unset, |s, v, c| {
        let e = c.env;
        let dir = existing_directory_in(v, e.home(), &e.cwd, &e.users)?;
        s.directory = Some(PathBuf::from(dir));
        Ok(())
    }),
    Row::new("user", Here, Unset, |s, v, c| {
        s.user = Some(c.env.users.user(v)?);
        Ok(())
    }),
    Row::new("umask", Here, Text("022"), |s, v, _| {
        s.umask = parse_octal(v)?;
        Ok(())
    }),
    Row::new("logfile", Here, Text("supervisord.log"), |s, v, c| {
        let e = c.env;
        let path = existing_dirpath_in(v, e.home(), &e.cwd, &e.users)?;
        s.logfile = if path == "syslog" {
            MainLog::Syslog
        } else {
            MainLog::File(normalize_path(&path, &e.cwd))
        };
        Ok(())
    }),
    Row::new("logfile_maxbytes", Here, Text("50MB"), |s, v, _| {
        s.logfile_maxbytes = parse_bytes(v)?;
        Ok(())
    }),
    Row::new("logfile_backups", Here, Text("10"), |s, v, _| {
        s.logfile_backups = parse_int(v)?;
        Ok(())
    }),
    Row::new("loglevel", Here, Text("info"), |s, v, _| {
        s.loglevel = parse_loglevel(v)?;
        Ok(())
    }),
    Row::new("pidfile", Here, Text("supervisord.pid"), |s, v, c| {
        let e = c.env;
        let path = existing_dirpath_in(v, e.home(), &e.cwd, &e.users)?;
        s.pidfile = normalize_path(&path, &e.cwd);
        Ok(())
    }),
    Row::new("identifier", Here, Text("supervisor"), |s, v, _| {
        s.identifier = v.to_string();
        Ok(())
    }),
    Row::new("nodaemon", Here, Text("false"), |s, v, _| {
        s.nodaemon = parse_bool(v)?;
        Ok(())
    }),
    Row::new("silent", Here, Text("false"), |s, v, _| {
        s.silent = parse_bool(v)?;
        Ok(())
    }),
    Row::new(
        "childlogdir",
        Here,
        Computed {
            doc: "the temporary directory ($TMPDIR, $TEMP, $TMP, else /tmp)",
            text: |_, env| env.tempdir(),
        },
        |s, v, c| {
            let e = c.env;
            s.childlogdir = PathBuf::from(existing_directory_in(v, e.home(), &e.cwd, &e.users)?);
            Ok(())
        },
    ),
    Row::new("nocleanup", Here, Text("false"), |s, v, _| {
        s.nocleanup = parse_bool(v)?;
        Ok(())
    }),
    Row::new("strip_ansi", Here, Text("false"), |s, v, _| {
        s.strip_ansi = parse_bool(v)?;
        Ok(())
    }),
    Row::new("environment", HereTwice, Text(""), |s, v, _| {
        s.environment = parse_environment(v)?;
        Ok(())
    }),
    // pidvisor's own options (a real supervisord ignores them).
    Row::new("cgroups", Here, Text("false"), |s, v, _| {
        s.cgroups = parse_bool(v)?;
        Ok(())
    }),
    Row::new("dbus", Here, Text("auto"), |s, v, _| {
        s.dbus = parse_dbus(v)?;
        Ok(())
    }),
    Row::new("dbus_group", Here, Unset, |s, v, c| {
        c.env.users.group(v)?;
        s.dbus_group = Some(v.to_string());
        Ok(())
    }),
    Row::new("web_ui", Here, Text("true"), |s, v, _| {
        s.web_ui = parse_bool(v)?;
        Ok(())
    }),
    // Container mode (issue 18); the names are checked against the
    // programs and groups once they are read (`depends.rs`).
    Row::new("exit_on_fatal", Here, Text(""), |s, v, _| {
        s.exit_on_fatal = super::our_values::parse_exit_on_fatal(v)?;
        Ok(())
    }),
];

/// The keys of [`SUPERVISORD`].
pub static SUPERVISORD_KEYS: [&str; SUPERVISORD.len()] = super::table::keys(SUPERVISORD);

/// `[supervisord]` read (a missing section reads as all defaults; the
/// loader reports it missing).
pub(super) fn supervisord(loader: &mut Loader) -> SupervisordSpec {
    let names = loader.names(&[loader.here()]);
    let mut spec = blank();
    loader.apply(
        "supervisord",
        SUPERVISORD,
        &mut spec,
        &[(Here, &names), (HereTwice, &names)],
    );
    spec
}

/// Placeholders, every one of which a row overwrites or leaves unset.
fn blank() -> SupervisordSpec {
    SupervisordSpec {
        logfile: MainLog::Syslog,
        logfile_maxbytes: 0,
        logfile_backups: 0,
        loglevel: LogLevel::Info,
        pidfile: PathBuf::new(),
        umask: 0,
        nodaemon: false,
        silent: false,
        minfds: 0,
        minprocs: 0,
        nocleanup: false,
        childlogdir: PathBuf::new(),
        user: None,
        directory: None,
        strip_ansi: false,
        environment: Vec::new(),
        identifier: String::new(),
        cgroups: false,
        dbus: DbusMode::Auto,
        dbus_group: None,
        web_ui: true,
        exit_on_fatal: ExitOnFatal::Never,
    }
}

/// pidvisor's `[supervisord] dbus = auto|true|false` (boolean words accepted).
fn parse_dbus(v: &str) -> Result<DbusMode, String> {
    if v.eq_ignore_ascii_case("auto") {
        return Ok(DbusMode::Auto);
    }
    match parse_bool(v) {
        Ok(true) => Ok(DbusMode::On),
        Ok(false) => Ok(DbusMode::Off),
        Err(_) => Err(format!(
            "not a valid dbus value: {} (expected auto, true or false)",
            py_repr(v)
        )),
    }
}
