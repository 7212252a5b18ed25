//! The user and group database the loader resolves `user=`, `chown=`,
//! `socket_owner=`, `dbus_group=` and `~user` against.
//!
//! The loader never calls the system's database itself: it asks the
//! [`Users`] of its [`super::Env`], which is the system's ([`Users::System`],
//! through `sys::user`) in the daemon and the client, and a fixed table in
//! tests and the fuzz target, so that a config naming `www-data` loads the
//! same on every machine and without NSS.

use std::path::PathBuf;

use super::types::UserSpec;
use super::values::py_int;
use crate::sys::user::{self as db, Passwd};

/// Where user and group names are looked up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Users {
    /// The system's password and group databases (NSS).
    #[default]
    System,
    /// A fixed table (tests, fuzzing).
    Table(UserTable),
}

/// The users and groups of a [`Users::Table`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserTable {
    pub users: Vec<Passwd>,
    /// (name, gid).
    pub groups: Vec<(String, u32)>,
    /// The uid the loading process runs as.
    pub current_uid: u32,
}

impl UserTable {
    /// A table with `root` (uid and gid 0, home `/root`) and the group
    /// `root`, loaded by root.
    pub fn with_root() -> UserTable {
        UserTable {
            users: vec![Passwd {
                name: "root".into(),
                uid: 0,
                gid: 0,
                home: PathBuf::from("/root"),
                shell: PathBuf::from("/bin/sh"),
            }],
            groups: vec![("root".into(), 0)],
            current_uid: 0,
        }
    }
}

impl Users {
    fn by_name(&self, name: &str) -> Option<Passwd> {
        match self {
            Users::System => db::user_by_name(name),
            Users::Table(t) => t.users.iter().find(|u| u.name == name).cloned(),
        }
    }

    fn by_uid(&self, uid: u32) -> Option<Passwd> {
        match self {
            Users::System => db::user_by_uid(uid),
            Users::Table(t) => t.users.iter().find(|u| u.uid == uid).cloned(),
        }
    }

    fn gid_of(&self, name: &str) -> Option<u32> {
        match self {
            Users::System => db::group_by_name(name),
            Users::Table(t) => t.groups.iter().find(|g| g.0 == name).map(|g| g.1),
        }
    }

    fn gid_exists(&self, gid: u32) -> bool {
        match self {
            Users::System => db::group_exists(gid),
            Users::Table(t) => t.groups.iter().any(|g| g.1 == gid),
        }
    }

    /// The uid the loading process runs as.
    pub fn current_uid(&self) -> u32 {
        match self {
            Users::System => crate::sys::cred::getuid(),
            Users::Table(t) => t.current_uid,
        }
    }

    /// The home directory of `name`, or of the current user when `None`
    /// (Python's `expanduser` falling back to `pwd.getpwuid(os.getuid())`).
    pub fn home_of(&self, name: Option<&str>) -> Option<String> {
        let user = match name {
            Some(n) => self.by_name(n),
            None => self.by_uid(self.current_uid()),
        };
        user.map(|u| u.home.to_string_lossy().into_owned())
    }

    /// Supervisor's `name_to_uid`: a user name or numeric uid that exists,
    /// as a [`UserSpec`] filled from the database.
    pub fn user(&self, v: &str) -> Result<UserSpec, String> {
        let user = match py_int(v) {
            Some(n) => u32::try_from(n)
                .ok()
                .and_then(|n| self.by_uid(n))
                .ok_or_else(|| format!("Invalid user id {v}"))?,
            None => self
                .by_name(v)
                .ok_or_else(|| format!("Invalid user name {v}"))?,
        };
        Ok(UserSpec {
            written: v.to_string(),
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            home: user.home,
            shell: user.shell,
        })
    }

    /// Supervisor's `name_to_gid`: a group name or numeric gid that exists.
    pub fn group(&self, v: &str) -> Result<u32, String> {
        match py_int(v) {
            Some(n) => u32::try_from(n)
                .ok()
                .filter(|&n| self.gid_exists(n))
                .ok_or_else(|| format!("Invalid group id {v}")),
            None => self
                .gid_of(v)
                .ok_or_else(|| format!("Invalid group name {v}")),
        }
    }

    /// Supervisor's `colon_separated_user_group`: `user[:group]` to ids.
    pub fn user_group(&self, v: &str) -> Result<(u32, Option<u32>), String> {
        let err = || format!("Invalid user:group definition {v}");
        let (u, g) = match v.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (v, None),
        };
        let uid = self.user(u).map_err(|_| err())?.uid;
        let gid = match g {
            Some(g) => Some(self.group(g).map_err(|_| err())?),
            None => None,
        };
        Ok((uid, gid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (database, input, `user(input)` / `user_group(input)` result).
    #[test]
    fn lookups_in_a_table_and_in_the_system() {
        let mut table = UserTable::with_root();
        table.users.push(Passwd {
            name: "web".into(),
            uid: 33,
            gid: 33,
            home: "/var/www".into(),
            shell: "/usr/sbin/nologin".into(),
        });
        table.groups.push(("www".into(), 33));
        table.current_uid = 33;
        let users = Users::Table(table);
        assert_eq!(users.user("web").unwrap().uid, 33);
        assert_eq!(users.user("33").unwrap().name, "web");
        assert_eq!(users.user("nobody"), Err("Invalid user name nobody".into()));
        assert_eq!(users.user("-1"), Err("Invalid user id -1".into()));
        assert_eq!(users.group("www"), Ok(33));
        assert_eq!(users.group("34"), Err("Invalid group id 34".into()));
        assert_eq!(users.user_group("web:0"), Ok((33, Some(0))));
        assert_eq!(
            users.user_group("web:nope"),
            Err("Invalid user:group definition web:nope".into())
        );
        assert_eq!(users.home_of(None).as_deref(), Some("/var/www"));
        assert_eq!(users.home_of(Some("root")).as_deref(), Some("/root"));
        assert_eq!(users.current_uid(), 33);

        let system = Users::System;
        let root = system.user("root").unwrap();
        assert_eq!((root.uid, root.gid, root.name.as_str()), (0, 0, "root"));
        assert_eq!(system.user("0").unwrap().name, "root");
        assert_eq!(
            system.user("nosuchuser"),
            Err("Invalid user name nosuchuser".into())
        );
        assert_eq!(system.user("987654"), Err("Invalid user id 987654".into()));
        assert_eq!(system.group("0"), Ok(0));
        assert_eq!(system.user_group("root:0"), Ok((0, Some(0))));
        assert_eq!(system.user_group("root"), Ok((0, None)));
        assert_eq!(
            system.user_group("root:nosuchgroup"),
            Err("Invalid user:group definition root:nosuchgroup".into())
        );
    }
}
