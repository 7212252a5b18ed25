//! Python's `format % mapping` (`PyUnicode_Format` with a dict argument),
//! which Supervisor applies to every config value that takes `%(name)s`.
//!
//! What a config can observe is all here: `%(name)s` with flags `-+ #0`, a
//! width, a precision and the conversions `s r a d i u o x X e E f F g G c
//! %`; the names a value may use; and the error texts, which Supervisor
//! wraps into its "Format string ... is badly formatted: ..." message. A `%`
//! that does not form a directive is an error, so every literal `%` must be
//! written `%%`.
//!
//! One deliberate difference: Python pads to any width its memory allows
//! (`%(process_num)999999999999d` asks for a terabyte and dies of it, which
//! Supervisor reports as badly formatted). Here a width, or a precision that
//! pads (numbers), above [`MAX_FIELD`] is refused with Python's own words for
//! an overlong field ("width too big", "precision too big"), and the caller
//! bounds the whole result (`limit`), so no config can make the loader
//! allocate without bound.

use std::collections::BTreeMap;

use super::repr::py_repr;

/// The widest field (and the longest zero-padding precision) accepted: no
/// path (`PATH_MAX` is 4096), name or argument anyone writes needs more.
pub const MAX_FIELD: usize = 4096;

/// A value in a mapping: Supervisor's are strings, except `process_num` and
/// `numprocs`, which are ints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Str(String),
    Int(i64),
}

impl Val {
    /// Python's `str()`.
    fn to_str(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
        }
    }

    /// Python's `repr()`.
    fn repr(&self) -> String {
        match self {
            Val::Str(s) => py_repr(s),
            Val::Int(i) => i.to_string(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "str",
            Val::Int(_) => "int",
        }
    }
}

/// A mapping; a `BTreeMap` so that the names a caller lists come sorted.
pub type Names = BTreeMap<String, Val>;

/// Why a format failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// Python's `KeyError`: a `%(name)` the mapping lacks.
    Key(String),
    /// Python's `ValueError`/`TypeError` text.
    Bad(String),
    /// The result would be longer than the caller's `limit`.
    TooLong,
}

/// One `%...` directive as parsed, before its value is looked up.
#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
    /// The precision overflowed the parse, or is above [`MAX_FIELD`].
    precision_too_big: bool,
}

/// `s % names`, refusing results longer than `limit` bytes.
pub fn format(s: &str, names: &Names, limit: usize) -> Result<String, FormatError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len().min(limit));
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
        } else {
            i += 1;
            let key = key(&chars, &mut i)?;
            let spec = spec(&chars, &mut i)?;
            let Some(&conv) = chars.get(i) else {
                return Err(FormatError::Bad("incomplete format".into()));
            };
            i += 1;
            if conv == '%' {
                out.push('%');
                continue;
            }
            if !"srdiuoxXeEfFgGca".contains(conv) {
                return Err(FormatError::Bad(format!(
                    "unsupported format character {} (0x{:x}) at index {}",
                    py_repr(&conv.to_string()),
                    conv as u32,
                    i - 1
                )));
            }
            let value = match &key {
                Some(k) => names.get(k).ok_or_else(|| FormatError::Key(k.clone()))?,
                // Python formats the whole dict for a bare directive.
                None => &Val::Str(dict_repr(names)),
            };
            out.push_str(&convert(conv, value, &spec, key.is_none())?);
        }
        if out.len() > limit {
            return Err(FormatError::TooLong);
        }
    }
    Ok(out)
}

/// The `(name)` after a `%`, if any (parentheses nest, as in Python).
fn key(chars: &[char], i: &mut usize) -> Result<Option<String>, FormatError> {
    if chars.get(*i) != Some(&'(') {
        return Ok(None);
    }
    let start = *i + 1;
    let mut depth = 1;
    *i += 1;
    while *i < chars.len() && depth > 0 {
        match chars[*i] {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        *i += 1;
    }
    if depth > 0 {
        return Err(FormatError::Bad("incomplete format key".into()));
    }
    Ok(Some(chars[start..*i - 1].iter().collect()))
}

/// Flags, width, precision and length modifiers.
fn spec(chars: &[char], i: &mut usize) -> Result<Spec, FormatError> {
    let mut spec = Spec::default();
    while let Some(&c) = chars.get(*i) {
        match c {
            '-' => spec.left = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '#' => spec.alt = true,
            '0' => spec.zero = true,
            _ => break,
        }
        *i += 1;
    }
    if chars.get(*i) == Some(&'*') {
        return Err(FormatError::Bad("* wants int".into()));
    }
    spec.width = match digits(chars, i) {
        Some(w) if w > MAX_FIELD => return Err(FormatError::Bad("width too big".into())),
        w => w,
    };
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        if chars.get(*i) == Some(&'*') {
            return Err(FormatError::Bad("* wants int".into()));
        }
        let p = digits(chars, i).unwrap_or(0);
        spec.precision_too_big = p > MAX_FIELD;
        spec.precision = Some(p);
    }
    while matches!(chars.get(*i), Some('h' | 'l' | 'L')) {
        *i += 1;
    }
    Ok(spec)
}

/// A run of ASCII digits as a number, saturating (an overflow is "too big"
/// to the caller either way).
fn digits(chars: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    let mut n: usize = 0;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        *i += 1;
    }
    (*i > start).then_some(n)
}

/// Python's `repr()` of the mapping (in our sorted order).
fn dict_repr(names: &Names) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|(k, v)| format!("{}: {}", py_repr(k), v.repr()))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn convert(conv: char, value: &Val, spec: &Spec, whole_dict: bool) -> Result<String, FormatError> {
    let type_name = if whole_dict {
        "dict"
    } else {
        value.type_name()
    };
    match conv {
        's' | 'r' | 'a' => {
            let text = match conv {
                _ if whole_dict => value.to_str(),
                's' => value.to_str(),
                'r' => value.repr(),
                _ => ascii(&value.repr()),
            };
            let text = match spec.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            };
            Ok(pad(text, spec))
        }
        'c' => match value {
            Val::Int(n) => match u32::try_from(*n).ok().and_then(char::from_u32) {
                Some(c) => Ok(pad(c.to_string(), spec)),
                None => Err(FormatError::Bad("%c arg not in range(0x110000)".into())),
            },
            Val::Str(s) if s.chars().count() == 1 && !whole_dict => Ok(pad(s.clone(), spec)),
            _ => Err(FormatError::Bad("%c requires int or char".into())),
        },
        _ if spec.precision_too_big => Err(FormatError::Bad("precision too big".into())),
        'd' | 'i' | 'u' | 'o' | 'x' | 'X' => {
            let Val::Int(n) = value else {
                let what = if matches!(conv, 'd' | 'i' | 'u') {
                    "a real number"
                } else {
                    "an integer"
                };
                return Err(FormatError::Bad(format!(
                    "%{conv} format: {what} is required, not {type_name}"
                )));
            };
            Ok(integer(conv, *n, spec))
        }
        _ => {
            let Val::Int(n) = value else {
                return Err(FormatError::Bad(format!(
                    "must be real number, not {type_name}"
                )));
            };
            Ok(float(conv, *n as f64, spec))
        }
    }
}

/// `%d %i %u %o %x %X` of an int.
fn integer(conv: char, n: i64, spec: &Spec) -> String {
    let magnitude = n.unsigned_abs();
    let digits = match conv {
        'o' => format!("{magnitude:o}"),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let zeros = spec.precision.unwrap_or(0).saturating_sub(digits.len());
    let prefix = match (spec.alt, conv) {
        (true, 'o') => "0o",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let sign = sign(n < 0, spec);
    pad_number(
        &format!("{sign}{prefix}"),
        &format!("{}{digits}", "0".repeat(zeros)),
        spec,
    )
}

/// `%e %E %f %F %g %G` of an int (as a float, as Python does).
fn float(conv: char, f: f64, spec: &Spec) -> String {
    let p = spec.precision.unwrap_or(6);
    let mut text = match conv {
        'f' | 'F' => format!("{:.*}", p, f.abs()),
        'e' | 'E' => exponent(f.abs(), p, conv == 'E'),
        _ => general(f.abs(), p, conv == 'G', spec.alt),
    };
    if spec.alt && p == 0 && !matches!(conv, 'g' | 'G') {
        // `#` keeps the decimal point even with no digits after it.
        match text.find(['e', 'E']) {
            Some(at) => text.insert(at, '.'),
            None => text.push('.'),
        }
    }
    pad_number(sign(f < 0.0, spec), &text, spec)
}

/// `%e`: a two-digit (at least) signed exponent, as C and Python print it.
fn exponent(f: f64, p: usize, upper: bool) -> String {
    let s = format!("{:.*e}", p, f);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}{e}{sign}{:02}", exp.abs())
}

/// `%g`: `p` significant digits, fixed or exponent notation by the
/// exponent after rounding, trailing zeros dropped unless `#`.
fn general(f: f64, p: usize, upper: bool, alt: bool) -> String {
    let p = p.max(1);
    let rounded = format!("{:.*e}", p - 1, f);
    let exp: i64 = rounded
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let text = if exp < -4 || exp >= p as i64 {
        exponent(f, p - 1, upper)
    } else {
        format!("{:.*}", (p as i64 - 1 - exp) as usize, f)
    };
    if alt {
        return text;
    }
    let (mantissa, tail) = match text.find(['e', 'E']) {
        Some(at) => text.split_at(at),
        None => (text.as_str(), ""),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{tail}")
}

/// Python's `ascii()` of a repr: non-ASCII characters escaped.
fn ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xff => out.push_str(&format!("\\x{n:02x}")),
            n @ 0x100..=0xffff => out.push_str(&format!("\\u{n:04x}")),
            n => out.push_str(&format!("\\U{n:08x}")),
        }
    }
    out
}

fn sign(negative: bool, spec: &Spec) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

/// Pad a text field to the width with spaces (`-`: on the right).
fn pad(s: String, spec: &Spec) -> String {
    let len = s.chars().count();
    match spec.width {
        Some(w) if w > len => {
            let fill = " ".repeat(w - len);
            if spec.left {
                s + &fill
            } else {
                fill + &s
            }
        }
        _ => s,
    }
}

/// Pad a number: `-` pads right with spaces, `0` puts zeros between the
/// sign (and `0x`-style prefix) and the digits, else spaces on the left.
fn pad_number(sign: &str, digits: &str, spec: &Spec) -> String {
    let len = sign.len() + digits.chars().count();
    let fill = spec.width.unwrap_or(0).saturating_sub(len);
    if spec.left {
        format!("{sign}{digits}{}", " ".repeat(fill))
    } else if spec.zero {
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{sign}{digits}", " ".repeat(fill))
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
        n.insert("neg".into(), Val::Int(-7));
        n.insert("big".into(), Val::Int(123_456_789_012));
        n.insert("e".into(), Val::Str("\u{e9}".into()));
        n
    }

    /// `input % names()` as Python 3.11 computes it: the result, or the
    /// text of the exception (`KeyError` shown as `key:NAME`).
    const CASES: &[(&str, Result<&str, &str>)] = &[
        ("/bin/%(program_name)s", Ok("/bin/web")),
        ("%(program_name)s_%(process_num)02d", Ok("web_03")),
        ("[%(program_name)5s]", Ok("[  web]")),
        ("[%(program_name)-5s]", Ok("[web  ]")),
        ("[%(program_name).2s]", Ok("[we]")),
        ("%(program_name).0s|", Ok("|")),
        ("%(program_name)-+5s|", Ok("web  |")),
        ("%(process_num)d%(process_num)s", Ok("33")),
        (
            "%(process_num)+d %(process_num)x %(process_num)#o",
            Ok("+3 3 0o3"),
        ),
        ("%(process_num)5.3d|", Ok("  003|")),
        ("%(process_num)010.3d", Ok("0000000003")),
        ("%(process_num)#x %(process_num)#X", Ok("0x3 0X3")),
        ("%(process_num)#05x|%(process_num)#5o|", Ok("0x003|  0o3|")),
        ("%(process_num)-05d|%(process_num)+05d", Ok("3    |+0003")),
        ("%(process_num) d", Ok(" 3")),
        ("%(process_num).1f %(process_num)e", Ok("3.0 3.000000e+00")),
        ("%(process_num)g %(process_num).3G", Ok("3 3")),
        ("%(process_num)#g %(process_num)#.0f", Ok("3.00000 3.")),
        (
            "%(neg)d %(neg)05d %(neg)x %(neg)#o %(neg).3d %(neg)+d",
            Ok("-7 -0007 -7 -0o7 -007 -7"),
        ),
        (
            "%(big)g %(big)e %(big).2f %(neg)g %(big)G",
            Ok("1.23457e+11 1.234568e+11 123456789012.00 -7 1.23457E+11"),
        ),
        ("%(program_name)r %(e)r %(e)a", Ok("'web' '\u{e9}' '\\xe9'")),
        ("%(process_num)c|%(e)c", Ok("\u{3}|\u{e9}")),
        ("50%% done", Ok("50% done")),
        ("no directives", Ok("no directives")),
        ("%(nope)s", Err("key:nope")),
        ("50%", Err("incomplete format")),
        ("%(program_name)5", Err("incomplete format")),
        (
            "50%to",
            Err("unsupported format character 't' (0x74) at index 3"),
        ),
        ("%(program_name", Err("incomplete format key")),
        (
            "%(program_name)d",
            Err("%d format: a real number is required, not str"),
        ),
        (
            "%(program_name)x",
            Err("%x format: an integer is required, not str"),
        ),
        ("%(program_name)f", Err("must be real number, not str")),
        ("%(program_name)c", Err("%c requires int or char")),
        ("%(neg)c", Err("%c arg not in range(0x110000)")),
        ("%*d", Err("* wants int")),
        // The bound (see the module header): Python agrees on the second
        // and third; the first runs it out of memory (a MemoryError with no
        // text) and the last two it formats.
        ("%(process_num)999999999999d", Err("width too big")),
        ("%(process_num)99999999999999999999d", Err("width too big")),
        ("%(process_num).999999999999d", Err("precision too big")),
        ("%(process_num)4097s", Err("width too big")),
        ("%(process_num).4097f", Err("precision too big")),
    ];

    #[test]
    fn format_like_python() {
        for &(input, want) in CASES {
            let got = format(input, &names(), 1 << 20).map_err(|e| match e {
                FormatError::Key(k) => format!("key:{k}"),
                FormatError::Bad(why) => why,
                FormatError::TooLong => "too long".into(),
            });
            let want = match want {
                Ok(w) => Ok(w.to_string()),
                Err(e) => Err(e.to_string()),
            };
            assert_eq!(got, want, "{input:?} % names");
        }
    }

    #[test]
    fn bare_directive_formats_the_whole_dict() {
        let mut n = Names::new();
        n.insert("here".into(), Val::Str("/etc".into()));
        n.insert("process_num".into(), Val::Int(3));
        assert_eq!(
            format("%s", &n, 100).unwrap(),
            "{'here': '/etc', 'process_num': 3}"
        );
    }

    #[test]
    fn results_are_bounded_by_the_limit() {
        let n = names();
        assert_eq!(format("abc", &n, 3).unwrap(), "abc");
        assert_eq!(format("abcd", &n, 3), Err(FormatError::TooLong));
        let widest = format("%(process_num)4096d", &n, 1 << 20).unwrap();
        assert_eq!(widest, format!("{}3", " ".repeat(4095)));
        let many = "%(process_num)4096d".repeat(300);
        assert_eq!(format(&many, &n, 1 << 20), Err(FormatError::TooLong));
        assert_eq!(format(&many, &n, 300 * 4096).unwrap().len(), 300 * 4096);
    }
}
