//! Signal names and numbers as Supervisor reads and prints them.

use crate::py::py_repr;

/// Python's `signal` module names on Linux (x86_64), with their numbers.
/// Aliases (IOT, CLD, POLL) come after the canonical name so that
/// [`signame`] finds the canonical one first.
const NAMES: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// Parse a signal as Supervisor's `signal_number`: an integer that Python
/// knows as a signal (0–31, 34, 64), or a name with optional `SIG` prefix,
/// case-insensitive. The error text is Supervisor's.
pub fn parse_signal(value: &str) -> Result<i32, String> {
    let v = value.trim();
    if let Ok(n) = v.parse::<i32>() {
        if n == 0 || NAMES.iter().any(|&(_, k)| k == n) {
            return Ok(n);
        }
        return Err(format!(
            "value {} is not a valid signal number",
            py_repr(value)
        ));
    }
    let upper = v.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    NAMES
        .iter()
        .find(|&&(name, _)| name == bare)
        .map(|&(_, n)| n)
        .ok_or_else(|| format!("value {} is not a valid signal name", py_repr(value)))
}

/// The name Supervisor prints for a signal (`SIGTERM`), or `signal N`.
pub fn signame(sig: i32) -> String {
    match sig {
        29 => "SIGPOLL".into(),
        _ => NAMES
            .iter()
            .find(|&&(_, n)| n == sig)
            .map(|&(name, _)| format!("SIG{name}"))
            .unwrap_or_else(|| format!("signal {sig}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_numbers_and_aliases() {
        assert_eq!(parse_signal("TERM"), Ok(15));
        assert_eq!(parse_signal(" sigkill "), Ok(9));
        assert_eq!(parse_signal("iot"), Ok(6));
        assert_eq!(parse_signal("RTMAX"), Ok(64));
        assert_eq!(parse_signal("0"), Ok(0));
        assert_eq!(parse_signal("34"), Ok(34));
        assert_eq!(
            parse_signal("FOO"),
            Err("value 'FOO' is not a valid signal name".into())
        );
        assert_eq!(
            parse_signal("RTMIN+1"),
            Err("value 'RTMIN+1' is not a valid signal name".into())
        );
        assert_eq!(
            parse_signal("65"),
            Err("value '65' is not a valid signal number".into())
        );
    }

    #[test]
    fn printed_names() {
        assert_eq!(signame(15), "SIGTERM");
        assert_eq!(signame(6), "SIGABRT");
        assert_eq!(signame(17), "SIGCHLD");
        assert_eq!(signame(29), "SIGPOLL");
        assert_eq!(signame(34), "SIGRTMIN");
        assert_eq!(signame(40), "signal 40");
    }
}
