//! The HTTP/1.1 server on the unix socket and the inet port, as
//! Supervisor's Medusa serves them: listeners, connections and their
//! buffers, Basic auth on every path, framing, and chunked streams for log
//! followers. It knows nothing of what a path means: each complete,
//! authorised request comes out as an [`HttpEvent`], and whoever handles
//! it (the reactor hands `/RPC2` to the XML-RPC face, logs to the
//! followers) answers with [`HttpServer::respond`] or
//! [`HttpServer::follow`]. A connection answers its requests in order, so
//! while one is pending the next waits in its buffer.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use super::codec::{self, Limits, ReplyCtx};
use crate::config::Config;
use crate::logs::read::Follower;

/// Tokens at and above this belong to the HTTP server.
pub const BASE: usize = 1 << 40;

/// Most open connections at once, whatever the fd limit allows. At the
/// budget (see [`HttpServer::set_budget`]) or when the daemon runs out of
/// descriptors, the least recently active connection with no call in
/// progress makes room, so that idle or trickling clients cannot lock a
/// real client out.
const MAX_CONNS: usize = 1024;

/// Fewest connections the budget allows, however tight the fd limit.
const MIN_CONNS: usize = 4;

/// A connection that has sent part of a request and nothing more for this
/// long is closed: it would hold its slot (and a descriptor) forever.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// A kept-alive connection with nothing pending is closed after this long
/// without a request. Connections waiting for an answer or following a log
/// never time out.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Stop taking requests off a connection while this much output is still
/// unwritten (a client that sends and never reads); a `/logtail` follower
/// stops reading its file likewise. Keeps each connection's memory bounded.
const OUT_HIGH: usize = 256 * 1024;

/// Buffers larger than this are freed once empty.
const KEEP_CAPACITY: usize = 64 * 1024;

/// After sending a reply this big, give the freed heap back to the kernel.
const TRIM_AFTER: usize = 64 * 1024;

/// How often log followers look for new data (Supervisor: 0.1 s).
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// One connection, for as long as it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId(pub Token);

/// What the server has for its user.
#[derive(Debug)]
pub enum HttpEvent {
    /// A complete, authorised request: answer it with
    /// [`HttpServer::respond`] or [`HttpServer::follow`].
    Request {
        conn: ConnId,
        request: codec::Request,
    },
    /// The connection is gone; an answer still pending for it is moot.
    Closed { conn: ConnId },
}

/// A response without its head's framing (the server adds status line,
/// `Date`, `Server`, `Content-Length` and `Connection`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A 200 `text/xml` document (an XML-RPC response).
    pub fn xml(body: String) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type", "text/xml".into())],
            body: body.into_bytes(),
        }
    }

    /// Medusa's HTML error page (a 401 asks for Basic credentials and closes).
    pub fn error(status: u16) -> Answer {
        let mut headers = vec![("Content-Type", "text/html".into())];
        if status == 401 {
            headers.push(("WWW-Authenticate", "Basic realm=\"default\"".into()));
        }
        Answer {
            status,
            headers,
            body: codec::error_page(status).into_bytes(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.")]
    InUse,
    #[error("Cannot open an HTTP server: socket.error reported errno.{name} ({errno})")]
    Open { name: &'static str, errno: i32 },
}

impl ServerError {
    fn from_io(e: &io::Error) -> ServerError {
        let errno = e.raw_os_error().unwrap_or(0);
        if errno == crate::sys::errno::EADDRINUSE {
            return ServerError::InUse;
        }
        ServerError::Open {
            name: crate::sys::errno::errno_name(errno).unwrap_or("EIO"),
            errno,
        }
    }
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

struct Endpoint {
    listener: Listener,
    auth: Option<codec::Credentials>,
}

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn register(&mut self, r: &Registry, t: Token) -> io::Result<()> {
        let i = Interest::READABLE | Interest::WRITABLE;
        match self {
            Stream::Unix(s) => r.register(s, t, i),
            Stream::Tcp(s) => r.register(s, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) {
        let _ = match self {
            Stream::Unix(s) => r.deregister(s),
            Stream::Tcp(s) => r.deregister(s),
        };
    }
    fn shutdown_write(&self) {
        let _ = match self {
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
        };
    }
}

/// What a connection is waiting for.
enum Busy {
    Idle,
    /// A request was handed out; its answer is pending.
    Waiting {
        version: u8,
        keep_alive: bool,
    },
    /// Streaming a log until the client leaves.
    Follow(Follower),
}

struct Conn {
    stream: Stream,
    endpoint: usize,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    /// How much of `outbuf` is written already.
    sent: usize,
    busy: Busy,
    /// Close once `outbuf` is written.
    closing: bool,
    /// The peer sent EOF: answer what is pending, then close.
    peer_done: bool,
    /// When the peer last sent something (a counter, not a clock), to pick
    /// which connection makes room at the limit.
    seen: u64,
    /// When it last sent something or was last answered, for the timeouts.
    since: Instant,
    /// Our answer is out and our side shut: wait for the client to close,
    /// discarding what it still sends. Closing at once would make a client
    /// still writing its request (supervisorctl's `tail -f` sends a last
    /// CRLF after the headers) fail with EPIPE/ECONNRESET instead of
    /// reading our answer.
    lingering: bool,
    /// Bytes thrown away while lingering.
    discarded: usize,
}

pub struct HttpServer {
    endpoints: Vec<Endpoint>,
    conns: HashMap<Token, Conn>,
    next_token: usize,
    limits: Limits,
    /// Bumped on every accept and read, for [`Conn::seen`].
    activity: u64,
    /// Most connections at once (see [`HttpServer::set_budget`]).
    budget: usize,
    /// `SUPERVISOR_SERVER_URL` for children.
    url: Option<String>,
    /// Socket files we created, unlinked at exit.
    created: Vec<PathBuf>,
    buf: Vec<u8>,
    events: VecDeque<HttpEvent>,
}

fn ctx_date() -> String {
    codec::http_date(crate::clock::wall() as i64)
}

fn version_str(version: u8) -> &'static str {
    if version == 0 {
        "1.0"
    } else {
        "1.1"
    }
}

/// Bind `<file>.<pid>`, chmod, and hard-link it to `<file>` as Supervisor
/// does, so a live socket is never replaced; a stale one is.
fn bind_unix(
    file: &Path,
    mode: u32,
    chown: Option<(u32, Option<u32>)>,
) -> Result<UnixListener, ServerError> {
    let tmp = PathBuf::from(format!("{}.{}", file.display(), std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    for attempt in 0..2 {
        let l = UnixListener::bind(&tmp).map_err(|e| ServerError::from_io(&e))?;
        let setup =
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).and_then(|()| {
                match chown {
                    Some((uid, gid)) => std::os::unix::fs::chown(&tmp, Some(uid), gid),
                    None => Ok(()),
                }
            });
        if let Err(e) = setup {
            let _ = std::fs::remove_file(&tmp);
            return Err(ServerError::from_io(&e));
        }
        match std::fs::hard_link(&tmp, file) {
            Ok(()) => {
                let _ = std::fs::remove_file(&tmp);
                return Ok(l);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt == 0 => {
                let _ = std::fs::remove_file(&tmp);
                if std::os::unix::net::UnixStream::connect(file).is_ok() {
                    return Err(ServerError::InUse);
                }
                eprintln!("Unlinking stale socket {}", file.display());
                let _ = std::fs::remove_file(file);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(ServerError::from_io(&e));
            }
        }
    }
    Err(ServerError::InUse)
}

fn creds(c: &Option<crate::config::Credentials>) -> Option<codec::Credentials> {
    c.as_ref().map(|c| codec::Credentials {
        username: c.username.clone(),
        password: c.password.clone(),
    })
}

impl HttpServer {
    /// Open every configured server. Errors are Supervisor's start-up texts.
    pub fn open(config: &Config) -> Result<HttpServer, ServerError> {
        let mut s = HttpServer {
            endpoints: Vec::new(),
            conns: HashMap::new(),
            next_token: BASE + 64,
            limits: Limits::default(),
            activity: 0,
            budget: MAX_CONNS,
            url: None,
            created: Vec::new(),
            buf: vec![0; 64 * 1024],
            events: VecDeque::new(),
        };
        for u in &config.unix_http_servers {
            let l = bind_unix(&u.file, u.chmod, u.chown)?;
            s.created.push(u.file.clone());
            s.url
                .get_or_insert_with(|| format!("unix://{}", u.file.display()));
            s.endpoints.push(Endpoint {
                listener: Listener::Unix(l),
                auth: creds(&u.auth),
            });
        }
        for i in &config.inet_http_servers {
            let host = if i.host.is_empty() || i.host == "*" {
                "0.0.0.0"
            } else {
                &i.host
            };
            let std = std::net::TcpListener::bind((host, i.port))
                .map_err(|e| ServerError::from_io(&e))?;
            std.set_nonblocking(true)
                .map_err(|e| ServerError::from_io(&e))?;
            let shown = if i.host.is_empty() || i.host == "*" {
                "localhost"
            } else {
                &i.host
            };
            s.url
                .get_or_insert_with(|| format!("http://{shown}:{}", i.port));
            s.endpoints.push(Endpoint {
                listener: Listener::Tcp(TcpListener::from_std(std)),
                auth: creds(&i.auth),
            });
        }
        Ok(s)
    }

    /// Register the listeners with the poll.
    pub fn register(&mut self, r: &Registry) -> io::Result<()> {
        for (i, e) in self.endpoints.iter_mut().enumerate() {
            let t = Token(BASE + i);
            match &mut e.listener {
                Listener::Unix(l) => r.register(l, t, Interest::READABLE)?,
                Listener::Tcp(l) => r.register(l, t, Interest::READABLE)?,
            }
        }
        Ok(())
    }

    /// Deregister everything and drop every connection (end of a run).
    pub fn deregister(&mut self, r: &Registry) {
        for e in &mut self.endpoints {
            let _ = match &mut e.listener {
                Listener::Unix(l) => r.deregister(l),
                Listener::Tcp(l) => r.deregister(l),
            };
        }
        for (_, mut c) in self.conns.drain() {
            c.stream.deregister(r);
        }
        self.events.clear();
    }

    /// Whether `token` is one of ours.
    pub fn owns(token: Token) -> bool {
        token.0 >= BASE
    }

    /// The URL children get as `SUPERVISOR_SERVER_URL`.
    pub fn server_url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Remove the socket files we created (at exit).
    pub fn unlink(&self) {
        for f in &self.created {
            let _ = std::fs::remove_file(f);
        }
    }

    /// A follower is active: the loop must wake to look for new data.
    pub fn following(&self) -> bool {
        self.conns
            .values()
            .any(|c| matches!(c.busy, Busy::Follow(_)))
    }

    /// The next thing that happened, in order.
    pub fn poll_event(&mut self) -> Option<HttpEvent> {
        self.events.pop_front()
    }

    /// Something is readable or writable on one of our tokens.
    pub fn ready(&mut self, token: Token, r: &Registry) {
        if token.0 < BASE + self.endpoints.len() {
            self.accept(token.0 - BASE, r);
            return;
        }
        if self.conns.get(&token).is_some_and(|c| c.lingering) {
            self.drain_lingering(token, r);
            return;
        }
        let eof = self.read_input(token);
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if eof {
            conn.peer_done = true;
            if matches!(conn.busy, Busy::Follow(_)) {
                conn.closing = true;
                conn.outbuf.clear();
                conn.sent = 0;
            }
        }
        self.parse_requests(token);
        if eof {
            if let Some(c) = self.conns.get_mut(&token) {
                // A half-closed client still gets its answers, pending or
                // written already (an error page for its last request).
                if matches!(c.busy, Busy::Idle) {
                    c.closing = true;
                }
            }
        }
        self.flush_conn(token, r);
    }

    /// Read everything available: edge-triggered readiness does not
    /// report data left behind. Input beyond one maximal request that
    /// cannot be taken off (a call is pending or output is backed up)
    /// means a client pipelining without reading: it is dropped. True at
    /// EOF or error.
    fn read_input(&mut self, token: Token) -> bool {
        let cap = self.limits.max_header + self.limits.max_body + self.buf.len();
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return false;
            };
            match conn.stream.read(&mut self.buf) {
                Ok(0) => return true,
                Ok(n) => {
                    self.activity += 1;
                    conn.seen = self.activity;
                    conn.since = crate::clock::mono();
                    conn.inbuf.extend_from_slice(&self.buf[..n]);
                    if conn.inbuf.len() > cap {
                        self.parse_requests(token);
                        let Some(conn) = self.conns.get_mut(&token) else {
                            return false;
                        };
                        if conn.inbuf.len() > cap {
                            conn.inbuf = Vec::new();
                            conn.outbuf.clear();
                            conn.sent = 0;
                            conn.closing = true;
                            return false;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return true,
            }
        }
    }

    fn accept(&mut self, idx: usize, r: &Registry) {
        loop {
            let stream = match &self.endpoints[idx].listener {
                Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            };
            match stream {
                Ok(mut s) => {
                    if self.conns.len() >= self.budget && !self.evict_one(r) {
                        continue; // dropped: closed at once
                    }
                    let t = Token(self.next_token);
                    self.next_token += 1;
                    self.activity += 1;
                    if s.register(r, t).is_ok() {
                        self.conns.insert(t, new_conn(s, idx, self.activity));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Out of descriptors: free one and retry, or the pending
                // connections would wait for the next one to arrive.
                Err(e) if crate::sys::errno::is_fd_exhaustion(&e) && self.evict_one(r) => {}
                Err(_) => return,
            }
        }
    }

    /// Size the connection budget so that `reserved` descriptors stay free
    /// for the programs (their pipes, pidfds, logs) under the soft fd limit
    /// `limit`: a flood of clients must never make a spawn fail.
    pub fn set_budget(&mut self, limit: Option<u64>, reserved: usize) {
        let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        // Each connection is one descriptor; half of what is left keeps a
        // margin for log files opened later and for the daemon itself.
        let spare = limit.saturating_sub(reserved) / 2;
        self.budget = spare.clamp(MIN_CONNS, MAX_CONNS);
    }

    /// Out of descriptors elsewhere (a spawn failed with EMFILE): close up
    /// to `n` connections with nothing pending, oldest first. How many went.
    pub fn shed(&mut self, n: usize, r: &Registry) -> usize {
        (0..n).take_while(|_| self.evict_idle(r)).count()
    }

    /// When the next connection times out, if any is open.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.conns
            .values()
            .filter_map(|c| c.timeout().map(|t| c.since + t))
            .min()
    }

    /// Close the connections whose time is up.
    pub fn expire(&mut self, now: Instant, r: &Registry) {
        let due: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| c.timeout().is_some_and(|t| now >= c.since + t))
            .map(|(t, _)| *t)
            .collect();
        for t in due {
            self.close(t, r);
        }
    }

    /// Close the least recently active connection with nothing pending.
    fn evict_idle(&mut self, r: &Registry) -> bool {
        let oldest = self
            .conns
            .iter()
            .filter(|(_, c)| c.lingering || matches!(c.busy, Busy::Idle))
            .min_by_key(|(_, c)| (!c.lingering, c.seen))
            .map(|(t, _)| *t);
        match oldest {
            Some(t) => {
                self.close(t, r);
                true
            }
            None => false,
        }
    }

    /// Close a connection that has no call in progress: one already
    /// answered and lingering, else the least recently active idle one, then
    /// log followers. False if none.
    fn evict_one(&mut self, r: &Registry) -> bool {
        if self.evict_idle(r) {
            return true;
        }
        let follower = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.busy, Busy::Follow(_)))
            .min_by_key(|(_, c)| c.seen)
            .map(|(t, _)| *t);
        let Some(token) = follower else {
            return false;
        };
        self.close(token, r);
        true
    }

    /// Drop a connection now.
    fn close(&mut self, token: Token, r: &Registry) {
        if let Some(mut c) = self.conns.remove(&token) {
            c.stream.deregister(r);
            if matches!(c.busy, Busy::Waiting { .. }) {
                self.events.push_back(HttpEvent::Closed {
                    conn: ConnId(token),
                });
            }
        }
    }

    /// Take complete requests off a connection's input, one at a time,
    /// while the connection is free to take one.
    fn parse_requests(&mut self, token: Token) {
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return;
            };
            if !matches!(conn.busy, Busy::Idle) || conn.closing || conn.inbuf.is_empty() {
                return;
            }
            if conn.outbuf.len() - conn.sent >= OUT_HIGH {
                // Try to make room now: a full socket reports writable
                // later, an emptied one would not report anything.
                write_out(conn);
                if conn.outbuf.len() - conn.sent >= OUT_HIGH || conn.closing {
                    return;
                }
            }
            let (req, used) = match codec::parse_request(&conn.inbuf, &self.limits) {
                Ok(Some(x)) => x,
                Ok(None) => return,
                Err(e) => {
                    let date = ctx_date();
                    let ctx = ReplyCtx {
                        version: version_str(codec::request_version(&conn.inbuf)),
                        keep_alive: false,
                        date: &date,
                    };
                    conn.outbuf.extend(codec::error_response(&ctx, e.status()));
                    conn.inbuf.clear();
                    conn.closing = true;
                    return;
                }
            };
            conn.inbuf.drain(..used);
            if conn.inbuf.is_empty() && conn.inbuf.capacity() > KEEP_CAPACITY {
                // Give back what a big request took, for long-lived idle
                // connections.
                conn.inbuf = Vec::new();
            }
            conn.busy = Busy::Waiting {
                version: req.version,
                keep_alive: req.keep_alive(),
            };
            let auth = &self.endpoints[conn.endpoint].auth;
            if let Some(creds) = auth {
                if !codec::check_basic_auth(req.header("authorization"), creds) {
                    self.respond(ConnId(token), Answer::error(401));
                    continue;
                }
            }
            self.events.push_back(HttpEvent::Request {
                conn: ConnId(token),
                request: req,
            });
        }
    }

    /// Answer the pending request of `conn` (ignored if it is gone).
    pub fn respond(&mut self, conn: ConnId, answer: Answer) {
        let Some(c) = self.conns.get_mut(&conn.0) else {
            return;
        };
        let Busy::Waiting {
            version,
            keep_alive,
        } = c.busy
        else {
            return;
        };
        // A 401 always closes (Medusa's auth handler does).
        let keep_alive = keep_alive && answer.status != 401;
        let date = ctx_date();
        let ctx = ReplyCtx {
            version: version_str(version),
            keep_alive,
            date: &date,
        };
        let headers: Vec<(&str, &str)> = answer
            .headers
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        codec::append_response(&ctx, answer.status, &headers, &answer.body, &mut c.outbuf);
        c.busy = Busy::Idle;
        c.since = crate::clock::mono();
        if !keep_alive || c.peer_done {
            c.closing = true;
        }
        // The data behind a big answer is freed by now, in many small
        // chunks the heap keeps unless asked.
        if answer.body.len() >= TRIM_AFTER {
            drop(answer);
            crate::sys::malloc::trim();
        }
    }

    /// Answer the pending request of `conn` with a stream of `file` (404
    /// without one). The main log's stream has no `X-Accel-Buffering`.
    pub fn follow(&mut self, conn: ConnId, file: Option<&Path>, mainlog: bool) {
        let Some(c) = self.conns.get_mut(&conn.0) else {
            return;
        };
        let Busy::Waiting { version, .. } = c.busy else {
            return;
        };
        // Supervisor starts a tail with the last 1024 bytes.
        let follower = file.and_then(|f| Follower::open(f, 1024).ok());
        let Some(mut f) = follower else {
            self.respond(conn, Answer::error(404));
            if let Some(c) = self.conns.get_mut(&conn.0) {
                c.closing = true;
            }
            return;
        };
        let date = ctx_date();
        let ctx = ReplyCtx {
            version: version_str(version),
            keep_alive: true,
            date: &date,
        };
        let mut headers = vec![
            ("Content-Type", "text/plain;charset=utf-8"),
            ("Last-Modified", date.as_str()),
        ];
        if !mainlog {
            headers.push(("X-Accel-Buffering", "no"));
        }
        c.outbuf.extend(codec::chunked_head(&ctx, 200, &headers));
        if let Ok(data) = f.poll() {
            c.outbuf.extend(codec::chunk(&data));
        }
        c.busy = Busy::Follow(f);
    }

    /// Push new log data to every follower.
    pub fn follow_tick(&mut self, r: &Registry) {
        let tokens: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.busy, Busy::Follow(_)))
            .map(|(t, _)| *t)
            .collect();
        for t in tokens {
            if let Some(c) = self.conns.get_mut(&t) {
                if let Busy::Follow(f) = &mut c.busy {
                    // A client that is not reading leaves the data in the
                    // file until it does.
                    if c.outbuf.len() - c.sent < OUT_HIGH {
                        match f.poll() {
                            Ok(data) => c.outbuf.extend(codec::chunk(&data)),
                            Err(_) => c.closing = true,
                        }
                    }
                }
            }
            self.flush_conn(t, r);
        }
    }

    /// Write what is buffered; close when done and asked to.
    fn flush_conn(&mut self, token: Token, r: &Registry) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if !write_out(conn) {
            return;
        }
        if conn.closing && !conn.lingering {
            if conn.peer_done {
                self.close(token, r);
                return;
            }
            if matches!(conn.busy, Busy::Waiting { .. }) {
                self.events.push_back(HttpEvent::Closed {
                    conn: ConnId(token),
                });
            }
            conn.busy = Busy::Idle;
            conn.inbuf = Vec::new();
            conn.lingering = true;
            conn.stream.shutdown_write();
            // The client may have closed already: look now, not only at
            // the next readiness event.
            self.drain_lingering(token, r);
        }
    }

    /// Discard input on a lingering connection; drop it at EOF, or once it
    /// has sent more than a request's worth after its answer.
    fn drain_lingering(&mut self, token: Token, r: &Registry) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        let most = self.limits.max_header + self.limits.max_body;
        loop {
            match conn.stream.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => {
                    conn.discarded += n;
                    if conn.discarded > most {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.close(token, r);
    }

    /// After answers arrived: write what is pending, and take the next
    /// pipelined request off connections that became free.
    pub fn flush_all(&mut self, r: &Registry) {
        let tokens: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                !c.outbuf.is_empty()
                    || c.closing
                    || (matches!(c.busy, Busy::Idle) && !c.inbuf.is_empty())
            })
            .map(|(t, _)| *t)
            .collect();
        for t in tokens {
            self.parse_requests(t);
            self.flush_conn(t, r);
        }
    }
}

impl Conn {
    /// How long this connection may stay quiet, in the state it is in.
    fn timeout(&self) -> Option<Duration> {
        match self.busy {
            Busy::Waiting { .. } | Busy::Follow(_) => None,
            Busy::Idle if self.lingering || !self.inbuf.is_empty() => Some(HEADER_TIMEOUT),
            Busy::Idle => Some(IDLE_TIMEOUT),
        }
    }
}

fn new_conn(stream: Stream, endpoint: usize, seen: u64) -> Conn {
    Conn {
        stream,
        endpoint,
        inbuf: Vec::new(),
        outbuf: Vec::new(),
        sent: 0,
        busy: Busy::Idle,
        closing: false,
        peer_done: false,
        seen,
        since: crate::clock::mono(),
        lingering: false,
        discarded: 0,
    }
}

/// Write what the socket takes. False while output remains (would block);
/// a dead peer marks the connection closing and drops the output.
fn write_out(conn: &mut Conn) -> bool {
    // Written bytes stay in the buffer until at least half of it is
    // written: dropping them each time the socket is full moved the rest
    // of a big answer once per socket buffer (quadratic: 120 MB of copies
    // for the 7 MB `getAllProcessInfo` of 8000 programs).
    let mut off = conn.sent;
    while off < conn.outbuf.len() {
        match conn.stream.write(&conn.outbuf[off..]) {
            Ok(0) => {
                conn.closing = true;
                conn.peer_done = true;
                off = conn.outbuf.len();
            }
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if off * 2 >= conn.outbuf.len() {
                    conn.outbuf.drain(..off);
                    off = 0;
                }
                conn.sent = off;
                return false;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                conn.closing = true;
                conn.peer_done = true;
                off = conn.outbuf.len();
            }
        }
    }
    conn.sent = 0;
    if conn.outbuf.capacity() > KEEP_CAPACITY {
        conn.outbuf = Vec::new();
    } else {
        conn.outbuf.clear();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream as StdUnixStream;

    /// A server on a unix socket in a temp dir, registered with a poll.
    fn server(dir: &Path) -> (HttpServer, mio::Poll, PathBuf) {
        let sock = dir.join("s.sock");
        let conf = dir.join("c.conf");
        let text = format!(
            "[supervisord]\nlogfile={0}/m.log\n[unix_http_server]\nfile={1}\n",
            dir.display(),
            sock.display()
        );
        std::fs::write(&conf, text).unwrap();
        let config = crate::config::load(&conf, &crate::config::Env::from_process()).unwrap();
        let mut server = HttpServer::open(&config).unwrap();
        let poll = mio::Poll::new().unwrap();
        server.register(poll.registry()).unwrap();
        (server, poll, sock)
    }

    /// Serve readiness until `done` holds (bounded).
    fn drive(s: &mut HttpServer, poll: &mut mio::Poll, done: impl Fn(&HttpServer) -> bool) {
        let mut events = mio::Events::with_capacity(16);
        for _ in 0..200 {
            if done(s) {
                return;
            }
            poll.poll(&mut events, Some(Duration::from_millis(50)))
                .unwrap();
            for ev in events.iter() {
                s.ready(ev.token(), poll.registry());
            }
        }
        panic!("the server never got there");
    }

    /// Issue 21, point 2: a half-sent request no longer holds its slot
    /// forever, and a silent kept-alive connection goes after a while;
    /// nothing times out while no connection is open.
    #[test]
    fn silent_and_half_sent_connections_time_out() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, mut poll, sock) = server(dir.path());
        assert_eq!(s.next_deadline(), None, "no wake-up without connections");
        let mut half = StdUnixStream::connect(&sock).unwrap();
        half.write_all(b"POST /RPC2 HTTP/1.1\r\nContent-Len")
            .unwrap();
        let mut silent = StdUnixStream::connect(&sock).unwrap();
        drive(&mut s, &mut poll, |s| {
            s.conns.len() == 2 && s.conns.values().any(|c| !c.inbuf.is_empty())
        });
        let now = crate::clock::mono();
        assert!(s.next_deadline().is_some_and(|d| d <= now + HEADER_TIMEOUT));
        s.expire(now, poll.registry());
        assert_eq!(s.conns.len(), 2);
        s.expire(
            now + HEADER_TIMEOUT + Duration::from_secs(1),
            poll.registry(),
        );
        assert_eq!(s.conns.len(), 1, "the half-sent request is closed");
        s.expire(now + IDLE_TIMEOUT + Duration::from_secs(1), poll.registry());
        assert!(s.conns.is_empty(), "the silent connection is closed");
        let mut buf = [0u8; 8];
        half.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        silent
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        assert_eq!(half.read(&mut buf).unwrap(), 0);
        assert_eq!(silent.read(&mut buf).unwrap(), 0);
    }

    #[test]
    fn the_budget_leaves_room_for_the_programs() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _poll, _) = server(dir.path());
        s.set_budget(Some(1024), 39);
        assert_eq!(s.budget, (1024 - 39) / 2);
        s.set_budget(Some(64), 100);
        assert_eq!(s.budget, MIN_CONNS);
        s.set_budget(None, 100);
        assert_eq!(s.budget, MAX_CONNS);
    }
}
