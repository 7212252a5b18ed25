//! The main log as configured: rotated at `logfile_maxbytes` with
//! `logfile_backups` kept, and written to `/dev/stdout` (a pipe here) along
//! with a program's output, never failing with "Illegal seek" (Supervisor
//! #1078).

use std::fs;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::fixture::*;

/// A program that writes 20 bursts of 100 numbered lines (some 23 KiB)
/// once `go` exists.
const CHATTY: &str = "[program:chatty]\ncommand=sh -c 'while [ ! -e %(here)s/go ]; do sleep 0.01; done; \
b=0; while [ $b -lt 20 ]; do b=$((b+1)); i=0; while [ $i -lt 100 ]; do echo line-$b-$i; i=$((i+1)); done; \
sleep 0.05; done; exec sleep 1000'\nstartsecs=0\nstdout_logfile=NONE\n";

/// `logfile_maxbytes=2KB`, `logfile_backups=2`: the main log (fed by the
/// program's output at `loglevel=debug`) rotates at 2 KiB, keeps two
/// backups, and loses nothing of what the backups still hold.
#[test]
fn main_log_rotates_at_logfile_maxbytes() {
    let d = Daemon::start(&format!(
        "[supervisord]\nlogfile={{dir}}/main.log\nlogfile_maxbytes=2KB\nlogfile_backups=2\n\
         loglevel=debug\npidfile={{dir}}/p.pid\nchildlogdir={{dir}}\n\n\
         [unix_http_server]\nfile={{dir}}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{{dir}}/ctl.sock\n\n{CHATTY}"
    ));
    fs::write(d.path("go"), "").unwrap();
    let all = wait_for("the last line through the main log", TIMEOUT, || {
        let all: String = ["main.log.2", "main.log.1", "main.log"]
            .iter()
            .map(|f| fs::read_to_string(d.path(f)).unwrap_or_default())
            .collect();
        all.contains("line-20-99\n").then_some(all)
    });
    // Two backups, each rotated once full; no third.
    for backup in ["main.log.1", "main.log.2"] {
        let len = fs::metadata(d.path(backup)).expect(backup).len();
        assert!(len >= 2048, "{backup} rotated at {len} bytes");
    }
    assert!(
        !d.path("main.log.3").exists(),
        "logfile_backups=2 kept a third"
    );
    // Three files of about 2 KiB cannot hold 23 KiB: the oldest output
    // went with the backups beyond the second. What is left is whole and
    // in order, up to the last line.
    assert!(!all.contains("line-1-0\n"), "nothing was dropped");
    let numbers: Vec<(u32, u32)> = all
        .lines()
        .filter_map(|l| {
            let (b, i) = l.strip_prefix("line-")?.split_once('-')?;
            Some((b.parse().ok()?, i.parse().ok()?))
        })
        .collect();
    assert!(
        numbers
            .windows(2)
            .all(|w| w[1] == (w[0].0, w[0].1 + 1) || w[1] == (w[0].0 + 1, 0)),
        "lines missing or out of order: {numbers:?}"
    );
    assert_eq!(numbers.last(), Some(&(20, 99)));
}

/// `logfile=/dev/stdout` and `stdout_logfile=/dev/stdout` with the
/// daemon's stdout a pipe (which cannot seek), and the default
/// `logfile_maxbytes` (Supervisor needs 0 there, else "Illegal seek"):
/// both the main log and the program's output come through.
#[test]
fn logging_to_dev_stdout_on_a_pipe() {
    let mut d = Daemon::prepare(
        "[supervisord]\nlogfile=/dev/stdout\npidfile={dir}/p.pid\nchildlogdir={dir}\n\n\
         [unix_http_server]\nfile={dir}/ctl.sock\n\n\
         [supervisorctl]\nserverurl=unix://{dir}/ctl.sock\n\n\
         [program:echo]\ncommand=sh -c 'i=0; while :; do i=$((i+1)); echo echo-line-$i; sleep 0.05; done'\n\
         startsecs=0\nstdout_logfile=/dev/stdout\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_pidvisord"))
        .arg("-n")
        .arg("-c")
        .arg(&d.conf)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pidvisord");
    // stdout and stderr apart: with -n the main log is also echoed to
    // stderr, so only stdout shows that `logfile=/dev/stdout` works.
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    for (pipe, seen) in [
        (
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            out.clone(),
        ),
        (Box::new(child.stderr.take().unwrap()), err.clone()),
    ] {
        readers.push(std::thread::spawn(move || {
            let mut pipe = pipe;
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }));
    }
    d.pid = child.id();
    d.child = Some(child);
    let both = || format!("{}{}", out.lock().unwrap(), err.lock().unwrap());
    wait_for(
        "the main log and 20 program lines on stdout",
        TIMEOUT,
        || {
            let t = out.lock().unwrap().clone();
            (t.contains(&format!("supervisord started with pid {}", d.pid))
                && t.contains("success: echo entered RUNNING state")
                && t.contains("echo-line-20\n"))
            .then_some(())
        },
    );
    let text = both();
    assert!(!text.to_lowercase().contains("illegal seek"), "{text}");
    assert!(!text.contains("could not write"), "{text}");
    assert!(!text.contains("ERRO"), "{text}");
    assert_eq!(d.stop(), Some(0));
    for r in readers {
        r.join().unwrap();
    }
    let text = out.lock().unwrap().clone();
    assert!(
        text.contains("received SIGTERM indicating exit request"),
        "{text}"
    );
}
