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
