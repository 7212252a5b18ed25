//! The Python behaviour pidvisor reproduces, one port per file.
//!
//! pidvisor promises to be a drop-in successor to Supervisor, and Supervisor
//! is a Python program: much of what its users see is not Supervisor's own
//! code but the Python library underneath it. Every port here exists
//! because its output is observable, by a person reading a message or by a
//! script that was written against Supervisor:
//!
//! * [`configparser`] decides what a config file *means*: which lines
//!   continue a value, where an inline comment starts, which key wins when
//!   one is repeated, what `[DEFAULT]` lends. A different INI reader would
//!   run a different program from the same file.
//! * [`glob`] decides which files `[include] files=` reads. Python skips
//!   dot files and has no invalid patterns; the shell and the `glob` crate
//!   differ on both.
//! * [`percent`] is `format % mapping`, applied to every `%(name)s` in a
//!   config value. Which names exist, how `%(process_num)02d` pads and the
//!   wording of a bad directive all reach the user (the last one inside
//!   Supervisor's "badly formatted" message). It is also where a hostile
//!   width is bounded, so a config cannot exhaust the daemon's memory.
//! * [`shlex`] splits `command=` into argv at spawn (POSIX mode) and reads
//!   `environment=` (non-POSIX mode); a backslash or a quote means what it
//!   means to Python, and its error texts are part of Supervisor's spawn
//!   errors.
//! * [`py_repr`] and [`py_bytes_repr`] are `repr()`: Supervisor writes
//!   `%r` into its log lines and faults (`spawned: 'web' with pid 7`), and
//!   log watchers match them character for character.
//!
//! Three more ports live here too, with the control client: `getopt`
//! (supervisorctl's and supervisord's option parsing, whose errors and
//! abbreviations users type against), `urlsplit` (how `serverurl` is read)
//! and `str()` of an XML-RPC value (what supervisorctl prints for a
//! result it has no format for).
//!
//! The rule for every port: follow the Python source line by line where the
//! result can be seen, say in the file's header where and why we deviate
//! (never silently), and keep one table-driven test whose expectations are
//! what Python itself prints. Nothing here does I/O beyond what the Python
//! function does (`glob` lists directories); nothing here knows about
//! Supervisor: callers (`config`, `spawn`, `ctl`, `control`) add Supervisor's
//! wording around these results.

pub mod configparser;
pub mod getopt;
pub mod glob;
pub mod percent;
pub mod pystr;
mod repr;
pub mod shlex;
pub mod urlsplit;

pub use repr::{py_bytes_repr, py_repr};
