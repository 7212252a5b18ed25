//! Programs in cgroup v2 leaves (issue 6): the reactor side. Each program
//! with `cgroup=true` gets `<subtree>/<group>/<process>`, starts inside it,
//! and is STOPPED only when `cgroup.events` says `populated 0`, watched with
//! inotify (never polled). Without a usable cgroup2 the reactor falls back
//! to process groups (Supervisor's behaviour) and says so once.
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

use mio::unix::SourceFd;
use mio::{Interest, Token};
use rustix::fs::inotify;

use super::{now, Reactor, Source};
use crate::cgroup::{self, Tree};
use crate::config::{Config, LogLevel, ProgramSpec};
use crate::control::xmlrpc::Value;
use crate::core::{ExitStatus, ProcId};
use crate::spawn::CloneMethod;

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
    token: Option<Token>,
    leaves: HashMap<ProcId, Leaf>,
    by_wd: HashMap<i32, ProcId>,
    /// Main process gone during a stop, leaf still populated: the exit the
    /// core will hear once the leaf is empty.
    held: HashMap<ProcId, (u64, ExitStatus)>,
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
            token: None,
            leaves: HashMap::new(),
            by_wd: HashMap::new(),
            held: HashMap::new(),
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
    config
        .groups
        .iter()
        .flat_map(|g| &g.processes)
        .any(|p| cgroup::wants_cgroup(config, p))
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

impl Reactor {
    /// Set up cgroups for a (re)loaded configuration: reclaim what a crashed
    /// predecessor left, create the subtree, watch leaves with inotify.
    pub(super) fn setup_cgroups(&mut self) {
        let config = self.config.clone();
        if self.cgroups.method == CloneMethod::Fork {
            self.log(
                LogLevel::Info,
                "spawn: fork fallback forced by PIDVISOR_SPAWN_METHOD=fork",
            );
        }
        self.setup_tree(&config, wanted(&config));
    }

    /// Discover cgroup2 and, when `want`, create the subtree. Also called
    /// on the first spawn that needs a leaf after `update` added one.
    fn setup_tree(&mut self, config: &Config, want: bool) {
        self.cgroups.attempted |= want;
        let host = match cgroup::discover(Path::new("/proc")) {
            Ok(h) => h,
            Err(e) => return self.cgroup_fallback(want, e.to_string()),
        };
        let tree = Tree::new(&host.mount, &host.own, &cgroup::subtree_name(&config.path));
        if tree.root().exists() && self.cgroups.leaves.is_empty() {
            for line in tree.reclaim(RECLAIM_WAIT) {
                self.log(LogLevel::Warn, &format!("cgroups: {line}"));
            }
        }
        if !want {
            tree.remove();
            return;
        }
        if let Err(e) = tree.create() {
            return self.cgroup_fallback(want, e.to_string());
        }
        let fd = match inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)
        {
            Ok(fd) => fd,
            Err(e) => return self.cgroup_fallback(want, format!("inotify_init: {e}")),
        };
        let token = self.token(Source::Cgroup);
        if let Err(e) =
            self.poll
                .registry()
                .register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)
        {
            return self.cgroup_fallback(want, format!("cannot watch cgroup events: {e}"));
        }
        let base = tree.base().to_path_buf();
        let available = cgroup::read_controllers(&base).map_err(|e| e.to_string());
        let c = &mut self.cgroups;
        c.available = available;
        c.base = base;
        c.tree = Some(tree);
        c.inotify = Some(fd);
        c.token = Some(token);
        let root = self
            .cgroups
            .tree
            .as_ref()
            .map(|t| t.root().display().to_string());
        self.log(
            LogLevel::Info,
            &format!(
                "cgroups: programs run in leaves under {}",
                root.unwrap_or_default()
            ),
        );
        let avail = self.cgroups.available.as_deref().map_err(String::as_str);
        let errors = cgroup::check_config(config, avail, &self.cgroups.base);
        for e in errors {
            self.log(LogLevel::Error, &e.to_string());
        }
    }

    fn cgroup_fallback(&mut self, want: bool, reason: String) {
        self.cgroups.available = Err(reason.clone());
        if want && !FALLBACK_SAID.swap(true, Ordering::Relaxed) {
            self.log(
                LogLevel::Warn,
                &format!("cgroups: {reason}; falling back to process groups (stopasgroup/killasgroup as in Supervisor)"),
            );
        }
    }

    /// Before a spawn: make (or reuse) the process's leaf, kill strays left
    /// in it, apply limits. `Err` is the spawn error text.
    pub(super) fn prepare_leaf(&mut self, id: ProcId, spec: &ProgramSpec) -> Result<(), String> {
        let want = cgroup::wants_cgroup(self.core.pending_config(), spec);
        if want && !self.cgroups.attempted {
            let config = self.core.pending_config().clone();
            self.setup_tree(&config, true);
        }
        let limits = cgroup::limits_of(spec);
        if !limits.is_empty() {
            // The same error as --check-config and the start-up log.
            let avail = self.cgroups.available.as_deref().map_err(String::as_str);
            let section = format!("program:{}", spec.program);
            let errs = cgroup::check_config(self.core.pending_config(), avail, &self.cgroups.base);
            if let Some(e) = errs.iter().find(|e| e.section.as_deref() == Some(&section)) {
                return Err(e.to_string());
            }
        }
        let Some(tree) = self.cgroups.tree.clone() else {
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
        if !self.cgroups.leaves.contains_key(&id) {
            let path = tree
                .create_leaf(&spec.group, &spec.name)
                .map_err(|e| e.to_string())?;
            let dir = Tree::open(&path).map_err(|e| e.to_string())?;
            let Some(ino) = self.cgroups.inotify.as_ref() else {
                return Ok(());
            };
            let wd =
                inotify::add_watch(ino, path.join("cgroup.events"), inotify::WatchFlags::MODIFY)
                    .map_err(|e| format!("cannot watch {}/cgroup.events: {e}", path.display()))?;
            self.cgroups.by_wd.insert(wd, id);
            self.cgroups.leaves.insert(id, Leaf { path, dir, wd });
        }
        let leaf = self.cgroups.leaves[&id].path.clone();
        if cgroup::populated(&leaf).unwrap_or(false) {
            // Strays of an earlier instance: never share a leaf with them.
            let _ = cgroup::kill(&leaf);
            self.log(
                LogLevel::Info,
                &format!("cgroups: killed leftover processes in {}", leaf.display()),
            );
        }
        tree.write_limits(&leaf, &limits).map_err(|e| e.to_string())
    }

    /// Signal a process that has a leaf. Returns `None` when the process
    /// has no leaf (the caller uses the pidfd / process group).
    pub(super) fn signal_leaf(
        &mut self,
        id: ProcId,
        sig: i32,
        group: bool,
    ) -> Option<std::io::Result<()>> {
        let leaf = self.cgroups.leaves.get(&id)?.path.clone();
        let stopping = self.core.process(id).is_some_and(|p| p.killing);
        if sig == libc::SIGKILL && (stopping || group) {
            // The final stop: atomic, catches processes forking meanwhile.
            return Some(cgroup::kill(&leaf).map_err(io_error));
        }
        if !group {
            return None;
        }
        // stopasgroup: every pid in the leaf, re-read until no new ones.
        let mut done = std::collections::HashSet::new();
        for _ in 0..64 {
            let pids = cgroup::procs(&leaf).unwrap_or_default();
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
    pub(super) fn hold_exit(&mut self, id: ProcId, gen: u64, status: ExitStatus) -> bool {
        let Some(leaf) = self.cgroups.leaves.get(&id).map(|l| l.path.clone()) else {
            return false;
        };
        if !cgroup::populated(&leaf).unwrap_or(false) {
            self.drop_leaf(id);
            return false;
        }
        self.cgroups.held.insert(id, (gen, status));
        if self.core.process(id).is_some_and(|p| p.killing) {
            return true;
        }
        // Exited by itself: what it left behind goes now (documented
        // divergence), so the next start never shares its leaf.
        let pids = cgroup::procs(&leaf).unwrap_or_default();
        let _ = cgroup::kill(&leaf);
        let name = self
            .core
            .spec(id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
        self.log(
            LogLevel::Info,
            &format!(
                "cgroups: '{name}' exited; killed what it left in its cgroup ({})",
                pids.join(" ")
            ),
        );
        // It may already be empty (no inotify event would come then).
        self.release_if_empty(id);
        true
    }

    /// inotify said some `cgroup.events` changed: release held exits whose
    /// leaf is now empty.
    pub(super) fn on_cgroup_events(&mut self) {
        let Some(fd) = self.cgroups.inotify.as_ref() else {
            return;
        };
        let mut ids = Vec::new();
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = inotify::Reader::new(fd, &mut buf);
        while let Ok(ev) = reader.next() {
            if let Some(id) = self.cgroups.by_wd.get(&ev.wd()) {
                ids.push(*id);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            self.release_if_empty(id);
        }
    }

    fn release_if_empty(&mut self, id: ProcId) {
        let Some(leaf) = self.cgroups.leaf_path(id) else {
            return;
        };
        if cgroup::populated(leaf).unwrap_or(false) {
            return;
        }
        if let Some((gen, status)) = self.cgroups.held.remove(&id) {
            self.drop_leaf(id);
            self.core.exited(id, gen, status, now());
        }
    }

    /// Remove a process's leaf once it is empty. Every spawn gets a fresh
    /// leaf: besides tidiness, on Linux 6.18 (seen on this project's CI
    /// machines) every child that `clone3(CLONE_INTO_CGROUP)` puts into a
    /// cgroup that was once `cgroup.kill`ed is SIGKILLed at birth (the
    /// fork-versus-kill check seems to compare the kill counts of the
    /// parent's and the target cgroup), so a killed leaf is never reused.
    fn drop_leaf(&mut self, id: ProcId) {
        let Some(leaf) = self.cgroups.leaves.remove(&id) else {
            return;
        };
        self.cgroups.held.remove(&id);
        self.cgroups.by_wd.remove(&leaf.wd);
        if let Some(fd) = &self.cgroups.inotify {
            let _ = inotify::remove_watch(fd, leaf.wd);
        }
        drop(leaf.dir);
        match std::fs::remove_dir(&leaf.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => self.log(
                LogLevel::Warn,
                &format!("cgroups: cannot remove {}: {e}", leaf.path.display()),
            ),
        }
    }

    /// Leaves of processes that no longer exist (group removed) go.
    pub(super) fn forget_removed_leaves(&mut self) {
        let live: std::collections::HashSet<ProcId> =
            self.core.processes().map(|(id, _)| id).collect();
        let gone: Vec<ProcId> = self
            .cgroups
            .leaves
            .keys()
            .copied()
            .filter(|id| !live.contains(id))
            .collect();
        for id in gone {
            self.drop_leaf(id);
        }
        // Group nodes left without leaves go too.
        if let Some(tree) = &self.cgroups.tree {
            tree.remove_empty_groups();
        }
    }

    /// End of this configuration's run: drop the watches and remove the
    /// (now empty) subtree.
    pub(super) fn teardown_cgroups(&mut self) {
        if let Some(fd) = self.cgroups.inotify.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&fd.as_raw_fd()));
        }
        if let Some(t) = self.cgroups.token.take() {
            self.sources.remove(&t);
        }
        self.cgroups.leaves.clear();
        self.cgroups.by_wd.clear();
        if let Some(tree) = self.cgroups.tree.take() {
            tree.remove();
        }
    }

    /// `pidvisor.listProcessPids`: every pid of the program (its leaf, or
    /// without one the main pid and its descendants) with its command line.
    pub(super) fn list_pids(&self, id: ProcId) -> Value {
        let pids = match self.cgroups.leaf_path(id) {
            Some(leaf) => cgroup::procs(leaf).unwrap_or_default(),
            None => match self.children.get(id) {
                Some(c) => std::iter::once(c.pid)
                    .chain(proc_descendants(c.pid))
                    .collect(),
                None => Vec::new(),
            },
        };
        Value::Array(
            pids.into_iter()
                .map(|pid| {
                    Value::record([
                        ("pid", Value::Int(i64::from(pid))),
                        ("cmdline", Value::String(cmdline(pid))),
                    ])
                })
                .collect(),
        )
    }
}

impl Default for Cgroups {
    fn default() -> Cgroups {
        Cgroups::none("cgroups not set up".into())
    }
}
