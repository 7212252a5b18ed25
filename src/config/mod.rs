//! Configuration: supervisord-format INI -> raw sections that remember file
//! and line -> validated, typed specs. The only config code that reads files.
//!
//! Stage one ([`ini`]) reads the main file and its `[include]` files into
//! one namespace of raw values, each with its file and line. Stage two
//! ([`load`]) expands `%(name)s` ([`expand`]) and validates every option
//! ([`values`]) into the typed specs of [`types`], collecting every problem
//! into [`ConfigErrors`] instead of stopping at the first.

pub mod env;
pub mod error;
pub mod expand;
pub mod ini;
mod load;
mod pyglob;
pub mod signal;
pub mod types;
pub mod values;

pub use env::{find_config, search_paths, set_process_defaults, Defaults, Env};
pub use error::{ConfigError, ConfigErrors};
pub use load::{known_options, load, load_ctl};
pub use types::*;
pub use values::{
    parse_autorestart, parse_bool, parse_bytes, parse_environment, parse_exitcodes, parse_int,
    parse_loglevel, parse_name, parse_octal,
};
