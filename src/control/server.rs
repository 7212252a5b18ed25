//! The control server: HTTP/1.1 on the unix socket and the inet port, as
//! Supervisor's Medusa serves it. This file owns sockets and connection
//! buffers only; what a call means is decided in `rpc`, and the answer comes
//! from the core (through the reactor) or from the reactor itself.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};

use crate::config::Config;
use crate::control::http::{self, Limits, ReplyCtx, Request};
use crate::control::rpc::{self, Plan};
use crate::control::xmlrpc::{self, Fault as XmlFault, Value};
use crate::logs::read::Follower;

/// Tokens at and above this belong to the control server.
pub const BASE: usize = 1 << 40;

/// Most open connections at once; more are accepted and closed at once so
/// that a flood cannot exhaust the daemon's descriptors.
const MAX_CONNS: usize = 1024;

/// How often `/logtail` followers look for new data (Supervisor: 0.1 s).
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

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
        if errno == libc::EADDRINUSE {
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
    auth: Option<http::Credentials>,
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
    /// An RPC answer with this request id.
    Call {
        id: u64,
        version: u8,
        keep_alive: bool,
    },
    /// A `system.multicall` in progress.
    Multi {
        id: u64,
        version: u8,
        keep_alive: bool,
        queue: VecDeque<Result<(String, Vec<Value>), XmlFault>>,
        results: Vec<Value>,
    },
    /// Streaming a log (`/logtail`, `/mainlogtail`) until the client leaves.
    Follow(Follower),
}

struct Conn {
    stream: Stream,
    endpoint: usize,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    busy: Busy,
    /// Close once `outbuf` is written.
    closing: bool,
    /// The client has closed its side (or the socket failed).
    peer_closed: bool,
    /// Our answer is out and our side shut: wait for the client to close,
    /// discarding what it still sends. Closing at once would make a client
    /// still writing its request (supervisorctl's `tail -f` sends a last
    /// CRLF after the headers) fail with EPIPE/ECONNRESET instead of
    /// reading our answer.
    lingering: bool,
    /// Bytes thrown away while lingering.
    discarded: usize,
}

/// A parsed call the reactor must carry out, then answer with
/// [`ControlServer::answer`].
#[derive(Debug)]
pub struct Job {
    pub id: u64,
    pub plan: Plan,
}

/// A `/logtail` request: the reactor finds the file, then calls
/// [`ControlServer::start_follow`].
#[derive(Debug)]
pub struct TailRequest {
    pub conn: Token,
    /// `None` for the main log.
    pub name: Option<String>,
    pub stderr: bool,
    pub version: u8,
}

pub struct ControlServer {
    endpoints: Vec<Endpoint>,
    conns: HashMap<Token, Conn>,
    next_token: usize,
    /// Request id -> the connection waiting for it.
    waiting: HashMap<u64, Token>,
    next_id: u64,
    limits: Limits,
    /// `SUPERVISOR_SERVER_URL` for children.
    url: Option<String>,
    /// Socket files we created, unlinked at exit.
    created: Vec<PathBuf>,
    buf: Vec<u8>,
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

fn creds(c: &Option<crate::config::Credentials>) -> Option<http::Credentials> {
    c.as_ref().map(|c| http::Credentials {
        username: c.username.clone(),
        password: c.password.clone(),
    })
}

impl ControlServer {
    /// Open every configured server. Errors are Supervisor's start-up texts.
    pub fn open(config: &Config) -> Result<ControlServer, ServerError> {
        let mut s = ControlServer {
            endpoints: Vec::new(),
            conns: HashMap::new(),
            next_token: BASE + 64,
            waiting: HashMap::new(),
            next_id: 1,
            limits: Limits::default(),
            url: None,
            created: Vec::new(),
            buf: vec![0; 64 * 1024],
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
        self.waiting.clear();
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

    /// Something is readable or writable on one of our tokens. Returns the
    /// calls to carry out and the log-tail requests to resolve.
    pub fn ready(
        &mut self,
        token: Token,
        r: &Registry,
        jobs: &mut Vec<Job>,
        tails: &mut Vec<TailRequest>,
    ) {
        if token.0 < BASE + self.endpoints.len() {
            self.accept(token.0 - BASE, r);
            return;
        }
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if conn.lingering {
            self.drain_lingering(token, r);
            return;
        }
        // Read everything available.
        let mut eof = false;
        loop {
            match conn.stream.read(&mut self.buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    conn.inbuf.extend_from_slice(&self.buf[..n]);
                    if conn.inbuf.len() > self.limits.max_header + self.limits.max_body + 1 {
                        // Parsing below answers 413/431 and closes.
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    eof = true;
                    break;
                }
            }
        }
        conn.peer_closed |= eof;
        if eof && matches!(conn.busy, Busy::Follow(_)) {
            conn.closing = true;
            conn.outbuf.clear();
        }
        self.parse_requests(token, jobs, tails);
        if eof {
            if let Some(c) = self.conns.get_mut(&token) {
                // A half-closed client still gets its pending answer (a
                // client gone for good makes the write fail).
                if matches!(c.busy, Busy::Idle) || c.closing {
                    c.closing = true;
                }
            }
        }
        self.flush_conn(token, r);
    }

    fn accept(&mut self, idx: usize, r: &Registry) {
        loop {
            let stream = match &self.endpoints[idx].listener {
                Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            };
            match stream {
                Ok(mut s) => {
                    if self.conns.len() >= MAX_CONNS && !self.evict_lingering(r) {
                        continue; // dropped: closed at once
                    }
                    let t = Token(self.next_token);
                    self.next_token += 1;
                    if s.register(r, t).is_ok() {
                        self.conns.insert(
                            t,
                            Conn {
                                stream: s,
                                endpoint: idx,
                                inbuf: Vec::new(),
                                outbuf: Vec::new(),
                                busy: Busy::Idle,
                                closing: false,
                                peer_closed: false,
                                lingering: false,
                                discarded: 0,
                            },
                        );
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // EMFILE and friends: try again on the next readiness.
                Err(_) => return,
            }
        }
    }

    fn new_id(&mut self, conn: Token) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.waiting.insert(id, conn);
        id
    }

    /// Take complete requests off a connection's input, one at a time: a
    /// connection answers its requests in order, so while one is pending the
    /// rest wait in the buffer.
    fn parse_requests(&mut self, token: Token, jobs: &mut Vec<Job>, tails: &mut Vec<TailRequest>) {
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return;
            };
            if !matches!(conn.busy, Busy::Idle) || conn.closing || conn.inbuf.is_empty() {
                return;
            }
            let (req, used) = match http::parse_request(&conn.inbuf, &self.limits) {
                Ok(Some(x)) => x,
                Ok(None) => return,
                Err(e) => {
                    let date = http::http_date(crate::clock::wall() as i64);
                    let ctx = ReplyCtx {
                        version: "1.0",
                        keep_alive: false,
                        date: &date,
                    };
                    conn.outbuf.extend(http::error_response(&ctx, e.status()));
                    conn.inbuf.clear();
                    conn.closing = true;
                    return;
                }
            };
            conn.inbuf.drain(..used);
            let auth = self.endpoints[conn.endpoint].auth.clone();
            self.route(token, req, auth.as_ref(), jobs, tails);
        }
    }

    fn route(
        &mut self,
        token: Token,
        req: Request,
        auth: Option<&http::Credentials>,
        jobs: &mut Vec<Job>,
        tails: &mut Vec<TailRequest>,
    ) {
        let date = http::http_date(crate::clock::wall() as i64);
        let keep_alive = req.keep_alive();
        let ctx = ReplyCtx {
            version: req.version_str(),
            keep_alive,
            date: &date,
        };
        let fail = |s: &mut Self, status: u16| {
            let c = s.conns.get_mut(&token).expect("connection");
            c.outbuf.extend(http::error_response(&ctx, status));
            if status == 401 || !keep_alive {
                c.closing = true;
            }
        };
        if let Some(creds) = auth {
            if !http::check_basic_auth(req.header("authorization"), creds) {
                return fail(self, 401);
            }
        }
        let path = req.path.split('?').next().unwrap_or("").to_string();
        if path.starts_with("/RPC2") {
            if req.method != "POST" {
                return fail(self, 400);
            }
            let call = match xmlrpc::decode_call(&req.body) {
                Ok(c) => c,
                Err(_) => return fail(self, 400),
            };
            let id = self.new_id(token);
            let plan = rpc::plan(&call.method, &call.params);
            let conn = self.conns.get_mut(&token).expect("connection");
            conn.busy = match plan {
                Plan::Multi(calls) => Busy::Multi {
                    id,
                    version: req.version,
                    keep_alive,
                    queue: calls.into(),
                    results: Vec::new(),
                },
                plan => {
                    jobs.push(Job { id, plan });
                    Busy::Call {
                        id,
                        version: req.version,
                        keep_alive,
                    }
                }
            };
            if matches!(conn.busy, Busy::Multi { .. }) {
                self.next_multi(token, jobs);
            }
            return;
        }
        let tail = if path == "/mainlogtail" {
            Some((None, false))
        } else if let Some(rest) = path.strip_prefix("/logtail/") {
            let rest = percent_decode(rest);
            match rest.rsplit_once('/') {
                Some((name, "stderr")) => Some((Some(name.to_string()), true)),
                Some((name, "stdout")) => Some((Some(name.to_string()), false)),
                _ => Some((Some(rest), false)),
            }
        } else {
            None
        };
        match tail {
            Some(_) if req.method != "GET" => fail(self, 400),
            Some((name, stderr)) => {
                // Held until the reactor resolves the file (or 404s).
                let c = self.conns.get_mut(&token).expect("connection");
                c.busy = Busy::Call {
                    id: 0,
                    version: req.version,
                    keep_alive: false,
                };
                tails.push(TailRequest {
                    conn: token,
                    name,
                    stderr,
                    version: req.version,
                });
            }
            None => fail(self, 404),
        }
    }

    /// Start the next call of a multicall, or send the whole answer.
    fn next_multi(&mut self, token: Token, jobs: &mut Vec<Job>) {
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return;
            };
            let Busy::Multi {
                id,
                queue,
                results,
                version,
                keep_alive,
            } = &mut conn.busy
            else {
                return;
            };
            match queue.pop_front() {
                None => {
                    let body = xmlrpc::encode_response(&Value::Array(std::mem::take(results)));
                    let (v, k) = (*version, *keep_alive);
                    self.send_xml(token, v, k, body);
                    return;
                }
                Some(Err(f)) => results.push(fault_struct(&f)),
                Some(Ok((method, params))) => match rpc::plan(&method, &params) {
                    Plan::Now(r) => results.push(multi_result(r)),
                    Plan::Multi(_) => results.push(fault_struct(&rpc::fault(
                        crate::core::FaultCode::IncorrectParameters,
                        "Recursive system.multicall forbidden",
                    ))),
                    plan => {
                        jobs.push(Job { id: *id, plan });
                        return;
                    }
                },
            }
        }
    }

    /// The answer to a call (from the core or the reactor).
    pub fn answer(&mut self, id: u64, result: Result<Value, XmlFault>, jobs: &mut Vec<Job>) {
        let Some(&token) = self.waiting.get(&id) else {
            return;
        };
        let Some(conn) = self.conns.get_mut(&token) else {
            self.waiting.remove(&id);
            return;
        };
        match &mut conn.busy {
            Busy::Call {
                id: want,
                version,
                keep_alive,
            } if *want == id => {
                let body = match &result {
                    Ok(v) => xmlrpc::encode_response(v),
                    Err(f) => xmlrpc::encode_fault(f),
                };
                let (v, k) = (*version, *keep_alive);
                self.waiting.remove(&id);
                self.send_xml(token, v, k, body);
            }
            Busy::Multi {
                id: want, results, ..
            } if *want == id => {
                results.push(multi_result(result));
                self.next_multi(token, jobs);
            }
            _ => {}
        }
    }

    fn send_xml(&mut self, token: Token, version: u8, keep_alive: bool, body: String) {
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        let date = http::http_date(crate::clock::wall() as i64);
        let ctx = ReplyCtx {
            version: if version == 0 { "1.0" } else { "1.1" },
            keep_alive,
            date: &date,
        };
        conn.outbuf
            .extend(http::xml_response(&ctx, body.as_bytes()));
        conn.busy = Busy::Idle;
        if !keep_alive || conn.peer_closed {
            conn.closing = true;
        }
    }

    /// Resolve a `/logtail` request: stream `file`, or 404.
    pub fn start_follow(&mut self, req: TailRequest, file: Option<PathBuf>, mainlog: bool) {
        let Some(conn) = self.conns.get_mut(&req.conn) else {
            return;
        };
        let date = http::http_date(crate::clock::wall() as i64);
        let version = if req.version == 0 { "1.0" } else { "1.1" };
        let ctx = ReplyCtx {
            version,
            keep_alive: false,
            date: &date,
        };
        // Supervisor starts a tail with the last 1024 bytes.
        let follower = file.and_then(|f| Follower::open(&f, 1024).ok());
        match follower {
            None => {
                conn.outbuf.extend(http::error_response(&ctx, 404));
                conn.busy = Busy::Idle;
                conn.closing = true;
            }
            Some(mut f) => {
                let modified = http::http_date(crate::clock::wall() as i64);
                let mut headers = vec![
                    ("Content-Type", "text/plain;charset=utf-8"),
                    ("Last-Modified", modified.as_str()),
                ];
                if !mainlog {
                    headers.push(("X-Accel-Buffering", "no"));
                }
                let ctx = ReplyCtx {
                    keep_alive: true,
                    ..ctx
                };
                conn.outbuf.extend(http::chunked_head(&ctx, 200, &headers));
                if let Ok(data) = f.poll() {
                    conn.outbuf.extend(http::chunk(&data));
                }
                conn.busy = Busy::Follow(f);
            }
        }
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
                    match f.poll() {
                        Ok(data) => c.outbuf.extend(http::chunk(&data)),
                        Err(_) => c.closing = true,
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
        while !conn.outbuf.is_empty() {
            match conn.stream.write(&conn.outbuf) {
                Ok(0) => {
                    conn.closing = true;
                    conn.peer_closed = true;
                    conn.outbuf.clear();
                }
                Ok(n) => {
                    conn.outbuf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    conn.closing = true;
                    conn.peer_closed = true;
                    conn.outbuf.clear();
                }
            }
        }
        if conn.closing && !conn.lingering {
            if let Busy::Call { id, .. } | Busy::Multi { id, .. } = conn.busy {
                self.waiting.remove(&id);
            }
            if conn.peer_closed {
                let mut c = self.conns.remove(&token).expect("connection");
                c.stream.deregister(r);
                return;
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

    /// At the connection limit, a lingering connection (answered, waiting
    /// for its client to close) makes room for a new one.
    fn evict_lingering(&mut self, r: &Registry) -> bool {
        let Some(&t) = self.conns.iter().find(|(_, c)| c.lingering).map(|(t, _)| t) else {
            return false;
        };
        let mut c = self.conns.remove(&t).expect("connection");
        c.stream.deregister(r);
        true
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
        let mut c = self.conns.remove(&token).expect("connection");
        c.stream.deregister(r);
    }

    /// Flush every connection with pending output (after answers arrived).
    pub fn flush_all(&mut self, r: &Registry) {
        let tokens: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| !c.outbuf.is_empty() || c.closing)
            .map(|(t, _)| *t)
            .collect();
        for t in tokens {
            self.flush_conn(t, r);
        }
    }

    /// Requests parsed after an answer freed their connection.
    pub fn resume(&mut self, jobs: &mut Vec<Job>, tails: &mut Vec<TailRequest>) {
        let tokens: Vec<Token> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.busy, Busy::Idle) && !c.inbuf.is_empty())
            .map(|(t, _)| *t)
            .collect();
        for t in tokens {
            self.parse_requests(t, jobs, tails);
        }
    }
}

fn fault_struct(f: &XmlFault) -> Value {
    Value::record([
        ("faultCode", Value::Int(f.code)),
        ("faultString", Value::from(f.string.as_str())),
    ])
}

/// Supervisor returns successful multicall results unwrapped (spec §6.5 Q).
fn multi_result(r: Result<Value, XmlFault>) -> Value {
    match r {
        Ok(v) => v,
        Err(f) => fault_struct(&f),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
