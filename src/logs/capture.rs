//! Capture mode (`*_capture_maxbytes` > 0, spec §4.4).
//!
//! Output between `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` is
//! diverted into a bounded buffer; at END the buffer becomes the payload of a
//! `PROCESS_COMMUNICATION_*` event and is cleared. Everything else goes to
//! the log.
//!
//! # Divergences from Supervisor
//!
//! * Only a suffix that could be the start of the awaited token is held
//!   back; Supervisor also holds back any pending chunk no longer than the
//!   token and loses it if the process exits (a trailing `"\n"` after END).
//!   [`Capture::finish`] flushes what is held.
//! * The buffer keeps the *last* `maxbytes` bytes; Supervisor's `BoundIO`
//!   drops `len(write)` bytes from the front when a write would overflow.

pub const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
pub const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";

/// Streaming splitter of log text and captured communication.
#[derive(Debug, Clone)]
pub struct Capture {
    maxbytes: usize,
    capturing: bool,
    /// A suffix of the input that may be the start of the awaited token.
    held: Vec<u8>,
    buf: Vec<u8>,
}

impl Capture {
    pub fn new(maxbytes: usize) -> Capture {
        Capture {
            maxbytes,
            capturing: false,
            held: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// Whether we are between BEGIN and END.
    pub fn is_capturing(&self) -> bool {
        self.capturing
    }

    /// Split `data`: log text goes to `log`, each completed capture to `comm`.
    pub fn feed(&mut self, data: &[u8], log: &mut dyn FnMut(&[u8]), comm: &mut dyn FnMut(Vec<u8>)) {
        if self.held.is_empty() {
            self.process(data, log, comm);
        } else {
            // Rare: a token may straddle two reads.
            let mut combined = std::mem::take(&mut self.held);
            combined.extend_from_slice(data);
            self.process(&combined, log, comm);
        }
    }

    /// End of stream: the held suffix is not a token after all.
    pub fn finish(&mut self, log: &mut dyn FnMut(&[u8])) {
        let held = std::mem::take(&mut self.held);
        self.emit(&held, log);
    }

    fn process(&mut self, data: &[u8], log: &mut dyn FnMut(&[u8]), comm: &mut dyn FnMut(Vec<u8>)) {
        let mut rest = data;
        loop {
            let token = if self.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            match find(rest, token) {
                Some(i) => {
                    self.emit(&rest[..i], log);
                    rest = &rest[i + token.len()..];
                    if self.capturing {
                        comm(std::mem::take(&mut self.buf));
                    }
                    self.capturing = !self.capturing;
                }
                None => {
                    let keep = prefix_at_end(rest, token);
                    let cut = rest.len() - keep;
                    self.emit(&rest[..cut], log);
                    self.held.extend_from_slice(&rest[cut..]);
                    return;
                }
            }
        }
    }

    fn emit(&mut self, piece: &[u8], log: &mut dyn FnMut(&[u8])) {
        if piece.is_empty() {
            return;
        }
        if !self.capturing {
            log(piece);
            return;
        }
        let max = self.maxbytes;
        if piece.len() >= max {
            self.buf.clear();
            self.buf.extend_from_slice(&piece[piece.len() - max..]);
        } else {
            self.buf.extend_from_slice(piece);
            if self.buf.len() > max {
                let excess = self.buf.len() - max;
                self.buf.drain(..excess);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(n) = hay[from..].iter().position(|&b| b == first) {
        let i = from + n;
        if hay[i..].starts_with(needle) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// The length of the longest proper prefix of `token` that ends `data`.
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    let max = (token.len() - 1).min(data.len());
    (1..=max)
        .rev()
        .find(|&k| data.ends_with(&token[..k]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cap: &mut Capture, chunks: &[&[u8]]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut logged = Vec::new();
        let mut comms = Vec::new();
        for c in chunks {
            cap.feed(c, &mut |d| logged.extend_from_slice(d), &mut |c| {
                comms.push(c)
            });
        }
        cap.finish(&mut |d| logged.extend_from_slice(d));
        (logged, comms)
    }

    #[test]
    fn diverts_between_tokens() {
        let mut cap = Capture::new(100);
        let input = b"before <!--XSUPERVISOR:BEGIN-->hello<!--XSUPERVISOR:END--> after\n";
        let (logged, comms) = run(&mut cap, &[input]);
        assert_eq!(logged, b"before  after\n");
        assert_eq!(comms, vec![b"hello".to_vec()]);
        assert!(!cap.is_capturing());
    }

    #[test]
    fn tokens_split_at_every_position() {
        let input: &[u8] = b"a<!--XSUPERVISOR:BEGIN-->one<!--XSUPERVISOR:END-->b<!--X\n<!--XSUPERVISOR:BEGIN-->two<!--XSUPERVISOR:END-->\n";
        for cut in 0..=input.len() {
            for cut2 in cut..=input.len() {
                let mut cap = Capture::new(100);
                let (logged, comms) = run(
                    &mut cap,
                    &[&input[..cut], &input[cut..cut2], &input[cut2..]],
                );
                assert_eq!(logged, b"ab<!--X\n\n", "cuts {cut} {cut2}");
                assert_eq!(comms, vec![b"one".to_vec(), b"two".to_vec()]);
            }
        }
    }

    #[test]
    fn trailing_newline_after_end_is_logged() {
        let mut cap = Capture::new(100);
        let (logged, comms) = run(
            &mut cap,
            &[b"<!--XSUPERVISOR:BEGIN-->x<!--XSUPERVISOR:END-->", b"\n"],
        );
        assert_eq!(logged, b"\n");
        assert_eq!(comms.len(), 1);
    }

    #[test]
    fn buffer_is_bounded_to_last_maxbytes() {
        let mut cap = Capture::new(4);
        let (_, comms) = run(
            &mut cap,
            &[
                b"<!--XSUPERVISOR:BEGIN-->abc",
                b"defg",
                b"h<!--XSUPERVISOR:END-->",
            ],
        );
        assert_eq!(comms, vec![b"efgh".to_vec()]);
    }
}
