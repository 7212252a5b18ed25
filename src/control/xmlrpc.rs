//! XML-RPC values, calls and responses, as Supervisor speaks them.
//!
//! Parsing streams quick-xml events straight into values (bounded depth). The server side follows Supervisor's own decoder
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

use crate::py::py_repr;
use base64::Engine as _;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;

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
        write!(f, "<Fault {}: {}>", self.code, py_repr(&self.string))
    }
}

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
// Event stream
//
// Documents are decoded straight from quick-xml's events into `Value`s, with
// no intermediate element tree: a 500-process `getAllProcessInfo` answer is
// ~400 KB, and building, walking and dropping a tree of it cost pidvisorctl
// most of its time. The decoder keeps the tree decoder's rules: it reads the
// whole document (so any malformed XML is an error), the first element of a
// given name is the one that counts, and elements it does not look at are
// skipped but still checked.

/// One step of the document, as the decoder sees it.
enum Ev<'a> {
    /// A start tag (or an empty element, whose `Close` follows).
    Open(BytesStart<'a>),
    Close,
    Text(Cow<'a, str>),
    Eof,
}

struct Events<'a> {
    reader: Reader<&'a [u8]>,
    /// Elements open now.
    depth: usize,
    /// An empty element was returned as `Open`; its `Close` comes next.
    pending_close: bool,
    /// The root element has been closed.
    root_done: bool,
}

fn xml_err(e: impl fmt::Display) -> DecodeError {
    DecodeError::Xml(e.to_string())
}

fn name_of(s: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(s.name().as_ref()).into_owned()
}

fn is(s: &BytesStart<'_>, name: &str) -> bool {
    s.name().as_ref() == name.as_bytes()
}

impl<'a> Events<'a> {
    fn new(doc: &'a [u8]) -> Result<Self, DecodeError> {
        let text = std::str::from_utf8(doc).map_err(xml_err)?;
        let mut reader = Reader::from_str(text);
        reader.config_mut().check_end_names = true;
        Ok(Events {
            reader,
            depth: 0,
            pending_close: false,
            root_done: false,
        })
    }

    fn open(&mut self) -> Result<(), DecodeError> {
        if self.depth == 0 && self.root_done {
            return Err(DecodeError::Xml("content after root element".into()));
        }
        if self.depth >= MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        self.depth += 1;
        Ok(())
    }

    fn close(&mut self) -> Ev<'a> {
        self.depth -= 1;
        if self.depth == 0 {
            self.root_done = true;
        }
        Ev::Close
    }

    /// Text outside the root may only be white space.
    fn text(&self, s: Cow<'a, str>) -> Result<Option<Ev<'a>>, DecodeError> {
        if self.depth > 0 {
            Ok(Some(Ev::Text(s)))
        } else if s.trim().is_empty() {
            Ok(None)
        } else {
            Err(DecodeError::Xml("text outside the root element".into()))
        }
    }

    fn next(&mut self) -> Result<Ev<'a>, DecodeError> {
        if self.pending_close {
            self.pending_close = false;
            return Ok(self.close());
        }
        loop {
            let ev = match self.reader.read_event().map_err(xml_err)? {
                Event::Start(s) => {
                    self.open()?;
                    Some(Ev::Open(s))
                }
                Event::Empty(s) => {
                    self.open()?;
                    self.pending_close = true;
                    Some(Ev::Open(s))
                }
                Event::End(_) => {
                    if self.depth == 0 {
                        return Err(DecodeError::Xml("unbalanced end tag".into()));
                    }
                    Some(self.close())
                }
                Event::Text(t) => {
                    let s = t.xml_content().map_err(xml_err)?;
                    self.text(s)?
                }
                Event::CData(c) => {
                    let s = c.xml_content().map_err(xml_err)?;
                    self.text(s)?
                }
                Event::GeneralRef(r) => {
                    let s: Cow<'a, str> = match r.resolve_char_ref().map_err(xml_err)? {
                        Some(c) => Cow::Owned(c.to_string()),
                        None => {
                            let name = r.decode().map_err(xml_err)?;
                            let s = quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| {
                                    DecodeError::Xml(format!("unknown entity &{name};"))
                                })?;
                            Cow::Borrowed(s)
                        }
                    };
                    self.text(s)?
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => None,
                Event::DocType(_) => return Err(DecodeError::Xml("DOCTYPE not allowed".into())),
                Event::Eof => {
                    if self.depth > 0 {
                        return Err(DecodeError::Xml("unexpected end of document".into()));
                    }
                    if !self.root_done {
                        return Err(DecodeError::Xml("empty document".into()));
                    }
                    Some(Ev::Eof)
                }
            };
            if let Some(ev) = ev {
                return Ok(ev);
            }
        }
    }

    /// The next event inside the current element (`Eof` cannot happen there).
    fn inner(&mut self) -> Result<Ev<'a>, DecodeError> {
        match self.next()? {
            Ev::Eof => Err(DecodeError::Xml("unexpected end of document".into())),
            ev => Ok(ev),
        }
    }

    /// The root element's start tag.
    fn root(&mut self) -> Result<BytesStart<'a>, DecodeError> {
        loop {
            match self.next()? {
                Ev::Open(s) => return Ok(s),
                // Text before the root is white space (checked in `text`).
                Ev::Text(_) => {}
                Ev::Close | Ev::Eof => return Err(DecodeError::Xml("empty document".into())),
            }
        }
    }

    /// Read to the end of the document, checking it is well formed.
    fn finish(&mut self) -> Result<(), DecodeError> {
        loop {
            if let Ev::Eof = self.next()? {
                return Ok(());
            }
        }
    }

    /// Skip the rest of an element whose start was just read.
    fn skip(&mut self) -> Result<(), DecodeError> {
        self.skip_to(self.depth - 1)
    }

    /// Read until only `depth` elements are open.
    fn skip_to(&mut self, depth: usize) -> Result<(), DecodeError> {
        while self.depth > depth {
            self.inner()?;
        }
        Ok(())
    }

    /// An element's own text, up to its end tag; child elements are skipped
    /// (the tree decoder ignored them too).
    fn own_text(&mut self) -> Result<String, DecodeError> {
        let mut out = String::new();
        loop {
            match self.inner()? {
                Ev::Text(t) => {
                    if out.is_empty() {
                        out = t.into_owned();
                    } else {
                        out.push_str(&t);
                    }
                }
                Ev::Open(_) => self.skip()?,
                Ev::Close => return Ok(out),
                Ev::Eof => unreachable!("inner() never returns Eof"),
            }
        }
    }

    /// Decode the first `<value>` child of the current element and skip the
    /// rest of it; `Missing("value")` if it has none.
    fn first_value(&mut self, side: Side) -> Result<Value, DecodeError> {
        let mut found = None;
        loop {
            match self.inner()? {
                Ev::Open(s) if found.is_none() && is(&s, "value") => {
                    found = Some(self.value(side)?);
                }
                Ev::Open(_) => self.skip()?,
                Ev::Text(_) => {}
                Ev::Close => return found.ok_or(DecodeError::Missing("value")),
                Ev::Eof => unreachable!("inner() never returns Eof"),
            }
        }
    }

    /// A `<value>` whose start tag was just read, through its end tag.
    fn value(&mut self, side: Side) -> Result<Value, DecodeError> {
        let mut text = String::new();
        let mut typed = None;
        loop {
            match self.inner()? {
                Ev::Text(t) if typed.is_none() => text.push_str(&t),
                Ev::Text(_) => {}
                Ev::Open(s) => {
                    if typed.is_some() {
                        // One typed child at most.
                        return Err(DecodeError::Unexpected(name_of(&s)));
                    }
                    typed = Some(self.typed(s, side)?);
                }
                Ev::Close => break,
                Ev::Eof => unreachable!("inner() never returns Eof"),
            }
        }
        // Untyped <value>text</value> is a string.
        Ok(typed.unwrap_or(Value::String(text)))
    }

    /// The typed child of a `<value>`, whose start tag `t` was just read.
    fn typed(&mut self, t: BytesStart<'a>, side: Side) -> Result<Value, DecodeError> {
        let kind = t.name();
        let kind = kind.as_ref();
        match kind {
            b"array" => return self.array(side),
            b"struct" => return self.structure(side),
            b"nil" if side == Side::Client => {
                self.skip()?;
                return Ok(Value::Nil);
            }
            b"int" | b"i4" | b"boolean" | b"string" | b"double" | b"dateTime.iso8601"
            | b"base64" => {}
            b"i8" if side == Side::Client => {}
            _ => return Err(DecodeError::Unexpected(name_of(&t))),
        }
        let text = self.own_text()?;
        let bad = |kind: &'static str| DecodeError::BadScalar {
            kind,
            text: text.clone(),
        };
        Ok(match kind {
            b"int" | b"i4" => Value::Int(parse_int(&text).ok_or_else(|| bad("int"))?),
            b"i8" => Value::Int(parse_int(&text).ok_or_else(|| bad("i8"))?),
            b"boolean" => match side {
                Side::Server => Value::Bool(text.trim() == "1"),
                Side::Client => match text.trim() {
                    "1" => Value::Bool(true),
                    "0" => Value::Bool(false),
                    _ => return Err(bad("boolean")),
                },
            },
            b"double" => Value::Double(text.trim().parse::<f64>().map_err(|_| bad("double"))?),
            b"dateTime.iso8601" => Value::DateTime(text.trim().to_string()),
            b"base64" => {
                let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                Value::Base64(
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .map_err(|_| bad("base64"))?,
                )
            }
            _ => Value::String(text),
        })
    }

    /// `<array>` (start tag read): the first `<data>`, whose children must
    /// all be `<value>`s.
    fn array(&mut self, side: Side) -> Result<Value, DecodeError> {
        let mut out = None;
        loop {
            match self.inner()? {
                Ev::Open(s) if out.is_none() && is(&s, "data") => {
                    let mut items = Vec::new();
                    loop {
                        match self.inner()? {
                            Ev::Open(v) if is(&v, "value") => items.push(self.value(side)?),
                            Ev::Open(v) => return Err(DecodeError::Unexpected(name_of(&v))),
                            Ev::Text(_) => {}
                            Ev::Close => break,
                            Ev::Eof => unreachable!("inner() never returns Eof"),
                        }
                    }
                    out = Some(items);
                }
                Ev::Open(_) => self.skip()?,
                Ev::Text(_) => {}
                Ev::Close => return out.map(Value::Array).ok_or(DecodeError::Missing("data")),
                Ev::Eof => unreachable!("inner() never returns Eof"),
            }
        }
    }

    /// `<struct>` (start tag read): `<member>`s only, each with a `<name>`
    /// and a `<value>` (the first of each counts).
    fn structure(&mut self, side: Side) -> Result<Value, DecodeError> {
        let mut out = Vec::new();
        loop {
            match self.inner()? {
                Ev::Open(m) if is(&m, "member") => {
                    let mut name = None;
                    let mut value = None;
                    loop {
                        match self.inner()? {
                            Ev::Open(s) if name.is_none() && is(&s, "name") => {
                                name = Some(self.own_text()?);
                            }
                            Ev::Open(s) if value.is_none() && is(&s, "value") => {
                                value = Some(self.value(side)?);
                            }
                            Ev::Open(_) => self.skip()?,
                            Ev::Text(_) => {}
                            Ev::Close => break,
                            Ev::Eof => unreachable!("inner() never returns Eof"),
                        }
                    }
                    let name = name.ok_or(DecodeError::Missing("name"))?;
                    let value = value.ok_or(DecodeError::Missing("value"))?;
                    out.push((name, value));
                }
                Ev::Open(m) => return Err(DecodeError::Unexpected(name_of(&m))),
                Ev::Text(_) => {}
                Ev::Close => return Ok(Value::Struct(out)),
                Ev::Eof => unreachable!("inner() never returns Eof"),
            }
        }
    }
}

/// A decoding error that leaves the event stream where it was (so the rest
/// of the document can still be read), as opposed to malformed XML.
fn recoverable(e: &DecodeError) -> bool {
    matches!(
        e,
        DecodeError::Unexpected(_) | DecodeError::Missing(_) | DecodeError::BadScalar { .. }
    )
}

impl Events<'_> {
    /// Run `f` on the element just opened below the root; a decoding error
    /// is returned as the inner `Err` after skipping back to the root's
    /// level, so later elements are still read (and checked) as the tree
    /// decoder read them. Malformed XML is the outer `Err`.
    fn attempt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Result<T, DecodeError>, DecodeError> {
        match f(self) {
            Ok(v) => Ok(Ok(v)),
            Err(e) if recoverable(&e) => {
                self.skip_to(1)?;
                Ok(Err(e))
            }
            Err(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------
// Values

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Server,
    Client,
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
            let _ = write!(out, "<int>{i}</int>");
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
            escape_into(s, out);
            out.push_str("</string>");
        }
        Value::Double(d) => {
            let _ = write!(out, "<double>{d:?}</double>");
        }
        Value::DateTime(s) => {
            out.push_str("<dateTime.iso8601>");
            escape_into(s, out);
            out.push_str("</dateTime.iso8601>");
        }
        Value::Base64(b) => {
            out.push_str("<base64>\n");
            base64::engine::general_purpose::STANDARD.encode_string(b, out);
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
                escape_into(k, out);
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

/// Append `s` escaped as by [`escape`], without an intermediate copy.
fn escape_into(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(i) =
        rest.find(|c: char| matches!(c, '&' | '<' | '>') || is_forbidden_xml_char(c))
    {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or_default();
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => {} // not representable in XML 1.0: dropped
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
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
    let mut ev = Events::new(doc)?;
    let root = ev.root()?;
    if !is(&root, "methodCall") {
        ev.finish()?;
        return Err(DecodeError::Unexpected(name_of(&root)));
    }
    let mut method = None;
    let mut params = None;
    loop {
        match ev.inner()? {
            Ev::Open(s) if method.is_none() && is(&s, "methodName") => {
                method = Some(ev.own_text()?);
            }
            Ev::Open(s) if params.is_none() && is(&s, "params") => {
                params = Some(ev.attempt(|ev| {
                    let mut out = Vec::new();
                    loop {
                        match ev.inner()? {
                            Ev::Open(p) if is(&p, "param") => {
                                out.push(ev.first_value(Side::Server)?);
                            }
                            Ev::Open(p) => return Err(DecodeError::Unexpected(name_of(&p))),
                            Ev::Text(_) => {}
                            Ev::Close => return Ok(out),
                            Ev::Eof => unreachable!("inner() never returns Eof"),
                        }
                    }
                })?);
            }
            Ev::Open(_) => ev.skip()?,
            Ev::Text(_) => {}
            Ev::Close => break,
            Ev::Eof => unreachable!("inner() never returns Eof"),
        }
    }
    ev.finish()?;
    // Checked in the order the tree decoder checked them.
    let method = method
        .ok_or(DecodeError::Missing("methodName"))?
        .trim()
        .to_string();
    if method.is_empty() {
        return Err(DecodeError::Missing("methodName"));
    }
    let params = params.transpose()?.unwrap_or_default();
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
    let mut ev = Events::new(doc)?;
    let root = ev.root()?;
    if !is(&root, "methodResponse") {
        ev.finish()?;
        return Err(DecodeError::Unexpected(name_of(&root)));
    }
    let mut fault = None;
    let mut params = None;
    loop {
        match ev.inner()? {
            Ev::Open(s) if fault.is_none() && is(&s, "fault") => {
                fault = Some(ev.attempt(|ev| ev.first_value(Side::Client))?);
            }
            Ev::Open(s) if params.is_none() && is(&s, "params") => {
                params = Some(ev.attempt(|ev| {
                    let mut found = None;
                    loop {
                        match ev.inner()? {
                            Ev::Open(p) if found.is_none() && is(&p, "param") => {
                                found = Some(ev.first_value(Side::Client)?);
                            }
                            Ev::Open(_) => ev.skip()?,
                            Ev::Text(_) => {}
                            Ev::Close => return found.ok_or(DecodeError::Missing("param")),
                            Ev::Eof => unreachable!("inner() never returns Eof"),
                        }
                    }
                })?);
            }
            Ev::Open(_) => ev.skip()?,
            Ev::Text(_) => {}
            Ev::Close => break,
            Ev::Eof => unreachable!("inner() never returns Eof"),
        }
    }
    ev.finish()?;
    // A fault wins wherever it stands, as in the tree decoder.
    if let Some(v) = fault {
        let v = v?;
        let code = v
            .get("faultCode")
            .and_then(Value::as_i64)
            .ok_or(DecodeError::Missing("faultCode"))?;
        let string = match v {
            Value::Struct(members) => members
                .into_iter()
                .find(|(k, _)| k == "faultString")
                .and_then(|(_, v)| match v {
                    Value::String(s) | Value::DateTime(s) => Some(s),
                    _ => None,
                }),
            _ => None,
        }
        .ok_or(DecodeError::Missing("faultString"))?;
        return Ok(Err(Fault { code, string }));
    }
    let value = params.ok_or(DecodeError::Missing("params"))??;
    Ok(Ok(value))
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
    fn first_element_counts_and_fault_wins() {
        // A fault wins over params wherever it stands, even over bad params.
        let doc = b"<methodResponse><params><param><value><int>x</int></value></param></params>\
            <fault><value><struct><member><name>faultCode</name><value><int>2</int></value></member>\
            <member><name>faultString</name><value>s</value></member></struct></value></fault>\
            </methodResponse>";
        assert_eq!(
            decode_response(doc).unwrap(),
            Err(Fault {
                code: 2,
                string: "s".into()
            })
        );
        // Elements not looked at are skipped, but must be well formed.
        let ok = b"<methodResponse><x><y/></x><params><param><junk/><value><int>1</int></value>\
            <value><bad/></value></param></params></methodResponse>";
        assert_eq!(decode_response(ok).unwrap(), Ok(Value::Int(1)));
        assert!(decode_response(
            b"<methodResponse><x><y></x><params><param><value>1</value></param></params></methodResponse>"
        )
        .is_err());
        // A missing methodName is reported before bad params.
        assert_eq!(
            decode_call(
                b"<methodCall><params><param><value><foo/></value></param></params></methodCall>"
            ),
            Err(DecodeError::Missing("methodName"))
        );
    }

    #[test]
    fn control_chars_dropped_on_encode() {
        let doc = encode_response(&"a\u{1}b".into());
        assert_eq!(decode_response(doc.as_bytes()).unwrap(), Ok("ab".into()));
    }

    #[test]
    fn repr() {
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a\nb"), "'a\\nb'");
    }
}
