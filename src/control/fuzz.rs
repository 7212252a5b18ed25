//! The control server's decoding path as one function over bytes, for the
//! `cargo fuzz` target in `fuzz/` and its regression tests.
//!
//! [`check_request_bytes`] takes bytes as a client could send them on one
//! connection and runs them through what the server does with them: HTTP
//! request parsing (pipelined requests one after the other), XML-RPC call
//! decoding, and the method decoding, unrolling `system.multicall`. It panics
//! when an invariant breaks, which is what the fuzzer looks for.

use crate::control::methods::{self, Decoded};
use crate::control::xmlrpc::{self, Value};
use crate::http::codec::{self as http, HttpError, Limits};

/// Run `data` through the server's decoding path; panics on a broken
/// invariant. Uses the server's limits and a small set, so that the bounds
/// are reached by small inputs too.
pub fn check_request_bytes(data: &[u8]) {
    for limits in [
        Limits::default(),
        Limits {
            max_header: 256,
            max_body: 512,
        },
    ] {
        check_stream(data, &limits);
    }
    // A body on its own, as `/RPC2` would receive it.
    check_body(data);
}

fn check_stream(data: &[u8], limits: &Limits) {
    let mut rest = data;
    // Each parsed request consumes at least one byte, so this ends.
    while !rest.is_empty() {
        match http::parse_request(rest, limits) {
            Ok(None) => return,
            Err(e) => {
                assert!(
                    matches!(e.status(), 400 | 411 | 413 | 431),
                    "status {} for {e}",
                    e.status()
                );
                if let HttpError::BodyTooLarge(n) = e {
                    assert_eq!(n, limits.max_body);
                }
                return;
            }
            Ok(Some((req, used))) => {
                assert!(
                    used > 0 && used <= rest.len(),
                    "used {used} of {}",
                    rest.len()
                );
                assert_eq!(req.body.len(), req.content_length.unwrap_or(0));
                assert!(req.body.len() <= limits.max_body);
                assert!(used - req.body.len() <= limits.max_header);
                assert_eq!(&rest[used - req.body.len()..used], &req.body[..]);
                // Any shorter prefix of one request just needs more bytes.
                for cut in [used - 1, used / 2, used - req.body.len()] {
                    if cut < used && cut > 0 {
                        assert_eq!(
                            http::parse_request(&rest[..cut], limits),
                            Ok(None),
                            "prefix {cut} of {used}"
                        );
                    }
                }
                // Deterministic: the request alone parses the same.
                assert_eq!(
                    http::parse_request(&rest[..used], limits),
                    Ok(Some((req.clone(), used)))
                );
                let _ = req.keep_alive();
                // What the router does with the head besides the body.
                let creds = http::Credentials {
                    username: "user".into(),
                    password: "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef".into(),
                };
                let _ = http::check_basic_auth(req.header("authorization"), &creds);
                let path = req.path.split('?').next().unwrap_or("");
                if let Some(rest) = path.strip_prefix("/logtail/") {
                    let name = http::percent_decode(rest);
                    assert!(name.len() <= 3 * rest.len());
                }
                if path.starts_with("/RPC2") && req.method == "POST" {
                    check_body(&req.body);
                }
                rest = &rest[used..];
            }
        }
    }
}

/// Decode a `/RPC2` body and plan the call as the server does; check that
/// what was decoded encodes to something the decoder reads back the same.
fn check_body(body: &[u8]) {
    let Ok(call) = xmlrpc::decode_call(body) else {
        return;
    };
    assert!(!call.method.is_empty());
    assert_eq!(call.method.trim(), call.method);
    // The first encoding may differ from the input (characters XML cannot
    // carry are dropped, the name is trimmed again); from then on encoding
    // and decoding must be a fixpoint.
    let doc = xmlrpc::encode_call(&call.method, &call.params);
    if let Some(doc2) = reencode(&doc) {
        assert_eq!(
            reencode(&doc2).as_ref(),
            Some(&doc2),
            "re-encoding is stable"
        );
    }
    check_decoded(methods::decode(&call.method, &call.params), true);
}

/// Decode an encoded call and encode it again. `None` only when the name
/// was made of characters XML cannot carry, so nothing of it is left.
fn reencode(doc: &str) -> Option<String> {
    match xmlrpc::decode_call(doc.as_bytes()) {
        Ok(c) => Some(xmlrpc::encode_call(&c.method, &c.params)),
        Err(xmlrpc::DecodeError::Missing("methodName")) => None,
        Err(e) => panic!("an encoded call does not decode: {e}\n{doc}"),
    }
}

fn check_decoded(decoded: Decoded, top: bool) {
    match decoded {
        Decoded::Now(Ok(v)) => check_response(&v),
        Decoded::Now(Err(f)) => {
            assert!(f.code > 0, "fault code {}", f.code);
            let doc = xmlrpc::encode_fault(&f);
            match xmlrpc::decode_response(doc.as_bytes()) {
                Ok(Err(back)) => assert_eq!(back.code, f.code),
                other => panic!("fault does not decode: {other:?}"),
            }
        }
        Decoded::Call(_) => {}
        Decoded::Multi(calls) => {
            assert!(top, "multicall decoded inside a multicall");
            for c in calls {
                match c {
                    Ok((method, params)) => {
                        assert_ne!(method, "system.multicall");
                        check_decoded(methods::decode(&method, &params), false);
                    }
                    Err(f) => assert_eq!(f.code, 2),
                }
            }
        }
    }
}

fn check_response(v: &Value) {
    let doc = xmlrpc::encode_response(v);
    match xmlrpc::decode_response(doc.as_bytes()) {
        Ok(Ok(back)) => assert_eq!(xmlrpc::encode_response(&back), doc),
        other => panic!("response does not decode: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_requests_pass() {
        let call = xmlrpc::encode_call(
            "system.multicall",
            &[Value::Array(vec![
                Value::record([("methodName", Value::from("supervisor.getPID"))]),
                Value::record([
                    ("methodName", Value::from("system.methodHelp")),
                    ("params", Value::Array(vec!["supervisor.getState".into()])),
                ]),
                Value::record([("methodName", Value::from("system.multicall"))]),
            ])],
        );
        let mut wire = http::encode_request("POST", "/RPC2", "localhost", &[], call.as_bytes());
        wire.extend(http::encode_request(
            "GET",
            "/logtail/x",
            "localhost",
            &[],
            b"",
        ));
        check_request_bytes(&wire);
        check_request_bytes(b"");
        check_request_bytes(b"GARBAGE\r\n\r\n");
    }

    /// Inputs the fuzzer found, kept as regressions.
    #[test]
    fn fuzz_regressions() {
        // Control characters before the method name: the first re-encoding
        // drops them, which leaves a space the decoder then trims.
        check_request_bytes(
            b"POST /RPC2 HTTP/1.1\r\nHost: localhytep:T text/xml\r\nContent-Length: 113\r\n\r\n\
              <?xml version='1.0'?>\n<methodCall>\n<methodName>\0\0\0\0\0\0\0\x15 1.ge$State\
              </methodName>\n<params>\n</params>\n</methodCall>\n",
        );
    }
}
