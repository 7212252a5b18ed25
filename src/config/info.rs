//! A program's `getAllConfigInfo` record, rendered from the program table.
//!
//! Supervisor's `getAllConfigInfo` shows most program options under their
//! own key (`startsecs`), some under another (`priority` as
//! `process_prio`, `user` as the `uid` it resolved to, `process_name` as
//! `name`), and three things that are not options of the program: its
//! group's name and priority and whether the group is in use. A value
//! XML-RPC cannot carry shows as a word: `'none'` for None and `'auto'`
//! for an AUTO log file. Which options appear, and how, is declared in the
//! program table's rows ([`super::table::Opt::info`]); this module adds
//! the rest and defines the value type, so that the faces render it
//! without knowing the specs.

use super::program::PROGRAM;
use super::types::{LogFile, ProgramSpec};

/// A field value as `getAllConfigInfo` carries it (the typed API's).
pub use crate::api::ConfigValue;

/// What the record shows besides the program's own options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoContext<'a> {
    /// The priority of the program's group.
    pub group_priority: i64,
    /// Whether the group is in use (added to the running set).
    pub inuse: bool,
    /// The file names a running process's AUTO logs were given, when they
    /// are to be shown (Supervisor shows them until a reread replaces the
    /// config); `None` shows `'auto'`.
    pub stdout_logfile: Option<&'a str>,
    pub stderr_logfile: Option<&'a str>,
}

/// The `getAllConfigInfo` fields of one process: the program table's
/// rendered rows in table order, then `group`, `group_prio` and `inuse`.
/// An XML-RPC struct has no order; the keys and values are Supervisor's.
/// pidvisor's own options follow, each only when set away from its
/// default ([`extension_fields`]).
pub fn info_fields(spec: &ProgramSpec, ctx: &InfoContext) -> Vec<(&'static str, ConfigValue)> {
    let mut fields: Vec<(&'static str, ConfigValue)> = PROGRAM
        .iter()
        .filter(|row| !row.extension)
        .filter_map(|row| row.info)
        .map(|(key, render)| (key, render(spec, ctx)))
        .collect();
    fields.push(("group", ConfigValue::Str(spec.group.clone())));
    fields.push(("group_prio", ConfigValue::Int(ctx.group_priority)));
    fields.push(("inuse", ConfigValue::Bool(ctx.inuse)));
    fields.extend(extension_fields(spec));
    fields
}

/// The `getAllConfigInfo` fields of pidvisor's own program options that
/// `spec` sets away from their defaults, in table order. A config that
/// uses none of them gets exactly Supervisor's records.
pub fn extension_fields(spec: &ProgramSpec) -> Vec<(&'static str, ConfigValue)> {
    let ctx = InfoContext {
        group_priority: 0,
        inuse: false,
        stdout_logfile: None,
        stderr_logfile: None,
    };
    let rows = || PROGRAM.iter().filter(|row| row.extension);
    let set: Vec<_> = rows()
        .filter_map(|row| row.info)
        .map(|(key, render)| (key, render(spec, &ctx)))
        .collect();
    if set.is_empty() {
        return set;
    }
    let default = ProgramSpec::with_defaults(&spec.name, &spec.command);
    set.into_iter()
        .zip(rows().filter_map(|row| row.info))
        .filter(|((_, value), (_, render))| *value != render(&default, &ctx))
        .map(|(field, _)| field)
        .collect()
}

/// A log file as `getAllConfigInfo` shows it.
pub(super) fn logfile_value(file: &LogFile, named: Option<&str>) -> ConfigValue {
    ConfigValue::Str(match file {
        LogFile::Auto => named.unwrap_or("auto").to_string(),
        LogFile::None => "none".into(),
        LogFile::Path(p) => p.display().to_string(),
    })
}

#[cfg(test)]
#[path = "info_tests.rs"]
mod tests;
