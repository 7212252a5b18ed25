//! XML-RPC values, calls and responses, as Supervisor speaks them.
//!
//! Parsing goes through quick-xml into a small bounded element tree, which is
//! then interpreted. The server side follows Supervisor's own decoder
//! (`supervisor/xmlrpc.py`, spec §6.2): `int`/`i4`, `boolean` (`1` is true,
//! anything else false), `string`, `double`, `dateTime.iso8601`, `base64`,
//! `array`, `struct`, untyped `<value>` as a string, `<params>` optional, no
//! `<nil/>` and no `i8`. The client side is more lenient (it also accepts
//! `i8` and `<nil/>`, which other servers send) because it only has to read
//! what a server wrote.
//!
//! Encoding writes what Python's `xmlrpc.client` writes: `<int>`, `<boolean>`,
//! `<string>`, `<double>`, `<dateTime.iso8601>`, `<base64>`, `<array><data>`,
//! `<struct><member>`, with `&`, `<` and `>` escaped.

use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::fmt;

/// Deepest element nesting accepted in a document. A methodCall needs 5
/// levels for a scalar parameter and 3 more per array/struct level, so this
/// allows roughly 30 levels of nested containers.
pub const MAX_DEPTH: usize = 100;

/// One XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `<int>`, `<i4>` (and `<i8>` on the client side).
    Int(i64),
    /// `<boolean>`.
    Bool(bool),
    /// `<string>` or an untyped `<value>`.
    String(String),
    /// `<double>`.
    Double(f64),
    /// `<dateTime.iso8601>`, kept as its text (`20240101T12:00:00`).
    DateTime(String),
    /// `<base64>`, decoded.
    Base64(Vec<u8>),
    /// `<array><data>...</data></array>`.
    Array(Vec<Value>),
    /// `<struct>`, members in document order.
    Struct(Vec<(String, Value)>),
    /// `<nil/>`: only ever decoded on the client side, never produced by Supervisor.
    Nil,
}

impl Value {
    /// A struct member by name.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            // Python treats ints as truthy in `if configinfo['inuse']`.
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::DateTime(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
    /// `get(key)` as a string, `""` when missing or not a string.
    pub fn str_field(&self, key: &str) -> &str {
        self.get(key).and_then(Value::as_str).unwrap_or("")
    }
    /// `get(key)` as an int, 0 when missing or not an int.
    pub fn int_field(&self, key: &str) -> i64 {
        self.get(key).and_then(Value::as_i64).unwrap_or(0)
    }
    /// Build a struct from `(key, value)` pairs.
    pub fn record<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Struct(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    pub method: String,
    pub params: Vec<Value>,
}

/// An XML-RPC fault: `{faultCode, faultString}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub code: i64,
    pub string: String,
}

impl fmt::Display for Fault {
    /// Python's `repr(xmlrpc.client.Fault)`: `<Fault 6: 'SHUTDOWN_STATE'>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Fault {}: {}>", self.code, py_repr_str(&self.string))
    }
}

/// Python's `repr()` of a str (one implementation, shared with the config).
pub use crate::config::signal::py_repr as py_repr_str;

/// A decoded `<methodResponse>`: either one value or a fault.
pub type Response = Result<Value, Fault>;

/// Why a document could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed xml: {0}")]
    Xml(String),
    #[error("nesting deeper than {MAX_DEPTH} elements")]
    TooDeep,
    #[error("unexpected element <{0}>")]
    Unexpected(String),
    #[error("missing <{0}>")]
    Missing(&'static str),
    #[error("bad {kind} value {text:?}")]
    BadScalar { kind: &'static str, text: String },
}

// ---------------------------------------------------------------------------
// Element tree

#[derive(Debug, Default)]
struct Elem {
    name: String,
    text: String,
    children: Vec<Elem>,
}

impl Elem {
    fn child(&self, name: &'static str) -> Result<&Elem, DecodeError> {
        self.children
            .iter()
            .find(|c| c.name == name)
            .ok_or(DecodeError::Missing(name))
    }
}

fn xml_err(e: impl fmt::Display) -> DecodeError {
    DecodeError::Xml(e.to_string())
}

fn parse_tree(doc: &[u8]) -> Result<Elem, DecodeError> {
    let text = std::str::from_utf8(doc).map_err(xml_err)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Elem> = Vec::new();
    let mut root: Option<Elem> = None;
    loop {
        let ev = reader.read_event().map_err(xml_err)?;
        match ev {
            Event::Start(s) => {
                if root.is_some() {
                    return Err(DecodeError::Xml("content after root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                let name = String::from_utf8_lossy(s.name().as_ref()).into_owned();
                stack.push(Elem {
                    name,
                    ..Elem::default()
                });
            }
            Event::Empty(s) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                let e = Elem {
                    name: String::from_utf8_lossy(s.name().as_ref()).into_owned(),
                    ..Elem::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(e),
                    None if root.is_none() => root = Some(e),
                    None => return Err(DecodeError::Xml("content after root element".into())),
                }
            }
            Event::End(_) => {
                let e = stack
                    .pop()
                    .ok_or_else(|| DecodeError::Xml("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(xml_err)?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(c) => {
                let s = c.xml_content().map_err(xml_err)?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(r) => {
                let s = match r.resolve_char_ref().map_err(xml_err)? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(xml_err)?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| DecodeError::Xml(format!("unknown entity &{name};")))?
                            .to_string()
                    }
                };
                push_text(&mut stack, &s)?;
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::DocType(_) => return Err(DecodeError::Xml("DOCTYPE not allowed".into())),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(DecodeError::Xml("unexpected end of document".into()));
    }
    root.ok_or_else(|| DecodeError::Xml("empty document".into()))
}

fn push_text(stack: &mut [Elem], s: &str) -> Result<(), DecodeError> {
    match stack.last_mut() {
        Some(e) => {
            e.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(DecodeError::Xml("text outside the root element".into())),
    }
}

// ---------------------------------------------------------------------------
// Values

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Server,
    Client,
}

fn decode_value(v: &Elem, side: Side) -> Result<Value, DecodeError> {
    if v.name != "value" {
        return Err(DecodeError::Unexpected(v.name.clone()));
    }
    let Some(t) = v.children.first() else {
        // Untyped <value>text</value> is a string.
        return Ok(Value::String(v.text.clone()));
    };
    if v.children.len() > 1 {
        return Err(DecodeError::Unexpected(v.children[1].name.clone()));
    }
    let text = t.text.as_str();
    let bad = |kind: &'static str| DecodeError::BadScalar {
        kind,
        text: text.to_string(),
    };
    Ok(match t.name.as_str() {
        "int" | "i4" => Value::Int(parse_int(text).ok_or_else(|| bad("int"))?),
        "i8" if side == Side::Client => Value::Int(parse_int(text).ok_or_else(|| bad("i8"))?),
        "boolean" => match side {
            Side::Server => Value::Bool(text.trim() == "1"),
            Side::Client => match text.trim() {
                "1" => Value::Bool(true),
                "0" => Value::Bool(false),
                _ => return Err(bad("boolean")),
            },
        },
        "string" => Value::String(text.to_string()),
        "double" => Value::Double(text.trim().parse::<f64>().map_err(|_| bad("double"))?),
        "dateTime.iso8601" => Value::DateTime(text.trim().to_string()),
        "base64" => {
            let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            Value::Base64(
                base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .map_err(|_| bad("base64"))?,
            )
        }
        "nil" if side == Side::Client => Value::Nil,
        "array" => {
            let data = t.child("data")?;
            let mut out = Vec::with_capacity(data.children.len());
            for c in &data.children {
                out.push(decode_value(c, side)?);
            }
            Value::Array(out)
        }
        "struct" => {
            let mut out = Vec::with_capacity(t.children.len());
            for m in &t.children {
                if m.name != "member" {
                    return Err(DecodeError::Unexpected(m.name.clone()));
                }
                let name = m.child("name")?.text.clone();
                let value = decode_value(m.child("value")?, side)?;
                out.push((name, value));
            }
            Value::Struct(out)
        }
        other => return Err(DecodeError::Unexpected(other.to_string())),
    })
}

fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let t = t.strip_prefix('+').unwrap_or(t);
    t.parse::<i64>().ok()
}

fn encode_value_into(v: &Value, out: &mut String) {
    out.push_str("<value>");
    match v {
        Value::Int(i) => {
            out.push_str("<int>");
            out.push_str(&i.to_string());
            out.push_str("</int>");
        }
        Value::Bool(b) => {
            out.push_str(if *b {
                "<boolean>1</boolean>"
            } else {
                "<boolean>0</boolean>"
            });
        }
        Value::String(s) => {
            out.push_str("<string>");
            out.push_str(&escape(s));
            out.push_str("</string>");
        }
        Value::Double(d) => {
            out.push_str("<double>");
            out.push_str(&format!("{d:?}"));
            out.push_str("</double>");
        }
        Value::DateTime(s) => {
            out.push_str("<dateTime.iso8601>");
            out.push_str(&escape(s));
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(b) => {
            out.push_str("<base64>\n");
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push_str("\n</base64>");
        }
        Value::Array(a) => {
            out.push_str("<array><data>\n");
            for x in a {
                encode_value_into(x, out);
                out.push('\n');
            }
            out.push_str("</data></array>");
        }
        Value::Struct(m) => {
            out.push_str("<struct>\n");
            for (k, x) in m {
                out.push_str("<member>\n<name>");
                out.push_str(&escape(k));
                out.push_str("</name>\n");
                encode_value_into(x, out);
                out.push_str("\n</member>\n");
            }
            out.push_str("</struct>");
        }
        Value::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

/// Escape text content: `&`, `<`, `>` (what Python's xmlrpc writer escapes).
/// Characters XML 1.0 cannot carry at all (most C0 controls) are dropped
/// rather than producing a document no parser accepts.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    let needs = s
        .chars()
        .any(|c| matches!(c, '&' | '<' | '>') || is_forbidden_xml_char(c));
    if !needs {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_forbidden_xml_char(c) => {}
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_forbidden_xml_char(c: char) -> bool {
    let u = c as u32;
    (u < 0x20 && !matches!(c, '\t' | '\n' | '\r')) || u == 0xFFFE || u == 0xFFFF
}

/// Encode one value (`<value>...</value>`).
pub fn encode_value(v: &Value) -> String {
    let mut s = String::new();
    encode_value_into(v, &mut s);
    s
}

// ---------------------------------------------------------------------------
// Calls and responses

const XML_DECL: &str = "<?xml version='1.0'?>\n";

/// Encode a `<methodCall>` (client side).
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::from(XML_DECL);
    out.push_str("<methodCall>\n<methodName>");
    out.push_str(&escape(method));
    out.push_str("</methodName>\n<params>\n");
    for p in params {
        out.push_str("<param>\n");
        encode_value_into(p, &mut out);
        out.push_str("\n</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// Decode a `<methodCall>` (server side, Supervisor's rules). The method name
/// is returned as sent; check it with [`valid_method_name`].
pub fn decode_call(doc: &[u8]) -> Result<MethodCall, DecodeError> {
    let root = parse_tree(doc)?;
    if root.name != "methodCall" {
        return Err(DecodeError::Unexpected(root.name));
    }
    let method = root.child("methodName")?.text.trim().to_string();
    if method.is_empty() {
        return Err(DecodeError::Missing("methodName"));
    }
    let mut params = Vec::new();
    if let Some(ps) = root.children.iter().find(|c| c.name == "params") {
        for p in &ps.children {
            if p.name != "param" {
                return Err(DecodeError::Unexpected(p.name.clone()));
            }
            params.push(decode_value(p.child("value")?, Side::Server)?);
        }
    }
    Ok(MethodCall { method, params })
}

/// Encode a successful `<methodResponse>` (server side).
pub fn encode_response(v: &Value) -> String {
    let mut out = String::from(XML_DECL);
    out.push_str("<methodResponse>\n<params>\n<param>\n");
    encode_value_into(v, &mut out);
    out.push_str("\n</param>\n</params>\n</methodResponse>\n");
    out
}

/// Encode a fault `<methodResponse>` (server side).
pub fn encode_fault(f: &Fault) -> String {
    let mut out = String::from(XML_DECL);
    out.push_str("<methodResponse>\n<fault>\n");
    encode_value_into(
        &Value::record([
            ("faultCode", Value::Int(f.code)),
            ("faultString", Value::String(f.string.clone())),
        ]),
        &mut out,
    );
    out.push_str("\n</fault>\n</methodResponse>\n");
    out
}

/// Decode a `<methodResponse>` (client side): `Ok(Ok(value))`,
/// `Ok(Err(fault))`, or a decode error.
pub fn decode_response(doc: &[u8]) -> Result<Response, DecodeError> {
    let root = parse_tree(doc)?;
    if root.name != "methodResponse" {
        return Err(DecodeError::Unexpected(root.name));
    }
    if let Some(f) = root.children.iter().find(|c| c.name == "fault") {
        let v = decode_value(f.child("value")?, Side::Client)?;
        let code = v
            .get("faultCode")
            .and_then(Value::as_i64)
            .ok_or(DecodeError::Missing("faultCode"))?;
        let string = v
            .get("faultString")
            .and_then(Value::as_str)
            .ok_or(DecodeError::Missing("faultString"))?
            .to_string();
        return Ok(Err(Fault { code, string }));
    }
    let params = root.child("params")?;
    let param = params.child("param")?;
    Ok(Ok(decode_value(param.child("value")?, Side::Client)?))
}

/// Supervisor's method-name rule (CVE-2017-11610): exactly `namespace.method`
/// with two non-empty parts, and no part starting with `_`.
pub fn valid_method_name(name: &str) -> bool {
    let mut parts = name.split('.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(ns), Some(m), None) => {
            !ns.is_empty() && !m.is_empty() && !ns.starts_with('_') && !m.starts_with('_')
        }
        _ => false,
    }
}

/// Split a valid method name into `(namespace, method)`.
pub fn split_method_name(name: &str) -> Option<(&str, &str)> {
    if valid_method_name(name) {
        name.split_once('.')
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_with(value_xml: &str) -> Result<MethodCall, DecodeError> {
        decode_call(
            format!(
                "<?xml version='1.0'?><methodCall><methodName>a.b</methodName>\
                 <params><param>{value_xml}</param></params></methodCall>"
            )
            .as_bytes(),
        )
    }
    fn one(value_xml: &str) -> Value {
        call_with(value_xml).unwrap().params.remove(0)
    }

    #[test]
    fn scalars_server_side() {
        assert_eq!(one("<value><int>42</int></value>"), Value::Int(42));
        assert_eq!(one("<value><i4>-7</i4></value>"), Value::Int(-7));
        assert_eq!(
            one("<value><boolean>1</boolean></value>"),
            Value::Bool(true)
        );
        assert_eq!(
            one("<value><boolean>0</boolean></value>"),
            Value::Bool(false)
        );
        // Supervisor: anything but "1" is false.
        assert_eq!(
            one("<value><boolean>yes</boolean></value>"),
            Value::Bool(false)
        );
        assert_eq!(one("<value><string>x y</string></value>"), "x y".into());
        assert_eq!(one("<value><string/></value>"), "".into());
        assert_eq!(one("<value><string></string></value>"), "".into());
        assert_eq!(one("<value>untyped </value>"), "untyped ".into());
        assert_eq!(one("<value></value>"), "".into());
        assert_eq!(
            one("<value><double>1.5</double></value>"),
            Value::Double(1.5)
        );
        assert_eq!(
            one("<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>"),
            Value::DateTime("20240102T03:04:05".into())
        );
        assert_eq!(
            one("<value><base64>aGVsbG8=</base64></value>"),
            Value::Base64(b"hello".to_vec())
        );
    }

    #[test]
    fn server_rejects_nil_and_i8_and_bad_ints() {
        assert!(call_with("<value><nil/></value>").is_err());
        assert!(call_with("<value><i8>1</i8></value>").is_err());
        assert!(call_with("<value><int>x</int></value>").is_err());
        assert!(call_with("<value><double>x</double></value>").is_err());
        assert!(call_with("<value><base64>!!</base64></value>").is_err());
    }

    #[test]
    fn containers() {
        let v = one(
            "<value><array><data><value><int>1</int></value><value>s</value>\
             <value><struct><member><name>k</name><value><boolean>1</boolean></value></member>\
             </struct></value></data></array></value>",
        );
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Int(1),
                "s".into(),
                Value::record([("k", Value::Bool(true))])
            ])
        );
        assert_eq!(
            one("<value><array><data/></array></value>"),
            Value::Array(vec![])
        );
        assert_eq!(one("<value><struct/></value>"), Value::Struct(vec![]));
    }

    #[test]
    fn params_optional_and_method_name() {
        let c =
            decode_call(b"<methodCall><methodName>supervisor.getState</methodName></methodCall>")
                .unwrap();
        assert_eq!(c.method, "supervisor.getState");
        assert!(c.params.is_empty());
        assert!(decode_call(b"<methodCall><params/></methodCall>").is_err());
        assert!(decode_call(b"<methodCall><methodName></methodName></methodCall>").is_err());
        assert!(valid_method_name("supervisor.getState"));
        assert!(valid_method_name("system.multicall"));
        assert!(!valid_method_name("supervisor"));
        assert!(!valid_method_name("a.b.c"));
        assert!(!valid_method_name("supervisor._private"));
        assert!(!valid_method_name("_x.y"));
        assert!(!valid_method_name(".y"));
        assert_eq!(split_method_name("a.b"), Some(("a", "b")));
        assert_eq!(split_method_name("a.b.c"), None);
    }

    #[test]
    fn escaping_and_utf8_round_trip() {
        let s = "a<b>&c \"q\" 'x' é 日本 \t\n";
        let v = Value::String(s.into());
        let doc = encode_call("x.y", std::slice::from_ref(&v));
        assert!(doc.contains("a&lt;b&gt;&amp;c"));
        assert_eq!(decode_call(doc.as_bytes()).unwrap().params, vec![v]);
        // Char and entity references decode.
        assert_eq!(
            one("<value><string>&#233;&#x41;&quot;&apos;</string></value>"),
            "éA\"'".into()
        );
        assert!(call_with("<value><string>&bogus;</string></value>").is_err());
    }

    #[test]
    fn round_trip_every_type() {
        let v = Value::Array(vec![
            Value::Int(-2147483648),
            Value::Bool(true),
            Value::Bool(false),
            "".into(),
            "txt".into(),
            Value::Double(-0.25),
            Value::DateTime("20000101T00:00:00".into()),
            Value::Base64(vec![0, 1, 2, 255]),
            Value::record([("a", Value::Array(vec![])), ("b", Value::Struct(vec![]))]),
        ]);
        let doc = encode_response(&v);
        assert_eq!(decode_response(doc.as_bytes()).unwrap(), Ok(v.clone()));
        let doc = encode_call("m.n", std::slice::from_ref(&v));
        assert_eq!(decode_call(doc.as_bytes()).unwrap().params, vec![v]);
    }

    #[test]
    fn faults() {
        let f = Fault {
            code: 10,
            string: "BAD_NAME: foo".into(),
        };
        let doc = encode_fault(&f);
        assert_eq!(decode_response(doc.as_bytes()).unwrap(), Err(f.clone()));
        assert_eq!(f.to_string(), "<Fault 10: 'BAD_NAME: foo'>");
        // As Python writes it (untyped string, <int>).
        let py = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n\
                  <member>\n<name>faultCode</name>\n<value><int>6</int></value>\n</member>\n\
                  <member>\n<name>faultString</name>\n<value><string>SHUTDOWN_STATE</string></value>\n\
                  </member>\n</struct></value>\n</fault>\n</methodResponse>\n";
        assert_eq!(
            decode_response(py.as_bytes()).unwrap(),
            Err(Fault {
                code: 6,
                string: "SHUTDOWN_STATE".into()
            })
        );
        assert!(decode_response(
            b"<methodResponse><fault><value><struct/></value></fault></methodResponse>"
        )
        .is_err());
    }

    #[test]
    fn client_side_leniency() {
        let d = |x: &str| {
            decode_response(
                format!("<methodResponse><params><param>{x}</param></params></methodResponse>")
                    .as_bytes(),
            )
            .unwrap()
            .unwrap()
        };
        assert_eq!(
            d("<value><i8>5000000000</i8></value>"),
            Value::Int(5_000_000_000)
        );
        assert_eq!(d("<value><nil/></value>"), Value::Nil);
    }

    #[test]
    fn malformed() {
        for bad in [
            &b""[..],
            b"not xml",
            b"<methodCall><methodName>a.b</methodName>",
            b"<methodCall><methodName>a.b</x></methodCall>",
            b"<methodCall><methodName>a.b</methodName></methodCall><extra/>",
            b"<other/>",
            b"<methodCall><methodName>a.b</methodName><params><param><value><foo>1</foo></value></param></params></methodCall>",
            b"<methodCall><methodName>a.b</methodName><params><junk/></params></methodCall>",
            b"<!DOCTYPE x [<!ENTITY a 'b'>]><methodCall/>",
            b"\xff\xfe",
        ] {
            assert!(decode_call(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(decode_response(b"<methodResponse></methodResponse>").is_err());
    }

    #[test]
    fn depth_bounded() {
        let n = 10_000;
        let doc = format!(
            "<methodCall><methodName>a.b</methodName><params><param>{}{}</param></params></methodCall>",
            "<value><array><data>".repeat(n),
            "</data></array></value>".repeat(n)
        );
        assert_eq!(decode_call(doc.as_bytes()), Err(DecodeError::TooDeep));
        let ok = format!(
            "<methodCall><methodName>a.b</methodName><params><param>{}<value>x</value>{}</param></params></methodCall>",
            "<value><array><data>".repeat(20),
            "</data></array></value>".repeat(20)
        );
        assert!(decode_call(ok.as_bytes()).is_ok());
    }

    #[test]
    fn control_chars_dropped_on_encode() {
        let doc = encode_response(&"a\u{1}b".into());
        assert_eq!(decode_response(doc.as_bytes()).unwrap(), Ok("ab".into()));
    }

    #[test]
    fn repr() {
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("a\nb"), "'a\\nb'");
    }
}
