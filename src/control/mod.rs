//! The control protocol: Supervisor's XML-RPC over HTTP/1.1.
//!
//! `xmlrpc` and `http` are pure codecs over buffers, shared by the daemon's
//! control server and by `pidvisorctl`. The server dispatch lives elsewhere.

pub mod fuzz;
pub mod http;
pub mod rpc;
pub mod server;
pub mod xmlrpc;
