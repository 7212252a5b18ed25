//! Process groups, Supervisor's `process_groups_from_parser`: `[group:x]`,
//! homogeneous `[program:x]` groups, `[eventlistener:x]` pools and
//! `[fcgi-program:x]`, with the option tables of the sections that are not
//! program options (`[group:x]`, and what an eventlistener or fcgi-program
//! adds to a program).
//!
//! Every value here is expanded with `here` and the `ENV_*` names (and
//! `socket` also with `program_name`). A group's processes come from
//! [`super::program::program`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::load::{Loader, Report};
use super::program::{program, Program};
use super::table::{DefaultValue, Expansion, Opt, Rule};
use super::types::*;
use super::values::*;
use crate::py::percent::{Names, Val};

use DefaultValue::{Required, Text, Unset};
use Expansion::{Here, Socket};

const DEFAULT_RESULT_HANDLER: &str = "supervisor.dispatchers:default_handler";

// ---- [group:x] -----------------------------------------------------------

/// A `[group:x]` as read.
#[derive(Default)]
pub(super) struct GroupDraft {
    programs: Option<String>,
    priority: i64,
    cgroup: Option<bool>,
}

type GroupRow = Opt<GroupDraft>;

/// Every option of `[group:x]`.
pub(super) const GROUP: &[GroupRow] = &[
    GroupRow::new("programs", Here, Unset, |g, v, _| {
        g.programs = Some(v.to_string());
        Ok(())
    }),
    GroupRow::new("priority", Here, Text("999"), |g, v, _| {
        g.priority = parse_int(v)?;
        Ok(())
    }),
    GroupRow::new("cgroup", Here, Unset, |g, v, _| {
        g.cgroup = Some(parse_bool(v)?);
        Ok(())
    }),
];

/// The keys of `[group:x]`.
pub static GROUP_KEYS: [&str; GROUP.len()] = super::table::keys(GROUP);

// ---- [eventlistener:x] ---------------------------------------------------

/// What an `[eventlistener:x]` adds to its program options, as read.
#[derive(Default)]
pub(super) struct PoolDraft {
    priority: i64,
    buffer_size: i64,
    result_handler: String,
    events: Vec<String>,
}

type PoolRow = Opt<PoolDraft>;

/// The options of `[eventlistener:x]` besides the program ones. Its
/// `priority` is read twice, as in Supervisor: here as the pool's (default
/// -1), and as each process's (a program option, default 999).
pub(super) const LISTENER: &[PoolRow] = &[
    PoolRow::new("priority", Here, Text("-1"), |p, v, _| {
        p.priority = parse_int(v)?;
        Ok(())
    }),
    PoolRow::new("buffer_size", Here, Text("10"), |p, v, _| {
        p.buffer_size = parse_int(v)?;
        Ok(())
    }),
    PoolRow::new(
        "result_handler",
        Here,
        Text(DEFAULT_RESULT_HANDLER),
        |p, v, _| {
            p.result_handler = v.to_string();
            Ok(())
        },
    ),
    PoolRow::new(
        "events",
        Here,
        Required(|s| format!("[{s}] section requires an \"events\" line")),
        |p, v, c| {
            for e in v.split(',').map(|e| e.trim().to_uppercase()) {
                if !EVENT_TYPES.contains(&e.as_str()) {
                    return Err(format!("Unknown event type {e} in [{}] events", c.section));
                }
                p.events.push(e);
            }
            Ok(())
        },
    ),
];

/// The keys of `[eventlistener:x]` besides the program ones.
pub static LISTENER_KEYS: [&str; LISTENER.len()] = super::table::keys(LISTENER);

const POOL_RULES: &[Rule<PoolDraft>] = &[buffer_size_positive, result_handler_is_the_default];

/// An event buffer must hold at least one event.
fn buffer_size_positive(pool: &mut PoolDraft, report: &mut Report) {
    if pool.buffer_size < 1 {
        let section = report.section().to_string();
        report.fail(
            "buffer_size",
            format!(
                "[{section}] section sets invalid buffer_size ({})",
                pool.buffer_size
            ),
        );
    }
}

/// A result handler is a Python callable; pidvisor has only the default.
fn result_handler_is_the_default(pool: &mut PoolDraft, report: &mut Report) {
    if pool.result_handler != DEFAULT_RESULT_HANDLER {
        let section = report.section().to_string();
        report.warn(format!(
            "[{section}] result_handler {} is a Python callable; pidvisor uses the default handler",
            pool.result_handler
        ));
    }
}

/// A listener's stderr must not mix into the stdout that carries the
/// eventlistener protocol.
fn listener_keeps_stderr(loader: &mut Loader, section: &str, program: &Program) {
    if program.draft.spec.redirect_stderr {
        loader.fail(
            section,
            "redirect_stderr",
            format!(
                "[{section}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol"
            ),
        );
    }
}

// ---- [fcgi-program:x] ----------------------------------------------------

/// What an `[fcgi-program:x]` adds to its program options, as read.
#[derive(Default)]
pub(super) struct FcgiDraft {
    socket: String,
    socket_backlog: Option<i64>,
    socket_owner: Option<(u32, Option<u32>)>,
    socket_mode: u32,
}

type FcgiRow = Opt<FcgiDraft>;

/// The options of `[fcgi-program:x]` besides the program ones.
pub(super) const FCGI: &[FcgiRow] = &[
    FcgiRow::new("socket_backlog", Here, Unset, |f, v, _| {
        let backlog = parse_int(v)?;
        if !(1..=65535).contains(&backlog) {
            return Err(format!("Invalid socket_backlog value {backlog}"));
        }
        f.socket_backlog = Some(backlog);
        Ok(())
    }),
    FcgiRow::new("socket_owner", Here, Unset, |f, v, c| {
        let owner = c.env.users.user_group(v);
        f.socket_owner = Some(owner.map_err(|_| format!("Invalid socket_owner value {v}"))?);
        Ok(())
    }),
    FcgiRow::new("socket_mode", Here, Text("0700"), |f, v, _| {
        f.socket_mode = parse_octal(v).map_err(|_| format!("Invalid socket_mode value {v}"))?;
        Ok(())
    }),
    FcgiRow::new("socket", Socket, Required(socket_required), |f, v, c| {
        let s = c.section;
        if v.is_empty() {
            return Err(socket_required(s));
        }
        f.socket = if let Some(path) = v.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "Unix socket path {path} is not an absolute path in [{s}] socket"
                ));
            }
            format!("unix://{}", normalize_path(path, &c.env.cwd).display())
        } else if is_tcp_socket(v) {
            v.to_string()
        } else {
            return Err(format!("Bad socket format {v} in [{s}] socket"));
        };
        Ok(())
    }),
];

/// The keys of `[fcgi-program:x]` besides the program ones.
pub static FCGI_KEYS: [&str; FCGI.len()] = super::table::keys(FCGI);

fn socket_required(section: &str) -> String {
    format!("[{section}] section requires a \"socket\" line")
}

const FCGI_RULES: &[Rule<FcgiDraft>] = &[owner_and_mode_need_unix_socket];

/// Ownership and mode are file attributes: a TCP socket has neither.
fn owner_and_mode_need_unix_socket(fcgi: &mut FcgiDraft, report: &mut Report) {
    if (report.written("socket_owner") || report.written("socket_mode"))
        && !fcgi.socket.starts_with("unix://")
    {
        let section = report.section().to_string();
        report.fail(
            "socket",
            format!("socket_owner and socket_mode params should only be used with a Unix domain socket in [{section}] socket"),
        );
    }
}

/// A unix socket is chowned to the program's user when that differs from
/// ours and `socket_owner` is unset (Supervisor's rule).
fn socket_owner_defaults_to_user(loader: &Loader, fcgi: &mut FcgiDraft, program: &Program) {
    if let (None, Some(u)) = (fcgi.socket_owner, &program.draft.spec.user) {
        if fcgi.socket.starts_with("unix://") && u.uid != loader.env().users.current_uid() {
            fcgi.socket_owner = Some((u.uid, Some(u.gid)));
        }
    }
}

fn is_tcp_socket(s: &str) -> bool {
    // Supervisor: re.match(r'tcp://([^\s:]+):(\d+)$', sock)
    let Some(rest) = s.strip_prefix("tcp://") else {
        return false;
    };
    let Some((host, port)) = rest.split_once(':') else {
        return false;
    };
    !host.is_empty()
        && !host.chars().any(char::is_whitespace)
        && !port.is_empty()
        && port.chars().all(|c| c.is_ascii_digit())
}

// ---- process_groups_from_parser ------------------------------------------

/// Every process group, sorted by (priority, name), each group's processes
/// sorted by (priority, name).
pub(super) fn groups(loader: &mut Loader) -> Vec<GroupSpec> {
    let here = loader.names(&[loader.here()]);
    let mut taken = HashSet::new();
    let mut groups = Vec::new();
    for s in loader.sections("group:") {
        groups.extend(heterogeneous(loader, &s, &here, &mut taken));
    }
    for s in loader.sections("program:") {
        if !taken.contains(&s) {
            groups.extend(homogeneous(loader, &s));
        }
    }
    for s in loader.sections("eventlistener:") {
        groups.extend(listener(loader, &s, &here));
    }
    for s in loader.sections("fcgi-program:") {
        if !taken.contains(&s) {
            groups.extend(fcgi(loader, &s, &here));
        }
    }
    for g in &mut groups {
        keep_last_of_each_name(loader, g);
    }
    groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    // supervisord keeps the first group of a name (in this order) and
    // silently drops the rest; we say so.
    let mut seen = HashSet::new();
    groups.retain(|g| {
        let first = seen.insert(g.name.clone());
        if !first {
            loader.warn(format!(
                "a second process group named {} is ignored (names of [program:], [group:], [eventlistener:] and [fcgi-program:] sections must differ)",
                g.name
            ));
        }
        first
    });
    groups
}

/// supervisord keeps a group's processes in a dict keyed by name: a later
/// process of the same name replaces the earlier one (`programs=a,a`, or a
/// process_name that expands alike for several numprocs). We keep the
/// later spec too, and say so. Then sorted by (priority, name).
fn keep_last_of_each_name(loader: &mut Loader, group: &mut GroupSpec) {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut unique: Vec<Arc<ProgramSpec>> = Vec::with_capacity(group.processes.len());
    for p in std::mem::take(&mut group.processes) {
        match index.get(&p.name) {
            Some(&i) => {
                loader.warn(format!(
                    "a second process named {} in group {} replaces the first (process names in a group must differ)",
                    p.name, group.name
                ));
                unique[i] = p;
            }
            None => {
                index.insert(p.name.clone(), unique.len());
                unique.push(p);
            }
        }
    }
    unique.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    group.processes = unique;
}

/// A `[group:x]`: the programs it lists, each `[program:y]` (or, rarely,
/// `[fcgi-program:y]`, whose socket is then not made) taken out of the
/// homogeneous groups.
fn heterogeneous(
    loader: &mut Loader,
    section: &str,
    here: &Names,
    taken: &mut HashSet<String>,
) -> Option<GroupSpec> {
    let name = match parse_name(&section["group:".len()..]) {
        Ok(n) => n,
        Err(m) => {
            let origin = loader.section_origin(section);
            loader.err(section, None, &origin, m);
            return None;
        }
    };
    let mut draft = GroupDraft::default();
    loader.apply(section, GROUP, &mut draft, &[(Here, here)]);
    let mut processes = Vec::new();
    let programs = draft.programs.take().unwrap_or_default();
    let members = programs.split(',').map(str::trim);
    for member in members.filter(|_| !programs.is_empty()) {
        let Some(chosen) = member_section(loader, section, member) else {
            continue;
        };
        if let Some(p) = program(loader, &chosen, &name) {
            processes.extend(p.processes);
        }
        taken.insert(chosen);
    }
    Some(GroupSpec {
        name,
        priority: draft.priority,
        kind: GroupKind::Group,
        processes: shared(processes),
        cgroup: draft.cgroup,
    })
}

/// The section a `[group:x] programs=` member names.
fn member_section(loader: &mut Loader, section: &str, member: &str) -> Option<String> {
    let p_sec = format!("program:{member}");
    let f_sec = format!("fcgi-program:{member}");
    match (loader.has_section(&p_sec), loader.has_section(&f_sec)) {
        (false, false) => {
            loader.fail(
                section,
                "programs",
                format!("[{section}] names unknown program or fcgi-program {member}"),
            );
            None
        }
        (true, true) => {
            loader.fail(
                section,
                "programs",
                format!(
                    "[{section}] name {member} is ambiguous (exists as program and fcgi-program)"
                ),
            );
            None
        }
        (true, false) => Some(p_sec),
        (false, true) => {
            loader.warn(format!(
                "[{section}] includes [{f_sec}], which runs as a plain program in a group: its socket is not created (as in Supervisor)"
            ));
            Some(f_sec)
        }
    }
}

/// A `[program:x]` not listed in any group: a group of its own, with the
/// program's priority.
fn homogeneous(loader: &mut Loader, section: &str) -> Option<GroupSpec> {
    let Ok(name) = parse_name(&section["program:".len()..]) else {
        // `program` reports the name.
        program(loader, section, "");
        return None;
    };
    let p = program(loader, section, &name)?;
    Some(GroupSpec {
        name,
        priority: p.draft.spec.priority,
        kind: GroupKind::Program,
        processes: shared(p.processes),
        cgroup: None,
    })
}

/// An `[eventlistener:x]` pool.
fn listener(loader: &mut Loader, section: &str, here: &Names) -> Option<GroupSpec> {
    let pool = section["eventlistener:".len()..].to_string();
    let mut draft = PoolDraft::default();
    loader.apply(section, LISTENER, &mut draft, &[(Here, here)]);
    loader.check(section, &mut draft, POOL_RULES);
    let p = program(loader, section, &pool)?;
    listener_keeps_stderr(loader, section, &p);
    Some(GroupSpec {
        name: pool,
        priority: draft.priority,
        kind: GroupKind::EventListenerPool(EventPoolSpec {
            events: draft.events,
            buffer_size: draft.buffer_size,
            result_handler: draft.result_handler,
        }),
        processes: shared(p.processes),
        cgroup: None,
    })
}

/// An `[fcgi-program:x]`: a program group with the socket its processes
/// share.
fn fcgi(loader: &mut Loader, section: &str, here: &Names) -> Option<GroupSpec> {
    let Ok(name) = parse_name(&section["fcgi-program:".len()..]) else {
        program(loader, section, "");
        return None;
    };
    let mut socket_names = here.clone();
    socket_names.insert("program_name".into(), Val::Str(name.clone()));
    let mut draft = FcgiDraft::default();
    loader.apply(
        section,
        FCGI,
        &mut draft,
        &[(Here, here), (Socket, &socket_names)],
    );
    loader.check(section, &mut draft, FCGI_RULES);
    let p = program(loader, section, &name)?;
    socket_owner_defaults_to_user(loader, &mut draft, &p);
    Some(GroupSpec {
        name,
        priority: p.draft.spec.priority,
        kind: GroupKind::Fcgi(FcgiSpec {
            socket: draft.socket,
            socket_backlog: draft.socket_backlog,
            socket_owner: draft.socket_owner,
            socket_mode: draft.socket_mode,
        }),
        processes: shared(p.processes),
        cgroup: None,
    })
}

/// The specs of a group as the shared handles `GroupSpec` keeps.
fn shared(specs: Vec<ProgramSpec>) -> Vec<Arc<ProgramSpec>> {
    specs.into_iter().map(Arc::new).collect()
}
