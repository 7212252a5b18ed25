//! `%` expansion: Python's `format % dict`, as Supervisor's `expand()` uses
//! it, with Supervisor's error texts.
//!
//! Supported: `%(name)s` with flags `-+ #0`, a width, a precision and the
//! conversions `s r a d i u o x X e E f F g G c %`. A `%` that does not form
//! a directive is an error, so every literal `%` must be written `%%`.

use std::collections::BTreeMap;

use super::signal::py_repr;

/// A value in an expansion dict: Supervisor's are strings, except
/// `process_num` and `numprocs`, which are ints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Str(String),
    Int(i64),
}

impl Val {
    fn to_str(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
        }
    }

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

/// An expansion dict; a `BTreeMap` so that "Available names" come sorted.
pub type Names = BTreeMap<String, Val>;

/// Supervisor's `expand(s, expansions, name)`: `s % expansions`, with the
/// error wrapped as `Format string '...' for '<name>' ...`.
pub fn expand(s: &str, names: &Names, name: &str) -> Result<String, String> {
    match format(s, names) {
        Ok(v) => Ok(v),
        Err(FormatError::Key(k)) => Err(format!(
            "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
            py_repr(s),
            py_repr(name),
            py_repr(&k),
            names.keys().cloned().collect::<Vec<_>>().join(", ")
        )),
        Err(FormatError::Bad(why)) => Err(format!(
            "Format string {} for {} is badly formatted: {}",
            py_repr(s),
            py_repr(name),
            why
        )),
    }
}

#[derive(Debug, PartialEq)]
enum FormatError {
    Key(String),
    Bad(String),
}

#[derive(Default)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Python's `PyUnicode_Format` with a mapping argument.
fn format(s: &str, names: &Names) -> Result<String, FormatError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let incomplete = || FormatError::Bad("incomplete format".into());
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut key: Option<String> = None;
        if chars.get(i) == Some(&'(') {
            let mut depth = 1;
            let start = i + 1;
            i += 1;
            while i < chars.len() && depth > 0 {
                match chars[i] {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                i += 1;
            }
            if depth > 0 {
                return Err(FormatError::Bad("incomplete format key".into()));
            }
            key = Some(chars[start..i - 1].iter().collect());
        }
        let mut spec = Spec::default();
        while let Some(&c) = chars.get(i) {
            match c {
                '-' => spec.left = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '#' => spec.alt = true,
                '0' => spec.zero = true,
                _ => break,
            }
            i += 1;
        }
        if chars.get(i) == Some(&'*') {
            return Err(FormatError::Bad("* wants int".into()));
        }
        spec.width = digits(&chars, &mut i);
        if chars.get(i) == Some(&'.') {
            i += 1;
            if chars.get(i) == Some(&'*') {
                return Err(FormatError::Bad("* wants int".into()));
            }
            spec.precision = Some(digits(&chars, &mut i).unwrap_or(0));
        }
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            return Err(incomplete());
        };
        let at = i;
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
                at
            )));
        }
        let value = match &key {
            Some(k) => names
                .get(k)
                .ok_or_else(|| FormatError::Key(k.clone()))?
                .clone(),
            // Python formats the whole dict for a bare directive.
            None => Val::Str(dict_repr(names)),
        };
        out.push_str(&convert(conv, &value, &spec, key.is_none())?);
    }
    Ok(out)
}

fn digits(chars: &[char], i: &mut usize) -> Option<usize> {
    let start = *i;
    while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
        *i += 1;
    }
    if *i == start {
        return None;
    }
    chars[start..*i].iter().collect::<String>().parse().ok()
}

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
    let body = match conv {
        's' | 'r' | 'a' => {
            let mut s = match conv {
                's' => value.to_str(),
                _ if whole_dict => value.to_str(),
                _ => value.repr(),
            };
            if let Some(p) = spec.precision {
                s = s.chars().take(p).collect();
            }
            return Ok(pad(s, spec, false));
        }
        'c' => match value {
            Val::Int(n) => match u32::try_from(*n).ok().and_then(char::from_u32) {
                Some(c) => return Ok(pad(c.to_string(), spec, false)),
                None => return Err(FormatError::Bad("%c arg not in range(0x110000)".into())),
            },
            Val::Str(s) if s.chars().count() == 1 && !whole_dict => {
                return Ok(pad(s.clone(), spec, false))
            }
            _ => return Err(FormatError::Bad("%c requires int or char".into())),
        },
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
            let n = *n;
            let mut digits = match conv {
                'o' => format!("{:o}", n.unsigned_abs()),
                'x' => format!("{:x}", n.unsigned_abs()),
                'X' => format!("{:X}", n.unsigned_abs()),
                _ => n.unsigned_abs().to_string(),
            };
            if let Some(p) = spec.precision {
                while digits.len() < p {
                    digits.insert(0, '0');
                }
            }
            let prefix = match (spec.alt, conv) {
                (true, 'o') => "0o",
                (true, 'x') => "0x",
                (true, 'X') => "0X",
                _ => "",
            };
            (sign(n < 0, spec), format!("{prefix}{digits}"))
        }
        _ => {
            let Val::Int(n) = value else {
                return Err(FormatError::Bad(format!(
                    "must be real number, not {type_name}"
                )));
            };
            let f = *n as f64;
            let p = spec.precision.unwrap_or(6);
            let text = match conv {
                'f' | 'F' => format!("{:.*}", p, f.abs()),
                'e' => py_exp(f.abs(), p, false),
                'E' => py_exp(f.abs(), p, true),
                _ => {
                    // %g of an integer-valued float: plain digits while they fit.
                    let p = p.max(1);
                    let s = format!("{}", f.abs());
                    if s.len() <= p {
                        s
                    } else {
                        py_exp(f.abs(), p - 1, conv == 'G')
                    }
                }
            };
            (sign(f < 0.0, spec), text)
        }
    };
    let (sign, digits) = body;
    Ok(pad_number(sign, digits, spec))
}

fn py_exp(f: f64, p: usize, upper: bool) -> String {
    let s = format!("{:.*e}", p, f);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
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

fn pad(s: String, spec: &Spec, _numeric: bool) -> String {
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

fn pad_number(sign: &str, digits: String, spec: &Spec) -> String {
    let len = sign.len() + digits.chars().count();
    match spec.width {
        Some(w) if w > len => {
            if spec.left {
                format!("{sign}{digits}{}", " ".repeat(w - len))
            } else if spec.zero {
                format!("{sign}{}{digits}", "0".repeat(w - len))
            } else {
                format!("{}{sign}{digits}", " ".repeat(w - len))
            }
        }
        _ => format!("{sign}{digits}"),
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

    fn ok(s: &str) -> String {
        expand(s, &names(), "program:web.command").unwrap()
    }

    fn err(s: &str) -> String {
        expand(s, &names(), "program:web.command").unwrap_err()
    }

    #[test]
    fn directives() {
        assert_eq!(ok("/bin/%(program_name)s"), "/bin/web");
        assert_eq!(ok("%(program_name)s_%(process_num)02d"), "web_03");
        assert_eq!(ok("[%(program_name)5s]"), "[  web]");
        assert_eq!(ok("[%(program_name)-5s]"), "[web  ]");
        assert_eq!(ok("[%(program_name).2s]"), "[we]");
        assert_eq!(ok("%(process_num)d%(process_num)s"), "33");
        assert_eq!(
            ok("%(process_num)+d %(process_num)x %(process_num)#o"),
            "+3 3 0o3"
        );
        assert_eq!(ok("%(process_num)5.3d|"), "  003|");
        assert_eq!(ok("%(process_num).1f %(process_num)e"), "3.0 3.000000e+00");
        assert_eq!(ok("%(program_name)r"), "'web'");
        assert_eq!(ok("50%% done"), "50% done");
        assert_eq!(ok("no directives"), "no directives");
    }

    #[test]
    fn bare_s_formats_the_whole_dict() {
        assert_eq!(
            ok("%s"),
            "{'here': '/etc', 'process_num': 3, 'program_name': 'web'}"
        );
    }

    #[test]
    fn unknown_name_lists_available_sorted() {
        assert_eq!(
            err("/bin/true %(ENV_NOPE)s"),
            "Format string '/bin/true %(ENV_NOPE)s' for 'program:web.command' contains names ('ENV_NOPE') which cannot be expanded. Available names: here, process_num, program_name"
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(
            err("/bin/echo 50%"),
            "Format string '/bin/echo 50%' for 'program:web.command' is badly formatted: incomplete format"
        );
        assert!(err("/bin/echo 50%to")
            .ends_with("is badly formatted: unsupported format character 't' (0x74) at index 13"));
        assert!(err("%(program_name").ends_with("is badly formatted: incomplete format key"));
        assert!(err("%(program_name)d")
            .ends_with("is badly formatted: %d format: a real number is required, not str"));
        assert!(err("%(program_name)x")
            .ends_with("is badly formatted: %x format: an integer is required, not str"));
        assert!(err("%(program_name)5").ends_with("is badly formatted: incomplete format"));
    }
}
