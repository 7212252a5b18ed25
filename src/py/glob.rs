//! Python's `glob.glob(pattern)` (3.11, `recursive=False`) and the `fnmatch`
//! rules under it, for `[include] files=`.
//!
//! Supervisor hands each pattern to `glob.glob`, whose rules differ from the
//! shell's and from the `glob` crate's in ways a config notices:
//!
//! - `*`, `?` and `[...]` never match a name starting with `.` unless the
//!   pattern component itself starts with `.` (so `conf.d/*` skips editor
//!   droppings like `.web.conf.swp`);
//! - `**` is no more than `*` (Supervisor does not pass `recursive=True`);
//! - there are no invalid patterns: an unclosed `[` is a literal `[`, and a
//!   reversed range such as `[z-a]` is dropped, as `fnmatch.translate` does;
//! - the matches come in directory order; the caller sorts them as strings.
//!
//! Names that are not UTF-8 are skipped (Python would carry them as
//! surrogate escapes; a config file named so is not worth the complexity).

use std::fs;

/// `glob.glob(pattern)`: the existing paths matching `pattern`, unsorted.
pub fn glob(pattern: &str) -> Vec<String> {
    iglob(pattern, false)
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// `os.path.split` (posix).
fn split(p: &str) -> (&str, &str) {
    let i = p.rfind('/').map_or(0, |i| i + 1);
    let (head, tail) = p.split_at(i);
    if !head.is_empty() && !head.bytes().all(|b| b == b'/') {
        (head.trim_end_matches('/'), tail)
    } else {
        (head, tail)
    }
}

/// `os.path.join(dir, name)` for a `name` without `/`.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn lexists(p: &str) -> bool {
    fs::symlink_metadata(p).is_ok()
}

fn isdir(p: &str) -> bool {
    fs::metadata(p).is_ok_and(|m| m.is_dir())
}

/// `glob._iglob`; `dironly` keeps directories only (for the parts of a
/// pattern before its last `/`).
fn iglob(pathname: &str, dironly: bool) -> Vec<String> {
    let (dirname, basename) = split(pathname);
    if !has_magic(pathname) {
        let found = if basename.is_empty() {
            // A pattern ending in '/' matches directories only.
            isdir(dirname)
        } else {
            lexists(pathname)
        };
        return if found {
            vec![pathname.to_string()]
        } else {
            Vec::new()
        };
    }
    if dirname.is_empty() {
        return glob1(".", basename, dironly);
    }
    let dirs = if dirname != pathname && has_magic(dirname) {
        iglob(dirname, true)
    } else {
        vec![dirname.to_string()]
    };
    let mut out = Vec::new();
    for dir in dirs {
        let names = if has_magic(basename) {
            glob1(&dir, basename, dironly)
        } else {
            glob0(&dir, basename)
        };
        out.extend(names.iter().map(|n| join(&dir, n)));
    }
    out
}

/// `glob._glob1`: the names in `dir` matching `pattern`.
fn glob1(dir: &str, pattern: &str, dironly: bool) -> Vec<String> {
    let Ok(entries) = fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let pat = Pattern::new(pattern);
    let hidden_ok = pattern.starts_with('.');
    entries
        .filter_map(Result::ok)
        .filter(|e| !dironly || fs::metadata(e.path()).is_ok_and(|m| m.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| hidden_ok || !n.starts_with('.'))
        .filter(|n| pat.matches(n))
        .collect()
}

/// `glob._glob0`: `basename` in `dir` if it exists (`""`: `dir` is a dir).
fn glob0(dir: &str, basename: &str) -> Vec<String> {
    let found = if basename.is_empty() {
        isdir(dir)
    } else {
        lexists(&join(dir, basename))
    };
    if found {
        vec![basename.to_string()]
    } else {
        Vec::new()
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    Any,
    Star,
    /// `[...]`: inclusive ranges (a single char is `(c, c)`), negated or not.
    Class(bool, Vec<(char, char)>),
}

/// A compiled `fnmatch` pattern (`fnmatch.translate`, matched in full).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(Vec<Tok>);

impl Pattern {
    pub fn new(pat: &str) -> Pattern {
        let p: Vec<char> = pat.chars().collect();
        let n = p.len();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < n {
            let c = p[i];
            i += 1;
            match c {
                '*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                }
                '?' => toks.push(Tok::Any),
                '[' => {
                    let mut j = i;
                    if j < n && p[j] == '!' {
                        j += 1;
                    }
                    if j < n && p[j] == ']' {
                        j += 1;
                    }
                    while j < n && p[j] != ']' {
                        j += 1;
                    }
                    if j >= n {
                        toks.push(Tok::Lit('['));
                    } else {
                        toks.push(class(&p[i..j]));
                        i = j + 1;
                    }
                }
                c => toks.push(Tok::Lit(c)),
            }
        }
        Pattern(toks)
    }

    pub fn matches(&self, name: &str) -> bool {
        let s: Vec<char> = name.chars().collect();
        let t = &self.0;
        // Iterative wildcard matching, backtracking to the last `*`.
        let (mut ti, mut si) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            let one = match t.get(ti) {
                Some(Tok::Lit(c)) => *c == s[si],
                Some(Tok::Any) => true,
                Some(Tok::Class(neg, items)) => {
                    items.iter().any(|&(lo, hi)| (lo..=hi).contains(&s[si])) != *neg
                }
                Some(Tok::Star) => {
                    star = Some((ti, si));
                    ti += 1;
                    continue;
                }
                None => false,
            };
            if one {
                ti += 1;
                si += 1;
            } else if let Some((st, ss)) = star {
                ti = st + 1;
                si = ss + 1;
                star = Some((st, ss + 1));
            } else {
                return false;
            }
        }
        t[ti..].iter().all(|x| *x == Tok::Star)
    }
}

/// The body of a `[...]` (between the brackets) as `fnmatch.translate`
/// makes it a regex set, and as `re` then reads that set: every char is a
/// literal except the hyphens fnmatch keeps as ranges.
fn class(stuff: &[char]) -> Tok {
    // fnmatch's chunks: split at range hyphens. The first char (after a
    // leading '!') is never a range hyphen, nor the char after a range's
    // end.
    let mut chunks: Vec<Vec<char>> = Vec::new();
    if stuff.contains(&'-') {
        let mut i = 0;
        let mut k = if stuff.first() == Some(&'!') { 2 } else { 1 };
        while let Some(off) = stuff
            .get(k..)
            .and_then(|r| r.iter().position(|&c| c == '-'))
        {
            let at = k + off;
            chunks.push(stuff[i..at].to_vec());
            i = at + 1;
            k = at + 3;
        }
        let last = stuff[i..].to_vec();
        if last.is_empty() {
            if let Some(c) = chunks.last_mut() {
                c.push('-');
            }
        } else {
            chunks.push(last);
        }
        // Remove empty ranges (a reversed range matches nothing in fnmatch).
        for k in (1..chunks.len()).rev() {
            let (Some(&a), Some(&b)) = (chunks[k - 1].last(), chunks[k].first()) else {
                continue;
            };
            if a > b {
                let mut merged = chunks[k - 1][..chunks[k - 1].len() - 1].to_vec();
                merged.extend_from_slice(&chunks[k][1..]);
                chunks[k - 1] = merged;
                chunks.remove(k);
            }
        }
    } else {
        chunks.push(stuff.to_vec());
    }
    // The regex set: literals, with `None` for a hyphen that makes a range.
    let mut set: Vec<Option<char>> = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        if n > 0 {
            set.push(None);
        }
        set.extend(chunk.iter().map(|&c| Some(c)));
    }
    let negated = set.first() == Some(&Some('!'));
    if negated {
        set.remove(0);
    }
    if set.is_empty() {
        // `[]`-like: never matches; negated: any char.
        return Tok::Class(negated, Vec::new());
    }
    // `re`'s reading of the set: `x-y` is a range, a hyphen elsewhere is
    // itself.
    let mut items = Vec::new();
    let mut i = 0;
    while i < set.len() {
        let lo = set[i].unwrap_or('-');
        if set.get(i + 1) == Some(&None) && i + 2 < set.len() {
            let hi = set[i + 2].unwrap_or('-');
            if lo <= hi {
                items.push((lo, hi));
            }
            i += 3;
        } else {
            items.push((lo, lo));
            i += 1;
        }
    }
    Tok::Class(negated, items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, name, `fnmatch.fnmatchcase(name, pattern)` in Python 3.11):
    /// an unclosed `[` is literal, a hyphen first or last or after a range
    /// is itself, a reversed range matches nothing.
    const FNMATCH: &[(&str, &str, bool)] = &[
        ("*.conf", "a.conf", true),
        ("*.conf", ".conf", true),
        ("**.conf", "a.conf", true),
        ("*.conf", "a.conf~", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("[ab].conf", "b.conf", true),
        ("[!ab].conf", "b.conf", false),
        ("[!ab].conf", "c.conf", true),
        ("[a-c]", "b", true),
        ("[a-c]", "d", false),
        ("[]]", "]", true),
        ("[!]]", "a", true),
        ("[!]]", "]", false),
        ("[ab.conf", "[ab.conf", true),
        ("[ab.conf", "a", false),
        ("[-a]", "-", true),
        ("[a-]", "-", true),
        ("[a-b-c]", "-", true),
        ("[a-b-c]", "c", true),
        ("[a-b-c]", "bb", false),
        ("[z-a]", "m", false),
        ("[!z-a]", "m", true),
        ("[xz-a]", "x", true),
        ("*a*b*", "xxaxxbxx", true),
        ("*a*b*", "xxbxxaxx", false),
        ("a\\b", "a\\b", true),
    ];

    /// (pattern under the tree below, `sorted(glob.glob(pattern))`).
    const GLOB: &[(&str, &[&str])] = &[
        ("x/*", &["x/[ab.conf", "x/a.conf", "x/y"]),
        ("x/.*", &["x/.h.conf", "x/.hidden"]),
        ("x/**/*.conf", &["x/y/1.conf"]),
        ("x/[ab.conf", &["x/[ab.conf"]),
        ("*/p.conf", &["a-b/p.conf", "a/p.conf"]),
        ("x/a.conf", &["x/a.conf"]),
        ("x/nope.conf", &[]),
        ("*/", &["a-b/", "a/", "x/"]),
        ("x/*/", &["x/y/"]),
    ];

    #[test]
    fn fnmatch_like_python() {
        for &(pattern, name, want) in FNMATCH {
            assert_eq!(
                Pattern::new(pattern).matches(name),
                want,
                "{pattern:?} {name:?}"
            );
        }
    }

    #[test]
    fn glob_like_python() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().to_str().unwrap();
        for f in [
            "x/a.conf",
            "x/.hidden",
            "x/.h.conf",
            "x/y/1.conf",
            "x/[ab.conf",
            "a-b/p.conf",
            "a/p.conf",
        ] {
            let p = t.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "").unwrap();
        }
        for &(pattern, want) in GLOB {
            let mut got = glob(&format!("{d}/{pattern}"));
            got.sort();
            let got: Vec<&str> = got.iter().map(|s| &s[d.len() + 1..]).collect();
            assert_eq!(got, want, "{pattern:?}");
        }
    }
}
