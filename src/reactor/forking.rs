//! Forking programs with a `pidfile` (issue 17): when the launcher exits
//! with status 0, the daemon it forked is named in the pidfile. A daemon
//! often writes that file just after its launcher exits, so the launcher's
//! exit is held here while the file is read again (10 ms, 20 ms, ... at
//! most every 200 ms) for up to [`PIDFILE_WAIT`]. The reactor adopts the
//! pid once the file names a process of the program, or gives up and
//! reports the held exit as the program's.
//!
//! [`Pidfiles`] owns the held exits and their retry deadlines; the
//! reactor's poll timeout includes [`Pidfiles::next_deadline`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::children::Exit;
use crate::core::ProcId;

/// How long a launcher's exit waits for its pidfile.
pub const PIDFILE_WAIT: Duration = Duration::from_secs(5);

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const MAX_PAUSE: Duration = Duration::from_millis(200);

struct Waiting {
    exit: Exit,
    path: PathBuf,
    /// The launcher's start (clock ticks after boot), for the orphan check.
    since: Option<u64>,
    until: Instant,
    next: Instant,
    pause: Duration,
}

/// What the reactor should try for one held exit.
pub struct Attempt {
    pub id: ProcId,
    pub gen: u64,
    pub path: PathBuf,
    pub since: Option<u64>,
    /// The pid in the file, or why there is none.
    pub pid: Result<u32, String>,
}

#[derive(Default)]
pub struct Pidfiles {
    waiting: BTreeMap<ProcId, Waiting>,
}

/// The pid a pidfile names (its first word, decimal).
pub fn read_pid(path: &Path) -> Result<u32, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let word = text.split_whitespace().next().unwrap_or("");
    match word.parse::<u32>() {
        Ok(p) if p > 1 => Ok(p),
        _ => Err(format!("no pid in it ({:?})", word)),
    }
}

impl Pidfiles {
    /// Hold a launcher's exit until its pidfile names the daemon.
    pub fn hold(&mut self, exit: Exit, path: PathBuf, now: Instant) {
        let w = Waiting {
            since: exit.since,
            exit,
            path,
            until: now + PIDFILE_WAIT,
            next: now,
            pause: FIRST_PAUSE,
        };
        self.waiting.insert(w.exit.id, w);
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The next retry.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.waiting.values().map(|w| w.next).min()
    }

    /// The held exits whose retry is due, with what their file says now.
    pub fn due(&self, now: Instant) -> Vec<Attempt> {
        self.waiting
            .values()
            .filter(|w| w.next <= now)
            .map(|w| Attempt {
                id: w.exit.id,
                gen: w.exit.gen,
                path: w.path.clone(),
                since: w.since,
                pid: read_pid(&w.path),
            })
            .collect()
    }

    /// The attempt failed: try again later, or (past the wait) give the
    /// exit back.
    pub fn retry(&mut self, id: ProcId, now: Instant) -> Option<Exit> {
        let w = self.waiting.get_mut(&id)?;
        if now >= w.until {
            return self.waiting.remove(&id).map(|w| w.exit);
        }
        w.next = (now + w.pause).min(w.until);
        w.pause = (w.pause * 2).min(MAX_PAUSE);
        None
    }

    /// Done with `id`'s held exit (adopted, or given up): take it back.
    pub fn take(&mut self, id: ProcId) -> Option<Exit> {
        self.waiting.remove(&id).map(|w| w.exit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ExitStatus;

    fn exit() -> Exit {
        Exit {
            id: ProcId(3),
            gen: 1,
            status: ExitStatus::Code(0),
            pid: 77,
            spawned: true,
            since: Some(5),
        }
    }

    #[test]
    fn pidfile_texts() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.pid");
        assert!(read_pid(&p).is_err());
        std::fs::write(&p, "4711\n").unwrap();
        assert_eq!(read_pid(&p), Ok(4711));
        std::fs::write(&p, "  12 extra").unwrap();
        assert_eq!(read_pid(&p), Ok(12));
        std::fs::write(&p, "1").unwrap();
        assert!(read_pid(&p).is_err(), "never init");
        std::fs::write(&p, "").unwrap();
        assert!(read_pid(&p).is_err());
    }

    #[test]
    fn retries_back_off_then_give_the_exit_back() {
        let t0 = crate::clock::mono();
        let mut p = Pidfiles::default();
        p.hold(exit(), "/nonexistent/x.pid".into(), t0);
        assert_eq!(p.next_deadline(), Some(t0));
        let a = p.due(t0);
        assert_eq!(a.len(), 1);
        assert!(a[0].pid.is_err());
        assert_eq!(a[0].since, Some(5));
        assert!(p.retry(ProcId(3), t0).is_none());
        assert_eq!(p.next_deadline(), Some(t0 + FIRST_PAUSE));
        assert!(p.due(t0).is_empty());
        assert!(p.retry(ProcId(3), t0 + FIRST_PAUSE).is_none());
        assert_eq!(p.next_deadline(), Some(t0 + FIRST_PAUSE + FIRST_PAUSE * 2));
        let back = p.retry(ProcId(3), t0 + PIDFILE_WAIT).unwrap();
        assert_eq!(back.gen, 1);
        assert!(p.is_empty());
        assert_eq!(p.next_deadline(), None);
    }
}
