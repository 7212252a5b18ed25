//! The page's actions as steps of typed requests, and the message each
//! ends with: Supervisor's texts (`Process web started`, `ERROR: Process
//! web: spawn error`, `All stopped at Mon Dec  7 22:18:27 2026`), so a
//! script reading the redirect's `message` sees what it saw before.
//!
//! Pure: [`begin`] and [`next`] say what to ask next or how the action
//! ended; the face carries the requests out. A start waits for its outcome
//! as Supervisor's page does (`wait: true`). A restart is a stop (a process
//! that is not running is fine) then a start; unlike Supervisor's page,
//! which says "restarted" whatever happened, a start that fails shows its
//! error.

use crate::api::{Fault, FaultCode, Reply, Request, Response};

use super::form;

/// One of the page's actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Refresh,
    StopAll,
    RestartAll,
    Start(String),
    Stop(String),
    Restart(String),
    ClearLog(String),
}

impl Action {
    /// The action named by the `action` and `processname` fields; `None`
    /// for an unknown one, or a process action without a name.
    pub fn parse(action: &str, name: Option<&str>) -> Option<Action> {
        Some(match (action, name) {
            ("refresh", _) => Action::Refresh,
            ("stopall", _) => Action::StopAll,
            ("restartall", _) => Action::RestartAll,
            ("start", Some(n)) => Action::Start(n.into()),
            ("stop", Some(n)) => Action::Stop(n.into()),
            ("restart", Some(n)) => Action::Restart(n.into()),
            ("clearlog", Some(n)) => Action::ClearLog(n.into()),
            _ => return None,
        })
    }

    /// The process a process action is for.
    pub fn process(&self) -> Option<&str> {
        match self {
            Action::Start(n) | Action::Stop(n) | Action::Restart(n) | Action::ClearLog(n) => {
                Some(n)
            }
            Action::Refresh | Action::StopAll | Action::RestartAll => None,
        }
    }
}

/// What an action waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Whether the process exists, then the action.
    Lookup(Action),
    Start(String),
    Stop(String),
    /// The stop of a restart, then its start.
    RestartStop(String),
    RestartStart(String),
    Clear(String),
    StopAll,
    /// Stop everything, then start everything.
    RestartAllStop,
    RestartAllStart,
}

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub message: String,
    /// False for an error (shown as one).
    pub ok: bool,
}

/// The next thing to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    Ask(Step, Request),
    Done(Outcome),
}

fn done(message: String, ok: bool) -> Next {
    Next::Done(Outcome { message, ok })
}

fn unexpected(f: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", f.code.code(), f.text)
}

/// Supervisor's words for a start that failed.
fn start_error(name: &str, f: &Fault) -> String {
    let what = match f.code {
        FaultCode::NoFile => "no such file".to_string(),
        FaultCode::NotExecutable => "file not executable".to_string(),
        FaultCode::AlreadyStarted => "already started".to_string(),
        FaultCode::SpawnError => "spawn error".to_string(),
        FaultCode::AbnormalTermination => "abnormal termination".to_string(),
        _ => unexpected(f),
    };
    format!("ERROR: Process {name}: {what}")
}

/// Start an action; `now` is the local time as `time.ctime()` prints it.
pub fn begin(action: Action, now: &str) -> Next {
    match action {
        Action::Refresh => done(format!("Page refreshed at {now}"), true),
        Action::StopAll => Next::Ask(Step::StopAll, Request::StopAllProcesses { wait: true }),
        Action::RestartAll => Next::Ask(
            Step::RestartAllStop,
            Request::StopAllProcesses { wait: true },
        ),
        process => {
            let name = process.process().unwrap_or_default();
            match form::process_key(name) {
                None => done(format!("No such process named {name}"), false),
                Some(key) => Next::Ask(
                    Step::Lookup(process.clone()),
                    Request::Snapshots { key: Some(key) },
                ),
            }
        }
    }
}

/// The process exists: ask for the action itself.
fn act(action: Action) -> Next {
    match action {
        Action::Start(name) => {
            let req = Request::StartProcess {
                name: name.clone(),
                wait: true,
            };
            Next::Ask(Step::Start(name), req)
        }
        Action::Stop(name) => {
            let req = Request::StopProcess {
                name: name.clone(),
                wait: true,
            };
            Next::Ask(Step::Stop(name), req)
        }
        Action::Restart(name) => {
            let req = Request::StopProcess {
                name: name.clone(),
                wait: true,
            };
            Next::Ask(Step::RestartStop(name), req)
        }
        Action::ClearLog(name) => {
            let req = Request::ClearProcessLogs { name: name.clone() };
            Next::Ask(Step::Clear(name), req)
        }
        // Not process actions: `begin` handles them.
        other => begin(other, ""),
    }
}

/// The reply to `step` came: what next.
pub fn next(step: Step, reply: &Reply, now: &str) -> Next {
    match (step, reply) {
        (Step::Lookup(action), Ok(Response::Snapshots(found))) if !found.is_empty() => act(action),
        (Step::Lookup(_), Err(f)) => done(unexpected(f), false),
        (Step::Lookup(action), _) => {
            let name = action.process().unwrap_or_default();
            done(format!("No such process named {name}"), false)
        }
        (Step::Start(n), Ok(_)) => done(format!("Process {n} started"), true),
        (Step::Start(n), Err(f)) => done(start_error(&n, f), false),
        (Step::Stop(n), Ok(_)) => done(format!("Process {n} stopped"), true),
        (Step::Stop(_), Err(f)) => done(unexpected(f), false),
        // Whatever the stop said (NOT_RUNNING is fine), start it.
        (Step::RestartStop(n), _) => {
            let req = Request::StartProcess {
                name: n.clone(),
                wait: true,
            };
            Next::Ask(Step::RestartStart(n), req)
        }
        (Step::RestartStart(n), Ok(_)) => done(format!("Process {n} restarted"), true),
        (Step::RestartStart(n), Err(f)) => done(start_error(&n, f), false),
        (Step::Clear(n), Ok(_)) => done(format!("Log for {n} cleared"), true),
        (Step::Clear(_), Err(f)) => done(unexpected(f), false),
        (Step::StopAll, _) => done(format!("All stopped at {now}"), true),
        (Step::RestartAllStop, _) => Next::Ask(
            Step::RestartAllStart,
            Request::StartAllProcesses { wait: true },
        ),
        (Step::RestartAllStart, _) => done(format!("All restarted at {now}"), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ProcessSnapshot, ProcessState};

    const NOW: &str = "Mon Dec  7 22:18:27 2026";

    fn snap() -> Reply {
        Ok(Response::Snapshots(vec![ProcessSnapshot {
            name: "web".into(),
            group: "web".into(),
            namespec: "web".into(),
            state: ProcessState::Stopped,
            pid: 0,
            description: "Not started".into(),
            exit_status: 0,
            spawn_error: String::new(),
            start_usec: 0,
            stop_usec: 0,
            restarts: 0,
            status_text: String::new(),
            control_group: String::new(),
        }]))
    }

    fn fault(code: FaultCode, detail: &str) -> Reply {
        Err(Fault::new(code, detail))
    }

    /// Run an action against scripted replies; the requests asked and the
    /// outcome.
    fn run(action: Action, replies: &[Reply]) -> (Vec<Request>, Outcome) {
        let mut asked = vec![];
        let mut n = begin(action, NOW);
        let mut replies = replies.iter();
        loop {
            match n {
                Next::Done(o) => return (asked, o),
                Next::Ask(step, req) => {
                    asked.push(req);
                    n = next(step, replies.next().expect("a reply"), NOW);
                }
            }
        }
    }

    #[test]
    fn parse_like_supervisor() {
        assert_eq!(Action::parse("refresh", None), Some(Action::Refresh));
        assert_eq!(
            Action::parse("stop", Some("g:a")),
            Some(Action::Stop("g:a".into()))
        );
        assert_eq!(Action::parse("stop", None), None);
        assert_eq!(Action::parse("bogus", Some("x")), None);
    }

    #[test]
    fn start_messages() {
        let ok = Ok(Response::Bool(true));
        let (asked, o) = run(Action::Start("web".into()), &[snap(), ok]);
        assert_eq!(o.message, "Process web started");
        assert!(o.ok);
        assert_eq!(
            asked,
            [
                Request::Snapshots {
                    key: Some("web:web".into())
                },
                Request::StartProcess {
                    name: "web".into(),
                    wait: true
                }
            ]
        );
        for (code, text) in [
            (FaultCode::NoFile, "no such file"),
            (FaultCode::NotExecutable, "file not executable"),
            (FaultCode::AlreadyStarted, "already started"),
            (FaultCode::SpawnError, "spawn error"),
            (FaultCode::AbnormalTermination, "abnormal termination"),
            (FaultCode::Failed, "unexpected rpc fault [30] FAILED: x"),
        ] {
            let (_, o) = run(Action::Start("web".into()), &[snap(), fault(code, "x")]);
            assert_eq!(o.message, format!("ERROR: Process web: {text}"));
            assert!(!o.ok);
        }
    }

    #[test]
    fn unknown_names() {
        let none = Ok(Response::Snapshots(vec![]));
        let (_, o) = run(Action::Stop("nope".into()), &[none]);
        assert_eq!(o.message, "No such process named nope");
        let (asked, o) = run(Action::Stop("grp:*".into()), &[]);
        assert!(asked.is_empty());
        assert_eq!(o.message, "No such process named grp:*");
    }

    #[test]
    fn stop_restart_clear() {
        let ok = || Ok(Response::Bool(true));
        let (_, o) = run(Action::Stop("web".into()), &[snap(), ok()]);
        assert_eq!(o.message, "Process web stopped");
        let (_, o) = run(
            Action::Stop("web".into()),
            &[snap(), fault(FaultCode::NotRunning, "web")],
        );
        assert_eq!(o.message, "unexpected rpc fault [70] NOT_RUNNING: web");
        let not_running = fault(FaultCode::NotRunning, "web");
        let (asked, o) = run(Action::Restart("web".into()), &[snap(), not_running, ok()]);
        assert_eq!(o.message, "Process web restarted");
        assert_eq!(asked.len(), 3);
        let (_, o) = run(
            Action::Restart("web".into()),
            &[snap(), ok(), fault(FaultCode::SpawnError, "web")],
        );
        assert_eq!(o.message, "ERROR: Process web: spawn error");
        let (_, o) = run(Action::ClearLog("web".into()), &[snap(), ok()]);
        assert_eq!(o.message, "Log for web cleared");
    }

    #[test]
    fn everything() {
        let results = || Ok(Response::Results(vec![]));
        let (_, o) = run(Action::Refresh, &[]);
        assert_eq!(o.message, format!("Page refreshed at {NOW}"));
        let (_, o) = run(Action::StopAll, &[results()]);
        assert_eq!(o.message, format!("All stopped at {NOW}"));
        let (asked, o) = run(Action::RestartAll, &[results(), results()]);
        assert_eq!(o.message, format!("All restarted at {NOW}"));
        assert_eq!(
            asked,
            [
                Request::StopAllProcesses { wait: true },
                Request::StartAllProcesses { wait: true }
            ]
        );
    }
}
