//! Configuration: supervisord-format INI -> raw sections that remember file
//! and line -> validated, typed specs. The only config code that reads files.

pub mod signal;
pub mod types;

pub use types::*;
