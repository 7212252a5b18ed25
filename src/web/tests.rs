//! The face as the reactor drives it: requests in, asks and answers out.

use super::*;
use crate::api::{Fault, ProcessSnapshot, ProcessState, Request};
use mio::Token;

const C: ConnId = ConnId(Token(7));

fn req(method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
    HttpRequest {
        method: method.into(),
        path: path.into(),
        version: 1,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        content_length: (method == "POST").then_some(body.len()),
        body: body.as_bytes().to_vec(),
    }
}

fn get(path: &str) -> HttpRequest {
    req("GET", path, &[], "")
}

fn snap(name: &str) -> ProcessSnapshot {
    ProcessSnapshot {
        name: name.into(),
        group: name.into(),
        namespec: name.into(),
        state: ProcessState::Running,
        pid: 9,
        description: "pid 9, uptime 0:00:01".into(),
        exit_status: 0,
        spawn_error: String::new(),
        start_usec: 1,
        stop_usec: 0,
        restarts: 0,
        status_text: String::new(),
        control_group: String::new(),
    }
}

/// Everything the face put out, in order.
fn drain(w: &mut Web) -> Vec<WebOut> {
    std::iter::from_fn(|| w.poll()).collect()
}

fn only_answer(w: &mut Web) -> Answer {
    match drain(w).as_slice() {
        [WebOut::Respond { answer, .. }] => answer.clone(),
        other => panic!("expected one answer, got {other:?}"),
    }
}

fn only_ask(w: &mut Web) -> (u64, Request) {
    match drain(w).pop() {
        Some(WebOut::Ask { id, request }) => (id, request),
        other => panic!("expected a request, got {other:?}"),
    }
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[test]
fn status_codes_like_supervisor() {
    let mut w = Web::new(true);
    for (method, path, status) in [
        ("GET", "/foo", 404),
        ("HEAD", "/", 404),
        ("PUT", "/index.html", 400),
        ("DELETE", "/foo", 400),
        ("GET", "/index.html/", 404),
        ("GET", "/index.html?action=bogus", 400),
        ("GET", "/index.html?action=start", 400),
        ("POST", "/status.json", 405),
    ] {
        w.request(C, &req(method, path, &[], ""));
        assert_eq!(only_answer(&mut w).status, status, "{method} {path}");
    }
    let mut no_length = req("POST", "/index.html", &[], "");
    no_length.content_length = None;
    w.request(C, &no_length);
    assert_eq!(only_answer(&mut w).status, 411);
    w.request(C, &get("/ok.html"));
    assert_eq!(only_answer(&mut w).body, b"OK");
}

#[test]
fn the_page_asks_for_snapshots_and_escapes() {
    let mut w = Web::new(true);
    w.request(C, &get("//index.html?message=%3Cb%3Ehi"));
    let (id, r) = only_ask(&mut w);
    assert_eq!(r, Request::Snapshots { key: None });
    w.reply(id, Ok(Response::Snapshots(vec![snap("<i>x</i>")])));
    let a = only_answer(&mut w);
    assert_eq!(a.status, 200);
    let body = String::from_utf8(a.body.clone()).unwrap();
    assert!(body.contains("&lt;b&gt;hi") && body.contains("&lt;i&gt;x&lt;/i&gt;"));
    assert!(!body.contains("<i>x"));
    assert!(header(&a, "content-security-policy").is_some_and(|c| c.contains("script-src 'self'")));
}

#[test]
fn a_get_action_redirects_with_supervisors_message() {
    let mut w = Web::new(true);
    w.request(C, &get("/index.html?processname=web&action=stop"));
    let (id, r) = only_ask(&mut w);
    assert_eq!(
        r,
        Request::Snapshots {
            key: Some("web:web".into())
        }
    );
    w.reply(id, Ok(Response::Snapshots(vec![snap("web")])));
    let (id, r) = only_ask(&mut w);
    assert_eq!(
        r,
        Request::StopProcess {
            name: "web".into(),
            wait: true
        }
    );
    w.reply(id, Ok(Response::Bool(true)));
    let a = only_answer(&mut w);
    assert_eq!(a.status, 301);
    assert_eq!(
        header(&a, "location"),
        Some("./?message=Process%20web%20stopped")
    );
}

#[test]
fn the_pages_post_gets_json() {
    let mut w = Web::new(true);
    let own = [
        ("Host", "h:9001"),
        ("Origin", "http://h:9001"),
        ("Sec-Fetch-Site", "same-origin"),
        ("Accept", "application/json"),
    ];
    w.request(
        C,
        &req("POST", "/index.html", &own, "action=start&processname=web"),
    );
    let (id, _) = only_ask(&mut w);
    w.reply(id, Ok(Response::Snapshots(vec![snap("web")])));
    let (id, _) = only_ask(&mut w);
    w.reply(id, Err(Fault::new(FaultCode::SpawnError, "web")));
    let a = only_answer(&mut w);
    assert_eq!(a.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(v["message"], "ERROR: Process web: spawn error");
    assert_eq!(v["ok"], false);
}

#[test]
fn cross_site_actions_change_nothing() {
    let mut w = Web::new(true);
    for headers in [
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Host", "h:9001"), ("Origin", "http://evil.example")],
    ] {
        w.request(C, &req("GET", "/index.html?action=stopall", &headers, ""));
        assert_eq!(only_answer(&mut w).status, 403);
        w.request(C, &req("POST", "/index.html", &headers, "action=stopall"));
        assert_eq!(only_answer(&mut w).status, 403);
    }
    // Reading is not refused.
    w.request(
        C,
        &req(
            "GET",
            "/index.html",
            &[("Sec-Fetch-Site", "cross-site")],
            "",
        ),
    );
    assert!(matches!(drain(&mut w).as_slice(), [WebOut::Ask { .. }]));
}

#[test]
fn tail_texts() {
    let mut w = Web::new(true);
    w.request(C, &get("/tail.html"));
    let body = String::from_utf8(only_answer(&mut w).body).unwrap();
    assert!(body.contains("No process name found"));
    w.request(C, &get("/tail.html?processname=web&limit=5"));
    let (id, r) = only_ask(&mut w);
    assert_eq!(
        r,
        Request::ReadProcessLog {
            name: "web".into(),
            stream: api::Stream::Stdout,
            offset: -1024,
            length: 0
        }
    );
    w.reply(id, Err(Fault::new(FaultCode::BadName, "web")));
    let body = String::from_utf8(only_answer(&mut w).body).unwrap();
    assert!(body.contains("ERROR: unexpected rpc fault [10] BAD_NAME: web"));
    w.request(C, &get("/tail.html?processname=web&limit=4096"));
    let (id, r) = only_ask(&mut w);
    assert!(matches!(r, Request::ReadProcessLog { offset: -4096, .. }));
    w.reply(id, Err(Fault::new(FaultCode::NoFile, "")));
    let body = String::from_utf8(only_answer(&mut w).body).unwrap();
    assert!(body.contains("No file for web"));
}

#[test]
fn assets_json_metrics_and_web_ui_off() {
    let mut w = Web::new(true);
    for a in ASSETS {
        w.request(C, &get(&format!("/{}", a.path)));
        let ans = only_answer(&mut w);
        assert_eq!(
            (ans.status, header(&ans, "content-type")),
            (200, Some(a.content_type))
        );
    }
    w.request(C, &get("/status.json"));
    let (id, _) = only_ask(&mut w);
    w.reply(id, Ok(Response::Snapshots(vec![snap("web")])));
    let v: serde_json::Value = serde_json::from_slice(&only_answer(&mut w).body).unwrap();
    assert_eq!(v["processes"][0]["state"], "RUNNING");

    let mut off = Web::new(false);
    for path in [
        "/",
        "/index.html?action=stopall",
        "/tail.html",
        "/status.json",
        "/static/pidvisor.js",
    ] {
        off.request(C, &get(path));
        assert_eq!(only_answer(&mut off).status, 404, "{path}");
    }
    off.request(C, &get("/metrics"));
    assert_eq!(only_ask(&mut off).1, Request::Metrics);
}

#[test]
fn a_restart_goes_on_after_the_browser_left() {
    let mut w = Web::new(true);
    w.request(C, &get("/index.html?processname=web&action=restart"));
    let (id, _) = only_ask(&mut w);
    w.closed(C);
    w.reply(id, Ok(Response::Snapshots(vec![snap("web")])));
    let (id, r) = only_ask(&mut w);
    assert!(matches!(r, Request::StopProcess { .. }));
    w.reply(id, Ok(Response::Bool(true)));
    let (_, r) = only_ask(&mut w);
    assert!(matches!(r, Request::StartProcess { .. }));
    // A page for a closed connection is dropped.
    w.request(C, &get("/index.html"));
    let (id, _) = only_ask(&mut w);
    w.closed(C);
    w.reply(id, Ok(Response::Snapshots(vec![])));
    assert!(drain(&mut w).is_empty());
}

#[test]
fn tail_limits_as_supervisor() {
    let f = |v: &str| tail_limit(Some(&v.to_string()));
    assert_eq!(tail_limit(None), 1024);
    assert_eq!(f("5"), 1024);
    assert_eq!(f("4096"), 4096);
    assert_eq!(f("-5"), 1024);
    assert_eq!(f("x"), 1024);
    assert_eq!(f("99999999999999999999999"), 1024);
}
