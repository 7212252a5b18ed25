//! Configuration errors: one [`ConfigError`] per problem, and
//! [`ConfigErrors`] for every problem of one load (style habit 9: a config
//! check lists them all, it does not stop at the first).

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a configuration file.
///
/// `Display` renders `<file>:<line>: [section] option: <message>`; the parts
/// that are unknown are left out (`line` 0 means "the file as a whole").
/// `message` is Supervisor's wording wherever Supervisor has one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub section: Option<String>,
    pub option: Option<String>,
    pub message: String,
}

impl ConfigError {
    /// An error about a whole file (not found, unreadable, missing section).
    pub fn file(file: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_path_buf(),
            line: 0,
            section: None,
            option: None,
            message: message.into(),
        }
    }

    /// Supervisor's own rendering of this error (what `supervisord` prints
    /// after `Error: `): the message, and for errors inside a program-like
    /// section the suffix ` in section 'program:x' (file: 'f')`.
    pub fn supervisor_text(&self) -> String {
        match &self.section {
            Some(s)
                if s.starts_with("program:")
                    || s.starts_with("eventlistener:")
                    || s.starts_with("fcgi-program:") =>
            {
                format!(
                    "{} in section {} (file: {})",
                    self.message,
                    crate::py::py_repr(s),
                    crate::py::py_repr(&self.file.to_string_lossy())
                )
            }
            _ => self.message.clone(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": ")?;
        if let Some(section) = &self.section {
            write!(f, "[{section}] ")?;
        }
        if let Some(option) = &self.option {
            write!(f, "{option}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Every problem found by one load, in file order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line (no trailing newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_section_option() {
        let e = ConfigError {
            file: "/etc/s.conf".into(),
            line: 12,
            section: Some("program:web".into()),
            option: Some("startsecs".into()),
            message: "invalid literal for int() with base 10: 'soon'".into(),
        };
        assert_eq!(
            e.to_string(),
            "/etc/s.conf:12: [program:web] startsecs: invalid literal for int() with base 10: 'soon'"
        );
        assert_eq!(
            e.supervisor_text(),
            "invalid literal for int() with base 10: 'soon' in section 'program:web' (file: '/etc/s.conf')"
        );
        let f = ConfigError::file(Path::new("x.conf"), "could not find config file x.conf");
        assert_eq!(f.to_string(), "x.conf: could not find config file x.conf");
        let all = ConfigErrors(vec![e, f]);
        assert_eq!(all.to_string().lines().count(), 2);
    }
}
