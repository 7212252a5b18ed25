//! Python's `str()` of an XML-RPC value, as the two Pythons we stand in for
//! show it.
//!
//! Both faces print `str(value)` where Supervisor does: supervisord puts it
//! in fault texts (`INCORRECT_PARAMETERS: 5` when `sendProcessStdin` gets a
//! number), supervisorctl in its API-version complaint (`... the remote
//! version is 5.`). They do not see the same Python objects: supervisord
//! decodes requests with its own unmarshaller (`supervisor/xmlrpc.py`),
//! supervisorctl with `xmlrpc.client`. The scalars read the same; two types
//! differ, which [`Decoder`] selects:
//!
//! | XML-RPC      | supervisord                  | xmlrpc.client                 |
//! | ------------ | ---------------------------- | ----------------------------- |
//! | `base64`     | a `str`, decoded as UTF-8    | a `Binary`; `str()` is Latin-1 |
//! | `dateTime`   | a `datetime` (`2024-01-02 03:04:05`) | a `DateTime`; `str()` is the text |
//!
//! Inside a list or dict Python shows each item's `repr()`, which differs
//! the same way: supervisord's `'text'` and `datetime.datetime(2024, 1, 2,
//! 3, 4, 5)`, xmlrpc.client's `<xmlrpc.client.Binary object at 0x...>` and
//! `<DateTime '...' at 0x...>`. The address is the object's, which no one
//! can reproduce; we leave out ` at 0x...`.
//!
//! Called by the control server's fault texts (`control::methods::py_str`) and
//! by the ctl (`ctl::commands`). Uses [`crate::py::py_repr`]
//! for the `repr()` of a str and nothing that does I/O.

use crate::control::xmlrpc::Value;
use crate::py::py_repr;

/// Which Python decoded the value (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// supervisord's request unmarshaller: base64 becomes a UTF-8 `str`,
    /// dateTime a `datetime.datetime`.
    Supervisord,
    /// `xmlrpc.client` (supervisorctl): base64 becomes `Binary`, dateTime
    /// `DateTime`, both of which keep their text.
    XmlrpcClient,
}

/// `str(value)` as the Python that `decoder` names shows it.
pub fn py_str(v: &Value, decoder: Decoder) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Base64(b) => match decoder {
            // Supervisor decodes strictly and refuses the request otherwise;
            // what reaches us undecodable is shown with U+FFFD.
            Decoder::Supervisord => String::from_utf8_lossy(b).into_owned(),
            Decoder::XmlrpcClient => b.iter().map(|&c| char::from(c)).collect(),
        },
        Value::DateTime(t) => match (decoder, Stamp::parse(t)) {
            (Decoder::Supervisord, Some(s)) => s.to_string(),
            _ => t.clone(),
        },
        other => py_repr_value(other, decoder),
    }
}

/// `repr(value)`: what Python shows for an item of a list or dict.
fn py_repr_value(v: &Value, decoder: Decoder) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Double(d) => py_float_repr(*d),
        Value::Nil => "None".into(),
        Value::String(s) => py_repr(s),
        Value::Base64(_) if decoder == Decoder::XmlrpcClient => {
            "<xmlrpc.client.Binary object>".into()
        }
        Value::Base64(_) => py_repr(&py_str(v, decoder)),
        Value::DateTime(t) => match (decoder, Stamp::parse(t)) {
            (Decoder::Supervisord, Some(s)) => s.repr(),
            _ => format!("<DateTime {}>", py_repr(t)),
        },
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|i| py_repr_value(i, decoder)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr_value(v, decoder)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

/// Python's `repr()` of a float: the shortest text that reads back the
/// same, always with a point or an exponent; the exponent form (`1e+16`,
/// `1e-05`) below 1e-4 and from 1e16 on; `inf`, `-inf`, `nan`.
pub fn py_float_repr(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = d.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        // Rust's `{:e}` is also the shortest round trip: `1.5e-7`.
        let e = format!("{d:e}");
        let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    // In this range Rust's Display gives the shortest digits, no exponent.
    let s = d.to_string();
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

/// supervisord's `datetime` from the dateTime text it accepts
/// (`time.strptime(text, "%Y%m%dT%H:%M:%S")`), in its usual form:
/// `20240102T03:04:05`. strptime also takes single-digit fields; such a
/// value, which supervisord reads but no client sends, is shown as its
/// text.
struct Stamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Stamp {
    fn parse(t: &str) -> Option<Stamp> {
        let b = t.as_bytes();
        let shape_ok = b.len() == 17
            && b[8] == b'T'
            && b[11] == b':'
            && b[14] == b':'
            && [0..8, 9..11, 12..14, 15..17]
                .into_iter()
                .all(|r| b[r].iter().all(u8::is_ascii_digit));
        if !shape_ok {
            return None;
        }
        let num = |r: std::ops::Range<usize>| t[r].parse::<u32>().ok();
        let s = Stamp {
            year: num(0..4)?,
            month: num(4..6)?,
            day: num(6..8)?,
            hour: num(9..11)?,
            minute: num(12..14)?,
            second: num(15..17)?,
        };
        let leap = s.year % 4 == 0 && (s.year % 100 != 0 || s.year % 400 == 0);
        let days = match s.month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let valid = s.year >= 1
            && (1..=12).contains(&s.month)
            && (1..=days).contains(&s.day)
            && s.hour < 24
            && s.minute < 60
            && s.second < 60;
        valid.then_some(s)
    }

    /// `repr(datetime)`: seconds only when not zero.
    fn repr(&self) -> String {
        let Stamp {
            year,
            month,
            day,
            hour,
            minute,
            second,
        } = self;
        let seconds = if *second == 0 {
            String::new()
        } else {
            format!(", {second}")
        };
        format!("datetime.datetime({year}, {month}, {day}, {hour}, {minute}{seconds})")
    }
}

/// `str(datetime)`: `2024-01-02 03:04:05`.
impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Decoder::*;

    /// Each row: the value, then `str()` of it as supervisord and as
    /// xmlrpc.client show it. The texts are CPython 3.11's, from feeding
    /// the XML to `supervisor.xmlrpc.supervisor_xmlrpc_handler.loads` and
    /// to `xmlrpc.client.getparser()` (addresses left out, see the module
    /// doc).
    #[test]
    fn str_as_each_python_shows_it() {
        let stamp = || Value::DateTime("20240102T03:04:05".into());
        let table: Vec<(Value, &str, &str)> = vec![
            (Value::Int(5), "5", "5"),
            (Value::Int(-7), "-7", "-7"),
            (Value::Bool(true), "True", "True"),
            (Value::Bool(false), "False", "False"),
            (Value::String("a'b".into()), "a'b", "a'b"),
            (Value::Double(3.0), "3.0", "3.0"),
            (Value::Double(0.5), "0.5", "0.5"),
            (Value::Double(1e20), "1e+20", "1e+20"),
            (Value::Double(1e16), "1e+16", "1e+16"),
            (
                Value::Double(1e15),
                "1000000000000000.0",
                "1000000000000000.0",
            ),
            (Value::Double(1e-5), "1e-05", "1e-05"),
            (Value::Double(9.9e-5), "9.9e-05", "9.9e-05"),
            (Value::Double(0.0001), "0.0001", "0.0001"),
            (Value::Double(-0.0), "-0.0", "-0.0"),
            (Value::Double(-2.5e-7), "-2.5e-07", "-2.5e-07"),
            (Value::Double(5e-324), "5e-324", "5e-324"),
            (
                Value::Double(1.7976931348623157e308),
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
            (
                Value::Double(123456789012345678.0),
                "1.2345678901234568e+17",
                "1.2345678901234568e+17",
            ),
            (Value::Double(f64::INFINITY), "inf", "inf"),
            (Value::Double(f64::NEG_INFINITY), "-inf", "-inf"),
            (Value::Double(f64::NAN), "nan", "nan"),
            (Value::Nil, "None", "None"),
            (stamp(), "2024-01-02 03:04:05", "20240102T03:04:05"),
            (Value::Base64(b"hi".to_vec()), "hi", "hi"),
            (Value::Base64("\u{e9}".into()), "\u{e9}", "\u{c3}\u{a9}"),
            (
                Value::Array(vec![
                    "a".into(),
                    Value::Int(1),
                    Value::Base64(b"hi".to_vec()),
                    Value::Nil,
                    Value::Double(2.5),
                    stamp(),
                ]),
                "['a', 1, 'hi', None, 2.5, datetime.datetime(2024, 1, 2, 3, 4, 5)]",
                "['a', 1, <xmlrpc.client.Binary object>, None, 2.5, \
                 <DateTime '20240102T03:04:05'>]",
            ),
            (
                Value::Struct(vec![("k".into(), Value::Int(1)), ("s".into(), "v".into())]),
                "{'k': 1, 's': 'v'}",
                "{'k': 1, 's': 'v'}",
            ),
            (
                Value::Array(vec![Value::DateTime("20240102T00:00:00".into())]),
                "[datetime.datetime(2024, 1, 2, 0, 0)]",
                "[<DateTime '20240102T00:00:00'>]",
            ),
        ];
        for (value, supervisord, client) in table {
            assert_eq!(py_str(&value, Supervisord), supervisord, "{value:?}");
            assert_eq!(py_str(&value, XmlrpcClient), client, "{value:?}");
        }
    }

    #[test]
    fn datetimes_supervisord_cannot_read_stay_text() {
        for t in ["20240230T00:00:00", "20241301T00:00:00", "2024-01-02", "x"] {
            let v = Value::DateTime(t.into());
            assert_eq!(py_str(&v, Supervisord), t);
        }
        assert_eq!(
            py_str(&Value::DateTime("20240229T23:59:59".into()), Supervisord),
            "2024-02-29 23:59:59"
        );
    }
}
