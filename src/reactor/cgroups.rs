//! Programs in cgroup v2 leaves (issue 6): the reactor side. Each program
//! with `cgroup=true` gets `<subtree>/<group>/<process>`, starts inside it,
//! and is STOPPED only when `cgroup.events` says `populated 0`, watched with
//! inotify (never polled). Without a usable cgroup2 the reactor falls back
//! to process groups (Supervisor's behaviour) and says so once.
//!
//! [`Cgroups`] owns the subtree, the leaves, their directory fds and the
//! inotify fd (token [`TOKEN`]); the reactor asks it to prepare a leaf
//! before a spawn, to signal through a leaf, whether an exit must wait for
//! its leaf to empty, and hears which held exits were released.
//!
//! Divergence from Supervisor, on purpose: when a main process exits by
//! itself and leaves children behind in its leaf, they are killed
//! (`cgroup.kill`) at once, before any restart, so a new instance never
//! shares its leaf (or its ports) with strays of the old one.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::sys::inotify;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::children::Exit;
use crate::api::PidInfo;
use crate::cgroup::{self, Tree};
use crate::config::{Config, LogLevel, ProgramSpec};
use crate::core::{ExitStatus, ProcId};
use crate::logs::MainLogger;
use crate::spawn::CloneMethod;

/// The inotify fd's token.
pub const TOKEN: Token = Token(2);

/// The fallback note is said once per daemon, not once per reload.
static FALLBACK_SAID: AtomicBool = AtomicBool::new(false);

/// How long start-up waits for a crashed predecessor's leaves to empty.
const RECLAIM_WAIT: Duration = Duration::from_secs(5);

/// A process's leaf while the process may run in it.
struct Leaf {
    path: PathBuf,
    dir: OwnedFd,
    wd: i32,
}

/// Cgroup state of the reactor: the subtree, one leaf per process that
/// uses one, and exits held back until their leaf is empty.
pub struct Cgroups {
    tree: Option<Tree>,
    inotify: Option<OwnedFd>,
    leaves: HashMap<ProcId, Leaf>,
    by_wd: HashMap<i32, ProcId>,
    /// Main process gone during a stop, leaf still populated: the exit the
    /// core will hear once the leaf is empty.
    held: HashMap<ProcId, (u64, ExitStatus)>,
    /// `cgroup=` of the groups of the latest configuration that set it
    /// (see [`Cgroups::wants_leaf`]).
    group_says: Option<HashMap<String, bool>>,
    /// Controllers the daemon's cgroup offers, or why there is no cgroup2.
    available: Result<Vec<String>, String>,
    base: PathBuf,
    /// A subtree was asked for (set up, or fallen back): don't try again.
    attempted: bool,
    pub method: CloneMethod,
}

impl Cgroups {
    /// Nothing set up yet (no program asked for a cgroup).
    fn none(reason: String) -> Cgroups {
        Cgroups {
            tree: None,
            inotify: None,
            leaves: HashMap::new(),
            by_wd: HashMap::new(),
            held: HashMap::new(),
            group_says: None,
            available: Err(reason),
            base: PathBuf::new(),
            attempted: false,
            method: crate::spawn::method_from_env(),
        }
    }

    /// The leaf directory fd a spawn should start in.
    pub fn leaf_fd(&self, id: ProcId) -> Option<BorrowedFd<'_>> {
        self.leaves.get(&id).map(|l| l.dir.as_fd())
    }

    /// The leaf of a process, if it has one.
    pub fn leaf_path(&self, id: ProcId) -> Option<&Path> {
        self.leaves.get(&id).map(|l| l.path.as_path())
    }

    /// The cgroup of a process as the kernel names it (`/a/b/leaf`).
    pub fn control_group(&self, id: ProcId) -> Option<String> {
        self.tree.as_ref()?.cgroup_name(self.leaf_path(id)?)
    }

    /// The process whose leaf is the cgroup the kernel names `cgroup`
    /// (`/proc/PID/cgroup`'s path), if any.
    pub fn owner_of(&self, cgroup: &str) -> Option<ProcId> {
        let tree = self.tree.as_ref()?;
        self.leaves
            .iter()
            .find(|(_, l)| tree.cgroup_name(&l.path).as_deref() == Some(cgroup))
            .map(|(&id, _)| id)
    }

    /// Is `id`'s exit of generation `gen` held back?
    pub fn is_held(&self, id: ProcId, gen: u64) -> bool {
        self.held.get(&id).is_some_and(|(g, _)| *g == gen)
    }
}

/// The OS error inside a cgroup error, for the core's `signal_failed`.
fn io_error(e: cgroup::CgroupError) -> std::io::Error {
    match e {
        cgroup::CgroupError::Write { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    }
}

/// Whether any program of `config` runs in a cgroup.
fn wanted(config: &Config) -> bool {
    config.groups.iter().any(|g| {
        g.processes
            .iter()
            .any(|p| cgroup::wants_cgroup_in(config, g.cgroup, p))
    })
}

/// `pid: cmdline` of a process, from /proc (NULs shown as spaces).
fn cmdline(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let parts: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    parts.join(" ")
}

/// Live descendants of `root` from /proc (the no-cgroup view of a program).
fn proc_descendants(root: u32) -> Vec<u32> {
    let mut parent = HashMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit(") ")
            .next()
            .and_then(|s| s.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent.insert(pid, ppid);
        }
    }
    let mut out: Vec<u32> = parent
        .keys()
        .copied()
        .filter(|&pid| {
            let mut p = pid;
            for _ in 0..256 {
                match parent.get(&p) {
                    Some(&pp) if pp == root => return true,
                    Some(&pp) if pp > 1 => p = pp,
                    _ => return false,
                }
            }
            false
        })
        .collect();
    out.sort_unstable();
    out
}

impl Cgroups {
    /// Set up cgroups for a (re)loaded configuration: reclaim what a crashed
    /// predecessor left, create the subtree, watch leaves with inotify.
    pub fn setup(&mut self, config: &Config, r: &Registry, log: &mut MainLogger) {
        if self.method == CloneMethod::Fork {
            log.log(
                LogLevel::Info,
                "spawn: fork fallback forced by PIDVISOR_SPAWN_METHOD=fork",
            );
        }
        self.setup_tree(config, wanted(config), r, log);
    }

    /// Discover cgroup2 and, when `want`, create the subtree. Also called
    /// on the first spawn that needs a leaf after `update` added one.
    fn setup_tree(&mut self, config: &Config, want: bool, r: &Registry, log: &mut MainLogger) {
        self.attempted |= want;
        let host = match cgroup::discover(Path::new("/proc")) {
            Ok(h) => h,
            Err(e) => return self.fallback(want, log, e.to_string()),
        };
        let tree = Tree::new(&host.mount, &host.own, &cgroup::subtree_name(&config.path));
        if tree.root().exists() && self.leaves.is_empty() {
            for line in tree.reclaim(RECLAIM_WAIT) {
                log.log(LogLevel::Warn, format!("cgroups: {line}"));
            }
        }
        if !want {
            tree.remove();
            return;
        }
        if let Err(e) = tree.create() {
            return self.fallback(want, log, e.to_string());
        }
        let fd = match inotify::init() {
            Ok(fd) => fd,
            Err(e) => return self.fallback(want, log, format!("inotify_init: {e}")),
        };
        if let Err(e) = r.register(&mut SourceFd(&fd.as_raw_fd()), TOKEN, Interest::READABLE) {
            return self.fallback(want, log, format!("cannot watch cgroup events: {e}"));
        }
        let base = tree.base().to_path_buf();
        let available = cgroup::read_controllers(&base).map_err(|e| e.to_string());
        log.log(
            LogLevel::Info,
            format!(
                "cgroups: programs run in leaves under {}",
                tree.root().display()
            ),
        );
        self.available = available;
        self.base = base;
        self.tree = Some(tree);
        self.inotify = Some(fd);
        let avail = self.available.as_deref().map_err(String::as_str);
        for e in cgroup::check_config(config, avail, &self.base) {
            log.log(LogLevel::Error, e.to_string());
        }
    }

    fn fallback(&mut self, want: bool, log: &mut MainLogger, reason: String) {
        self.available = Err(reason.clone());
        if want && !FALLBACK_SAID.swap(true, Ordering::Relaxed) {
            log.log(
                LogLevel::Warn,
                format!("cgroups: {reason}; falling back to process groups (stopasgroup/killasgroup as in Supervisor)"),
            );
        }
    }

    /// Before a spawn: make (or reuse) the process's leaf, kill strays left
    /// in it, apply limits. `Err` is the spawn error text.
    /// `config` is the core's latest (pending) configuration.
    pub fn prepare_leaf(
        &mut self,
        id: ProcId,
        spec: &ProgramSpec,
        config: &Config,
        r: &Registry,
        log: &mut MainLogger,
    ) -> Result<(), String> {
        let want = self.wants_leaf(config, spec);
        if want && !self.attempted {
            self.setup_tree(config, true, r, log);
        }
        let limits = cgroup::limits_of(spec);
        if !limits.is_empty() {
            // The same error as --check-config and the start-up log.
            let avail = self.available.as_deref().map_err(String::as_str);
            let section = format!("program:{}", spec.program);
            let errs = cgroup::check_config(config, avail, &self.base);
            if let Some(e) = errs.iter().find(|e| e.section.as_deref() == Some(&section)) {
                return Err(e.to_string());
            }
        }
        let Some(tree) = self.tree.clone() else {
            return Ok(());
        };
        if !want {
            return Ok(());
        }
        if !limits.is_empty() {
            let mut ctrls: Vec<&str> = limits.iter().map(|l| l.controller).collect();
            ctrls.dedup();
            tree.enable(&spec.group, &ctrls, std::process::id())
                .map_err(|e| e.to_string())?;
        }
        if !self.leaves.contains_key(&id) {
            let path = tree
                .create_leaf(&spec.group, &spec.name)
                .map_err(|e| e.to_string())?;
            let dir = Tree::open(&path).map_err(|e| e.to_string())?;
            let Some(ino) = self.inotify.as_ref() else {
                return Ok(());
            };
            let wd = inotify::watch_modify(ino, &path.join("cgroup.events"))
                .map_err(|e| format!("cannot watch {}/cgroup.events: {e}", path.display()))?;
            self.by_wd.insert(wd, id);
            self.leaves.insert(id, Leaf { path, dir, wd });
        }
        let leaf = self.leaves[&id].path.clone();
        if cgroup::populated(&leaf).unwrap_or(false) {
            // Strays of an earlier instance: never share a leaf with them.
            let _ = cgroup::kill(&leaf);
            log.log(
                LogLevel::Info,
                format!("cgroups: killed leftover processes in {}", leaf.display()),
            );
        }
        tree.write_limits(&leaf, &limits).map_err(|e| e.to_string())
    }

    /// [`cgroup::wants_cgroup`] without its walk of every group at every
    /// spawn (a start all of N programs in N groups was O(N x G)): the
    /// groups of `config` that say `cgroup=` are noted once, until
    /// [`Cgroups::config_changed`].
    fn wants_leaf(&mut self, config: &Config, spec: &ProgramSpec) -> bool {
        let said = self.group_says.get_or_insert_with(|| {
            (config.groups.iter())
                .filter_map(|g| Some((g.name.clone(), g.cgroup?)))
                .collect()
        });
        let group = said.get(&spec.group).copied();
        cgroup::wants_cgroup_in(config, group, spec)
    }

    /// The latest configuration changed (a reread).
    pub fn config_changed(&mut self) {
        self.group_says = None;
    }

    /// Signal a process that has a leaf (`stopping`: the core is stopping
    /// it). Returns `None` when the process has no leaf (the caller uses
    /// the pidfd / process group).
    pub fn signal_leaf(
        &self,
        id: ProcId,
        sig: i32,
        group: bool,
        stopping: bool,
    ) -> Option<std::io::Result<()>> {
        let leaf = &self.leaves.get(&id)?.path;
        if sig == crate::sys::signal::SIGKILL && (stopping || group) {
            // The final stop: atomic, catches processes forking meanwhile.
            return Some(cgroup::kill(leaf).map_err(io_error));
        }
        if !group {
            return None;
        }
        // stopasgroup: every pid in the leaf, re-read until no new ones.
        let mut done = std::collections::HashSet::new();
        for _ in 0..64 {
            let pids = cgroup::procs(leaf).unwrap_or_default();
            let fresh: Vec<u32> = pids.into_iter().filter(|p| done.insert(*p)).collect();
            if fresh.is_empty() {
                break;
            }
            for pid in fresh {
                let _ = crate::sys::daemon::kill(pid, sig);
            }
        }
        Some(Ok(()))
    }

    /// The main process exited. Returns true when the exit is held back
    /// until the leaf is empty: during a stop (the core's stopwaitsecs
    /// timer keeps running and its SIGKILL becomes `cgroup.kill`), and
    /// after an exit by itself, whose leftovers are killed at once.
    /// An exit that is not held drops the (empty) leaf right away.
    /// `stopping`: the core is stopping the process; `name` is for the log.
    pub fn hold_exit(
        &mut self,
        exit: &Exit,
        stopping: bool,
        name: &str,
        log: &mut MainLogger,
    ) -> bool {
        let id = exit.id;
        let Some(leaf) = self.leaves.get(&id).map(|l| l.path.clone()) else {
            return false;
        };
        if !cgroup::populated(&leaf).unwrap_or(false) {
            self.drop_leaf(id, log);
            return false;
        }
        self.held.insert(id, (exit.gen, exit.status));
        if stopping {
            return true;
        }
        // Exited by itself: what it left behind goes now (documented
        // divergence), so the next start never shares its leaf.
        let pids = cgroup::procs(&leaf).unwrap_or_default();
        let _ = cgroup::kill(&leaf);
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        log.log(
            LogLevel::Info,
            format!(
                "cgroups: '{name}' exited; killed what it left in its cgroup ({})",
                pids.join(" ")
            ),
        );
        true
    }

    /// inotify said some `cgroup.events` changed: the held exits whose
    /// leaf is now empty, released.
    pub fn ready(&mut self, log: &mut MainLogger) -> Vec<Exit> {
        let Some(fd) = self.inotify.as_ref() else {
            return Vec::new();
        };
        let mut ids: Vec<ProcId> = inotify::drain(fd)
            .into_iter()
            .filter_map(|wd| self.by_wd.get(&wd).copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| self.release_if_empty(id, log))
            .collect()
    }

    /// The held exit of `id`, if its leaf is empty now.
    pub fn release_if_empty(&mut self, id: ProcId, log: &mut MainLogger) -> Option<Exit> {
        let leaf = self.leaf_path(id)?;
        if cgroup::populated(leaf).unwrap_or(false) {
            return None;
        }
        let (gen, status) = self.held.remove(&id)?;
        self.drop_leaf(id, log);
        // Held exits are reported as they are (never a pidfile wait).
        Some(Exit {
            id,
            gen,
            status,
            pid: 0,
            spawned: false,
            since: None,
        })
    }

    /// Remove a process's leaf once it is empty. Every spawn gets a fresh
    /// leaf: besides tidiness, on Linux 6.18 (seen on this project's CI
    /// machines) every child that `clone3(CLONE_INTO_CGROUP)` puts into a
    /// cgroup that was once `cgroup.kill`ed is SIGKILLed at birth (the
    /// fork-versus-kill check seems to compare the kill counts of the
    /// parent's and the target cgroup), so a killed leaf is never reused.
    fn drop_leaf(&mut self, id: ProcId, log: &mut MainLogger) {
        let Some(leaf) = self.leaves.remove(&id) else {
            return;
        };
        self.held.remove(&id);
        self.by_wd.remove(&leaf.wd);
        if let Some(fd) = &self.inotify {
            let _ = inotify::unwatch(fd, leaf.wd);
        }
        drop(leaf.dir);
        match std::fs::remove_dir(&leaf.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log.log(
                LogLevel::Warn,
                format!("cgroups: cannot remove {}: {e}", leaf.path.display()),
            ),
        }
    }

    /// Leaves of processes that no longer exist (group removed) go.
    pub fn forget_removed(
        &mut self,
        live: &std::collections::HashSet<ProcId>,
        log: &mut MainLogger,
    ) {
        let gone: Vec<ProcId> = self
            .leaves
            .keys()
            .copied()
            .filter(|id| !live.contains(id))
            .collect();
        for id in gone {
            self.drop_leaf(id, log);
        }
        // Group nodes left without leaves go too.
        if let Some(tree) = &self.tree {
            tree.remove_empty_groups();
        }
    }

    /// End of this configuration's run: drop the watches and remove the
    /// (now empty) subtree.
    pub fn teardown(&mut self, r: &Registry) {
        if let Some(fd) = self.inotify.take() {
            let _ = r.deregister(&mut SourceFd(&fd.as_raw_fd()));
        }
        self.leaves.clear();
        self.by_wd.clear();
        if let Some(tree) = self.tree.take() {
            tree.remove();
        }
    }

    /// `pidvisor.listProcessPids`: every pid of the program (its leaf, or
    /// without one the main pid and its descendants) with its command line.
    /// `main`: the main pid while the child lives.
    pub fn pids(&self, id: ProcId, main: Option<u32>) -> Vec<PidInfo> {
        let pids = match (self.leaf_path(id), main) {
            (Some(leaf), _) => cgroup::procs(leaf).unwrap_or_default(),
            (None, Some(pid)) => std::iter::once(pid).chain(proc_descendants(pid)).collect(),
            (None, None) => Vec::new(),
        };
        pids.into_iter()
            .map(|pid| PidInfo {
                pid,
                cmdline: cmdline(pid),
            })
            .collect()
    }
}

impl Default for Cgroups {
    fn default() -> Cgroups {
        Cgroups::none("cgroups not set up".into())
    }
}
