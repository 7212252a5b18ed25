//! The shape of an option table: each option of a section declared once,
//! with its key, its default, the names its value is expanded with, how its
//! text becomes a value and where that value is stored, and (for
//! `[program:x]`) how `getAllConfigInfo` shows it.
//!
//! Each section's table lives beside the code that loads that section
//! (`supervisord.rs`, `program.rs`, `servers.rs`, `groups.rs`); the loader
//! ([`super::load`]) walks a table row by row, and everything else that
//! needs an option's key or default (the unknown-option warnings,
//! [`super::known_options`], [`super::ProgramSpec::with_defaults`],
//! [`super::info_fields`]) reads it from the same rows. Rules that tie two
//! options together are not rows: they are named functions ([`Rule`]) run
//! after the rows.

use super::env::Env;
use super::info::{ConfigValue, InfoContext};
use super::types::ProgramSpec;

/// The names a value is expanded with: Supervisor's expansion dict for that
/// option, which differs from section to section and option to option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expansion {
    /// `ENV_*` only.
    Env,
    /// `ENV_*` and `here`.
    Here,
    /// `[supervisord] environment`: with `here`, and the result again with
    /// `host_node_name` too (Supervisor's double expansion, issue #1441).
    HereTwice,
    /// A program option read once per section: `ENV_*`, `here`,
    /// `program_name`, `host_node_name`, `group_name`.
    Section,
    /// A program option read once per process: [`Expansion::Section`]'s
    /// names plus `process_num`, `numprocs` and the program's own `ENV_*`.
    Process,
    /// [`Expansion::Process`], and the result expanded again (log file
    /// names, as Supervisor does).
    ProcessTwice,
    /// `[fcgi-program:x] socket`: `ENV_*`, `here` and `program_name`.
    Socket,
    /// Stored as written; the loader expands it later, per process
    /// (`process_name`, a program's `environment`).
    Raw,
}

/// What an option is when the file does not set it.
pub enum DefaultValue<T: 'static> {
    /// Nothing: the stored value stays unset (`None`).
    Unset,
    /// This text, read as if written in the file (expanded and parsed).
    Text(&'static str),
    /// Text computed from the options read before it or from the loader's
    /// surroundings; `doc` says what it is, for people.
    Computed {
        doc: &'static str,
        text: fn(&T, &Env) -> String,
    },
    /// The option must be set; the error (Supervisor's text) for the
    /// section named by the argument.
    Required(fn(&str) -> String),
}

/// What a store function knows besides the text.
pub struct Ctx<'a> {
    pub env: &'a Env,
    /// The section being read (some of Supervisor's messages name it).
    pub section: &'a str,
}

/// Parse the expanded text and store it; or Supervisor's error text.
pub type Store<T> = fn(&mut T, &str, &Ctx) -> Result<(), String>;

/// How `getAllConfigInfo` shows a program option.
pub type Render = fn(&ProgramSpec, &InfoContext) -> ConfigValue;

/// One option of a section.
pub struct Opt<T: 'static> {
    pub key: &'static str,
    pub expand: Expansion,
    pub default: DefaultValue<T>,
    pub store: Store<T>,
    /// The `getAllConfigInfo` key and rendering, for the program options
    /// Supervisor shows there.
    pub info: Option<(&'static str, Render)>,
    /// A pidvisor option (not Supervisor's): `getAllConfigInfo` shows it
    /// only when set away from its default, so that the records of a
    /// config that does not use it stay exactly Supervisor's.
    pub extension: bool,
}

impl<T> Opt<T> {
    pub const fn new(
        key: &'static str,
        expand: Expansion,
        default: DefaultValue<T>,
        store: Store<T>,
    ) -> Opt<T> {
        Opt {
            key,
            expand,
            default,
            store,
            info: None,
            extension: false,
        }
    }

    /// This option as `getAllConfigInfo` shows it, under `key`.
    pub const fn info(mut self, key: &'static str, render: Render) -> Opt<T> {
        self.info = Some((key, render));
        self
    }

    /// A pidvisor option that `getAllConfigInfo` shows under `key` when
    /// it is not at its default.
    pub const fn extension(mut self, key: &'static str, render: Render) -> Opt<T> {
        self.info = Some((key, render));
        self.extension = true;
        self
    }
}

/// A rule that ties options together, run on a section's values once its
/// rows are read: it may report problems and warnings, and normalise.
pub type Rule<T> = fn(&mut T, &mut super::load::Report<'_, '_>);

/// The keys of a table, in table order, as a `static` array.
pub const fn keys<T, const N: usize>(rows: &[Opt<T>]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < N {
        out[i] = rows[i].key;
        i += 1;
    }
    out
}

/// Store every row's default (text or computed) into `target`, without
/// expansion. Defaults are constants and a unit test proves each one
/// parses; should one not, the value stays as it was.
pub fn apply_defaults<T>(rows: &[Opt<T>], target: &mut T, env: &Env) {
    let ctx = Ctx { env, section: "" };
    for row in rows {
        let text = match &row.default {
            DefaultValue::Text(t) => t.to_string(),
            DefaultValue::Computed { text, .. } => text(target, env),
            DefaultValue::Unset | DefaultValue::Required(_) => continue,
        };
        let _ = (row.store)(target, &text, &ctx);
    }
}

/// An option's default as a person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionDefault {
    /// None: the option stays unset.
    Unset,
    /// This text, read as if written in the file.
    Text(&'static str),
    /// Computed when the file is read; what it is.
    Computed(&'static str),
    /// The option must be set.
    Required,
}

/// A row's default as a person reads it.
pub fn describe_default<T>(row: &Opt<T>) -> OptionDefault {
    match &row.default {
        DefaultValue::Unset => OptionDefault::Unset,
        DefaultValue::Text(t) => OptionDefault::Text(t),
        DefaultValue::Computed { doc, .. } => OptionDefault::Computed(doc),
        DefaultValue::Required(_) => OptionDefault::Required,
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
