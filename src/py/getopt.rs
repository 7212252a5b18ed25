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

    /// Options with every case getopt tells apart: a short option with and
    /// without a value, `?`, a long name that is also the prefix of
    /// another, two names sharing a prefix, `_` in a name.
    const SPEC: Spec = Spec {
        short: "ab:?x",
        long: &["alpha", "alpha-beta=", "gamma=", "gap", "delta_x="],
        exact: &[],
    };

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn parse(spec: Spec, args: &[&str]) -> Result<Parsed, String> {
        getopt(&strings(args), spec).map_err(|e| e.msg)
    }

    /// Each row: the arguments, then getopt's options and remaining
    /// arguments, or its error message. The answers are CPython 3.11's
    /// `getopt.getopt(args, "ab:?x", ["alpha", "alpha-beta=", "gamma=",
    /// "gap", "delta_x="])`. (supervisorctl's own options are tested
    /// through `ctl::CtlArgs`.)
    #[test]
    #[rustfmt::skip]
    fn as_python_parses() {
        type Opts<'a> = &'a [(&'a str, &'a str)];
        type Row<'a> = (&'a [&'a str], Result<(Opts<'a>, &'a [&'a str]), &'a str>);
        let table: &[Row] = &[
            (&["-a", "-b", "v", "rest"], Ok((&[("-a", ""), ("-b", "v")], &["rest"]))),
            (&["-abv"], Ok((&[("-a", ""), ("-b", "v")], &[]))),
            (&["-ba"], Ok((&[("-b", "a")], &[]))),
            (&["-?"], Ok((&[("-?", "")], &[]))),
            (&["-:"], Err("option -: not recognized")),
            (&["-z"], Err("option -z not recognized")),
            (&["--alpha"], Ok((&[("--alpha", "")], &[]))),
            (&["--alp"], Err("option --alp not a unique prefix")),
            (&["--alpha-"], Err("option --alpha-beta requires argument")),
            (&["--alpha-b=1"], Ok((&[("--alpha-beta", "1")], &[]))),
            (&["--ga"], Err("option --ga not a unique prefix")),
            (&["--gam", "x"], Ok((&[("--gamma", "x")], &[]))),
            (&["--gap=1"], Err("option --gap must not have an argument")),
            (&["--delta"], Err("option --delta_x requires argument")),
            (&["--delta-x=1"], Err("option --delta-x not recognized")),
            (&["--", "-a"], Ok((&[], &["-a"]))),
            (&["-", "-a"], Ok((&[], &["-", "-a"]))),
            (&["x", "-a"], Ok((&[], &["x", "-a"]))),
            (&["--=x"], Err("option -- not a unique prefix")),
            (&[], Ok((&[], &[]))),
            (&["-b"], Err("option -b requires argument")),
            (&["--gamma"], Err("option --gamma requires argument")),
            (&["--gamma=", "x"], Ok((&[("--gamma", "")], &["x"]))),
            (&["-b", ""], Ok((&[("-b", "")], &[]))),
            (&["-b", "--"], Ok((&[("-b", "--")], &[]))),
            (&["--gap", "-x", "--", "--gap"], Ok((&[("--gap", ""), ("-x", "")], &["--gap"]))),
        ];
        for (args, want) in table {
            let want = want
                .map(|(opts, rest)| {
                    let opts = opts.iter().map(|(o, v)| (o.to_string(), v.to_string())).collect();
                    (opts, strings(rest))
                })
                .map_err(str::to_string);
            assert_eq!(parse(SPEC, args), want, "{args:?}");
        }
    }

    #[test]
    fn exact_names_are_never_prefixes() {
        let spec = Spec {
            exact: &["delta-x="],
            ..SPEC
        };
        let one = |o: &str, v: &str| Ok((vec![(o.to_string(), v.to_string())], vec![]));
        assert_eq!(parse(spec, &["--delta-x=1"]), one("--delta-x", "1"));
        assert_eq!(parse(spec, &["--delta-x", "1"]), one("--delta-x", "1"));
        // Python's prefixes still resolve as before.
        assert_eq!(parse(spec, &["--delta", "1"]), one("--delta_x", "1"));
        assert_eq!(
            parse(spec, &["--delta-=1"]),
            Err("option --delta- not recognized".into())
        );
        assert_eq!(
            parse(spec, &["--delta-x"]),
            Err("option --delta-x requires argument".into())
        );
    }
}
