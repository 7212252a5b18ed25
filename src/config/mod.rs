//! Configuration: supervisord-format INI -> raw sections that remember file
//! and line -> validated, typed specs. The only config code that reads files.
//!
//! Stage one is Python's configparser ([`crate::py::configparser`]): the
//! main file and its `[include]` files become one namespace of raw values,
//! each with its file and line. Stage two ([`load`]) reads each section
//! through its option table: one row per option with its key, default,
//! expansion names, parser and where the value is stored ([`table`];
//! the tables live in `supervisord.rs`, `program.rs`, `servers.rs` and
//! `groups.rs`). Values are expanded with Supervisor's `%(name)s`
//! ([`expand`]) and parsed by Supervisor's data types ([`values`]); rules
//! that tie options together run after the rows. Every problem is collected
//! into [`ConfigErrors`] instead of stopping at the first. The tables also
//! give the option lists ([`known_options`]), the defaults
//! ([`ProgramSpec::with_defaults`]) and the `getAllConfigInfo` rendering
//! ([`info_fields`]).
//!
//! What it may call: `crate::py` (the Python behaviour it reproduces) and
//! `crate::sys::user` (through [`Users`], which tests replace). What calls
//! it: the daemon (start, reload, reread), the ctl (`[supervisorctl]`), and
//! the core, which consumes the typed specs.

mod depends;
pub mod env;
pub mod error;
pub mod expand;
mod groups;
pub mod info;
mod load;
pub mod our_values;
mod program;
mod servers;
pub mod signal;
mod supervisord;
mod table;
pub mod types;
pub mod users;
pub mod values;

pub use env::{find_config, search_paths, set_process_defaults, Defaults, Env};
pub use error::{ConfigError, ConfigErrors};
pub use info::{extension_fields, info_fields, ConfigValue, InfoContext};
pub use load::{known_options, load, load_ctl, load_str, option_defaults};
pub use program::{MAX_PROCESSES, MAX_WAIT_SECS};
pub use table::OptionDefault;
pub use types::*;
pub use users::{UserTable, Users};
pub use values::{
    parse_autorestart, parse_bool, parse_bytes, parse_environment, parse_exitcodes, parse_int,
    parse_loglevel, parse_name, parse_octal,
};
