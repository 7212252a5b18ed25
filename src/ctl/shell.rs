//! The interactive shell (spec §5.6): `status` first, then one command a
//! line until `quit`/`exit`/EOF.
//!
//! On a terminal (stdin and stdout both ttys, as Python's `input()` needs
//! to use readline) lines are read with `rustyline`: line editing, the
//! history file of `-r`/`history_file` (plain lines, as readline's
//! `write_history_file` leaves them, so one file serves supervisorctl and
//! us), and tab completion exactly as supervisorctl's `complete` does.
//! Otherwise lines are read plainly from stdin, which is what the
//! comparison tests against the real supervisorctl drive.
//!
//! rustyline reads the terminal 1 KiB at a time and, unless built with its
//! `buffer-redux` feature (as we build it), drops what it read past the line
//! it returns (rustyline issue #690), so of lines typed ahead or pasted in
//! one go only the first would run; `shell_on_a_tty_runs_every_pasted_line`
//! checks it.

use super::client::Client;
use super::commands::{Controller, Flow};
use crate::control::xmlrpc::Value;
use rustyline::completion::{Completer, Pair};
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History, SearchDirection};
use rustyline::validate::Validator;
use rustyline::{CompletionType, Editor, Helper};
use std::cell::RefCell;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;

/// supervisorctl's `vocab`: `help`, then the plugin's `do_*` names in
/// `dir()` order (its second `help` is dropped: readline shows it once).
pub const VOCAB: [&str; 22] = [
    "help", "add", "avail", "clear", "exit", "fg", "maintail", "open", "pid", "quit", "reload",
    "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
    "update", "version",
];

/// Python readline's default completer delimiters less `:`, `*` and `-`,
/// which supervisorctl removes so `group:name`, `group:*` and dashed names
/// complete as one word.
const DELIMS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

/// supervisorctl's completer as a pure function. `line` is the whole line
/// (readline's line buffer), `pos` the cursor; `names` yields the
/// `(group, name)` of every process and is called only when needed.
/// Returns where the completed word starts and the candidates, each with
/// the trailing space supervisorctl adds.
pub fn complete(
    line: &str,
    pos: usize,
    names: &mut dyn FnMut() -> Vec<(String, String)>,
) -> (usize, Vec<String>) {
    let pos = pos.min(line.len());
    let start = line[..pos]
        .rfind(|c| DELIMS.contains(c))
        .map_or(0, |i| i + 1);
    let text = &line[start..pos];
    let words: Vec<&str> = line.split_whitespace().collect();
    let actions = || -> Vec<String> {
        VOCAB
            .iter()
            .filter(|a| a.starts_with(text))
            .map(|a| format!("{a} "))
            .collect()
    };
    let matches = match words.first() {
        None => actions(),
        Some(_) if words.len() == 1 && !line.ends_with(' ') => actions(),
        // supervisorctl tests `action in ('help')`, a substring test on
        // the string "help": `he`, `elp`... also complete action names.
        Some(a) if "help".contains(a) => actions(),
        Some(&("add" | "remove" | "update")) => {
            let mut groups: Vec<String> = Vec::new();
            for (g, _) in names() {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
            with_prefix(groups, text)
        }
        Some(
            &("clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop" | "tail"),
        ) => {
            let mut procs: Vec<String> = Vec::new();
            for (g, n) in names() {
                if text.contains(':') || g != n {
                    procs.push(format!("{g}:{n}"));
                    let star = format!("{g}:*");
                    if !procs.contains(&star) {
                        procs.push(star);
                    }
                } else {
                    procs.push(n);
                }
            }
            with_prefix(procs, text)
        }
        Some(_) => Vec::new(),
    };
    (start, matches)
}

fn with_prefix(words: Vec<String>, text: &str) -> Vec<String> {
    words
        .into_iter()
        .filter(|w| w.starts_with(text))
        .map(|w| w + " ")
        .collect()
}

/// Run the shell; returns when the user quits.
pub fn run(ctl: &mut Controller, prompt: &str, history_file: Option<&Path>) {
    if io::stdin().is_terminal() && io::stdout().is_terminal() {
        if let Ok(editor) = new_editor() {
            return on_tty(ctl, editor, prompt, history_file);
        }
    }
    piped(ctl, prompt, history_file)
}

/// Lines from a pipe or file: prompt, read, run.
fn piped(ctl: &mut Controller, prompt: &str, history_file: Option<&Path>) {
    let mut history = load_history(history_file);
    ctl.onecmd("status");
    let stdin = io::stdin();
    loop {
        if ctl.broken_pipe {
            break;
        }
        {
            let mut o = io::stdout();
            let _ = o.write_all(prompt.as_bytes()).and_then(|_| o.flush());
        }
        let mut line = String::new();
        let n = stdin.lock().read_line(&mut line).unwrap_or(0);
        let line = if n == 0 {
            "EOF".to_string()
        } else {
            line.trim_end_matches(['\n', '\r']).to_string()
        };
        if n > 0 && !line.trim().is_empty() {
            history.push(line.clone());
        }
        if ctl.onecmd(&line) == Flow::Quit {
            break;
        }
    }
    save_history(history_file, history.iter());
}

type Shell = Editor<Names, DefaultHistory>;

fn new_editor() -> rustyline::Result<Shell> {
    // readline keeps every line (no size limit unless set; supervisorctl
    // sets none) and skips only a repeat of the previous one.
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(true)
        .history_ignore_dups(true)?
        .history_ignore_space(false)
        .max_history_size(100_000)?
        .build();
    Editor::with_config(config)
}

fn on_tty(ctl: &mut Controller, mut ed: Shell, prompt: &str, history_file: Option<&Path>) {
    for line in load_history(history_file) {
        let _ = ed.add_history_entry(line);
    }
    ctl.onecmd("status");
    loop {
        if ctl.broken_pipe {
            break;
        }
        // A fresh client and cache a line: names are fetched at most once
        // per line (supervisorctl caches them until the next command), and
        // credentials typed after a 401 carry over.
        let c = &ctl.client;
        ed.set_helper(Some(Names {
            client: RefCell::new(Client::new(
                c.url.clone(),
                c.username.clone(),
                c.password.clone(),
            )),
            cache: RefCell::new(None),
        }));
        let line = match ed.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                // supervisorctl catches KeyboardInterrupt: a newline, done.
                ctl.output("");
                break;
            }
            Err(_) => "EOF".to_string(),
        };
        if ctl.onecmd(&line) == Flow::Quit {
            break;
        }
    }
    let h = ed.history();
    let lines: Vec<String> = (0..h.len())
        .filter_map(|i| h.get(i, SearchDirection::Forward).ok().flatten())
        .map(|r| r.entry.into_owned())
        .collect();
    save_history(history_file, lines.iter());
}

fn load_history(path: Option<&Path>) -> Vec<String> {
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Errors are ignored, as supervisorctl ignores `IOError` on save.
fn save_history<'a>(path: Option<&Path>, lines: impl Iterator<Item = &'a String>) {
    if let Some(p) = path {
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        let _ = std::fs::write(p, text);
    }
}

/// The rustyline helper: completion from the daemon's process list.
struct Names {
    client: RefCell<Client>,
    cache: RefCell<Option<Vec<(String, String)>>>,
}

impl Names {
    fn fetch(&self) -> Vec<(String, String)> {
        if let Some(n) = &*self.cache.borrow() {
            return n.clone();
        }
        // A failed call completes nothing, as readline swallows the
        // completer's exception in supervisorctl.
        let infos = self
            .client
            .borrow_mut()
            .call("supervisor.getAllProcessInfo", &[])
            .unwrap_or(Value::Array(Vec::new()));
        let names: Vec<(String, String)> = infos
            .as_array()
            .unwrap_or(&[])
            .iter()
            .map(|i| (i.str_field("group").into(), i.str_field("name").into()))
            .collect();
        *self.cache.borrow_mut() = Some(names.clone());
        names
    }
}

impl Completer for Names {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, words) = complete(line, pos, &mut || self.fetch());
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.trim_end().to_string(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Names {
    type Hint = String;
}
impl Highlighter for Names {}
impl Validator for Names {}
impl Helper for Names {}

#[cfg(test)]
mod tests {
    use super::*;

    fn procs() -> Vec<(String, String)> {
        [
            ("sleeper", "sleeper"),
            ("grp", "ga"),
            ("grp", "gb"),
            ("web-1", "web-1"),
        ]
        .iter()
        .map(|(g, n)| (g.to_string(), n.to_string()))
        .collect()
    }

    /// Complete at the end of `line`, counting name fetches.
    fn at_end(line: &str) -> (usize, Vec<String>, usize) {
        let mut calls = 0;
        let (start, c) = complete(line, line.len(), &mut || {
            calls += 1;
            procs()
        });
        (start, c, calls)
    }

    fn words(c: &[&str]) -> Vec<String> {
        c.iter().map(|w| format!("{w} ")).collect()
    }

    #[test]
    fn action_names() {
        assert_eq!(at_end(""), (0, words(&VOCAB), 0));
        assert_eq!(at_end("st"), (0, words(&["start", "status", "stop"]), 0));
        assert_eq!(
            at_end("  re"),
            (2, words(&["reload", "remove", "reread", "restart"]), 0)
        );
        assert_eq!(at_end("xyz"), (0, vec![], 0));
        // After `help`, and after anything `in 'help'`, action names again.
        assert_eq!(
            at_end("help s"),
            (
                5,
                words(&["shutdown", "signal", "start", "status", "stop"]),
                0
            )
        );
        assert_eq!(at_end("he ver"), (3, words(&["version"]), 0));
    }

    #[test]
    fn process_names() {
        let all = words(&["sleeper", "grp:ga", "grp:*", "grp:gb", "web-1"]);
        assert_eq!(at_end("start "), (6, all, 1));
        assert_eq!(
            at_end("stop g"),
            (5, words(&["grp:ga", "grp:*", "grp:gb"]), 1)
        );
        // A `:` in the word lists every process as group:name.
        assert_eq!(
            at_end("status sleeper:"),
            (7, words(&["sleeper:sleeper", "sleeper:*"]), 1)
        );
        assert_eq!(at_end("tail grp:*"), (5, words(&["grp:*"]), 1));
        // `-` is not a delimiter, so dashed names complete whole.
        assert_eq!(at_end("signal HUP web-"), (11, words(&["web-1"]), 1));
        assert_eq!(at_end("pid nothing"), (4, vec![], 1));
    }

    #[test]
    fn group_names_and_others() {
        assert_eq!(at_end("add "), (4, words(&["sleeper", "grp", "web-1"]), 1));
        assert_eq!(at_end("remove g"), (7, words(&["grp"]), 1));
        assert_eq!(at_end("update w"), (7, words(&["web-1"]), 1));
        // Commands without name arguments complete nothing.
        assert_eq!(at_end("avail "), (6, vec![], 0));
        assert_eq!(at_end("version x"), (8, vec![], 0));
    }

    #[test]
    fn cursor_inside_the_line() {
        // The word is the text before the cursor; the action comes from
        // the whole line, as readline's line buffer is the whole line.
        let line = "start sl grp:ga";
        let (start, c) = complete(line, 8, &mut procs);
        assert_eq!((start, c), (6, words(&["sleeper"])));
        let (start, c) = complete("sta status", 3, &mut procs);
        assert_eq!((start, c), (0, vec![]));
    }
}
