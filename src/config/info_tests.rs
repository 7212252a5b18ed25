//! `info_fields` on a sample that sets every program option, in every kind
//! of group, and the core's `getAllConfigInfo` answer made of it.

use crate::api::Request;
use std::collections::BTreeMap;

use super::*;
use crate::config::{load_str, Config, Env, GroupSpec, UserTable, Users};
use crate::control::xmlrpc::Value;
use crate::core::describe::utc_time;
use crate::core::{Command, Core, Effect, Now, ProcId};

/// Every `[program:x]` option set to something other than its default
/// (twice for those with several spellings), plus programs at their
/// defaults, in a homogeneous group, a `[group:x]`, an eventlistener pool
/// and an fcgi-program.
fn sample(dir: &str) -> String {
    format!(
        "[supervisord]\n\
         [program:every]\ncommand=/bin/cat %(process_num)d\nprocess_name=%(program_name)s_%(process_num)d\n\
         numprocs=2\nnumprocs_start=3\npriority=5\nautostart=false\nautorestart=true\nstartsecs=7\n\
         startretries=9\nstopsignal=KILL\nstopwaitsecs=11\nstopasgroup=true\nkillasgroup=true\n\
         exitcodes=0,2,255\nredirect_stderr=true\nuser=svc\ndirectory={dir}\numask=002\n\
         serverurl=http://127.0.0.1:9001\nenvironment=A=1\ncgroup=true\nmemory_max=1GB\npids_max=5\n\
         cpu_max=max\nstdout_logfile={dir}/out.log\nstdout_logfile_maxbytes=1KB\n\
         stdout_logfile_backups=2\nstdout_capture_maxbytes=3KB\nstdout_events_enabled=true\n\
         stdout_syslog=true\nstderr_logfile=NONE\nstderr_logfile_maxbytes=4\nstderr_logfile_backups=5\n\
         stderr_capture_maxbytes=6\nstderr_events_enabled=true\nstderr_syslog=true\n\
         depends_on=plain\nrestart_delay=2\nstart_limit_burst=3\nstart_limit_interval=30\n\
         capabilities=CAP_NET_BIND_SERVICE,CAP_KILL\nno_new_privs=true\nenvironment_file=-{dir}/app.env\n\
         stdout_log_timestamps=true\nstderr_log_timestamps=true\n\
         [program:plain]\ncommand=/bin/true\n\
         [program:member]\ncommand=/bin/true\nstderr_logfile={dir}/err.log\nserverurl=AUTO\nstopsignal=0\n\
         [group:g]\nprograms=member\npriority=42\n\
         [eventlistener:pool]\ncommand=/bin/true\nevents=TICK_5\npriority=-3\nstdout_logfile=syslog\n\
         [fcgi-program:web]\ncommand=/bin/true\nsocket=tcp://127.0.0.1:9\nexitcodes=\n"
    )
}

fn config() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let mut env = Env::new(&[("HOME", "/root")], "host", dir.path());
    let mut users = UserTable::with_root();
    users.users.push(crate::sys::user::Passwd {
        name: "svc".into(),
        uid: 1000,
        gid: 1000,
        home: "/home/svc".into(),
        shell: "/bin/sh".into(),
    });
    env.users = Users::Table(users);
    let path = dir.path().join("s.conf");
    match load_str(&path, &sample(&d), &env) {
        Ok(c) => (dir, c),
        Err(e) => panic!("the sample does not load:\n{e}"),
    }
}

fn to_value(v: &ConfigValue) -> Value {
    match v {
        ConfigValue::Bool(b) => Value::Bool(*b),
        ConfigValue::Int(i) => Value::Int(*i),
        ConfigValue::Str(s) => Value::String(s.clone()),
        ConfigValue::Ints(v) => Value::Array(v.iter().map(|&i| Value::Int(i)).collect()),
    }
}

/// getAllConfigInfo as the daemon answers it today, by process name.
fn todays(core: &mut Core, now: Now) -> BTreeMap<String, BTreeMap<String, Value>> {
    core.handle_command(7, Request::GetAllConfigInfo.into(), now);
    let reply = std::iter::from_fn(|| core.poll_effect())
        .find_map(|e| match e {
            Effect::Reply { token: 7, reply } => Some(reply),
            _ => None,
        })
        .expect("a reply");
    let Ok(Value::Array(records)) = crate::control::methods::encode(&reply) else {
        panic!("getAllConfigInfo is not an array");
    };
    records
        .into_iter()
        .map(|r| {
            let Value::Struct(fields) = r else {
                panic!("not a struct: {r:?}")
            };
            let fields: BTreeMap<String, Value> = fields.into_iter().collect();
            let Some(Value::String(name)) = fields.get("name") else {
                panic!("no name")
            };
            (name.clone(), fields)
        })
        .collect()
}

/// [`info_fields`] for every process of `config`, by process name.
fn ours(
    config: &Config,
    inuse: bool,
    logs: &dyn Fn(&str) -> Option<(String, String)>,
) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for g in &config.groups {
        for p in &g.processes {
            let named = logs(&p.name);
            let ctx = InfoContext {
                group_priority: g.priority,
                inuse,
                stdout_logfile: named.as_ref().map(|n| n.0.as_str()),
                stderr_logfile: named.as_ref().map(|n| n.1.as_str()),
            };
            let fields = info_fields(p, &ctx);
            let keys = fields.len();
            let fields: BTreeMap<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), to_value(v)))
                .collect();
            assert_eq!(fields.len(), keys, "a key twice for {}", p.name);
            out.insert(p.name.clone(), fields);
        }
    }
    out
}

fn group_of<'c>(config: &'c Config, name: &str) -> &'c GroupSpec {
    config
        .groups
        .iter()
        .find(|g| g.processes.iter().any(|p| p.name == name))
        .unwrap()
}

/// Every option getAllConfigInfo shows was set away from its default in
/// `every_3`, so the rows' renderings are all exercised; the core answers
/// getAllConfigInfo with exactly these fields (AUTO logs by the names the
/// runtime gave them while in use, 'auto' after a reread). The rendering
/// itself is checked against the real supervisord 4.3 by the XML-RPC
/// shape comparison (tests/supervisorctl_vs_pidvisord.rs) and against the
/// table's defaults through the daemon (tests/it/config.rs).
#[test]
fn the_core_answers_the_tables_fields() {
    let (_dir, config) = config();
    let now = Now {
        mono: crate::clock::mono(),
        wall: 1_795_312_980.0,
    };
    let mut core = Core::new(config.clone(), now, utc_time);
    let auto = |name: &str| {
        Some((
            format!("/tmp/{name}-out.log"),
            format!("/tmp/{name}-err.log"),
        ))
    };
    let ids: Vec<(ProcId, String)> = core
        .processes()
        .map(|(id, p)| (id, p.spec.name.clone()))
        .collect();
    for (id, name) in &ids {
        let (out, err) = auto(name).unwrap();
        core.set_log_paths(*id, out, err);
    }
    let today = todays(&mut core, now);
    assert_eq!(today.len(), 6, "{:?}", today.keys());
    assert_eq!(ours(&config, true, &auto), today);
    core.handle_command(
        8,
        Command::ReloadConfig {
            config: Box::new(Ok(config.clone())),
        },
        now,
    );
    let today = todays(&mut core, now);
    assert_eq!(ours(&config, true, &|_| None), today);
    let every = &today["every_3"];
    let defaults = &today["plain"];
    for row in PROGRAM.iter().filter_map(|r| r.info) {
        assert_ne!(
            every.get(row.0),
            defaults.get(row.0),
            "{} not exercised",
            row.0
        );
    }
    assert_eq!(group_of(&config, "member").priority, 42);
}

#[test]
fn keys_are_supervisors() {
    let (_dir, config) = config();
    let p = &config.groups[0].processes[0];
    let ctx = InfoContext {
        group_priority: 1,
        inuse: false,
        stdout_logfile: None,
        stderr_logfile: None,
    };
    let mut keys: Vec<&str> = info_fields(p, &ctx).iter().map(|f| f.0).collect();
    keys.sort();
    // supervisor/rpcinterface.py getAllConfigInfo, sorted.
    assert_eq!(
        keys,
        [
            "autostart",
            "command",
            "directory",
            "exitcodes",
            "group",
            "group_prio",
            "inuse",
            "killasgroup",
            "name",
            "process_prio",
            "redirect_stderr",
            "serverurl",
            "startretries",
            "startsecs",
            "stderr_capture_maxbytes",
            "stderr_events_enabled",
            "stderr_logfile",
            "stderr_logfile_backups",
            "stderr_logfile_maxbytes",
            "stderr_syslog",
            "stdout_capture_maxbytes",
            "stdout_events_enabled",
            "stdout_logfile",
            "stdout_logfile_backups",
            "stdout_logfile_maxbytes",
            "stdout_syslog",
            "stopsignal",
            "stopwaitsecs",
            "uid",
        ]
    );
}
