//! The INI reader: Supervisor's dialect, i.e. Python 3's
//! `RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)`.
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

use std::path::Path;

use super::error::ConfigError;
use super::signal::py_repr;
use super::types::Origin;

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
}

/// Where the current key's lines are being collected.
#[derive(Clone, Copy)]
enum Target {
    Default,
    Section(usize),
}

impl Ini {
    pub fn section(&self, name: &str) -> Option<&RawSection> {
        self.sections.iter().find(|s| s.name == name)
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
    pub fn read_str(&mut self, text: &str, file: &Path, here: &str, errors: &mut Vec<ConfigError>) {
        let fname = file.to_string_lossy().into_owned();

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
                let origin = Origin {
                    file: file.to_path_buf(),
                    line: lineno,
                };
                target = Some(if header == "DEFAULT" {
                    Target::Default
                } else if let Some(i) = self.sections.iter().position(|s| s.name == header) {
                    Target::Section(i)
                } else {
                    self.sections.push(RawSection {
                        name: header.to_string(),
                        origin,
                        entries: Vec::new(),
                    });
                    Target::Section(self.sections.len() - 1)
                });
                continue;
            }
            let Some(t) = target else {
                if !skipping_headerless {
                    errors.push(ConfigError {
                        file: file.to_path_buf(),
                        line: lineno,
                        section: None,
                        option: None,
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
                    let key = key.to_lowercase();
                    let rv = RawValue {
                        value: String::new(),
                        origin: Origin {
                            file: file.to_path_buf(),
                            line: lineno,
                        },
                    };
                    let i = match t {
                        Target::Default => {
                            if let Some(i) = self.defaults.iter().position(|(k, _)| *k == key) {
                                self.defaults[i].1 = rv;
                                i
                            } else {
                                self.defaults.push((key, rv));
                                self.defaults.len() - 1
                            }
                        }
                        Target::Section(s) => self.sections[s].set(key, rv),
                    };
                    current = Some((t, i, vec![val.replace("%(here)s", here)]));
                }
                _ => errors.push(ConfigError {
                    file: file.to_path_buf(),
                    line: lineno,
                    section: match t {
                        Target::Default => Some("DEFAULT".into()),
                        Target::Section(s) => Some(self.sections[s].name.clone()),
                    },
                    option: None,
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

    fn parse(text: &str) -> (Ini, Vec<ConfigError>) {
        let mut ini = Ini::default();
        let mut errors = Vec::new();
        ini.read_str(text, Path::new("/etc/t.conf"), "/etc", &mut errors);
        (ini, errors)
    }

    fn get<'a>(ini: &'a Ini, s: &str, k: &str) -> Option<&'a str> {
        ini.get(s, k).map(|v| v.value.as_str())
    }

    #[test]
    fn keys_lowercased_first_delimiter_and_line_numbers() {
        let (ini, e) = parse("[program:x]\nCommand = /bin/cat a=b\nurl: http://h:1\n");
        assert!(e.is_empty());
        assert_eq!(get(&ini, "program:x", "command"), Some("/bin/cat a=b"));
        assert_eq!(get(&ini, "program:x", "url"), Some("http://h:1"));
        assert_eq!(ini.get("program:x", "url").unwrap().origin.line, 3);
    }

    #[test]
    fn section_names_case_sensitive() {
        let (ini, _) = parse("[Program:x]\na=1\n");
        assert!(!ini.has_section("program:x"));
        assert!(ini.has_section("Program:x"));
    }

    #[test]
    fn comments_full_line_and_inline_after_whitespace_only() {
        let (ini, e) = parse(
            "; top\n[s]\n# c\na=b ;c\nb=b;c\nc=x\t#y\nd=sh -c \"a ; b\"\ne=#z\n  ;indented comment\n",
        );
        assert!(e.is_empty());
        assert_eq!(get(&ini, "s", "a"), Some("b"));
        assert_eq!(get(&ini, "s", "b"), Some("b;c"));
        assert_eq!(get(&ini, "s", "c"), Some("x"));
        assert_eq!(get(&ini, "s", "d"), Some("sh -c \"a"));
        assert_eq!(get(&ini, "s", "e"), Some("#z"));
    }

    #[test]
    fn continuation_lines_blank_lines_kept_trailing_dropped() {
        let (ini, e) = parse("[s]\ncommand=/bin/echo\n  multi\n\n  line\n\n\nnext=1\n");
        assert!(e.is_empty());
        assert_eq!(get(&ini, "s", "command"), Some("/bin/echo\nmulti\n\nline"));
        assert_eq!(get(&ini, "s", "next"), Some("1"));
        // A comment line between continuation lines is skipped, not kept.
        let (ini, _) = parse("[s]\nfiles=a\n ; note\n b\n");
        assert_eq!(get(&ini, "s", "files"), Some("a\nb"));
        // Indented key lines after a header are plain keys.
        let (ini, _) = parse("[s]\n  a=1\n  b=2\n");
        assert_eq!(get(&ini, "s", "a"), Some("1"));
        assert_eq!(get(&ini, "s", "b"), Some("2"));
    }

    #[test]
    fn default_inherited_duplicates_merge_last_wins() {
        let (ini, e) =
            parse("[DEFAULT]\nstartsecs=5\n[a]\nx=1\n[b]\n[a]\nx=2\ny=3\n[b]\nstartsecs=7\n");
        assert!(e.is_empty());
        assert_eq!(ini.sections.len(), 2);
        assert_eq!(get(&ini, "a", "x"), Some("2"));
        assert_eq!(get(&ini, "a", "y"), Some("3"));
        assert_eq!(get(&ini, "a", "startsecs"), Some("5"));
        assert_eq!(get(&ini, "b", "startsecs"), Some("7"));
        assert_eq!(ini.section("a").unwrap().origin.line, 3);
        assert_eq!(ini.get("a", "x").unwrap().origin.line, 7);
    }

    #[test]
    fn parse_errors_with_python_texts_and_all_reported() {
        let (_, e) = parse("[s]\na=1\n\ngarbage line\nb=2\nmore garbage");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 4);
        assert_eq!(
            e[0].message,
            "Source contains parsing errors: '/etc/t.conf'\n\t[line  4]: 'garbage line\\n'"
        );
        assert_eq!(
            e[1].message,
            "Source contains parsing errors: '/etc/t.conf'\n\t[line  6]: 'more garbage'"
        );
        let (_, e) = parse("foo=bar\n[s]\n");
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].message,
            "File contains no section headers.\nfile: '/etc/t.conf', line: 1\n'foo=bar\\n'"
        );
    }

    #[test]
    fn here_replaced_textually_and_header_to_last_bracket() {
        let (ini, _) = parse("[a]b]\nx=%(here)s/log\n");
        assert_eq!(get(&ini, "a]b", "x"), Some("/etc/log"));
        let (ini, _) = parse("[s] trailing\nx=1\n");
        assert_eq!(get(&ini, "s", "x"), Some("1"));
    }
}
