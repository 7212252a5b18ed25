//! The user, group and host databases: `getpwnam_r(3)`, `getpwuid_r(3)`,
//! `getgrnam_r(3)`, `getgrgid_r(3)`, `getgrouplist(3)` and
//! `gethostname(2)`.
//!
//! These go through glibc's NSS (files, LDAP, systemd-userdb...), so they
//! may read files or talk to a daemon: call them while loading a config or
//! preparing a spawn, never between fork and exec. The config loader reaches
//! them only through [`crate::config::Users`], which tests replace with a
//! table.

use std::ffi::CString;
use std::path::PathBuf;

use nix::unistd::{Gid, Group, Uid, User};

/// A password database entry (`struct passwd`), the fields pidvisor uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: PathBuf,
}

impl From<User> for Passwd {
    fn from(u: User) -> Passwd {
        Passwd {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            home: u.dir,
            shell: u.shell,
        }
    }
}

/// `getpwnam_r(name)`—the user called `name`, if any. A lookup error (an
/// unreachable directory service) counts as "no such user", as Python's
/// `pwd.getpwnam` raising `KeyError` does for Supervisor.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getpwnam.3.html)
pub fn user_by_name(name: &str) -> Option<Passwd> {
    User::from_name(name).ok().flatten().map(Passwd::from)
}

/// `getpwuid_r(uid)`—the user with id `uid`, if any.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getpwuid.3.html)
pub fn user_by_uid(uid: u32) -> Option<Passwd> {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(Passwd::from)
}

/// `getgrnam_r(name)`—the gid of the group called `name`, if any.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getgrnam.3.html)
pub fn group_by_name(name: &str) -> Option<u32> {
    Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

/// `getgrgid_r(gid)`—whether a group with id `gid` exists.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getgrgid.3.html)
pub fn group_exists(gid: u32) -> bool {
    matches!(Group::from_gid(Gid::from_raw(gid)), Ok(Some(_)))
}

/// `getgrouplist(name, primary)`—every group that lists user `name`, with
/// `primary` included (first, as glibc puts it). On failure (a name with a
/// NUL byte, an unreachable directory service) just `[primary]`.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man3/getgrouplist.3.html)
pub fn group_list(name: &str, primary: u32) -> Vec<u32> {
    CString::new(name)
        .ok()
        .and_then(|c| nix::unistd::getgrouplist(&c, Gid::from_raw(primary)).ok())
        .map(|gs| gs.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_else(|| vec![primary])
}

/// `gethostname()`—this machine's name (Python's `platform.node()`), or ""
/// when it is not UTF-8 or cannot be read.
///
/// # References
///  - [Linux](https://man7.org/linux/man-pages/man2/gethostname.2.html)
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_its_groups() {
        let root = user_by_name("root").expect("every Linux has root");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(user_by_uid(0), Some(root));
        assert_eq!(user_by_name("no-such-user-pidvisor"), None);
        assert_eq!(user_by_name("nul\0byte"), None);
        assert_eq!(group_by_name("root"), Some(0));
        assert!(group_exists(0));
        assert_eq!(group_by_name("no-such-group-pidvisor"), None);
        assert!(group_list("root", 0).contains(&0));
        assert_eq!(group_list("nul\0byte", 7), vec![7]);
    }
}
