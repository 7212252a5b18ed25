//! The request's words: the path a view is named by, the form fields of
//! the query string and a urlencoded body, and the percent-encoding of a
//! name in a URL. Supervisor's rules, so that the same URL means the same
//! thing to both daemons: leading slashes do not count (`//index.html` is
//! the status page), Python's `parse_qs` drops blank values (`action=` is
//! no action), the query's first value of a field wins and a POSTed body
//! overrides the query.

use std::collections::HashMap;

use crate::http::codec::Request;

/// The path of a request without its query and leading slashes; empty
/// means the status page.
pub fn view_path(target: &str) -> &str {
    let path = target.split(['?', '#']).next().unwrap_or("");
    path.trim_start_matches('/')
}

/// The query string of a request target (after `?`, before `#`).
fn query(target: &str) -> &str {
    match target.split_once('?') {
        Some((_, q)) => q.split('#').next().unwrap_or(""),
        None => "",
    }
}

/// `application/x-www-form-urlencoded` pairs: `+` is a space, `%XX` a
/// byte; pairs with an empty value are dropped, as `parse_qs` does.
fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let decode = |s: &str| crate::http::codec::percent_decode(&s.replace('+', " "));
        let v = decode(v);
        (!v.is_empty()).then(|| (decode(k), v))
    })
}

/// The fields of a request: its query, then its body if it was POSTed.
pub fn fields(req: &Request) -> HashMap<String, String> {
    let mut form = HashMap::new();
    for (k, v) in pairs(query(&req.path)) {
        form.entry(k).or_insert(v);
    }
    if req.method == "POST" {
        let body = String::from_utf8_lossy(&req.body);
        form.extend(pairs(&body));
    }
    form
}

/// Percent-encode every byte but the unreserved ones, for a name in a URL
/// (`grp:a b` -> `grp%3Aa%20b`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Supervisor's `split_namespec`: `name` is `name:name`, `grp:` has no
/// process, nor has `grp:*`, `grp:x` is `x` of `grp`. The key the live
/// faces use (`group:name`), or `None` for a group alone.
pub fn process_key(namespec: &str) -> Option<String> {
    match namespec.split_once(':') {
        None => Some(format!("{namespec}:{namespec}")),
        Some((_, "" | "*")) => None,
        Some((group, name)) => Some(format!("{group}:{name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, body: &str) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            version: 1,
            headers: vec![],
            content_length: Some(body.len()),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn paths_as_supervisor_matches_them() {
        assert_eq!(view_path("/"), "");
        assert_eq!(view_path("//index.html?x=1"), "index.html");
        assert_eq!(view_path("/tail.html#end"), "tail.html");
        assert_eq!(view_path("/index.html/"), "index.html/");
    }

    #[test]
    fn query_then_body_blank_values_dropped() {
        let r = req(
            "GET",
            "/index.html?processname=a+b%3Ac&action=stop&action=start&message=",
            "",
        );
        let f = fields(&r);
        assert_eq!(f["processname"], "a b:c");
        assert_eq!(f["action"], "stop");
        assert!(!f.contains_key("message"));
        let r = req(
            "POST",
            "/index.html?action=stop",
            "action=start&processname=x",
        );
        let f = fields(&r);
        assert_eq!(
            (f["action"].as_str(), f["processname"].as_str()),
            ("start", "x")
        );
        // A GET's body is not a form.
        let r = req("GET", "/index.html", "action=start");
        assert!(fields(&r).is_empty());
    }

    #[test]
    fn quoting_and_keys() {
        assert_eq!(quote("grp:a b/<x>"), "grp%3Aa%20b%2F%3Cx%3E");
        assert_eq!(quote("web_01.x-y~"), "web_01.x-y~");
        assert_eq!(process_key("web").as_deref(), Some("web:web"));
        assert_eq!(process_key("grp:a").as_deref(), Some("grp:a"));
        assert_eq!(process_key("grp:*"), None);
        assert_eq!(process_key("grp:"), None);
    }
}
