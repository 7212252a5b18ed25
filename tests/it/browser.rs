//! A real browser for the web page's tests: Debian's headless `chromium`
//! driven through `chromedriver` over WebDriver (plain HTTP and JSON, no
//! client library). Each [`Browser`] has its own chromedriver, port and
//! fresh profile; Drop ends the session and kills what it started.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::fixture::{descendants, send, wait_for, TIMEOUT};

/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A TCP port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(cmd: &str) -> Option<String> {
    ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|d| format!("{d}/{cmd}"))
        .find(|p| std::path::Path::new(p).exists())
}

/// The body of one HTTP answer, framed by its `Content-Length`
/// (chromedriver keeps the connection open).
fn read_answer(s: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = match s.read(&mut buf) {
            Ok(n) => n,
            // Another test's child may have sent this process a signal.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("chromedriver's answer: {e}"),
        };
        assert!(
            n > 0,
            "chromedriver closed: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
        let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("a Content-Length");
        if raw.len() >= end + 4 + length {
            return String::from_utf8_lossy(&raw[end + 4..end + 4 + length]).into_owned();
        }
    }
}

pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A headless chromium with a `width` x `height` window. When chromium
    /// or chromedriver is not installed: `None` after [`crate::skip::skip`]
    /// (a failure unless the runner allowed skips).
    pub fn start(width: u32, height: u32) -> Option<Browser> {
        Browser::launch(width, height, false)
    }

    /// A headless chromium emulating a phone `width` CSS pixels wide
    /// (a desktop window cannot be that narrow).
    pub fn phone(width: u32, height: u32) -> Option<Browser> {
        Browser::launch(width, height, true)
    }

    fn launch(width: u32, height: u32, phone: bool) -> Option<Browser> {
        let (Some(chromium), Some(driver)) = (which("chromium"), which("chromedriver")) else {
            let why =
                "chromium and chromedriver are needed (apt-get install chromium chromium-driver)";
            crate::skip::skip(why);
            return None;
        };
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::Builder::new()
            .prefix("pidvisor-chromium")
            .tempdir()
            .unwrap();
        let mut b = Browser {
            driver: child,
            port,
            session: String::new(),
            _profile: profile,
        };
        wait_for("chromedriver to listen", TIMEOUT, || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--disable-breakpad",
            "--disable-crash-reporter",
            &format!("--user-data-dir={}", b._profile.path().display()),
            &format!("--window-size={width},{height}"),
        ];
        let mut options = json!({"binary": chromium, "args": args});
        if phone {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": true},
            });
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let v = b.call("POST", "/session", Some(caps));
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Some(b)
    }

    /// One WebDriver command; its `value`. A WebDriver error panics with
    /// its message.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self.try_call(method, path, body);
        if let Some(err) = v.get("error") {
            panic!("WebDriver {method} {path}: {err}: {}", v["message"]);
        }
        v
    }

    /// Like `call`, giving the error object back instead of panicking.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("chromedriver");
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        s.write_all(req.as_bytes()).unwrap();
        let json = read_answer(&mut s);
        let v: Value = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}: {json}"));
        v["value"].clone()
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    pub fn goto(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({ "url": url })),
        );
    }

    /// Run `script` (a function body; `arguments` are `args`) in the page.
    pub fn eval(&self, script: &str, args: Value) -> Value {
        let body = json!({"script": script, "args": args});
        self.call("POST", &self.session_path("/execute/sync"), Some(body))
    }

    /// The id of the element matching a CSS selector (panics if none).
    pub fn find(&self, css: &str) -> String {
        let body = json!({"using": "css selector", "value": css});
        let v = self.call("POST", &self.session_path("/element"), Some(body));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element id for {css}: {v}"))
            .to_string()
    }

    /// Click an element the way a user does (scrolled into view, at its
    /// centre).
    pub fn click(&self, id: &str) {
        let path = self.session_path(&format!("/element/{id}/click"));
        self.call("POST", &path, Some(json!({})));
    }

    /// Type `text` into an element (a text field).
    pub fn type_text(&self, id: &str, text: &str) {
        let path = self.session_path(&format!("/element/{id}/value"));
        self.call("POST", &path, Some(json!({ "text": text })));
    }

    /// The text of the first element matching `css`, as rendered.
    pub fn text(&self, css: &str) -> String {
        let id = self.find(css);
        let path = self.session_path(&format!("/element/{id}/text"));
        self.call("GET", &path, None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Wait until `cond` (run on this browser) gives a value.
    pub fn wait<T>(&self, what: &str, mut cond: impl FnMut(&Browser) -> Option<T>) -> T {
        wait_for(what, TIMEOUT, || cond(self))
    }

    /// The text of an open `alert()`/`confirm()`, if one is open.
    pub fn alert(&self) -> Option<String> {
        let v = self.try_call("GET", &self.session_path("/alert/text"), None);
        v.as_str().map(str::to_string)
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.call("GET", &self.session_path("/screenshot"), None);
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_call("DELETE", &self.session_path(""), None);
        }
        // Whatever chromium left: only what this chromedriver started,
        // found while it is still their ancestor.
        for pid in descendants(self.driver.id()) {
            send(pid, 9);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
