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

/// Most open connections at once. At the limit (or when the daemon runs out
/// of descriptors) the least recently active connection with no call in
/// progress makes room, so that idle or trickling clients cannot lock a
/// real client out.
const MAX_CONNS: usize = 1024;

/// Stop taking requests off a connection while this much output is still
/// unwritten (a client that sends and never reads); a `/logtail` follower
/// stops reading its file likewise. Keeps each connection's memory bounded.
const OUT_HIGH: usize = 256 * 1024;

/// A `system.multicall` whose results grow past this answers its remaining
/// calls with a FAILED fault instead of running them: a 2 MiB request of
/// log reads could otherwise make the daemon hold terabytes.
const MAX_MULTI_BYTES: usize = 16 * 1024 * 1024;

/// Buffers larger than this are freed once empty.
const KEEP_CAPACITY: usize = 64 * 1024;

/// After sending a reply this big, give the freed heap back to the kernel.
const TRIM_AFTER: usize = 64 * 1024;

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
        /// Encoded size of `results` so far, against [`MAX_MULTI_BYTES`].
        bytes: usize,
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
    /// The peer sent EOF: answer what is pending, then close.
    peer_done: bool,
    /// When the peer last sent something (a counter, not a clock), to pick
    /// which connection makes room at the limit.
    seen: u64,
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
    /// Bumped on every accept and read, for [`Conn::seen`].
    activity: u64,
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
            activity: 0,
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
        // Read everything available: edge-triggered readiness does not
        // report data left behind. Input beyond one maximal request that
        // cannot be taken off (a call is pending or output is backed up)
        // means a client pipelining without reading: it is dropped.
        if self.conns.get(&token).is_some_and(|c| c.lingering) {
            self.drain_lingering(token, r);
            return;
        }
        let cap = self.limits.max_header + self.limits.max_body + self.buf.len();
        let mut eof = false;
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return;
            };
            match conn.stream.read(&mut self.buf) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    self.activity += 1;
                    conn.seen = self.activity;
                    conn.inbuf.extend_from_slice(&self.buf[..n]);
                    if conn.inbuf.len() > cap {
                        self.parse_requests(token, jobs, tails);
                        let Some(conn) = self.conns.get_mut(&token) else {
                            return;
                        };
                        if conn.inbuf.len() > cap {
                            conn.inbuf = Vec::new();
                            conn.outbuf.clear();
                            conn.closing = true;
                            break;
                        }
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
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if eof {
            conn.peer_done = true;
            if matches!(conn.busy, Busy::Follow(_)) {
                conn.closing = true;
                conn.outbuf.clear();
            }
        }
        self.parse_requests(token, jobs, tails);
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

    fn accept(&mut self, idx: usize, r: &Registry) {
        loop {
            let stream = match &self.endpoints[idx].listener {
                Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
                Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            };
            match stream {
                Ok(mut s) => {
                    if self.conns.len() >= MAX_CONNS && !self.evict_one(r) {
                        continue; // dropped: closed at once
                    }
                    let t = Token(self.next_token);
                    self.next_token += 1;
                    self.activity += 1;
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
                                peer_done: false,
                                seen: self.activity,
                                lingering: false,
                                discarded: 0,
                            },
                        );
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Out of descriptors: free one and retry, or the pending
                // connections would wait for the next one to arrive.
                Err(e)
                    if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
                        && self.evict_one(r) => {}
                Err(_) => return,
            }
        }
    }

    /// Close a connection that has no call in progress: one already
    /// answered and lingering, else the least recently active idle one, then
    /// log followers. False if none.
    fn evict_one(&mut self, r: &Registry) -> bool {
        let lingering = self
            .conns
            .iter()
            .find(|(_, c)| c.lingering)
            .map(|(t, _)| *t);
        let pick = |follow: bool| {
            self.conns
                .iter()
                .filter(|(_, c)| match c.busy {
                    Busy::Idle => !follow,
                    Busy::Follow(_) => follow,
                    _ => false,
                })
                .min_by_key(|(_, c)| c.seen)
                .map(|(t, _)| *t)
        };
        let Some(token) = lingering.or_else(|| pick(false)).or_else(|| pick(true)) else {
            return false;
        };
        if let Some(mut c) = self.conns.remove(&token) {
            c.stream.deregister(r);
        }
        true
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
            if conn.outbuf.len() >= OUT_HIGH {
                // Try to make room now: a full socket reports writable
                // later, an emptied one would not report anything.
                write_out(conn);
                if conn.outbuf.len() >= OUT_HIGH || conn.closing {
                    return;
                }
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
            if conn.inbuf.is_empty() && conn.inbuf.capacity() > KEEP_CAPACITY {
                // Give back what a big request took, for long-lived idle
                // connections.
                conn.inbuf = Vec::new();
            }
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
            if req.content_length.is_none() {
                return fail(self, 411);
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
                    bytes: 0,
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
            let rest = http::percent_decode(rest);
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
                bytes,
            } = &mut conn.busy
            else {
                return;
            };
            if *bytes > MAX_MULTI_BYTES {
                let f = rpc::fault(
                    crate::core::FaultCode::Failed,
                    "multicall response too large",
                );
                results.extend(queue.drain(..).map(|_| fault_struct(&f)));
            }
            match queue.pop_front() {
                None => {
                    let body = xmlrpc::encode_response(&Value::Array(std::mem::take(results)));
                    let (v, k, id) = (*version, *keep_alive, *id);
                    self.waiting.remove(&id);
                    self.send_xml(token, v, k, body);
                    return;
                }
                Some(Err(f)) => results.push(fault_struct(&f)),
                Some(Ok((method, params))) => match rpc::plan(&method, &params) {
                    Plan::Now(r) => {
                        let v = multi_result(r);
                        *bytes += xmlrpc::encode_value(&v).len();
                        results.push(v);
                    }
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
                // Freed before `send_xml` trims the heap.
                drop(result);
                self.waiting.remove(&id);
                self.send_xml(token, v, k, body);
            }
            Busy::Multi {
                id: want,
                results,
                bytes,
                ..
            } if *want == id => {
                let v = multi_result(result);
                *bytes += xmlrpc::encode_value(&v).len();
                results.push(v);
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
        http::append_xml_response(&ctx, body.as_bytes(), &mut conn.outbuf);
        // The value tree behind a big reply is freed by now, in many small
        // chunks the heap keeps unless asked (the body itself is mmapped).
        if body.len() >= TRIM_AFTER {
            drop(body);
            crate::sys::malloc::trim();
        }
        conn.busy = Busy::Idle;
        if !keep_alive || conn.peer_done {
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
                    // A client that is not reading leaves the data in the
                    // file until it does.
                    if c.outbuf.len() < OUT_HIGH {
                        match f.poll() {
                            Ok(data) => c.outbuf.extend(http::chunk(&data)),
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
            if let Busy::Call { id, .. } | Busy::Multi { id, .. } = conn.busy {
                self.waiting.remove(&id);
            }
            if conn.peer_done {
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

/// Write what the socket takes. False while output remains (would block);
/// a dead peer marks the connection closing and drops the output.
fn write_out(conn: &mut Conn) -> bool {
    // Written bytes are dropped from the buffer once per call, not per
    // write: a big answer goes out in many short writes.
    let mut off = 0;
    while off < conn.outbuf.len() {
        match conn.stream.write(&conn.outbuf[off..]) {
            Ok(0) => {
                conn.closing = true;
                conn.peer_done = true;
                off = conn.outbuf.len();
            }
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.outbuf.drain(..off);
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
    if conn.outbuf.capacity() > KEEP_CAPACITY {
        conn.outbuf = Vec::new();
    } else {
        conn.outbuf.clear();
    }
    true
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
