//! Finding the cgroup2 mount (`/proc/self/mountinfo`) and the daemon's own
//! cgroup (`/proc/self/cgroup`, the `0::` line). Never hard-coded: hybrid
//! hosts mount cgroup2 at `/sys/fs/cgroup/unified`, modern ones at
//! `/sys/fs/cgroup`.

use std::path::{Path, PathBuf};

use super::CgroupError;

/// Where this process sits in the cgroup2 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The cgroup2 mount point.
    pub mount: PathBuf,
    /// The daemon's own cgroup directory (mount + the `0::` path).
    pub own: PathBuf,
}

/// The mount point of the first `cgroup2` file system in a mountinfo text.
pub fn parse_mountinfo(text: &str) -> Option<PathBuf> {
    text.lines().find_map(|line| {
        // `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SRC SUPER`
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let mount = left.split_whitespace().nth(4)?;
        Some(PathBuf::from(unescape(mount)))
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 4])
                .ok()
                .and_then(|oct| u8::from_str_radix(oct, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup2 path (`0::/a/b`) from a `/proc/self/cgroup` text.
pub fn parse_own_cgroup(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim_end_matches(" (deleted)").to_string())
}

/// Read the real files under `proc` (normally `/proc`).
pub fn discover(proc: &Path) -> Result<Host, CgroupError> {
    let read = |name: &str| {
        let path = proc.join(name);
        std::fs::read_to_string(&path).map_err(|source| CgroupError::Read { path, source })
    };
    let mount = parse_mountinfo(&read("self/mountinfo")?).ok_or_else(|| {
        CgroupError::Unavailable("no cgroup2 mount in /proc/self/mountinfo".into())
    })?;
    let rel = parse_own_cgroup(&read("self/cgroup")?).ok_or_else(|| {
        CgroupError::Unavailable("no cgroup2 (0::) entry in /proc/self/cgroup".into())
    })?;
    let rel = rel.trim_matches('/');
    let own = if rel.is_empty() {
        mount.clone()
    } else {
        mount.join(rel)
    };
    Ok(Host { mount, own })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hybrid_and_unified_mounts() {
        let hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
                      35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_mountinfo(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let unified =
            "30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            parse_mountinfo(unified),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        assert_eq!(parse_mountinfo("1 0 0:1 / / rw - ext4 /dev/x rw\n"), None);
        let spaced = "1 0 0:1 / /mnt/cg\\040two rw - cgroup2 none rw\n";
        assert_eq!(parse_mountinfo(spaced), Some(PathBuf::from("/mnt/cg two")));
    }

    #[test]
    fn own_cgroup_is_the_zero_line() {
        let text = "4:memory:/x\n0::/user.slice/a.scope\n";
        assert_eq!(
            parse_own_cgroup(text).as_deref(),
            Some("/user.slice/a.scope")
        );
        assert_eq!(parse_own_cgroup("1:cpu:/\n"), None);
    }

    #[test]
    fn discover_reads_a_fake_proc() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("self")).unwrap();
        std::fs::write(
            d.path().join("self/mountinfo"),
            "41 31 0:38 / /cg rw - cgroup2 cgroup2 rw\n",
        )
        .unwrap();
        std::fs::write(d.path().join("self/cgroup"), "0::/a/b\n").unwrap();
        let h = discover(d.path()).unwrap();
        assert_eq!(h.mount, PathBuf::from("/cg"));
        assert_eq!(h.own, PathBuf::from("/cg/a/b"));
        std::fs::write(d.path().join("self/mountinfo"), "").unwrap();
        let e = discover(d.path()).unwrap_err().to_string();
        assert!(e.contains("no cgroup2 mount"), "{e}");
    }
}
