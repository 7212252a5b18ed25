//! Supervisor's data types (spec §2.3): each parser takes the expanded text
//! and returns the typed value or Supervisor's error text.

use std::path::{Path, PathBuf};

use super::types::{AutoRestart, LogLevel, NotifyAccess, Readiness, UserSpec};
use super::users::Users;
use crate::py::py_repr;

const TRUTHY: &[&str] = &["yes", "true", "on", "1"];
const FALSY: &[&str] = &["no", "false", "off", "0"];

/// 2.3.1 boolean: `yes true on 1` / `no false off 0`, case-insensitive.
pub fn parse_bool(v: &str) -> Result<bool, String> {
    let l = v.to_lowercase();
    if TRUTHY.contains(&l.as_str()) {
        Ok(true)
    } else if FALSY.contains(&l.as_str()) {
        Ok(false)
    } else {
        Err(format!("not a valid boolean value: {}", py_repr(v)))
    }
}

/// Python's `int(v)` (base 10): surrounding whitespace, a sign, and single
/// underscores between digits are allowed. Python's ints are unbounded: a
/// valid literal beyond `i64` is clamped to `i64::MIN`/`i64::MAX` rather
/// than refused.
pub fn py_int(v: &str) -> Option<i64> {
    let t = v.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let digits = digits.replace('_', "");
    let signed = if neg { format!("-{digits}") } else { digits };
    // Every char is an ASCII digit, so a parse failure is an overflow.
    Some(
        signed
            .parse()
            .unwrap_or(if neg { i64::MIN } else { i64::MAX }),
    )
}

/// `str(int(v))` for a literal [`py_int`] accepts: the exact value, also
/// beyond `i64` (for messages that echo it).
pub fn py_int_text(v: &str) -> String {
    let t = v.trim().replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let digits = digits.trim_start_matches('0');
    match (digits.is_empty(), neg) {
        (true, _) => "0".into(),
        (false, true) => format!("-{digits}"),
        (false, false) => digits.into(),
    }
}

fn int_error(v: &str) -> String {
    format!("invalid literal for int() with base 10: {}", py_repr(v))
}

/// 2.3.2 integer: Python `int()`, no range check.
pub fn parse_int(v: &str) -> Result<i64, String> {
    py_int(v).ok_or_else(|| int_error(v))
}

/// 2.3.3 byte size: `KB`/`MB`/`GB` suffix (case-insensitive), else an int.
/// The error shows the lower-cased numeric part, as Supervisor's does.
pub fn parse_bytes(v: &str) -> Result<i64, String> {
    let l = v.to_lowercase();
    for (suffix, mult) in [("kb", 1i64 << 10), ("mb", 1 << 20), ("gb", 1 << 30)] {
        if let Some(num) = l.strip_suffix(suffix) {
            // Python's product is unbounded; ours saturates, like py_int.
            return Ok(py_int(num)
                .ok_or_else(|| int_error(num))?
                .saturating_mul(mult));
        }
    }
    py_int(&l).ok_or_else(|| int_error(&l))
}

/// 2.3.5 exitcodes: comma-separated ints in 0..=255; empty → none.
pub fn parse_exitcodes(v: &str) -> Result<Vec<i32>, String> {
    if v.is_empty() {
        return Ok(Vec::new());
    }
    v.split(',')
        .map(|p| {
            py_int(p)
                .filter(|n| (0..=255).contains(n))
                .map(|n| n as i32)
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| format!("not a valid list of exit codes: {}", py_repr(v)))
}

/// 2.3.6 autorestart.
pub fn parse_autorestart(v: &str) -> Result<AutoRestart, String> {
    let l = v.to_lowercase();
    if TRUTHY.contains(&l.as_str()) {
        Ok(AutoRestart::Always)
    } else if FALSY.contains(&l.as_str()) {
        Ok(AutoRestart::Never)
    } else if l == "unexpected" {
        Ok(AutoRestart::Unexpected)
    } else {
        Err(format!("invalid 'autorestart' value {}", py_repr(&l)))
    }
}

/// 2.3.7 octal: Python `int(v, 8)` (`022`, `0o22`, `777`).
pub fn parse_octal(v: &str) -> Result<u32, String> {
    let err = || format!("{v} can not be converted to an octal type");
    let t = v.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    let digits = t
        .strip_prefix("0o")
        .or_else(|| t.strip_prefix("0O"))
        .map(|d| d.strip_prefix('_').unwrap_or(d))
        .unwrap_or(t);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| ('0'..='7').contains(&c) || c == '_')
    {
        return Err(err());
    }
    u32::from_str_radix(&digits.replace('_', ""), 8).map_err(|_| err())
}

/// 2.3.15 log level.
pub fn parse_loglevel(v: &str) -> Result<LogLevel, String> {
    Ok(match v.to_lowercase().as_str() {
        "critical" => LogLevel::Critical,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        "blather" => LogLevel::Blather,
        _ => return Err(format!("bad logging level name {}", py_repr(v))),
    })
}

/// 2.3.10 process/group name: stripped; no space, `:` or `/`.
pub fn parse_name(v: &str) -> Result<String, String> {
    let s = v.trim();
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr(v),
                py_repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// Python's `os.path.expanduser` for `~` and `~/...` (HOME from `home`), and
/// `~user/...` from the system's password database.
pub fn expanduser(v: &str, home: Option<&str>) -> String {
    expanduser_in(v, home, &Users::System)
}

/// [`expanduser`] against `users`.
pub fn expanduser_in(v: &str, home: Option<&str>, users: &Users) -> String {
    let Some(rest) = v.strip_prefix('~') else {
        return v.to_string();
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let dir = if user.is_empty() {
        home.map(str::to_string).or_else(|| users.home_of(None))
    } else {
        users.home_of(Some(user))
    };
    match dir {
        Some(d) => {
            let d = if d.len() > 1 {
                d.trim_end_matches('/')
            } else {
                &d
            };
            format!("{d}{tail}")
        }
        None => v.to_string(),
    }
}

/// Python's `os.path.normpath(os.path.abspath(p))` against `cwd`.
pub fn normalize_path(p: &str, cwd: &Path) -> PathBuf {
    let joined = cwd.join(p);
    let mut out: Vec<&str> = Vec::new();
    for comp in joined.to_str().unwrap_or(p).split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    PathBuf::from(format!("/{}", out.join("/")))
}

/// 2.3.11 (path part) `existing_dirpath`: the directory part, if any, must
/// exist. Returns the `~`-expanded path.
pub fn existing_dirpath(v: &str, home: Option<&str>, cwd: &Path) -> Result<String, String> {
    existing_dirpath_in(v, home, cwd, &Users::System)
}

/// [`existing_dirpath`] with `~user` looked up in `users`.
pub fn existing_dirpath_in(
    v: &str,
    home: Option<&str>,
    cwd: &Path,
    users: &Users,
) -> Result<String, String> {
    let nv = expanduser_in(v, home, users);
    let dir = match nv.rfind('/') {
        Some(0) => "/",
        Some(i) => &nv[..i],
        None => return Ok(nv),
    };
    if cwd.join(dir).is_dir() {
        Ok(nv)
    } else {
        Err(format!(
            "The directory named as part of the path {v} does not exist"
        ))
    }
}

/// 2.3.12 existing directory.
pub fn existing_directory(v: &str, home: Option<&str>, cwd: &Path) -> Result<String, String> {
    existing_directory_in(v, home, cwd, &Users::System)
}

/// [`existing_directory`] with `~user` looked up in `users`.
pub fn existing_directory_in(
    v: &str,
    home: Option<&str>,
    cwd: &Path,
    users: &Users,
) -> Result<String, String> {
    let nv = expanduser_in(v, home, users);
    // Python's os.path.isdir('') is False; joined to cwd it would be true.
    if !nv.is_empty() && cwd.join(&nv).is_dir() {
        Ok(nv)
    } else {
        Err(format!("{v} is not an existing directory"))
    }
}

/// A logfile option's value (2.3.11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogName {
    None,
    Auto,
    Syslog,
    Path(String),
}

/// 2.3.11 logfile name: NONE/OFF, AUTO, syslog, or a path whose dir exists.
pub fn parse_logfile(
    v: &str,
    home: Option<&str>,
    cwd: &Path,
    users: &Users,
) -> Result<LogName, String> {
    Ok(match v.to_lowercase().as_str() {
        "none" | "off" => LogName::None,
        "auto" => LogName::Auto,
        "syslog" => LogName::Syslog,
        _ => LogName::Path(existing_dirpath_in(v, home, cwd, users)?),
    })
}

/// 2.3.14 inet port: `PORT`, `HOST:PORT`, `*:PORT`, `:PORT`. Returns the
/// lower-cased host (empty = all interfaces) and the port.
pub fn parse_inet_address(v: &str) -> Result<(String, u16), String> {
    let port_number = |s: &str| -> Result<u16, String> {
        let n = parse_int(s)?;
        if n < 1 {
            return Err(format!("{} is below lower bound (1)", py_int_text(s)));
        }
        if n > 65535 {
            return Err(format!("{} is above upper bound (65535)", py_int_text(s)));
        }
        Ok(n as u16)
    };
    let (host, port) = match v.rfind(':') {
        Some(i) => {
            let (host, port) = (&v[..i], &v[i + 1..]);
            if port.is_empty() {
                return Err(format!("no port number specified in {}", py_repr(port)));
            }
            (host.to_lowercase(), port_number(port)?)
        }
        None => (
            String::new(),
            port_number(v).map_err(|_| format!("not a valid port number: {} ", py_repr(v)))?,
        ),
    };
    Ok((if host == "*" { String::new() } else { host }, port))
}

/// 2.3.9 environment: `KEY=val,KEY2="v,2"` as Supervisor's
/// `dict_of_key_value_pairs` reads it (non-POSIX shlex, quirks included).
/// Keys keep their case; a repeated key keeps its first position.
pub fn parse_environment(v: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = crate::py::shlex::tokens(v, "/.+-():").map_err(str::to_string)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens.len() - i < 3 || tokens[i + 1] != "=" {
            return Err(format!("Unexpected end of key/value pairs in value '{v}'"));
        }
        let key = tokens[i].clone();
        let val = tokens[i + 2].trim_matches(['\'', '"']).to_string();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = val,
            None => out.push((key, val)),
        }
        i += 4;
    }
    Ok(out)
}

/// Supervisor's `name_to_uid` against the system's password database
/// (the loader uses its [`super::Env`]'s [`Users`] instead).
pub fn parse_user(v: &str) -> Result<UserSpec, String> {
    Users::System.user(v)
}

/// Event type names Supervisor knows (`supervisor.events.EventTypes`).
pub const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_STATE",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_UNKNOWN",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_LOG",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
];

/// pidvisor: `memory_max=` — `max` or a byte size ≥ 0, normalised to what
/// cgroup v2's `memory.max` takes (`max` or a decimal byte count).
pub fn parse_memory_max(v: &str) -> Result<String, String> {
    if v.trim().eq_ignore_ascii_case("max") {
        return Ok("max".into());
    }
    let n = parse_bytes(v)?;
    if n < 0 {
        return Err(format!("{} is not 'max' or a byte size >= 0", py_repr(v)));
    }
    Ok(n.to_string())
}

/// pidvisor: `pids_max=` — `max` or an integer ≥ 0 (cgroup v2 `pids.max`).
pub fn parse_pids_max(v: &str) -> Result<String, String> {
    if v.trim().eq_ignore_ascii_case("max") {
        return Ok("max".into());
    }
    let n = parse_int(v)?;
    if n < 0 {
        return Err(format!("{} is not 'max' or an integer >= 0", py_repr(v)));
    }
    Ok(n.to_string())
}

/// pidvisor: `ready = startsecs|notify` (case-insensitive).
pub fn parse_ready(v: &str) -> Result<Readiness, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "startsecs" => Ok(Readiness::Startsecs),
        "notify" => Ok(Readiness::Notify),
        _ => Err(format!(
            "{} is not a valid ready value (startsecs or notify)",
            py_repr(v)
        )),
    }
}

/// pidvisor: `notify_access = none|main|all` (case-insensitive).
pub fn parse_notify_access(v: &str) -> Result<NotifyAccess, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "none" => Ok(NotifyAccess::None),
        "main" => Ok(NotifyAccess::Main),
        "all" => Ok(NotifyAccess::All),
        _ => Err(format!(
            "{} is not a valid notify_access value (none, main or all)",
            py_repr(v)
        )),
    }
}

/// The longest duration a `*_sec` key keeps (as for `startsecs`: the
/// largest XML-RPC int, 68 years).
const MAX_SECS: f64 = i32::MAX as f64;

/// pidvisor: a `*_sec` key — seconds ≥ 0, with an optional fraction
/// (`90`, `0.5`), kept to the millisecond.
pub fn parse_seconds(v: &str) -> Result<std::time::Duration, String> {
    let t = v.trim();
    let ok = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    match t.parse::<f64>() {
        Ok(s) if ok && s.is_finite() => {
            let ms = (s.min(MAX_SECS) * 1000.0).round() as u64;
            Ok(std::time::Duration::from_millis(ms))
        }
        _ => Err(format!("{} is not a number of seconds >= 0", py_repr(v))),
    }
}

/// pidvisor: `cpu_max=` — `max|QUOTA [PERIOD]` in microseconds, as cgroup
/// v2's `cpu.max` takes it. The kernel's bounds apply: QUOTA ≥ 1000,
/// 1000 ≤ PERIOD ≤ 1000000.
pub fn parse_cpu_max(v: &str) -> Result<String, String> {
    let bad = |why: &str| format!("{} is not a valid cpu.max value: {why}", py_repr(v));
    let parts: Vec<&str> = v.split_whitespace().collect();
    let (quota, period) = match parts.as_slice() {
        [q] => (*q, None),
        [q, p] => (*q, Some(*p)),
        _ => return Err(bad("expected 'max' or 'QUOTA [PERIOD]'")),
    };
    let quota = if quota.eq_ignore_ascii_case("max") {
        "max".to_string()
    } else {
        match py_int(quota) {
            Some(q) if q >= 1000 => q.to_string(),
            Some(_) => return Err(bad("QUOTA must be at least 1000 (microseconds)")),
            None => return Err(bad("QUOTA must be 'max' or an integer")),
        }
    };
    match period {
        None => Ok(quota),
        Some(p) => match py_int(p) {
            Some(p) if (1000..=1_000_000).contains(&p) => Ok(format!("{quota} {p}")),
            _ => Err(bad(
                "PERIOD must be an integer from 1000 to 1000000 (microseconds)",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_values() {
        use std::time::Duration;
        assert_eq!(parse_ready("Notify"), Ok(Readiness::Notify));
        assert_eq!(parse_ready(" startsecs "), Ok(Readiness::Startsecs));
        assert_eq!(
            parse_ready("soon"),
            Err("'soon' is not a valid ready value (startsecs or notify)".into())
        );
        assert_eq!(parse_notify_access("ALL"), Ok(NotifyAccess::All));
        assert!(parse_notify_access("exec").is_err());
        assert_eq!(parse_seconds("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        for bad in ["", "-1", "1e3", "nan", "5s", "."] {
            assert!(parse_seconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn booleans() {
        for t in ["yes", "TRUE", "On", "1"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["no", "False", "OFF", "0"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        assert_eq!(
            parse_bool("perhaps"),
            Err("not a valid boolean value: 'perhaps'".into())
        );
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(" -5 "), Ok(-5));
        assert_eq!(parse_int("+1_000"), Ok(1000));
        assert_eq!(parse_int("0"), Ok(0));
        assert_eq!(
            parse_int("abc"),
            Err("invalid literal for int() with base 10: 'abc'".into())
        );
        assert_eq!(
            parse_int("1.5"),
            Err("invalid literal for int() with base 10: '1.5'".into())
        );
        assert!(parse_int("").is_err());
        assert!(parse_int("1__0").is_err());
    }

    #[test]
    fn integers_beyond_64_bits_are_clamped() {
        // Python's int() accepts them; the value is held at the i64 bounds.
        assert_eq!(parse_int("999999999999999999999"), Ok(i64::MAX));
        assert_eq!(parse_int(" +1_000000000000000000000 "), Ok(i64::MAX));
        assert_eq!(parse_int("-999999999999999999999"), Ok(i64::MIN));
        assert_eq!(parse_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            parse_int("99999999999999999999x"),
            Err("invalid literal for int() with base 10: '99999999999999999999x'".into())
        );
        assert_eq!(parse_bytes("999999999999999999999"), Ok(i64::MAX));
        assert_eq!(parse_bytes("99999999999GB"), Ok(i64::MAX));
        assert_eq!(parse_bytes("-99999999999GB"), Ok(i64::MIN));
        assert_eq!(
            parse_inet_address("h:99999999999999999999999"),
            Err("99999999999999999999999 is above upper bound (65535)".into())
        );
        assert_eq!(
            parse_inet_address("h:-0_099999999999999999999"),
            Err("-99999999999999999999 is below lower bound (1)".into())
        );
        assert_eq!(py_int_text(" 007 "), "7");
        assert_eq!(py_int_text("-0"), "0");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("50MB"), Ok(50 * 1024 * 1024));
        assert_eq!(parse_bytes("5 MB"), Ok(5 * 1024 * 1024));
        assert_eq!(parse_bytes("1kb"), Ok(1024));
        assert_eq!(parse_bytes("2GB"), Ok(2 << 30));
        assert_eq!(parse_bytes("-1"), Ok(-1));
        assert_eq!(parse_bytes("123"), Ok(123));
        assert_eq!(
            parse_bytes("50M"),
            Err("invalid literal for int() with base 10: '50m'".into())
        );
        assert_eq!(
            parse_bytes("1.5MB"),
            Err("invalid literal for int() with base 10: '1.5'".into())
        );
        assert_eq!(
            parse_bytes("50B"),
            Err("invalid literal for int() with base 10: '50b'".into())
        );
    }

    #[test]
    fn exitcodes() {
        assert_eq!(parse_exitcodes("0"), Ok(vec![0]));
        assert_eq!(parse_exitcodes("0, 2,255"), Ok(vec![0, 2, 255]));
        assert_eq!(parse_exitcodes(""), Ok(vec![]));
        assert_eq!(
            parse_exitcodes("0,256"),
            Err("not a valid list of exit codes: '0,256'".into())
        );
        assert!(parse_exitcodes("a").is_err());
        assert!(parse_exitcodes("1,").is_err());
    }

    #[test]
    fn autorestart() {
        assert_eq!(parse_autorestart("true"), Ok(AutoRestart::Always));
        assert_eq!(parse_autorestart("Off"), Ok(AutoRestart::Never));
        assert_eq!(parse_autorestart("UNEXPECTED"), Ok(AutoRestart::Unexpected));
        assert_eq!(
            parse_autorestart("Maybe"),
            Err("invalid 'autorestart' value 'maybe'".into())
        );
    }

    #[test]
    fn octal() {
        assert_eq!(parse_octal("022"), Ok(0o22));
        assert_eq!(parse_octal("0o22"), Ok(0o22));
        assert_eq!(parse_octal("777"), Ok(0o777));
        assert_eq!(parse_octal("0"), Ok(0));
        assert_eq!(
            parse_octal("8"),
            Err("8 can not be converted to an octal type".into())
        );
        assert!(parse_octal("").is_err());
    }

    #[test]
    fn log_levels() {
        assert_eq!(parse_loglevel("WARN"), Ok(LogLevel::Warn));
        assert_eq!(parse_loglevel("blather"), Ok(LogLevel::Blather));
        assert_eq!(parse_loglevel("critical"), Ok(LogLevel::Critical));
        assert_eq!(
            parse_loglevel("warning"),
            Err("bad logging level name 'warning'".into())
        );
        assert!(parse_loglevel("crit").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(parse_name(" web "), Ok("web".into()));
        assert_eq!(
            parse_name("x y"),
            Err("Invalid name: 'x y' because of character: ' '".into())
        );
        assert_eq!(
            parse_name("a:b"),
            Err("Invalid name: 'a:b' because of character: ':'".into())
        );
        assert_eq!(
            parse_name("a/b"),
            Err("Invalid name: 'a/b' because of character: '/'".into())
        );
    }

    #[test]
    fn environment_pairs_and_quirks() {
        let p = |s: &str| parse_environment(s);
        assert_eq!(
            p("A=1, B=2,"),
            Ok(vec![("A".into(), "1".into()), ("B".into(), "2".into())])
        );
        assert_eq!(
            p("KEY=val,KEY2=\"v,2\""),
            Ok(vec![
                ("KEY".into(), "val".into()),
                ("KEY2".into(), "v,2".into())
            ])
        );
        assert_eq!(p("A=\"\""), Ok(vec![("A".into(), "".into())]));
        assert_eq!(p("A=x#y"), Ok(vec![("A".into(), "x".into())]));
        assert_eq!(
            p("PATH=\"/usr/bin:/bin\",lower=a.b"),
            Ok(vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("lower".into(), "a.b".into())
            ])
        );
        assert_eq!(p("A=1,A=2"), Ok(vec![("A".into(), "2".into())]));
        assert_eq!(p(""), Ok(vec![]));
        for bad in ["A=", "A=1,,B=2", "A=1 B=2", "A=a*b", "A=h\u{e9}llo"] {
            assert_eq!(
                p(bad),
                Err(format!(
                    "Unexpected end of key/value pairs in value '{bad}'"
                )),
                "{bad}"
            );
        }
        assert_eq!(p("A=\"x"), Err("No closing quotation".into()));
    }

    #[test]
    fn inet_addresses() {
        assert_eq!(parse_inet_address("9001"), Ok((String::new(), 9001)));
        assert_eq!(
            parse_inet_address("LocalHost:9001"),
            Ok(("localhost".into(), 9001))
        );
        assert_eq!(parse_inet_address("*:80"), Ok((String::new(), 80)));
        assert_eq!(parse_inet_address(":80"), Ok((String::new(), 80)));
        assert_eq!(
            parse_inet_address("abc"),
            Err("not a valid port number: 'abc' ".into())
        );
        assert_eq!(
            parse_inet_address("h:0"),
            Err("0 is below lower bound (1)".into())
        );
        assert_eq!(
            parse_inet_address("h:70000"),
            Err("70000 is above upper bound (65535)".into())
        );
        assert_eq!(
            parse_inet_address("h:"),
            Err("no port number specified in ''".into())
        );
        assert_eq!(
            parse_inet_address("h:abc"),
            Err("invalid literal for int() with base 10: 'abc'".into())
        );
    }

    #[test]
    fn paths() {
        let cwd = Path::new("/");
        assert_eq!(expanduser("~/x", Some("/home/u")), "/home/u/x");
        assert_eq!(expanduser("~", Some("/home/u/")), "/home/u");
        assert_eq!(expanduser("a~", Some("/home/u")), "a~");
        assert_eq!(
            normalize_path("a/../b/./c", Path::new("/srv")),
            PathBuf::from("/srv/b/c")
        );
        assert_eq!(existing_dirpath("x.log", None, cwd), Ok("x.log".into()));
        assert_eq!(
            existing_dirpath("/tmp/x.log", None, cwd),
            Ok("/tmp/x.log".into())
        );
        assert_eq!(
            existing_dirpath("/nonexistent/dir/x.log", None, cwd),
            Err(
                "The directory named as part of the path /nonexistent/dir/x.log does not exist"
                    .into()
            )
        );
        assert_eq!(existing_directory("/tmp", None, cwd), Ok("/tmp".into()));
        assert_eq!(
            existing_directory("/nope", None, cwd),
            Err("/nope is not an existing directory".into())
        );
        let logfile = |v| parse_logfile(v, None, cwd, &Users::System);
        assert_eq!(logfile("OFF"), Ok(LogName::None));
        assert_eq!(logfile("none"), Ok(LogName::None));
        assert_eq!(logfile("Auto"), Ok(LogName::Auto));
        assert_eq!(logfile("SYSLOG"), Ok(LogName::Syslog));
        assert_eq!(
            logfile("/tmp/a.log"),
            Ok(LogName::Path("/tmp/a.log".into()))
        );
    }

    #[test]
    fn cgroup_limits() {
        assert_eq!(parse_memory_max("max"), Ok("max".into()));
        assert_eq!(parse_memory_max("512MB"), Ok("536870912".into()));
        assert_eq!(parse_memory_max("1000"), Ok("1000".into()));
        assert!(parse_memory_max("-1").is_err());
        assert_eq!(
            parse_memory_max("lots"),
            Err("invalid literal for int() with base 10: 'lots'".into())
        );
        assert_eq!(parse_pids_max("MAX"), Ok("max".into()));
        assert_eq!(parse_pids_max("64"), Ok("64".into()));
        assert!(parse_pids_max("-3").is_err());
        assert_eq!(parse_cpu_max("max"), Ok("max".into()));
        assert_eq!(parse_cpu_max("50000"), Ok("50000".into()));
        assert_eq!(parse_cpu_max(" 50000   100000 "), Ok("50000 100000".into()));
        assert_eq!(parse_cpu_max("max 100000"), Ok("max 100000".into()));
        assert_eq!(
            parse_cpu_max("10"),
            Err(
                "'10' is not a valid cpu.max value: QUOTA must be at least 1000 (microseconds)"
                    .into()
            )
        );
        assert!(parse_cpu_max("1000 5").is_err());
        assert!(parse_cpu_max("1 2 3").is_err());
        assert!(parse_cpu_max("half").is_err());
    }
}
