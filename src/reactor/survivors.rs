//! Children that may outlive a SIGKILLed daemon, and their reclaim.
//!
//! A program in a cgroup leaf is reclaimed through its leaf. Without one,
//! a daemon that dies without stopping its children (SIGKILL, a crash, an
//! OOM kill) leaves them running, as under supervisord, and the next daemon
//! on the same config would start a second copy beside each. So every
//! child that has no leaf is recorded in the runtime directory while it
//! runs: its pid, the kernel's start time of that pid (`/proc/PID/stat`
//! field 22, in clock ticks since boot) and its process group (each child
//! leads its own). A new daemon on the same config reads the record before
//! it starts anything and stops what is left: the leader if its start time
//! still matches (a pid alone may have been reused), and every process of
//! the group started no earlier (a group id is not reused while the group
//! has members). SIGTERM first, SIGKILL after a bounded wait.
//!
//! The record is append-only (`+ pid start pgid name` when a child starts,
//! `- pid` when it exits, one `write` each) and rewritten with only the
//! live entries once it has grown well past them.
//!
//! [`Survivors`] owns the record file; the reactor tells it about spawns
//! and exits of children without a leaf, and asks it to reclaim at start.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::LogLevel;
use crate::logs::MainLogger;

/// How long survivors get between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// One recorded child.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    start: u64,
    pgid: u32,
    name: String,
}

#[derive(Default)]
pub struct Survivors {
    path: Option<PathBuf>,
    file: Option<File>,
    live: HashMap<u32, Entry>,
    /// Lines in the file now, to know when to rewrite it.
    lines: usize,
}

/// `(start time, process group)` of a live process, from `/proc/PID/stat`.
fn stat_of(pid: u32) -> Option<(u64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces and ')'.
    let rest: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    // rest[0] is field 3 (state): pgrp is field 5, starttime field 22.
    let pgid = rest.get(2)?.parse().ok()?;
    let start = rest.get(19)?.parse().ok()?;
    Some((start, pgid))
}

/// Every live process as `pgid -> [(pid, start time)]`, read once.
fn groups() -> HashMap<u32, Vec<(u32, u64)>> {
    let mut by_group: HashMap<u32, Vec<(u32, u64)>> = HashMap::new();
    let pids = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok());
    for pid in pids {
        if let Some((start, pgid)) = stat_of(pid) {
            by_group.entry(pgid).or_default().push((pid, start));
        }
    }
    by_group
}

/// The record's entries that are still live: `+` lines not cancelled by a
/// later `-` line.
fn parse(text: &str) -> HashMap<u32, Entry> {
    let mut live = HashMap::new();
    for line in text.lines() {
        let mut w = line.splitn(5, ' ');
        match (w.next(), w.next().and_then(|p| p.parse::<u32>().ok())) {
            (Some("+"), Some(pid)) => {
                let start = w.next().and_then(|s| s.parse().ok());
                let pgid = w.next().and_then(|s| s.parse().ok());
                if let (Some(start), Some(pgid)) = (start, pgid) {
                    let name = w.next().unwrap_or("").to_string();
                    live.insert(pid, Entry { start, pgid, name });
                }
            }
            (Some("-"), Some(pid)) => {
                live.remove(&pid);
            }
            _ => {}
        }
    }
    live
}

/// The processes of `old` (the record) that are still ours, as
/// `(pid, program name)`, sorted: for each recorded leader whose pid has
/// not been reused (`stat` gives its start time and group now), every
/// member of its group started no earlier than it was.
fn left_running(
    old: &HashMap<u32, Entry>,
    stat: impl Fn(u32) -> Option<(u64, u32)>,
    by_group: &HashMap<u32, Vec<(u32, u64)>>,
) -> Vec<(u32, String)> {
    let mut found: Vec<(u32, String)> = Vec::new();
    for (pid, e) in old {
        match stat(*pid) {
            // The leader's pid now belongs to another process.
            Some((start, _)) if start != e.start => continue,
            _ => {}
        }
        let group = by_group.get(&e.pgid).map(Vec::as_slice).unwrap_or(&[]);
        let ours = group.iter().filter(|(_, start)| *start >= e.start);
        found.extend(ours.map(|(p, _)| (*p, e.name.clone())));
    }
    found.sort_unstable();
    found
}

impl Survivors {
    /// The record of the configuration at `config` in `runtime_dir` (none
    /// without a runtime directory: nothing is recorded then).
    pub fn new(runtime_dir: Option<&Path>, config: &Path) -> Survivors {
        let path = runtime_dir.map(|d| {
            let name = crate::cgroup::subtree_name(config);
            d.join(format!("{name}.children"))
        });
        Survivors {
            path,
            ..Survivors::default()
        }
    }

    /// Before anything starts: stop what a previous daemon on this config
    /// left running, say so, and start a fresh record.
    pub fn reclaim(&mut self, log: &mut MainLogger) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let old = parse(&std::fs::read_to_string(&path).unwrap_or_default());
        let by_group = if old.is_empty() {
            HashMap::new()
        } else {
            groups()
        };
        let found = left_running(&old, stat_of, &by_group);
        if !found.is_empty() {
            stop_all(&found);
            let shown: Vec<String> = found.iter().map(|(p, n)| format!("{n} ({p})")).collect();
            log.log(
                LogLevel::Warn,
                format!(
                    "stopped {} process(es) a previous pidvisord on this config left running: {}",
                    found.len(),
                    shown.join(", ")
                ),
            );
        }
        self.rewrite(log);
    }

    /// End of a run with every child gone: the record goes too.
    pub fn close(&mut self) {
        self.file = None;
        if let (Some(path), true) = (&self.path, self.live.is_empty()) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// A child without a cgroup leaf started.
    pub fn spawned(&mut self, pid: u32, name: &str, log: &mut MainLogger) {
        if self.path.is_none() {
            return;
        }
        let Some((start, pgid)) = stat_of(pid) else {
            return;
        };
        let name = name.replace(['\n', ' '], "_");
        self.append(&format!("+ {pid} {start} {pgid} {name}\n"), log);
        self.live.insert(pid, Entry { start, pgid, name });
    }

    /// A recorded child exited.
    pub fn exited(&mut self, pid: u32, log: &mut MainLogger) {
        if self.live.remove(&pid).is_none() {
            return;
        }
        if self.lines > 2 * self.live.len() + 64 {
            self.rewrite(log);
        } else {
            self.append(&format!("- {pid}\n"), log);
        }
    }

    fn append(&mut self, line: &str, log: &mut MainLogger) {
        let Some(f) = self.file.as_mut() else {
            return;
        };
        if let Err(e) = f.write_all(line.as_bytes()) {
            log.log(LogLevel::Warn, format!("cannot record children: {e}"));
            self.file = None;
            return;
        }
        self.lines += 1;
    }

    /// The record with the live entries only.
    fn rewrite(&mut self, log: &mut MainLogger) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let mut text = String::new();
        for (pid, e) in &self.live {
            text.push_str(&format!("+ {pid} {} {} {}\n", e.start, e.pgid, e.name));
        }
        let opened =
            std::fs::write(&path, &text).and_then(|()| OpenOptions::new().append(true).open(&path));
        match opened {
            Ok(f) => {
                self.file = Some(f);
                self.lines = self.live.len();
            }
            Err(e) => {
                let shown = path.display();
                log.log(
                    LogLevel::Warn,
                    format!("cannot record children in {shown}: {e}"),
                );
                self.file = None;
            }
        }
    }
}

/// SIGTERM each, wait for them to go (bounded), SIGKILL what is left.
fn stop_all(found: &[(u32, String)]) {
    use crate::sys::signal::{SIGKILL, SIGTERM};
    for (pid, _) in found {
        let _ = crate::sys::daemon::kill(*pid, SIGTERM);
    }
    let deadline = crate::clock::mono() + GRACE;
    let alive = |pid: u32| {
        // A zombie (our orphan, not reaped yet) counts as gone.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
    };
    while found.iter().any(|(p, _)| alive(*p)) && crate::clock::mono() < deadline {
        crate::clock::sleep(Duration::from_millis(20));
    }
    for (pid, _) in found {
        if alive(*pid) {
            let _ = crate::sys::daemon::kill(*pid, SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_keeps_what_has_not_exited() {
        let live = parse("+ 10 500 10 web\n+ 11 501 11 worker_01\n- 10\n+ 12 x 12 bad\ngarbage\n");
        assert_eq!(live.len(), 1);
        assert_eq!(
            live[&11],
            Entry {
                start: 501,
                pgid: 11,
                name: "worker_01".into()
            }
        );
    }

    #[test]
    fn stat_reads_start_time_and_group_of_a_live_process() {
        let (start, pgid) = stat_of(std::process::id()).unwrap();
        assert!(start > 0);
        assert!(pgid > 0);
        assert_eq!(stat_of(u32::MAX), None);
    }

    /// The start time decides, never the pid alone: a reused leader pid is
    /// left alone with its group, a vanished leader's group members that
    /// started after it are stopped, older members of a reused group id
    /// are not.
    #[test]
    fn only_what_started_no_earlier_than_the_record_is_stopped() {
        let old = parse("+ 100 5000 100 web\n+ 200 7000 200 worker\n+ 300 9000 300 gone\n");
        // Now: 100 is web itself (same start) with a child 101; pid 200
        // was reused by a later process that leads its own group 200 with
        // a child 201 (someone else's service: without the start time it
        // would pass the group test); 300 exited, and its group still
        // holds processes that started before the record (302, not ours)
        // and after (303, web's forked child).
        let stat = |pid: u32| match pid {
            100 => Some((5000, 100)),
            200 => Some((7500, 200)),
            _ => None,
        };
        let by_group = HashMap::from([
            (100, vec![(100, 5000), (101, 5100)]),
            (200, vec![(200, 7500), (201, 7600)]),
            (300, vec![(302, 8000), (303, 9100)]),
        ]);
        assert_eq!(
            left_running(&old, stat, &by_group),
            [
                (100, "web".to_string()),
                (101, "web".to_string()),
                (303, "gone".to_string()),
            ]
        );
    }
}
