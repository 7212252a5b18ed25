//! AUTO child log names and their cleanup.
//!
//! Supervisor allocates AUTO logs with `mkstemp(prefix="NAME-CHANNEL---IDENT-",
//! suffix=".log", dir=childlogdir)` when a group is created, and at every
//! start/reload (unless `nocleanup`) deletes every file of `childlogdir`
//! whose name `re.match`es `.+?---IDENT-\S+\.log\.{0,1}\d{0,4}`.

use std::collections::hash_map::RandomState;
use std::fs::OpenOptions;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Python's `tempfile` alphabet (`_RandomNameSequence.characters`).
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

/// Create `<childlogdir>/<name>-<channel>---<identifier>-<8 random>.log`
/// with mode 0600 (`O_EXCL`, like `mkstemp`) and return its path.
///
/// `channel` is `"stdout"` or `"stderr"`. The file is left empty; call it
/// once when the group is created and keep the path while the group lives.
pub fn allocate_auto_name(
    childlogdir: &Path,
    name: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<PathBuf> {
    // RandomState is seeded from the OS once per thread and differs per
    // instance; uniqueness is guaranteed by O_EXCL, not by the randomness.
    let state = RandomState::new();
    for attempt in 0u64..10_000 {
        let mut h = state.build_hasher();
        h.write_u64(attempt);
        let mut x = h.finish();
        let mut suffix = [0u8; 8];
        for c in suffix.iter_mut() {
            *c = ALPHABET[(x % ALPHABET.len() as u64) as usize];
            x /= ALPHABET.len() as u64;
        }
        let suffix = std::str::from_utf8(&suffix).unwrap_or("xxxxxxxx");
        let path = childlogdir.join(format!("{name}-{channel}---{identifier}-{suffix}.log"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no usable temporary file name found",
    ))
}

/// What [`cleanup_auto_logs`] did.
#[derive(Debug, Default)]
pub struct CleanupReport {
    pub removed: Vec<PathBuf>,
    /// Files that matched but could not be removed; Supervisor logs
    /// WARN `Failed to clean up '<path>'` for each.
    pub failed: Vec<(PathBuf, io::Error)>,
}

/// Delete old AUTO logs of `identifier` in `childlogdir` (§1.4 step 6).
///
/// An error listing the directory is returned (Supervisor logs WARN
/// `Could not clear childlog dir`). The identifier is matched literally;
/// Supervisor splices it into the regex unescaped, which only differs for
/// identifiers containing regex metacharacters.
pub fn cleanup_auto_logs(childlogdir: &Path, identifier: &str) -> io::Result<CleanupReport> {
    let mut report = CleanupReport::default();
    for entry in std::fs::read_dir(childlogdir)? {
        let Ok(entry) = entry else { continue };
        let fname = entry.file_name();
        let Some(fname) = fname.to_str() else {
            continue;
        };
        if !is_auto_log_name(fname, identifier) {
            continue;
        }
        let path = entry.path();
        match std::fs::remove_file(&path) {
            Ok(()) => report.removed.push(path),
            Err(e) => report.failed.push((path, e)),
        }
    }
    Ok(report)
}

/// `re.match(r'.+?---IDENT-\S+\.log\.{0,1}\d{0,4}', fname)`, by hand.
///
/// `re.match` anchors only at the start and the tail `\.{0,1}\d{0,4}` may
/// match nothing, so the name matches iff, at some position p ≥ 1 with no
/// `\n` before it, `---IDENT-` starts, and the run of non-whitespace that
/// follows contains `.log` at an offset ≥ 1.
pub fn is_auto_log_name(fname: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    let mut from = 1;
    while from <= fname.len() {
        let Some(rel) = fname.get(from..).and_then(|s| s.find(&marker)) else {
            return false;
        };
        let p = from + rel;
        if fname[..p].contains('\n') {
            return false;
        }
        let rest = &fname[p + marker.len()..];
        let run_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let run = &rest[..run_end];
        if run.get(1..).is_some_and(|r| r.contains(".log")) {
            return true;
        }
        // Try a later occurrence of the marker (the lazy `.+?` backtracks).
        from = p + 1;
        while !fname.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn auto_name_shape_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = allocate_auto_name(dir.path(), "web", "stdout", "supervisor").unwrap();
        let fname = p.file_name().unwrap().to_str().unwrap().to_string();
        assert!(fname.starts_with("web-stdout---supervisor-"), "{fname}");
        assert!(fname.ends_with(".log"));
        let rand = &fname["web-stdout---supervisor-".len()..fname.len() - 4];
        assert_eq!(rand.len(), 8);
        assert!(rand.bytes().all(|b| ALPHABET.contains(&b)));
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 0);
        let q = allocate_auto_name(dir.path(), "web", "stdout", "supervisor").unwrap();
        assert_ne!(p, q);
    }

    #[test]
    fn matcher_follows_supervisor_regex() {
        let id = "supervisor";
        assert!(is_auto_log_name("web-stdout---supervisor-ab_c1234.log", id));
        assert!(is_auto_log_name(
            "web-stderr---supervisor-ab_c1234.log.1",
            id
        ));
        assert!(is_auto_log_name(
            "web-stderr---supervisor-ab_c1234.log.10",
            id
        ));
        // re.match does not anchor the end.
        assert!(is_auto_log_name("w---supervisor-x.logfoo", id));
        // `.+?` needs at least one char before the marker.
        assert!(!is_auto_log_name("---supervisor-abc.log", id));
        // `\S+` needs at least one char before `.log`.
        assert!(!is_auto_log_name("web---supervisor-.log", id));
        assert!(!is_auto_log_name("web---supervisor-a b.log", id));
        assert!(!is_auto_log_name("web-stdout---other-abcdefgh.log", id));
        assert!(!is_auto_log_name("web.log", id));
        // A later marker can match when the first does not.
        assert!(is_auto_log_name("a---supervisor- ---supervisor-x.log", id));
    }

    #[test]
    fn cleanup_removes_only_this_identifier() {
        let dir = tempfile::tempdir().unwrap();
        let mine = allocate_auto_name(dir.path(), "a", "stdout", "one").unwrap();
        let mine_backup = PathBuf::from(format!("{}.3", mine.display()));
        std::fs::write(&mine_backup, b"x").unwrap();
        let theirs = allocate_auto_name(dir.path(), "a", "stdout", "two").unwrap();
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, b"x").unwrap();
        let report = cleanup_auto_logs(dir.path(), "one").unwrap();
        assert_eq!(report.removed.len(), 2);
        assert!(report.failed.is_empty());
        assert!(!mine.exists());
        assert!(!mine_backup.exists());
        assert!(theirs.exists());
        assert!(plain.exists());
    }

    #[test]
    fn cleanup_of_missing_dir_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(cleanup_auto_logs(&dir.path().join("nope"), "x").is_err());
    }
}
