//! Who may change state: uid 0, the daemon's own uid, or a member of
//! `[supervisord] dbus_group`. The uid comes from the bus
//! (`GetConnectionUnixUser`), never from the caller's word. Reads are open.

use super::{Error, Policy};

/// The gid of group `name`, if it exists.
pub(crate) fn group_gid(name: &str) -> Option<u32> {
    crate::sys::user::group_by_name(name)
}

/// Whether `uid` belongs to `gid` (primary or supplementary group).
fn in_group(uid: u32, gid: u32) -> bool {
    let Some(user) = crate::sys::user::user_by_uid(uid) else {
        return false;
    };
    user.gid == gid || crate::sys::user::group_list(&user.name, user.gid).contains(&gid)
}

/// The decision for a known uid.
pub(crate) fn allowed(policy: &Policy, uid: u32) -> bool {
    uid == 0
        || uid == policy.daemon_uid
        || policy
            .group
            .as_ref()
            .is_some_and(|(_, gid)| in_group(uid, *gid))
}

/// Refuse a state-changing call (or a log read) from a caller without the
/// right.
pub(crate) async fn check(
    policy: &Policy,
    conn: &zbus::Connection,
    hdr: &zbus::message::Header<'_>,
    what: &str,
) -> Result<(), Error> {
    let denied = |why: String| Error::AccessDenied(format!("{what}: {why}"));
    let Some(sender) = hdr.sender() else {
        // Peer-to-peer: no bus to vouch for the caller.
        return Err(denied("caller unknown".into()));
    };
    let proxy = zbus::fdo::DBusProxy::new(conn)
        .await
        .map_err(|e| denied(e.to_string()))?;
    let uid = proxy
        .get_connection_unix_user(sender.clone().into())
        .await
        .map_err(|e| denied(e.to_string()))?;
    if allowed(policy, uid) {
        return Ok(());
    }
    let mut who = vec!["root".to_string()];
    if policy.daemon_uid != 0 {
        who.push(format!("uid {}", policy.daemon_uid));
    }
    if let Some((g, _)) = &policy.group {
        who.push(format!("group {g}"));
    }
    let who = who.join(" or ");
    // Logs may hold secrets, so reading them needs the same right.
    let action = if what.starts_with("Read") {
        "read logs"
    } else {
        "change state"
    };
    Err(denied(format!("uid {uid} may not {action} (needs {who})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_and_own_uid_pass_others_need_the_group() {
        let p = Policy {
            daemon_uid: 1234,
            group: None,
        };
        assert!(allowed(&p, 0));
        assert!(allowed(&p, 1234));
        assert!(!allowed(&p, 65534));
        // uid 0's primary group is root (gid 0) on every Linux we run on;
        // uid 65534 (nobody) is not in it.
        let p = Policy {
            daemon_uid: 1234,
            group: Some(("root".into(), 0)),
        };
        assert!(!allowed(&p, 65534));
        let nobody_gid = crate::sys::user::user_by_uid(65534).map(|u| u.gid);
        if let Some(gid) = nobody_gid {
            let p = Policy {
                daemon_uid: 1234,
                group: Some(("nogroup".into(), gid)),
            };
            assert!(allowed(&p, 65534));
        }
    }
}
