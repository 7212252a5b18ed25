//! XML-RPC client over `unix://` sockets and `http://host:port`, with HTTP
//! Basic auth and one kept-alive connection, like supervisorctl's
//! `SupervisorTransport`.

use crate::control::http::{self, ChunkedDecoder, ResponseHead};
use crate::control::xmlrpc::{self, Fault, Value};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerUrl {
    Unix(String),
    Http { host: String, port: u16 },
}

impl ServerUrl {
    /// Parse `unix:///path` or `http://host[:port]` (port defaults to 80).
    pub fn parse(url: &str) -> Option<ServerUrl> {
        if let Some(path) = url.strip_prefix("unix://") {
            return (!path.is_empty()).then(|| ServerUrl::Unix(path.to_string()));
        }
        let rest = url.strip_prefix("http://")?;
        let hostport = rest.split('/').next().unwrap_or("");
        let hostport = hostport.rsplit('@').next().unwrap_or(hostport);
        if hostport.is_empty() {
            return None;
        }
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, p) = h.split_once(']')?;
            (h.to_string(), p.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        let port = match port {
            None | Some("") => 80,
            Some(p) => p.parse().ok()?,
        };
        Some(ServerUrl::Http { host, port })
    }
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
    /// The response could not be decoded.
    Decode(String),
}

impl CallError {
    /// The errno of an I/O failure, if that is what this is.
    pub fn errno(&self) -> Option<i32> {
        match self {
            CallError::Io(e) => e.raw_os_error(),
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
                    let class = match n {
                        libc::ENOENT => "FileNotFoundError",
                        libc::ECONNREFUSED => "ConnectionRefusedError",
                        libc::ECONNRESET => "ConnectionResetError",
                        libc::EPIPE => "BrokenPipeError",
                        libc::EACCES | libc::EPERM => "PermissionError",
                        _ => "OSError",
                    };
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
            CallError::Decode(m) => ("xml.parsers.expat.ExpatError".into(), m.clone()),
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
    fn open(url: &ServerUrl) -> io::Result<Conn> {
        let stream = match url {
            ServerUrl::Unix(p) => Stream::Unix(UnixStream::connect(p)?),
            ServerUrl::Http { host, port } => {
                let s = TcpStream::connect((host.as_str(), *port))?;
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

/// An XML-RPC client for one server.
pub struct Client {
    pub url: ServerUrl,
    pub username: Option<String>,
    pub password: Option<String>,
    conn: Option<Conn>,
}

impl Client {
    pub fn new(url: ServerUrl, username: Option<String>, password: Option<String>) -> Client {
        Client {
            url,
            username,
            password,
            conn: None,
        }
    }

    fn host(&self) -> String {
        match &self.url {
            ServerUrl::Unix(_) => "localhost".into(),
            ServerUrl::Http { host, port } if *port == 80 => host.clone(),
            ServerUrl::Http { host, port } => format!("{host}:{port}"),
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
    /// false. Returns the response head's status.
    pub fn stream_get(
        &mut self,
        path: &str,
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
        assert_eq!(
            ServerUrl::parse("unix:///tmp/s.sock"),
            Some(ServerUrl::Unix("/tmp/s.sock".into()))
        );
        assert_eq!(
            ServerUrl::parse("http://localhost:9001"),
            Some(ServerUrl::Http {
                host: "localhost".into(),
                port: 9001
            })
        );
        assert_eq!(
            ServerUrl::parse("http://h"),
            Some(ServerUrl::Http {
                host: "h".into(),
                port: 80
            })
        );
        assert_eq!(
            ServerUrl::parse("http://[::1]:9/RPC2"),
            Some(ServerUrl::Http {
                host: "::1".into(),
                port: 9
            })
        );
        assert_eq!(ServerUrl::parse("ftp://x"), None);
        assert_eq!(ServerUrl::parse("http://"), None);
    }

    #[test]
    fn python_error_texts() {
        let e = CallError::Io(io::Error::from_raw_os_error(libc::ECONNREFUSED));
        assert_eq!(
            e.python_class_and_message(),
            (
                "ConnectionRefusedError".into(),
                "[Errno 111] Connection refused".into()
            )
        );
        let e = CallError::Io(io::Error::from_raw_os_error(libc::ENOENT));
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
}
