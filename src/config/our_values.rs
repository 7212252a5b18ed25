//! The value types of pidvisor's own options (issue 18), beside
//! Supervisor's in [`super::values`]: name lists (`depends_on`,
//! `exit_on_fatal`), counts and seconds that may not be negative,
//! capability names (checked with the `caps` crate, so a typo is a config
//! error and not a spawn failure), and `environment_file`'s `[-]PATH`.

use std::path::PathBuf;

use super::types::{EnvFile, ExitOnFatal};
use super::values::{parse_int, parse_name};
use crate::py::py_repr;

/// `NAME, NAME, ...`: program or group names, separated by commas and/or
/// whitespace; each a valid Supervisor name; empty for none. A name
/// written twice is kept once.
pub fn parse_name_list(v: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for word in v.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        let name = parse_name(word)?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// A duration in whole seconds, at least 0 and at most
/// [`super::MAX_WAIT_SECS`].
pub fn parse_whole_seconds(v: &str) -> Result<i64, String> {
    let n = parse_int(v)?;
    if n < 0 {
        return Err(format!("{} is not a number of seconds >= 0", py_repr(v)));
    }
    Ok(n.min(super::MAX_WAIT_SECS))
}

/// A count, at least 0.
pub fn parse_count(v: &str) -> Result<i64, String> {
    let n = parse_int(v)?;
    if n < 0 {
        return Err(format!("{} is not a count >= 0", py_repr(v)));
    }
    Ok(n)
}

/// `CAP_NET_BIND_SERVICE, CAP_SYS_TIME ...` (case-insensitive, the `CAP_`
/// prefix optional) as a bit set: bit `n` is capability number `n`.
pub fn parse_capabilities(v: &str) -> Result<u64, String> {
    let mut mask = 0u64;
    for word in v.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        let upper = word.to_ascii_uppercase();
        let name = if upper.starts_with("CAP_") {
            upper
        } else {
            format!("CAP_{upper}")
        };
        let cap: caps::Capability = name
            .parse()
            .map_err(|_| format!("unknown capability {}", py_repr(word)))?;
        mask |= cap.bitmask();
    }
    Ok(mask)
}

/// The names of the capabilities in `mask`, by number.
pub fn capability_names(mask: u64) -> Vec<String> {
    let mut all: Vec<caps::Capability> = caps::all()
        .into_iter()
        .filter(|c| mask & c.bitmask() != 0)
        .collect();
    all.sort_by_key(|c| c.index());
    all.into_iter().map(|c| c.to_string()).collect()
}

/// `environment_file = [-]PATH`: an absolute path; a leading `-` makes a
/// missing file no error (systemd's `EnvironmentFile=-PATH`).
pub fn parse_environment_file(v: &str) -> Result<EnvFile, String> {
    let t = v.trim();
    let (optional, path) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    if !path.starts_with('/') {
        return Err(format!(
            "environment_file {} is not an absolute path (%(here)s names the config's directory)",
            py_repr(v)
        ));
    }
    Ok(EnvFile {
        path: PathBuf::from(path),
        optional,
    })
}

/// `[supervisord] exit_on_fatal`: empty (never), `all`, or names.
pub fn parse_exit_on_fatal(v: &str) -> Result<ExitOnFatal, String> {
    if v.trim().eq_ignore_ascii_case("all") {
        return Ok(ExitOnFatal::All);
    }
    let names = parse_name_list(v)?;
    Ok(if names.is_empty() {
        ExitOnFatal::Never
    } else {
        ExitOnFatal::Names(names)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_lists() {
        assert_eq!(parse_name_list(""), Ok(vec![]));
        assert_eq!(
            parse_name_list(" db, cache  web,db "),
            Ok(vec!["db".to_string(), "cache".into(), "web".into()])
        );
        assert!(parse_name_list("a, b:c").is_err());
    }

    #[test]
    fn counts_and_seconds() {
        assert_eq!(parse_whole_seconds("5"), Ok(5));
        assert_eq!(
            parse_whole_seconds("99999999999"),
            Ok(super::super::MAX_WAIT_SECS)
        );
        assert_eq!(
            parse_whole_seconds("-1"),
            Err("'-1' is not a number of seconds >= 0".into())
        );
        assert_eq!(parse_count("3"), Ok(3));
        assert!(parse_count("x").is_err());
    }

    #[test]
    fn capabilities_by_name() {
        let m = parse_capabilities("CAP_NET_BIND_SERVICE, sys_time").unwrap();
        assert_eq!(m, (1 << 10) | (1 << 25));
        assert_eq!(
            capability_names(m),
            ["CAP_NET_BIND_SERVICE", "CAP_SYS_TIME"]
        );
        assert_eq!(parse_capabilities(""), Ok(0));
        assert_eq!(
            parse_capabilities("CAP_NET_BIND_SERVICE CAP_FLY"),
            Err("unknown capability 'CAP_FLY'".into())
        );
    }

    #[test]
    fn environment_files() {
        assert_eq!(
            parse_environment_file("-/etc/app.env"),
            Ok(EnvFile {
                path: "/etc/app.env".into(),
                optional: true
            })
        );
        assert!(!parse_environment_file("/a").unwrap().optional);
        assert!(parse_environment_file("app.env").is_err());
    }

    #[test]
    fn exit_on_fatal_values() {
        assert_eq!(parse_exit_on_fatal(""), Ok(ExitOnFatal::Never));
        assert_eq!(parse_exit_on_fatal("ALL"), Ok(ExitOnFatal::All));
        assert_eq!(
            parse_exit_on_fatal("web, db"),
            Ok(ExitOnFatal::Names(vec!["web".into(), "db".into()]))
        );
    }
}
