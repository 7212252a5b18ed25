//! Whose is this pid? The notify socket names each sender by pid (the
//! kernel's word, not the message's); `MAINPID=` and pidfiles name a
//! process the program forked. This part answers, from the child table,
//! the cgroup leaves and `/proc`, in that order of trust:
//!
//! 1. a watched process (a main process, or a launcher that handed over):
//!    exact, since we hold its unreaped pidfd;
//! 2. with cgroups on, the process's cgroup (`/proc/PID/cgroup`) is some
//!    program's leaf: exact, as no process leaves its leaf by itself;
//! 3. without cgroups, its ancestry (`/proc/PID/stat` parents) reaches a
//!    watched process.
//!
//! A pid read from `/proc` may be recycled between the send and the read;
//! the caller confirms with the sender's pidfd (Linux 6.5+) that it still
//! runs, which makes what was read its own. The functions here only read
//! `/proc`; the reactor acts on the answers.

use std::path::Path;

use super::cgroups::Cgroups;
use super::children::{ChildTable, Member};
use crate::core::ProcId;

/// The parent pid and start time (clock ticks after boot) of `pid`.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command (which may hold spaces and parentheses).
    let rest = text.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): ppid is field 4, starttime field 22.
    let ppid = fields.get(1)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((ppid, start))
}

/// When `pid` started, in clock ticks after boot (`/proc/PID/stat` field 22).
pub fn start_ticks(pid: u32) -> Option<u64> {
    stat(pid).map(|(_, s)| s)
}

/// The cgroup v2 path of `pid` (`0::/path` in `/proc/PID/cgroup`).
fn cgroup_of(pid: u32) -> Option<String> {
    let text =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("cgroup")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::to_string)
}

/// The nearest watched ancestor of `pid` (at most 64 generations up).
fn watched_ancestor(pid: u32, children: &ChildTable) -> Option<Member> {
    let mut p = pid;
    for _ in 0..64 {
        let (ppid, _) = stat(p)?;
        if let Some(m) = children.member(ppid) {
            return Some(m);
        }
        if ppid <= 1 {
            return None;
        }
        p = ppid;
    }
    None
}

/// The program `pid` belongs to, and whether it is its main process.
pub fn attribute(pid: u32, children: &ChildTable, cgroups: &Cgroups) -> Option<Member> {
    if let Some(m) = children.member(pid) {
        return Some(m);
    }
    if let Some(id) = cgroup_of(pid).and_then(|cg| cgroups.owner_of(&cg)) {
        // In a leaf: that program's, whatever its ancestry says.
        let c = children.get(id)?;
        return Some(Member {
            id,
            gen: c.gen,
            main: false,
        });
    }
    let m = watched_ancestor(pid, children)?;
    // A leaf process's descendants were found by their cgroup above.
    (cgroups.leaf_path(m.id).is_none()).then_some(Member { main: false, ..m })
}

/// Whether `pid` is a process of program `id` that may become its main
/// process. With a leaf: it is in the leaf. Without: it descends from a
/// watched process of `id`, or (its launcher gone) it is an orphan handed
/// to us that started no earlier than the launcher (`since`, clock ticks)
/// and belongs to no other program.
pub fn belongs(
    pid: u32,
    id: ProcId,
    children: &ChildTable,
    cgroups: &Cgroups,
    since: Option<u64>,
) -> bool {
    if cgroups.leaf_path(id).is_some() {
        return cgroup_of(pid).is_some_and(|cg| cgroups.owner_of(&cg) == Some(id));
    }
    if children.member(pid).is_some() {
        return false;
    }
    if watched_ancestor(pid, children).is_some_and(|m| m.id == id) {
        return true;
    }
    let Some((ppid, start)) = stat(pid) else {
        return false;
    };
    ppid == std::process::id() && since.is_some_and(|s| start >= s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_stat_and_cgroup() {
        let me = std::process::id();
        let (ppid, start) = stat(me).unwrap();
        assert_eq!(ppid, std::os::unix::process::parent_id());
        assert!(start > 0);
        assert_eq!(start_ticks(me), Some(start));
        // cgroup v2 hosts list `0::/...`; others have none.
        if let Some(cg) = cgroup_of(me) {
            assert!(cg.starts_with('/'), "{cg}");
        }
        assert_eq!(stat(u32::MAX), None);
    }

    #[test]
    fn nothing_watched_nothing_attributed() {
        let children = ChildTable::default();
        let cgroups = Cgroups::default();
        assert_eq!(attribute(std::process::id(), &children, &cgroups), None);
        assert!(!belongs(
            std::process::id(),
            ProcId(0),
            &children,
            &cgroups,
            None
        ));
    }
}
