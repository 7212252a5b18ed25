//! Corpus test: `tests/fixtures/config/sample.conf` sets every option to a
//! non-default value (with an included file); it must load into exactly the
//! expected typed values. And a file with five mistakes yields five errors.

use std::path::{Path, PathBuf};

use pidvisor::config::values::parse_user;
use pidvisor::config::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

fn env() -> Env {
    Env::new(
        &[("SITE", "alpha"), ("HOME", "/root")],
        "testhost",
        &fixtures(),
    )
}

/// Line number of the line that starts with `needle` in `file`.
fn line_of(file: &Path, needle: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.starts_with(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", file.display()))
        + 1
}

#[test]
fn config_sample_conf_loads_into_expected_specs() {
    let here = fixtures();
    let h = here.display().to_string();
    let main = here.join("sample.conf");
    let extra = here.join("conf.d/extra.conf");
    let config = match load(&main, &env()) {
        Ok(c) => c,
        Err(e) => panic!("sample.conf does not load:\n{e}"),
    };
    let root = |written: &str| UserSpec {
        written: written.into(),
        ..parse_user("root").unwrap()
    };
    let origin = |file: &Path, header: &str| Origin {
        file: file.to_path_buf(),
        line: line_of(file, header),
    };

    let supervisord = SupervisordSpec {
        logfile: MainLog::File(here.join("main.log")),
        logfile_maxbytes: 10 << 20,
        logfile_backups: 3,
        loglevel: LogLevel::Debug,
        pidfile: here.join("main.pid"),
        umask: 0o27,
        nodaemon: true,
        silent: true,
        minfds: 2048,
        minprocs: 300,
        nocleanup: true,
        childlogdir: here.clone(),
        user: Some(root("root")),
        directory: Some(here.clone()),
        strip_ansi: true,
        environment: vec![
            ("SITE_ROOT".into(), h.clone()),
            ("MODE".into(), "prod".into()),
        ],
        identifier: "sample-alpha".into(),
        cgroups: true,
        dbus: DbusMode::On,
        dbus_group: Some("root".into()),
        web_ui: true,
        exit_on_fatal: ExitOnFatal::Never,
    };

    let web = |n: i64| ProgramSpec {
        name: format!("web_{n:02}"),
        group: "www".into(),
        program: "web".into(),
        process_num: n,
        command: format!("/usr/bin/web --port 80{n:02} --root {h}"),
        priority: 50,
        autostart: false,
        startsecs: 5,
        startretries: 7,
        autorestart: AutoRestart::Always,
        exitcodes: vec![0, 2],
        stopsignal: 3,
        stopwaitsecs: 20,
        stopasgroup: true,
        killasgroup: true,
        user: Some(root("0")),
        redirect_stderr: true,
        stdout: LogSpec {
            file: LogFile::Path(here.join(format!("web-{n}.log"))),
            maxbytes: 1 << 20,
            backups: 5,
            capture_maxbytes: 1024,
            events_enabled: true,
            syslog: true,
            timestamps: false,
        },
        stderr: LogSpec {
            file: LogFile::None,
            maxbytes: 2 << 20,
            backups: 6,
            capture_maxbytes: 2048,
            events_enabled: true,
            syslog: true,
            timestamps: false,
        },
        // [supervisord] environment first, then the program's (options.py).
        environment: vec![
            ("SITE_ROOT".into(), h.clone()),
            ("MODE".into(), "prod".into()),
            ("PORT".into(), format!("80{n:02}")),
            ("NAME".into(), "web".into()),
        ],
        directory: Some(format!("/srv/80{n:02}").into()),
        umask: Some(0o2),
        serverurl: Some("http://127.0.0.1:9001".into()),
        cgroup: Some(true),
        memory_max: Some("536870912".into()),
        pids_max: Some("64".into()),
        cpu_max: Some("50000 100000".into()),
        notify: ProgramSpec::with_defaults("web", "").notify,
        depends_on: vec![],
        restart: ProgramSpec::with_defaults("web", "").restart,
        environment_file: None,
        capabilities: 0,
        no_new_privs: false,
        origin: origin(&main, "[program:web]"),
    };

    let supervisord_env = supervisord.environment.clone();
    let mut cache = ProgramSpec::with_defaults("cache", "");
    cache.environment = supervisord_env.clone();
    cache.group = "www".into();
    cache.command = format!("{h}/conf.d/cache --host testhost");
    cache.priority = 60;
    cache.startretries = 4; // from [DEFAULT]
    cache.autorestart = AutoRestart::Never;
    cache.stdout.file = LogFile::None;
    cache.stderr.file = LogFile::Path(here.join("conf.d/cache.err"));
    cache.origin = origin(&extra, "[program:cache]");

    let mut monitor = ProgramSpec::with_defaults("monitor", "/usr/bin/monitor");
    monitor.priority = -5;
    monitor.environment = supervisord_env.clone();
    monitor.startretries = 4;
    monitor.stderr.file = LogFile::None;
    monitor.origin = origin(&main, "[eventlistener:monitor]");

    let mut php = ProgramSpec::with_defaults("php", "/usr/bin/php-cgi");
    php.startretries = 4;
    php.environment = supervisord_env;
    php.stderr.file = LogFile::None;
    php.origin = origin(&main, "[fcgi-program:php]");

    let expected = Config {
        path: main.clone(),
        supervisord,
        unix_http_servers: vec![UnixHttpServerSpec {
            section: "unix_http_server".into(),
            file: here.join("pidvisor.sock"),
            chmod: 0o770,
            chown: Some((0, Some(0))),
            auth: Some(Credentials {
                username: "user".into(),
                password: "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d".into(),
            }),
        }],
        inet_http_servers: vec![InetHttpServerSpec {
            section: "inet_http_server".into(),
            host: "127.0.0.1".into(),
            port: 9001,
            auth: Some(Credentials {
                username: "user".into(),
                password: "123".into(),
            }),
        }],
        supervisorctl: CtlSpec {
            serverurl: format!("unix://{h}/pidvisor.sock"),
            username: Some("chris".into()),
            password: Some("123".into()),
            prompt: "mysupervisor".into(),
            history_file: Some(here.join(".sc_history")),
        },
        groups: vec![
            GroupSpec {
                name: "monitor".into(),
                priority: -5,
                kind: GroupKind::EventListenerPool(EventPoolSpec {
                    events: vec!["PROCESS_STATE".into(), "TICK_60".into()],
                    buffer_size: 20,
                    result_handler: "supervisor.dispatchers:default_handler".into(),
                }),
                processes: vec![monitor.into()],
                cgroup: None,
            },
            GroupSpec {
                name: "www".into(),
                priority: 10,
                kind: GroupKind::Group,
                processes: vec![web(1).into(), web(2).into(), cache.into()],
                cgroup: Some(false),
            },
            GroupSpec {
                name: "php".into(),
                priority: 999,
                kind: GroupKind::Fcgi(FcgiSpec {
                    socket: format!("unix://{h}/php.sock"),
                    socket_backlog: Some(128),
                    socket_owner: Some((0, Some(0))),
                    socket_mode: 0o660,
                }),
                processes: vec![php.into()],
                cgroup: None,
            },
        ],
        messages: vec![(
            LogLevel::Info,
            format!("Included extra file \"{h}/conf.d/extra.conf\" during parsing"),
        )],
    };
    assert_eq!(config.supervisord, expected.supervisord);
    assert_eq!(config.unix_http_servers, expected.unix_http_servers);
    assert_eq!(config.inet_http_servers, expected.inet_http_servers);
    assert_eq!(config.supervisorctl, expected.supervisorctl);
    for (got, want) in config.groups.iter().zip(&expected.groups) {
        assert_eq!(got, want, "group {}", want.name);
    }
    assert_eq!(config.messages, expected.messages);
    assert_eq!(config, expected);

    // pidvisorctl's view of the same file.
    assert_eq!(load_ctl(&main, &env()).unwrap(), expected.supervisorctl);
}

#[test]
fn config_five_mistakes_give_five_errors_with_file_and_line() {
    let path = fixtures().join("five_mistakes.conf");
    let errors = load(&path, &env()).unwrap_err();
    let f = path.display().to_string();
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            format!("{f}:2: [supervisord] loglevel: bad logging level name 'loud'"),
            format!("{f}:6: [program:a] startsecs: invalid literal for int() with base 10: 'soon'"),
            format!("{f}:7: [program:a] autorestart: invalid 'autorestart' value 'maybe'"),
            format!("{f}:8: [program:a] stopsignal: value 'FOO' is not a valid signal name"),
            format!("{f}:12: [eventlistener:e] events: Unknown event type NOPE in [eventlistener:e] events"),
        ]
    );
    assert_eq!(errors.len(), 5);
}
