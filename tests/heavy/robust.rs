//! The control server under abuse: malformed HTTP and XML-RPC, huge and
//! lying requests, slow and silent clients, and 500 concurrent clients, on
//! the unix socket and on an inet_http_server at once. The daemon must answer
//! each bad request as Supervisor does (or, where Supervisor crashes or hangs
//! up, with a plain HTTP error), keep answering `pidvisorctl status`, leave
//! its programs alone, and give back its descriptors and memory.
//!
//! What real supervisord 4.3.0 answers to the same bytes was checked with
//! the venv from tests/compat/setup-supervisor.sh. Where we differ, the
//! expectation says so:
//! - request lines httparse refuses (`GARBAGE`, no version, `HTTP/2.0`),
//!   header lines without a colon, a non-numeric or negative
//!   Content-Length, invalid UTF-8 or an empty body: Supervisor answers 500,
//!   411, closes without a word or serves the page; we answer 400.
//! - a request head over 64 KiB or over 64 headers: Supervisor takes it; we
//!   answer 431. A body over 2 MiB: we answer 413.
//! - `<nil/>`, unknown value types, a DOCTYPE, or nesting deeper than
//!   `xmlrpc::MAX_DEPTH`: Supervisor decodes something and faults (or
//!   runs the call); we refuse the document with 400 (no entity expansion,
//!   bounded recursion).
//! - parameters of the wrong type (a struct or an int for a name, strings
//!   for offsets, a multicall entry that is no struct): Supervisor's method
//!   raises and Medusa answers 500; we answer a fault: INCORRECT_PARAMETERS,
//!   or BAD_NAME for an int name (rpc.rs reads it as its decimal text).
//! - a multicall whose results pass 16 MiB: its remaining calls are FAILED
//!   faults (Supervisor keeps going until memory runs out).
//!
//! Replies are judged from outside: HTTP heads by the small parser below,
//! XML-RPC bodies by Python's own xmlrpc.client (`tests/compat/rpc.py
//! decode`), never by pidvisor's codec; requests are written out as XML.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pidvisor::clock;
use serde_json::Value as Json;

use crate::fixture::*;

/// What Medusa (and so pidvisord) puts in its `Server:` header.
const SERVER_HEADER: &str = "Medusa/1.12";

/// The longest a `pidvisorctl status` may take while the flood goes on: a
/// liveness bound, generous because the other tests of this binary run in
/// parallel on a debug build (the slowest one seen is printed at the end).
const STATUS_DEADLINE: Duration = Duration::from_secs(20);

#[derive(Clone)]
enum Target {
    Unix(PathBuf),
    Tcp(u16),
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Conn {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(b),
            Conn::Tcp(s) => s.read(b),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(b),
            Conn::Tcp(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Conn {
    fn open(t: &Target) -> Conn {
        let c = match t {
            Target::Unix(p) => Conn::Unix(UnixStream::connect(p).expect("connect unix")),
            Target::Tcp(port) => {
                Conn::Tcp(TcpStream::connect(("127.0.0.1", *port)).expect("connect tcp"))
            }
        };
        // A hung daemon fails the test instead of hanging it.
        match &c {
            Conn::Unix(s) => s.set_read_timeout(Some(TIMEOUT)).unwrap(),
            Conn::Tcp(s) => s.set_read_timeout(Some(TIMEOUT)).unwrap(),
        }
        c
    }
    fn shutdown_write(&self) {
        let _ = match self {
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
        };
    }
}

/// A response head: status, version and headers (names lowercased).
struct Head {
    status: u16,
    http10: bool,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after this response.
    fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |t: &str| conn.split(',').any(|x| x.trim() == t);
        if self.http10 {
            has("keep-alive")
        } else {
            !has("close")
        }
    }
}

/// Parse a response head off the start of `buf`: the head and its length
/// in bytes, or `None` while it is incomplete.
fn parse_head(buf: &[u8]) -> Option<(Head, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let text = std::str::from_utf8(&buf[..end]).expect("an ASCII response head");
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut words = status_line.splitn(3, ' ');
    let version = words.next().unwrap();
    assert!(
        version.starts_with("HTTP/1."),
        "status line {status_line:?}"
    );
    let status = words
        .next()
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    let headers = lines
        .map(|l| {
            let (k, v) = l.split_once(':').expect("a header line");
            (k.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    let head = Head {
        status,
        http10: version == "HTTP/1.0",
        headers,
    };
    Some((head, end + 4))
}

struct Reply {
    status: u16,
    head: Head,
    body: Vec<u8>,
}

/// Read one response (Content-Length framed) off `c`; `None` if the server
/// closed before a complete one.
fn read_reply(c: &mut Conn, buf: &mut Vec<u8>) -> Option<Reply> {
    let mut chunk = [0u8; 16384];
    loop {
        if let Some((head, n)) = parse_head(buf) {
            let len: usize = head
                .header("content-length")
                .and_then(|v| v.parse().ok())
                .expect("Content-Length");
            if buf.len() >= n + len {
                let body = buf[n..n + len].to_vec();
                buf.drain(..n + len);
                return Some(Reply {
                    status: head.status,
                    head,
                    body,
                });
            }
        }
        match c.read(&mut chunk) {
            Ok(0) => return None,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("reading a reply: {e}"),
        }
    }
}

/// Python's xmlrpc.client, decoding reply bodies (`rpc.py decode`): one
/// process per test, shared by its client threads; killed on drop.
struct Decoder {
    child: Child,
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl Decoder {
    fn start() -> Option<Decoder> {
        let py = python()?;
        let mut child = Command::new(py)
            .arg(rpc_script())
            .arg("decode")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start rpc.py decode");
        let io = (
            child.stdin.take().unwrap(),
            BufReader::new(child.stdout.take().unwrap()),
        );
        Some(Decoder {
            child,
            io: Mutex::new(io),
        })
    }

    /// `{"result": V}`, `{"fault": CODE, "string": S}` or `{"error": S}`.
    fn decode(&self, body: &[u8]) -> Json {
        let mut io = self.io.lock().unwrap();
        let (stdin, stdout) = &mut *io;
        writeln!(stdin, "{}", body.len()).unwrap();
        stdin.write_all(body).unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("rpc.py said {line:?}: {e}"))
    }

    /// The result of a successful call; panics on a fault or bad XML.
    fn result(&self, what: &str, body: &[u8]) -> Json {
        let mut r = self.decode(body);
        match r.get_mut("result") {
            Some(v) => v.take(),
            None => panic!("{what}: expected a result, got {r}"),
        }
    }

    /// The code of a fault; panics on anything else.
    fn fault(&self, what: &str, body: &[u8]) -> i64 {
        let r = self.decode(body);
        r.get("fault")
            .and_then(Json::as_i64)
            .unwrap_or_else(|| panic!("{what}: expected a fault, got {r}"))
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Send `bytes` on a new connection, half-close, and return the first reply
/// (`None`: closed without one). Write errors are fine: the server may
/// refuse a request before it is all sent.
fn exchange(t: &Target, bytes: &[u8]) -> Option<Reply> {
    let mut c = Conn::open(t);
    let _ = c.write_all(bytes);
    c.shutdown_write();
    read_reply(&mut c, &mut Vec::new())
}

fn post(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn call_doc(method: &str, params_xml: &str) -> Vec<u8> {
    format!(
        "<?xml version='1.0'?><methodCall><methodName>{method}</methodName>\
         <params>{params_xml}</params></methodCall>"
    )
    .into_bytes()
}

fn param(v: &str) -> String {
    format!("<param><value>{v}</value></param>")
}

/// XML-RPC values, written out.
fn string(s: &str) -> String {
    format!("<string>{s}</string>")
}

fn int(n: i64) -> String {
    format!("<int>{n}</int>")
}

fn array(items: &[String]) -> String {
    let values: String = items
        .iter()
        .map(|v| format!("<value>{v}</value>"))
        .collect();
    format!("<array><data>{values}</data></array>")
}

fn record(members: &[(&str, String)]) -> String {
    let m: String = members
        .iter()
        .map(|(k, v)| format!("<member><name>{k}</name><value>{v}</value></member>"))
        .collect();
    format!("<struct>{m}</struct>")
}

/// A whole call: `method` with these values as its parameters.
fn call(method: &str, params: &[String]) -> Vec<u8> {
    let params: String = params.iter().map(|v| param(v)).collect();
    call_doc(method, &params)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// An HTTP error status with Medusa's HTML page.
    Status(u16),
    /// 200 with an XML-RPC fault of this code.
    Fault(i64),
    /// 200 with a successful XML-RPC response.
    Ok,
    /// The connection closes without a response.
    Closed,
}

fn bad_requests() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::*;
    let get_pid = call_doc("supervisor.getPID", "");
    let mut v: Vec<(&'static str, Vec<u8>, Expect)> = vec![
        // Malformed request lines and headers.
        ("garbage request line", b"GARBAGE\r\n\r\n".to_vec(), Status(400)),
        ("bad method token", b"G@T / HTTP/1.1\r\n\r\n".to_vec(), Status(400)),
        ("no version", b"GET /\r\n\r\n".to_vec(), Status(400)),
        ("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n".to_vec(), Status(400)),
        ("NUL in request line", b"GET /\0 HTTP/1.1\r\n\r\n".to_vec(), Status(400)),
        (
            "header without colon",
            b"POST /RPC2 HTTP/1.1\r\nNoColonHere\r\n\r\n".to_vec(),
            Status(400),
        ),
        (
            "space in header name",
            b"POST /RPC2 HTTP/1.1\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Status(400),
        ),
        (
            "head over 64 KiB",
            format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(200_000)).into_bytes(),
            Status(431),
        ),
        (
            "200 headers",
            format!(
                "GET /nope HTTP/1.1\r\n{}\r\n",
                (0..200).map(|i| format!("X{i}: y\r\n")).collect::<String>()
            )
            .into_bytes(),
            Status(431),
        ),
        // Methods, paths, framing.
        ("GET /RPC2", b"GET /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), Status(400)),
        ("PUT /RPC2", b"PUT /RPC2 HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec(), Status(400)),
        ("POST without Content-Length", b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), Status(411)),
        (
            "chunked body",
            b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                .to_vec(),
            Status(411),
        ),
        ("Content-Length abc", b"POST /RPC2 HTTP/1.1\r\nContent-Length: abc\r\n\r\n".to_vec(), Status(400)),
        ("Content-Length -5", b"POST /RPC2 HTTP/1.1\r\nContent-Length: -5\r\n\r\n".to_vec(), Status(400)),
        (
            "two Content-Lengths",
            b"POST /RPC2 HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
            Status(400),
        ),
        (
            "Content-Length shorter than the body",
            [
                &b"POST /RPC2 HTTP/1.1\r\nContent-Length: 10\r\n\r\n"[..],
                &get_pid,
            ]
            .concat(),
            Status(400),
        ),
        (
            "Content-Length longer than the body",
            b"POST /RPC2 HTTP/1.1\r\nContent-Length: 1000\r\n\r\n<methodCall>".to_vec(),
            Closed,
        ),
        (
            "Content-Length over 2 MiB",
            b"POST /RPC2 HTTP/1.1\r\nContent-Length: 3000000\r\n\r\n<methodCall>".to_vec(),
            Status(413),
        ),
        ("unknown path", b"GET /nope HTTP/1.1\r\n\r\n".to_vec(), Status(404)),
        ("logtail of nothing", b"GET /logtail/nosuch HTTP/1.1\r\n\r\n".to_vec(), Status(404)),
        // Used to panic the daemon (a str sliced inside 'é').
        (
            "escape before a multi-byte character",
            "GET /logtail/%aé HTTP/1.1\r\n\r\n".as_bytes().to_vec(),
            Status(404),
        ),
        (
            "POST /logtail",
            b"POST /logtail/sleeper1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec(),
            Status(400),
        ),
        // Bodies that are not XML-RPC.
        ("empty body", post(b""), Status(400)),
        ("not XML", post(b"hello world"), Status(400)),
        ("half XML", post(b"<methodCall><methodName>supervisor.getPID</methodName>"), Status(400)),
        ("no methodName", post(b"<methodCall></methodCall>"), Status(400)),
        ("invalid UTF-8", post(b"<methodCall><methodName>a.b\xff</methodName></methodCall>"), Status(400)),
        ("bad int", post(&call_doc("supervisor.getPID", &param("<int>x</int>"))), Status(400)),
        ("int over 64 bits", post(&call_doc("supervisor.getPID", &param("<int>99999999999999999999</int>"))), Status(400)),
        ("nil", post(&call_doc("supervisor.getPID", &param("<nil/>"))), Status(400)),
        ("unknown type", post(&call_doc("supervisor.getPID", &param("<foo>1</foo>"))), Status(400)),
        (
            "DOCTYPE with entity",
            post(b"<!DOCTYPE x [<!ENTITY a \"b\">]><methodCall><methodName>supervisor.getPID</methodName></methodCall>"),
            Status(400),
        ),
        (
            "nesting 5000 deep",
            post(&call_doc(
                "supervisor.getPID",
                &format!(
                    "<param>{}{}</param>",
                    "<value><array><data>".repeat(5000),
                    "</data></array></value>".repeat(5000)
                ),
            )),
            Status(400),
        ),
        // Calls that decode but are wrong: faults, as Supervisor answers.
        ("unknown method", post(&call_doc("supervisor.nope", "")), Fault(1)),
        ("private method", post(&call_doc("supervisor._private", "")), Fault(1)),
        ("three-part method", post(&call_doc("a.b.c", "")), Fault(1)),
        ("too many arguments", post(&call_doc("supervisor.getPID", &param("<int>5</int>"))), Fault(2)),
        ("struct as a name", post(&call_doc("supervisor.getProcessInfo", &param("<struct></struct>"))), Fault(2)),
        ("int as a name", post(&call_doc("supervisor.getProcessInfo", &param("<int>5</int>"))), Fault(10)),
        (
            "strings as offsets",
            post(&call_doc("supervisor.readLog", &(param("<string>x</string>") + &param("<string>y</string>")))),
            Fault(2),
        ),
        (
            "multicall of an int",
            post(&call_doc("system.multicall", &param("<int>1</int>"))),
            Fault(2),
        ),
        (
            "1 MB process name",
            post(&call_doc("supervisor.getProcessInfo", &param(&format!("<string>{}</string>", "x".repeat(1_000_000))))),
            Fault(10),
        ),
        // A prefix match, like Medusa's.
        ("/RPC2 prefix", {
            let mut r = post(&get_pid);
            r.splice(5..10, b"/RPC2xyz".iter().copied());
            r
        }, Ok),
        // Entities are decoded, so the name is the real one.
        ("escaped name", post(b"<methodCall><methodName>supervisor.get&#80;ID</methodName></methodCall>"), Ok),
    ];
    // A multicall with a recursive call and a non-struct entry: one array.
    v.push((
        "multicall with bad entries",
        post(&call_doc(
            "system.multicall",
            &param(
                "<array><data><value><struct><member><name>methodName</name>\
                 <value>system.multicall</value></member></struct></value>\
                 <value><int>1</int></value></data></array>",
            ),
        )),
        Ok,
    ));
    v
}

fn check(py: &Decoder, name: &str, t: &Target, reply: Option<Reply>, want: Expect) {
    let what = match t {
        Target::Unix(_) => "unix",
        Target::Tcp(_) => "inet",
    };
    let name = format!("{name} ({what})");
    match (want, reply) {
        (Expect::Closed, None) => {}
        (Expect::Closed, Some(r)) => {
            panic!("{name}: expected a silent close, got {}", r.status)
        }
        (_, None) => panic!("{name}: closed without a reply, expected {want:?}"),
        (Expect::Status(s), Some(r)) => {
            assert_eq!(r.status, s, "{name}");
            assert_eq!(r.head.header("server"), Some(SERVER_HEADER));
            let body = String::from_utf8_lossy(&r.body);
            assert!(
                body.contains(&format!("<p>Error code {s}.")),
                "{name}: {body}"
            );
        }
        (Expect::Fault(code), Some(r)) => {
            assert_eq!(r.status, 200, "{name}");
            assert_eq!(py.fault(&name, &r.body), code, "{name}");
        }
        (Expect::Ok, Some(r)) => {
            assert_eq!(r.status, 200, "{name}");
            py.result(&name, &r.body);
        }
    }
}

/// One XML-RPC call on a kept-alive connection: the decoded reply.
fn rpc(py: &Decoder, c: &mut Conn, buf: &mut Vec<u8>, method: &str, params: &[String]) -> Json {
    c.write_all(&post(&call(method, params)))
        .expect("send call");
    let r = read_reply(c, buf).unwrap_or_else(|| panic!("{method}: connection closed"));
    assert_eq!(r.status, 200, "{method}");
    assert!(r.head.keep_alive(), "{method}: kept alive");
    py.decode(&r.body)
}

/// What a well-behaved client does: several calls on one connection, with a
/// few bad ones in between that must not cost it the connection.
fn good_client(py: &Decoder, t: &Target, pids: &[(String, u32)], daemon_pid: u32) {
    let mut c = Conn::open(t);
    let mut buf = Vec::new();
    for round in 0..2 {
        let state = rpc(py, &mut c, &mut buf, "supervisor.getState", &[]);
        assert_eq!(state["result"]["statename"], "RUNNING", "{state}");
        let (name, pid) = &pids[round % pids.len()];
        let info = rpc(
            py,
            &mut c,
            &mut buf,
            "supervisor.getProcessInfo",
            &[string(name)],
        );
        assert_eq!(info["result"]["pid"], *pid, "{info}");
        assert_eq!(info["result"]["statename"], "RUNNING", "{info}");
        let f = rpc(py, &mut c, &mut buf, "supervisor.nope", &[]);
        assert_eq!(f["fault"], 1, "{f}");
        // Undecodable XML: 400, and the connection stays usable.
        c.write_all(&post(b"<methodCall><oops>")).unwrap();
        let r = read_reply(&mut c, &mut buf).expect("400 reply");
        assert_eq!(r.status, 400);
        let all = rpc(py, &mut c, &mut buf, "supervisor.getAllProcessInfo", &[]);
        assert_eq!(all["result"].as_array().map(Vec::len), Some(pids.len()));
        let calls = array(&[
            record(&[("methodName", string("supervisor.getPID"))]),
            record(&[("methodName", string("supervisor.bogus"))]),
        ]);
        let multi = rpc(py, &mut c, &mut buf, "system.multicall", &[calls]);
        assert_eq!(multi["result"][0], daemon_pid, "{multi}");
        assert_eq!(multi["result"][1]["faultCode"], 1, "{multi}");
        let params = [string("talker"), int(0), int(4096)];
        let tail = rpc(
            py,
            &mut c,
            &mut buf,
            "supervisor.tailProcessStdoutLog",
            &params,
        );
        assert_eq!(tail["result"].as_array().map(Vec::len), Some(3), "{tail}");
    }
}

/// The slowest `pidvisorctl status` so far, in milliseconds (reported).
static SLOWEST_STATUS_MS: AtomicUsize = AtomicUsize::new(0);

/// Start `pidvisorctl status`; fail if it takes longer than the deadline.
fn status_within(d: &Daemon, deadline: Duration) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pidvisorctl"))
        .arg("-c")
        .arg(&d.conf)
        .arg("status")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pidvisorctl");
    let start = clock::mono();
    let done = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if clock::mono() - start > deadline {
            break None;
        }
        clock::sleep(Duration::from_millis(5));
    };
    let Some(st) = done else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("pidvisorctl status took longer than {deadline:?}");
    };
    let ms = (clock::mono() - start).as_millis() as usize;
    SLOWEST_STATUS_MS.fetch_max(ms, Ordering::Relaxed);
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(st.code(), Some(0), "status: {out}{err}");
    out
}

/// Every program RUNNING with the pid it had at the start.
fn assert_undisturbed(status: &str, pids: &[(String, u32)]) {
    for (name, pid) in pids {
        let line = status
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from status:\n{status}"));
        assert!(
            line.contains(&format!("RUNNING   pid {pid},")),
            "{name} disturbed: {line}"
        );
        assert!(alive(*pid), "{name} pid {pid} gone");
    }
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn kib(pid: u32, key: &str) -> u64 {
    proc_status(pid, key)
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Room for the test's own sockets; the daemon inherits the limit.
fn raise_nofile() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    let want = hard.min(16384);
    if soft < want {
        setrlimit(Resource::RLIMIT_NOFILE, want, hard).unwrap();
    }
    want.max(soft)
}

#[test]
fn control_server_survives_a_flood() {
    let _alone = crate::one_at_a_time();
    let Some(py) = Decoder::start() else { return };
    let py = Arc::new(py);
    let nofile = raise_nofile();
    let port = free_port();
    let d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\n\n\
         [program:talker]\ncommand=sh -c 'while :; do seq 1 2000; sleep 0.1; done'\nstartsecs=0\n\
         [program:sleeper1]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:sleeper2]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    let names = ["sleeper1", "sleeper2", "talker"];
    let pids: Vec<(String, u32)> = names
        .iter()
        .map(|n| (n.to_string(), d.wait_spawned(n, 1)))
        .collect();
    let unix = Target::Unix(d.path("ctl.sock"));
    let inet = Target::Tcp(port);
    wait_for("the talker's log", TIMEOUT, || {
        std::fs::read_dir(d.dir.path())
            .unwrap()
            .flatten()
            .any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with("talker-stdout") && e.metadata().is_ok_and(|m| m.len() > 0)
            })
            .then_some(())
    });
    assert_undisturbed(&status_within(&d, STATUS_DEADLINE), &pids);
    let fds_before = fd_count(d.pid);
    let rss_before = kib(d.pid, "VmRSS");

    // 1. Every kind of bad request, on both servers.
    for t in [&unix, &inet] {
        for (name, bytes, want) in bad_requests() {
            check(&py, name, t, exchange(t, &bytes), want);
        }
    }
    // A multicall of thousands of whole-log reads: the results stop
    //    growing at a bound and the rest are FAILED faults.
    let read_all = record(&[
        ("methodName", string("supervisor.readProcessStdoutLog")),
        ("params", array(&[string("talker"), int(0), int(0)])),
    ]);
    let calls = array(&vec![read_all; 4000]);
    let t0 = clock::mono();
    let mut c = Conn::open(&unix);
    let multi = rpc(&py, &mut c, &mut Vec::new(), "system.multicall", &[calls]);
    let multi = multi["result"].as_array().expect("a result array");
    assert_eq!(multi.len(), 4000);
    assert!(
        multi[0].as_str().is_some_and(|s| s.len() > 1000),
        "{}",
        multi[0]
    );
    assert_eq!(multi[3999]["faultCode"], 30, "{}", multi[3999]);
    drop(c);
    eprintln!("multicall took {:?}", clock::mono() - t0);
    assert_undisturbed(&status_within(&d, STATUS_DEADLINE), &pids);

    // 2. Slowloris: more half-sent requests than the server keeps
    //    connections, all left open. Real clients still get in.
    let slow_n = 1100.min(nofile.saturating_sub(900) as usize);
    let mut slow = Vec::with_capacity(slow_n);
    for i in 0..slow_n {
        let t = if i % 4 == 0 { &inet } else { &unix };
        let mut c = Conn::open(t);
        let part: &[u8] = match i % 3 {
            0 => b"POST /RPC2 HTTP/1.1\r\nContent-Le",
            1 => b"POST /RPC2 HTTP/1.1\r\nContent-Length: 500\r\n\r\n<methodCall>",
            _ => b"GET /logta",
        };
        c.write_all(part).unwrap();
        slow.push(c);
    }
    assert_undisturbed(&status_within(&d, STATUS_DEADLINE), &pids);

    // 3. 500 concurrent well-behaved clients, plus clients that never read
    //    (pipelined calls, a log follower) and clients that leave in the
    //    middle of a response, while status keeps being asked.
    let stop = Arc::new(AtomicBool::new(false));
    let mut silent = Vec::new();
    for i in 0..10 {
        let t = if i % 2 == 0 { &unix } else { &inet };
        let mut c = Conn::open(t);
        if i < 8 {
            let one = post(&call("supervisor.getAllProcessInfo", &[]));
            // Far more answers than any socket buffer holds.
            let many: Vec<u8> = one.repeat(6000);
            let _ = c.write_all(&many);
        } else {
            c.write_all(b"GET /logtail/talker HTTP/1.1\r\n\r\n")
                .unwrap();
        }
        silent.push(c);
    }
    let leavers = {
        let (unix, inet) = (unix.clone(), inet.clone());
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let t = if n % 2 == 0 { &unix } else { &inet };
                let mut c = Conn::open(t);
                // More than the socket buffers hold, so the daemon is
                // still writing when the client goes.
                let read = call(
                    "supervisor.readProcessStdoutLog",
                    &[string("talker"), int(-400_000), int(0)],
                );
                c.write_all(&post(&read)).unwrap();
                let mut first = [0u8; 100];
                let _ = c.read(&mut first);
                drop(c); // mid-response
                n += 1;
            }
            n
        })
    };
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for i in 0..500 {
        let t = if i % 2 == 0 {
            unix.clone()
        } else {
            inet.clone()
        };
        let pids = pids.clone();
        let done = done.clone();
        let daemon_pid = d.pid;
        let py = py.clone();
        clients.push(
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    good_client(&py, &t, &pids, daemon_pid);
                    done.fetch_add(1, Ordering::Relaxed);
                })
                .unwrap(),
        );
    }
    let mut status_calls = 0;
    while done.load(Ordering::Relaxed) < 500 && clients.iter().any(|c| !c.is_finished()) {
        assert_undisturbed(&status_within(&d, STATUS_DEADLINE), &pids);
        status_calls += 1;
    }
    let mut failed = 0;
    for c in clients {
        if c.join().is_err() {
            failed += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let left_mid_response = leavers.join().expect("leaving clients");
    assert_eq!(failed, 0, "well-behaved clients failed");
    assert_eq!(done.load(Ordering::Relaxed), 500);
    assert_undisturbed(&status_within(&d, STATUS_DEADLINE), &pids);
    let rss_peak = kib(d.pid, "VmHWM");

    // 4. Everyone leaves: descriptors back to where they were.
    drop(silent);
    drop(slow);
    wait_for("the daemon's fd count back to baseline", TIMEOUT, || {
        (fd_count(d.pid) <= fds_before).then_some(())
    });
    let status = status_within(&d, STATUS_DEADLINE);
    assert_undisturbed(&status, &pids);
    for (name, _) in &pids {
        assert_eq!(
            d.log_count(&format!("spawned: '{name}'")),
            1,
            "{name} respawned"
        );
    }
    let rss_after = kib(d.pid, "VmRSS");
    eprintln!(
        "flood: fds {fds_before}, rss {rss_before} KiB before, peak {rss_peak} KiB, \
         {rss_after} KiB after; {slow_n} slow clients, {status_calls} status calls during \
         (slowest {} ms), {left_mid_response} mid-response leavers",
        SLOWEST_STATUS_MS.load(Ordering::Relaxed)
    );
    // Bounded: unread output stops taking requests off a connection, so
    // the silent clients' ~100 MB of answers never pile up in the daemon,
    // and the big multicall stopped at 16 MiB (held about three times:
    // results, document, output buffer).
    assert!(
        rss_peak < rss_before + 128 * 1024,
        "peak RSS {rss_peak} KiB from {rss_before} KiB"
    );
}
