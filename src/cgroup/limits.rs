//! Per-program limits (`memory_max`, `pids_max`, `cpu_max`) and the check
//! that their controllers can be enabled. A limit that cannot be honoured is
//! an error naming file, section and option, in `--check-config` and in the
//! main log (where the program then refuses to start): never silence.

use std::path::Path;

use crate::config::{Config, ConfigError, ProgramSpec};

/// One limit of a program, as written to its leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// The config option (`memory_max`).
    pub option: &'static str,
    /// The controller it needs (`memory`).
    pub controller: &'static str,
    /// The interface file (`memory.max`).
    pub file: &'static str,
    pub value: String,
}

/// The controller an option needs.
pub fn controller_for(option: &str) -> Option<(&'static str, &'static str)> {
    match option {
        "memory_max" => Some(("memory", "memory.max")),
        "pids_max" => Some(("pids", "pids.max")),
        "cpu_max" => Some(("cpu", "cpu.max")),
        _ => None,
    }
}

/// The limits a program asks for, in a fixed order.
pub fn limits_of(spec: &ProgramSpec) -> Vec<Limit> {
    [
        ("memory_max", &spec.memory_max),
        ("pids_max", &spec.pids_max),
        ("cpu_max", &spec.cpu_max),
    ]
    .into_iter()
    .filter_map(|(option, value)| {
        let (controller, file) = controller_for(option)?;
        Some(Limit {
            option,
            controller,
            file,
            value: value.clone()?,
        })
    })
    .collect()
}

/// Whether a program runs in a leaf of its own: `cgroup=` in `[program:x]`,
/// else in its `[group:x]`, else `[supervisord] cgroups`.
pub fn wants_cgroup(config: &Config, spec: &ProgramSpec) -> bool {
    let group = config
        .groups
        .iter()
        .find(|g| g.name == spec.group)
        .and_then(|g| g.cgroup);
    wants_cgroup_in(config, group, spec)
}

/// [`wants_cgroup`] for a caller that has the group's `cgroup=` at hand
/// (finding the group is a walk of every group: once per process, that is
/// O(N x G)).
pub fn wants_cgroup_in(config: &Config, group: Option<bool>, spec: &ProgramSpec) -> bool {
    spec.cgroup.or(group).unwrap_or(config.supervisord.cgroups)
}

fn error(spec: &ProgramSpec, option: &str, message: String) -> ConfigError {
    ConfigError {
        file: spec.origin.file.clone(),
        line: spec.origin.line,
        section: Some(format!("program:{}", spec.program)),
        option: Some(option.to_string()),
        message,
    }
}

/// Every limit that cannot be applied. `available` is the list of
/// controllers the daemon's cgroup offers (`Err(reason)`: no usable cgroup2
/// at all); `own` names that cgroup in the message.
pub fn check_config(
    config: &Config,
    available: Result<&[String], &str>,
    own: &Path,
) -> Vec<ConfigError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for spec in config.groups.iter().flat_map(|g| &g.processes) {
        for limit in limits_of(spec) {
            // One error per section and option, not per numprocs instance.
            if !seen.insert((spec.program.clone(), limit.option)) {
                continue;
            }
            let message = if !wants_cgroup(config, spec) {
                format!(
                    "{} needs the program in a cgroup (set cgroup=true here or cgroups=true in [supervisord])",
                    limit.option
                )
            } else {
                match available {
                    Err(reason) => format!("cannot apply {}: {reason}", limit.option),
                    Ok(list) if !list.iter().any(|c| c == limit.controller) => format!(
                        "the {} controller is not available in {} (cgroup.controllers: '{}'), so {} cannot be applied",
                        limit.controller,
                        own.display(),
                        list.join(" "),
                        limit.option
                    ),
                    Ok(_) => continue,
                }
            };
            out.push(error(spec, limit.option, message));
        }
    }
    out
}

/// [`check_config`] against this host's cgroup2 (for `--check-config`).
pub fn check_host(config: &Config) -> Vec<ConfigError> {
    let any = config
        .groups
        .iter()
        .flat_map(|g| &g.processes)
        .any(|p| !limits_of(p).is_empty());
    if !any {
        return Vec::new();
    }
    let host = match super::discover(Path::new("/proc")) {
        Ok(h) => h,
        Err(e) => return check_config(config, Err(&e.to_string()), Path::new("")),
    };
    let tree = super::Tree::new(&host.mount, &host.own, &super::subtree_name(&config.path));
    match super::read_controllers(tree.base()) {
        Ok(list) => check_config(config, Ok(&list), tree.base()),
        Err(e) => check_config(config, Err(&e.to_string()), tree.base()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Load a real config from `body` (origins point into the temp file).
    fn load(body: &str) -> (tempfile::TempDir, Config) {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("p.conf");
        let text = format!(
            "[supervisord]\nlogfile={0}/main.log\npidfile={0}/p.pid\n{body}",
            d.path().display()
        );
        std::fs::write(&path, text).unwrap();
        let c = crate::config::load(&path, &crate::config::Env::from_process()).unwrap();
        (d, c)
    }

    const LIMITED: &str = "[program:web]\ncommand=/bin/true\nmemory_max=1MB\npids_max=10\n";

    #[test]
    fn limits_in_order_with_their_files() {
        let (_d, c) = load(LIMITED);
        let l = limits_of(&c.groups[0].processes[0]);
        assert_eq!(l.len(), 2);
        assert_eq!(
            (l[0].option, l[0].file, l[0].value.as_str()),
            ("memory_max", "memory.max", "1048576")
        );
        assert_eq!((l[1].controller, l[1].file), ("pids", "pids.max"));
    }

    #[test]
    fn cgroup_inheritance() {
        let (_d, mut c) = load("[program:a]\ncommand=/bin/true\n");
        let spec = c.groups[0].processes[0].clone();
        assert!(!wants_cgroup(&c, &spec));
        c.groups[0].cgroup = Some(true);
        assert!(wants_cgroup(&c, &spec));
        let mut own = (*spec).clone();
        own.cgroup = Some(false);
        assert!(!wants_cgroup(&c, &own));
        c.groups[0].cgroup = None;
        c.supervisord.cgroups = true;
        assert!(wants_cgroup(&c, &spec));
    }

    #[test]
    fn missing_controller_names_file_section_option() {
        let (d, c) = load(&format!("cgroups=true\n{LIMITED}"));
        let avail = vec!["cpu".to_string(), "pids".to_string()];
        let errs = check_config(&c, Ok(&avail), Path::new("/cg"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        let text = errs[0].to_string();
        let want = format!(
            "{}:5: [program:web] memory_max: the memory controller is not available in /cg",
            d.path().join("p.conf").display()
        );
        assert!(text.starts_with(&want), "{text}");
        assert!(text.contains("cgroup.controllers: 'cpu pids'"), "{text}");
        let none: Vec<String> = Vec::new();
        assert_eq!(check_config(&c, Ok(&none), Path::new("/cg")).len(), 2);
        let errs = check_config(&c, Err("no cgroup2 mount"), Path::new("/cg"));
        assert!(errs[0]
            .to_string()
            .contains("cannot apply memory_max: no cgroup2 mount"));
    }

    #[test]
    fn limit_without_cgroup_is_an_error() {
        let (_d, c) = load(LIMITED);
        let all = vec!["memory".to_string(), "pids".to_string()];
        let errs = check_config(&c, Ok(&all), Path::new("/cg"));
        assert_eq!(errs.len(), 2);
        assert!(errs[0]
            .to_string()
            .contains("memory_max needs the program in a cgroup"));
    }
}
