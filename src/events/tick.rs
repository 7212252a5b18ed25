//! `TICK_5`, `TICK_60`, `TICK_3600`: one event when the wall clock enters a
//! new multiple of the period, as Supervisor's `tick()` does (its first
//! tick comes only after the first boundary it crosses). Supervisor checks
//! once a second; we compute the next boundary, and only for the periods
//! some pool subscribes to, so a daemon without tick listeners never
//! wakes up for them.

use std::time::{Duration, Instant};

use super::event::Period;
use crate::core::Now;

/// Python's `int(when - (when % period))`: the start of the period `when`
/// falls in.
pub fn timeslice(period: i64, when: f64) -> i64 {
    let p = period as f64;
    (when - when.rem_euclid(p)) as i64
}

/// The slices last seen and the time they were seen at.
#[derive(Debug, Clone, Default)]
pub struct Ticks {
    last: [Option<i64>; 3],
    seen: Option<Now>,
}

impl Ticks {
    /// Look at the clock: the periods whose slice changed since the last
    /// look, with the slice just begun. The first look only records.
    pub fn advance(&mut self, now: Now) -> Vec<(Period, i64)> {
        self.seen = Some(now);
        let mut due = Vec::new();
        for (i, p) in Period::ALL.into_iter().enumerate() {
            let this = timeslice(p.secs(), now.wall);
            match self.last[i] {
                Some(l) if l == this => {}
                Some(_) => {
                    self.last[i] = Some(this);
                    due.push((p, this));
                }
                None => self.last[i] = Some(this),
            }
        }
        due
    }

    /// Forget what was seen for `period` (nobody listened to it, so the
    /// record may be stale): the next look starts it afresh.
    pub fn restart(&mut self, period: Period) {
        let i = Period::ALL.iter().position(|p| *p == period).unwrap_or(0);
        self.last[i] = None;
    }

    /// The monotonic instant the wall clock reaches the next boundary of
    /// `period`, reckoned from the last look.
    pub fn next(&self, period: Period) -> Option<Instant> {
        let now = self.seen?;
        let i = Period::ALL.iter().position(|p| *p == period)?;
        let start = self.last[i].unwrap_or_else(|| timeslice(period.secs(), now.wall));
        let boundary = (start + period.secs()) as f64;
        let wait = (boundary - now.wall).max(0.0);
        Some(now.mono + Duration::from_secs_f64(wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, wall: f64) -> Now {
        Now {
            mono: base + Duration::from_secs_f64(wall - 1000.0),
            wall,
        }
    }

    #[test]
    fn slices_are_pythons() {
        assert_eq!(timeslice(5, 1003.7), 1000);
        assert_eq!(timeslice(60, 1019.0), 960);
        assert_eq!(timeslice(3600, 7199.99), 3600);
        assert_eq!(timeslice(5, 1005.0), 1005);
    }

    #[test]
    fn first_look_records_then_each_boundary_ticks_once() {
        let base = crate::clock::mono();
        let mut t = Ticks::default();
        assert!(t.advance(at(base, 1003.0)).is_empty());
        assert_eq!(t.next(Period::Five), Some(at(base, 1005.0).mono));
        assert!(t.advance(at(base, 1004.9)).is_empty());
        assert_eq!(t.advance(at(base, 1005.0)), [(Period::Five, 1005)]);
        assert!(t.advance(at(base, 1006.0)).is_empty());
        // 1020 is also a minute boundary.
        assert_eq!(
            t.advance(at(base, 1020.5)),
            [(Period::Five, 1020), (Period::Minute, 1020)]
        );
        assert_eq!(t.next(Period::Minute), Some(at(base, 1080.0).mono));
        assert_eq!(t.next(Period::Hour), Some(at(base, 3600.0).mono));
    }

    #[test]
    fn restart_forgets_a_stale_slice() {
        let base = crate::clock::mono();
        let mut t = Ticks::default();
        t.advance(at(base, 1003.0));
        t.restart(Period::Five);
        // Hours later: no tick for the slices nobody watched.
        assert_eq!(
            t.advance(at(base, 9001.0)),
            [(Period::Minute, 9000), (Period::Hour, 7200)]
        );
    }
}
