//! Python's `repr()` of `str` and `bytes`.
//!
//! Supervisor puts `%r` into most of its messages (`spawned: 'web' with pid
//! 7`, `Invalid name: 'a b' because of character: ' '`), and scripts match
//! those lines, so the quoting rules are Python's: which quote is chosen,
//! what is escaped and how.

/// Python's `repr()` of a str: single quotes unless the text has one and no
/// double quote; backslashes and the chosen quote escaped, control
/// characters as `\n`, `\r`, `\t` or `\xNN`.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of bytes: `b'..'`, or `b".."` when only `'` occurs;
/// bytes outside printable ASCII as `\xNN`.
pub fn py_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, `repr(input)` and `repr(input.encode())` as Python 3.11
    /// prints them).
    const CASES: &[(&str, &str, &str)] = &[
        ("abc", "'abc'", "b'abc'"),
        ("", "''", "b''"),
        ("it's", "\"it's\"", "b\"it's\""),
        ("a'b\"c", "'a\\'b\"c'", "b'a\\'b\"c'"),
        ("say \"hi\"", "'say \"hi\"'", "b'say \"hi\"'"),
        ("a\nb", "'a\\nb'", "b'a\\nb'"),
        ("t\tr\r", "'t\\tr\\r'", "b't\\tr\\r'"),
        ("back\\slash", "'back\\\\slash'", "b'back\\\\slash'"),
        ("\x01\x1f\x7f", "'\\x01\\x1f\\x7f'", "b'\\x01\\x1f\\x7f'"),
        ("h\u{e9}", "'h\u{e9}'", "b'h\\xc3\\xa9'"),
    ];

    #[test]
    fn repr_like_python() {
        for &(input, text, bytes) in CASES {
            assert_eq!(py_repr(input), text, "repr({input:?})");
            assert_eq!(py_bytes_repr(input.as_bytes()), bytes, "repr(b{input:?})");
        }
    }
}
