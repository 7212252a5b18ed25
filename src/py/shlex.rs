//! Python's `shlex`, in the two modes Supervisor uses.
//!
//! * [`split`] is `shlex.split(command)` (POSIX mode, whitespace split, no
//!   comments), which turns `command=` into argv at spawn time. Not the
//!   `shlex` crate: the crate follows POSIX sh, which differs from Python
//!   where Supervisor users can see it (`"\$HOME"` keeps its backslash in
//!   Python; `\r` separates words in Python), and it reports every error the
//!   same way where Python tells "No closing quotation" from "No escaped
//!   character", and that text is part of Supervisor's spawn error.
//! * [`tokens`] is iterating `shlex.shlex(text)` (non-POSIX mode) with extra
//!   word characters, which is how Supervisor's `dict_of_key_value_pairs`
//!   reads `environment=`: quotes stay in the tokens, a `#` starts a comment
//!   even inside a word, and any other character is a token of its own.

/// Python's `shlex.split(s)`: POSIX quoting and backslashes, no comments.
///
/// Errors carry Python's `ValueError` text.
pub fn split(s: &str) -> Result<Vec<String>, &'static str> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        /// After a backslash; holds the state to return to.
        Escape(Before),
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Before {
        Word,
        Quote(char),
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');

    let mut words = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Space;
    for c in s.chars() {
        state = match state {
            State::Space if is_space(c) => State::Space,
            State::Space | State::Word if c == '\\' => State::Escape(Before::Word),
            State::Space | State::Word if c == '"' || c == '\'' => State::Quote(c),
            State::Space => {
                token.push(c);
                State::Word
            }
            State::Word if is_space(c) => {
                words.push(std::mem::take(&mut token));
                quoted = false;
                State::Space
            }
            State::Word => {
                token.push(c);
                State::Word
            }
            State::Quote(q) => {
                quoted = true;
                if c == q {
                    State::Word
                } else if c == '\\' && q == '"' {
                    State::Escape(Before::Quote(q))
                } else {
                    token.push(c);
                    State::Quote(q)
                }
            }
            State::Escape(before) => {
                // Inside double quotes a backslash only escapes `\` and `"`.
                if let Before::Quote(q) = before {
                    if c != '\\' && c != q {
                        token.push('\\');
                    }
                }
                token.push(c);
                match before {
                    Before::Word => State::Word,
                    Before::Quote(q) => State::Quote(q),
                }
            }
        };
    }
    match state {
        State::Space => {}
        State::Word => {
            if !token.is_empty() || quoted {
                words.push(token);
            }
        }
        State::Quote(_) => return Err("No closing quotation"),
        State::Escape(_) => return Err("No escaped character"),
    }
    Ok(words)
}

/// Python's `shlex.shlex(s)` (posix=False) with `wordchars += extra`,
/// iterated to the end: the tokens, or Python's `ValueError` text.
pub fn tokens(s: &str, extra_wordchars: &str) -> Result<Vec<String>, &'static str> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || extra_wordchars.contains(c);
    let is_space = |c: char| " \t\r\n".contains(c);
    let chars: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let skip_comment = |i: &mut usize| {
        while *i < chars.len() && chars[*i] != '\n' {
            *i += 1;
        }
        if *i < chars.len() {
            *i += 1;
        }
    };
    loop {
        // Whitespace state.
        let mut token = String::new();
        let mut state = ' ';
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match state {
                ' ' => {
                    if is_space(c) {
                        continue;
                    } else if c == '#' {
                        skip_comment(&mut i);
                    } else if is_word(c) {
                        token.push(c);
                        state = 'a';
                    } else if c == '\'' || c == '"' {
                        token.push(c);
                        state = c;
                    } else {
                        token.push(c);
                        break;
                    }
                }
                'a' => {
                    if is_space(c) {
                        break;
                    } else if c == '#' {
                        // Non-POSIX: the comment is skipped and the word goes on.
                        skip_comment(&mut i);
                    } else if is_word(c) || c == '\'' || c == '"' {
                        token.push(c);
                    } else {
                        i -= 1;
                        break;
                    }
                }
                q => {
                    token.push(c);
                    if c == q {
                        state = ' ';
                        break;
                    }
                }
            }
        }
        if state == '\'' || state == '"' {
            return Err("No closing quotation");
        }
        if token.is_empty() {
            return Ok(tokens);
        }
        tokens.push(token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `shlex.split(input)` as Python 3.11 returns it.
    const SPLIT: &[(&str, Result<&[&str], &str>)] = &[
        ("", Ok(&[])),
        ("   ", Ok(&[])),
        ("a b\tc\r\nd", Ok(&["a", "b", "c", "d"])),
        ("a 'b c' \"d e\"", Ok(&["a", "b c", "d e"])),
        ("a''b \"\"", Ok(&["ab", ""])),
        ("''", Ok(&[""])),
        (
            r#"sh -c "echo \$HOME \"x\" \\""#,
            Ok(&["sh", "-c", r#"echo \$HOME "x" \"#]),
        ),
        (r"a\ b \'c", Ok(&["a b", "'c"])),
        (r"'a\b'", Ok(&[r"a\b"])),
        ("x#y # z", Ok(&["x#y", "#", "z"])),
        ("a 'b", Err("No closing quotation")),
        ("a \"b\\\"", Err("No closing quotation")),
        ("a b\\", Err("No escaped character")),
        ("\"a\\", Err("No escaped character")),
    ];

    /// `list(shlex.shlex(input))` with `wordchars += '/.+-():'`.
    const TOKENS: &[(&str, Result<&[&str], &str>)] = &[
        ("", Ok(&[])),
        ("A=1, B=2,", Ok(&["A", "=", "1", ",", "B", "=", "2", ","])),
        ("K=\"v,2\"", Ok(&["K", "=", "\"v,2\""])),
        ("PATH=/usr/bin:/bin", Ok(&["PATH", "=", "/usr/bin:/bin"])),
        ("A=x#y\nB=1", Ok(&["A", "=", "xB", "=", "1"])),
        ("# all comment", Ok(&[])),
        ("A='it''s'", Ok(&["A", "=", "'it'", "'s'"])),
        ("a*b", Ok(&["a", "*", "b"])),
        ("h\u{e9}llo", Ok(&["h", "\u{e9}", "llo"])),
        ("A=\"x", Err("No closing quotation")),
    ];

    #[test]
    fn split_like_python() {
        for &(input, want) in SPLIT {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(split(input), want, "shlex.split({input:?})");
        }
    }

    #[test]
    fn tokens_like_python() {
        for &(input, want) in TOKENS {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(tokens(input, "/.+-():"), want, "shlex.shlex({input:?})");
        }
    }
}
