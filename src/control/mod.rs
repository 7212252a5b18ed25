//! The XML-RPC face: Supervisor's control protocol on `/RPC2`.
//!
//! * [`xmlrpc`]: the XML-RPC wire format (values, calls, responses,
//!   faults), a pure codec shared with `pidvisorctl`;
//! * [`methods`]: Supervisor's methods as a pure decode/encode pair around
//!   the typed API ([`crate::api`]): a call becomes an `api::Request`, an
//!   `api::Reply` becomes Supervisor's value or fault;
//! * [`calls`]: the face itself, the calls in flight per connection and
//!   `system.multicall`, fed by the reactor.
//!
//! It may call `api`, `http::codec` (for the request it is given) and the
//! Python ports for fault texts; it holds no process state and never talks
//! to the core. The reactor calls it; `pidvisorctl` uses the codecs.

pub mod calls;
#[cfg(any(fuzzing, test))]
pub mod fuzz;
pub mod methods;
pub mod xmlrpc;

pub use calls::{is_rpc_path, RpcOut, XmlRpc};
