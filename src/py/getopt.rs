//! Python's `getopt.getopt`, which supervisorctl parses its command line
//! with: its error texts (`option -x not recognized`) are what the user
//! reads after `Error: `, and its rules (options stop at the first
//! argument, long options by unique prefix, `-iuuser` as three options)
//! decide which command lines work. clap parses differently on each count.
//!
//! Called by `ctl` (`CtlArgs::parse`); calls nothing.

use std::fmt;

/// `(option as given, value)` pairs in command-line order (`("-c",
/// "f.conf")`, `("--help", "")`), and the arguments after the options.
pub type Parsed = (Vec<(String, String)>, Vec<String>);

/// `getopt.GetoptError`: the message and the option it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetoptError {
    pub msg: String,
    pub opt: String,
}

impl fmt::Display for GetoptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

fn error(msg: String, opt: &str) -> GetoptError {
    GetoptError {
        msg,
        opt: opt.to_string(),
    }
}

/// The options a program takes, in getopt's notation.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    /// `shortopts`: letters, each followed by `:` when it takes a value
    /// (`"h?c:"`).
    pub short: &'a str,
    /// `longopts`: names, with a trailing `=` when they take a value
    /// (`"configuration="`); matched by unique prefix.
    pub long: &'a [&'a str],
    /// Not in Python: long names (same notation) matched only when written
    /// in full, never as a prefix, so that adding one leaves every
    /// abbreviation Python accepts unchanged. Reported as written.
    pub exact: &'a [&'a str],
}

/// `getopt.getopt(args, spec.short, spec.long)`: options up to the first
/// argument that is not one (`-` alone is an argument), or up to `--`.
pub fn getopt(args: &[String], spec: Spec) -> Result<Parsed, GetoptError> {
    let mut opts = Vec::new();
    let mut rest = args;
    while let Some(first) = rest.first() {
        if !first.starts_with('-') || first == "-" {
            break;
        }
        rest = &rest[1..];
        if first == "--" {
            break;
        }
        rest = match first.strip_prefix("--") {
            Some(long) => do_long(&mut opts, long, spec, rest)?,
            None => do_shorts(&mut opts, &first[1..], spec.short, rest)?,
        };
    }
    Ok((opts, rest.to_vec()))
}

/// One `--name[=value]`; returns the arguments left.
fn do_long<'a>(
    opts: &mut Vec<(String, String)>,
    given: &str,
    spec: Spec,
    mut rest: &'a [String],
) -> Result<&'a [String], GetoptError> {
    let (name, inline) = match given.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (given, None),
    };
    let (has_arg, name) = long_has_args(name, spec)?;
    let value = match (has_arg, inline) {
        (true, Some(v)) => v.to_string(),
        (true, None) => {
            let Some((v, after)) = rest.split_first() else {
                return Err(error(format!("option --{name} requires argument"), &name));
            };
            rest = after;
            v.clone()
        }
        (false, Some(_)) => {
            return Err(error(
                format!("option --{name} must not have an argument"),
                &name,
            ))
        }
        (false, None) => String::new(),
    };
    opts.push((format!("--{name}"), value));
    Ok(rest)
}

/// Whether long option `name` takes a value, and its full name: an exact
/// match first, else the one long option it is a prefix of.
fn long_has_args(name: &str, spec: Spec) -> Result<(bool, String), GetoptError> {
    let with_arg = format!("{name}=");
    if spec.exact.contains(&name) {
        return Ok((false, name.into()));
    }
    if spec.exact.contains(&with_arg.as_str()) {
        return Ok((true, name.into()));
    }
    let found: Vec<&str> = spec
        .long
        .iter()
        .copied()
        .filter(|o| o.starts_with(name))
        .collect();
    if found.is_empty() {
        return Err(error(format!("option --{name} not recognized"), name));
    }
    if found.contains(&name) {
        return Ok((false, name.into()));
    }
    if found.contains(&with_arg.as_str()) {
        return Ok((true, name.into()));
    }
    match found[..] {
        [only] => Ok((only.ends_with('='), only.trim_end_matches('=').into())),
        _ => Err(error(format!("option --{name} not a unique prefix"), name)),
    }
}

/// One `-abc` group: letters until one that takes a value, which takes the
/// rest of the group or else the next argument.
fn do_shorts<'a>(
    opts: &mut Vec<(String, String)>,
    group: &str,
    short: &str,
    mut rest: &'a [String],
) -> Result<&'a [String], GetoptError> {
    let mut letters = group;
    while let Some(c) = letters.chars().next() {
        letters = &letters[c.len_utf8()..];
        let opt = c.to_string();
        let value = if short_has_arg(c, short)? {
            if letters.is_empty() {
                let Some((v, after)) = rest.split_first() else {
                    return Err(error(format!("option -{c} requires argument"), &opt));
                };
                rest = after;
                v.clone()
            } else {
                std::mem::take(&mut letters).to_string()
            }
        } else {
            String::new()
        };
        opts.push((format!("-{c}"), value));
    }
    Ok(rest)
}

/// Whether short option `c` takes a value (`:` is never an option).
fn short_has_arg(c: char, short: &str) -> Result<bool, GetoptError> {
    match short.find(c).filter(|_| c != ':') {
        Some(at) => Ok(short[at + c.len_utf8()..].starts_with(':')),
        None => Err(error(format!("option -{c} not recognized"), &c.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// supervisorctl's options.
    const CTL: Spec = Spec {
        short: "h?c:is:u:p:r:",
        long: &[
            "help",
            "configuration=",
            "interactive",
            "serverurl=",
            "username=",
            "password=",
            "history_file=",
        ],
        exact: &[],
    };

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Each row: the arguments, then getopt's options and remaining
    /// arguments, or its error message. The answers are CPython 3.11's
    /// `getopt.getopt(args, shortopts, longopts)`.
    #[test]
    #[rustfmt::skip]
    fn as_python_parses() {
        type Opts<'a> = &'a [(&'a str, &'a str)];
        type Row<'a> = (Spec<'a>, &'a [&'a str], Result<(Opts<'a>, &'a [&'a str]), &'a str>);
        let other = Spec { short: "a:b", long: &["alpha=", "beta"], exact: &[] };
        let table: &[Row] = &[
            (CTL, &["-c", "f", "-s", "u", "tail", "-f"], Ok((&[("-c", "f"), ("-s", "u")], &["tail", "-f"]))),
            (CTL, &["-iuuser", "-p", "pw", "status", "-i"], Ok((&[("-i", ""), ("-u", "user"), ("-p", "pw")], &["status", "-i"]))),
            (CTL, &["--he"], Ok((&[("--help", "")], &[]))),
            (CTL, &["--h"], Err("option --h not a unique prefix")),
            (CTL, &["--history", "h"], Ok((&[("--history_file", "h")], &[]))),
            (CTL, &["--", "-i"], Ok((&[], &["-i"]))),
            (CTL, &["-", " -x"], Ok((&[], &["-", " -x"]))),
            (CTL, &["-x"], Err("option -x not recognized")),
            (CTL, &["-s"], Err("option -s requires argument")),
            (CTL, &["--serverurl"], Err("option --serverurl requires argument")),
            (CTL, &["--help=1"], Err("option --help must not have an argument")),
            (CTL, &["--serverurl=a=b", "x"], Ok((&[("--serverurl", "a=b")], &["x"]))),
            (CTL, &["--=x"], Err("option -- not a unique prefix")),
            (CTL, &["--"], Ok((&[], &[]))),
            (CTL, &["-hc"], Err("option -c requires argument")),
            (CTL, &["-ch"], Ok((&[("-c", "h")], &[]))),
            (CTL, &["-c", "-h"], Ok((&[("-c", "-h")], &[]))),
            (CTL, &["--interactive", "--username", "u", "--", "a"], Ok((&[("--interactive", ""), ("--username", "u")], &["a"]))),
            (CTL, &["-:"], Err("option -: not recognized")),
            (CTL, &["a", "-h"], Ok((&[], &["a", "-h"]))),
            (CTL, &["--pass=x"], Ok((&[("--password", "x")], &[]))),
            (CTL, &["--configuration="], Ok((&[("--configuration", "")], &[]))),
            (CTL, &["-c", ""], Ok((&[("-c", "")], &[]))),
            (CTL, &[], Ok((&[], &[]))),
            (other, &["--alpha", "1", "--b"], Ok((&[("--alpha", "1"), ("--beta", "")], &[]))),
            (other, &["--al=2", "-ab"], Ok((&[("--alpha", "2"), ("-a", "b")], &[]))),
            (other, &["-a"], Err("option -a requires argument")),
            (other, &["--be=1"], Err("option --beta must not have an argument")),
        ];
        for (spec, args, want) in table {
            let got = getopt(&strings(args), *spec).map_err(|e| e.msg);
            let want = want
                .map(|(opts, rest)| {
                    let opts = opts.iter().map(|(o, v)| (o.to_string(), v.to_string())).collect();
                    (opts, strings(rest))
                })
                .map_err(str::to_string);
            assert_eq!(got, want, "{args:?}");
        }
    }

    #[test]
    fn exact_names_are_never_prefixes() {
        let spec = Spec {
            exact: &["history-file="],
            ..CTL
        };
        let parse = |args: &[&str]| getopt(&strings(args), spec).map_err(|e| e.msg);
        let one = |o: &str, v: &str| Ok((vec![(o.to_string(), v.to_string())], vec![]));
        assert_eq!(parse(&["--history-file=h"]), one("--history-file", "h"));
        assert_eq!(parse(&["--history-file", "h"]), one("--history-file", "h"));
        // Python's prefixes still resolve as before.
        assert_eq!(parse(&["--history", "h"]), one("--history_file", "h"));
        assert_eq!(
            parse(&["--history-fil=f"]),
            Err("option --history-fil not recognized".into())
        );
        assert_eq!(
            parse(&["--history-file"]),
            Err("option --history-file requires argument".into())
        );
    }
}
