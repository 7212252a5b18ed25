//! Supervisor's `expand(s, expansions, name)`: Python's `s % expansions`
//! ([`crate::py::percent`]) with Supervisor's error texts around it, and the
//! bound on how much text one configuration may expand to.

use crate::py::percent::{self, FormatError};
use crate::py::py_repr;

pub use crate::py::percent::{Names, Val};

/// The most text the values of one configuration may expand to, all values
/// and all processes together. A real configuration expands to a few
/// hundred bytes per process (40,000 processes stay under 64 MiB); the
/// bound is there so that no file, however hostile (`%s` repeated, huge
/// widths, `numprocs`), makes the loader allocate without limit, which for
/// a running daemon would be a reload that kills it.
pub const MAX_EXPANDED: usize = 256 << 20;

/// Why a value could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError {
    /// Supervisor's text (or ours, for the bound).
    pub message: String,
    /// The result would pass the `limit`.
    pub too_long: bool,
}

/// `s % names`, as Supervisor's `expand` reports a failure; `name` is the
/// option as Supervisor names it in the message. The result may be at most
/// `limit` bytes (what is left of [`MAX_EXPANDED`]).
pub fn expand(s: &str, names: &Names, name: &str, limit: usize) -> Result<String, ExpandError> {
    let too_long = |e: &FormatError| *e == FormatError::TooLong;
    percent::format(s, names, limit).map_err(|e| ExpandError {
        too_long: too_long(&e),
        message: message(e, s, names, name),
    })
}

fn message(e: FormatError, s: &str, names: &Names, name: &str) -> String {
    match e {
        FormatError::Key(k) => format!(
            "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
            py_repr(s),
            py_repr(name),
            py_repr(&k),
            names.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        FormatError::Bad(why) => format!(
            "Format string {} for {} is badly formatted: {why}",
            py_repr(s),
            py_repr(name),
        ),
        FormatError::TooLong => format!(
            "Format string {} for {} expands beyond the limit for one configuration ({} MiB of expanded text)",
            py_repr(s),
            py_repr(name),
            MAX_EXPANDED >> 20
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut n = Names::new();
        n.insert("program_name".into(), Val::Str("web".into()));
        n.insert("process_num".into(), Val::Int(3));
        n.insert("here".into(), Val::Str("/etc".into()));
        n
    }

    /// (value, Supervisor's message for it as `program:web.command`).
    const ERRORS: &[(&str, &str)] = &[
        (
            "/bin/true %(ENV_NOPE)s",
            "Format string '/bin/true %(ENV_NOPE)s' for 'program:web.command' contains names ('ENV_NOPE') which cannot be expanded. Available names: here, process_num, program_name",
        ),
        (
            "/bin/echo 50%",
            "Format string '/bin/echo 50%' for 'program:web.command' is badly formatted: incomplete format",
        ),
        (
            "/bin/echo 50%to",
            "Format string '/bin/echo 50%to' for 'program:web.command' is badly formatted: unsupported format character 't' (0x74) at index 13",
        ),
        (
            "/bin/echo %(process_num)999999999999d",
            "Format string '/bin/echo %(process_num)999999999999d' for 'program:web.command' is badly formatted: width too big",
        ),
        (
            "%(process_num)4096d%(process_num)4096d",
            "Format string '%(process_num)4096d%(process_num)4096d' for 'program:web.command' expands beyond the limit for one configuration (256 MiB of expanded text)",
        ),
    ];

    #[test]
    fn supervisors_error_texts() {
        assert_eq!(
            expand("%(program_name)s", &names(), "program:web.command", 100),
            Ok("web".into())
        );
        for &(value, want) in ERRORS {
            let got = expand(value, &names(), "program:web.command", 5000);
            let got = got.map_err(|e| e.message);
            assert_eq!(got, Err(want.to_string()), "{value}");
        }
    }
}
