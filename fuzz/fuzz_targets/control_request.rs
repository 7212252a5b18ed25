//! Bytes as a client sends them on the control socket, through the server's
//! decoding path: HTTP request parsing, XML-RPC call decoding and the method
//! plan. `check_request_bytes` panics when an invariant breaks.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pidvisor::control::fuzz::check_request_bytes(data);
});
