//! `help`: supervisorctl's help texts, byte for byte (snapshotted from
//! 4.3.0), then pidvisor's additions after them ([`STATUS_ADDITIONS`],
//! [`USAGE_ADDITIONS`]), so supervisorctl's lines stay first and unchanged;
//! and the command that prints them. Called through [`super::commands`]'s
//! command table; [`USAGE`] by `pidvisorctl -h`.

use super::commands::{CmdResult, Controller};

/// `help`: the list of topics; `help TOPIC`: its text.
pub(super) fn help(ctl: &mut Controller, arg: &str) -> CmdResult {
    let arg = arg.trim();
    if arg.is_empty() {
        ctl.output(TOPICS.strip_suffix('\n').unwrap_or(TOPICS));
    } else if let Some(text) = topic(arg) {
        ctl.output(text);
    } else {
        ctl.output(&format!("*** No help on {arg}"));
    }
    Ok(())
}

/// `help` without a topic: Python `cmd.Cmd.print_topics` output.
pub const TOPICS: &str = "\n\
default commands (type help <topic>):\n\
=====================================\n\
add    exit      open  reload  restart   start   tail   \n\
avail  fg        pid   remove  shutdown  status  update \n\
clear  maintail  quit  reread  signal    stop    version\n\
\n";

/// `help <topic>` text, without the final newline of the last line.
pub fn topic(name: &str) -> Option<&'static str> {
    Some(match name {
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "avail" => "avail\t\t\tDisplay all configured processes",
        "clear" => {
            "clear <name>\t\tClear a process' log files.\n\
             clear <name> <name>\tClear multiple process' log files\n\
             clear all\t\tClear all process' log files"
        }
        "exit" => "exit\tExit the supervisor shell.",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        "help" => "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>",
        "maintail" => {
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\n\
             maintail -100\tlast 100 *bytes* of supervisord main log file\n\
             maintail\tlast 1600 *bytes* of supervisor main log file\n"
        }
        "open" => {
            "open <url>\tConnect to a remote supervisord process.\n\
             \t\t(for UNIX domain socket, use unix:///socket/path)"
        }
        "pid" => {
            "pid\t\t\tGet the PID of supervisord.\n\
             pid <name>\t\tGet the PID of a single child process by name.\n\
             pid all\t\t\tGet the PID of every child process, one per line."
        }
        "quit" => "quit\tExit the supervisor shell.",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        "restart" => {
            "restart <name>\t\tRestart a process\n\
             restart <gname>:*\tRestart all processes in a group\n\
             restart <name> <name>\tRestart multiple processes or groups\n\
             restart all\t\tRestart all processes\n\
             Note: restart does not reread config files. For that, see reread and update."
        }
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "signal" => {
            "signal <signal name> <name>\t\tSignal a process\n\
             signal <signal name> <gname>:*\t\tSignal all processes in a group\n\
             signal <signal name> <name> <name>\tSignal multiple processes or groups\n\
             signal <signal name> all\t\tSignal all processes"
        }
        "start" => {
            "start <name>\t\tStart a process\n\
             start <gname>:*\t\tStart all processes in a group\n\
             start <name> <name>\tStart multiple processes or groups\n\
             start all\t\tStart all processes"
        }
        "status" => {
            "status <name>\t\tGet status for a single process\n\
             status <gname>:*\tGet status for all processes in a group\n\
             status <name> <name>\tGet status for multiple named processes\n\
             status\t\t\tGet all process status info\n\
             status --json [...]\tThe same as JSON (pidvisor)\n\
             status -v [...]\t\tAlso every pid of each process (pidvisor)"
        }
        "stop" => {
            "stop <name>\t\tStop a process\n\
             stop <gname>:*\t\tStop all processes in a group\n\
             stop <name> <name>\tStop multiple processes or groups\n\
             stop all\t\tStop all processes"
        }
        "tail" => {
            "tail [-f] <name> [stdout|stderr] (default stdout)\n\
             Ex:\n\
             tail -f <name>\t\tContinuous tail of named process stdout\n\
             \t\t\tCtrl-C to exit.\n\
             tail -100 <name>\tlast 100 *bytes* of process stdout\n\
             tail <name> stderr\tlast 1600 *bytes* of process stderr"
        }
        "update" => {
            "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\n\
             update all\t\tReload config and add/remove as necessary, and will restart affected programs\n\
             update <gname> [...]\tUpdate specific groups"
        }
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        _ => return None,
    })
}

/// The lines `help status` has after supervisorctl's.
pub const STATUS_ADDITIONS: &str = "\nstatus --json [...]\tThe same as JSON (pidvisor)\n\
status -v [...]\t\tAlso every pid of each process (pidvisor)";

/// `pidvisorctl -h`: supervisorctl's usage, then pidvisor's options.
pub fn usage(argv0: &str) -> String {
    format!("{}{USAGE_ADDITIONS}", USAGE.replace("%s", argv0))
}

/// What `pidvisorctl -h` prints after supervisorctl's text.
pub const USAGE_ADDITIONS: &str = "pidvisor additions:
--session -- talk to the per-user daemon (pidvisord --session): config
             searched at $XDG_CONFIG_HOME/pidvisor/pidvisord.conf, server
             unix://$XDG_RUNTIME_DIR/pidvisor/pidvisord.sock by default

";

/// supervisorctl's module docstring, `%s` standing for argv[0].
pub const USAGE: &str =
    "supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default \"http://localhost:9001\").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.

";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn additions_follow_supervisorctls_text() {
        assert!(topic("status").unwrap().ends_with(STATUS_ADDITIONS));
        let u = usage("pidvisorctl");
        assert!(u.starts_with("supervisorctl -- control applications"));
        assert!(u.contains("Usage: pidvisorctl [options]"));
        assert!(u.ends_with(USAGE_ADDITIONS) && u.contains("\n--session -- "));
    }
}
