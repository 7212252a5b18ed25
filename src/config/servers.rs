//! `[unix_http_server]`, `[inet_http_server]` (each possibly several, by
//! suffix) and `[supervisorctl]`: their option tables and how they are read.
//!
//! Paths (`file`, `serverurl`, `history_file`) are expanded with `here`
//! and the `ENV_*` names, everything else with the `ENV_*` names only, as
//! Supervisor does.

use std::path::PathBuf;

use super::env::Env;
use super::load::{Loader, Report};
use super::table::{apply_defaults, DefaultValue, Expansion, Opt, Rule};
use super::types::*;
use super::values::*;

use DefaultValue::{Required, Text, Unset};
use Expansion::{Env as EnvNames, Here};

/// A server section as read: its values, and the credentials pending the
/// rule that both or neither be given.
#[derive(Default)]
pub(super) struct ServerDraft {
    file: Option<PathBuf>,
    chmod: u32,
    chown: Option<(u32, Option<u32>)>,
    port: Option<(String, u16)>,
    username: Option<String>,
    password: Option<String>,
    auth: Option<Credentials>,
}

type ServerRow = Opt<ServerDraft>;

const USERNAME: ServerRow = ServerRow::new("username", EnvNames, Unset, |d, v, _| {
    d.username = Some(v.to_string());
    Ok(())
});

const PASSWORD: ServerRow = ServerRow::new("password", EnvNames, Unset, |d, v, _| {
    d.password = Some(v.to_string());
    Ok(())
});

/// Every option of `[unix_http_server]`.
pub(super) const UNIX: &[ServerRow] = &[
    ServerRow::new(
        "file",
        Here,
        Required(|s| format!("section [{s}] has no file value")),
        |d, v, c| {
            let e = c.env;
            let file = expanduser_in(v.trim(), e.home(), &e.users);
            d.file = Some(normalize_path(&file, &e.cwd));
            Ok(())
        },
    ),
    USERNAME,
    PASSWORD,
    ServerRow::new("chown", EnvNames, Unset, |d, v, c| {
        let owner = c.env.users.user_group(v);
        d.chown = Some(owner.map_err(|_| format!("Invalid sockchown value {v}"))?);
        Ok(())
    }),
    ServerRow::new("chmod", EnvNames, Text("0700"), |d, v, _| {
        d.chmod = parse_octal(v).map_err(|_| format!("Invalid chmod value {v}"))?;
        Ok(())
    }),
];

/// Every option of `[inet_http_server]`.
pub(super) const INET: &[ServerRow] = &[
    USERNAME,
    PASSWORD,
    ServerRow::new(
        "port",
        EnvNames,
        Required(|s| format!("section [{s}] has no port value")),
        |d, v, _| {
            d.port = Some(parse_inet_address(v)?);
            Ok(())
        },
    ),
];

/// The keys of `[unix_http_server]`.
pub static UNIX_KEYS: [&str; UNIX.len()] = super::table::keys(UNIX);
/// The keys of `[inet_http_server]`.
pub static INET_KEYS: [&str; INET.len()] = super::table::keys(INET);

const SERVER_RULES: &[Rule<ServerDraft>] = &[auth_complete];

/// A username without a password (or the reverse) would be an open server
/// its owner believes closed.
fn auth_complete(server: &mut ServerDraft, report: &mut Report) {
    server.auth = match (server.username.take(), server.password.take()) {
        (Some(username), Some(password)) => Some(Credentials { username, password }),
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            let key = if report.written("username") {
                "username"
            } else {
                "password"
            };
            let section = report.section().to_string();
            report.fail_section(
                key,
                format!(
                    "Section [{section}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified"
                ),
            );
            None
        }
    };
}

/// Every `[inet_http_server*]` and `[unix_http_server*]`, in file order.
pub(super) fn servers(loader: &mut Loader) -> (Vec<UnixHttpServerSpec>, Vec<InetHttpServerSpec>) {
    let env_names = loader.names(&[]);
    let here_names = loader.names(&[loader.here()]);
    let names = [(EnvNames, &env_names), (Here, &here_names)];
    let mut inet = Vec::new();
    for section in loader.sections("inet_http_server") {
        let mut server = ServerDraft::default();
        loader.apply(&section, INET, &mut server, &names);
        loader.check(&section, &mut server, SERVER_RULES);
        if let Some((host, port)) = server.port {
            inet.push(InetHttpServerSpec {
                section,
                host,
                port,
                auth: server.auth,
            });
        }
    }
    let mut unix = Vec::new();
    for section in loader.sections("unix_http_server") {
        let mut server = ServerDraft::default();
        loader.apply(&section, UNIX, &mut server, &names);
        loader.check(&section, &mut server, SERVER_RULES);
        if let Some(file) = server.file {
            unix.push(UnixHttpServerSpec {
                section,
                file,
                chmod: server.chmod,
                chown: server.chown,
                auth: server.auth,
            });
        }
    }
    (unix, inet)
}

type CtlRow = Opt<CtlSpec>;

/// Every option of `[supervisorctl]`.
pub(super) const CTL: &[CtlRow] = &[
    // Taken as written, as supervisorctl does: an unusable URL fails each
    // call (src/ctl/client.rs), not the config.
    CtlRow::new(
        "serverurl",
        Here,
        Text("http://localhost:9001"),
        |c, v, x| {
            let e = x.env;
            c.serverurl = match v.strip_prefix("unix://") {
                Some(p) => {
                    let path = normalize_path(&expanduser_in(p, e.home(), &e.users), &e.cwd);
                    format!("unix://{}", path.display())
                }
                None => v.to_string(),
            };
            Ok(())
        },
    ),
    CtlRow::new("prompt", EnvNames, Text("supervisor"), |c, v, _| {
        c.prompt = v.to_string();
        Ok(())
    }),
    CtlRow::new("username", EnvNames, Unset, |c, v, _| {
        c.username = Some(v.to_string());
        Ok(())
    }),
    CtlRow::new("password", EnvNames, Unset, |c, v, _| {
        c.password = Some(v.to_string());
        Ok(())
    }),
    CtlRow::new("history_file", Here, Unset, |c, v, x| {
        let e = x.env;
        c.history_file = Some(v)
            .filter(|v| !v.is_empty())
            .map(|v| normalize_path(&expanduser_in(v, e.home(), &e.users), &e.cwd));
        Ok(())
    }),
];

/// The keys of `[supervisorctl]`.
pub static CTL_KEYS: [&str; CTL.len()] = super::table::keys(CTL);

/// `[supervisorctl]` read.
pub(super) fn ctl(loader: &mut Loader) -> CtlSpec {
    let env_names = loader.names(&[]);
    let here_names = loader.names(&[loader.here()]);
    let mut spec = CtlSpec::default();
    loader.apply(
        "supervisorctl",
        CTL,
        &mut spec,
        &[(EnvNames, &env_names), (Here, &here_names)],
    );
    spec
}

impl Default for CtlSpec {
    /// Every `[supervisorctl]` option at its default (the table's).
    fn default() -> Self {
        let mut spec = CtlSpec {
            serverurl: String::new(),
            username: None,
            password: None,
            prompt: String::new(),
            history_file: None,
        };
        apply_defaults(CTL, &mut spec, &Env::default());
        spec
    }
}
