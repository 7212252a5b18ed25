//! Issue 16: the web page and `/metrics` on pidvisord's HTTP server,
//! driven by a real browser (headless chromium over WebDriver) and by raw
//! HTTP: live updates without reloading, Restart All, the tail's live
//! follow, escaping, refusal of cross-site actions, auth on every path,
//! `web_ui = false`, the phone layout, and no wake-ups once the page is
//! closed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::browser::{free_port, Browser};
use crate::fixture::{proc_status, Daemon};

/// Basic credentials of every config here: `u` / `p`.
const AUTH: (&str, &str) = ("Authorization", "Basic dTpw");

/// A daemon with an authenticated inet server on a free port, running
/// `programs`; its port.
fn daemon(programs: &str) -> (Daemon, u16) {
    let port = free_port();
    let body =
        format!("[inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\n\n{programs}");
    (Daemon::start(&body), port)
}

fn base(port: u16) -> String {
    format!("http://u:p@127.0.0.1:{port}/")
}

/// An HTTP answer: status, head and body.
struct Http {
    status: u16,
    head: String,
    body: String,
}

/// One request on a fresh connection.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Http {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    Http {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// `name -> (state, pid)` from `pidvisorctl status`.
fn states(d: &Daemon) -> std::collections::HashMap<String, (String, u32)> {
    let out = d.ctl(&["status"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?.to_string();
            let state = w.next()?.to_string();
            let pid = l
                .split("pid ")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            Some((name, (state, pid)))
        })
        .collect()
}

/// The state word in the row of `key`, as the browser shows it.
fn shown_state(b: &Browser, key: &str) -> String {
    let script = "for (const tr of document.querySelectorAll('tr.proc')) \
                  if (tr.dataset.key === arguments[0]) return tr.querySelector('.badge').textContent; \
                  return null;";
    b.eval(script, json!([key]))
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// A marker in the page's window: gone if the page was reloaded.
fn mark(b: &Browser) {
    b.eval("window.pidvisorTestMark = 42;", json!([]));
}

fn still_marked(b: &Browser) -> bool {
    b.eval("return window.pidvisorTestMark === 42;", json!([])) == json!(true)
}

const TWO_AND_A_GROUP: &str = "
[program:alpha]
command=sleep 1000
startsecs=0

[program:beta]
command=sleep 1000
startsecs=0

[group:pool]
programs=w1,w2

[program:w1]
command=sleep 1000
startsecs=0

[program:w2]
command=sleep 1000
startsecs=0
";

#[test]
fn stop_turns_the_row_stopped_without_reload_and_restart_all_restarts_everything() {
    let (d, port) = daemon(TWO_AND_A_GROUP);
    for name in ["alpha", "beta", "pool:w1", "pool:w2"] {
        d.wait_log(&format!("spawned: '{}'", name.rsplit(':').next().unwrap()));
    }
    let Some(b) = Browser::start(1280, 900) else {
        return;
    };
    b.goto(&base(port));
    b.wait("alpha RUNNING in the page", |b| {
        (shown_state(b, "alpha") == "RUNNING").then_some(())
    });
    mark(&b);

    b.click(&b.find("tr.proc[data-key='alpha'] button.a-stop"));
    b.wait("alpha STOPPED in the page", |b| {
        (shown_state(b, "alpha") == "STOPPED").then_some(())
    });
    assert!(still_marked(&b), "the page was reloaded");
    assert_eq!(b.text("#message"), "Process alpha stopped");
    assert_eq!(states(&d)["alpha"].0, "STOPPED");
    // Only Start applies now.
    let shown = b.eval(
        "const tr = document.querySelector(\"tr.proc[data-key='alpha']\"); \
         return ['.a-start', '.a-stop'].map(c => getComputedStyle(tr.querySelector(c)).display !== 'none');",
        json!([]),
    );
    assert_eq!(shown, json!([true, false]), "Start shown, Stop hidden");

    let before = states(&d);
    b.click(&b.find("form.toolbar button[value='restartall']"));
    b.wait("the Restart All message", |b| {
        b.text("#message")
            .starts_with("All restarted at ")
            .then_some(())
    });
    let after = states(&d);
    for name in ["alpha", "beta", "pool:w1", "pool:w2"] {
        let (state, pid) = &after[name];
        assert_eq!(state, "RUNNING", "{name} after Restart All");
        assert_ne!(
            *pid, before[name].1,
            "{name} kept its pid through Restart All"
        );
        assert!(*pid > 0);
    }
    b.wait("every row RUNNING", |b| {
        ["alpha", "beta", "pool:w1", "pool:w2"]
            .iter()
            .all(|k| shown_state(b, k) == "RUNNING")
            .then_some(())
    });
    assert!(still_marked(&b), "the page was reloaded");
}

#[test]
fn the_tail_page_follows_a_line_printed_after_it_opened() {
    let port = free_port();
    let d = Daemon::prepare(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\n\n\
         [program:talker]\n\
         command=sh -c 'echo first-line; read x < {{dir}}/fifo; echo \"$x\"; exec sleep 1000'\n\
         startsecs=0\n"
    ));
    let fifo = d.path("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let d = d.launch();
    d.wait_log("spawned: 'talker'");
    let Some(b) = Browser::start(1024, 768) else {
        return;
    };
    b.goto(&format!("{}tail.html?processname=talker", base(port)));
    let log_text = |b: &Browser| {
        b.eval(
            "return document.getElementById('log').textContent;",
            json!([]),
        )
    };
    b.wait("first-line in the tail", |b| {
        log_text(b).as_str()?.contains("first-line").then_some(())
    });
    b.wait("the live follow", |b| {
        (b.text("#live") == "following").then_some(())
    });
    mark(&b);

    let line = format!("printed-after-open-{}", std::process::id());
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writeln!(w, "{line}").unwrap();
    drop(w);

    let text = b.wait("the new line in the tail", |b| {
        let t = log_text(b).as_str()?.to_string();
        t.contains(&line).then_some(t)
    });
    assert!(still_marked(&b), "the page was reloaded");
    assert_eq!(text.matches("first-line").count(), 1, "{text:?}");
    assert!(text.find("first-line") < text.find(&line));
    assert_eq!(d.log_count("spawned: 'talker'"), 1);
}

/// Program names are free text but for space, `:` and `/` (Supervisor's
/// rule), so `</script>` cannot be one; these are the closest, and the
/// second would run in any page that did not escape it.
const HOSTILE: [&str; 2] = [
    "<script>alert(1)<\\script>\"'&amp;",
    "<img\tsrc=x\tonerror=alert(2)>",
];

#[test]
fn names_are_escaped_in_the_page_its_live_updates_and_the_tail() {
    let programs: String = HOSTILE
        .iter()
        .map(|n| format!("[program:{n}]\ncommand=sleep 1000\nstartsecs=0\n\n"))
        .collect();
    let (d, port) = daemon(&programs);
    d.wait_log_count("spawned: '", 2);
    let Some(b) = Browser::start(1280, 900) else {
        return;
    };
    b.goto(&base(port));
    let names = |b: &Browser| {
        b.eval(
            "return [...document.querySelectorAll('tr.proc td.name')].map(td => td.textContent);",
            json!([]),
        )
    };
    let injected = |b: &Browser| {
        b.eval(
            "return document.querySelectorAll('main img, main script, tr.proc b').length;",
            json!([]),
        )
    };
    b.wait("both rows", |b| {
        (names(b).as_array()?.len() == 2).then_some(())
    });
    for n in HOSTILE {
        assert!(names(&b).as_array().unwrap().contains(&json!(n)), "{n}");
    }
    assert_eq!(injected(&b), json!(0));
    assert_eq!(b.alert(), None);
    let raw = http(port, "GET", "/", &[AUTH], "").body;
    assert!(raw.contains("&lt;script&gt;alert(1)&lt;\\script&gt;&quot;&#39;&amp;amp;"));
    assert!(raw.contains("&lt;img\tsrc=x\tonerror=alert(2)&gt;"));

    // A third one arrives while the page is open: the script builds the
    // row itself, from status.json.
    let third = "<b\tonclick=alert(3)>bold<b>";
    let mut conf = std::fs::read_to_string(&d.conf).unwrap();
    conf.push_str(&format!(
        "\n[program:{third}]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    std::fs::write(&d.conf, conf).unwrap();
    let out = d.ctl(&["update"]);
    assert!(out.status.success(), "{out:?}");
    mark(&b);
    b.wait("the new row, built live", |b| {
        names(b).as_array()?.contains(&json!(third)).then_some(())
    });
    assert!(still_marked(&b), "the page was reloaded");
    assert_eq!(injected(&b), json!(0));
    assert_eq!(b.alert(), None);

    let url = format!(
        "{}tail.html?processname={}",
        base(port),
        pidvisor_quote(HOSTILE[1])
    );
    b.goto(&url);
    b.wait("the tail page", |b| {
        b.text(".summary")
            .contains(HOSTILE[1].split('\t').next()?)
            .then_some(())
    });
    assert_eq!(injected(&b), json!(0));
    assert_eq!(b.alert(), None);
}

fn pidvisor_quote(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn cross_site_actions_change_nothing() {
    let (d, port) = daemon(TWO_AND_A_GROUP);
    d.wait_log("spawned: 'alpha'");
    d.wait_log("spawned: 'w2'");
    let before = states(&d);
    let alpha = "/index.html?processname=alpha&action=stop";
    for headers in [
        vec![AUTH, ("Sec-Fetch-Site", "cross-site")],
        vec![AUTH, ("Sec-Fetch-Site", "same-site")],
        vec![AUTH, ("Origin", "http://evil.example")],
        vec![AUTH, ("Referer", "http://evil.example/page.html")],
    ] {
        let r = http(port, "GET", alpha, &headers, "");
        assert_eq!(r.status, 403, "{headers:?}: {}", r.head);
        let r = http(port, "POST", "/index.html", &headers, "action=stopall");
        assert_eq!(r.status, 403, "{headers:?}: {}", r.head);
    }
    assert_eq!(states(&d), before, "a refused request changed something");

    // The same from a real browser: another origin (an opaque data: page)
    // sends the user's cached credentials along, and is refused.
    let Some(b) = Browser::start(1024, 768) else {
        return;
    };
    b.goto(&base(port));
    b.wait("the page", |b| {
        (shown_state(b, "alpha") == "RUNNING").then_some(())
    });
    let target = format!("http://127.0.0.1:{port}/index.html");
    let form = format!(
        "<form method=post action='{target}'><input name=action value=stopall>\
         </form><script>document.forms[0].submit()</script>"
    );
    let link = format!("<script>location.href='{target}?processname=alpha&action=stop'</script>");
    for page in [form, link] {
        b.goto(&format!("data:text/html,{}", pidvisor_quote(&page)));
        let text = b.wait("the refusal", |b| {
            let t = b.eval(
                "return document.body ? document.body.textContent : '';",
                json!([]),
            );
            let t = t.as_str()?.to_string();
            t.contains("403").then_some(t)
        });
        assert!(text.contains("refused"), "{text}");
    }
    assert_eq!(states(&d), before, "a cross-site request changed something");
    // A script without a browser's headers still acts (bookmarks, curl).
    let r = http(port, "GET", alpha, &[AUTH], "");
    assert_eq!(r.status, 301, "{}", r.head);
    assert_eq!(states(&d)["alpha"].0, "STOPPED");
}

#[test]
fn every_path_needs_the_credentials() {
    let port = free_port();
    let sha = pidvisor::http::codec::sha1_hex(b"p");
    let d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword={{SHA}}{sha}\n\n\
         [program:alpha]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    d.wait_log("spawned: 'alpha'");
    let paths = [
        "/",
        "/index.html",
        "/index.html?action=stopall",
        "/tail.html?processname=alpha",
        "/ok.html",
        "/status.json",
        "/metrics",
        "/static/pidvisor.js",
        "/static/pidvisor.css",
        "/static/icon.svg",
    ];
    for path in paths {
        for headers in [vec![], vec![("Authorization", "Basic dTpx")]] {
            let r = http(port, "GET", path, &headers, "");
            assert_eq!(r.status, 401, "{path} {headers:?}");
            assert!(r.head.contains("WWW-Authenticate: Basic"), "{}", r.head);
        }
    }
    assert_eq!(states(&d)["alpha"].0, "RUNNING");
    for path in paths.iter().filter(|p| !p.contains("action")) {
        assert_eq!(http(port, "GET", path, &[AUTH], "").status, 200, "{path}");
    }
}

#[test]
fn web_ui_false_serves_no_page_but_metrics() {
    let port = free_port();
    let d = Daemon::start(&format!(
        "[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/pidvisord.pid\n\
         childlogdir={{dir}}\nweb_ui=false\n\n[unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n\
         [inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\n\n\
         [program:alpha]\ncommand=sleep 1000\nstartsecs=0\n"
    ));
    d.wait_log("spawned: 'alpha'");
    for path in [
        "/",
        "/index.html?processname=alpha&action=stop",
        "/tail.html?processname=alpha",
        "/status.json",
        "/static/pidvisor.js",
    ] {
        assert_eq!(http(port, "GET", path, &[AUTH], "").status, 404, "{path}");
    }
    assert_eq!(states(&d)["alpha"].0, "RUNNING");
    let m = http(port, "GET", "/metrics", &[AUTH], "");
    assert_eq!(m.status, 200);
    assert!(m
        .body
        .contains("pidvisor_process_up{name=\"alpha\",group=\"alpha\"} 1"));
}

/// Voluntary context switches of every thread of `pid`.
fn wakeups(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .filter_map(|t| {
            let tid: u32 = t.file_name().to_string_lossy().parse().ok()?;
            let s = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
            s.lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[test]
fn no_wakeups_once_the_page_is_closed() {
    let (d, port) = daemon(TWO_AND_A_GROUP);
    d.wait_log("spawned: 'w2'");
    let idle_fds = wait_settled_fds(&d);
    {
        let Some(b) = Browser::start(1024, 768) else {
            return;
        };
        b.goto(&base(port));
        // The page has polled status.json at least once.
        b.wait("a poll of status.json", |b| {
            let n = b.eval(
                "return performance.getEntriesByType('resource')\
                 .filter(e => e.name.endsWith('/status.json')).length;",
                json!([]),
            );
            (n.as_u64()? >= 1).then_some(())
        });
        b.goto(&format!("{}tail.html?processname=alpha", base(port)));
        b.wait("the live follow", |b| {
            (b.text("#live") == "following").then_some(())
        });
        // While a page follows the log, the daemon does wake up (so the
        // count below can see a wake-up).
        let open = wakeups(d.pid);
        crate::fixture::wait_for(
            "wake-ups while the tail is open",
            crate::fixture::TIMEOUT,
            || (wakeups(d.pid) > open).then_some(()),
        );
        // The browser goes away with its connections.
    }
    crate::fixture::wait_for(
        "the browser's connections to close",
        crate::fixture::TIMEOUT,
        || (open_fds(d.pid) <= idle_fds).then_some(()),
    );
    assert_eq!(
        proc_status(d.pid, "State").as_deref().map(|s| &s[..1]),
        Some("S")
    );
    let start = wakeups(d.pid);
    // A window to count in, not a wait for a state.
    pidvisor::clock::sleep(Duration::from_secs(3));
    assert_eq!(wakeups(d.pid), start, "pidvisord woke up with no page open");
}

/// The daemon's open fds once the autostarts are done.
fn wait_settled_fds(d: &Daemon) -> usize {
    let mut last = open_fds(d.pid);
    crate::fixture::wait_for("a steady fd count", crate::fixture::TIMEOUT, || {
        pidvisor::clock::sleep(Duration::from_millis(200));
        let now = open_fds(d.pid);
        let steady = now == last;
        last = now;
        steady.then_some(now)
    })
}

/// A demo set for the screenshots: a pool, a group, and every kind of
/// state.
const DEMO: &str = "
[program:web]
command=sleep 1000
startsecs=0

[program:api]
command=sleep 1000
startsecs=0

[program:nightly-report]
command=sh -c 'exit 3'
startsecs=0
autorestart=false

[program:legacy-import]
command=/bin/false
startsecs=1
startretries=0

[program:mailer]
command=sleep 1000
autostart=false

[program:worker]
command=sleep 1000
numprocs=3
process_name=%(program_name)s_%(process_num)02d
startsecs=0

[group:backend]
programs=queue,scheduler

[program:queue]
command=sleep 1000
startsecs=0

[program:scheduler]
command=sleep 1000
startsecs=0
";

#[test]
fn desktop_and_phone_layouts_filter_and_fold() {
    let (d, port) = daemon(DEMO);
    d.wait_log("gave up: legacy-import");
    d.wait_log("exited: nightly-report");
    d.wait_log("spawned: 'worker_02'");
    let out_dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&out_dir).unwrap();
    for (name, width, height) in [("desktop", 1280, 840), ("phone", 390, 844)] {
        let b = match name {
            "phone" => Browser::phone(width, height),
            _ => Browser::start(width, height),
        };
        let Some(b) = b else {
            return;
        };
        b.goto(&base(port));
        b.wait("the FATAL row", |b| {
            (shown_state(b, "legacy-import") == "FATAL").then_some(())
        });
        let thead = b.eval(
            "return getComputedStyle(document.querySelector('#processes thead')).display;",
            json!([]),
        );
        let expected = if name == "phone" {
            "none"
        } else {
            "table-header-group"
        };
        assert_eq!(thead, json!(expected), "{name} layout");
        // Nothing wider than the screen on a phone.
        let wide = b.eval("return document.documentElement.scrollWidth;", json!([]));
        assert!(wide.as_u64().unwrap() <= u64::from(width), "{name}: {wide}");
        let png = b.screenshot();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
        std::fs::write(out_dir.join(format!("web-{name}.png")), &png).unwrap();
        if let Some(dir) = std::env::var_os("PIDVISOR_SCREENSHOTS") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("web-{name}.png")),
                &png,
            )
            .unwrap();
        }
    }

    let Some(b) = Browser::start(1280, 760) else {
        return;
    };
    b.goto(&base(port));
    b.wait("the rows", |b| {
        (shown_state(b, "web") == "RUNNING").then_some(())
    });
    let visible = |b: &Browser| {
        b.eval(
            "return [...document.querySelectorAll('tr.proc')]\
             .filter(tr => tr.offsetParent !== null).map(tr => tr.dataset.key);",
            json!([]),
        )
    };
    // Filter by name, then by state.
    let filter = b.find("#filter");
    b.type_text(&filter, "work");
    assert_eq!(
        visible(&b),
        json!(["worker:worker_00", "worker:worker_01", "worker:worker_02"])
    );
    b.eval("document.getElementById('filter').value = '';", json!([]));
    b.type_text(&filter, "fatal");
    assert_eq!(visible(&b), json!(["legacy-import"]));
    b.eval(
        "const f = document.getElementById('filter'); f.value = ''; \
         f.dispatchEvent(new Event('input'));",
        json!([]),
    );
    // Fold a group; it stays folded after a reload.
    b.click(&b.find("tbody[data-group='backend'] button.fold"));
    let shown = visible(&b);
    assert!(!shown.to_string().contains("backend:"), "{shown}");
    assert!(shown.to_string().contains("worker:worker_00"));
    b.goto(&base(port));
    b.wait("the rows", |b| {
        (shown_state(b, "web") == "RUNNING").then_some(())
    });
    assert!(!visible(&b).to_string().contains("backend:"));
    // Uptimes count in the page.
    let desc = |b: &Browser| b.text("tr.proc[data-key='web'] td.desc");
    let first = desc(&b);
    b.wait("the uptime to move", |b| (desc(b) != first).then_some(()));
    assert!(desc(&b).starts_with("pid "), "{}", desc(&b));
}

/// The tests' Python venv (tests/compat/setup-supervisor.sh) with
/// `prometheus_client` added; its python. When it cannot be made: `None`
/// after [`crate::skip::skip`] (a failure unless the runner allowed skips).
fn prometheus_python() -> Option<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fail = |why: String| {
        crate::skip::skip(&why);
        None
    };
    let out = std::process::Command::new("sh")
        .arg(root.join("tests/compat/setup-supervisor.sh"))
        .output()
        .unwrap();
    if !out.status.success() {
        return fail(format!("no venv: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let venv = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let python = venv.join("bin/python");
    let has = |p: &std::path::Path| {
        std::process::Command::new(p)
            .args(["-c", "import prometheus_client"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has(&python) {
        let st = std::process::Command::new(&python)
            .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
            .arg("prometheus_client==0.26.0")
            .status()
            .unwrap();
        if !st.success() || !has(&python) {
            return fail("cannot install prometheus_client into the venv".into());
        }
    }
    Some(python)
}

/// `/metrics` through prometheus_client's parser: `sample name -> labels
/// -> value`, and each family's type.
fn parse_metrics(python: &std::path::Path, text: &str) -> serde_json::Value {
    use std::process::Stdio;
    let script = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = {'types': {}, 'samples': {}}\n\
        for f in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   out['types'][f.name] = f.type\n\
        \x20   for s in f.samples:\n\
        \x20       key = s.labels.get('group', '') + ':' + s.labels.get('name', '')\n\
        \x20       out['samples'].setdefault(s.name, {})[key] = s.value\n\
        print(json.dumps(out))\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client rejected /metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn metrics_parse_with_prometheus_client_and_count_restarts() {
    let Some(python) = prometheus_python() else {
        return;
    };
    let Some(_) = crate::cgroups::cgroup2() else {
        return;
    };
    let port = free_port();
    let d = Daemon::start(&format!(
        "[supervisord]\nlogfile={{dir}}/main.log\npidfile={{dir}}/pidvisord.pid\n\
         childlogdir={{dir}}\ncgroups=true\n\n[unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n\
         [inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\n\n\
         [program:busy]\ncommand=sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exec sleep 1000'\n\
         startsecs=0\n\n\
         [program:q\"b\\s]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n"
    ));
    d.wait_log("spawned: 'busy'");
    d.wait_log("spawned: 'q\"b");
    let scrape = || {
        let r = http(port, "GET", "/metrics", &[AUTH], "");
        assert_eq!(r.status, 200);
        assert!(
            r.head.contains("Content-Type: text/plain; version=0.0.4"),
            "{}",
            r.head
        );
        parse_metrics(&python, &r.body)
    };
    let m = scrape();
    let s = &m["samples"];
    assert_eq!(m["types"]["pidvisor_process_state"], "gauge");
    assert_eq!(m["types"]["pidvisor_process_starts"], "counter");
    assert_eq!(s["pidvisor_process_state"]["busy:busy"], 20.0);
    assert_eq!(s["pidvisor_process_state"]["idle:idle"], 0.0);
    assert_eq!(s["pidvisor_process_up"]["q\"b\\s:q\"b\\s"], 1.0);
    assert_eq!(s["pidvisor_process_up"]["idle:idle"], 0.0);
    assert_eq!(s["pidvisor_process_starts_total"]["busy:busy"], 1.0);
    assert_eq!(s["pidvisor_process_starts_total"]["idle:idle"], 0.0);
    assert!(
        s["pidvisor_process_uptime_seconds"]["busy:busy"]
            .as_f64()
            .unwrap()
            >= 0.0
    );
    assert_eq!(s["pidvisor_process_uptime_seconds"]["idle:idle"], 0.0);
    assert!(s["process_resident_memory_bytes"][":"].as_f64().unwrap() > 100_000.0);
    assert!(s["process_open_fds"][":"].as_f64().unwrap() >= 5.0);
    // The leaf's CPU time: the busy loop ran before the exec.
    let cpu = |m: &serde_json::Value| {
        m["samples"]["pidvisor_process_cpu_seconds_total"]["busy:busy"].as_f64()
    };
    assert!(cpu(&m).unwrap() > 0.0, "{m}");
    let leaf_has_memory =
        std::fs::read_to_string(format!("/proc/{}/cgroup", d.spawned_pid("busy").unwrap()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .map(|rel| {
                crate::cgroups::cgroup2()
                    .unwrap()
                    .join(rel.trim_start_matches('/'))
                    .join("memory.current")
                    .exists()
            })
            .unwrap();
    assert_eq!(
        s["pidvisor_process_memory_bytes"]
            .get("busy:busy")
            .is_some(),
        leaf_has_memory,
        "{m}"
    );

    // Stopped by SIGTERM: down, exit status -1 (a signal), as getProcessInfo.
    let out = d.ctl(&["stop", "busy"]);
    assert!(out.status.success(), "{out:?}");
    let m2 = scrape();
    let s2 = &m2["samples"];
    assert_eq!(s2["pidvisor_process_up"]["busy:busy"], 0.0);
    assert_eq!(s2["pidvisor_process_state"]["busy:busy"], 0.0);
    assert_eq!(s2["pidvisor_process_exit_status"]["busy:busy"], -1.0);
    assert_eq!(s2["pidvisor_process_uptime_seconds"]["busy:busy"], 0.0);
    // Started, then restarted: the counter moves with each spawn.
    for (cmd, starts) in [("start", 2.0), ("restart", 3.0)] {
        let out = d.ctl(&[cmd, "busy"]);
        assert!(out.status.success(), "{out:?}");
        let m3 = scrape();
        let s3 = &m3["samples"];
        assert_eq!(
            s3["pidvisor_process_starts_total"]["busy:busy"], starts,
            "after {cmd}"
        );
        assert_eq!(s3["pidvisor_process_up"]["busy:busy"], 1.0);
        assert!(
            s3["pidvisor_process_start_time_seconds"]["busy:busy"].as_f64()
                >= s["pidvisor_process_start_time_seconds"]["busy:busy"].as_f64()
        );
        assert_eq!(s3["pidvisor_process_starts_total"]["q\"b\\s:q\"b\\s"], 1.0);
    }
}

/// Issue 15 point 4: an event listener and an fcgi program are rows of
/// the page, entries of `status.json` and `/metrics`, and the page's action
/// URLs act on them like on any program.
#[test]
fn listeners_and_fcgi_programs_are_on_the_page_issue_15() {
    let (d, port) = daemon(
        "[eventlistener:lis]\ncommand=sh -c 'printf \"READY\\n\"; exec sleep 1000'\n\
         events=TICK_3600\nstartsecs=0\n\n\
         [fcgi-program:fc]\ncommand=sleep 1000\nsocket=unix://{dir}/fc.sock\nstartsecs=0\n",
    );
    let running = |name: &str| {
        let want = name.to_string();
        crate::fixture::wait_for(&format!("{name} RUNNING"), crate::fixture::TIMEOUT, || {
            let (state, pid) = states(&d).get(&want)?.clone();
            (state == "RUNNING").then_some(pid)
        })
    };
    let (lis, fc) = (running("lis"), running("fc"));
    let page = http(port, "GET", "/", &[AUTH], "");
    assert_eq!(page.status, 200);
    for name in ["lis", "fc"] {
        assert!(
            page.body.contains(&format!("data-key=\"{name}\"")),
            "{name}: {}",
            page.body
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&http(port, "GET", "/status.json", &[AUTH], "").body).unwrap();
    let row = |key: &str| {
        json["processes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == key)
            .unwrap_or_else(|| panic!("{key} not in {json}"))
            .clone()
    };
    assert_eq!(row("lis")["state"], "RUNNING");
    assert_eq!(row("fc")["state"], "RUNNING");
    let metrics = http(port, "GET", "/metrics", &[AUTH], "").body;
    for name in ["lis", "fc"] {
        let up = format!("pidvisor_process_up{{name=\"{name}\",group=\"{name}\"}} 1");
        assert!(metrics.contains(&up), "{up} not in:\n{metrics}");
    }
    // The page's restart URL gives each a new process.
    for (name, old) in [("lis", lis), ("fc", fc)] {
        let r = http(
            port,
            "GET",
            &format!("/index.html?processname={name}&action=restart"),
            &[AUTH],
            "",
        );
        assert_eq!(r.status, 301, "{name}: {}", r.head); // to index.html?message=...
        crate::fixture::wait_for(
            &format!("{name} restarted"),
            crate::fixture::TIMEOUT,
            || {
                let (state, pid) = states(&d).get(name)?.clone();
                (state == "RUNNING" && pid != old && pid != 0).then_some(())
            },
        );
    }
}
