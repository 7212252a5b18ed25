//! The listener side of the protocol: what one listener's stdout means.
//!
//! A listener starts ACKNOWLEDGED at every spawn. `READY\n` makes it READY;
//! the pool then writes it one event and marks it BUSY. It answers
//! `RESULT <n>\n` and `n` bytes: `OK` means processed (Supervisor's default
//! result handler), anything else rejected; either way it is ACKNOWLEDGED
//! again and must say `READY\n` before the next event. Anything else —
//! output while READY, something other than `READY\n` while ACKNOWLEDGED, a
//! result line whose length is not a number — puts it in UNKNOWN, where it
//! receives nothing until it is restarted. The log lines are Supervisor's.
//!
//! [`Protocol::feed`] takes bytes as they arrive, in any split, and says
//! what became of the event in flight; it never sees the event itself.

use crate::config::LogLevel;
use crate::py::py_bytes_repr;

const READY: &[u8] = b"READY\n";
/// The prefix Supervisor skips before the length, without checking it.
const RESULT_PREFIX_LEN: usize = b"RESULT ".len();

/// A listener's protocol state (Supervisor's `EventListenerStates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    /// Waiting for `READY\n` (after a spawn or a result).
    Acknowledged,
    /// May be sent an event.
    Ready,
    /// Sent an event, waiting for its result.
    Busy,
    /// Broke the protocol: no more events until restarted.
    Unknown,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

/// What the listener said about the event in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// `RESULT 2\nOK`.
    Processed,
    /// Another result, or a malformed one: the event goes back to the
    /// head of the pool's buffer.
    Rejected,
}

/// One listener's protocol reader.
#[derive(Debug, Clone)]
pub struct Protocol {
    state: ListenerState,
    /// Bytes not yet understood.
    buf: Vec<u8>,
    /// The announced result length, once the result line is complete.
    result_len: Option<usize>,
    result: Vec<u8>,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            state: ListenerState::Acknowledged,
            buf: Vec::new(),
            result_len: None,
            result: Vec::new(),
        }
    }
}

/// Main-log lines, collected for the caller.
pub type Lines = Vec<(LogLevel, String)>;

impl Protocol {
    pub fn state(&self) -> ListenerState {
        self.state
    }

    /// The pool sent an event: READY -> BUSY.
    pub fn sent(&mut self) {
        debug_assert_eq!(self.state, ListenerState::Ready);
        self.state = ListenerState::Busy;
    }

    /// The pool could not write the event: BUSY -> READY again.
    pub fn unsent(&mut self) {
        if self.state == ListenerState::Busy && self.result_len.is_none() {
            self.state = ListenerState::Ready;
        }
    }

    /// Take bytes from the listener's stdout. `name` is the process name
    /// for the log lines. Returns what became of the event in flight, if
    /// anything did.
    pub fn feed(&mut self, data: &[u8], name: &str, log: &mut Lines) -> Option<Verdict> {
        self.buf.extend_from_slice(data);
        let mut verdict = None;
        loop {
            if let Some(v) = self.complete_result(name, log) {
                verdict = Some(v);
                continue;
            }
            if self.buf.is_empty() {
                return verdict;
            }
            match self.state {
                ListenerState::Unknown => self.buf.clear(),
                ListenerState::Acknowledged => {
                    if self.buf.len() < READY.len() {
                        return verdict;
                    }
                    if self.buf.starts_with(READY) {
                        self.buf.drain(..READY.len());
                        self.change(ListenerState::Ready, name, log);
                    } else {
                        self.buf.clear();
                        self.change(ListenerState::Unknown, name, log);
                    }
                }
                // Anything while READY breaks the protocol.
                ListenerState::Ready => {
                    self.buf.clear();
                    self.change(ListenerState::Unknown, name, log);
                }
                ListenerState::Busy if self.result_len.is_none() => {
                    let Some(pos) = self.buf.iter().position(|&b| b == b'\n') else {
                        return verdict;
                    };
                    let line: Vec<u8> = self.buf.drain(..=pos).take(pos).collect();
                    match result_len(&line) {
                        Some(n) => self.result_len = Some(n),
                        None => {
                            let shown = match std::str::from_utf8(&line) {
                                Ok(t) => t.to_string(),
                                Err(_) => format!("Undecodable: {}", py_bytes_repr(&line)),
                            };
                            log.push((
                                LogLevel::Warn,
                                format!("{name}: bad result line: '{shown}'"),
                            ));
                            self.buf.clear();
                            self.change(ListenerState::Unknown, name, log);
                            return Some(Verdict::Rejected);
                        }
                    }
                }
                ListenerState::Busy => {
                    let n = self.result_len.unwrap_or(0);
                    let take = (n - self.result.len()).min(self.buf.len());
                    self.result.extend(self.buf.drain(..take));
                }
            }
        }
    }

    /// A whole result has arrived: judge it (Supervisor's
    /// `default_handler`: `OK` or rejected).
    fn complete_result(&mut self, name: &str, log: &mut Lines) -> Option<Verdict> {
        let n = self.result_len?;
        if self.state != ListenerState::Busy || self.result.len() < n {
            return None;
        }
        self.result_len = None;
        let ok = self.result == b"OK";
        self.result.clear();
        let v = if ok {
            log.push((LogLevel::Debug, format!("{name}: event was processed")));
            Verdict::Processed
        } else {
            log.push((LogLevel::Warn, format!("{name}: event was rejected")));
            Verdict::Rejected
        };
        self.change(ListenerState::Acknowledged, name, log);
        Some(v)
    }

    fn change(&mut self, to: ListenerState, name: &str, log: &mut Lines) {
        log.push((
            LogLevel::Debug,
            format!("{name}: {} -> {}", self.state.name(), to.name()),
        ));
        self.state = to;
        if to == ListenerState::Unknown {
            self.result_len = None;
            self.result.clear();
            log.push((
                LogLevel::Warn,
                format!(
                    "{name}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"
                ),
            ));
        }
    }
}

/// The length of `RESULT <n>`: Supervisor skips seven bytes and reads an
/// integer (Python's `int()`, which allows surrounding blanks and a sign).
fn result_len(line: &[u8]) -> Option<usize> {
    let rest = line.get(RESULT_PREFIX_LEN..).unwrap_or(b"");
    std::str::from_utf8(rest).ok()?.trim().parse::<usize>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ListenerState::*;

    fn feed(p: &mut Protocol, data: &[u8]) -> (Option<Verdict>, Lines) {
        let mut log = Vec::new();
        let v = p.feed(data, "l", &mut log);
        (v, log)
    }

    fn busy() -> Protocol {
        let mut p = Protocol::default();
        feed(&mut p, b"READY\n");
        p.sent();
        p
    }

    #[test]
    fn ready_then_result_ok() {
        let mut p = Protocol::default();
        assert_eq!(p.state(), Acknowledged);
        let (v, log) = feed(&mut p, b"READY\n");
        assert_eq!((v, p.state()), (None, Ready));
        assert_eq!(
            log,
            [(LogLevel::Debug, "l: ACKNOWLEDGED -> READY".to_string())]
        );
        p.sent();
        assert_eq!(p.state(), Busy);
        // The usual answer and the next READY in one read.
        let (v, _) = feed(&mut p, b"RESULT 2\nOKREADY\n");
        assert_eq!((v, p.state()), (Some(Verdict::Processed), Ready));
    }

    #[test]
    fn every_split_gives_the_same_result() {
        let input = b"RESULT 4\nFAILREADY\n";
        for cut in 0..=input.len() {
            for cut2 in cut..=input.len() {
                let mut p = busy();
                let mut verdicts = Vec::new();
                for part in [&input[..cut], &input[cut..cut2], &input[cut2..]] {
                    verdicts.extend(feed(&mut p, part).0);
                }
                assert_eq!(verdicts, [Verdict::Rejected], "cuts {cut} {cut2}");
                assert_eq!(p.state(), Ready);
            }
        }
    }

    #[test]
    fn fail_is_rejected_and_logged() {
        let mut p = busy();
        let (v, log) = feed(&mut p, b"RESULT 4\nFAIL");
        assert_eq!((v, p.state()), (Some(Verdict::Rejected), Acknowledged));
        assert!(log.contains(&(LogLevel::Warn, "l: event was rejected".into())));
    }

    #[test]
    fn empty_result_is_judged_at_once() {
        let mut p = busy();
        let (v, _) = feed(&mut p, b"RESULT 0\n");
        assert_eq!((v, p.state()), (Some(Verdict::Rejected), Acknowledged));
    }

    #[test]
    fn bad_result_line_is_unknown_and_rejected() {
        let mut p = busy();
        let (v, log) = feed(&mut p, b"RESULT two\nOK");
        assert_eq!((v, p.state()), (Some(Verdict::Rejected), Unknown));
        assert!(log.contains(&(LogLevel::Warn, "l: bad result line: 'RESULT two'".into())));
        assert!(log.iter().any(|(l, m)| *l == LogLevel::Warn
            && m == "l: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"));
        // Nothing more is understood.
        assert_eq!(feed(&mut p, b"READY\n").0, None);
        assert_eq!(p.state(), Unknown);
    }

    #[test]
    fn garbage_while_acknowledged_or_ready() {
        let mut p = Protocol::default();
        assert_eq!(feed(&mut p, b"hello").0, None);
        assert_eq!(p.state(), Acknowledged, "too short to decide");
        feed(&mut p, b" world\n");
        assert_eq!(p.state(), Unknown);

        let mut p = Protocol::default();
        feed(&mut p, b"READY\nx");
        assert_eq!(p.state(), Unknown, "output while READY");
    }

    #[test]
    fn unsent_returns_to_ready() {
        let mut p = busy();
        p.unsent();
        assert_eq!(p.state(), Ready);
    }

    #[test]
    fn result_lengths() {
        assert_eq!(result_len(b"RESULT 2"), Some(2));
        assert_eq!(result_len(b"RESULT  12 "), Some(12));
        assert_eq!(result_len(b"RESULT -1"), None);
        assert_eq!(result_len(b"RESULT"), None);
        assert_eq!(result_len(b"RESULT x"), None);
    }
}
