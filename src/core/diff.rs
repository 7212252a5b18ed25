//! `reread`: which groups a new config adds, changes or removes (spec §3.10).

use std::sync::Arc;

use crate::config::GroupSpec;

/// Group names `(added, changed, removed)` between the active groups and the
/// pending config, as Supervisor's `diff_to_active`: added and changed in
/// pending order, removed in active order; "changed" is `GroupSpec` inequality
/// (AUTO log files compare as AUTO, never as the generated name) ignoring
/// where the sections are: moving a section in the file changes nothing.
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
            Some(cur) if !same(cur, g) => changed.push(g.name.clone()),
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

/// Equal as Supervisor compares configs: by value, not by file position.
fn same(a: &GroupSpec, b: &GroupSpec) -> bool {
    let placeless = |g: &GroupSpec| {
        let mut g = g.clone();
        for p in &mut g.processes {
            Arc::make_mut(p).origin = Default::default();
        }
        g
    };
    a == b || placeless(a) == placeless(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GroupKind, ProgramSpec};

    fn group(line: usize, command: &str) -> GroupSpec {
        let mut p = ProgramSpec::with_defaults("a", command);
        p.origin.line = line;
        GroupSpec {
            name: "a".into(),
            priority: 999,
            kind: GroupKind::Program,
            processes: vec![Arc::new(p)],
            cgroup: None,
        }
    }

    #[test]
    fn a_moved_section_is_not_a_change() {
        let active = [group(3, "sleep 1")];
        assert_eq!(
            diff(&active, &[group(9, "sleep 1")]).1,
            Vec::<String>::new()
        );
        assert_eq!(
            diff(&active, &[group(3, "sleep 2")]).1,
            vec!["a".to_string()]
        );
    }
}
