//! The HTML of the two pages and the JSON the status page polls.
//!
//! Rendered here in full, so the pages work without JavaScript (forms POST
//! the actions, the answer redirects back); `static/pidvisor.js` then keeps
//! the table live from `status.json` and follows the tail. Every name and
//! text from the daemon goes through [`esc`] (HTML) or `serde_json`
//! (JSON); names in URLs are percent-encoded first.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::api::{ProcessSnapshot, ProcessState};

use super::form::quote;

/// HTML-escape text for an element or a quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a message of Supervisor's page reports a failure (the redirect
/// carries only the text).
pub fn is_error(message: &str) -> bool {
    ["ERROR", "unexpected rpc fault", "No such process"]
        .iter()
        .any(|p| message.starts_with(p))
}

fn head(out: &mut String, title: &str, class: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n\
         <link rel=\"icon\" href=\"static/icon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"static/pidvisor.css\">\n\
         <script src=\"static/pidvisor.js\" defer></script>\n\
         </head>\n<body class=\"{class}\">\n",
        esc(title)
    );
}

fn foot(out: &mut String) {
    let _ = write!(
        out,
        "<footer>pidvisor {} &middot; Supervisor {} API &middot; \
         <a href=\"metrics\">metrics</a> &middot; <a href=\"status.json\">status.json</a></footer>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        crate::api::SUPERVISOR_VERSION
    );
}

/// `5 processes: 3 running, 2 stopped`.
pub fn summary(procs: &[ProcessSnapshot]) -> String {
    let mut counts: BTreeMap<ProcessState, usize> = BTreeMap::new();
    for p in procs {
        *counts.entry(p.state).or_default() += 1;
    }
    let n = procs.len();
    let mut s = format!("{n} process{}", if n == 1 { "" } else { "es" });
    let parts: Vec<String> = counts
        .iter()
        .map(|(st, c)| format!("{c} {}", st.name().to_ascii_lowercase()))
        .collect();
    if !parts.is_empty() {
        let _ = write!(s, ": {}", parts.join(", "));
    }
    s
}

/// One process row. Every action button is there; the stylesheet shows
/// those that apply to the row's `data-state`.
fn row(out: &mut String, p: &ProcessSnapshot) {
    let spec = esc(&p.namespec);
    let url = quote(&p.namespec);
    let state = p.state.name();
    let _ = writeln!(
        out,
        "<tr class=\"proc\" data-key=\"{spec}\" data-state=\"{state}\" data-start=\"{start}\" data-pid=\"{pid}\">\
         <td class=\"state\"><span class=\"badge\">{state}</span></td>\
         <td class=\"desc\"><span class=\"d\">{desc}</span><span class=\"st\">{status}</span></td>\
         <td class=\"name\"><a href=\"tail.html?processname={url}\">{spec}</a></td>\
         <td class=\"acts\"><form method=\"post\" action=\"index.html\">\
         <input type=\"hidden\" name=\"processname\" value=\"{spec}\">\
         <button name=\"action\" value=\"start\" class=\"a-start\">Start</button>\
         <button name=\"action\" value=\"restart\" class=\"a-restart\">Restart</button>\
         <button name=\"action\" value=\"stop\" class=\"a-stop\">Stop</button>\
         <button name=\"action\" value=\"clearlog\" class=\"a-clearlog\">Clear log</button>\
         </form><span class=\"tails\">\
         <a href=\"logtail/{url}\" target=\"_blank\" rel=\"noopener\">stdout</a> \
         <a href=\"logtail/{url}/stderr\" target=\"_blank\" rel=\"noopener\">stderr</a>\
         </span></td></tr>",
        start = p.start_usec / 1_000_000,
        pid = p.pid,
        desc = esc(&p.description),
        status = status_suffix(&p.status_text),
    );
}

/// A program's `STATUS=` text (issue 17) after its description, as
/// `pidvisorctl status` shows it; escaped.
fn status_suffix(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(", status: {}", esc(text))
    }
}

/// The group heading a process goes under: its group if it is a real one
/// (`group:name`), none for a program alone.
fn section(p: &ProcessSnapshot) -> Option<&str> {
    p.namespec.contains(':').then_some(p.group.as_str())
}

/// The processes by name as Supervisor's page orders them, but programs
/// alone first and then each group under a heading that folds it: one
/// `<tbody>` each.
fn table(out: &mut String, procs: &[ProcessSnapshot]) {
    let mut sorted: Vec<&ProcessSnapshot> = procs.iter().collect();
    sorted.sort_by(|a, b| (section(a), &a.group, &a.name).cmp(&(section(b), &b.group, &b.name)));
    out.push_str(
        "<table id=\"processes\">\n<thead><tr><th scope=\"col\">State</th>\
         <th scope=\"col\">Description</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Actions</th></tr></thead>\n",
    );
    let mut i = 0;
    while i < sorted.len() {
        let head = section(sorted[i]);
        let members: Vec<&ProcessSnapshot> = sorted[i..]
            .iter()
            .take_while(|p| section(p) == head)
            .copied()
            .collect();
        i += members.len();
        let g = esc(head.unwrap_or(""));
        let _ = writeln!(out, "<tbody data-group=\"{g}\">");
        if head.is_some() {
            let running = members
                .iter()
                .filter(|p| p.state == ProcessState::Running)
                .count();
            let _ = writeln!(
                out,
                "<tr class=\"group-head\"><th colspan=\"4\" scope=\"rowgroup\">\
                 <button type=\"button\" class=\"fold\" aria-expanded=\"true\">{g}</button> \
                 <span class=\"count\">{running} of {} running</span></th></tr>",
                members.len()
            );
        }
        for p in members {
            row(out, p);
        }
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
}

/// The status page: every process, and the message of the last action.
pub fn index(procs: &[ProcessSnapshot], message: Option<&str>) -> String {
    let mut out = String::with_capacity(4096 + procs.len() * 900);
    head(&mut out, "pidvisor: processes", "index");
    let _ = write!(
        out,
        "<header class=\"top\"><h1><span class=\"logo\" aria-hidden=\"true\"></span>pidvisor</h1>\
         <p id=\"summary\" class=\"summary\">{}</p></header>\n<main>\n",
        esc(&summary(procs))
    );
    match message {
        Some(m) => {
            let class = if is_error(m) { "err" } else { "ok" };
            let _ = writeln!(
                out,
                "<p id=\"message\" class=\"message {class}\" role=\"status\">{}</p>",
                esc(m)
            );
        }
        None => out.push_str("<p id=\"message\" class=\"message\" role=\"status\" hidden></p>\n"),
    }
    out.push_str(
        "<div class=\"bar\"><form class=\"toolbar\" method=\"post\" action=\"index.html\">\
         <button name=\"action\" value=\"refresh\">Refresh</button>\
         <button name=\"action\" value=\"restartall\">Restart all</button>\
         <button name=\"action\" value=\"stopall\" class=\"danger\">Stop all</button></form>\
         <input id=\"filter\" type=\"search\" placeholder=\"Filter by name or state\" \
         aria-label=\"Filter processes by name or state\" autocomplete=\"off\"></div>\n",
    );
    table(&mut out, procs);
    let hidden = if procs.is_empty() { "" } else { " hidden" };
    let _ = writeln!(
        out,
        "<p id=\"empty\" class=\"empty\"{hidden}>No programs to manage.</p>\n</main>"
    );
    foot(&mut out);
    out
}

/// The tail page: the end of a process's stdout log (or why there is
/// none), a refresh link, and a live follow for the script to start.
pub fn tail(name: Option<&str>, limit: i64, text: &str) -> String {
    let mut out = String::with_capacity(2048 + text.len() * 6 / 5);
    let title = match name {
        Some(n) => format!("pidvisor: tail of {n}"),
        None => "pidvisor: tail".to_string(),
    };
    head(&mut out, &title, "tail");
    let _ = write!(
        out,
        "<header class=\"top\"><h1><span class=\"logo\" aria-hidden=\"true\"></span>\
         <a href=\"index.html\">pidvisor</a></h1><p class=\"summary\">{}</p></header>\n<main>\n",
        match name {
            Some(n) => format!("stdout of <strong>{}</strong>", esc(n)),
            None => "no process".to_string(),
        }
    );
    match name {
        Some(n) => {
            let url = quote(n);
            let _ = writeln!(
                out,
                "<div class=\"bar\"><div class=\"toolbar\">\
                 <a class=\"button\" href=\"tail.html?processname={url}&amp;limit={limit}\">Refresh</a>\
                 <label class=\"follow\"><input type=\"checkbox\" id=\"follow\" checked> Follow</label>\
                 <span id=\"live\" class=\"live\" role=\"status\"></span></div>\
                 <span class=\"tails\"><a href=\"logtail/{url}\" target=\"_blank\" rel=\"noopener\">stdout stream</a> \
                 <a href=\"logtail/{url}/stderr\" target=\"_blank\" rel=\"noopener\">stderr stream</a></span></div>\n\
                 <pre id=\"log\" data-name=\"{}\" tabindex=\"0\">{}</pre>",
                esc(n),
                esc(text)
            );
        }
        None => {
            let _ = writeln!(out, "<pre id=\"log\">{}</pre>", esc(text));
        }
    }
    out.push_str("</main>\n");
    foot(&mut out);
    out
}

/// `status.json`: the daemon's clock (for uptimes counted in the browser)
/// and every process.
pub fn status_json(procs: &[ProcessSnapshot], now: f64) -> String {
    let list: Vec<serde_json::Value> = procs
        .iter()
        .map(|p| {
            serde_json::json!({
                "key": p.namespec,
                "name": p.name,
                "group": p.group,
                "state": p.state.name(),
                "statecode": p.state.code(),
                "pid": p.pid,
                "description": p.description,
                "status_text": p.status_text,
                "start": p.start_usec / 1_000_000,
                "stop": p.stop_usec / 1_000_000,
                "exitstatus": p.exit_status,
                "spawnerr": p.spawn_error,
            })
        })
        .collect();
    serde_json::json!({ "now": now, "summary": summary(procs), "processes": list }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(group: &str, name: &str, state: ProcessState) -> ProcessSnapshot {
        let namespec = if group == name {
            name.to_string()
        } else {
            format!("{group}:{name}")
        };
        ProcessSnapshot {
            name: name.into(),
            group: group.into(),
            namespec,
            state,
            pid: 7,
            description: "pid 7, uptime 0:00:03".into(),
            exit_status: 0,
            spawn_error: String::new(),
            start_usec: 1_700_000_000_000_000,
            stop_usec: 0,
            restarts: 0,
            status_text: String::new(),
            control_group: String::new(),
        }
    }

    /// Issue 17: a program's STATUS= text follows its description, as in
    /// `pidvisorctl status`, escaped in the page and given to the live table.
    #[test]
    fn status_text_shows_after_the_description() {
        let mut p = snap("db", "db", ProcessState::Starting);
        p.status_text = "loading <index>".into();
        let html = index(std::slice::from_ref(&p), None);
        assert!(
            html.contains("<span class=\"st\">, status: loading &lt;index&gt;</span>"),
            "{html}"
        );
        let json: serde_json::Value = serde_json::from_str(&status_json(&[p], 0.0)).unwrap();
        assert_eq!(json["processes"][0]["status_text"], "loading <index>");
        let quiet = index(&[snap("w", "w", ProcessState::Running)], None);
        assert!(quiet.contains("<span class=\"st\"></span>"));
    }

    #[test]
    fn names_are_escaped_everywhere() {
        let evil = "<script>alert(1)</script>";
        let page = index(&[snap(evil, evil, ProcessState::Running)], Some(evil));
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("processname=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"));
        let t = tail(Some(evil), 1024, "<b>log</b>");
        assert!(!t.contains("<script>alert") && !t.contains("<b>log"), "{t}");
        let j = status_json(&[snap(evil, "a\"b", ProcessState::Running)], 1.0);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["processes"][0]["group"], evil);
        assert_eq!(v["processes"][0]["name"], "a\"b");
    }

    #[test]
    fn groups_sorted_with_heads() {
        let page = index(
            &[
                snap("zed", "zed", ProcessState::Stopped),
                snap("grp", "b", ProcessState::Running),
                snap("grp", "a", ProcessState::Fatal),
            ],
            None,
        );
        let a = page.find("data-key=\"grp:a\"").unwrap();
        let b = page.find("data-key=\"grp:b\"").unwrap();
        let z = page.find("data-key=\"zed\"").unwrap();
        // Programs alone first, then groups.
        assert!(z < a && a < b);
        assert_eq!(page.matches("class=\"group-head\"").count(), 1);
        assert!(page.contains("1 of 2 running"));
        assert!(page.contains("3 processes: 1 stopped, 1 running, 1 fatal"));
        assert!(page.contains("id=\"empty\" class=\"empty\" hidden"));
        assert!(index(&[], None).contains("No programs to manage.</p>"));
    }

    #[test]
    fn messages_show_as_errors_or_not() {
        let p = index(&[], Some("ERROR: Process x: spawn error"));
        assert!(p.contains("class=\"message err\""));
        let p = index(&[], Some("Process x started"));
        assert!(p.contains("class=\"message ok\""));
    }
}
