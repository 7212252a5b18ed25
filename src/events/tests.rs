//! The face as timelines: pools, listeners and ticks without processes.

use std::time::Duration;

use super::*;
use crate::api::ProcessState as S;

fn spec(events: &[&str], buffer_size: i64) -> EventPoolSpec {
    EventPoolSpec {
        events: events.iter().map(|e| e.to_string()).collect(),
        buffer_size,
        result_handler: "supervisor.dispatchers:default_handler".into(),
    }
}

/// A pool `p` of `n` listeners `l0..`, ids 100.., subscribed to `events`.
fn pool(events: &[&str], buffer_size: i64, n: u32) -> Events {
    let mut e = Events::new("supervisor");
    let members = (0..n).map(|i| (ProcId(100 + i), format!("l{i}"))).collect();
    e.add_pool("p", &spec(events, buffer_size), members);
    e
}

type Writes = Vec<(ProcId, String)>;
type Logs = Vec<(LogLevel, String)>;

fn drain(e: &mut Events) -> (Writes, Logs) {
    let mut writes = Vec::new();
    let mut logs = Vec::new();
    while let Some(o) = e.poll_output() {
        match o {
            Output::Write { id, bytes } => writes.push((id, String::from_utf8(bytes).unwrap())),
            Output::Log { level, message } => logs.push((level, message)),
        }
    }
    (writes, logs)
}

/// Spawn listener `i`, let it say READY and reach RUNNING.
fn up(e: &mut Events, i: u32) {
    let id = ProcId(100 + i);
    e.process_state(id, S::Starting);
    e.listener_output(id, b"READY\n");
    e.process_state(id, S::Running);
}

fn exited(name: &str) -> Event {
    let p = About {
        name,
        group: name,
        pid: 7,
    };
    Event::state(S::Exited, S::Running, p, false, 0)
}

#[test]
fn an_event_reaches_a_ready_running_listener_with_supervisors_header() {
    let mut e = pool(&["PROCESS_STATE"], 10, 1);
    e.notify(exited("web"));
    // Not RUNNING yet: the event waits.
    e.process_state(ProcId(100), S::Starting);
    e.listener_output(ProcId(100), b"READY\n");
    assert!(drain(&mut e).0.is_empty());
    e.process_state(ProcId(100), S::Running);
    let (writes, logs) = drain(&mut e);
    let payload = "processname:web groupname:web from_state:RUNNING expected:0 pid:7";
    assert_eq!(
        writes,
        [(
            ProcId(100),
            format!(
                "ver:3.0 server:supervisor serial:0 pool:p poolserial:0 eventname:PROCESS_STATE_EXITED len:{}\n{payload}",
                payload.len()
            )
        )]
    );
    assert!(logs.contains(&(LogLevel::Debug, "event 0 sent to listener l0".into())));
    assert_eq!(e.listener_state(ProcId(100)), Some(ListenerState::Busy));
    e.listener_output(ProcId(100), b"RESULT 2\nOKREADY\n");
    assert!(drain(&mut e).0.is_empty());
    assert_eq!(e.listener_state(ProcId(100)), Some(ListenerState::Ready));
}

#[test]
fn a_failed_event_is_sent_again_with_its_serials() {
    let mut e = pool(&["EVENT"], 10, 1);
    up(&mut e, 0);
    e.notify(Event::remote("a", "1"));
    e.notify(Event::remote("b", "2"));
    let first = drain(&mut e).0;
    assert_eq!(first.len(), 1);
    assert!(first[0].1.contains("serial:0 pool:p poolserial:0"));
    e.listener_output(ProcId(100), b"RESULT 4\nFAILREADY\n");
    let (again, logs) = drain(&mut e);
    assert_eq!(again, first, "the same event, same serials");
    assert!(logs.contains(&(LogLevel::Warn, "l0: event was rejected".into())));
    e.listener_output(ProcId(100), b"RESULT 2\nOKREADY\n");
    let next = drain(&mut e).0;
    assert!(next[0].1.contains("serial:1 pool:p poolserial:1"));
    assert!(next[0].1.ends_with("type:b\n2"));
}

#[test]
fn overflow_discards_the_oldest_and_says_so() {
    let mut e = pool(&["REMOTE_COMMUNICATION"], 2, 1);
    for d in ["0", "1", "2"] {
        e.notify(Event::remote("t", d));
    }
    let logs = drain(&mut e).1;
    assert_eq!(
        logs,
        [(
            LogLevel::Error,
            "pool p event buffer overflowed, discarding event 0".to_string()
        )]
    );
    up(&mut e, 0);
    let w = drain(&mut e).0;
    assert!(w[0].1.ends_with("type:t\n1"), "{w:?}");
}

#[test]
fn numprocs_listeners_share_the_pool() {
    let mut e = pool(&["REMOTE_COMMUNICATION"], 10, 3);
    for i in 0..3 {
        up(&mut e, i);
    }
    for d in ["a", "b", "c", "d"] {
        e.notify(Event::remote("t", d));
    }
    let w = drain(&mut e).0;
    let ids: Vec<ProcId> = w.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [ProcId(100), ProcId(101), ProcId(102)]);
    // The fourth goes to whoever is ready first.
    e.listener_output(ProcId(102), b"RESULT 2\nOKREADY\n");
    let w = drain(&mut e).0;
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].0, ProcId(102));
    assert!(w[0].1.ends_with("type:t\nd"));
}

#[test]
fn an_event_held_by_a_dying_listener_goes_back_to_the_head() {
    let mut e = pool(&["REMOTE_COMMUNICATION"], 10, 1);
    up(&mut e, 0);
    e.notify(Event::remote("t", "first"));
    e.notify(Event::remote("t", "second"));
    let w = drain(&mut e).0;
    assert!(w[0].1.ends_with("first"));
    e.process_state(ProcId(100), S::Exited);
    assert!(drain(&mut e).0.is_empty());
    up(&mut e, 0);
    let w = drain(&mut e).0;
    assert!(w[0].1.contains("serial:0 "), "{w:?}");
    assert!(w[0].1.ends_with("first"));
}

#[test]
fn a_listener_that_breaks_the_protocol_gets_nothing_more() {
    let mut e = pool(&["REMOTE_COMMUNICATION"], 10, 2);
    up(&mut e, 0);
    up(&mut e, 1);
    e.notify(Event::remote("t", "x"));
    assert_eq!(drain(&mut e).0[0].0, ProcId(100));
    e.listener_output(ProcId(100), b"garbage\n");
    let (w, logs) = drain(&mut e);
    assert!(logs.contains(&(LogLevel::Warn, "l0: bad result line: 'garbage'".into())));
    assert_eq!(e.listener_state(ProcId(100)), Some(ListenerState::Unknown));
    // The event went back and on to the other listener.
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].0, ProcId(101));
    assert!(w[0].1.ends_with("x"));
    // l0 gets nothing more, even with l1 busy.
    e.notify(Event::remote("t", "y"));
    assert!(drain(&mut e).0.is_empty());
    // A restart gives l0 a new protocol.
    up(&mut e, 0);
    assert_eq!(drain(&mut e).0[0].0, ProcId(100));
}

#[test]
fn a_failed_write_passes_the_event_on() {
    let mut e = pool(&["REMOTE_COMMUNICATION"], 10, 2);
    up(&mut e, 0);
    up(&mut e, 1);
    e.notify(Event::remote("t", "x"));
    let w = drain(&mut e).0;
    assert_eq!(w[0].0, ProcId(100));
    e.write_failed(ProcId(100));
    let w = drain(&mut e).0;
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].0, ProcId(101));
    assert!(w[0].1.contains("serial:0 "));
}

#[test]
fn subscriptions_follow_inheritance_and_serials_are_global() {
    let mut e = Events::new("sid");
    e.add_pool(
        "a",
        &spec(&["PROCESS_STATE"], 10),
        vec![(ProcId(1), "a".into())],
    );
    e.add_pool("b", &spec(&["EVENT"], 10), vec![(ProcId(2), "b".into())]);
    assert!(e.wants(EventKind::ProcessStateFatal));
    assert!(e.wants(EventKind::Tick5));
    e.notify(Event::remote("t", "only b")); // serial 0
    e.notify(exited("w")); // serial 1, a's poolserial 0, b's 1
    for id in [1, 2] {
        e.process_state(ProcId(id), S::Starting);
        e.listener_output(ProcId(id), b"READY\n");
        e.process_state(ProcId(id), S::Running);
    }
    let w = drain(&mut e).0;
    assert_eq!(w.len(), 2);
    assert!(w[0].1.starts_with(
        "ver:3.0 server:sid serial:1 pool:a poolserial:0 eventname:PROCESS_STATE_EXITED"
    ));
    assert!(w[1].1.starts_with(
        "ver:3.0 server:sid serial:0 pool:b poolserial:0 eventname:REMOTE_COMMUNICATION"
    ));
}

#[test]
fn nobody_subscribed_costs_no_serial_and_no_wakeup() {
    let mut e = pool(&["PROCESS_STATE_EXITED"], 10, 1);
    let t0 = crate::clock::mono();
    e.handle_timeout(Now {
        mono: t0,
        wall: 1_000_000.5,
    });
    assert_eq!(e.next_deadline(), None);
    e.notify(Event::remote("t", "x")); // not wanted: no serial
    e.notify(exited("w"));
    up(&mut e, 0);
    assert!(drain(&mut e).0[0].1.contains("serial:0 "));
}

#[test]
fn ticks_on_wall_clock_boundaries_for_subscribers_only() {
    let mut e = pool(&["TICK_60"], 10, 1);
    let t0 = crate::clock::mono();
    let at = |wall: f64| Now {
        mono: t0 + Duration::from_secs_f64(wall - 1_000_000.0),
        wall,
    };
    e.handle_timeout(at(1_000_010.0));
    // 1_000_020 is the next multiple of 60.
    assert_eq!(e.next_deadline(), Some(at(1_000_020.0).mono));
    e.handle_timeout(at(1_000_015.0)); // a TICK_5 boundary: nobody listens
    e.handle_timeout(at(1_000_020.001));
    assert_eq!(e.next_deadline(), Some(at(1_000_080.0).mono));
    up(&mut e, 0);
    let w = drain(&mut e).0;
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].1,
        "ver:3.0 server:supervisor serial:0 pool:p poolserial:0 eventname:TICK_60 len:12\nwhen:1000020"
    );
}

#[test]
fn a_tick_pool_added_late_does_not_tick_for_a_stale_slice() {
    let mut e = Events::new("supervisor");
    let t0 = crate::clock::mono();
    let at = |wall: f64| Now {
        mono: t0 + Duration::from_secs_f64(wall - 1_000_000.0),
        wall,
    };
    e.handle_timeout(at(1_000_010.0));
    // An hour of silence, then `update` adds a TICK_5 pool.
    e.add_pool("p", &spec(&["TICK_5"], 10), vec![(ProcId(1), "l".into())]);
    e.handle_timeout(at(1_003_612.0));
    e.process_state(ProcId(1), S::Starting);
    e.listener_output(ProcId(1), b"READY\n");
    e.process_state(ProcId(1), S::Running);
    assert!(drain(&mut e).0.is_empty());
    e.handle_timeout(at(1_003_615.0));
    assert!(drain(&mut e).0[0].1.ends_with("when:1003615"));
}

#[test]
fn removed_pools_forget_their_buffer() {
    let mut e = pool(&["EVENT"], 10, 1);
    e.notify(Event::remote("t", "x"));
    e.remove_pool("p");
    assert!(!e.wants(EventKind::Event));
    assert!(!e.is_listener(ProcId(100)));
    up(&mut e, 0);
    assert!(drain(&mut e).0.is_empty());
}
