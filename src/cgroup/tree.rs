//! The subtree of one daemon configuration: leaves, controllers, limits, and
//! reclaiming what a crashed predecessor left behind.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::{self, write};
use super::{CgroupError, Limit};

/// The leaf the daemon moves itself into when controllers must be enabled
/// in its own cgroup (cgroup v2 forbids processes in a cgroup that has
/// controllers enabled for its children).
pub const DAEMON_LEAF: &str = "supervisor";

/// `pidvisor-<16 hex>`: FNV-1a of the canonical config path. Unique per
/// configuration, the same for every restart of it.
pub fn subtree_name(config_path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let canon = std::fs::canonicalize(config_path).unwrap_or_else(|_| config_path.to_path_buf());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canon.as_os_str().as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("pidvisor-{h:016x}")
}

/// A directory name for a group or process name: never `.`/`..`, an
/// interface file (`cgroup.*`) or the daemon's own leaf; a leading `_` is
/// doubled so that escaped and plain names stay apart.
fn dir_name(name: &str) -> String {
    let n = name.replace('/', "_");
    match n.as_str() {
        "" | "." | ".." | DAEMON_LEAF => format!("_{n}"),
        _ if n.starts_with("cgroup.") || n.starts_with('_') => format!("_{n}"),
        _ => n,
    }
}

/// One daemon's subtree: `<base>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    base: PathBuf,
    root: PathBuf,
    /// The base is the hierarchy's root cgroup, which is exempt from the
    /// no-internal-processes rule.
    base_is_mount: bool,
    /// The cgroup2 mount, for paths as `/proc/PID/cgroup` shows them.
    mount: PathBuf,
}

impl Tree {
    /// The subtree `name` under the daemon's cgroup `own`. A daemon that
    /// already moved itself into `<base>/<name>/supervisor` (then reloaded)
    /// finds the same subtree.
    pub fn new(mount: &Path, own: &Path, name: &str) -> Tree {
        let base = match (own.file_name(), own.parent()) {
            (Some(leaf), Some(parent))
                if leaf == DAEMON_LEAF && parent.file_name() == Some(name.as_ref()) =>
            {
                parent.parent().unwrap_or(own).to_path_buf()
            }
            _ => own.to_path_buf(),
        };
        Tree {
            root: base.join(name),
            base_is_mount: base == mount,
            base,
            mount: mount.to_path_buf(),
        }
    }

    /// `path` as the kernel names the cgroup (`/proc/PID/cgroup`, systemd's
    /// `ControlGroup`): relative to the mount, with a leading `/`.
    pub fn cgroup_name(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.mount).ok()?;
        Some(format!("/{}", rel.display()))
    }

    /// The daemon's cgroup the subtree hangs from.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The subtree's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Create the subtree; fails when cgroup2 is not writable here or the
    /// kernel lacks `cgroup.kill` (Linux < 5.14).
    pub fn create(&self) -> Result<(), CgroupError> {
        std::fs::create_dir_all(&self.root).map_err(|source| CgroupError::Create {
            path: self.root.clone(),
            source,
        })?;
        if !self.root.join("cgroup.kill").exists() {
            return Err(CgroupError::Unavailable(format!(
                "{} has no cgroup.kill (needs Linux 5.14)",
                self.root.display()
            )));
        }
        Ok(())
    }

    /// `<root>/<group>/<process>`.
    pub fn leaf(&self, group: &str, name: &str) -> PathBuf {
        self.root.join(dir_name(group)).join(dir_name(name))
    }

    /// Create (if needed) the leaf of a process.
    pub fn create_leaf(&self, group: &str, name: &str) -> Result<PathBuf, CgroupError> {
        let leaf = self.leaf(group, name);
        std::fs::create_dir_all(&leaf).map_err(|source| CgroupError::Create {
            path: leaf.clone(),
            source,
        })?;
        Ok(leaf)
    }

    /// Remove a process's leaf, then its group node if that is now empty.
    /// A missing leaf is fine; a populated one is an error.
    pub fn remove_leaf(&self, group: &str, name: &str) -> Result<(), CgroupError> {
        let leaf = self.leaf(group, name);
        rmdir(&leaf)?;
        if let Some(parent) = leaf.parent() {
            // Other leaves may still live there: not an error.
            let _ = std::fs::remove_dir(parent);
        }
        Ok(())
    }

    /// Every process leaf under the subtree (the daemon's own leaf excluded).
    pub fn leaves(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for group in subdirs(&self.root) {
            if group.file_name().is_some_and(|n| n == DAEMON_LEAF) {
                continue;
            }
            out.extend(subdirs(&group));
        }
        out.sort();
        out
    }

    /// After a crash: kill what is left in every leaf, wait (bounded) until
    /// each is empty, and remove the leaves and group nodes. Returns one
    /// line per leaf for the main log.
    pub fn reclaim(&self, timeout: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        let deadline = crate::clock::mono() + timeout;
        for leaf in self.leaves() {
            let pids = files::procs(&leaf).unwrap_or_default();
            if !pids.is_empty() {
                let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
                match files::kill(&leaf) {
                    Ok(()) => lines.push(format!(
                        "killed leftover processes {} in {}",
                        pids.join(" "),
                        leaf.display()
                    )),
                    Err(e) => lines.push(e.to_string()),
                }
                while files::populated(&leaf).unwrap_or(false) && crate::clock::mono() < deadline {
                    crate::clock::sleep(Duration::from_millis(5));
                }
            }
            if let Err(e) = rmdir(&leaf) {
                lines.push(e.to_string());
            }
        }
        self.remove_empty_groups();
        lines
    }

    /// Remove every group node that has no leaf left (rmdir refuses the
    /// others).
    pub fn remove_empty_groups(&self) {
        for group in subdirs(&self.root) {
            if group.file_name().is_some_and(|n| n != DAEMON_LEAF) {
                let _ = std::fs::remove_dir(&group);
            }
        }
    }

    /// Remove the whole subtree if nothing is left in it (shutdown).
    pub fn remove(&self) {
        for leaf in self.leaves() {
            let _ = std::fs::remove_dir(&leaf);
        }
        self.remove_empty_groups();
        let _ = std::fs::remove_dir(&self.root);
    }

    /// Enable `controllers` on the path from the daemon's cgroup down to
    /// `group`'s node, so a leaf there can take limits. When the daemon's
    /// cgroup is not the hierarchy root, the daemon first moves itself into
    /// `<root>/supervisor` (no internal processes).
    pub fn enable(&self, group: &str, controllers: &[&str], pid: u32) -> Result<(), CgroupError> {
        if controllers.is_empty() {
            return Ok(());
        }
        let value = controllers
            .iter()
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ");
        if !self.base_is_mount && !files::procs(&self.base)?.is_empty() {
            let own = self.root.join(DAEMON_LEAF);
            std::fs::create_dir_all(&own).map_err(|source| CgroupError::Create {
                path: own.clone(),
                source,
            })?;
            write(&own, "cgroup.procs", &pid.to_string())?;
        }
        let node = self.root.join(dir_name(group));
        std::fs::create_dir_all(&node).map_err(|source| CgroupError::Create {
            path: node.clone(),
            source,
        })?;
        for dir in [&self.base, &self.root, &node] {
            write(dir, "cgroup.subtree_control", &value)?;
        }
        Ok(())
    }

    /// Write each limit to its file in `leaf` (`memory.max` ...).
    pub fn write_limits(&self, leaf: &Path, limits: &[Limit]) -> Result<(), CgroupError> {
        for l in limits {
            write(leaf, l.file, &l.value)?;
        }
        Ok(())
    }

    /// Open a cgroup directory for `CLONE_INTO_CGROUP`.
    pub fn open(dir: &Path) -> Result<OwnedFd, CgroupError> {
        std::fs::File::open(dir)
            .map(OwnedFd::from)
            .map_err(|source| CgroupError::Read {
                path: dir.to_path_buf(),
                source,
            })
    }
}

fn rmdir(dir: &Path) -> Result<(), CgroupError> {
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CgroupError::Remove {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn fake() -> (tempfile::TempDir, Tree) {
        let d = tempfile::tempdir().unwrap();
        let mount = d.path().to_path_buf();
        let own = mount.join("daemon.scope");
        fs::create_dir_all(&own).unwrap();
        fs::write(own.join("cgroup.procs"), "4242\n").unwrap();
        let t = Tree::new(&mount, &own, "pidvisor-0123");
        fs::create_dir_all(t.root()).unwrap();
        fs::write(t.root().join("cgroup.kill"), "").unwrap();
        (d, t)
    }

    #[test]
    fn layout_is_root_group_process() {
        let (d, t) = fake();
        t.create().unwrap();
        let leaf = t.create_leaf("web", "web_01").unwrap();
        assert_eq!(leaf, d.path().join("daemon.scope/pidvisor-0123/web/web_01"));
        assert!(leaf.is_dir());
        assert_eq!(t.leaf("g", "a/b"), t.root().join("g/a_b"));
        // A group called like the daemon's leaf never becomes it.
        assert_eq!(t.leaf("supervisor", "x"), t.root().join("_supervisor/x"));
        assert_eq!(t.leaf("_supervisor", "x"), t.root().join("__supervisor/x"));
        assert_eq!(
            t.leaf("g", "cgroup.procs"),
            t.root().join("g/_cgroup.procs")
        );
        assert_eq!(t.leaves(), vec![leaf.clone()]);
        t.remove_leaf("web", "web_01").unwrap();
        assert!(!leaf.exists());
        assert!(!leaf.parent().unwrap().exists(), "empty group node removed");
        t.remove_leaf("web", "web_01").unwrap();
    }

    #[test]
    fn subtree_is_stable_and_unique() {
        let a = subtree_name(Path::new("/etc/a.conf"));
        assert_eq!(a, subtree_name(Path::new("/etc/a.conf")));
        assert_ne!(a, subtree_name(Path::new("/etc/b.conf")));
        assert!(a.starts_with("pidvisor-") && a.len() == "pidvisor-".len() + 16);
    }

    #[test]
    fn a_moved_daemon_finds_the_same_subtree() {
        let mount = Path::new("/cg");
        let first = Tree::new(mount, Path::new("/cg/x"), "pidvisor-1");
        let moved = Tree::new(
            mount,
            Path::new("/cg/x/pidvisor-1/supervisor"),
            "pidvisor-1",
        );
        assert_eq!(first, moved);
        assert!(Tree::new(mount, mount, "pidvisor-1").base_is_mount);
    }

    #[test]
    fn cgroup_names_are_relative_to_the_mount() {
        let t = Tree::new(Path::new("/cg"), Path::new("/cg/x"), "pidvisor-1");
        let leaf = t.root().join("web").join("web_01");
        assert_eq!(
            t.cgroup_name(&leaf).as_deref(),
            Some("/x/pidvisor-1/web/web_01")
        );
        assert_eq!(t.cgroup_name(Path::new("/elsewhere")), None);
    }

    #[test]
    fn create_needs_cgroup_kill() {
        let d = tempfile::tempdir().unwrap();
        let t = Tree::new(d.path(), d.path(), "pidvisor-9");
        let e = t.create().unwrap_err().to_string();
        assert!(e.contains("no cgroup.kill (needs Linux 5.14)"), "{e}");
    }

    #[test]
    fn enable_moves_the_daemon_then_writes_subtree_control() {
        let (_d, t) = fake();
        t.enable("web", &["memory", "pids"], 4242).unwrap();
        let own = t.root().join(DAEMON_LEAF);
        assert_eq!(
            fs::read_to_string(own.join("cgroup.procs")).unwrap(),
            "4242"
        );
        for dir in [t.base.clone(), t.root().to_path_buf(), t.root().join("web")] {
            let got = fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap();
            assert_eq!(got, "+memory +pids", "{}", dir.display());
        }
        // The daemon's leaf is not a process leaf.
        assert!(t.leaves().is_empty());
    }

    #[test]
    fn limits_are_written_to_the_leaf() {
        let (_d, t) = fake();
        let leaf = t.create_leaf("web", "web").unwrap();
        let limits = [
            Limit {
                option: "memory_max",
                controller: "memory",
                file: "memory.max",
                value: "1048576".into(),
            },
            Limit {
                option: "cpu_max",
                controller: "cpu",
                file: "cpu.max",
                value: "50000 100000".into(),
            },
        ];
        t.write_limits(&leaf, &limits).unwrap();
        assert_eq!(
            fs::read_to_string(leaf.join("memory.max")).unwrap(),
            "1048576"
        );
        assert_eq!(
            fs::read_to_string(leaf.join("cpu.max")).unwrap(),
            "50000 100000"
        );
        let e = t
            .write_limits(&t.root().join("gone"), &limits)
            .unwrap_err()
            .to_string();
        assert!(e.contains("gone/memory.max"), "{e}");
    }

    #[test]
    fn reclaim_kills_populated_leaves() {
        let (_d, t) = fake();
        let leaf = t.create_leaf("old", "old").unwrap();
        fs::write(leaf.join("cgroup.procs"), "77\n78\n").unwrap();
        fs::write(leaf.join("cgroup.events"), "populated 0\n").unwrap();
        let empty = t.create_leaf("old", "idle").unwrap();
        let lines = t.reclaim(Duration::from_secs(1));
        assert_eq!(fs::read_to_string(leaf.join("cgroup.kill")).unwrap(), "1");
        assert!(
            lines[0].starts_with("killed leftover processes 77 78 in "),
            "{lines:?}"
        );
        // A fake directory holds real files, so rmdir fails and says where.
        assert!(lines[1].contains("cannot remove cgroup"), "{lines:?}");
        assert!(!empty.exists(), "the empty leaf is gone");
    }
}
