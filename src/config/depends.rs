//! The whole-configuration rules of issue 18: every name in `depends_on`
//! and in `[supervisord] exit_on_fatal` is a program or a group of this
//! configuration, and `depends_on` never goes round in a circle.
//!
//! A name stands for a program (the `x` of `[program:x]`, all of its
//! processes, wherever it is grouped) and for a group (every process in
//! it); the graph is drawn between programs, a group name standing for its
//! programs. A cycle is reported once, at the `depends_on` line of the
//! program where the walk met it again, with its whole path
//! (`dependency cycle: a -> b -> a`). What the core does with the edges at
//! run time is in `core/depends.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::load::Loader;
use super::types::{ExitOnFatal, GroupSpec, Origin};

/// One program as the graph sees it.
struct Node {
    name: String,
    /// Where its section starts (to find the section's name).
    origin: Origin,
    depends_on: Vec<String>,
}

/// Check the names and the cycles; problems go to `loader`.
pub(super) fn check(loader: &mut Loader, groups: &[GroupSpec], exit_on_fatal: &ExitOnFatal) {
    let (nodes, members) = graph(groups);
    let known = |name: &str| members.contains_key(name);
    for node in &nodes {
        for dep in node.depends_on.iter().filter(|d| !known(d)) {
            let section = section_of(loader, node);
            loader.fail(
                &section,
                "depends_on",
                format!("depends_on names {dep}, which is neither a program nor a group"),
            );
        }
    }
    if let ExitOnFatal::Names(names) = exit_on_fatal {
        for name in names.iter().filter(|n| !known(n)) {
            loader.fail(
                "supervisord",
                "exit_on_fatal",
                format!("exit_on_fatal names {name}, which is neither a program nor a group"),
            );
        }
    }
    for (at, path) in cycles(&nodes, &members) {
        let section = section_of(loader, &nodes[at]);
        loader.fail(
            &section,
            "depends_on",
            format!("dependency cycle: {}", path.join(" -> ")),
        );
    }
}

/// The programs in file order, and what each name stands for (indexes
/// into the programs).
fn graph(groups: &[GroupSpec]) -> (Vec<Node>, BTreeMap<String, BTreeSet<usize>>) {
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut members: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    let mut specs: Vec<_> = groups.iter().flat_map(|g| g.processes.iter()).collect();
    specs.sort_by(|a, b| (&a.origin.file, a.origin.line).cmp(&(&b.origin.file, b.origin.line)));
    for p in specs {
        let i = *index.entry(&p.program).or_insert_with(|| {
            nodes.push(Node {
                name: p.program.clone(),
                origin: p.origin.clone(),
                depends_on: p.depends_on.clone(),
            });
            nodes.len() - 1
        });
        members.entry(p.program.clone()).or_default().insert(i);
        members.entry(p.group.clone()).or_default().insert(i);
    }
    for g in groups {
        members.entry(g.name.clone()).or_default();
    }
    (nodes, members)
}

/// Every cycle met by a depth-first walk from each program in turn: the
/// program it was met at, and the path from there back to it.
fn cycles(
    nodes: &[Node],
    members: &BTreeMap<String, BTreeSet<usize>>,
) -> Vec<(usize, Vec<String>)> {
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            let mut out: BTreeSet<usize> = BTreeSet::new();
            for d in &n.depends_on {
                out.extend(members.get(d).into_iter().flatten());
            }
            out.into_iter().collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; nodes.len()];
    let mut found = Vec::new();
    let mut reported = BTreeSet::new();
    for start in 0..nodes.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // An explicit stack (a chain may be as long as the config).
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            let Some(&to) = edges[node].get(*next) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            match mark[to] {
                Mark::New => {
                    mark[to] = Mark::OnPath;
                    path.push((to, 0));
                }
                Mark::OnPath if reported.insert(to) => {
                    let from = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                    let mut names: Vec<String> = path[from..]
                        .iter()
                        .map(|&(n, _)| nodes[n].name.clone())
                        .collect();
                    names.push(nodes[to].name.clone());
                    found.push((to, names));
                }
                _ => {}
            }
        }
    }
    found
}

/// The section a program was read from.
fn section_of(loader: &Loader, node: &Node) -> String {
    ["program:", "fcgi-program:", "eventlistener:"]
        .iter()
        .map(|kind| format!("{kind}{}", node.name))
        .find(|s| loader.has_section(s) && loader.section_origin(s) == node.origin)
        .unwrap_or_else(|| format!("program:{}", node.name))
}

#[cfg(test)]
mod tests {
    use crate::config::{load_str, Env, UserTable, Users};

    fn errors(text: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut env = Env::new(&[("HOME", "/root")], "host", dir.path());
        env.users = Users::Table(UserTable::with_root());
        let path = dir.path().join("s.conf");
        match load_str(&path, text, &env) {
            Ok(_) => vec![],
            Err(e) => e
                .iter()
                .map(|e| {
                    let file = path.display().to_string();
                    e.to_string().replace(&file, "s.conf")
                })
                .collect(),
        }
    }

    #[test]
    fn names_must_exist() {
        let e = errors(
            "[supervisord]\nexit_on_fatal=web, ghost\n[program:web]\ncommand=x\ndepends_on=db nosuch\n\
             [program:db]\ncommand=x\n",
        );
        assert_eq!(
            e,
            [
                "s.conf:2: [supervisord] exit_on_fatal: exit_on_fatal names ghost, which is neither a program nor a group",
                "s.conf:5: [program:web] depends_on: depends_on names nosuch, which is neither a program nor a group",
            ]
        );
    }

    #[test]
    fn groups_and_programs_both_count() {
        let text = "[supervisord]\n[program:web]\ncommand=x\ndepends_on=backend\n\
                    [program:db]\ncommand=x\n[program:cache]\ncommand=x\ndepends_on=db\n\
                    [group:backend]\nprograms=db,cache\n";
        assert_eq!(errors(text), Vec::<String>::new());
    }

    #[test]
    fn a_cycle_is_named_with_its_path() {
        let text = "[supervisord]\n[program:a]\ncommand=x\ndepends_on=b\n\
                    [program:b]\ncommand=x\ndepends_on=c\n\
                    [program:c]\ncommand=x\ndepends_on=a\n[program:d]\ncommand=x\ndepends_on=a\n";
        assert_eq!(
            errors(text),
            ["s.conf:4: [program:a] depends_on: dependency cycle: a -> b -> c -> a"]
        );
    }

    #[test]
    fn depending_on_ones_own_group_is_a_cycle() {
        let text = "[supervisord]\n[program:a]\ncommand=x\ndepends_on=g\n\
                    [program:b]\ncommand=x\n[group:g]\nprograms=a,b\n";
        assert_eq!(
            errors(text),
            ["s.conf:4: [program:a] depends_on: dependency cycle: a -> a"]
        );
    }
}
