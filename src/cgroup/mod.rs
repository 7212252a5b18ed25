//! cgroup v2: one leaf per process so that "stopped" means every descendant
//! is gone (issue 6, spec/linux.md §1 "Whole-tree semantics").
//!
//! Layout, under the daemon's own cgroup `D` on the cgroup2 mount:
//!
//! ```text
//! D/pidvisor-<hash>/            the subtree of one daemon configuration
//! D/pidvisor-<hash>/<group>/    one node per process group
//! D/pidvisor-<hash>/<group>/<process>   one leaf per process
//! D/pidvisor-<hash>/supervisor  the daemon itself, only when controllers
//!                               must be enabled in D (no-internal-processes)
//! ```
//!
//! `<hash>` is 16 hex digits of a hash of the canonical config path: unique
//! per configuration (tests run many daemons side by side in one cgroup) and
//! stable across restarts of the same configuration, so a daemon that was
//! SIGKILLed finds its predecessor's leaves and cleans them up.
//!
//! Everything here takes its root as a path ([`Tree::new`]), so unit tests
//! run on a temp dir seeded with fake interface files. Discovery of the real
//! mount lives in [`discover`].
//!
//! It owns nothing at run time (the reactor's `cgroups` part keeps the
//! leaves' fds and watches); it may call the file system and `crate::sys`,
//! and is called by the reactor, by `--check-config` (limits against the
//! controllers the host offers) and by the `/metrics` answer.

mod discover;
mod files;
mod limits;
mod tree;

use std::io;
use std::path::PathBuf;

pub use discover::{discover, parse_mountinfo, parse_own_cgroup, Host};
pub use files::{cpu_usage_usec, kill, memory_current, populated, procs, read_controllers};
pub use limits::{
    check_config, check_host, controller_for, limits_of, wants_cgroup, wants_cgroup_in, Limit,
};
pub use tree::{subtree_name, Tree, DAEMON_LEAF};

/// A cgroup operation failed; every variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no writable cgroup2 file system: {0}")]
    Unavailable(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot create cgroup {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot remove cgroup {path}: {source}")]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: malformed {what}")]
    Malformed { path: PathBuf, what: &'static str },
}
