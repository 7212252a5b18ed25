//! The XML-RPC face on `/RPC2`: one POSTed call (or `system.multicall`)
//! per HTTP request, decoded into typed requests, answered in order.
//!
//! It owns the calls in flight and nothing else. The reactor hands it each
//! `/RPC2` request with [`XmlRpc::request`] and its answers with
//! [`XmlRpc::reply`]; what the face needs done comes out of
//! [`XmlRpc::poll`]: a request to have answered ([`RpcOut::Ask`]) or an
//! HTTP answer to send ([`RpcOut::Respond`]). A multicall runs its calls
//! one after the other, each asked only when the one before is answered,
//! as Supervisor's does.

use std::collections::{HashMap, VecDeque};

use super::methods::{self, Decoded};
use super::xmlrpc::{self, Fault as XmlFault, Value};
use crate::api::{self, FaultCode};
use crate::http::codec::Request as HttpRequest;
use crate::http::{Answer, ConnId};

/// A `system.multicall` whose results grow past this answers its remaining
/// calls with a FAILED fault instead of running them: a 2 MiB request of
/// log reads could otherwise make the daemon hold terabytes.
const MAX_MULTI_BYTES: usize = 16 * 1024 * 1024;

/// What the face needs done.
#[derive(Debug)]
pub enum RpcOut {
    /// Have `request` answered, then give the answer to
    /// [`XmlRpc::reply`] with this `id`.
    Ask { id: u64, request: api::Request },
    /// Send this HTTP answer on `conn`.
    Respond { conn: ConnId, answer: Answer },
}

type MultiCall = Result<(String, Vec<Value>), XmlFault>;

/// A multicall in progress.
struct Multi {
    queue: VecDeque<MultiCall>,
    results: Vec<Value>,
    /// Encoded size of `results` so far, against [`MAX_MULTI_BYTES`].
    bytes: usize,
}

struct Call {
    conn: ConnId,
    multi: Option<Multi>,
}

#[derive(Default)]
pub struct XmlRpc {
    calls: HashMap<u64, Call>,
    next_id: u64,
    out: VecDeque<RpcOut>,
}

/// Whether a path is the XML-RPC endpoint (Supervisor matches the prefix).
pub fn is_rpc_path(path: &str) -> bool {
    path.starts_with("/RPC2")
}

fn fault_struct(f: &XmlFault) -> Value {
    Value::record([
        ("faultCode", Value::Int(f.code)),
        ("faultString", Value::from(f.string.as_str())),
    ])
}

/// Supervisor returns successful multicall results unwrapped (spec §6.5 Q).
fn multi_result(r: Result<Value, XmlFault>) -> Value {
    match r {
        Ok(v) => v,
        Err(f) => fault_struct(&f),
    }
}

fn xml_answer(r: &Result<Value, XmlFault>) -> Answer {
    Answer::xml(match r {
        Ok(v) => xmlrpc::encode_response(v),
        Err(f) => xmlrpc::encode_fault(f),
    })
}

impl XmlRpc {
    /// The next thing to do, in order.
    pub fn poll(&mut self) -> Option<RpcOut> {
        self.out.pop_front()
    }

    fn respond(&mut self, conn: ConnId, answer: Answer) {
        self.out.push_back(RpcOut::Respond { conn, answer });
    }

    /// One HTTP request on `/RPC2`.
    pub fn request(&mut self, conn: ConnId, req: &HttpRequest) {
        if req.method != "POST" {
            return self.respond(conn, Answer::error(400));
        }
        if req.content_length.is_none() {
            return self.respond(conn, Answer::error(411));
        }
        let Ok(call) = xmlrpc::decode_call(&req.body) else {
            return self.respond(conn, Answer::error(400));
        };
        let id = self.next_id;
        self.next_id += 1;
        match methods::decode(&call.method, &call.params) {
            Decoded::Now(r) => self.respond(conn, xml_answer(&r)),
            Decoded::Call(request) => {
                self.calls.insert(id, Call { conn, multi: None });
                self.out.push_back(RpcOut::Ask { id, request });
            }
            Decoded::Multi(list) => {
                let multi = Multi {
                    queue: list.into(),
                    results: Vec::new(),
                    bytes: 0,
                };
                self.calls.insert(
                    id,
                    Call {
                        conn,
                        multi: Some(multi),
                    },
                );
                self.next_in_multi(id);
            }
        }
    }

    /// The answer to the request asked as `id`.
    pub fn reply(&mut self, id: u64, reply: &api::Reply) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let value = methods::encode(reply);
        match &mut call.multi {
            None => {
                let conn = call.conn;
                self.calls.remove(&id);
                self.respond(conn, xml_answer(&value));
            }
            Some(m) => {
                let v = multi_result(value);
                m.bytes += xmlrpc::encode_value(&v).len();
                m.results.push(v);
                self.next_in_multi(id);
            }
        }
    }

    /// The connection went away: its calls in flight are forgotten (a
    /// multicall asks nothing more).
    pub fn closed(&mut self, conn: ConnId) {
        self.calls.retain(|_, c| c.conn != conn);
    }

    /// Ask the next call of a multicall, or send the whole answer.
    fn next_in_multi(&mut self, id: u64) {
        loop {
            let Some(Call {
                conn,
                multi: Some(m),
            }) = self.calls.get_mut(&id)
            else {
                return;
            };
            if m.bytes > MAX_MULTI_BYTES {
                let f = methods::fault(FaultCode::Failed, "multicall response too large");
                m.results
                    .extend(m.queue.drain(..).map(|_| fault_struct(&f)));
            }
            let next = match m.queue.pop_front() {
                None => {
                    let results = std::mem::take(&mut m.results);
                    let conn = *conn;
                    self.calls.remove(&id);
                    self.respond(conn, xml_answer(&Ok(Value::Array(results))));
                    return;
                }
                Some(Err(f)) => Err(f),
                Some(Ok((method, params))) => Ok(methods::decode(&method, &params)),
            };
            match next {
                Err(f) => m.results.push(fault_struct(&f)),
                Ok(Decoded::Now(r)) => {
                    let v = multi_result(r);
                    m.bytes += xmlrpc::encode_value(&v).len();
                    m.results.push(v);
                }
                Ok(Decoded::Multi(_)) => m.results.push(fault_struct(&methods::fault(
                    FaultCode::IncorrectParameters,
                    "Recursive system.multicall forbidden",
                ))),
                Ok(Decoded::Call(request)) => {
                    self.out.push_back(RpcOut::Ask { id, request });
                    return;
                }
            }
        }
    }
}
