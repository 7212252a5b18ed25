//! The armed timers of all processes, indexed by deadline so that firing
//! and `next_deadline` cost O(log n) instead of a walk over every process.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use super::process::Timer;
use super::ProcId;

#[derive(Debug, Default)]
pub struct Timers {
    /// Per process, the deadline of each armed timer (the source of truth).
    slots: BTreeMap<ProcId, [Option<Instant>; Timer::ALL.len()]>,
    /// The same timers ordered by deadline; kept equal to `slots`.
    order: BTreeSet<(Instant, ProcId, Timer)>,
}

impl Timers {
    pub fn get(&self, id: ProcId, t: Timer) -> Option<Instant> {
        self.slots.get(&id).and_then(|s| s[t as usize])
    }

    pub fn set(&mut self, id: ProcId, t: Timer, at: Instant) {
        let slot = &mut self.slots.entry(id).or_default()[t as usize];
        if let Some(old) = slot.replace(at) {
            self.order.remove(&(old, id, t));
        }
        self.order.insert((at, id, t));
    }

    pub fn clear(&mut self, id: ProcId, t: Timer) {
        let Some(slots) = self.slots.get_mut(&id) else {
            return;
        };
        if let Some(old) = slots[t as usize].take() {
            self.order.remove(&(old, id, t));
        }
        if slots.iter().all(Option::is_none) {
            self.slots.remove(&id);
        }
    }

    pub fn clear_all(&mut self, id: ProcId) {
        let Some(slots) = self.slots.remove(&id) else {
            return;
        };
        for (i, at) in slots.into_iter().enumerate() {
            if let Some(at) = at {
                self.order.remove(&(at, id, Timer::ALL[i]));
            }
        }
    }

    /// The earliest armed deadline.
    pub fn first(&self) -> Option<Instant> {
        self.order.first().map(|&(at, _, _)| at)
    }

    /// For every process whose earliest timer is due at `now`, that timer
    /// (ties go to the first in `Timer` order), in ascending process id.
    pub fn due(&self, now: Instant) -> Vec<(ProcId, Timer)> {
        let mut due: BTreeMap<ProcId, Timer> = BTreeMap::new();
        for &(_, id, t) in self.order.iter().take_while(|&&(at, _, _)| at <= now) {
            due.entry(id).or_insert(t);
        }
        due.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn index_follows_set_and_clear() {
        let t0 = crate::clock::mono();
        let s = |n| t0 + Duration::from_secs(n);
        let (a, b) = (ProcId(1), ProcId(2));
        let mut ts = Timers::default();
        ts.set(a, Timer::StopWait, s(5));
        ts.set(b, Timer::Backoff, s(3));
        ts.set(a, Timer::StopReport, s(2));
        assert_eq!(ts.first(), Some(s(2)));
        // Re-arming moves the entry instead of adding one.
        ts.set(a, Timer::StopReport, s(9));
        assert_eq!(ts.first(), Some(s(3)));
        assert_eq!(
            ts.due(s(5)),
            vec![(a, Timer::StopWait), (b, Timer::Backoff)]
        );
        assert_eq!(ts.due(s(4)), vec![(b, Timer::Backoff)]);
        ts.clear(b, Timer::Backoff);
        assert_eq!(ts.get(b, Timer::Backoff), None);
        assert_eq!(ts.first(), Some(s(5)));
        ts.clear_all(a);
        assert_eq!(ts.first(), None);
        assert!(ts.slots.is_empty() && ts.order.is_empty());
    }

    #[test]
    fn same_deadline_prefers_first_timer() {
        let t0 = crate::clock::mono();
        let mut ts = Timers::default();
        ts.set(ProcId(0), Timer::StopReport, t0);
        ts.set(ProcId(0), Timer::StopWait, t0);
        assert_eq!(ts.due(t0), vec![(ProcId(0), Timer::StopWait)]);
    }
}
