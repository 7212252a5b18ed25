//! The web face: Supervisor's status page on the HTTP servers, made live
//! and safe, and `/metrics` for Prometheus.
//!
//! # What it serves
//!
//! Supervisor's URLs with Supervisor's effects: `/` and `index.html` (every
//! process: state, description, name, actions), its action URLs
//! (`index.html?processname=NAME&action=start|stop|restart|clearlog`,
//! `index.html?action=refresh|stopall|restartall`, by GET or a POSTed
//! form, answered with a redirect to `./?message=...` once the action is
//! done), `tail.html?processname=NAME[&limit=N]` and `ok.html`. Beside
//! them: `status.json` (what the page polls to stay live), `static/*`
//! (the stylesheet, script and icon, compiled into the binary) and
//! `metrics`. The log streams (`/logtail/...`, `/mainlogtail`) and `/RPC2`
//! are not ours: the reactor routes them before they reach this face.
//!
//! With `[supervisord] web_ui = false` every page, asset and `status.json`
//! answers 404, as if there were no web face; `/metrics` stays.
//!
//! # How it works
//!
//! Like the XML-RPC face (`control::calls`), this is a small state machine
//! the reactor feeds. [`Web::request`] takes an authorised HTTP request
//! (the HTTP server has checked the credentials for every path, assets
//! included); what the face needs done comes out of [`Web::poll`]: an
//! [`api::Request`] to have answered, tagged with an id ([`WebOut::Ask`]),
//! or an HTTP answer ([`WebOut::Respond`]). The reactor gives each reply
//! back with [`Web::reply`]. An action is a few requests in a row (see
//! [`actions`]): a restart is a stop, then a start that waits for the
//! outcome, and the message is Supervisor's. An action runs to its end
//! even when the browser leaves, so that a restart never stops half-way;
//! a page whose connection is gone is simply not rendered.
//!
//! # Safety
//!
//! Every name goes out HTML-escaped or JSON-encoded ([`page`]), under a
//! Content-Security-Policy that allows only the page's own script. A
//! request that would change something (any `action`, any POST) is
//! refused when the browser says another site sent it ([`guard`]); the
//! page itself POSTs its actions. Reading is free of wake-ups: the page
//! polls `status.json` only while it is visible, so with no page open the
//! daemon sleeps as before.
//!
//! It may use `api`, `http::codec`, `http::Answer` and `ConnId`; it never
//! calls the core, another face, or the file system.

mod actions;
mod form;
mod guard;
mod metrics;
mod page;

use std::collections::{HashMap, VecDeque};

use crate::api::{self, FaultCode, Response};
use crate::http::codec::Request as HttpRequest;
use crate::http::{Answer, ConnId};

use actions::{Action, Next, Outcome, Step};

/// What the face needs done.
#[derive(Debug)]
pub enum WebOut {
    /// Have `request` answered, then give the answer to [`Web::reply`]
    /// with this `id`.
    Ask { id: u64, request: api::Request },
    /// Send this HTTP answer on `conn`.
    Respond { conn: ConnId, answer: Answer },
}

/// A file compiled into the binary.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "static/pidvisor.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/pidvisor.css"),
    },
    Asset {
        path: "static/pidvisor.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/pidvisor.js"),
    },
    Asset {
        path: "static/icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("assets/icon.svg"),
    },
];

/// The policy of every page: its own script, styles and requests only,
/// never inside another site's frame.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What a path names.
enum View {
    /// Supervisor's views: they take GET and POST.
    Status,
    Tail,
    Ok,
    /// Ours: GET only.
    Json,
    Metrics,
    Asset(&'static Asset),
}

fn route(path: &str, web_ui: bool) -> Option<View> {
    let page = match path {
        "metrics" => return Some(View::Metrics),
        "" | "index.html" => View::Status,
        "tail.html" => View::Tail,
        "ok.html" => View::Ok,
        "status.json" => View::Json,
        p => View::Asset(ASSETS.iter().find(|a| a.path == p)?),
    };
    web_ui.then_some(page)
}

/// What a request waits for.
enum Wait {
    Page { message: Option<String> },
    Json,
    Tail { name: String, limit: i64 },
    Metrics,
    Action { step: Step, json: bool },
}

struct Job {
    conn: ConnId,
    wait: Wait,
}

fn answer(status: u16, content_type: &str, body: String) -> Answer {
    Answer {
        status,
        headers: vec![
            ("Content-Type", content_type.to_string()),
            ("Cache-Control", "no-store".into()),
            ("X-Content-Type-Options", "nosniff".into()),
        ],
        body: body.into_bytes(),
    }
}

/// An HTML page with the policy and framing headers.
fn html(status: u16, body: String) -> Answer {
    let mut a = answer(status, "text/html; charset=utf-8", body);
    a.headers.extend([
        ("Content-Security-Policy", CSP.to_string()),
        ("X-Frame-Options", "DENY".into()),
        ("Referrer-Policy", "same-origin".into()),
    ]);
    a
}

/// Local time as Python's `time.ctime()` prints it, for the messages.
fn ctime() -> String {
    use chrono::TimeZone;
    let now = crate::clock::wall() as i64;
    match chrono::Local.timestamp_opt(now, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%a %b %e %H:%M:%S %Y").to_string()
        }
        chrono::LocalResult::None => String::new(),
    }
}

/// Supervisor's `limit` of `tail.html`: at least 1024 bytes.
fn tail_limit(field: Option<&String>) -> i64 {
    field
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(1024, |n| n.max(1024))
}

/// The page's own script asks for JSON; forms and scripts get the
/// redirect Supervisor sends.
fn wants_json(req: &HttpRequest) -> bool {
    req.header("accept")
        .is_some_and(|a| a.contains("application/json"))
}

#[derive(Default)]
pub struct Web {
    /// `web_ui`: the pages are served.
    enabled: bool,
    jobs: HashMap<u64, Job>,
    next_id: u64,
    out: VecDeque<WebOut>,
}

impl Web {
    pub fn new(web_ui: bool) -> Web {
        Web {
            enabled: web_ui,
            ..Web::default()
        }
    }

    /// The next thing to do, in order.
    pub fn poll(&mut self) -> Option<WebOut> {
        self.out.pop_front()
    }

    fn respond(&mut self, conn: ConnId, answer: Answer) {
        self.out.push_back(WebOut::Respond { conn, answer });
    }

    fn ask(&mut self, conn: ConnId, wait: Wait, request: api::Request) {
        let id = self.next_id;
        self.next_id += 1;
        self.jobs.insert(id, Job { conn, wait });
        self.out.push_back(WebOut::Ask { id, request });
    }

    /// One authorised HTTP request for a path that is not `/RPC2` nor a
    /// log stream.
    pub fn request(&mut self, conn: ConnId, req: &HttpRequest) {
        let method = req.method.as_str();
        let Some(view) = route(form::view_path(&req.path), self.enabled) else {
            // Supervisor's file handler: GET and HEAD find nothing, other
            // methods are bad requests.
            let status = if matches!(method, "GET" | "HEAD") {
                404
            } else {
                400
            };
            return self.respond(conn, Answer::error(status));
        };
        match view {
            View::Status | View::Tail | View::Ok => match method {
                "POST" if req.content_length.is_none() => self.respond(conn, Answer::error(411)),
                "GET" | "POST" => self.supervisor_view(conn, req, view),
                "HEAD" => self.respond(conn, Answer::error(404)),
                _ => self.respond(conn, Answer::error(400)),
            },
            _ if method != "GET" => {
                let mut a = Answer::error(405);
                a.headers.push(("Allow", "GET".into()));
                self.respond(conn, a)
            }
            View::Json => self.ask(conn, Wait::Json, api::Request::Snapshots { key: None }),
            View::Metrics => self.ask(conn, Wait::Metrics, api::Request::Metrics),
            View::Asset(a) => {
                let ans = Answer {
                    status: 200,
                    headers: vec![
                        ("Content-Type", a.content_type.into()),
                        ("Cache-Control", "no-cache".into()),
                        ("X-Content-Type-Options", "nosniff".into()),
                    ],
                    body: a.body.as_bytes().to_vec(),
                };
                self.respond(conn, ans)
            }
        }
    }

    /// `index.html`, `tail.html`, `ok.html`, by GET or POST.
    fn supervisor_view(&mut self, conn: ConnId, req: &HttpRequest, view: View) {
        let fields = form::fields(req);
        let acting = fields.contains_key("action");
        if req.method == "POST" || (acting && matches!(view, View::Status)) {
            if let Err(why) = guard::check(req) {
                let body = format!(
                    "<!DOCTYPE html>\n<title>Refused</title>\n<h1>403 Forbidden</h1>\n\
                     <p>pidvisor refused this request: {}. Open the page itself to act.</p>\n",
                    page::esc(&why)
                );
                return self.respond(conn, html(403, body));
            }
        }
        match view {
            View::Ok => self.respond(conn, answer(200, "text/plain", "OK".into())),
            View::Tail => match fields.get("processname") {
                None => {
                    let body = page::tail(None, 1024, "No process name found");
                    self.respond(conn, html(200, body))
                }
                Some(name) => {
                    let limit = tail_limit(fields.get("limit"));
                    let request = api::Request::ReadProcessLog {
                        name: name.clone(),
                        stream: api::Stream::Stdout,
                        offset: -limit,
                        length: 0,
                    };
                    let wait = Wait::Tail {
                        name: name.clone(),
                        limit,
                    };
                    self.ask(conn, wait, request)
                }
            },
            _ if acting => {
                let name = fields.get("processname").map(String::as_str);
                let Some(action) = Action::parse(&fields["action"], name) else {
                    // Supervisor fails with a 500 (an exception); it is a
                    // bad request.
                    return self.respond(conn, Answer::error(400));
                };
                let json = wants_json(req);
                let next = actions::begin(action, &ctime());
                self.drive(conn, next, json)
            }
            _ => {
                let message = fields.get("message").cloned();
                self.ask(
                    conn,
                    Wait::Page { message },
                    api::Request::Snapshots { key: None },
                )
            }
        }
    }

    /// Ask an action's next request, or answer with how it ended.
    fn drive(&mut self, conn: ConnId, next: Next, json: bool) {
        match next {
            Next::Ask(step, request) => self.ask(conn, Wait::Action { step, json }, request),
            Next::Done(outcome) => {
                let answer = action_answer(&outcome, json);
                self.respond(conn, answer)
            }
        }
    }

    /// The reply to the request asked as `id`.
    pub fn reply(&mut self, id: u64, reply: api::Reply) {
        let Some(Job { conn, wait }) = self.jobs.remove(&id) else {
            return;
        };
        let answer = match wait {
            Wait::Action { step, json } => {
                let next = actions::next(step, &reply, &ctime());
                return self.drive(conn, next, json);
            }
            Wait::Page { message } => match reply {
                Ok(Response::Snapshots(procs)) => {
                    html(200, page::index(&procs, message.as_deref()))
                }
                _ => Answer::error(500),
            },
            Wait::Json => match reply {
                Ok(Response::Snapshots(procs)) => answer(
                    200,
                    "application/json",
                    page::status_json(&procs, crate::clock::wall()),
                ),
                _ => Answer::error(500),
            },
            Wait::Tail { name, limit } => {
                let text = match reply {
                    Ok(Response::Text(t)) => t,
                    Err(f) if f.code == FaultCode::NoFile => format!("No file for {name}"),
                    Err(f) => format!("ERROR: unexpected rpc fault [{}] {}", f.code.code(), f.text),
                    Ok(_) => String::new(),
                };
                html(200, page::tail(Some(&name), limit, &text))
            }
            Wait::Metrics => match reply {
                Ok(Response::Metrics(m)) => answer(200, metrics::CONTENT_TYPE, metrics::render(&m)),
                _ => Answer::error(500),
            },
        };
        self.respond(conn, answer)
    }

    /// The connection went away: pages waiting for it are not rendered;
    /// actions run to their end.
    pub fn closed(&mut self, conn: ConnId) {
        self.jobs
            .retain(|_, j| j.conn != conn || matches!(j.wait, Wait::Action { .. }));
    }
}

/// How an action ended, for the page's script (JSON) or as Supervisor's
/// redirect to the status page with the message.
fn action_answer(outcome: &Outcome, json: bool) -> Answer {
    if json {
        let body = serde_json::json!({ "message": outcome.message, "ok": outcome.ok });
        return answer(200, "application/json", body.to_string());
    }
    let mut a = Answer::error(301);
    // Relative, so that it also works behind a proxy that serves the page
    // under a prefix or over https (Supervisor's is absolute).
    a.headers.push((
        "Location",
        format!("./?message={}", form::quote(&outcome.message)),
    ));
    // A cached redirect would skip the action the next time.
    a.headers.push(("Cache-Control", "no-store".into()));
    a
}

#[cfg(test)]
mod tests;
