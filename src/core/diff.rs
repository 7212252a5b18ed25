//! `reread`: which groups a new config adds, changes or removes (spec §3.10).

use crate::config::GroupSpec;

/// Group names `(added, changed, removed)` between the active groups and the
/// pending config, as Supervisor's `diff_to_active`: added and changed in
/// pending order, removed in active order; "changed" is `GroupSpec` inequality
/// (AUTO log files compare as AUTO, never as the generated name).
pub fn diff<'a>(
    active: impl IntoIterator<Item = &'a GroupSpec> + Clone,
    pending: &[GroupSpec],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let find = |name: &str| active.clone().into_iter().find(|g| g.name == name);
    let mut added = Vec::new();
    let mut changed = Vec::new();
    for g in pending {
        match find(&g.name) {
            None => added.push(g.name.clone()),
            Some(cur) if cur != g => changed.push(g.name.clone()),
            Some(_) => {}
        }
    }
    let removed = active
        .into_iter()
        .filter(|g| !pending.iter().any(|p| p.name == g.name))
        .map(|g| g.name.clone())
        .collect();
    (added, changed, removed)
}
