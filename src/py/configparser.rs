//! Python 3's `RawConfigParser(inline_comment_prefixes=(';', '#'),
//! strict=False)`: the INI dialect Supervisor reads its files with.
//!
//! Why hand-written rather than `rust-ini`: that crate neither remembers the
//! line a value came from (every error of ours names file and line) nor
//! implements configparser's continuation rule (a line indented deeper than
//! its key line continues the value, blank lines inside are kept, trailing
//! ones dropped) or its inline-comment rule (`;`/`#` only after whitespace).
//! The rules below follow `configparser.RawConfigParser._read` line by line:
//!
//! * `[name]` opens a section; names are case-sensitive; `[DEFAULT]` holds
//!   keys every section inherits. A repeated section merges into the first.
//! * `key = value` or `key: value` (first delimiter wins); keys lower-cased;
//!   a repeated key replaces the value (last wins) but keeps its position.
//! * A line whose first non-blank character is `;` or `#` is a comment; an
//!   inline `;`/`#` ends the value when preceded by whitespace (quotes do not
//!   protect it).
//! * A line with no delimiter is a parse error; text before the first header
//!   is the "no section headers" error. Both keep their Python wording.
//! * `%(here)s` is replaced textually by the file's directory as each file is
//!   read, which is what Supervisor's `expand_here` achieves for includes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::repr::py_repr;

/// Where a value or section was written, for error messages and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based; 0 means the file as a whole.
    pub line: usize,
}

/// A line configparser refuses, with its Python text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub origin: Origin,
    /// The section the line is in, if any.
    pub section: Option<String>,
    pub message: String,
}

/// A value as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    pub value: String,
    pub origin: Origin,
}

/// One section after merging every header of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSection {
    pub name: String,
    /// The first header of this name.
    pub origin: Origin,
    /// Keys (lower-cased) in first-definition order; last value wins.
    pub entries: Vec<(String, RawValue)>,
}

impl RawSection {
    fn set(&mut self, key: String, value: RawValue) -> usize {
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            self.entries[i].1 = value;
            i
        } else {
            self.entries.push((key, value));
            self.entries.len() - 1
        }
    }

    /// The value set in this section itself (not inherited from DEFAULT).
    pub fn own(&self, key: &str) -> Option<&RawValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Every section read so far (main file and includes share one namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ini {
    /// `[DEFAULT]` keys.
    pub defaults: Vec<(String, RawValue)>,
    /// Sections in order of first appearance.
    pub sections: Vec<RawSection>,
    /// Section name -> index in `sections` (a config may have thousands).
    index: HashMap<String, usize>,
}

/// Where the current key's lines are being collected.
#[derive(Clone, Copy)]
enum Target {
    Default,
    Section(usize),
}

impl Ini {
    pub fn section(&self, name: &str) -> Option<&RawSection> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    pub fn has_section(&self, name: &str) -> bool {
        self.section(name).is_some()
    }

    /// The value of `key` in `section`, falling back to `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&RawValue> {
        self.section(section)
            .and_then(|s| s.own(key))
            .or_else(|| self.defaults.iter().find(|(k, _)| k == key).map(|(_, v)| v))
    }

    /// Parse `text` (the contents of `file`) into this namespace. Parse
    /// errors are appended to `errors`; parsing goes on after them, so every
    /// bad line of every file is reported.
    /// `here` is the file's absolute directory (for `%(here)s`).
    pub fn read_str(&mut self, text: &str, file: &Path, here: &str, errors: &mut Vec<ParseError>) {
        let fname = file.to_string_lossy().into_owned();
        let at = |line| Origin {
            file: file.to_path_buf(),
            line,
        };

        let mut target: Option<Target> = None;
        // Key being collected: where, entry index, its lines.
        let mut current: Option<(Target, usize, Vec<String>)> = None;
        let mut indent_level = 0usize;
        let mut skipping_headerless = false;

        let lines: Vec<&str> = split_lines(text);
        for (idx, raw) in lines.iter().enumerate() {
            let lineno = idx + 1;
            let line = raw.trim_end_matches(['\n', '\r']);
            let comment_start = comment_start(line);
            let value = match comment_start {
                Some(c) => line[..c].trim(),
                None => line.trim(),
            };
            if value.is_empty() {
                // Blank lines (not comments) inside a value are kept.
                if comment_start.is_none() {
                    if let Some((_, _, lines)) = current.as_mut() {
                        lines.push(String::new());
                    }
                }
                continue;
            }
            let cur_indent = line.chars().take_while(|c| c.is_whitespace()).count();
            if current.is_some() && cur_indent > indent_level {
                if let Some((_, _, lines)) = current.as_mut() {
                    lines.push(value.replace("%(here)s", here));
                }
                continue;
            }
            indent_level = cur_indent;
            if let Some(header) = section_header(value) {
                self.finish(&mut current);
                skipping_headerless = false;
                target = Some(self.open_section(header, at(lineno)));
                continue;
            }
            let Some(t) = target else {
                if !skipping_headerless {
                    errors.push(ParseError {
                        origin: at(lineno),
                        section: None,
                        message: format!(
                            "File contains no section headers.\nfile: {}, line: {}\n{}",
                            py_repr(&fname),
                            lineno,
                            py_repr(raw)
                        ),
                    });
                    skipping_headerless = true;
                }
                continue;
            };
            self.finish(&mut current);
            match split_option(value) {
                Some((key, val)) if !key.is_empty() => {
                    let i = self.start_key(t, key.to_lowercase(), at(lineno));
                    current = Some((t, i, vec![val.replace("%(here)s", here)]));
                }
                _ => errors.push(ParseError {
                    origin: at(lineno),
                    section: match t {
                        Target::Default => Some("DEFAULT".into()),
                        Target::Section(s) => Some(self.sections[s].name.clone()),
                    },
                    message: format!(
                        "Source contains parsing errors: {}\n\t[line {:2}]: {}",
                        py_repr(&fname),
                        lineno,
                        py_repr(raw)
                    ),
                }),
            }
        }
        self.finish(&mut current);
    }

    /// The section a `[header]` opens (a repeated one merges into the first).
    fn open_section(&mut self, header: &str, origin: Origin) -> Target {
        if header == "DEFAULT" {
            return Target::Default;
        }
        if let Some(&i) = self.index.get(header) {
            return Target::Section(i);
        }
        self.index.insert(header.to_string(), self.sections.len());
        self.sections.push(RawSection {
            name: header.to_string(),
            origin,
            entries: Vec::new(),
        });
        Target::Section(self.sections.len() - 1)
    }

    /// Make room for `key` in `t` (a repeated key keeps its place, last
    /// value wins); its index there.
    fn start_key(&mut self, t: Target, key: String, origin: Origin) -> usize {
        let rv = RawValue {
            value: String::new(),
            origin,
        };
        match t {
            Target::Section(s) => self.sections[s].set(key, rv),
            Target::Default => match self.defaults.iter().position(|(k, _)| *k == key) {
                Some(i) => {
                    self.defaults[i].1 = rv;
                    i
                }
                None => {
                    self.defaults.push((key, rv));
                    self.defaults.len() - 1
                }
            },
        }
    }

    /// Join the collected lines of the current key into its value.
    fn finish(&mut self, current: &mut Option<(Target, usize, Vec<String>)>) {
        if let Some((t, i, lines)) = current.take() {
            let joined = lines.join("\n").trim_end().to_string();
            match t {
                Target::Default => self.defaults[i].1.value = joined,
                Target::Section(s) => self.sections[s].entries[i].1.value = joined,
            }
        }
    }
}

/// Lines with their terminators (so a parse error can show `'line\n'` as
/// Python does).
fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// Where a comment starts: a full-line `;`/`#`, or an inline one at the
/// start of the line or after whitespace.
fn comment_start(line: &str) -> Option<usize> {
    let t = line.trim();
    if t.starts_with(';') || t.starts_with('#') {
        return Some(0);
    }
    let mut prev: Option<char> = None;
    for (i, c) in line.char_indices() {
        if (c == ';' || c == '#') && prev.map_or(true, char::is_whitespace) {
            return Some(i);
        }
        prev = Some(c);
    }
    None
}

/// Python's `SECTCRE` (`\[(?P<header>.+)\]`, matched at the start): the
/// header runs to the *last* `]`.
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    if end == 0 {
        return None;
    }
    Some(&rest[..end])
}

/// Python's `OPTCRE`: key up to the first `=` or `:`, both sides stripped.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let i = value.find(['=', ':'])?;
    Some((value[..i].trim_end(), value[i + 1..].trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value as `RawConfigParser.get` returns it (`None`: no such option)
    /// and the line of its key (0: not checked).
    type Want = (&'static str, &'static str, Option<&'static str>, usize);
    /// A refused line and Python's text for it.
    type Refused = (usize, &'static str);

    /// (file `/etc/t.conf`, what it holds, the lines refused with Python's
    /// text). Every expectation is what Python 3.11's configparser gives.
    const CASES: &[(&str, &[Want], &[Refused])] = &[
        // Keys lower-cased, first delimiter wins, both delimiters.
        (
            "[program:x]\nCommand = /bin/cat a=b\nurl: http://h:1\n",
            &[
                ("program:x", "command", Some("/bin/cat a=b"), 2),
                ("program:x", "url", Some("http://h:1"), 3),
            ],
            &[],
        ),
        // Section names are case-sensitive.
        (
            "[Program:x]\na=1\n",
            &[("program:x", "a", None, 0), ("Program:x", "a", Some("1"), 2)],
            &[],
        ),
        // Comments: whole lines, and inline only after whitespace.
        (
            "; top\n[s]\n# c\na=b ;c\nb=b;c\nc=x\t#y\nd=sh -c \"a ; b\"\ne=#z\n  ;indented comment\n",
            &[
                ("s", "a", Some("b"), 4),
                ("s", "b", Some("b;c"), 5),
                ("s", "c", Some("x"), 6),
                ("s", "d", Some("sh -c \"a"), 7),
                ("s", "e", Some("#z"), 8),
            ],
            &[],
        ),
        // Continuation lines: blank lines inside kept, trailing ones dropped.
        (
            "[s]\ncommand=/bin/echo\n  multi\n\n  line\n\n\nnext=1\n",
            &[
                ("s", "command", Some("/bin/echo\nmulti\n\nline"), 2),
                ("s", "next", Some("1"), 8),
            ],
            &[],
        ),
        // A comment line between continuation lines is skipped, not kept.
        ("[s]\nfiles=a\n ; note\n b\n", &[("s", "files", Some("a\nb"), 2)], &[]),
        // Indented key lines after a header are plain keys.
        (
            "[s]\n  a=1\n  b=2\n",
            &[("s", "a", Some("1"), 2), ("s", "b", Some("2"), 3)],
            &[],
        ),
        // DEFAULT is inherited; a repeated section merges, last value wins
        // (in its first position, on the line it was last written).
        (
            "[DEFAULT]\nstartsecs=5\n[a]\nx=1\n[b]\n[a]\nx=2\ny=3\n[b]\nstartsecs=7\n",
            &[
                ("a", "x", Some("2"), 7),
                ("a", "y", Some("3"), 8),
                ("a", "startsecs", Some("5"), 2),
                ("b", "startsecs", Some("7"), 10),
            ],
            &[],
        ),
        // Every bad line is reported, with Python's text.
        (
            "[s]\na=1\n\ngarbage line\nb=2\nmore garbage",
            &[("s", "a", Some("1"), 2), ("s", "b", Some("2"), 5)],
            &[
                (
                    4,
                    "Source contains parsing errors: '/etc/t.conf'\n\t[line  4]: 'garbage line\\n'",
                ),
                (
                    6,
                    "Source contains parsing errors: '/etc/t.conf'\n\t[line  6]: 'more garbage'",
                ),
            ],
        ),
        (
            "foo=bar\n[s]\n",
            &[],
            &[(
                1,
                "File contains no section headers.\nfile: '/etc/t.conf', line: 1\n'foo=bar\\n'",
            )],
        ),
        // %(here)s is replaced as the file is read; a header runs to the
        // last `]`, and text after it is ignored.
        ("[a]b]\nx=%(here)s/log\n", &[("a]b", "x", Some("/etc/log"), 2)], &[]),
        ("[s] trailing\nx=1\n", &[("s", "x", Some("1"), 2)], &[]),
    ];

    #[test]
    fn read_like_configparser() {
        for &(text, values, errors) in CASES {
            let mut ini = Ini::default();
            let mut got_errors = Vec::new();
            ini.read_str(text, Path::new("/etc/t.conf"), "/etc", &mut got_errors);
            for &(section, key, value, line) in values {
                let got = ini.get(section, key);
                assert_eq!(
                    got.map(|v| v.value.as_str()),
                    value,
                    "{text:?}: [{section}] {key}"
                );
                if line > 0 {
                    assert_eq!(
                        got.unwrap().origin.line,
                        line,
                        "{text:?}: [{section}] {key}"
                    );
                }
            }
            let got: Vec<(usize, &str)> = got_errors
                .iter()
                .map(|e| (e.origin.line, e.message.as_str()))
                .collect();
            assert_eq!(got, errors, "{text:?}");
        }
    }

    #[test]
    fn sections_merge_in_first_appearance_order() {
        let mut ini = Ini::default();
        ini.read_str("[a]\n[b]\n[a]\n", Path::new("/t"), "/", &mut Vec::new());
        let names: Vec<&str> = ini.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(ini.section("a").unwrap().origin.line, 1);
    }
}
