//! Loader tests: defaults, expansions, section rules and error texts.

use super::*;

struct T {
    dir: tempfile::TempDir,
}

impl T {
    fn new() -> T {
        T {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn d(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    fn env(&self) -> Env {
        let d = self.d();
        Env::new(
            &[("HOME", "/home/u"), ("TMPDIR", &d), ("FOO", "bar")],
            "node1",
            self.dir.path(),
        )
    }

    fn load(&self, text: &str) -> Result<Config, ConfigErrors> {
        let p = self.write("s.conf", text);
        load(&p, &self.env())
    }

    fn ok(&self, text: &str) -> Config {
        match self.load(text) {
            Ok(c) => c,
            Err(e) => panic!("unexpected errors:\n{e}"),
        }
    }

    fn errs(&self, text: &str) -> Vec<String> {
        match self.load(text) {
            Ok(_) => panic!("expected errors"),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    /// The message of the single error.
    fn err1(&self, text: &str) -> String {
        match self.load(text) {
            Ok(_) => panic!("expected an error"),
            Err(e) => {
                assert_eq!(e.len(), 1, "{e}");
                e.0[0].message.clone()
            }
        }
    }
}

fn prog<'a>(c: &'a Config, name: &str) -> &'a ProgramSpec {
    c.groups
        .iter()
        .flat_map(|g| &g.processes)
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no process {name}"))
}

#[test]
fn supervisord_defaults() {
    let t = T::new();
    let c = t.ok("[supervisord]\n");
    let s = &c.supervisord;
    assert_eq!(s.logfile, MainLog::File(t.path("supervisord.log")));
    assert_eq!(s.pidfile, t.path("supervisord.pid"));
    assert_eq!(s.childlogdir, PathBuf::from(t.d()));
    assert_eq!(s.logfile_maxbytes, 50 * 1024 * 1024);
    assert_eq!(s.logfile_backups, 10);
    assert_eq!(s.loglevel, LogLevel::Info);
    assert_eq!(s.umask, 0o22);
    assert_eq!((s.minfds, s.minprocs), (1024, 200));
    assert!(!s.nodaemon && !s.silent && !s.nocleanup && !s.strip_ansi);
    assert_eq!(s.user, None);
    assert_eq!(s.directory, None);
    assert_eq!(s.identifier, "supervisor");
    assert!(s.environment.is_empty());
    assert!(!s.cgroups, "cgroups are opt-in (issue 6)");
    assert_eq!(s.dbus, DbusMode::Auto);
    assert_eq!(s.dbus_group, None);
    assert_eq!(c.supervisorctl, CtlSpec::default());
    assert!(c.groups.is_empty());
    assert!(c.messages.is_empty());
}

#[test]
fn missing_supervisord_section_and_missing_file() {
    let t = T::new();
    assert_eq!(
        t.err1("[program:a]\ncommand=x\n"),
        ".ini file does not include supervisord section"
    );
    let e = load(Path::new("nope.conf"), &t.env()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "nope.conf: could not find config file nope.conf"
    );
}

#[test]
fn program_defaults_equal_with_defaults() {
    let t = T::new();
    let c = t.ok("[supervisord]\n[program:cat]\ncommand=/bin/cat\n");
    let mut want = ProgramSpec::with_defaults("cat", "/bin/cat");
    want.origin = Origin {
        file: t.path("s.conf"),
        line: 2,
    };
    assert_eq!(c.groups.len(), 1);
    assert_eq!(c.groups[0].kind, GroupKind::Program);
    assert_eq!(c.groups[0].priority, 999);
    assert_eq!(c.groups[0].processes, vec![std::sync::Arc::new(want)]);
}

#[test]
fn expansion_names_per_option() {
    let t = T::new();
    let d = t.d();
    let c = t.ok(
        "[supervisord]\nenvironment=GLOBAL=\"g %%%%\",HN=%%(host_node_name)s\nidentifier=%(ENV_FOO)s-%(here)s\n\
         [program:web]\nnumprocs=2\nnumprocs_start=1\nprocess_name=%(program_name)s_%(process_num)02d\n\
         environment=PORT=\"80%(process_num)d\"\n\
         command=/bin/srv %(ENV_PORT)s %(group_name)s %(host_node_name)s %(numprocs)d %(ENV_GLOBAL)s\n\
         directory=/srv/%(ENV_PORT)s\nstdout_logfile=%(here)s/%(program_name)s-%(ENV_PORT)s.log\n",
    );
    assert_eq!(c.supervisord.identifier, format!("bar-{d}"));
    assert_eq!(
        c.supervisord.environment,
        vec![
            ("GLOBAL".to_string(), "g %".to_string()),
            ("HN".to_string(), "node1".to_string())
        ]
    );
    let p1 = prog(&c, "web_01");
    assert_eq!(p1.command, "/bin/srv 801 web node1 2 g %");
    assert_eq!(p1.directory, Some(PathBuf::from("/srv/801")));
    assert_eq!(
        p1.stdout.file,
        LogFile::Path(PathBuf::from(format!("{d}/web-801.log")))
    );
    // [supervisord] environment is merged in first, as Supervisor does.
    assert_eq!(
        p1.environment,
        vec![
            ("GLOBAL".to_string(), "g %".to_string()),
            ("HN".to_string(), "node1".to_string()),
            ("PORT".to_string(), "801".to_string())
        ]
    );
    assert_eq!(p1.process_num, 1);
    let p2 = prog(&c, "web_02");
    assert_eq!(p2.command, "/bin/srv 802 web node1 2 g %");
    assert_eq!(c.groups[0].processes.len(), 2);
}

#[test]
fn unknown_name_error_lists_available_names() {
    let t = T::new();
    let msg = t.err1("[supervisord]\n[program:x]\ncommand=/bin/true %(ENV_NOPE)s\n");
    assert!(
        msg.starts_with(
            "Format string '/bin/true %(ENV_NOPE)s' for 'program:x.command' contains names ('ENV_NOPE') which cannot be expanded. Available names: ENV_FOO, ENV_HOME, ENV_TMPDIR, group_name, here, host_node_name, numprocs, process_num, program_name"
        ),
        "{msg}"
    );
    // Group-level keys do not see process_num.
    let msg = t.err1("[supervisord]\n[program:x]\ncommand=c\nstartsecs=%(process_num)d\n");
    assert!(
        msg.contains("'program:x.startsecs' contains names ('process_num')"),
        "{msg}"
    );
    // [supervisord] keys see only here and ENV_*.
    let msg = t.err1("[supervisord]\nidentifier=%(host_node_name)s\n");
    assert!(
        msg.ends_with("Available names: ENV_FOO, ENV_HOME, ENV_TMPDIR, here"),
        "{msg}"
    );
    // Pass 1 of [supervisord] environment has no host_node_name.
    let msg = t.err1("[supervisord]\nenvironment=A=%%(host_node_name)s,B=%(host_node_name)s\n");
    assert!(
        msg.contains("'supervisord.environment' contains names"),
        "{msg}"
    );
}

#[test]
fn logfile_expanded_twice() {
    let t = T::new();
    let msg = t.err1("[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=/tmp/a%%b\n");
    assert_eq!(
        msg,
        "Format string '/tmp/a%b' for 'stdout_logfile' is badly formatted: unsupported format character 'b' (0x62) at index 7"
    );
    let c = t.ok("[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=/tmp/a%%%%b\n");
    assert_eq!(prog(&c, "x").stdout.file, LogFile::Path("/tmp/a%b".into()));
}

#[test]
fn every_program_option() {
    let t = T::new();
    let d = t.d();
    let c = t.ok(&format!(
        "[supervisord]\n[program:p]\ncommand=/bin/p\npriority=5\nautostart=false\nstartsecs=-2\nstartretries=7\n\
         autorestart=true\nexitcodes=1, 2\nstopsignal=sigkill\nstopwaitsecs=3\nstopasgroup=true\n\
         user=root\nredirect_stderr=false\nstdout_logfile={d}/o.log\nstdout_logfile_maxbytes=1KB\n\
         stdout_logfile_backups=2\nstdout_capture_maxbytes=1MB\nstdout_events_enabled=yes\nstdout_syslog=on\n\
         stderr_logfile=NONE\nstderr_logfile_maxbytes=0\nstderr_logfile_backups=0\nstderr_capture_maxbytes=3\n\
         stderr_events_enabled=1\nstderr_syslog=true\nenvironment=A=1\ndirectory=/tmp\numask=002\n\
         serverurl=http://127.0.0.1:9001\ncgroup=false\nmemory_max=1GB\npids_max=10\ncpu_max=50000 100000\n"
    ));
    let p = prog(&c, "p");
    assert_eq!(p.priority, 5);
    assert!(!p.autostart);
    assert_eq!((p.startsecs, p.startretries, p.stopwaitsecs), (-2, 7, 3));
    assert_eq!(p.autorestart, AutoRestart::Always);
    assert_eq!(p.exitcodes, vec![1, 2]);
    assert_eq!(p.stopsignal, 9);
    assert!(
        p.stopasgroup && p.killasgroup,
        "killasgroup defaults to stopasgroup"
    );
    assert_eq!(p.user.as_ref().unwrap().uid, 0);
    assert_eq!(
        p.stdout,
        LogSpec {
            file: LogFile::Path(format!("{d}/o.log").into()),
            maxbytes: 1024,
            backups: 2,
            capture_maxbytes: 1 << 20,
            events_enabled: true,
            syslog: true,
            timestamps: false,
        }
    );
    assert_eq!(
        p.stderr,
        LogSpec {
            file: LogFile::None,
            maxbytes: 0,
            backups: 0,
            capture_maxbytes: 3,
            events_enabled: true,
            syslog: true,
            timestamps: false,
        }
    );
    assert_eq!(p.environment, vec![("A".to_string(), "1".to_string())]);
    assert_eq!(p.directory, Some("/tmp".into()));
    assert_eq!(p.umask, Some(0o2));
    assert_eq!(p.serverurl.as_deref(), Some("http://127.0.0.1:9001"));
    assert_eq!(p.cgroup, Some(false));
    assert_eq!(p.memory_max.as_deref(), Some("1073741824"));
    assert_eq!(p.pids_max.as_deref(), Some("10"));
    assert_eq!(p.cpu_max.as_deref(), Some("50000 100000"));
    let c = t.ok("[supervisord]\n[program:p]\ncommand=c\nserverurl=auto\n");
    assert_eq!(prog(&c, "p").serverurl, None);
}

#[test]
fn program_error_texts() {
    let t = T::new();
    let cases: &[(&str, &str)] = &[
        (
            "startsecs=soon",
            "invalid literal for int() with base 10: 'soon'",
        ),
        ("autostart=perhaps", "not a valid boolean value: 'perhaps'"),
        ("autorestart=Maybe", "invalid 'autorestart' value 'maybe'"),
        ("exitcodes=0,256", "not a valid list of exit codes: '0,256'"),
        ("stopsignal=FOO", "value 'FOO' is not a valid signal name"),
        ("stopsignal=65", "value '65' is not a valid signal number"),
        (
            "stdout_logfile_maxbytes=50M",
            "invalid literal for int() with base 10: '50m'",
        ),
        ("umask=8", "8 can not be converted to an octal type"),
        ("user=nosuchuser", "Invalid user name nosuchuser"),
        ("user=987654", "Invalid user id 987654"),
        (
            "stdout_logfile=/nonexistent/dir/x.log",
            "The directory named as part of the path /nonexistent/dir/x.log does not exist",
        ),
        (
            "environment=A=a*b",
            "Unexpected end of key/value pairs in value 'A=a*b'",
        ),
        (
            "stopasgroup=true\nkillasgroup=false",
            "Cannot set stopasgroup=true and killasgroup=false",
        ),
        (
            "numprocs=2",
            "%(process_num) must be present within process_name when numprocs > 1",
        ),
        (
            "process_name=x y",
            "Invalid name: 'x y' because of character: ' '",
        ),
        ("cgroup=maybe", "not a valid boolean value: 'maybe'"),
        (
            "pids_max=lots",
            "invalid literal for int() with base 10: 'lots'",
        ),
    ];
    for (line, want) in cases {
        let msg = t.err1(&format!("[supervisord]\n[program:x]\ncommand=c\n{line}\n"));
        assert_eq!(&msg, want, "{line}");
    }
    assert_eq!(
        t.err1("[supervisord]\n[program:x]\n"),
        "program section program:x does not specify a command"
    );
    assert_eq!(
        t.err1("[supervisord]\n[program:a b]\ncommand=c\n"),
        "Invalid name: 'a b' because of character: ' '"
    );
}

#[test]
fn supervisord_error_texts_and_values() {
    let t = T::new();
    let cases: &[(&str, &str)] = &[
        ("loglevel=warning", "bad logging level name 'warning'"),
        ("childlogdir=/nope", "/nope is not an existing directory"),
        ("directory=/nope", "/nope is not an existing directory"),
        (
            "logfile=/nope/x.log",
            "The directory named as part of the path /nope/x.log does not exist",
        ),
        (
            "minfds=many",
            "invalid literal for int() with base 10: 'many'",
        ),
        ("nodaemon=perhaps", "not a valid boolean value: 'perhaps'"),
        (
            "dbus=sometimes",
            "not a valid dbus value: 'sometimes' (expected auto, true or false)",
        ),
        ("dbus_group=nosuchgroup", "Invalid group name nosuchgroup"),
        (
            "environment=A=1 B=2",
            "Unexpected end of key/value pairs in value 'A=1 B=2'",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(&t.err1(&format!("[supervisord]\n{line}\n")), want, "{line}");
    }
    let c = t.ok("[supervisord]\nlogfile=syslog\ndbus=false\ncgroups=yes\nuser=0\n");
    assert_eq!(c.supervisord.logfile, MainLog::Syslog);
    assert_eq!(c.supervisord.dbus, DbusMode::Off);
    assert!(c.supervisord.cgroups);
    assert_eq!(c.supervisord.user.as_ref().unwrap().name, "root");
    assert_eq!(c.supervisord.user.as_ref().unwrap().written, "0");
    std::fs::create_dir(t.path("run")).unwrap();
    let c = t.ok("[supervisord]\npidfile=run/../p.pid\n");
    assert_eq!(c.supervisord.pidfile, t.path("p.pid"));
    // `~` is expanded with $HOME (/home/u, which does not exist here).
    assert_eq!(
        t.err1("[supervisord]\nlogfile=~/x.log\n"),
        "The directory named as part of the path ~/x.log does not exist"
    );
}

#[test]
fn empty_directory_and_childlogdir_are_not_directories() {
    // existing_directory(''): os.path.isdir('') is False.
    let t = T::new();
    for key in ["directory", "childlogdir"] {
        let errs = t.errs(&format!("[supervisord]\n{key}=\n"));
        let f = t.path("s.conf").display().to_string();
        assert_eq!(
            errs,
            [format!(
                "{f}:2: [supervisord] {key}:  is not an existing directory"
            )]
        );
    }
}

#[test]
fn warnings_for_logs() {
    let t = T::new();
    let d = t.d();
    let c = t.ok(&format!(
        "[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=syslog\nstdout_logfile_maxbytes=0\n\
         stderr_logfile_maxbytes=0\nredirect_stderr=true\nstderr_logfile={d}/e.log\n"
    ));
    let p = prog(&c, "x");
    assert_eq!(p.stdout.file, LogFile::None);
    assert!(p.stdout.syslog);
    assert_eq!(p.stderr.file, LogFile::None);
    let msgs: Vec<&str> = c.messages.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "For [program:x], stdout_logfile=syslog but this is deprecated and will be removed.  Use stdout_syslog=true to enable syslog instead.",
            "For [program:x], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored",
        ]
    );
    let c = t.ok("[supervisord]\n[program:x]\ncommand=c\nstdout_logfile_maxbytes=0\n");
    assert_eq!(
        c.messages,
        vec![(
            LogLevel::Warn,
            "For [program:x], AUTO logging used for stdout_logfile without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally".to_string()
        )]
    );
}

#[test]
fn a_result_handler_other_than_the_default_is_warned_about() {
    // Supervisor imports result_handler as Python; pidvisor cannot, so a
    // config that names another callable must hear that it is not used.
    let t = T::new();
    let listener = "[eventlistener:l]\ncommand=c\nevents=TICK_5\n";
    let c = t.ok(&format!(
        "[supervisord]\n{listener}result_handler=supervisor.dispatchers:default_handler\n"
    ));
    assert_eq!(c.messages, vec![]);
    let c = t.ok(&format!(
        "[supervisord]\n{listener}result_handler=mypkg.handlers:reject_all\n"
    ));
    assert_eq!(
        c.messages,
        vec![(
            LogLevel::Warn,
            "[eventlistener:l] result_handler mypkg.handlers:reject_all is a Python callable; pidvisor uses the default handler".to_string()
        )]
    );
}

#[test]
fn empty_logfile_means_no_log() {
    // Supervisor's logfile_name('') is '', which is falsy: no log is kept.
    let t = T::new();
    let c = t.ok(
        "[supervisord]\n[program:x]\ncommand=c\nstdout_logfile=\nenvironment=EMPTY=\"\"\nstderr_logfile=%(ENV_EMPTY)s\n\
         [program:y]\ncommand=c\nstderr_logfile=\n",
    );
    assert_eq!(prog(&c, "x").stdout.file, LogFile::None);
    assert_eq!(prog(&c, "x").stderr.file, LogFile::None);
    assert_eq!(prog(&c, "y").stdout.file, LogFile::Auto);
    assert_eq!(prog(&c, "y").stderr.file, LogFile::None);
    assert!(c.messages.is_empty(), "{:?}", c.messages);
    // '' is still "a filename" to the redirect_stderr warning.
    let c = t.ok("[supervisord]\n[program:x]\ncommand=c\nredirect_stderr=true\nstderr_logfile=\n");
    assert_eq!(
        c.messages,
        vec![(
            LogLevel::Warn,
            "For [program:x], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored".to_string()
        )]
    );
}

#[test]
fn supervisord_environment_merged_into_programs() {
    // options.py: env = supervisord environment copy, updated with the program's.
    let t = T::new();
    let text = "[supervisord]\nenvironment=XS=1,B=sup,C=c\n[program:a]\ncommand=c\n\
                [program:b]\ncommand=c\nenvironment=B=prog,D=d\n[group:g]\nprograms=a2\n\
                [program:a2]\ncommand=c\n[eventlistener:e]\ncommand=c\nevents=TICK_5\n\
                [fcgi-program:f]\ncommand=c\nsocket=tcp://localhost:1\n";
    let c = t.ok(text);
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let sup = pairs(&[("XS", "1"), ("B", "sup"), ("C", "c")]);
    for name in ["a", "a2", "e", "f"] {
        assert_eq!(prog(&c, name).environment, sup, "{name}");
    }
    assert_eq!(
        prog(&c, "b").environment,
        pairs(&[("XS", "1"), ("B", "prog"), ("C", "c"), ("D", "d")])
    );
    // A change of the supervisord environment changes every spec (reread).
    let c2 = t.ok(&text.replace("XS=1", "XS=2"));
    for name in ["a", "b", "a2", "e", "f"] {
        assert_ne!(prog(&c, name), prog(&c2, name), "{name}");
    }
}

#[test]
fn duplicate_process_names_in_a_group_keep_the_last() {
    // Supervisor's ProcessGroup keeps a dict keyed by process name.
    let t = T::new();
    let c = t.ok("[supervisord]\n[program:a]\ncommand=c\n[group:g]\nprograms=a,a\n");
    assert_eq!(c.groups.len(), 1);
    assert_eq!(c.groups[0].processes.len(), 1);
    assert_eq!(c.groups[0].processes[0].name, "a");
    assert_eq!(
        c.messages,
        vec![(
            LogLevel::Warn,
            "a second process named a in group g replaces the first (process names in a group must differ)"
                .to_string()
        )]
    );
    // numprocs whose names expand alike: the last process_num wins.
    let c = t.ok("[supervisord]\n[program:p]\nnumprocs=3\n\
         process_name=%(program_name)s%(process_num).0s\ncommand=/bin/x %(process_num)d\n");
    assert_eq!(c.groups[0].processes.len(), 1);
    let p = prog(&c, "p");
    assert_eq!((p.process_num, p.command.as_str()), (2, "/bin/x 2"));
    let c =
        t.ok("[supervisord]\n[program:p]\nnumprocs=2\nprocess_name=%%(process_num)s\ncommand=c\n");
    assert_eq!(c.groups[0].processes.len(), 1);
    assert_eq!(prog(&c, "%(process_num)s").process_num, 1);
}

#[test]
fn integers_beyond_64_bits_are_accepted() {
    // Python's int() takes any literal; only non-integers are errors.
    let t = T::new();
    let c = t.ok(
        "[supervisord]\nminfds=999999999999999999999\n[program:a]\ncommand=c\n\
         priority=-999999999999999999999\nstartsecs=999999999999999999999\n\
         stopwaitsecs=9223372036854775807\nstartretries=999999999999999999999\n\
         stdout_logfile_maxbytes=99999999999GB\n",
    );
    assert_eq!(c.supervisord.minfds, i64::MAX);
    let p = prog(&c, "a");
    assert_eq!(p.priority, i64::MIN);
    assert_eq!(p.startretries, i64::MAX);
    assert_eq!(p.stdout.maxbytes, i64::MAX);
    // Waits are held to what a deadline (and XML-RPC) can carry.
    assert_eq!((p.startsecs, p.stopwaitsecs), (2147483647, 2147483647));
    assert_eq!(
        t.err1("[supervisord]\n[program:a]\ncommand=c\nstartsecs=99999999999999999999.0\n"),
        "invalid literal for int() with base 10: '99999999999999999999.0'"
    );
}

#[test]
fn groups_ordering_and_errors() {
    let t = T::new();
    let c = t.ok(
        "[supervisord]\n[program:b]\ncommand=b\npriority=5\n[program:a]\ncommand=a\npriority=5\n\
         [program:z]\ncommand=z\npriority=1\n[group:g]\nprograms=b, a\npriority=3\ncgroup=true\n\
         [program:solo]\ncommand=s\npriority=2\n",
    );
    let names: Vec<(&str, i64)> = c
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.priority))
        .collect();
    assert_eq!(names, [("z", 1), ("solo", 2), ("g", 3)]);
    let g = c.group("g").unwrap();
    assert_eq!(g.kind, GroupKind::Group);
    assert_eq!(g.cgroup, Some(true));
    let procs: Vec<(&str, &str)> = g
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.group.as_str()))
        .collect();
    assert_eq!(procs, [("a", "g"), ("b", "g")]);
    assert_eq!(g.processes[0].namespec(), "g:a");

    assert_eq!(
        t.err1("[supervisord]\n[program:a]\ncommand=a\n[group:g]\nprograms=a,b\n"),
        "[group:g] names unknown program or fcgi-program b"
    );
    assert_eq!(
        t.err1(
            "[supervisord]\n[program:a]\ncommand=a\n[fcgi-program:a]\ncommand=a\nsocket=tcp://h:1\n\
             [group:g]\nprograms=a\n"
        ),
        "[group:g] name a is ambiguous (exists as program and fcgi-program)"
    );
}

#[test]
fn eventlistener_pools() {
    let t = T::new();
    let c = t.ok(
        "[supervisord]\n[eventlistener:ev]\ncommand=l\nevents=process_state, TICK_60\nbuffer_size=3\n",
    );
    let g = c.group("ev").unwrap();
    assert_eq!(g.priority, -1);
    assert_eq!(
        g.kind,
        GroupKind::EventListenerPool(EventPoolSpec {
            events: vec!["PROCESS_STATE".into(), "TICK_60".into()],
            buffer_size: 3,
            result_handler: "supervisor.dispatchers:default_handler".into(),
        })
    );
    assert_eq!(g.processes[0].priority, 999);
    let base = "[supervisord]\n[eventlistener:e]\ncommand=l\n";
    assert_eq!(
        t.err1(base),
        "[eventlistener:e] section requires an \"events\" line"
    );
    assert_eq!(
        t.err1(&format!("{base}events=FOO\n")),
        "Unknown event type FOO in [eventlistener:e] events"
    );
    assert_eq!(
        t.err1(&format!("{base}events=TICK_5\nbuffer_size=0\n")),
        "[eventlistener:e] section sets invalid buffer_size (0)"
    );
    assert_eq!(
        t.err1(&format!("{base}events=TICK_5\nredirect_stderr=true\n")),
        "[eventlistener:e] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
    );
}

#[test]
fn fcgi_programs() {
    let t = T::new();
    let c = t.ok(
        "[supervisord]\n[fcgi-program:f]\ncommand=f\nsocket=unix:///tmp/../tmp/%(program_name)s.sock\n\
         socket_backlog=5\nsocket_owner=root:0\nsocket_mode=0660\n",
    );
    let g = c.group("f").unwrap();
    assert_eq!(
        g.kind,
        GroupKind::Fcgi(FcgiSpec {
            socket: "unix:///tmp/f.sock".into(),
            socket_backlog: Some(5),
            socket_owner: Some((0, Some(0))),
            socket_mode: 0o660,
        })
    );
    let base = "[supervisord]\n[fcgi-program:f]\ncommand=f\n";
    assert_eq!(
        t.err1(base),
        "[fcgi-program:f] section requires a \"socket\" line"
    );
    assert_eq!(
        t.err1(&format!("{base}socket=tcp://h:1\nsocket_backlog=0\n")),
        "Invalid socket_backlog value 0"
    );
    assert_eq!(
        t.err1(&format!(
            "{base}socket=unix:///s\nsocket_owner=nosuchuser\n"
        )),
        "Invalid socket_owner value nosuchuser"
    );
    assert_eq!(
        t.err1(&format!("{base}socket=unix:///s\nsocket_mode=9\n")),
        "Invalid socket_mode value 9"
    );
    assert_eq!(
        t.err1(&format!("{base}socket=udp://h:1\n")),
        "Bad socket format udp://h:1 in [fcgi-program:f] socket"
    );
    assert_eq!(
        t.err1(&format!("{base}socket=tcp://h:1\nsocket_mode=0600\n")),
        "socket_owner and socket_mode params should only be used with a Unix domain socket in [fcgi-program:f] socket"
    );
}

#[test]
fn servers_and_ctl() {
    let t = T::new();
    let d = t.d();
    let c = t.ok(
        "[supervisord]\n[unix_http_server]\nfile=%(here)s/run/../s.sock\nchmod=0770\nchown=root:0\n\
         username=u\npassword={SHA}aaaa\n[inet_http_server]\nport=LOCALHOST:9001\n\
         [inet_http_server:two]\nport=*:9002\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n\
         prompt=mine\nusername=u\npassword=p\nhistory_file=~/.hist\n",
    );
    assert_eq!(
        c.unix_http_servers,
        vec![UnixHttpServerSpec {
            section: "unix_http_server".into(),
            file: t.path("s.sock"),
            chmod: 0o770,
            chown: Some((0, Some(0))),
            auth: Some(Credentials {
                username: "u".into(),
                password: "{SHA}aaaa".into()
            }),
        }]
    );
    assert_eq!(c.inet_http_servers.len(), 2);
    assert_eq!(c.inet_http_servers[0].host, "localhost");
    assert_eq!(c.inet_http_servers[1].section, "inet_http_server:two");
    assert_eq!(
        (
            c.inet_http_servers[1].host.as_str(),
            c.inet_http_servers[1].port
        ),
        ("", 9002)
    );
    assert_eq!(
        c.supervisorctl,
        CtlSpec {
            serverurl: format!("unix://{d}/s.sock"),
            username: Some("u".into()),
            password: Some("p".into()),
            prompt: "mine".into(),
            history_file: Some("/home/u/.hist".into()),
        }
    );
    let base = "[supervisord]\n";
    assert_eq!(
        t.err1(&format!("{base}[unix_http_server]\n")),
        "section [unix_http_server] has no file value"
    );
    assert_eq!(
        t.err1(&format!("{base}[inet_http_server]\n")),
        "section [inet_http_server] has no port value"
    );
    assert_eq!(
        t.err1(&format!("{base}[inet_http_server]\nport=9001\nusername=u\n")),
        "Section [inet_http_server] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
    );
    assert_eq!(
        t.err1(&format!("{base}[unix_http_server]\nfile=/s\nchmod=9\n")),
        "Invalid chmod value 9"
    );
    assert_eq!(
        t.err1(&format!(
            "{base}[unix_http_server]\nfile=/s\nchown=nosuchuser\n"
        )),
        "Invalid sockchown value nosuchuser"
    );
    assert_eq!(
        t.err1(&format!("{base}[inet_http_server]\nport=h:0\n")),
        "0 is below lower bound (1)"
    );
    let p = t.write(
        "badurl.conf",
        &format!("{base}[supervisorctl]\nserverurl=x\n"),
    );
    // supervisorctl takes any serverurl; a bad one fails at the call.
    assert_eq!(load_ctl(&p, &t.env()).unwrap().serverurl, "x");
    // load_ctl reads only [supervisorctl].
    let p = t.write(
        "ctl.conf",
        "[supervisorctl]\nserverurl=http://h:1\n[program:x]\n",
    );
    let ctl = load_ctl(&p, &t.env()).unwrap();
    assert_eq!(ctl.serverurl, "http://h:1");
    let p = t.write("noctl.conf", "[supervisord]\n");
    assert_eq!(
        load_ctl(&p, &t.env()).unwrap_err().0[0].message,
        ".ini file does not include supervisorctl section"
    );
}

#[test]
fn daemon_load_ignores_bad_supervisorctl() {
    // supervisord never reads [supervisorctl]; only the client's loader
    // reports its problems.
    let t = T::new();
    let text = "[supervisord]\n[supervisorctl]\nserverurl=unix://%(ENV_NOSUCH)s/s.sock\n\
                prompt=100%\nhistory_file=%(nope)s\n[program:a]\ncommand=/bin/sleep 100\n";
    let c = t.ok(text);
    assert_eq!(prog(&c, "a").command, "/bin/sleep 100");
    let c = t.ok("[supervisord]\n[supervisorctl]\nserverurl=notaurl\n");
    assert!(c.groups.is_empty());
    let p = t.write("ctl.conf", text);
    let errs: Vec<String> = load_ctl(&p, &t.env())
        .unwrap_err()
        .iter()
        .map(|e| e.message.clone())
        .collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].contains("ENV_NOSUCH"), "{errs:?}");
    assert!(errs[1].contains("incomplete format"), "{errs:?}");
}

#[test]
fn includes_here_messages_and_errors() {
    let t = T::new();
    let d = t.d();
    t.write("conf.d/b.conf", "[program:b]\ncommand=%(here)s/b\n");
    t.write(
        "conf.d/a.conf",
        "[program:a]\ncommand=%(here)s/a\nbad line\n",
    );
    let p = t.write(
        "s.conf",
        "[supervisord]\n[include]\nfiles = conf.d/*.conf\n  none/*.ini\n",
    );
    let e = load(&p, &t.env()).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e.0[0].file, t.path("conf.d/a.conf"));
    assert_eq!(e.0[0].line, 3);
    t.write("conf.d/a.conf", "[program:a]\ncommand=%(here)s/a\n");
    let c = load(&p, &t.env()).unwrap();
    assert_eq!(prog(&c, "a").command, format!("{d}/conf.d/a"));
    assert_eq!(prog(&c, "b").command, format!("{d}/conf.d/b"));
    assert_eq!(prog(&c, "a").origin.file, t.path("conf.d/a.conf"));
    assert_eq!(
        c.messages,
        vec![
            (
                LogLevel::Info,
                format!("Included extra file \"{d}/conf.d/a.conf\" during parsing")
            ),
            (
                LogLevel::Info,
                format!("Included extra file \"{d}/conf.d/b.conf\" during parsing")
            ),
            (
                LogLevel::Warn,
                format!("No file matches via include \"{d}/none/*.ini\"")
            ),
        ]
    );
    assert_eq!(
        t.err1("[supervisord]\n[include]\n"),
        ".ini file has [include] section, but no files setting"
    );
}

#[test]
fn include_globs_like_python() {
    // glob.glob: no dotfiles for '*', '**' is '*', an unclosed '[' is
    // literal, and each pattern's matches sorted as whole strings.
    let t = T::new();
    let d = t.d();
    t.write("x/.hidden", "[program:hidden]\ncommand=c\n");
    t.write("x/a.conf", "[program:a]\ncommand=c\n");
    t.write("x/y/deep.conf", "[program:deep]\ncommand=c\n");
    t.write("x/[ab.conf", "[program:bracket]\ncommand=c\n");
    t.write("s-t/p.conf", "[program:p]\ncommand=/bin/sleep 101\n");
    t.write("s/p.conf", "[program:p]\ncommand=/bin/sleep 102\n");
    let c = t.ok("[supervisord]\n[include]\nfiles=x/* x/**/*.conf x/[ab.conf */p.conf\n");
    let mut names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["a", "bracket", "deep", "p"]);
    // "s-t/p.conf" < "s/p.conf" as strings: s/p.conf is read last and wins.
    assert_eq!(prog(&c, "p").command, "/bin/sleep 102");
    let included: Vec<&str> = c
        .messages
        .iter()
        .filter_map(|(_, m)| m.strip_prefix("Included extra file \""))
        .collect();
    assert_eq!(
        included,
        [
            format!("{d}/x/[ab.conf\" during parsing"),
            format!("{d}/x/a.conf\" during parsing"),
            format!("{d}/x/y\" during parsing"),
            format!("{d}/x/y/deep.conf\" during parsing"),
            format!("{d}/x/[ab.conf\" during parsing"),
            format!("{d}/s-t/p.conf\" during parsing"),
            format!("{d}/s/p.conf\" during parsing"),
        ]
    );
    let c = t.ok("[supervisord]\n[include]\nfiles=x/.*\n");
    assert_eq!(prog(&c, "hidden").command, "c");
}

#[test]
fn default_section_and_unknown_options() {
    let t = T::new();
    let c = t.ok(
        "[DEFAULT]\nstartsecs=5\n[supervisord]\nbogus=1\n[program:x]\ncommand=c\nstartsec=3\n[Program:y]\n",
    );
    assert_eq!(prog(&c, "x").startsecs, 5);
    let f = t.path("s.conf").display().to_string();
    assert_eq!(
        c.messages,
        vec![
            (
                LogLevel::Warn,
                format!("{f}:4: unknown option 'bogus' in section [supervisord] ignored")
            ),
            (
                LogLevel::Warn,
                format!("{f}:7: unknown option 'startsec' in section [program:x] ignored")
            ),
            (
                LogLevel::Warn,
                format!("{f}:8: unknown section [Program:y] ignored")
            ),
        ]
    );
}

#[test]
fn rpcinterface_sections() {
    let t = T::new();
    let c = t.ok(
        "[supervisord]\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n[ctlplugin:x]\nsupervisor.ctl_factory=a:b\n",
    );
    assert!(c.messages.is_empty(), "{:?}", c.messages);
    assert_eq!(
        t.err1("[supervisord]\n[rpcinterface:x]\nretries=1\n"),
        "section [rpcinterface:x] does not specify a supervisor.rpcinterface_factory"
    );
}

#[test]
fn every_error_at_once_sorted_by_line() {
    let t = T::new();
    let errs = t.errs(
        "[supervisord]\nloglevel=loud\n[program:a]\ncommand=a\nstartsecs=x\nautostart=maybe\n[program:b]\nnumprocs=q\n",
    );
    let f = t.path("s.conf").display().to_string();
    assert_eq!(
        errs,
        [
            format!("{f}:2: [supervisord] loglevel: bad logging level name 'loud'"),
            format!("{f}:5: [program:a] startsecs: invalid literal for int() with base 10: 'x'"),
            format!("{f}:6: [program:a] autostart: not a valid boolean value: 'maybe'"),
            format!(
                "{f}:7: [program:b] command: program section program:b does not specify a command"
            ),
            format!("{f}:8: [program:b] numprocs: invalid literal for int() with base 10: 'q'"),
        ]
    );
}

#[test]
fn issue21_numprocs_above_the_limit_is_an_error_at_its_line() {
    let t = T::new();
    let p = |n: &str| {
        format!(
            "[supervisord]\n[program:p]\ncommand=c\nprocess_name=p%(process_num)d\nnumprocs={n}\n"
        )
    };
    assert_eq!(
        t.errs(&p("65537")),
        [format!(
            "{}:5: [program:p] numprocs: numprocs 65537 is above the limit of 65536 processes",
            t.path("s.conf").display()
        )]
    );
    assert_eq!(
        t.err1(&p("99999999999999999999")),
        "numprocs 99999999999999999999 is above the limit of 65536 processes"
    );
    let c = t.ok(&p("65536"));
    assert_eq!(c.groups[0].processes.len(), 65536);
    // The same limit for the whole configuration, at the section that
    // passes it (groups are read first: q twice, then p).
    let two = format!(
        "{}[program:q]\ncommand=c\nprocess_name=q%(process_num)d\nnumprocs=2\n[group:g]\nprograms=q,q\n",
        p("65533")
    );
    assert_eq!(
        t.errs(&two),
        [format!(
            "{}:5: [program:p] numprocs: this section makes 65537 processes in the configuration, above the limit of 65536",
            t.path("s.conf").display()
        )]
    );
}

#[test]
fn issue21_format_fields_are_bounded() {
    let t = T::new();
    let msg = t.err1("[supervisord]\n[program:c]\ncommand=/bin/echo %(process_num)999999999999d\n");
    assert_eq!(
        msg,
        "Format string '/bin/echo %(process_num)999999999999d' for 'program:c.command' is badly formatted: width too big"
    );
    let msg =
        t.err1("[supervisord]\n[program:c]\ncommand=/bin/echo %(process_num).999999999999d\n");
    assert!(
        msg.ends_with("is badly formatted: precision too big"),
        "{msg}"
    );
    // In every option that is expanded, and in [supervisord] too.
    let msg = t.err1("[supervisord]\nidentifier=%(here)99999s\n");
    assert!(msg.ends_with("is badly formatted: width too big"), "{msg}");
}

#[test]
fn issue21_expanded_text_is_bounded_and_said_once() {
    let t = T::new();
    let p = t.write(
        "s.conf",
        "[supervisord]\n[program:p]\ncommand=%(process_num)4096d\nprocess_name=p%(process_num)d\nnumprocs=100\n",
    );
    let env = t.env();
    let text = std::fs::read_to_string(&p).unwrap();
    let mut l = Loader::new(&p, &text, &env);
    // Room for about ten processes' commands.
    l.expand_budget = 10 * 4096 + 100;
    let program = super::super::program::program(&mut l, "program:p", "p").unwrap();
    assert_eq!(program.processes.len(), 100);
    let errors = l.finish().unwrap_err();
    assert_eq!(errors.len(), 1, "{errors}");
    assert!(
        errors.0[0]
            .message
            .ends_with("expands beyond the limit for one configuration (256 MiB of expanded text)"),
        "{errors}"
    );
    assert_eq!(errors.0[0].line, 3);
}

#[test]
fn includes_read_only_regular_files() {
    // A FIFO would block the reload of a running daemon; /dev/zero would
    // exhaust it.
    let t = T::new();
    let fifo = t.path("fifo.conf");
    mkfifo(&fifo);
    let c = t.ok(&format!(
        "[supervisord]\n[include]\nfiles={} /dev/zero\n",
        fifo.display()
    ));
    let warned: Vec<&str> = c
        .messages
        .iter()
        .filter(|(l, _)| *l == LogLevel::Warn)
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(
        warned,
        [
            format!(
                "Included file \"{}\" is not a regular file; ignored",
                fifo.display()
            ),
            "Included file \"/dev/zero\" is not a regular file; ignored".to_string(),
        ]
    );
}

/// `mkfifo PATH` with the coreutils tool (tests make no syscalls outside sys/).
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo (coreutils)");
    assert!(status.success());
}

#[test]
fn the_user_database_is_the_envs() {
    // A table replaces the system's: names it has resolve, others do not.
    let t = T::new();
    let mut table = crate::config::UserTable::with_root();
    table.users.push(crate::sys::user::Passwd {
        name: "web".into(),
        uid: 4242,
        gid: 4343,
        home: "/srv/web".into(),
        shell: "/bin/sh".into(),
    });
    table.groups.push(("webgrp".into(), 4343));
    let mut env = t.env();
    env.users = crate::config::Users::Table(table);
    let p = t.write(
        "s.conf",
        "[supervisord]\ndbus_group=webgrp\n[unix_http_server]\nfile=/tmp/s.sock\nchown=web:webgrp\n\
         [program:a]\ncommand=c\nuser=web\n[program:b]\ncommand=c\nuser=4242\n",
    );
    let c = load(&p, &env).unwrap();
    let user = prog(&c, "a").user.clone().unwrap();
    assert_eq!(
        (user.uid, user.gid, user.home.to_str()),
        (4242, 4343, Some("/srv/web"))
    );
    assert_eq!(prog(&c, "b").user.as_ref().unwrap().name, "web");
    assert_eq!(c.unix_http_servers[0].chown, Some((4242, Some(4343))));
    assert_eq!(c.supervisord.dbus_group.as_deref(), Some("webgrp"));
    // `nobody` exists on the system, not in the table.
    let p = t.write(
        "s.conf",
        "[supervisord]\n[program:a]\ncommand=c\nuser=nobody\n",
    );
    assert_eq!(
        load(&p, &env).unwrap_err().0[0].message,
        "Invalid user name nobody"
    );
}

#[test]
fn notify_keys_issue_17() {
    use std::time::Duration;
    let t = T::new();
    let c = t.ok("[supervisord]\n[program:plain]\ncommand=c\n\
         [program:n]\ncommand=c\nready=notify\nready_timeout_sec=2.5\n\
         [program:w]\ncommand=c\nwatchdog_sec=3\nwatchdog_signal=USR1\nnotify_access=all\n\
         [program:f]\ncommand=c\nnumprocs=2\nprocess_name=f%(process_num)d\n\
         pidfile=/run/f%(process_num)d.pid\nnotify_access=main\n");
    let plain = &prog(&c, "plain").notify;
    assert_eq!(plain.ready, Readiness::Startsecs);
    assert_eq!(plain.access, NotifyAccess::None);
    assert!(!plain.uses_socket());
    assert_eq!(plain.ready_timeout, Duration::from_secs(90));
    assert_eq!(plain.watchdog_signal, 6);
    let n = &prog(&c, "n").notify;
    assert_eq!(n.ready, Readiness::Notify);
    assert_eq!(n.access, NotifyAccess::Main);
    assert_eq!(n.ready_timeout, Duration::from_millis(2500));
    let w = &prog(&c, "w").notify;
    assert_eq!(w.watchdog, Duration::from_secs(3));
    assert_eq!(w.watchdog_signal, 10);
    assert_eq!(w.access, NotifyAccess::All);
    assert_eq!(
        prog(&c, "f1").notify.pidfile.as_deref(),
        Some(Path::new("/run/f1.pid"))
    );
    // Bad values are errors with file:line, section and option.
    let cases: &[(&str, &str)] = &[
        (
            "ready=later",
            "'later' is not a valid ready value (startsecs or notify)",
        ),
        (
            "ready_timeout_sec=-1",
            "'-1' is not a number of seconds >= 0",
        ),
        ("watchdog_sec=5s", "'5s' is not a number of seconds >= 0"),
        (
            "watchdog_signal=NOPE",
            "value 'NOPE' is not a valid signal name",
        ),
        (
            "notify_access=exec",
            "'exec' is not a valid notify_access value (none, main or all)",
        ),
        (
            "ready=notify\nnotify_access=none",
            "ready=notify needs the notify socket: notify_access must be main or all",
        ),
        (
            "watchdog_sec=1\nnotify_access=none",
            "watchdog_sec needs the notify socket: notify_access must be main or all",
        ),
        (
            "pidfile=run/x.pid",
            "pidfile must be an absolute path: 'run/x.pid'",
        ),
    ];
    for (line, want) in cases {
        let msg = t.err1(&format!("[supervisord]\n[program:x]\ncommand=c\n{line}\n"));
        assert_eq!(&msg, want, "{line}");
    }
    let e = t
        .load("[supervisord]\n[program:x]\ncommand=c\nready=soon\n")
        .unwrap_err();
    assert_eq!(e.0[0].line, 4);
    assert_eq!(e.0[0].option.as_deref(), Some("ready"));
}
