//! The interface files of one cgroup directory.

use std::path::Path;

use super::CgroupError;

fn read(path: &Path) -> Result<String, CgroupError> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Write `value` to `dir/file` (one `write(2)`, as the kernel wants).
pub(super) fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(|source| CgroupError::Write {
        path,
        value: value.to_string(),
        source,
    })
}

/// The pids in `dir/cgroup.procs`.
pub fn procs(dir: &Path) -> Result<Vec<u32>, CgroupError> {
    let path = dir.join("cgroup.procs");
    let text = read(&path)?;
    text.split_whitespace()
        .map(|p| {
            p.parse().map_err(|_| CgroupError::Malformed {
                path: path.clone(),
                what: "pid list",
            })
        })
        .collect()
}

/// `echo 1 > dir/cgroup.kill`: SIGKILL every process in the cgroup and its
/// descendants, atomically with respect to forks (Linux 5.14).
pub fn kill(dir: &Path) -> Result<(), CgroupError> {
    write(dir, "cgroup.kill", "1")
}

/// `populated` from `dir/cgroup.events`: whether any process is left in the
/// cgroup or below it.
pub fn populated(dir: &Path) -> Result<bool, CgroupError> {
    let path = dir.join("cgroup.events");
    let text = read(&path)?;
    text.lines()
        .find_map(|l| l.strip_prefix("populated "))
        .map(|v| v.trim() != "0")
        .ok_or(CgroupError::Malformed {
            path,
            what: "cgroup.events (no populated line)",
        })
}

/// The controllers listed in `dir/cgroup.controllers` (what may be enabled
/// for its children).
pub fn read_controllers(dir: &Path) -> Result<Vec<String>, CgroupError> {
    Ok(read(&dir.join("cgroup.controllers"))?
        .split_whitespace()
        .map(str::to_string)
        .collect())
}

/// `dir/memory.current`: the bytes the cgroup and its descendants use.
/// The file exists only where the memory controller is enabled.
pub fn memory_current(dir: &Path) -> Result<u64, CgroupError> {
    let path = dir.join("memory.current");
    read(&path)?
        .trim()
        .parse()
        .map_err(|_| CgroupError::Malformed {
            path,
            what: "memory.current",
        })
}

/// `usage_usec` from `dir/cpu.stat`: the CPU time (user + system) of the
/// cgroup and its descendants, in microseconds. cgroup v2 keeps it even
/// without the cpu controller.
pub fn cpu_usage_usec(dir: &Path) -> Result<u64, CgroupError> {
    let path = dir.join("cpu.stat");
    read(&path)?
        .lines()
        .find_map(|l| l.strip_prefix("usage_usec "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or(CgroupError::Malformed {
            path,
            what: "cpu.stat (no usage_usec line)",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fake_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::write(p.join("cgroup.procs"), "12\n345\n").unwrap();
        std::fs::write(p.join("cgroup.events"), "populated 1\nfrozen 0\n").unwrap();
        std::fs::write(p.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        assert_eq!(procs(p).unwrap(), vec![12, 345]);
        assert!(populated(p).unwrap());
        std::fs::write(p.join("cgroup.events"), "populated 0\nfrozen 0\n").unwrap();
        assert!(!populated(p).unwrap());
        assert_eq!(read_controllers(p).unwrap(), ["cpu", "memory", "pids"]);
        kill(p).unwrap();
        assert_eq!(std::fs::read_to_string(p.join("cgroup.kill")).unwrap(), "1");
    }

    #[test]
    fn memory_and_cpu() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        assert!(memory_current(p).is_err());
        std::fs::write(p.join("memory.current"), "1335296\n").unwrap();
        std::fs::write(
            p.join("cpu.stat"),
            "usage_usec 53017\nuser_usec 31000\nsystem_usec 22017\n",
        )
        .unwrap();
        assert_eq!(memory_current(p).unwrap(), 1_335_296);
        assert_eq!(cpu_usage_usec(p).unwrap(), 53_017);
        std::fs::write(p.join("cpu.stat"), "user_usec 1\n").unwrap();
        let e = cpu_usage_usec(p).unwrap_err().to_string();
        assert!(e.contains("cpu.stat"), "{e}");
    }

    #[test]
    fn errors_name_the_path() {
        let d = tempfile::tempdir().unwrap();
        let e = procs(&d.path().join("gone")).unwrap_err().to_string();
        assert!(e.contains("gone/cgroup.procs"), "{e}");
        std::fs::write(d.path().join("cgroup.procs"), "x\n").unwrap();
        let e = procs(d.path()).unwrap_err().to_string();
        assert!(e.contains("malformed pid list"), "{e}");
        std::fs::write(d.path().join("cgroup.events"), "frozen 0\n").unwrap();
        let e = populated(d.path()).unwrap_err().to_string();
        assert!(e.contains("cgroup.events"), "{e}");
    }
}
