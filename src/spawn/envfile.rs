//! `environment_file` (issue 18): systemd's `EnvironmentFile=` syntax,
//! read at each spawn (in [`super::prepare_with`], before fork), so an edit
//! of the file takes effect at the next start without a reread.
//!
//! The syntax is systemd's (systemd.exec(5), "EnvironmentFile="), parsed
//! here by a small state machine because no crate reads it the same way:
//!
//! * one `KEY=VALUE` per line; blank lines, lines starting with `#` or `;`
//!   and lines without `=` are ignored (a comment ending in a backslash
//!   goes on to the next line, as in systemd);
//! * around the key and the value, whitespace goes; inside an unquoted
//!   value it stays, a backslash keeps the next character and a backslash
//!   at the end of a line joins the next line;
//! * a value that starts with `'` is taken verbatim up to the next `'`, one
//!   that starts with `"` up to the next unescaped `"` (`\"`, `\\`, `` \` ``,
//!   `\$` and a backslash-newline are escapes, any other backslash stays);
//!   both may span lines, and what follows the closing quote continues the
//!   value.
//!
//! Unlike systemd, which logs and skips it, a key that is not a valid
//! variable name is an error naming the file and line: the program would
//! otherwise start without a variable someone meant to give it.

use std::io;
use std::path::Path;

/// Why the file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// Reading failed (a missing mandatory file is `ENOENT`).
    #[error("couldn't read environment_file {path}: {}", crate::sys::errno::errno_text(.source.raw_os_error().unwrap_or(0)))]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    /// A line the program would get wrong.
    #[error("environment_file {path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
}

/// The `(key, value)` pairs of the file at `path`, in order; an absent
/// file is empty when `optional`.
pub fn read(path: &Path, optional: bool) -> Result<Vec<(String, String)>, EnvFileError> {
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if optional && e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(EnvFileError::Read {
                path: shown,
                source,
            })
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| EnvFileError::Line {
        path: shown.clone(),
        line: 0,
        message: "not UTF-8 text".into(),
    })?;
    parse(&text).map_err(|(line, message)| EnvFileError::Line {
        path: shown,
        line,
        message,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    Single,
    Double,
    DoubleEscape,
    Comment,
    CommentEscape,
}

/// Parse the text of an environment file; an error is `(line, message)`.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    use State::*;
    let mut out = Vec::new();
    let (mut key, mut value) = (String::new(), String::new());
    // Where the value's trailing whitespace starts, for an unquoted value.
    let mut trim_at: Option<usize> = None;
    let (mut line, mut key_line) = (1usize, 1usize);
    let mut state = PreKey;
    for c in text.chars() {
        let newline = c == '\n';
        state = match (state, c) {
            (PreKey, '#' | ';') => Comment,
            (PreKey, c) if c.is_whitespace() => PreKey,
            (PreKey, c) => {
                key.clear();
                key.push(c);
                key_line = line;
                Key
            }
            (Key, '\n') => PreKey,
            (Key, '=') => {
                value.clear();
                trim_at = None;
                PreValue
            }
            (Key, c) => {
                key.push(c);
                Key
            }
            (PreValue | Value, '\n') => {
                push(&mut out, &key, &mut value, trim_at, key_line)?;
                PreKey
            }
            (PreValue, '\'') => Single,
            (PreValue, '"') => Double,
            (PreValue | Value, '\\') => {
                trim_at = None;
                ValueEscape
            }
            (PreValue, c) if c.is_whitespace() => PreValue,
            (PreValue | Value, c) => {
                if c.is_whitespace() {
                    trim_at.get_or_insert(value.len());
                } else {
                    trim_at = None;
                }
                value.push(c);
                Value
            }
            (ValueEscape, '\n') => Value,
            (ValueEscape, c) => {
                value.push(c);
                Value
            }
            (Single, '\'') | (Double, '"') => {
                trim_at = None;
                PreValue
            }
            (Single, c) => {
                value.push(c);
                Single
            }
            (Double, '\\') => DoubleEscape,
            (Double, c) => {
                value.push(c);
                Double
            }
            (DoubleEscape, '\n') => Double,
            (DoubleEscape, c) => {
                if !matches!(c, '"' | '\\' | '`' | '$') {
                    value.push('\\');
                }
                value.push(c);
                Double
            }
            (Comment, '\\') => CommentEscape,
            (Comment, '\n') => PreKey,
            (Comment, _) | (CommentEscape, _) => Comment,
        };
        if newline {
            line += 1;
        }
    }
    if matches!(
        state,
        PreValue | Value | ValueEscape | Single | Double | DoubleEscape
    ) {
        push(&mut out, &key, &mut value, trim_at, key_line)?;
    }
    Ok(out)
}

fn push(
    out: &mut Vec<(String, String)>,
    key: &str,
    value: &mut String,
    trim_at: Option<usize>,
    line: usize,
) -> Result<(), (usize, String)> {
    let key = key.trim_end();
    if !valid_name(key) {
        return Err((
            line,
            format!("{} is not a valid variable name", crate::py::py_repr(key)),
        ));
    }
    if let Some(at) = trim_at {
        value.truncate(at);
    }
    out.push((key.to_string(), std::mem::take(value)));
    Ok(())
}

/// systemd's rule for a variable name: letters, digits and `_`, not
/// starting with a digit.
fn valid_name(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()
    }

    fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn plain_lines_comments_and_whitespace() {
        let text = "# comment\n; also\n\n  A=1\nB = two words  \nnot an assignment\nC=\nD=x=y\n";
        assert_eq!(
            pairs(text),
            kv(&[("A", "1"), ("B", "two words"), ("C", ""), ("D", "x=y")])
        );
    }

    #[test]
    fn quotes_and_escapes() {
        let text = concat!(
            "S='single $HOME \\n'\n",
            "D=\"a \\\"b\\\" \\$x \\n c\"\n",
            "M=\"line one\nline two\"\n",
            "U=foo\\ bar\\\\\n",
            "J=joined\\\n here\n",
            "Q=a\"b\"\n",
            "T='x'y  \n",
        );
        assert_eq!(
            pairs(text),
            kv(&[
                ("S", "single $HOME \\n"),
                ("D", "a \"b\" $x \\n c"),
                ("M", "line one\nline two"),
                ("U", "foo bar\\"),
                ("J", "joined here"),
                ("Q", "a\"b\""),
                ("T", "xy"),
            ])
        );
    }

    #[test]
    fn a_last_line_without_newline_and_a_continued_comment() {
        assert_eq!(pairs("#c \\\nA=hidden\nB=1"), kv(&[("B", "1")]));
    }

    #[test]
    fn a_bad_name_is_an_error_with_its_line() {
        assert_eq!(
            parse("A=1\n\nFOO BAR=2\n"),
            Err((3, "'FOO BAR' is not a valid variable name".into()))
        );
        assert!(parse("1X=2").is_err());
    }

    #[test]
    fn reading_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.env");
        assert_eq!(read(&path, true).unwrap(), vec![]);
        let e = read(&path, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("couldn't read environment_file {}: ENOENT", path.display())
        );
        std::fs::write(&path, "A=1\n").unwrap();
        assert_eq!(read(&path, false).unwrap(), kv(&[("A", "1")]));
    }
}
