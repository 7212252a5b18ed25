//! HTTP/1.1, as Supervisor's Medusa speaks it: the pure [`codec`] (shared
//! with `pidvisorctl`) and the daemon's [`HttpServer`] (sockets,
//! connections, auth, framing, log streams).
//!
//! The server is infrastructure, not a face: it turns bytes into complete,
//! authorised requests and answers into bytes, and never decides what a
//! path means. The reactor owns it, reads its [`HttpEvent`]s and hands each
//! request to the face that serves the path (`/RPC2` to the XML-RPC face in
//! `control`, logs to the log followers), then writes that face's answer
//! back with [`HttpServer::respond`] or [`HttpServer::follow`].

pub mod codec;
mod server;

pub use server::{Answer, ConnId, HttpEvent, HttpServer, ServerError, BASE, FOLLOW_EVERY};
