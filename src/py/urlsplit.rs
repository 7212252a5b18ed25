//! Python's `urllib.parse.urlparse` (and the `urlsplit` under it), with the
//! `hostname` and `port` of its result, as CPython 3.11 has them.
//!
//! supervisorctl reads every server URL through it: Supervisor's `url`
//! datatype accepts `-s`/`--serverurl` when `urlparse` finds a scheme and
//! a place, `open` checks the scheme it finds, and the XML-RPC transport
//! takes host and port from it. Which URLs pass and the `ValueError` texts
//! of those that do not (`Port out of range 0-65535`) are printed to the
//! user, so the port follows Python's rules rather than a URL crate's
//! (which would, say, refuse `x:y` or lowercase nothing).
//!
//! Not ported: the NFKC check Python makes on a netloc that is not ASCII
//! (a host name that normalises to contain `/?#@:` is refused there and
//! accepted here, then fails to resolve). Bracketed hosts are checked with
//! Rust's address parser where Python uses `ipaddress`; they agree on the
//! usual forms.
//!
//! Called by `ctl::client`; calls [`py_repr`] for messages.

use crate::py::py_repr;
use std::net::IpAddr;

/// `urlparse`'s six parts; `ParseResult` in Python.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParseResult {
    pub scheme: String,
    pub netloc: String,
    pub path: String,
    pub params: String,
    pub query: String,
    pub fragment: String,
}

/// A `ValueError`'s message.
pub type ValueError = String;

/// Schemes whose path may carry `;params` (`urllib.parse.uses_params`).
const USES_PARAMS: [&str; 16] = [
    "", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps", "rtspu",
    "sip", "sips", "mms", "sftp", "tel",
];

/// `urlparse(url)`: [`urlsplit`], then `;params` off the last path segment
/// for the schemes that have them.
pub fn urlparse(url: &str) -> Result<ParseResult, ValueError> {
    let mut r = urlsplit(url)?;
    if USES_PARAMS.contains(&r.scheme.as_str()) && r.path.contains(';') {
        let from = r.path.rfind('/').unwrap_or(0);
        if let Some(at) = r.path[from..].find(';').map(|i| from + i) {
            r.params = r.path[at + 1..].to_string();
            r.path.truncate(at);
        }
    }
    Ok(r)
}

/// `urlsplit(url)`: scheme, `//netloc`, path, `?query`, `#fragment`
/// (`params` stays empty). Leading control characters and spaces go, and
/// tabs and line breaks anywhere, as the WHATWG rules Python follows say.
pub fn urlsplit(url: &str) -> Result<ParseResult, ValueError> {
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut r = ParseResult::default();
    let mut rest = url.as_str();
    if let Some((scheme, after)) = rest.split_once(':') {
        let ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if ok {
            r.scheme = scheme.to_ascii_lowercase();
            rest = after;
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        r.netloc = after[..end].to_string();
        rest = &after[end..];
        if r.netloc.contains('[') != r.netloc.contains(']') {
            return Err("Invalid IPv6 URL".into());
        }
        if let Some((_, bracketed)) = r.netloc.split_once('[') {
            check_bracketed_host(bracketed.split(']').next().unwrap_or(""))?;
        }
    }
    if let Some((before, fragment)) = rest.split_once('#') {
        r.fragment = fragment.to_string();
        rest = before;
    }
    if let Some((before, query)) = rest.split_once('?') {
        r.query = query.to_string();
        rest = before;
    }
    r.path = rest.to_string();
    Ok(r)
}

/// What may stand in `[...]`: an IPv6 address (with a `%zone`), or an
/// `IPvFuture` (`v1.x`); never an IPv4 address.
fn check_bracketed_host(host: &str) -> Result<(), ValueError> {
    if let Some(future) = host.strip_prefix('v') {
        let (version, tail) = future.split_once('.').unwrap_or(("", ""));
        let ok = !version.is_empty()
            && version.chars().all(|c| c.is_ascii_hexdigit())
            && !tail.is_empty()
            && !tail.contains('\n');
        return if ok {
            Ok(())
        } else {
            Err("IPvFuture address is invalid".into())
        };
    }
    // ipaddress takes a scope after `%`: not empty, no second `%`.
    let address = match host.split_once('%') {
        Some((a, zone)) if !zone.is_empty() && !zone.contains('%') => a,
        Some(_) => "",
        None => host,
    };
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => Ok(()),
        Ok(IpAddr::V4(_)) if !host.contains('%') => {
            Err("An IPv4 address cannot be in brackets".into())
        }
        _ => Err(format!(
            "{} does not appear to be an IPv4 or IPv6 address",
            py_repr(host)
        )),
    }
}

impl ParseResult {
    /// The host and port text of the netloc, less any `user:pass@`.
    fn hostinfo(&self) -> (&str, Option<&str>) {
        let hostinfo = self.netloc.rsplit('@').next().unwrap_or("");
        let (host, port) = match hostinfo.split_once('[') {
            Some((_, bracketed)) => {
                let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
                (host, after.split_once(':').map_or("", |(_, p)| p))
            }
            None => hostinfo.split_once(':').unwrap_or((hostinfo, "")),
        };
        (host, Some(port).filter(|p| !p.is_empty()))
    }

    /// `.hostname`: lowercased up to any `%zone`; `None` when empty.
    pub fn hostname(&self) -> Option<String> {
        let (host, _) = self.hostinfo();
        if host.is_empty() {
            return None;
        }
        Some(match host.split_once('%') {
            Some((h, zone)) => format!("{}%{zone}", h.to_lowercase()),
            None => host.to_lowercase(),
        })
    }

    /// `.port`: `None` when absent, else ASCII digits within 0-65535.
    pub fn port(&self) -> Result<Option<u16>, ValueError> {
        let Some(port) = self.hostinfo().1 else {
            return Ok(None);
        };
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "Port could not be cast to integer value as {}",
                py_repr(port)
            ));
        }
        let digits = port.trim_start_matches('0');
        match digits.parse::<u16>() {
            Ok(n) => Ok(Some(n)),
            Err(_) if digits.is_empty() => Ok(Some(0)),
            Err(_) => Err("Port out of range 0-65535".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parts<'a> = [&'a str; 6];
    type HostPort<'a> = Result<(Option<&'a str>, Option<u16>), &'a str>;
    /// `urlparse`'s parts and `(hostname, port)`, or its own ValueError.
    type Parsed<'a> = Result<(Parts<'a>, HostPort<'a>), &'a str>;

    /// Each row: the URL, then `tuple(urlparse(url))` and `(r.hostname,
    /// r.port)`, or the ValueError of `urlparse` itself. The answers are
    /// CPython 3.11.7's.
    #[test]
    #[rustfmt::skip]
    fn as_python_parses() {
        let table: &[(&str, Parsed)] = &[
            ("http://u:p@H:0080/x", Ok((["http", "u:p@H:0080", "/x", "", "", ""], Ok((Some("h"), Some(80)))))),
            ("http://[::1]:9/RPC2", Ok((["http", "[::1]:9", "/RPC2", "", "", ""], Ok((Some("::1"), Some(9)))))),
            ("HTTP://x:1", Ok((["http", "x:1", "", "", "", ""], Ok((Some("x"), Some(1)))))),
            ("http://a:b:c", Ok((["http", "a:b:c", "", "", "", ""], Err("Port could not be cast to integer value as 'b:c'")))),
            ("http://h:-1", Ok((["http", "h:-1", "", "", "", ""], Err("Port could not be cast to integer value as '-1'")))),
            ("http://h:65536", Ok((["http", "h:65536", "", "", "", ""], Err("Port out of range 0-65535")))),
            ("http://h:99999999999999999999", Ok((["http", "h:99999999999999999999", "", "", "", ""], Err("Port out of range 0-65535")))),
            ("http://[::1", Err("Invalid IPv6 URL")),
            ("http://]x", Err("Invalid IPv6 URL")),
            ("http://", Ok((["http", "", "", "", "", ""], Ok((None, None))))),
            ("unix:///tmp/s.sock", Ok((["unix", "", "/tmp/s.sock", "", "", ""], Ok((None, None))))),
            ("x:y", Ok((["x", "", "y", "", "", ""], Ok((None, None))))),
            ("1x:y", Ok((["", "", "1x:y", "", "", ""], Ok((None, None))))),
            ("x:?q", Ok((["x", "", "", "", "q", ""], Ok((None, None))))),
            ("x:", Ok((["x", "", "", "", "", ""], Ok((None, None))))),
            ("=unix:///s", Ok((["", "", "=unix:///s", "", "", ""], Ok((None, None))))),
            ("http:;a", Ok((["http", "", "", "a", "", ""], Ok((None, None))))),
            ("x:;a", Ok((["x", "", ";a", "", "", ""], Ok((None, None))))),
            ("http://h/p;q?r#f", Ok((["http", "h", "/p", "q", "r", "f"], Ok((Some("h"), None))))),
            ("  http://h\t:1\n2/", Ok((["http", "h:12", "/", "", "", ""], Ok((Some("h"), Some(12)))))),
            ("http://[v1.x]:5", Ok((["http", "[v1.x]:5", "", "", "", ""], Ok((Some("v1.x"), Some(5)))))),
            ("http://[vz.x]", Err("IPvFuture address is invalid")),
            ("http://[1.2.3.4]", Err("An IPv4 address cannot be in brackets")),
            ("http://[foo]", Err("'foo' does not appear to be an IPv4 or IPv6 address")),
            ("http://[fe80::1%eth0]:3", Ok((["http", "[fe80::1%eth0]:3", "", "", "", ""], Ok((Some("fe80::1%eth0"), Some(3)))))),
            ("http://[fe80::1%]:3", Err("'fe80::1%' does not appear to be an IPv4 or IPv6 address")),
            ("http://HoSt:", Ok((["http", "HoSt:", "", "", "", ""], Ok((Some("host"), None))))),
            ("http://h:\u{663}", Ok((["http", "h:\u{663}", "", "", "", ""], Err("Port could not be cast to integer value as '\u{663}'")))),
            ("//h/p", Ok((["", "h", "/p", "", "", ""], Ok((Some("h"), None))))),
            ("\x01x:y", Ok((["x", "", "y", "", "", ""], Ok((None, None))))),
            ("http://h:00000000000000001", Ok((["http", "h:00000000000000001", "", "", "", ""], Ok((Some("h"), Some(1)))))),
            ("http://h:000", Ok((["http", "h:000", "", "", "", ""], Ok((Some("h"), Some(0)))))),
            ("http://a@b@c:5", Ok((["http", "a@b@c:5", "", "", "", ""], Ok((Some("c"), Some(5)))))),
        ];
        for (url, want) in table {
            let got = urlparse(url).map(|r| {
                let parts = [&r.scheme, &r.netloc, &r.path, &r.params, &r.query, &r.fragment]
                    .map(|s| s.to_string());
                (parts, r.hostname(), r.port())
            });
            match (got, want) {
                (Ok((parts, host, port)), Ok((want_parts, want_hp))) => {
                    assert_eq!(parts, want_parts.map(str::to_string), "{url:?}");
                    let hp = port.map(|p| (host, p));
                    let want_hp = want_hp
                        .map(|(h, p)| (h.map(str::to_string), p))
                        .map_err(str::to_string);
                    assert_eq!(hp, want_hp, "{url:?}");
                }
                (got, want) => assert_eq!(got.map(|_| ()), want.map(|_| ()).map_err(str::to_string), "{url:?}"),
            }
        }
    }
}
