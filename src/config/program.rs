//! `[program:x]`, and the program part of `[eventlistener:x]` and
//! `[fcgi-program:x]`: the option table, the rules that tie its options
//! together, and Supervisor's `processes_from_section` (one
//! [`ProgramSpec`] per `process_num`).
//!
//! The table is in Supervisor's read order: the options read once per
//! section first, then those read once per process (after the program's
//! `environment` has been expanded for that process, so they may use its
//! `ENV_*` names).

use std::path::PathBuf;

use super::env::Env;
use super::info::{logfile_value, ConfigValue};
use super::load::{Loader, Report};
use super::our_values::*;
use super::signal::parse_signal;
use super::table::{apply_defaults, Ctx, DefaultValue, Expansion, Opt, Rule};
use super::types::*;
use super::values::*;
use crate::py::percent::{Names, Val};

/// The longest `startsecs`/`stopwaitsecs` kept (68 years): a deadline that
/// far is never reached, a monotonic clock can hold it (`i64::MAX` seconds
/// added to now overflows), and it is the largest int XML-RPC can carry
/// (Supervisor faults on getAllConfigInfo above it).
pub const MAX_WAIT_SECS: i64 = i32::MAX as i64;

/// The most processes one configuration may define (`numprocs`, and all
/// sections together). The daemon holds three fds per running process (its
/// pidfd and the read ends of its stdout and stderr pipes): 65536 processes
/// are 196608 fds, within systemd's default hard `RLIMIT_NOFILE` (524288)
/// with room left for clients, and well within the kernel's `pid_max`
/// ceiling (4194304). A larger number is a typo or an attack, and would
/// cost the loader memory and time before failing at spawn anyway.
pub const MAX_PROCESSES: i64 = 65536;

/// A program section as read so far: the spec every process starts from,
/// and what is only needed to make the processes.
#[derive(Debug, Clone)]
pub(super) struct ProgramDraft {
    pub spec: ProgramSpec,
    pub numprocs: i64,
    pub numprocs_start: i64,
    /// `process_name` as written (expanded per process).
    pub process_name: String,
    /// `environment` as written, if set (expanded per process).
    pub environment: Option<String>,
    /// `stdout_logfile` and `stderr_logfile` as read, before the rules
    /// turn them into [`LogFile`]s.
    pub logfile: [LogName; 2],
}

impl ProgramDraft {
    /// Placeholders, every one of which the table's defaults overwrite.
    fn blank(name: &str) -> ProgramDraft {
        let log = LogSpec {
            file: LogFile::Auto,
            maxbytes: 0,
            backups: 0,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
            timestamps: false,
        };
        ProgramDraft {
            spec: ProgramSpec {
                name: name.into(),
                group: name.into(),
                program: name.into(),
                process_num: 0,
                command: String::new(),
                priority: 0,
                autostart: false,
                startsecs: 0,
                startretries: 0,
                autorestart: AutoRestart::Never,
                exitcodes: Vec::new(),
                stopsignal: 0,
                stopwaitsecs: 0,
                stopasgroup: false,
                killasgroup: false,
                user: None,
                redirect_stderr: false,
                stdout: log.clone(),
                stderr: log,
                environment: Vec::new(),
                directory: None,
                umask: None,
                serverurl: None,
                cgroup: None,
                memory_max: None,
                pids_max: None,
                cpu_max: None,
                notify: NotifySpec::default(),
                depends_on: Vec::new(),
                restart: RestartPolicy::default(),
                environment_file: None,
                capabilities: 0,
                no_new_privs: false,
                origin: Origin::default(),
            },
            numprocs: 0,
            numprocs_start: 0,
            process_name: String::new(),
            environment: None,
            logfile: [LogName::Auto, LogName::Auto],
        }
    }

    /// A program called `name` with every option at its table default.
    pub fn defaults(name: &str) -> ProgramDraft {
        let mut draft = ProgramDraft::blank(name);
        apply_defaults(PROGRAM, &mut draft, &Env::default());
        draft
    }

    fn log_mut(&mut self, stream: usize) -> &mut LogSpec {
        match stream {
            0 => &mut self.spec.stdout,
            _ => &mut self.spec.stderr,
        }
    }
}

type Row = Opt<ProgramDraft>;
use DefaultValue::{Computed, Required, Text, Unset};
use Expansion::{Process, ProcessTwice, Raw, Section};

/// Every option of `[program:x]`.
pub(super) const PROGRAM: &[Row] = &[
    Row::new("priority", Section, Text("999"), |d, v, _| {
        d.spec.priority = parse_int(v)?;
        Ok(())
    })
    .info("process_prio", |p, _| ConfigValue::Int(p.priority)),
    Row::new("autostart", Section, Text("true"), |d, v, _| {
        d.spec.autostart = parse_bool(v)?;
        Ok(())
    })
    .info("autostart", |p, _| ConfigValue::Bool(p.autostart)),
    Row::new("autorestart", Section, Text("unexpected"), |d, v, _| {
        d.spec.autorestart = parse_autorestart(v)?;
        Ok(())
    }),
    Row::new("startsecs", Section, Text("1"), |d, v, _| {
        d.spec.startsecs = parse_int(v)?.min(MAX_WAIT_SECS);
        Ok(())
    })
    .info("startsecs", |p, _| ConfigValue::Int(p.startsecs)),
    Row::new("startretries", Section, Text("3"), |d, v, _| {
        d.spec.startretries = parse_int(v)?;
        Ok(())
    })
    .info("startretries", |p, _| ConfigValue::Int(p.startretries)),
    Row::new("stopsignal", Section, Text("TERM"), |d, v, _| {
        d.spec.stopsignal = parse_signal(v)?;
        Ok(())
    })
    .info("stopsignal", |p, _| ConfigValue::Int(p.stopsignal.into())),
    Row::new("stopwaitsecs", Section, Text("10"), |d, v, _| {
        d.spec.stopwaitsecs = parse_int(v)?.min(MAX_WAIT_SECS);
        Ok(())
    })
    .info("stopwaitsecs", |p, _| ConfigValue::Int(p.stopwaitsecs)),
    Row::new("stopasgroup", Section, Text("false"), |d, v, _| {
        d.spec.stopasgroup = parse_bool(v)?;
        Ok(())
    }),
    Row::new(
        "killasgroup",
        Section,
        Computed {
            doc: "the value of stopasgroup",
            text: |d, _| d.spec.stopasgroup.to_string(),
        },
        |d, v, _| {
            d.spec.killasgroup = parse_bool(v)?;
            Ok(())
        },
    )
    .info("killasgroup", |p, _| ConfigValue::Bool(p.killasgroup)),
    Row::new("exitcodes", Section, Text("0"), |d, v, _| {
        d.spec.exitcodes = parse_exitcodes(v)?;
        Ok(())
    })
    .info("exitcodes", |p, _| {
        ConfigValue::Ints(p.exitcodes.iter().map(|&c| c.into()).collect())
    }),
    Row::new("redirect_stderr", Section, Text("false"), |d, v, _| {
        d.spec.redirect_stderr = parse_bool(v)?;
        Ok(())
    })
    .info("redirect_stderr", |p, _| {
        ConfigValue::Bool(p.redirect_stderr)
    }),
    Row::new("numprocs", Section, Text("1"), |d, v, _| {
        let n = parse_int(v)?;
        if n > MAX_PROCESSES {
            return Err(format!(
                "numprocs {} is above the limit of {MAX_PROCESSES} processes",
                py_int_text(v)
            ));
        }
        d.numprocs = n;
        Ok(())
    }),
    Row::new("numprocs_start", Section, Text("0"), |d, v, _| {
        d.numprocs_start = parse_int(v)?;
        Ok(())
    }),
    Row::new("environment", Raw, Unset, |d, v, _| {
        d.environment = Some(v.to_string());
        Ok(())
    }),
    Row::new("stdout_capture_maxbytes", Section, Text("0"), capture::<0>)
        .info("stdout_capture_maxbytes", |p, _| {
            ConfigValue::Int(p.stdout.capture_maxbytes)
        }),
    Row::new("stdout_events_enabled", Section, Text("false"), events::<0>)
        .info("stdout_events_enabled", |p, _| {
            ConfigValue::Bool(p.stdout.events_enabled)
        }),
    Row::new("stderr_capture_maxbytes", Section, Text("0"), capture::<1>)
        .info("stderr_capture_maxbytes", |p, _| {
            ConfigValue::Int(p.stderr.capture_maxbytes)
        }),
    Row::new("stderr_events_enabled", Section, Text("false"), events::<1>)
        .info("stderr_events_enabled", |p, _| {
            ConfigValue::Bool(p.stderr.events_enabled)
        }),
    Row::new("serverurl", Section, Unset, |d, v, _| {
        // AUTO (any case, or empty) means the daemon's own URL: None.
        d.spec.serverurl =
            Some(v.to_string()).filter(|u| !u.is_empty() && !u.trim().eq_ignore_ascii_case("AUTO"));
        Ok(())
    })
    .info("serverurl", |p, _| {
        p.serverurl
            .clone()
            .map_or_else(ConfigValue::none, ConfigValue::Str)
    }),
    Row::new("user", Section, Unset, |d, v, c| {
        d.spec.user = Some(c.env.users.user(v)?);
        Ok(())
    })
    .info("uid", |p, _| {
        p.user
            .as_ref()
            .map_or_else(ConfigValue::none, |u| ConfigValue::Int(u.uid.into()))
    }),
    Row::new("umask", Section, Unset, |d, v, _| {
        d.spec.umask = Some(parse_octal(v)?);
        Ok(())
    }),
    Row::new("cgroup", Section, Unset, |d, v, _| {
        d.spec.cgroup = Some(parse_bool(v)?);
        Ok(())
    }),
    Row::new("memory_max", Section, Unset, |d, v, _| {
        d.spec.memory_max = Some(parse_memory_max(v)?);
        Ok(())
    }),
    Row::new("pids_max", Section, Unset, |d, v, _| {
        d.spec.pids_max = Some(parse_pids_max(v)?);
        Ok(())
    }),
    Row::new("cpu_max", Section, Unset, |d, v, _| {
        d.spec.cpu_max = Some(parse_cpu_max(v)?);
        Ok(())
    }),
    // pidvisor's own options (issue 18; a real supervisord ignores them).
    Row::new("depends_on", Section, Text(""), |d, v, _| {
        d.spec.depends_on = parse_name_list(v)?;
        Ok(())
    })
    .extension("depends_on", |p, _| {
        ConfigValue::Str(p.depends_on.join(","))
    }),
    Row::new("restart_delay", Section, Text("0"), |d, v, _| {
        d.spec.restart.delay = parse_whole_seconds(v)?;
        Ok(())
    })
    .extension("restart_delay", |p, _| ConfigValue::Int(p.restart.delay)),
    Row::new("start_limit_burst", Section, Text("0"), |d, v, _| {
        d.spec.restart.limit_burst = parse_count(v)?;
        Ok(())
    })
    .extension("start_limit_burst", |p, _| {
        ConfigValue::Int(p.restart.limit_burst)
    }),
    Row::new("start_limit_interval", Section, Text("10"), |d, v, _| {
        d.spec.restart.limit_interval = parse_whole_seconds(v)?;
        Ok(())
    })
    .extension("start_limit_interval", |p, _| {
        ConfigValue::Int(p.restart.limit_interval)
    }),
    Row::new("capabilities", Section, Text(""), |d, v, _| {
        d.spec.capabilities = parse_capabilities(v)?;
        Ok(())
    })
    .extension("capabilities", |p, _| {
        ConfigValue::Str(capability_names(p.capabilities).join(","))
    }),
    Row::new("no_new_privs", Section, Text("false"), |d, v, _| {
        d.spec.no_new_privs = parse_bool(v)?;
        Ok(())
    })
    .extension("no_new_privs", |p, _| ConfigValue::Bool(p.no_new_privs)),
    Row::new("process_name", Raw, Text("%(program_name)s"), |d, v, _| {
        d.process_name = parse_name(v)?;
        Ok(())
    })
    .info("name", |p, _| ConfigValue::Str(p.name.clone())),
    // ---- read once per process ----
    Row::new("directory", Process, Unset, |d, v, _| {
        d.spec.directory = Some(PathBuf::from(v));
        Ok(())
    })
    .info("directory", |p, _| {
        p.directory.as_ref().map_or_else(ConfigValue::none, |d| {
            ConfigValue::Str(d.display().to_string())
        })
    }),
    Row::new("stdout_logfile", ProcessTwice, Text("AUTO"), logfile::<0>)
        .info("stdout_logfile", |p, c| {
            logfile_value(&p.stdout.file, c.stdout_logfile)
        }),
    Row::new("stdout_logfile_backups", Process, Text("10"), backups::<0>)
        .info("stdout_logfile_backups", |p, _| {
            ConfigValue::Int(p.stdout.backups)
        }),
    Row::new(
        "stdout_logfile_maxbytes",
        Process,
        Text("50MB"),
        maxbytes::<0>,
    )
    .info("stdout_logfile_maxbytes", |p, _| {
        ConfigValue::Int(p.stdout.maxbytes)
    }),
    Row::new("stdout_syslog", Process, Text("false"), syslog::<0>)
        .info("stdout_syslog", |p, _| ConfigValue::Bool(p.stdout.syslog)),
    Row::new("stderr_logfile", ProcessTwice, Text("AUTO"), logfile::<1>)
        .info("stderr_logfile", |p, c| {
            logfile_value(&p.stderr.file, c.stderr_logfile)
        }),
    Row::new("stderr_logfile_backups", Process, Text("10"), backups::<1>)
        .info("stderr_logfile_backups", |p, _| {
            ConfigValue::Int(p.stderr.backups)
        }),
    Row::new(
        "stderr_logfile_maxbytes",
        Process,
        Text("50MB"),
        maxbytes::<1>,
    )
    .info("stderr_logfile_maxbytes", |p, _| {
        ConfigValue::Int(p.stderr.maxbytes)
    }),
    Row::new("stderr_syslog", Process, Text("false"), syslog::<1>)
        .info("stderr_syslog", |p, _| ConfigValue::Bool(p.stderr.syslog)),
    // The notify protocol (issue 17): pidvisor's keys.
    Row::new("ready", Section, Text("startsecs"), |d, v, _| {
        d.spec.notify.ready = parse_ready(v)?;
        Ok(())
    }),
    Row::new("ready_timeout_sec", Section, Text("90"), |d, v, _| {
        d.spec.notify.ready_timeout = parse_seconds(v)?;
        Ok(())
    }),
    Row::new("watchdog_sec", Section, Text("0"), |d, v, _| {
        d.spec.notify.watchdog = parse_seconds(v)?;
        Ok(())
    }),
    Row::new("watchdog_signal", Section, Text("ABRT"), |d, v, _| {
        d.spec.notify.watchdog_signal = parse_signal(v)?;
        Ok(())
    }),
    Row::new(
        "notify_access",
        Section,
        Computed {
            doc: "main with ready=notify or a watchdog, else none",
            text: |d, _| {
                let needs = needs_notify_socket(&d.spec.notify);
                if needs { "main" } else { "none" }.to_string()
            },
        },
        |d, v, _| {
            d.spec.notify.access = parse_notify_access(v)?;
            Ok(())
        },
    ),
    Row::new("pidfile", Process, Unset, |d, v, _| {
        let path = PathBuf::from(v.trim());
        if !path.is_absolute() {
            let shown = crate::py::py_repr(v);
            return Err(format!("pidfile must be an absolute path: {shown}"));
        }
        d.spec.notify.pidfile = Some(path);
        Ok(())
    }),
    // pidvisor's own options read per process (issue 18).
    Row::new("environment_file", Process, Unset, |d, v, _| {
        d.spec.environment_file = Some(parse_environment_file(v)?);
        Ok(())
    })
    .extension("environment_file", |p, _| match &p.environment_file {
        None => ConfigValue::none(),
        Some(f) => {
            let dash = if f.optional { "-" } else { "" };
            ConfigValue::Str(format!("{dash}{}", f.path.display()))
        }
    }),
    Row::new("stdout_log_timestamps", Process, Text("false"), stamps::<0>)
        .extension("stdout_log_timestamps", |p, _| {
            ConfigValue::Bool(p.stdout.timestamps)
        }),
    Row::new("stderr_log_timestamps", Process, Text("false"), stamps::<1>)
        .extension("stderr_log_timestamps", |p, _| {
            ConfigValue::Bool(p.stderr.timestamps)
        }),
    Row::new(
        "command",
        Process,
        Required(|s| format!("program section {s} does not specify a command")),
        |d, v, _| {
            d.spec.command = v.to_string();
            Ok(())
        },
    )
    .info("command", |p, _| ConfigValue::Str(p.command.clone())),
];

/// The keys of [`PROGRAM`].
pub static PROGRAM_KEYS: [&str; PROGRAM.len()] = super::table::keys(PROGRAM);

fn capture<const S: usize>(d: &mut ProgramDraft, v: &str, _: &Ctx) -> Result<(), String> {
    d.log_mut(S).capture_maxbytes = parse_bytes(v)?;
    Ok(())
}

fn events<const S: usize>(d: &mut ProgramDraft, v: &str, _: &Ctx) -> Result<(), String> {
    d.log_mut(S).events_enabled = parse_bool(v)?;
    Ok(())
}

fn logfile<const S: usize>(d: &mut ProgramDraft, v: &str, c: &Ctx) -> Result<(), String> {
    let env = c.env;
    d.logfile[S] = parse_logfile(v, env.home(), &env.cwd, &env.users)?;
    Ok(())
}

fn backups<const S: usize>(d: &mut ProgramDraft, v: &str, _: &Ctx) -> Result<(), String> {
    d.log_mut(S).backups = parse_int(v)?;
    Ok(())
}

fn maxbytes<const S: usize>(d: &mut ProgramDraft, v: &str, _: &Ctx) -> Result<(), String> {
    d.log_mut(S).maxbytes = parse_bytes(v)?;
    Ok(())
}

fn stamps<const S: usize>(d: &mut ProgramDraft, v: &str, _: &Ctx) -> Result<(), String> {
    d.log_mut(S).timestamps = parse_bool(v)?;
    Ok(())
}

fn syslog<const S: usize>(d: &mut ProgramDraft, v: &str, _: &Ctx) -> Result<(), String> {
    d.log_mut(S).syslog = parse_bool(v)?;
    Ok(())
}

// ---- rules ---------------------------------------------------------------

/// The rules on a section's options, run once its section rows are read.
const SECTION_RULES: &[Rule<ProgramDraft>] = &[
    process_num_in_name,
    stopasgroup_needs_killasgroup,
    notify_needs_its_socket,
    start_limit_needs_an_interval,
    capabilities_need_a_user,
];

/// The rules on one process's options, run once its process rows are read.
const PROCESS_RULES: &[Rule<ProgramDraft>] =
    &[log_names_become_files, redirect_stderr_drops_its_log];

/// Several processes need names that differ by `process_num`.
fn process_num_in_name(draft: &mut ProgramDraft, report: &mut Report) {
    if draft.numprocs > 1 && !draft.process_name.contains("%(process_num)") {
        report.fail(
            "process_name",
            "%(process_num) must be present within process_name when numprocs > 1".into(),
        );
    }
}

/// Stopping a group while killing only the leader would leave the group.
fn stopasgroup_needs_killasgroup(draft: &mut ProgramDraft, report: &mut Report) {
    if draft.spec.stopasgroup && !draft.spec.killasgroup {
        report.fail(
            "killasgroup",
            "Cannot set stopasgroup=true and killasgroup=false".into(),
        );
    }
}

/// Whether readiness or a watchdog is delivered on the notify socket.
fn needs_notify_socket(n: &NotifySpec) -> bool {
    n.ready == Readiness::Notify || !n.watchdog.is_zero()
}

/// `ready=notify` and a watchdog come through the notify socket, which
/// `notify_access=none` closes.
fn notify_needs_its_socket(draft: &mut ProgramDraft, report: &mut Report) {
    let n = &draft.spec.notify;
    if needs_notify_socket(n) && n.access == NotifyAccess::None {
        let why = if n.ready == Readiness::Notify {
            "ready=notify"
        } else {
            "watchdog_sec"
        };
        let msg = format!("{why} needs the notify socket: notify_access must be main or all");
        report.fail("notify_access", msg);
    }
}

/// A burst counted over no time at all would never be reached.
fn start_limit_needs_an_interval(draft: &mut ProgramDraft, report: &mut Report) {
    let r = draft.spec.restart;
    if r.limit_burst > 0 && r.limit_interval == 0 {
        report.fail(
            "start_limit_interval",
            "start_limit_interval must be at least 1 second when start_limit_burst is set".into(),
        );
    }
}

/// Capabilities are what `user=` would otherwise take away: a process that
/// stays root has them all already (and a daemon that is not root has none
/// to give).
fn capabilities_need_a_user(draft: &mut ProgramDraft, report: &mut Report) {
    let needs_user =
        draft.spec.capabilities != 0 && draft.spec.user.as_ref().map_or(true, |u| u.uid == 0);
    if needs_user {
        report.fail(
            "capabilities",
            "capabilities are kept across a drop to a user: set user= to a user other than root"
                .into(),
        );
    }
}

/// `stdout_logfile`/`stderr_logfile` to [`LogFile`]: `syslog` is the
/// deprecated spelling of `*_syslog=true`; an empty name keeps no log (it
/// is falsy to Supervisor); AUTO without rotation earns a warning.
fn log_names_become_files(draft: &mut ProgramDraft, report: &mut Report) {
    for (stream, name) in ["stdout", "stderr"].into_iter().enumerate() {
        let section = report.section().to_string();
        let file = match &draft.logfile[stream] {
            LogName::Syslog => {
                report.warn(format!(
                    "For [{section}], {name}_logfile=syslog but this is deprecated and will be removed.  Use {name}_syslog=true to enable syslog instead."
                ));
                draft.log_mut(stream).syslog = true;
                LogFile::None
            }
            LogName::None => LogFile::None,
            LogName::Auto => {
                if draft.log_mut(stream).maxbytes == 0 {
                    report.warn(format!(
                        "For [{section}], AUTO logging used for {name}_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"
                    ));
                }
                LogFile::Auto
            }
            LogName::Path(p) if p.is_empty() => LogFile::None,
            LogName::Path(p) => LogFile::Path(PathBuf::from(p)),
        };
        draft.log_mut(stream).file = file;
    }
}

/// With `redirect_stderr`, stderr goes to stdout's log and has none of its
/// own; a name given anyway (even an empty one) is ignored, with a warning.
fn redirect_stderr_drops_its_log(draft: &mut ProgramDraft, report: &mut Report) {
    if !draft.spec.redirect_stderr {
        return;
    }
    if matches!(draft.logfile[1], LogName::Path(_)) {
        let section = report.section().to_string();
        report.warn(format!(
            "For [{section}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored"
        ));
    }
    draft.spec.stderr.file = LogFile::None;
}

// ---- processes_from_section -----------------------------------------------

/// A program section read: its options (the first process's template) and
/// its processes.
pub(super) struct Program {
    pub draft: ProgramDraft,
    pub processes: Vec<ProgramSpec>,
}

/// Supervisor's `processes_from_section` for `section` in group `group`:
/// one [`ProgramSpec`] per `process_num`. `None` when the section's name is
/// invalid. Problems are recorded in the loader.
pub(super) fn program(loader: &mut Loader, section: &str, group: &str) -> Option<Program> {
    let origin = loader.section_origin(section);
    let raw_name = section.split_once(':').map_or("", |(_, n)| n);
    let program_name = match parse_name(raw_name) {
        Ok(n) => n,
        Err(m) => {
            loader.err(section, None, &origin, m);
            return None;
        }
    };
    let common = loader.names(&[
        loader.here(),
        ("program_name", Val::Str(program_name.clone())),
        loader.host(),
        ("group_name", Val::Str(group.to_string())),
    ]);
    let mut draft = ProgramDraft::defaults(&program_name);
    draft.spec.group = group.to_string();
    draft.spec.origin = origin;
    loader.apply(
        section,
        PROGRAM,
        &mut draft,
        &[(Section, &common), (Raw, &common)],
    );
    loader.check(section, &mut draft, SECTION_RULES);
    let count = draft.numprocs.max(0);
    if !loader.admit_processes(section, count) {
        return Some(Program {
            draft,
            processes: Vec::new(),
        });
    }
    let first = draft.numprocs_start;
    let processes = (first..first.saturating_add(count))
        .map(|num| process(loader, section, &draft, &common, num))
        .collect();
    Some(Program { draft, processes })
}

/// One process of a program section: its names, environment and the
/// options read per process.
fn process(
    loader: &mut Loader,
    section: &str,
    template: &ProgramDraft,
    common: &Names,
    num: i64,
) -> ProgramSpec {
    let mut names = common.clone();
    names.insert("process_num".into(), Val::Int(num));
    names.insert("numprocs".into(), Val::Int(template.numprocs));
    let mut draft = template.clone();
    draft.spec.process_num = num;
    let own = match &template.environment {
        None => Vec::new(),
        Some(raw) => loader
            .expand_option(section, "environment", raw, &names, "environment")
            .and_then(|text| {
                parse_environment(&text)
                    .map_err(|m| loader.fail(section, "environment", m))
                    .ok()
            })
            .unwrap_or_default(),
    };
    for (k, v) in &own {
        names.insert(format!("ENV_{k}"), Val::Str(v.clone()));
    }
    draft.spec.environment = merge_env(loader.supervisord_env(), own);
    loader.apply(
        section,
        PROGRAM,
        &mut draft,
        &[(Process, &names), (ProcessTwice, &names)],
    );
    loader.check(section, &mut draft, PROCESS_RULES);
    draft.spec.name = loader
        .expand_option(
            section,
            "process_name",
            &template.process_name,
            &names,
            "process_name",
        )
        .unwrap_or_else(|| draft.spec.program.clone());
    draft.spec
}

/// A program's environment as Supervisor's `read_config` leaves it: a copy
/// of `[supervisord] environment` updated with the program's own pairs (a
/// key of both keeps its place and takes the program's value). So a change
/// of the supervisord environment changes every program's spec.
fn merge_env(base: &[(String, String)], own: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    for (k, v) in own {
        match env.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => env.push((k, v)),
        }
    }
    env
}

impl ProgramSpec {
    /// A spec with every option at its default (the program table's), for
    /// tests and examples.
    pub fn with_defaults(name: &str, command: &str) -> ProgramSpec {
        let mut spec = ProgramDraft::defaults(name).spec;
        spec.command = command.into();
        spec
    }
}
