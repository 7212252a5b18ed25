//! HTTP/1.1 pieces shared by the daemon's server and `pidvisorctl`, as pure
//! functions over byte buffers (no sockets here).
//!
//! The server side copies what Supervisor's Medusa server shows on the wire
//! (spec §6.1): `Server: Medusa/1.12`, a `Date`, the status line echoing the
//! request's HTTP version, keep-alive by default on 1.1 and only on request on
//! 1.0, Medusa's small HTML error pages, HTTP Basic auth with plain or
//! `{SHA}`-hashed passwords, and chunked transfer encoding for `/logtail`.

use base64::Engine as _;
use std::fmt::Write as _;

/// Largest request head (request line plus headers) accepted.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most headers accepted in one request or response.
pub const MAX_HEADERS: usize = 64;

/// What the server advertises, like Supervisor's Medusa.
pub const SERVER_HEADER: &str = "Medusa/1.12";

/// Size bounds for [`parse_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bound on the request head, at most [`MAX_HEADER_BYTES`] is sensible.
    pub max_header: usize,
    /// Bound on a request body (`Content-Length`).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header: MAX_HEADER_BYTES,
            max_body: 2 * 1024 * 1024,
        }
    }
}

/// Why a request could not be parsed; each maps to a status via [`HttpError::status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("request head larger than {0} bytes")]
    HeaderTooLarge(usize),
    #[error("request body larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("bad Content-Length")]
    BadContentLength,
    #[error("chunked request bodies are not supported")]
    ChunkedBody,
    /// Framing a proxy could read otherwise (RFC 9112 §6.3): both
    /// `Transfer-Encoding` and `Content-Length`, several of either, or an
    /// unknown transfer coding.
    #[error("ambiguous message framing: {0}")]
    Framing(&'static str),
}

impl HttpError {
    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::HeaderTooLarge(_) => 431,
            HttpError::BodyTooLarge(_) => 413,
            HttpError::Malformed(_) | HttpError::BadContentLength | HttpError::Framing(_) => 400,
            HttpError::ChunkedBody => 411,
        }
    }
}

/// A complete HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/RPC2`, `/logtail/foo/stderr`).
    pub path: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    pub headers: Vec<(String, String)>,
    /// `Content-Length` if one was sent.
    pub content_length: Option<usize>,
    pub body: Vec<u8>,
}

impl Request {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the connection stays open after the response (Medusa's rules):
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
    /// `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.version == 0 {
            conn.split(',').any(|t| t.trim() == "keep-alive")
        } else {
            !conn.split(',').any(|t| t.trim() == "close")
        }
    }

    /// `HTTP/1.0` or `HTTP/1.1`, for the status line.
    pub fn version_str(&self) -> &'static str {
        if self.version == 0 {
            "1.0"
        } else {
            "1.1"
        }
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Parse one request from the start of `buf`. `Ok(None)` means "need more
/// bytes"; `Ok(Some((req, used)))` consumed `used` bytes (pipelined bytes
/// after it belong to the next request).
pub fn parse_request(buf: &[u8], limits: &Limits) -> Result<Option<(Request, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() > limits.max_header {
                return Err(HttpError::HeaderTooLarge(limits.max_header));
            }
            return Ok(None);
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::HeaderTooLarge(limits.max_header))
        }
        Err(e) => return Err(HttpError::Malformed(e.to_string())),
    };
    if head_len > limits.max_header {
        return Err(HttpError::HeaderTooLarge(limits.max_header));
    }
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    let content_length = framing(&headers)?;
    let body_len = content_length.unwrap_or(0);
    if body_len > limits.max_body {
        return Err(HttpError::BodyTooLarge(limits.max_body));
    }
    if buf.len() - head_len < body_len {
        return Ok(None);
    }
    let request = Request {
        method: req.method.unwrap_or("").to_string(),
        path: req.path.unwrap_or("").to_string(),
        version: req.version.unwrap_or(1),
        headers,
        content_length,
        body: buf[head_len..head_len + body_len].to_vec(),
    };
    Ok(Some((request, head_len + body_len)))
}

/// The body length a request's headers give, read strictly: anything a
/// proxy in front of us could read differently (and so smuggle a second
/// request in the body of the first) is refused.
fn framing(headers: &[(String, String)]) -> Result<Option<usize>, HttpError> {
    let named = |n: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (lengths, codings) = (named("content-length"), named("transfer-encoding"));
    if lengths.len() > 1 {
        return Err(HttpError::Framing("more than one Content-Length"));
    }
    match codings.as_slice() {
        [] => {}
        [_] if !lengths.is_empty() => {
            return Err(HttpError::Framing("Transfer-Encoding with Content-Length"))
        }
        [c] if c.eq_ignore_ascii_case("chunked") => return Err(HttpError::ChunkedBody),
        // The obsolete no-op coding some clients still send.
        [c] if c.eq_ignore_ascii_case("identity") => {}
        [_] => return Err(HttpError::Framing("unknown Transfer-Encoding")),
        _ => return Err(HttpError::Framing("more than one Transfer-Encoding")),
    }
    let Some(v) = lengths.first() else {
        return Ok(None);
    };
    // Digits only: Rust's parse would take a sign (`+107`), a proxy may not.
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HttpError::BadContentLength);
    }
    v.parse().map(Some).map_err(|_| HttpError::BadContentLength)
}

/// The minor HTTP version a request line asks for, as far as it can be
/// read (for the status line of an error page sent before the request
/// could be parsed): 1 for `HTTP/1.1`, else 0.
pub fn request_version(buf: &[u8]) -> u8 {
    let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    u8::from(line.ends_with(b" HTTP/1.1"))
}

/// Decode `%XX` escapes in a request path (`/logtail/grp%3Aname`). Works on
/// bytes: an escape next to a multi-byte character is not a char boundary.
/// Bad escapes stay as sent; invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// Authentication

/// A server's configured credentials. `password` is plain text, or `{SHA}`
/// followed by the 40-hex-digit SHA-1 of the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Check an `Authorization` header value against `creds` (HTTP Basic).
pub fn check_basic_auth(authorization: Option<&str>, creds: &Credentials) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let mut parts = value.trim().splitn(2, ' ');
    let (Some(scheme), Some(token)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
        return false;
    };
    let Ok(raw) = String::from_utf8(raw) else {
        return false;
    };
    let Some((user, pass)) = raw.split_once(':') else {
        return false;
    };
    if !ct_eq(user.as_bytes(), creds.username.as_bytes()) {
        return false;
    }
    match creds.password.strip_prefix("{SHA}") {
        Some(hex) => ct_eq(
            sha1_hex(pass.as_bytes()).as_bytes(),
            hex.to_ascii_lowercase().as_bytes(),
        ),
        None => ct_eq(pass.as_bytes(), creds.password.as_bytes()),
    }
}

/// Compare without an early exit on the first differing byte.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's `Authorization` header value for Basic auth.
pub fn basic_auth_value(username: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
    )
}

/// SHA-1 of `data`, as lowercase hex. Only used to compare `{SHA}`
/// passwords, where Supervisor's config format fixes the algorithm.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

// ---------------------------------------------------------------------------
// Responses (server side)

/// Medusa's reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Request Entity Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// RFC 1123 date (`Sun, 06 Nov 1994 08:49:37 GMT`) for a Unix time.
pub fn http_date(epoch_secs: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_secs, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Everything a response head needs besides its own headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyCtx<'a> {
    /// `"1.0"` or `"1.1"`: the request's version, echoed like Medusa.
    pub version: &'a str,
    /// Keep the connection open afterwards (from [`Request::keep_alive`]).
    pub keep_alive: bool,
    /// The `Date` header value (from [`http_date`]).
    pub date: &'a str,
}

fn head(ctx: &ReplyCtx<'_>, status: u16, headers: &[(&str, &str)]) -> String {
    let mut s = format!("HTTP/{} {} {}\r\n", ctx.version, status, reason(status));
    let _ = write!(s, "Server: {SERVER_HEADER}\r\nDate: {}\r\n", ctx.date);
    for (k, v) in headers {
        let _ = write!(s, "{k}: {v}\r\n");
    }
    if !ctx.keep_alive {
        s.push_str("Connection: close\r\n");
    } else if ctx.version == "1.0" {
        s.push_str("Connection: Keep-Alive\r\n");
    }
    s
}

/// A complete response with a body and `Content-Length`.
pub fn response(ctx: &ReplyCtx<'_>, status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut s = head(ctx, status, headers);
    let _ = write!(s, "Content-Length: {}\r\n\r\n", body.len());
    let mut out = s.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Append a complete response to `out`: the body is copied once, straight
/// into the connection's buffer.
pub fn append_response(
    ctx: &ReplyCtx<'_>,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    out: &mut Vec<u8>,
) {
    let mut s = head(ctx, status, headers);
    let _ = write!(s, "Content-Length: {}\r\n\r\n", body.len());
    out.reserve(s.len() + body.len());
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(body);
}

/// A 200 `text/xml` response carrying an XML-RPC document.
pub fn xml_response(ctx: &ReplyCtx<'_>, body: &[u8]) -> Vec<u8> {
    response(ctx, 200, &[("Content-Type", "text/xml")], body)
}

/// Medusa's HTML error page body for `status`.
pub fn error_page(status: u16) -> String {
    format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n\
         <p>Error code {status}.\r\n<p>Message: {}.\r\n</body>\r\n",
        reason(status)
    )
}

/// A complete error response with Medusa's HTML page. A 401 carries
/// `WWW-Authenticate: Basic realm="default"` and always closes.
pub fn error_response(ctx: &ReplyCtx<'_>, status: u16) -> Vec<u8> {
    let mut ctx = *ctx;
    let mut headers = vec![("Content-Type", "text/html")];
    if status == 401 {
        headers.push(("WWW-Authenticate", "Basic realm=\"default\""));
        ctx.keep_alive = false;
    }
    response(&ctx, status, &headers, error_page(status).as_bytes())
}

/// The head of a chunked streaming response (`/logtail`); follow with
/// [`chunk`]s and finally [`LAST_CHUNK`].
pub fn chunked_head(ctx: &ReplyCtx<'_>, status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut s = head(ctx, status, headers);
    s.push_str("Transfer-Encoding: chunked\r\n\r\n");
    s.into_bytes()
}

/// One chunk of a chunked body. Empty data yields nothing (an empty chunk
/// would end the stream).
pub fn chunk(data: &[u8]) -> Vec<u8> {
    if data.is_empty() {
        return Vec::new();
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The terminating chunk of a chunked body.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

// ---------------------------------------------------------------------------
// Client side

/// Encode a request (client side). `Host` is `localhost` over unix sockets.
pub fn encode_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut s = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n");
    for (k, v) in headers {
        let _ = write!(s, "{k}: {v}\r\n");
    }
    if method == "POST" || !body.is_empty() {
        let _ = write!(s, "Content-Length: {}\r\n", body.len());
    }
    s.push_str("\r\n");
    let mut out = s.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub version: u8,
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
    pub fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }
    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }
    /// Whether the server will keep the connection open.
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.version == 0 {
            conn.contains("keep-alive")
        } else {
            !conn.contains("close")
        }
    }
}

/// Parse a response head from the start of `buf`: `Ok(None)` = need more.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => Ok(Some((
            ResponseHead {
                status: resp.code.unwrap_or(0),
                reason: resp.reason.unwrap_or("").to_string(),
                version: resp.version.unwrap_or(1),
                headers: resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).trim().to_string(),
                        )
                    })
                    .collect(),
            },
            n,
        ))),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEADER_BYTES => {
            Err(HttpError::HeaderTooLarge(MAX_HEADER_BYTES))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HttpError::Malformed(e.to_string())),
    }
}

/// Incremental decoder of a chunked body.
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    buf: Vec<u8>,
    done: bool,
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        Self::default()
    }
    /// True once the terminating chunk was seen.
    pub fn done(&self) -> bool {
        self.done
    }
    /// Feed raw bytes; returns the body bytes now complete.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<u8>, HttpError> {
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            if self.done {
                return Ok(out);
            }
            match httparse::parse_chunk_size(&self.buf) {
                Ok(httparse::Status::Complete((start, size))) => {
                    let size = usize::try_from(size)
                        .map_err(|_| HttpError::Malformed("chunk too large".into()))?;
                    if size == 0 {
                        self.done = true;
                        self.buf.clear();
                        return Ok(out);
                    }
                    let end = start + size;
                    if self.buf.len() < end + 2 {
                        return Ok(out);
                    }
                    out.extend_from_slice(&self.buf[start..end]);
                    self.buf.drain(..end + 2);
                }
                Ok(httparse::Status::Partial) => return Ok(out),
                Err(_) => return Err(HttpError::Malformed("bad chunk size".into())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits {
            max_header: 1024,
            max_body: 100,
        }
    }

    #[test]
    fn parse_complete_partial_and_pipelined() {
        let raw = b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n";
        let (r, used) = parse_request(raw, &lim()).unwrap().unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/RPC2");
        assert_eq!(r.body, b"hello");
        assert_eq!(r.content_length, Some(5));
        assert!(r.keep_alive());
        let (r2, _) = parse_request(&raw[used..], &lim()).unwrap().unwrap();
        assert_eq!(r2.method, "GET");
        assert_eq!(r2.version, 0);
        assert!(!r2.keep_alive());
        assert_eq!(r2.content_length, None);
        for cut in 0..used {
            assert_eq!(
                parse_request(&raw[..cut], &lim()).unwrap(),
                None,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn keep_alive_rules() {
        let p = |s: &str| parse_request(s.as_bytes(), &lim()).unwrap().unwrap().0;
        assert!(p("GET / HTTP/1.1\r\n\r\n").keep_alive());
        assert!(!p("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive());
        assert!(!p("GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(p("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
    }

    #[test]
    fn bounds_and_errors() {
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(2000));
        assert_eq!(
            parse_request(big.as_bytes(), &lim()),
            Err(HttpError::HeaderTooLarge(1024))
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", &lim()),
            Err(HttpError::BodyTooLarge(100))
        );
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", &lim()),
            Err(HttpError::BadContentLength)
        );
        assert_eq!(
            parse_request(
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                &lim()
            )
            .unwrap_err()
            .status(),
            411
        );
        assert_eq!(
            parse_request(
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nab",
                &lim()
            )
            .unwrap_err()
            .status(),
            400
        );
        // Issue 21: even agreeing duplicates are refused (RFC 9112 lets a
        // server reject them; a proxy may have read only one).
        let same = b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab";
        assert_eq!(parse_request(same, &lim()).unwrap_err().status(), 400);
        assert_eq!(
            parse_request(b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &lim()),
            Err(HttpError::BadContentLength)
        );
        assert!(matches!(
            parse_request(b"GARBAGE\r\n\r\n", &lim()),
            Err(HttpError::Malformed(_))
        ));
    }

    /// Issue 21, point 5: loose framing is refused.
    #[test]
    fn framing_is_strict() {
        let status = |raw: &str| match parse_request(raw.as_bytes(), &lim()) {
            Err(e) => e.status(),
            Ok(Some(_)) => 200,
            Ok(None) => 0,
        };
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nab"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 2 \r\n\r\nab"),
            200
        );
        assert_eq!(status("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nab"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nab"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n"),
            200
        );
        assert_eq!(request_version(b"GET / HTTP/1.1\r\nX"), 1);
        assert_eq!(request_version(b"GET / HTTP/1.0\r\n"), 0);
        assert_eq!(request_version(b"GARBAGE"), 0);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("grp%3Aname"), "grp:name");
        assert_eq!(percent_decode("%e6%97%a5"), "日");
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
        // Regression: an escape next to a multi-byte character used to
        // slice a str off a char boundary and bring the daemon down.
        assert_eq!(percent_decode("%aé"), "%aé");
        assert_eq!(percent_decode("é%"), "é%");
    }

    #[test]
    fn sha1_known_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            sha1_hex(&[b'a'; 1000]),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn basic_auth() {
        let plain = Credentials {
            username: "user".into(),
            password: "123".into(),
        };
        let hashed = Credentials {
            username: "user".into(),
            password: format!("{{SHA}}{}", sha1_hex(b"123")),
        };
        let good = basic_auth_value("user", "123");
        assert_eq!(good, "Basic dXNlcjoxMjM=");
        for c in [&plain, &hashed] {
            assert!(check_basic_auth(Some(&good), c));
            assert!(!check_basic_auth(Some(&basic_auth_value("user", "124")), c));
            assert!(!check_basic_auth(Some(&basic_auth_value("usr", "123")), c));
            assert!(!check_basic_auth(None, c));
            assert!(!check_basic_auth(Some("Bearer x"), c));
            assert!(!check_basic_auth(Some("Basic !!!"), c));
        }
        // Passwords may contain ':'.
        let colon = Credentials {
            username: "u".into(),
            password: "a:b".into(),
        };
        assert!(check_basic_auth(
            Some(&basic_auth_value("u", "a:b")),
            &colon
        ));
    }

    #[test]
    fn responses() {
        let ctx = ReplyCtx {
            version: "1.1",
            keep_alive: true,
            date: "Thu, 01 Jan 1970 00:00:00 GMT",
        };
        assert_eq!(http_date(0), ctx.date);
        let r = String::from_utf8(xml_response(&ctx, b"<x/>")).unwrap();
        assert_eq!(
            r,
            "HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\nDate: Thu, 01 Jan 1970 00:00:00 GMT\r\n\
             Content-Type: text/xml\r\nContent-Length: 4\r\n\r\n<x/>"
        );
        let e = String::from_utf8(error_response(&ctx, 401)).unwrap();
        assert!(e.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
        assert!(e.contains("WWW-Authenticate: Basic realm=\"default\"\r\n"));
        assert!(e.contains("Connection: close\r\n"));
        assert!(e.ends_with("<p>Error code 401.\r\n<p>Message: Unauthorized.\r\n</body>\r\n"));
        let (h, n) = parse_response_head(e.as_bytes()).unwrap().unwrap();
        assert_eq!(h.status, 401);
        assert!(!h.keep_alive());
        assert_eq!(h.content_length(), Some(e.len() - n));
    }

    #[test]
    fn chunked_round_trip() {
        let ctx = ReplyCtx {
            version: "1.1",
            keep_alive: true,
            date: "x",
        };
        let mut wire = chunked_head(&ctx, 200, &[("Content-Type", "text/plain;charset=utf-8")]);
        let (h, n) = parse_response_head(&wire).unwrap().unwrap();
        assert!(h.chunked());
        wire.drain(..n);
        wire.extend(chunk(b"hello "));
        wire.extend(chunk(b""));
        wire.extend(chunk(&[b'x'; 300]));
        wire.extend_from_slice(LAST_CHUNK);
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        for b in &wire {
            out.extend(d.feed(std::slice::from_ref(b)).unwrap());
        }
        assert!(d.done());
        assert_eq!(&out[..6], b"hello ");
        assert_eq!(out.len(), 306);
    }

    #[test]
    fn client_request() {
        let r = encode_request(
            "POST",
            "/RPC2",
            "localhost",
            &[("Content-Type", "text/xml")],
            b"ab",
        );
        let (req, _) = parse_request(&r, &lim()).unwrap().unwrap();
        assert_eq!(req.header("host"), Some("localhost"));
        assert_eq!(req.body, b"ab");
    }
}
