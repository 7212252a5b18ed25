//! XML-RPC client over `unix://` sockets and `http://host:port`, with HTTP
//! Basic auth and one kept-alive connection, like supervisorctl's
//! `SupervisorTransport`.
//!
//! Server URLs are read with Python's `urlparse` ([`crate::py::urlsplit`])
//! and host names resolved with [`crate::sys::net::resolve`], so that a
//! failure is reported as the Python exception supervisorctl prints
//! ([`CallError::python_class_and_message`]). Called by the commands and
//! the shell's completion.

use crate::control::xmlrpc::{self, Fault, Value};
use crate::http::codec::{self as http, ChunkedDecoder, ResponseHead};
use crate::py::urlsplit::urlparse;
use crate::sys::errno::errno_name;
use crate::sys::net::{self as net, GaiError, LookupError};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerUrl {
    Unix(String),
    Http { host: String, port: u16 },
}

/// A server URL that cannot be used, as the Python exception that
/// supervisorctl's `SupervisorTransport` (or urllib under it) raises when
/// the first call is made: supervisorctl accepts such a URL at start-up
/// and reports it as `error: <class 'ValueError'>, ...` on every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    /// `ValueError` or `TypeError`.
    pub class: &'static str,
    pub message: String,
}

impl UrlError {
    fn value(message: String) -> UrlError {
        UrlError {
            class: "ValueError",
            message,
        }
    }
}

impl ServerUrl {
    /// Parse `unix://PATH` or `http://host[:port]` (port defaults to 80) as
    /// `SupervisorTransport` does: the prefix is matched case-sensitively,
    /// and host and port come from Python's `urlparse` (`hostname`,
    /// `port`), so its errors are urllib's.
    pub fn parse(url: &str) -> Result<ServerUrl, UrlError> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(ServerUrl::Unix(path.to_string()));
        }
        if !url.starts_with("http://") {
            return Err(UrlError::value(format!(
                "Unknown protocol for serverurl {url}"
            )));
        }
        let parsed = urlparse(url).map_err(UrlError::value)?;
        let port = parsed.port().map_err(UrlError::value)?.unwrap_or(80);
        let Some(host) = parsed.hostname() else {
            // urlparse's hostname is None, which http.client cannot use.
            return Err(UrlError {
                class: "TypeError",
                message: "expected string or bytes-like object, got 'NoneType'".into(),
            });
        };
        Ok(ServerUrl::Http { host, port })
    }
}

/// Supervisor's `url` datatype (`-s`/`--serverurl`): what `urlparse` reads
/// with a scheme and a netloc or a path. The message is the `ValueError`'s.
pub fn check_url(value: &str) -> Result<(), String> {
    let parsed = urlparse(value)?;
    let has_place = !parsed.netloc.is_empty() || !parsed.path.is_empty();
    if !parsed.scheme.is_empty() && has_place {
        return Ok(());
    }
    Err(format!("value {} is not a URL", crate::py::py_repr(value)))
}

/// What went wrong with a call.
#[derive(Debug)]
pub enum CallError {
    /// The server answered with an XML-RPC fault.
    Fault(Fault),
    /// The server answered with an HTTP status other than 200.
    Protocol { status: u16, reason: String },
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The server's host name did not resolve (Python's `socket.gaierror`).
    Lookup(GaiError),
    /// The response could not be decoded.
    Decode(String),
    /// A Python exception raised in supervisorctl itself rather than by
    /// the connection: an unusable server URL, or end of input at a
    /// prompt (`EOFError`).
    Raised { class: String, message: String },
}

impl From<UrlError> for CallError {
    fn from(e: UrlError) -> Self {
        CallError::Raised {
            class: e.class.into(),
            message: e.message,
        }
    }
}

impl CallError {
    /// Python's `EOFError` from `input()` (`EOF when reading a line`) or
    /// from getpass (no message) at end of input.
    pub fn eof(message: &str) -> CallError {
        CallError::Raised {
            class: "EOFError".into(),
            message: message.into(),
        }
    }
}

impl CallError {
    /// The errno name (`ECONNREFUSED`) of an I/O failure, if that is what
    /// this is.
    pub fn errno_name(&self) -> Option<&'static str> {
        match self {
            CallError::Io(e) => e.raw_os_error().and_then(errno_name),
            _ => None,
        }
    }

    /// Python's `<class '...'>, <message>` pair for supervisorctl's generic
    /// `error: %s, %s: file: %s line: %s` line.
    pub fn python_class_and_message(&self) -> (String, String) {
        match self {
            CallError::Fault(f) => ("xmlrpc.client.Fault".into(), f.to_string()),
            CallError::Protocol { status, reason } => (
                "xmlrpc.client.ProtocolError".into(),
                format!("<ProtocolError for 127.0.0.1/RPC2: {status} {reason}>"),
            ),
            CallError::Io(e) => match e.raw_os_error() {
                Some(n) => {
                    let class = os_error_class(errno_name(n).unwrap_or(""));
                    let msg = io::Error::from_raw_os_error(n).to_string();
                    // Rust appends " (os error N)"; Python prefixes "[Errno N] ".
                    let msg = msg
                        .strip_suffix(&format!(" (os error {n})"))
                        .unwrap_or(&msg)
                        .to_string();
                    (class.into(), format!("[Errno {n}] {msg}"))
                }
                None => match e.kind() {
                    io::ErrorKind::UnexpectedEof => (
                        "http.client.RemoteDisconnected".into(),
                        "Remote end closed connection without response".into(),
                    ),
                    _ => ("OSError".into(), e.to_string()),
                },
            },
            CallError::Lookup(e) => (
                "socket.gaierror".into(),
                format!("[Errno {}] {}", e.code, e.message()),
            ),
            CallError::Decode(m) => ("xml.parsers.expat.ExpatError".into(), m.clone()),
            CallError::Raised { class, message } => (class.clone(), message.clone()),
        }
    }
}

/// The subclass of `OSError` Python raises for an errno (PEP 3151), by the
/// errno's name.
fn os_error_class(errno_name: &str) -> &'static str {
    match errno_name {
        "EAGAIN" | "EALREADY" | "EINPROGRESS" => "BlockingIOError",
        "ECHILD" => "ChildProcessError",
        "EPIPE" | "ESHUTDOWN" => "BrokenPipeError",
        "ECONNABORTED" => "ConnectionAbortedError",
        "ECONNREFUSED" => "ConnectionRefusedError",
        "ECONNRESET" => "ConnectionResetError",
        "EEXIST" => "FileExistsError",
        "ENOENT" => "FileNotFoundError",
        "EISDIR" => "IsADirectoryError",
        "ENOTDIR" => "NotADirectoryError",
        "EINTR" => "InterruptedError",
        "EACCES" | "EPERM" => "PermissionError",
        "ESRCH" => "ProcessLookupError",
        "ETIMEDOUT" => "TimeoutError",
        _ => "OSError",
    }
}

impl From<LookupError> for CallError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::Gai(e) => CallError::Lookup(e),
            LookupError::Os(e) => CallError::Io(e),
        }
    }
}

impl From<io::Error> for CallError {
    fn from(e: io::Error) -> Self {
        CallError::Io(e)
    }
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}
impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

/// One HTTP connection plus what it has read ahead.
struct Conn {
    stream: Stream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(url: &Result<ServerUrl, UrlError>) -> Result<Conn, CallError> {
        let stream = match url.as_ref().map_err(|e| CallError::from(e.clone()))? {
            ServerUrl::Unix(p) => Stream::Unix(UnixStream::connect(p)?),
            ServerUrl::Http { host, port } => {
                let addrs = net::resolve(host, *port)?;
                let s = TcpStream::connect(&addrs[..])?;
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }
        };
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16384];
        let n = loop {
            match self.stream.read(&mut tmp) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    fn read_head(&mut self) -> Result<ResponseHead, CallError> {
        loop {
            match http::parse_response_head(&self.buf) {
                Ok(Some((h, n))) => {
                    self.buf.drain(..n);
                    return Ok(h);
                }
                Ok(None) => {}
                Err(e) => return Err(CallError::Decode(e.to_string())),
            }
            if self.fill()? == 0 {
                return Err(CallError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed",
                )));
            }
        }
    }

    /// Read a whole body (Content-Length, chunked, or to EOF).
    fn read_body(&mut self, head: &ResponseHead) -> Result<Vec<u8>, CallError> {
        if head.chunked() {
            let mut dec = ChunkedDecoder::new();
            let mut out = dec
                .feed(&std::mem::take(&mut self.buf))
                .map_err(|e| CallError::Decode(e.to_string()))?;
            while !dec.done() {
                let mut tmp = [0u8; 16384];
                let n = self.stream.read(&mut tmp)?;
                if n == 0 {
                    break;
                }
                out.extend(
                    dec.feed(&tmp[..n])
                        .map_err(|e| CallError::Decode(e.to_string()))?,
                );
            }
            return Ok(out);
        }
        match head.content_length() {
            Some(len) => {
                while self.buf.len() < len {
                    if self.fill()? == 0 {
                        return Err(CallError::Io(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "short body",
                        )));
                    }
                }
                Ok(self.buf.drain(..len).collect())
            }
            None => {
                while self.fill()? > 0 {}
                Ok(std::mem::take(&mut self.buf))
            }
        }
    }
}

/// An XML-RPC client for one server. An unusable URL is kept, and each
/// call fails with its error, as supervisorctl's calls do.
pub struct Client {
    pub url: Result<ServerUrl, UrlError>,
    pub username: Option<String>,
    pub password: Option<String>,
    conn: Option<Conn>,
}

impl Client {
    pub fn new(
        url: Result<ServerUrl, UrlError>,
        username: Option<String>,
        password: Option<String>,
    ) -> Client {
        Client {
            url,
            username,
            password,
            conn: None,
        }
    }

    fn host(&self) -> String {
        match &self.url {
            Ok(ServerUrl::Http { host, port }) if *port == 80 => host.clone(),
            Ok(ServerUrl::Http { host, port }) => format!("{host}:{port}"),
            _ => "localhost".into(),
        }
    }

    fn auth_header(&self) -> Option<String> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some(http::basic_auth_value(u, p)),
            _ => None,
        }
    }

    /// Call `method` with `params`.
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, CallError> {
        let body = xmlrpc::encode_call(method, params);
        let auth = self.auth_header();
        let mut headers = vec![
            ("User-Agent", "pidvisorctl"),
            ("Content-Type", "text/xml"),
            ("Accept", "text/xml"),
        ];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let req = http::encode_request("POST", "/RPC2", &self.host(), &headers, body.as_bytes());
        // A kept-alive connection may have been closed by the server since
        // the last call: retry once on a fresh connection in that case.
        let reused = self.conn.is_some();
        match self.round_trip(&req) {
            Err(CallError::Io(e)) if reused && is_stale(&e) => {
                self.conn = None;
                self.round_trip(&req)
            }
            r => r,
        }
        .and_then(|(head, data)| {
            if head.status != 200 {
                return Err(CallError::Protocol {
                    status: head.status,
                    reason: head.reason,
                });
            }
            match xmlrpc::decode_response(&data) {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(f)) => Err(CallError::Fault(f)),
                Err(e) => Err(CallError::Decode(e.to_string())),
            }
        })
    }

    fn round_trip(&mut self, req: &[u8]) -> Result<(ResponseHead, Vec<u8>), CallError> {
        if self.conn.is_none() {
            self.conn = Some(Conn::open(&self.url)?);
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))?;
        let result = (|| {
            conn.stream.write_all(req)?;
            let head = conn.read_head()?;
            let body = conn.read_body(&head)?;
            Ok((head, body))
        })();
        match &result {
            Ok((head, _)) if head.status == 200 && head.keep_alive() => {}
            _ => self.conn = None,
        }
        result
    }

    /// Stream `GET path` (a chunked `/logtail` response), handing each piece
    /// of body to `sink` until the server ends the stream or `sink` returns
    /// false. Returns the response head's status. `on_ok` runs once a 200
    /// head has been read, before any body.
    pub fn stream_get(
        &mut self,
        path: &str,
        on_ok: &mut dyn FnMut(),
        sink: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Result<u16, CallError> {
        let mut conn = Conn::open(&self.url)?;
        let auth = self.auth_header();
        let mut headers = vec![("Accept", "*/*")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        let req = http::encode_request("GET", path, &self.host(), &headers, b"");
        conn.stream.write_all(&req)?;
        let head = conn.read_head()?;
        if head.status != 200 {
            return Ok(head.status);
        }
        on_ok();
        let mut dec = ChunkedDecoder::new();
        let chunked = head.chunked();
        let mut pending = std::mem::take(&mut conn.buf);
        loop {
            let data = if chunked {
                dec.feed(&pending)
                    .map_err(|e| CallError::Decode(e.to_string()))?
            } else {
                std::mem::take(&mut pending)
            };
            if !data.is_empty() && !sink(&data) {
                return Ok(200);
            }
            if chunked && dec.done() {
                return Ok(200);
            }
            let mut tmp = [0u8; 16384];
            let n = conn.stream.read(&mut tmp)?;
            if n == 0 {
                return Ok(200);
            }
            pending = tmp[..n].to_vec();
        }
    }
}

fn is_stale(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let http = |host: &str, port| {
            Ok(ServerUrl::Http {
                host: host.into(),
                port,
            })
        };
        let err = |m: &str| Err(UrlError::value(m.into()));
        assert_eq!(
            ServerUrl::parse("unix:///tmp/s.sock"),
            Ok(ServerUrl::Unix("/tmp/s.sock".into()))
        );
        assert_eq!(ServerUrl::parse("unix://"), Ok(ServerUrl::Unix("".into())));
        assert_eq!(
            ServerUrl::parse("http://localhost:9001"),
            http("localhost", 9001)
        );
        assert_eq!(ServerUrl::parse("http://h"), http("h", 80));
        assert_eq!(ServerUrl::parse("http://u:p@H:0080/x"), http("h", 80));
        assert_eq!(ServerUrl::parse("http://[::1]:9/RPC2"), http("::1", 9));
        assert_eq!(
            ServerUrl::parse("ftp://x"),
            err("Unknown protocol for serverurl ftp://x")
        );
        assert_eq!(
            ServerUrl::parse("HTTP://x:1"),
            err("Unknown protocol for serverurl HTTP://x:1")
        );
        assert_eq!(
            ServerUrl::parse("http://a:b:c"),
            err("Port could not be cast to integer value as 'b:c'")
        );
        assert_eq!(
            ServerUrl::parse("http://h:-1"),
            err("Port could not be cast to integer value as '-1'")
        );
        assert_eq!(
            ServerUrl::parse("http://h:65536"),
            err("Port out of range 0-65535")
        );
        assert_eq!(
            ServerUrl::parse("http://h:99999999999999999999"),
            err("Port out of range 0-65535")
        );
        assert_eq!(ServerUrl::parse("http://[::1"), err("Invalid IPv6 URL"));
        assert_eq!(ServerUrl::parse("http://").unwrap_err().class, "TypeError");
    }

    #[test]
    fn url_datatype() {
        for ok in ["unix:///s", "http://h:x", "ftp://x", "x:y", "HTTP://h"] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in ["x", "x:", "http://", "=unix:///s", "1x:y", "x:?q"] {
            assert_eq!(
                check_url(bad),
                Err(format!("value '{bad}' is not a URL")),
                "{bad}"
            );
        }
        assert_eq!(check_url("http://[::1"), Err("Invalid IPv6 URL".into()));
        // urlparse takes `;params` off an http path.
        assert_eq!(
            check_url("http:;a"),
            Err("value 'http:;a' is not a URL".into())
        );
        assert_eq!(check_url("x:;a"), Ok(()));
    }

    #[test]
    fn python_error_texts() {
        let e = CallError::Io(io::Error::from_raw_os_error(111));
        assert_eq!(
            e.python_class_and_message(),
            (
                "ConnectionRefusedError".into(),
                "[Errno 111] Connection refused".into()
            )
        );
        let e = CallError::Io(io::Error::from_raw_os_error(2));
        assert_eq!(
            e.python_class_and_message().1,
            "[Errno 2] No such file or directory"
        );
        let e = CallError::Protocol {
            status: 401,
            reason: "Unauthorized".into(),
        };
        assert_eq!(
            e.python_class_and_message().1,
            "<ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>"
        );
    }

    /// Python's class and text for a failed lookup (`socket.gaierror`) and
    /// for errnos, as CPython 3.11 names them (`OSError(n, ...)`).
    #[test]
    fn python_classes() {
        let e = CallError::Lookup(GaiError { code: -2 });
        assert_eq!(
            e.python_class_and_message(),
            (
                "socket.gaierror".into(),
                "[Errno -2] Name or service not known".into()
            )
        );
        let e = CallError::Lookup(GaiError { code: -3 });
        assert_eq!(
            e.python_class_and_message().1,
            "[Errno -3] Temporary failure in name resolution"
        );
        for (errno, class) in [
            (1, "PermissionError"),
            (2, "FileNotFoundError"),
            (3, "ProcessLookupError"),
            (4, "InterruptedError"),
            (5, "OSError"),
            (10, "ChildProcessError"),
            (11, "BlockingIOError"),
            (13, "PermissionError"),
            (17, "FileExistsError"),
            (20, "NotADirectoryError"),
            (21, "IsADirectoryError"),
            (32, "BrokenPipeError"),
            (103, "ConnectionAbortedError"),
            (104, "ConnectionResetError"),
            (108, "BrokenPipeError"),
            (110, "TimeoutError"),
            (111, "ConnectionRefusedError"),
            (114, "BlockingIOError"),
            (115, "BlockingIOError"),
        ] {
            let e = CallError::Io(io::Error::from_raw_os_error(errno));
            assert_eq!(e.python_class_and_message().0, class, "errno {errno}");
        }
    }
}
