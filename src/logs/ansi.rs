//! `strip_ansi`: remove `ESC [` … terminator sequences (spec §4.2).
//!
//! Supervisor's `stripEscapes` drops everything from `ESC[` up to and
//! including the first byte in `HfABCDRsuJKhlpm`, per chunk. We keep the
//! state across chunks, so a sequence split by a `read` is still removed
//! (Supervisor would leak its pieces into the log).

/// Terminators of an escape sequence.
const TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";
const ESC: u8 = 0x1b;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Text,
    /// The previous chunk ended with a lone ESC (held back).
    Esc,
    /// Inside `ESC[`, waiting for a terminator.
    Seq,
}

/// A streaming escape-sequence stripper.
#[derive(Debug, Clone, Default)]
pub struct AnsiStripper {
    state: State,
}

impl AnsiStripper {
    pub fn new() -> AnsiStripper {
        AnsiStripper::default()
    }

    /// Whether `input` would come out unchanged (no copy needed).
    pub fn is_clean(&self, input: &[u8]) -> bool {
        self.state == State::Text && find_esc(input).is_none()
    }

    /// Append `input` without escape sequences to `out`.
    pub fn strip_into(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        if self.state == State::Esc {
            match input.first() {
                None => return,
                Some(b'[') => {
                    self.state = State::Seq;
                    i = 1;
                }
                Some(_) => {
                    out.push(ESC);
                    self.state = State::Text;
                }
            }
        }
        while i < input.len() {
            match self.state {
                State::Seq => match input[i..].iter().position(|b| TERMINATORS.contains(b)) {
                    Some(n) => {
                        i += n + 1;
                        self.state = State::Text;
                    }
                    None => return,
                },
                _ => match find_esc(&input[i..]) {
                    None => {
                        out.extend_from_slice(&input[i..]);
                        return;
                    }
                    Some(n) => {
                        out.extend_from_slice(&input[i..i + n]);
                        i += n + 1;
                        match input.get(i) {
                            None => self.state = State::Esc,
                            Some(b'[') => {
                                self.state = State::Seq;
                                i += 1;
                            }
                            Some(_) => out.push(ESC),
                        }
                    }
                },
            }
        }
    }

    /// At end of stream: emit a held-back lone ESC.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.state == State::Esc {
            out.push(ESC);
        }
        self.state = State::Text;
    }
}

/// The first ESC in `hay`, eight bytes at a time (SWAR): this scan is the
/// whole cost of `strip_ansi` on ordinary output.
fn find_esc(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const PAT: u64 = LO * ESC as u64;
    let mut words = hay.chunks_exact(8);
    let mut base = 0;
    for w in words.by_ref() {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ PAT;
        if x.wrapping_sub(LO) & !x & HI != 0 {
            break;
        }
        base += 8;
    }
    hay[base..].iter().position(|&b| b == ESC).map(|n| base + n)
}

/// Strip a whole buffer at once.
pub fn strip_ansi(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut s = AnsiStripper::new();
    s.strip_into(input, &mut out);
    s.finish(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_colors() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_ansi(b"a\x1b[2Jb\x1b[1;1Hc\x1b[Kd"), b"abcd");
        assert_eq!(strip_ansi(b"no escapes\n"), b"no escapes\n");
        // A lone ESC not followed by `[` is kept.
        assert_eq!(strip_ansi(b"a\x1bb"), b"a\x1bb");
        assert_eq!(strip_ansi(b"a\x1b"), b"a\x1b");
        // An unterminated sequence swallows the rest (as Supervisor does).
        assert_eq!(strip_ansi(b"a\x1b[12;3"), b"a");
    }

    #[test]
    fn find_esc_matches_naive() {
        let mut v = vec![b'a'; 40];
        assert_eq!(find_esc(&v), None);
        for i in 0..40 {
            v[i] = ESC;
            assert_eq!(find_esc(&v), Some(i));
            assert_eq!(find_esc(&v[..i]), None);
            v[i] = 0x9b; // high bit set, must not match
        }
    }

    #[test]
    fn split_sequences_every_cut() {
        let input = b"x\x1b[1;31mhello\x1b[0m\x1b\x1b[Ky\x1bz";
        let want = strip_ansi(input);
        assert_eq!(want, b"xhello\x1by\x1bz");
        for cut in 0..=input.len() {
            for cut2 in cut..=input.len() {
                let mut s = AnsiStripper::new();
                let mut out = Vec::new();
                s.strip_into(&input[..cut], &mut out);
                s.strip_into(&input[cut..cut2], &mut out);
                s.strip_into(&input[cut2..], &mut out);
                s.finish(&mut out);
                assert_eq!(out, want, "cuts {cut} {cut2}");
            }
        }
    }
}
