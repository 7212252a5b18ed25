//! `/metrics`: Prometheus' text exposition format (version 0.0.4), so a
//! fleet is scraped without a `supervisord_exporter` beside each daemon.
//!
//! Per process, labelled `{name="...",group="..."}` as Supervisor names
//! them: its state as Supervisor's code, up (RUNNING) or not, spawns and
//! automatic restarts (counters), the last exit status, uptime and start
//! time; in a cgroup leaf, its memory (`memory.current`) and CPU time
//! (`cpu.stat` `usage_usec`). For the daemon itself, the standard
//! `process_*` figures every Prometheus client exports for its own process.
//! A family is written only when it has samples.

use std::fmt::Write;

use crate::api::{Metrics, ProcessMetrics, ProcessState};

/// `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value: backslash, double quote and newline escaped.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family over the processes that have a value for it.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&ProcessMetrics) -> Option<f64>,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "pidvisor_process_state",
        kind: "gauge",
        help: "Process state as Supervisor's code: 0 STOPPED, 10 STARTING, 20 RUNNING, \
               30 BACKOFF, 40 STOPPING, 100 EXITED, 200 FATAL, 1000 UNKNOWN.",
        value: |p| Some(f64::from(p.snapshot.state.code())),
    },
    Family {
        name: "pidvisor_process_up",
        kind: "gauge",
        help: "1 if the process is RUNNING, else 0.",
        value: |p| {
            Some(if p.snapshot.state == ProcessState::Running {
                1.0
            } else {
                0.0
            })
        },
    },
    Family {
        name: "pidvisor_process_starts_total",
        kind: "counter",
        help: "Spawns of the process since the daemon loaded it.",
        value: |p| Some(p.starts as f64),
    },
    Family {
        name: "pidvisor_process_restarts_total",
        kind: "counter",
        help: "Spawns by autorestart or a retry after a failed start.",
        value: |p| Some(p.snapshot.restarts as f64),
    },
    Family {
        name: "pidvisor_process_exit_status",
        kind: "gauge",
        help: "Exit status of the last exit (-1 for a signal; 0 before any).",
        value: |p| Some(f64::from(p.snapshot.exit_status)),
    },
    Family {
        name: "pidvisor_process_uptime_seconds",
        kind: "gauge",
        help: "Seconds since the last spawn while the process has a child, else 0.",
        value: |p| Some(p.uptime_secs),
    },
    Family {
        name: "pidvisor_process_start_time_seconds",
        kind: "gauge",
        help: "Unix time of the last spawn (0 if never started).",
        value: |p| Some(p.snapshot.start_usec as f64 / 1e6),
    },
    Family {
        name: "pidvisor_process_memory_bytes",
        kind: "gauge",
        help: "memory.current of the process's cgroup leaf (every descendant).",
        value: |p| p.memory_bytes.map(|b| b as f64),
    },
    Family {
        name: "pidvisor_process_cpu_seconds_total",
        kind: "counter",
        help: "CPU time (user and system) of the process's cgroup leaf.",
        value: |p| p.cpu_usec.map(|u| u as f64 / 1e6),
    },
];

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The whole exposition.
pub fn render(m: &Metrics) -> String {
    let mut out = String::new();
    for f in FAMILIES {
        let samples: Vec<(&ProcessMetrics, f64)> = m
            .processes
            .iter()
            .filter_map(|p| Some((p, (f.value)(p)?)))
            .collect();
        if samples.is_empty() {
            continue;
        }
        head(&mut out, f.name, f.kind, f.help);
        for (p, v) in samples {
            let _ = writeln!(
                out,
                "{}{{name=\"{}\",group=\"{}\"}} {v}",
                f.name,
                label(&p.snapshot.name),
                label(&p.snapshot.group)
            );
        }
    }
    let d = &m.daemon;
    let own = [
        (
            "process_resident_memory_bytes",
            "Resident memory of pidvisord in bytes.",
            d.resident_bytes,
        ),
        (
            "process_open_fds",
            "Open file descriptors of pidvisord.",
            d.open_fds,
        ),
        (
            "process_max_fds",
            "pidvisord's limit of open file descriptors.",
            d.max_fds,
        ),
    ];
    for (name, help, value) in own {
        if let Some(v) = value {
            head(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {v}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{DaemonMetrics, ProcessSnapshot};

    fn proc(name: &str, group: &str, state: ProcessState, leaf: bool) -> ProcessMetrics {
        ProcessMetrics {
            snapshot: ProcessSnapshot {
                name: name.into(),
                group: group.into(),
                namespec: format!("{group}:{name}"),
                state,
                pid: 42,
                description: String::new(),
                exit_status: -1,
                spawn_error: String::new(),
                start_usec: 1_700_000_000_500_000,
                stop_usec: 0,
                restarts: 2,
                status_text: String::new(),
                control_group: String::new(),
            },
            starts: 3,
            uptime_secs: 12.5,
            memory_bytes: leaf.then_some(4096),
            cpu_usec: leaf.then_some(1_250_000),
        }
    }

    #[test]
    fn families_and_labels() {
        let m = Metrics {
            processes: vec![
                proc("web", "web", ProcessState::Running, true),
                proc("a\"b\\c\nd", "g", ProcessState::Fatal, false),
            ],
            daemon: DaemonMetrics {
                resident_bytes: Some(3_000_000),
                open_fds: Some(9),
                max_fds: None,
            },
        };
        let text = render(&m);
        for line in [
            "# TYPE pidvisor_process_state gauge",
            "pidvisor_process_state{name=\"web\",group=\"web\"} 20",
            "pidvisor_process_state{name=\"a\\\"b\\\\c\\nd\",group=\"g\"} 200",
            "pidvisor_process_up{name=\"web\",group=\"web\"} 1",
            "pidvisor_process_up{name=\"a\\\"b\\\\c\\nd\",group=\"g\"} 0",
            "# TYPE pidvisor_process_starts_total counter",
            "pidvisor_process_starts_total{name=\"web\",group=\"web\"} 3",
            "pidvisor_process_exit_status{name=\"web\",group=\"web\"} -1",
            "pidvisor_process_uptime_seconds{name=\"web\",group=\"web\"} 12.5",
            "pidvisor_process_start_time_seconds{name=\"web\",group=\"web\"} 1700000000.5",
            "pidvisor_process_memory_bytes{name=\"web\",group=\"web\"} 4096",
            "pidvisor_process_cpu_seconds_total{name=\"web\",group=\"web\"} 1.25",
            "process_resident_memory_bytes 3000000",
            "process_open_fds 9",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
        // Only the process in a leaf has leaf figures; no empty family.
        assert_eq!(text.matches("pidvisor_process_memory_bytes{").count(), 1);
        assert!(!text.contains("process_max_fds"));
    }
}
