//! A bounded in-memory tail of a stream: the most recent bytes plus an
//! absolute byte counter, so a tail needs no file (NONE logs included).

/// The last `capacity` bytes written to a stream.
#[derive(Debug, Clone)]
pub struct TailRing {
    capacity: usize,
    /// Allocated to `capacity` on first push; byte `n` lives at `n % capacity`.
    buf: Vec<u8>,
    total: u64,
    /// Bytes before this absolute offset were cleared.
    floor: u64,
}

/// Default capacity per stream.
pub const DEFAULT_RING_CAPACITY: usize = 64 * 1024;

impl TailRing {
    pub fn new(capacity: usize) -> TailRing {
        TailRing {
            capacity,
            buf: Vec::new(),
            total: 0,
            floor: 0,
        }
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes ever pushed (the absolute offset of the next byte).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes currently retained.
    pub fn len(&self) -> usize {
        (self.total - self.floor).min(self.capacity as u64) as usize
    }

    /// Forget the retained bytes; the absolute counter keeps counting.
    pub fn clear(&mut self) {
        self.floor = self.total;
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Absolute offset of the oldest retained byte.
    pub fn start(&self) -> u64 {
        self.total - self.len() as u64
    }

    pub fn push(&mut self, data: &[u8]) {
        let cap = self.capacity;
        if cap == 0 || data.is_empty() {
            self.total += data.len() as u64;
            return;
        }
        if self.buf.len() != cap {
            self.buf.resize(cap, 0);
        }
        let skip = data.len().saturating_sub(cap);
        let data_total = self.total + skip as u64;
        let data = &data[skip..];
        let pos = (data_total % cap as u64) as usize;
        let first = data.len().min(cap - pos);
        self.buf[pos..pos + first].copy_from_slice(&data[..first]);
        self.buf[..data.len() - first].copy_from_slice(&data[first..]);
        self.total = data_total + data.len() as u64;
    }

    /// The retained bytes from absolute offset `from` (clamped) to the end.
    pub fn read_from(&self, from: u64) -> Vec<u8> {
        let from = from.clamp(self.start(), self.total);
        let n = (self.total - from) as usize;
        let mut out = Vec::with_capacity(n);
        if n == 0 {
            return out;
        }
        let cap = self.capacity as u64;
        let pos = (from % cap) as usize;
        let first = n.min(self.capacity - pos);
        out.extend_from_slice(&self.buf[pos..pos + first]);
        out.extend_from_slice(&self.buf[..n - first]);
        out
    }

    /// The last `n` retained bytes.
    pub fn last(&self, n: usize) -> Vec<u8> {
        self.read_from(self.total.saturating_sub(n as u64))
    }

    /// Bytes since `offset`: `(data, new_offset, overflow)`, where overflow
    /// means bytes after `offset` were already dropped from the ring.
    pub fn since(&self, offset: u64) -> (Vec<u8>, u64, bool) {
        (self.read_from(offset), self.total, offset < self.start())
    }
}

impl Default for TailRing {
    fn default() -> TailRing {
        TailRing::new(DEFAULT_RING_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_keeps_the_last_bytes() {
        let mut r = TailRing::new(8);
        let mut all = Vec::new();
        for i in 0..50u8 {
            let chunk: Vec<u8> = (0..(i % 11))
                .map(|k| i.wrapping_mul(7).wrapping_add(k))
                .collect();
            r.push(&chunk);
            all.extend_from_slice(&chunk);
            assert_eq!(r.total(), all.len() as u64);
            let keep = all.len().min(8);
            assert_eq!(r.last(100), &all[all.len() - keep..]);
            assert_eq!(r.last(3), &all[all.len() - keep.min(3)..]);
        }
    }

    #[test]
    fn since_reports_overflow() {
        let mut r = TailRing::new(4);
        r.push(b"abcdef");
        assert_eq!(r.since(0), (b"cdef".to_vec(), 6, true));
        assert_eq!(r.since(3), (b"def".to_vec(), 6, false));
        assert_eq!(r.since(6), (Vec::new(), 6, false));
        assert_eq!(r.since(99), (Vec::new(), 6, false));
    }

    #[test]
    fn zero_capacity_counts_only() {
        let mut r = TailRing::new(4);
        r.push(b"ab");
        r.clear();
        assert!(r.is_empty());
        r.push(b"c");
        assert_eq!(r.since(0), (b"c".to_vec(), 3, true));
        let mut r = TailRing::new(0);
        r.push(b"abc");
        assert_eq!(r.total(), 3);
        assert!(r.last(10).is_empty());
    }
}
