//! Children: spawn what the core asks for, watch each through its pidfd, and
//! report exits back. Strays (orphans reparented to us as subreaper) are
//! reaped by peek-then-dispatch, never by a blind `waitpid(-1)`.

use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::{now, Reactor, Source};
use crate::config::{LogLevel, ProgramSpec};
use crate::core::{ExitStatus, ProcId};
use crate::sys;

/// One live child: what the pidfd belongs to.
pub struct Child {
    pub gen: u64,
    pub pid: u32,
    pub pidfd: OwnedFd,
    pub token: Token,
}

#[derive(Default)]
pub struct ChildTable {
    by_id: HashMap<ProcId, Child>,
    by_pid: HashMap<u32, ProcId>,
}

impl ChildTable {
    pub fn get(&self, id: ProcId) -> Option<&Child> {
        self.by_id.get(&id)
    }

    fn insert(&mut self, id: ProcId, child: Child) {
        self.by_pid.insert(child.pid, id);
        self.by_id.insert(id, child);
    }

    fn remove(&mut self, id: ProcId) -> Option<Child> {
        let c = self.by_id.remove(&id)?;
        self.by_pid.remove(&c.pid);
        Some(c)
    }

    pub fn id_of(&self, pid: u32) -> Option<ProcId> {
        self.by_pid.get(&pid).copied()
    }
}

impl Reactor {
    pub(super) fn spawn(&mut self, id: ProcId, gen: u64) {
        // Shared with the core, so the spec outlives our borrow of it.
        let Some(spec) = self.core.spec_shared(id) else {
            return;
        };
        match self.start_child(id, gen, &spec) {
            Ok(pid) => self.core.spawned(id, gen, pid, now()),
            Err(text) => self.core.spawn_failed(id, gen, text, now()),
        }
    }

    fn start_child(&mut self, id: ProcId, gen: u64, spec: &ProgramSpec) -> Result<u32, String> {
        let ctx = crate::spawn::Context {
            env: crate::spawn::DaemonEnv {
                environ: &self.environ,
                server_url: self.control.server_url(),
            },
            cwd: &self.cwd,
        };
        let prepared = crate::spawn::prepare_with(spec, &ctx, &self.base_env)
            .map_err(|e| e.spawnerr(&spec.name))?;
        self.prepare_leaf(id, spec)?;
        let stdio = self.pipes.open(id, gen, spec, &self.config)?;
        let opts = crate::spawn::SpawnOptions {
            cgroup: self.cgroups.leaf_fd(id),
            method: self.cgroups.method,
        };
        let spawned = crate::spawn::spawn_with(&prepared, stdio.child_side(), &opts);
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                // The child may have written `supervisor: couldn't ...` to its
                // stderr pipe before exiting: log it like any output.
                self.log_failed_child_output(id, gen, stdio);
                return Err(e.spawnerr(&spec.name));
            }
        };
        // The child ends are closed here (dropped with `stdio`), so the
        // pipes see EOF when the last writer is gone.
        for (fd, stream) in stdio.into_parent_side() {
            let t = self.token(Source::Pipe);
            if self
                .poll
                .registry()
                .register(&mut SourceFd(&fd.as_raw_fd()), t, Interest::READABLE)
                .is_ok()
            {
                self.pipes.watch(t, id, gen, stream, fd);
            }
        }
        let token = self.token(Source::Pidfd(id));
        self.poll
            .registry()
            .register(
                &mut SourceFd(&child.pidfd.as_raw_fd()),
                token,
                Interest::READABLE,
            )
            .map_err(|e| {
                format!(
                    "unknown error during fork for '{}': {}",
                    spec.name,
                    sys::errno::errno_text(e.raw_os_error().unwrap_or(0))
                )
            })?;
        let pid = child.pid;
        self.children.insert(
            id,
            Child {
                gen,
                pid,
                pidfd: child.pidfd,
                token,
            },
        );
        Ok(pid)
    }

    pub(super) fn signal(&mut self, id: ProcId, gen: u64, sig: i32, group: bool) {
        let live = self.children.get(id).is_some_and(|c| c.gen == gen);
        // A process in a leaf (even one whose main pid is gone while it
        // stops) is signalled through the leaf where that applies.
        let in_leaf = if live || self.cgroups.is_held(id, gen) {
            self.signal_leaf(id, sig, group)
        } else {
            None
        };
        let result = match (in_leaf, self.children.get(id)) {
            (Some(r), _) => r,
            (None, Some(c)) if c.gen == gen => {
                if group {
                    // The leader is not reaped yet (we hold its pidfd and only
                    // reap through it), so its pgid cannot have been reused.
                    killpg(c.pid, sig)
                } else {
                    sys::pidfd::pidfd_send_signal(&c.pidfd, sig)
                }
            }
            // Already gone: like Supervisor's ESRCH, the exit will tell.
            (None, _) => Ok(()),
        };
        if let Err(e) = result {
            if e.raw_os_error() != Some(libc::ESRCH) {
                let text = sys::errno::errno_text(e.raw_os_error().unwrap_or(0));
                self.core.signal_failed(id, gen, text, now());
            }
        }
    }

    pub(super) fn on_pidfd(&mut self, id: ProcId) {
        let status = match self.children.get(id) {
            Some(c) => match sys::wait::wait_pidfd(c.pidfd.as_fd()) {
                Ok(Some(s)) => exit_status(s),
                // Not exited after all (spurious wake-up).
                Ok(None) => return,
                Err(e) => {
                    self.log(LogLevel::Critical, &format!("waitid on pidfd failed: {e}"));
                    return;
                }
            },
            None => return,
        };
        self.child_exited(id, status);
    }

    fn child_exited(&mut self, id: ProcId, status: ExitStatus) {
        let Some(child) = self.children.remove(id) else {
            return;
        };
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&child.pidfd.as_raw_fd()));
        self.sources.remove(&child.token);
        // Take in what the child wrote before it died, so its last words are
        // logged before its exit is.
        self.drain_pipes_of(id, child.gen);
        // With a leaf, a stopping process is STOPPED only once its leaf is
        // empty: the exit waits for `populated 0` (see cgroups.rs).
        if self.hold_exit(id, child.gen, status) {
            return;
        }
        self.core.exited(id, child.gen, status, now());
    }

    /// SIGCHLD: reap orphans that were reparented to us; an owned child that
    /// shows up in the peek is handled through its pidfd right away.
    pub(super) fn reap_strays(&mut self) {
        for _ in 0..1024 {
            let Ok(Some((pid, _))) = sys::wait::peek_any() else {
                break;
            };
            if let Some(id) = self.children.id_of(pid) {
                self.on_pidfd(id);
                continue;
            }
            match sys::wait::reap_pid(pid) {
                Ok(Some(status)) => {
                    let text = exit_status(status).describe();
                    // Supervisor's line, at debug: as subreaper we adopt
                    // every orphan of every program, which init reaps
                    // silently under supervisord.
                    self.log(
                        LogLevel::Debug,
                        &format!("reaped unknown pid {pid} ({text})"),
                    );
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
}

/// The kernel's view of an exit, in the core's terms.
pub fn exit_status(s: sys::wait::ExitStatus) -> ExitStatus {
    match s {
        sys::wait::ExitStatus::Exited(code) => ExitStatus::Code(code),
        sys::wait::ExitStatus::Killed(sig) => ExitStatus::Signal { sig, core: false },
        sys::wait::ExitStatus::Dumped(sig) => ExitStatus::Signal { sig, core: true },
    }
}

/// `killpg(pgid, sig)`: the process group whose leader is `pgid`.
fn killpg(pgid: u32, sig: i32) -> std::io::Result<()> {
    sys::daemon::killpg(pgid, sig)
}
