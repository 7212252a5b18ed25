//! Ports of the Python behaviour whose output users observe.

pub mod getopt;
pub mod pystr;
pub mod urlsplit;
