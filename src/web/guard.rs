//! No action from another site (cross-site request forgery).
//!
//! Supervisor's page acts on a plain GET (`index.html?action=stopall`), so
//! any web page a logged-in user visits could stop everything with an
//! `<img>` tag. Browsers now say where a request comes from; a request
//! that would change something is refused (403) when:
//!
//! * `Sec-Fetch-Site` is anything but `same-origin` or `none` (`none`: the
//!   user typed the URL or opened a bookmark). `same-site` is refused too:
//!   another port or subdomain of the same site is another program;
//! * `Origin` is present and is not this server (its host and port differ
//!   from the `Host` header, or from `X-Forwarded-Host` behind a proxy),
//!   or is `null`;
//! * `Referer` is present (and `Origin` is not) and names another host.
//!
//! A client that sends none of these (curl, scripts, old browsers for a
//! typed URL) is let through, so the GET action URLs keep working for
//! scripts and bookmarks. Reading (the page, `status.json`, `/metrics`)
//! is not guarded: the same-origin policy keeps other sites from reading
//! the answers, and authentication applies to every path.

use crate::http::codec::Request;

/// Why a request was refused, for the 403 page.
pub type Refusal = String;

/// `scheme://host[:port][/...]` -> `host[:port]`, lowercased.
fn authority(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    // Credentials in a Referer are not part of the origin.
    let auth = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
    Some(auth.to_ascii_lowercase())
}

/// Whether `url`'s origin is this server as the request names it.
fn same_host(req: &Request, url: &str) -> bool {
    let Some(theirs) = authority(url) else {
        return false;
    };
    ["host", "x-forwarded-host"]
        .iter()
        .filter_map(|h| req.header(h))
        .any(|ours| ours.trim().eq_ignore_ascii_case(&theirs))
}

/// Check a state-changing request; the reason when it is refused.
pub fn check(req: &Request) -> Result<(), Refusal> {
    if let Some(site) = req.header("sec-fetch-site") {
        let site = site.trim().to_ascii_lowercase();
        if site != "same-origin" && site != "none" {
            return Err(format!("the browser says this request is {site}"));
        }
    }
    if let Some(origin) = req.header("origin") {
        if !same_host(req, origin) {
            return Err(format!("it comes from another origin ({origin})"));
        }
        return Ok(());
    }
    if let Some(referer) = req.header("referer") {
        if !same_host(req, referer) {
            return Err("it was sent from a page of another site".to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            path: "/index.html?action=stopall".into(),
            version: 1,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            content_length: None,
            body: vec![],
        }
    }

    #[test]
    fn scripts_and_bookmarks_pass() {
        assert!(check(&req(&[])).is_ok());
        assert!(check(&req(&[("Host", "h:9001")])).is_ok());
        assert!(check(&req(&[("Host", "h:9001"), ("Sec-Fetch-Site", "none")])).is_ok());
    }

    #[test]
    fn the_page_itself_passes() {
        let own = req(&[
            ("Host", "H:9001"),
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", "http://h:9001"),
            ("Referer", "http://u:p@h:9001/index.html"),
        ]);
        assert!(check(&own).is_ok());
        let proxied = req(&[
            ("Host", "127.0.0.1:9001"),
            ("X-Forwarded-Host", "sup.example.org"),
            ("Origin", "https://sup.example.org"),
        ]);
        assert!(check(&proxied).is_ok());
    }

    #[test]
    fn other_sites_are_refused() {
        for headers in [
            vec![("Host", "h:9001"), ("Sec-Fetch-Site", "cross-site")],
            vec![("Host", "h:9001"), ("Sec-Fetch-Site", "same-site")],
            vec![("Host", "h:9001"), ("Origin", "http://evil.example")],
            vec![("Host", "h:9001"), ("Origin", "http://h:9002")],
            vec![("Host", "h:9001"), ("Origin", "null")],
            vec![("Origin", "http://h:9001")],
            vec![("Host", "h:9001"), ("Referer", "http://evil.example/x")],
            vec![
                ("Host", "h:9001"),
                ("Referer", "http://h:9001.evil.example/"),
            ],
        ] {
            assert!(check(&req(&headers)).is_err(), "{headers:?}");
        }
    }
}
