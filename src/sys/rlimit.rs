//! `getrlimit(2)`/`setrlimit(2)` for `minfds` and `minprocs`.

use std::io;

use rustix::process::{Resource, Rlimit};

/// Which limit: `RLIMIT_NOFILE` (`minfds`) or `RLIMIT_NPROC` (`minprocs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    NoFile,
    NProc,
}

impl Limit {
    fn resource(self) -> Resource {
        match self {
            Limit::NoFile => Resource::Nofile,
            Limit::NProc => Resource::Nproc,
        }
    }
}

/// `getrlimit(resource)`—`(soft, hard)`, `None` meaning `RLIM_INFINITY`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
pub fn get(limit: Limit) -> (Option<u64>, Option<u64>) {
    let r = rustix::process::getrlimit(limit.resource());
    (r.current, r.maximum)
}

/// `setrlimit(resource, {soft, hard})`, `None` meaning `RLIM_INFINITY`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
pub fn set(limit: Limit, soft: Option<u64>, hard: Option<u64>) -> io::Result<()> {
    let new = Rlimit {
        current: soft,
        maximum: hard,
    };
    Ok(rustix::process::setrlimit(limit.resource(), new)?)
}

/// Supervisor's `set_rlimits` for one limit: if the soft limit is below `min`
/// (and not unlimited), raise it to `min`, raising the hard limit too when it
/// is lower (works as root). Returns whether the limit was raised (Supervisor
/// then logs `Increased RLIMIT_NOFILE limit to N`).
pub fn ensure_minimum(limit: Limit, min: u64) -> io::Result<bool> {
    let (soft, hard) = get(limit);
    match soft {
        Some(soft) if soft < min => {
            let hard = match hard {
                Some(h) if h < min => Some(min),
                other => other,
            };
            set(limit, Some(min), hard)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// `prlimit64(0, RLIMIT_NOFILE, {soft, hard}, NULL)`—set this process's
/// descriptor limits, `None` meaning `RLIM_INFINITY`.
///
/// Async-signal-safe (one raw system call on values built before the fork):
/// the child calls it before `execve` to get back the soft limit the daemon
/// was started with.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/prlimit.2.html)
pub fn set_nofile_raw(soft: Option<u64>, hard: Option<u64>) -> io::Result<()> {
    let new = libc::rlimit64 {
        rlim_cur: soft.unwrap_or(libc::RLIM64_INFINITY),
        rlim_max: hard.unwrap_or(libc::RLIM64_INFINITY),
    };
    // SAFETY: `new` is a valid rlimit64 that outlives the call; a null old
    // pointer asks for nothing back; pid 0 is this process.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            libc::RLIMIT_NOFILE,
            &new as *const libc::rlimit64,
            std::ptr::null_mut::<libc::rlimit64>(),
        )
    };
    super::cvt(ret).map(drop)
}

/// The descriptor limits a configuration's daemon runs with, and what its
/// children get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFilePlan {
    /// The soft limit to set for the daemon (`None`: leave it).
    pub raise_to: Option<u64>,
    /// The hard limit is below what is needed (the soft limit is raised to
    /// the hard one only).
    pub short: bool,
}

/// Raise the soft `RLIMIT_NOFILE` from `soft` towards `need`, within `hard`
/// (`None`: unlimited). Pure, for tests; [`raise_nofile`] applies it.
pub fn plan_nofile(soft: Option<u64>, hard: Option<u64>, need: u64) -> NoFilePlan {
    let Some(soft) = soft else {
        return NoFilePlan {
            raise_to: None,
            short: false,
        };
    };
    let target = hard.map_or(need, |h| need.min(h));
    NoFilePlan {
        raise_to: (target > soft).then_some(target),
        short: hard.is_some_and(|h| h < need),
    }
}

/// Raise the soft `RLIMIT_NOFILE` to `need` (up to the hard limit); the
/// plan it applied.
pub fn raise_nofile(need: u64) -> io::Result<NoFilePlan> {
    let (soft, hard) = get(Limit::NoFile);
    let plan = plan_nofile(soft, hard, need);
    if let Some(to) = plan.raise_to {
        set(Limit::NoFile, Some(to), hard)?;
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nofile_plans() {
        let p = |soft, hard, need| plan_nofile(soft, hard, need);
        assert_eq!(p(Some(1024), Some(4096), 3000).raise_to, Some(3000));
        assert!(!p(Some(1024), Some(4096), 3000).short);
        assert_eq!(p(Some(1024), Some(2048), 3000).raise_to, Some(2048));
        assert!(p(Some(1024), Some(2048), 3000).short);
        assert_eq!(p(Some(8192), Some(8192), 3000).raise_to, None);
        assert_eq!(p(Some(1024), None, 3000).raise_to, Some(3000));
        assert_eq!(p(None, None, 3000).raise_to, None);
        assert!(p(Some(100), Some(100), 3000).short);
    }
}
