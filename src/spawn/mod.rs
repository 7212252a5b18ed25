//! Spawning a program: prepare everything before fork, then a child that only
//! does async-signal-safe steps until `execve`.
//!
//! [`prepare`] resolves the command (Supervisor's exact `spawnerr` texts),
//! builds `argv`, the environment, the group list and every message the child
//! might print, once. [`spawn`] then creates the child with a pidfd
//! (vfork-like `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)`, or
//! `clone3(CLONE_INTO_CGROUP)` into a cgroup, or fork + `pidfd_open`; see
//! [`crate::sys::clone`]) and reads a close-on-exec report pipe that is
//! complete once the child called `execve` or exited: end of file
//! means the program is running; an 8-byte `(stage, errno)` report means the
//! child failed before exec, which becomes a [`SpawnError::Child`] such as
//! `couldn't chdir to /nope: ENOENT` (the child also wrote Supervisor's
//! `supervisor: couldn't ...` lines to its stderr). [`prepare_with`] takes
//! the daemon's environment as strings made once ([`BaseEnv`]), so a spawn
//! builds only the few variables that are its own.

mod child;
mod command;
mod env;
pub mod envfile;
mod slots;

use std::ffi::{CStr, CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::config::types::ProgramSpec;
use crate::py::py_repr;
use crate::sys;
pub use crate::sys::clone::CloneMethod;
use crate::sys::exec::CStrArray;
pub use crate::sys::wait::ExitStatus;

pub use child::ExecStage;
pub use command::{resolve_command, search_path, DEFAULT_PATH};
pub use env::{build as build_environment, DaemonEnv, Environment};
pub use slots::reserve as reserve_low_fds;

/// Why a spawn failed. Messages are Supervisor's where it has one.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The command could not be resolved: `can't find command 'x'` etc.
    #[error("{0}")]
    Command(String),
    /// An argument, variable or directory contains a NUL byte.
    #[error("{what} contains a NUL byte: {value}")]
    Nul { what: &'static str, value: String },
    /// The cgroup's `cgroup.procs` could not be opened.
    #[error("couldn't open cgroup.procs of the program's cgroup: {0}")]
    Cgroup(#[source] io::Error),
    /// The report pipe could not be made.
    #[error("couldn't make the spawn report pipe")]
    Pipe(#[source] io::Error),
    /// `clone`/`clone3`/`fork` (or `pidfd_open` after fork) failed.
    #[error("couldn't fork")]
    Fork(#[source] io::Error),
    /// `environment_file` could not be read (`couldn't read
    /// environment_file /x: ENOENT`) or has a bad line.
    #[error("{0}")]
    EnvFile(#[from] envfile::EnvFileError),
    /// The child failed before `execve` and exited 127 (already reaped).
    #[error("{message}")]
    Child {
        pid: u32,
        stage: ExecStage,
        errno: i32,
        /// E.g. `couldn't chdir to /nope: ENOENT`.
        message: String,
    },
}

impl SpawnError {
    /// Whether the daemon (or the system) was out of descriptors: the spawn
    /// may work once some are freed.
    pub fn out_of_fds(&self) -> bool {
        match self {
            SpawnError::Pipe(e) | SpawnError::Fork(e) | SpawnError::Cgroup(e) => {
                sys::errno::is_fd_exhaustion(e)
            }
            _ => false,
        }
    }

    /// Supervisor's `spawnerr` text for this failure of program `name`.
    pub fn spawnerr(&self, name: &str) -> String {
        let errno = |e: &io::Error| sys::errno::errno_text(e.raw_os_error().unwrap_or(0));
        match self {
            SpawnError::Pipe(e) if e.raw_os_error() == Some(sys::errno::EMFILE) => {
                format!("too many open files to spawn {}", py_repr(name))
            }
            SpawnError::Pipe(e) => format!(
                "unknown error making dispatchers for {}: {}",
                py_repr(name),
                errno(e)
            ),
            SpawnError::Fork(e) if e.raw_os_error() == Some(sys::errno::EAGAIN) => format!(
                "Too many processes in process table to spawn {}",
                py_repr(name)
            ),
            SpawnError::Fork(e) => format!(
                "unknown error during fork for {}: {}",
                py_repr(name),
                errno(e)
            ),
            other => other.to_string(),
        }
    }
}

/// What `user=` means for the child.
#[derive(Debug, Clone, PartialEq)]
enum UserPlan {
    /// No `user=`, or already that uid (Supervisor does nothing then).
    Keep,
    /// `user=` while the daemon is not root: the child reports and exits.
    NotRoot,
    /// setgroups, setresgid, setresuid, clear capabilities.
    Drop {
        uid: u32,
        gid: u32,
        groups: Vec<sys::cred::Gid>,
    },
}

/// Everything the child needs, built before fork. Reusable across restarts.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    filename: CString,
    argv: CStrArray,
    envp: CStrArray,
    user: UserPlan,
    directory: Option<CString>,
    umask: Option<u32>,
    /// `capabilities`: kept (ambient) across the `user=` drop; bit `n` is
    /// capability `n`.
    capabilities: u64,
    /// `no_new_privs`.
    no_new_privs: bool,
    /// `couldn't setuid to UID: ` (empty without `user=`).
    msg_setuid: Vec<u8>,
    /// `couldn't chdir to DIR: `.
    msg_chdir: Vec<u8>,
    /// `couldn't exec ARGV0: `.
    msg_exec: Vec<u8>,
}

impl Prepared {
    /// The file `execve` runs (resolved through PATH).
    pub fn filename(&self) -> &CStr {
        &self.filename
    }

    /// The argument vector, argv\[0\] as written in the command.
    pub fn argv(&self) -> &[Arc<CStr>] {
        self.argv.as_slice()
    }

    /// The environment as `KEY=VALUE` strings.
    pub fn envp(&self) -> &[Arc<CStr>] {
        self.envp.as_slice()
    }
}

/// The daemon's environ as `KEY=VALUE` C strings, made once and shared by
/// every environment block: a spawn clones these handles and makes only its
/// own variables, and no process keeps a copy of the daemon's environment.
#[derive(Debug, Clone, Default)]
pub struct BaseEnv {
    vars: Vec<(OsString, Arc<CStr>)>,
}

impl BaseEnv {
    /// From the daemon's environ (a later duplicate wins in place, as in
    /// [`Environment`]); an entry with a NUL byte cannot come from a real
    /// environ and is left out.
    pub fn new(environ: &[(OsString, OsString)]) -> BaseEnv {
        let mut env = Environment::new();
        for (k, v) in environ {
            env.set(k.clone(), v.clone());
        }
        let vars = env
            .vars()
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), Arc::from(key_value(k, v).ok()?))))
            .collect();
        BaseEnv { vars }
    }
}

fn key_value(k: &OsStr, v: &OsStr) -> Result<CString, SpawnError> {
    let mut kv = Vec::with_capacity(k.len() + v.len() + 1);
    kv.extend_from_slice(k.as_bytes());
    kv.push(b'=');
    kv.extend_from_slice(v.as_bytes());
    CString::new(kv).map_err(|e| SpawnError::Nul {
        what: "environment",
        value: String::from_utf8_lossy(&e.into_vec()).into_owned(),
    })
}

/// The daemon-wide inputs of [`prepare`].
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub env: DaemonEnv<'a>,
    /// The daemon's working directory, for relative commands (Supervisor's
    /// check happens in the daemon, before the child's chdir).
    pub cwd: &'a Path,
}

/// Resolve and pre-build everything for one program.
///
/// Supervisor resolves the command at every spawn (a binary installed later
/// is found on the next retry); call this per spawn for that behaviour, or
/// keep the result while the spec and the daemon environment are unchanged.
///
/// Fails with [`SpawnError::Command`] carrying Supervisor's exact text
/// (the caller records it as `spawnerr` and goes to BACKOFF without forking).
pub fn prepare(spec: &ProgramSpec, ctx: &Context<'_>) -> Result<Prepared, SpawnError> {
    prepare_with(spec, ctx, &BaseEnv::new(ctx.env.environ))
}

/// [`prepare`] with the daemon's environ already made into `base` (it must
/// be made from `ctx.env.environ`).
pub fn prepare_with(
    spec: &ProgramSpec,
    ctx: &Context<'_>,
    base: &BaseEnv,
) -> Result<Prepared, SpawnError> {
    let daemon_path = ctx
        .env
        .environ
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .and_then(|(_, v)| v.to_str());
    let path = search_path(&spec.environment, daemon_path);
    let (filename, argv) =
        resolve_command(&spec.command, path, ctx.cwd).map_err(SpawnError::Command)?;

    let nul = |what: &'static str, bytes: Vec<u8>| {
        CString::new(bytes).map_err(|e| SpawnError::Nul {
            what,
            value: String::from_utf8_lossy(&e.into_vec()).into_owned(),
        })
    };
    let msg_exec = format!("couldn't exec {}: ", argv[0]).into_bytes();
    let filename = nul("command", filename.into_os_string().into_vec())?;
    let argv = argv
        .into_iter()
        .map(|a| nul("command", a.into_bytes()))
        .collect::<Result<Vec<_>, _>>()?;

    // Read at every spawn, before fork: an edit applies at the next start.
    let from_file = match &spec.environment_file {
        None => Vec::new(),
        Some(f) => envfile::read(&f.path, f.optional)?,
    };
    let envp = build_envp(spec, ctx, base, &from_file)?;

    let (user, msg_setuid) = match &spec.user {
        None => (UserPlan::Keep, Vec::new()),
        Some(u) => {
            let msg = format!("couldn't setuid to {}: ", u.uid).into_bytes();
            let me = sys::cred::getuid();
            let plan = if me == u.uid {
                UserPlan::Keep
            } else if me != 0 {
                UserPlan::NotRoot
            } else {
                UserPlan::Drop {
                    uid: u.uid,
                    gid: u.gid,
                    groups: sys::cred::gids(&supplementary_groups(&u.name, u.gid)),
                }
            };
            (plan, msg)
        }
    };

    let (directory, msg_chdir) = match &spec.directory {
        None => (None, Vec::new()),
        Some(dir) => (
            Some(nul("directory", dir.as_os_str().as_bytes().to_vec())?),
            format!("couldn't chdir to {}: ", dir.display()).into_bytes(),
        ),
    };

    Ok(Prepared {
        filename,
        argv: CStrArray::new(argv),
        envp,
        user,
        directory,
        umask: spec.umask,
        capabilities: spec.capabilities,
        no_new_privs: spec.no_new_privs,
        msg_setuid,
        msg_chdir,
        msg_exec,
    })
}

/// The environment block of [`env::build`], from the shared `base` plus the
/// program's own layers: a variable the program sets keeps the daemon's
/// position, new ones follow in order.
fn build_envp(
    spec: &ProgramSpec,
    ctx: &Context<'_>,
    base: &BaseEnv,
    from_file: &[(String, String)],
) -> Result<CStrArray, SpawnError> {
    let mut own = Environment::new();
    env::overlay(&mut own, spec, spec.user.as_ref(), &ctx.env, from_file);
    let mut placed = vec![false; own.vars().len()];
    let mut out = Vec::with_capacity(base.vars.len() + own.vars().len());
    for (k, kv) in &base.vars {
        match own.position(k) {
            Some(i) => {
                let (k, v) = &own.vars()[i];
                out.push(Arc::from(key_value(k, v)?));
                placed[i] = true;
            }
            None => out.push(kv.clone()),
        }
    }
    for ((k, v), _) in own.vars().iter().zip(&placed).filter(|(_, p)| !**p) {
        out.push(Arc::from(key_value(k, v)?));
    }
    let mut envp = CStrArray::from_shared(out);
    // WATCHDOG_PID is the child's own pid, known only in the child.
    if own.get("WATCHDOG_USEC").is_some() && own.get("WATCHDOG_PID").is_none() {
        envp.push_pid_entry("WATCHDOG_PID");
    }
    Ok(envp)
}

/// Supervisor's group list for `user=`: the primary gid first, then every
/// group that lists the user (`getgrouplist`), without repeats.
fn supplementary_groups(name: &str, primary: u32) -> Vec<u32> {
    let mut groups = vec![primary];
    for g in sys::user::group_list(name, primary) {
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
}

/// The child's ends of its stdio pipes (or other files). `stderr` may be the
/// same descriptor as `stdout` (`redirect_stderr`). The caller keeps
/// ownership and closes them after [`spawn`] returns.
#[derive(Debug, Clone, Copy)]
pub struct Stdio<'a> {
    pub stdin: BorrowedFd<'a>,
    pub stdout: BorrowedFd<'a>,
    pub stderr: BorrowedFd<'a>,
}

/// Optional knobs for [`spawn_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SpawnOptions<'a> {
    /// A cgroup v2 directory fd: the child starts inside it
    /// (`CLONE_INTO_CGROUP`) when clone3 is used; see [`Child::in_cgroup`].
    pub cgroup: Option<BorrowedFd<'a>>,
    /// [`CloneMethod::Fork`] forces the fork + `pidfd_open` fallback.
    pub method: CloneMethod,
    /// The soft RLIMIT_NOFILE the child gets, when the daemon raised its
    /// own above it (`None`: the child inherits the daemon's). The hard
    /// limit stays.
    pub nofile_soft: Option<u64>,
}

/// A running child whose `execve` succeeded.
#[derive(Debug)]
pub struct Child {
    pub pid: u32,
    /// Keep it until the child is reaped through it.
    pub pidfd: OwnedFd,
    /// Whether it runs inside [`SpawnOptions::cgroup`]: started there by
    /// `CLONE_INTO_CGROUP`, or (fork fallback) joined in the child before
    /// `execve`; a failed join is a [`SpawnError::Child`] at
    /// [`ExecStage::Cgroup`].
    pub in_cgroup: bool,
}

impl Child {
    /// `pidfd_send_signal(pidfd, sig)`; `ESRCH` once it has exited.
    pub fn signal(&self, sig: i32) -> io::Result<()> {
        sys::pidfd::pidfd_send_signal(&self.pidfd, sig)
    }

    /// Reap it if it has exited (`waitid(P_PIDFD, WNOHANG)`).
    pub fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        sys::pidfd::wait_pidfd(self.pidfd.as_fd())
    }
}

/// The spawn method, normally [`CloneMethod::Auto`]. Tests force the fork
/// fallback with the hidden environment variable
/// `PIDVISOR_SPAWN_METHOD=fork` in the daemon's environment.
pub fn method_from_env() -> CloneMethod {
    match std::env::var_os("PIDVISOR_SPAWN_METHOD") {
        Some(v) if v == "fork" => CloneMethod::Fork,
        _ => CloneMethod::Auto,
    }
}

/// [`spawn_with`] with default options (the vfork-like clone, no cgroup).
pub fn spawn(prep: &Prepared, stdio: Stdio<'_>) -> Result<Child, SpawnError> {
    spawn_with(prep, stdio, &SpawnOptions::default())
}

/// How long a child that reported a failure may take to exit before we
/// SIGKILL it (it normally exits at once; only a full stderr pipe delays it).
const FAILED_CHILD_GRACE: Duration = Duration::from_secs(1);

/// Start the prepared program with the given stdio. Returns once the child
/// has called `execve` (or failed before it).
pub fn spawn_with(
    prep: &Prepared,
    stdio: Stdio<'_>,
    opts: &SpawnOptions<'_>,
) -> Result<Child, SpawnError> {
    let (report_rd, report_wr) = sys::fd::pipe_cloexec().map_err(SpawnError::Pipe)?;
    // The child keeps the write end across close_range by number, so it
    // must not collide with 0..=2.
    let report_wr = if report_wr.as_raw_fd() < 3 {
        sys::fd::dup_cloexec_at_least(&report_wr, 3).map_err(SpawnError::Pipe)?
    } else {
        report_wr
    };
    // Opened here, written by the child: "0" moves the writer itself.
    let cgroup_procs = match opts.cgroup {
        Some(dir) => Some(sys::fd::open_write_at(dir, "cgroup.procs").map_err(SpawnError::Cgroup)?),
        None => None,
    };
    let mut fds = child::ChildFds {
        stdio: [
            stdio.stdin.as_raw_fd(),
            stdio.stdout.as_raw_fd(),
            stdio.stderr.as_raw_fd(),
        ],
        report: report_wr.as_raw_fd(),
        cgroup_procs: cgroup_procs.as_ref().map_or(-1, |fd| fd.as_raw_fd()),
        nofile: opts.nofile_soft.map(|soft| {
            let (_, hard) = sys::rlimit::get(sys::rlimit::Limit::NoFile);
            (Some(soft), hard)
        }),
        own_table_below: None,
    };
    let cloned = slots::with(|mut slots| {
        // What the child needs, on low numbers: it then copies only those.
        let wanted = [
            Some(stdio.stdin),
            Some(stdio.stdout),
            Some(stdio.stderr),
            Some(report_wr.as_fd()),
            cgroup_procs.as_ref().map(|f| f.as_fd()),
        ];
        if let Some(s) = slots.as_deref_mut() {
            if let Ok([i, o, e, r, c]) = s.fill(wanted) {
                fds.stdio = [i, o, e];
                fds.report = r;
                fds.cgroup_procs = c;
                fds.own_table_below = Some(s.end());
            }
        }
        let share = fds.own_table_below.is_some();
        let cloned = sys::clone::spawn_child(opts.method, opts.cgroup, share, || {
            child::child_main(prep, &fds)
        });
        if let Some(s) = slots {
            s.clear();
        }
        cloned
    })
    .map_err(SpawnError::Fork)?;
    drop(report_wr);
    drop(cgroup_procs);

    let mut report = [0u8; 8];
    // A read error other than EINTR cannot happen on our own pipe; if it
    // did, treat the child as started: its pidfd still reports its exit.
    let n = sys::fd::read_full(&report_rd, &mut report).unwrap_or(0);
    if n == 0 {
        return Ok(Child {
            pid: cloned.pid,
            pidfd: cloned.pidfd,
            // The fork fallback joined in the child before exec.
            in_cgroup: opts.cgroup.is_some(),
        });
    }

    // The child failed before exec and is exiting with 127: reap it here so
    // the failure is one error, not an error plus a stray exit.
    let pidfd = cloned.pidfd.as_fd();
    if let Ok(None) = sys::pidfd::wait_pidfd_timeout(pidfd, FAILED_CHILD_GRACE) {
        let _ = sys::pidfd::pidfd_send_signal(pidfd, sys::signal::SIGKILL);
        let _ = sys::pidfd::wait_pidfd_blocking(pidfd);
    }
    let raw_stage = u32::from_le_bytes([report[0], report[1], report[2], report[3]]);
    let errno = i32::from_le_bytes([report[4], report[5], report[6], report[7]]);
    let (stage, message) = match (n, ExecStage::from_u32(raw_stage)) {
        (8, Some(stage)) => (stage, stage.message(prep, errno)),
        _ => (
            ExecStage::Exec,
            format!("child sent a malformed spawn report ({n} bytes)"),
        ),
    };
    Err(SpawnError::Child {
        pid: cloned.pid,
        stage,
        errno,
        message,
    })
}

#[cfg(test)]
mod tests;
