//! contrib/completions (bash, zsh, fish) complete actions, options and the
//! names a running daemon reports, in exactly the forms each action takes;
//! each shell is run for real (zsh through its completion system on a pty).

use crate::fixture::Daemon;
use std::path::Path;
use std::process::{Command, Output};

fn contrib(name: &str) -> String {
    format!("{}/contrib/completions/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// PATH with our binaries first, so the scripts' `pidvisorctl` is ours.
fn path_with_bins() -> String {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_pidvisorctl"))
        .parent()
        .unwrap();
    format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap())
}

fn need(tool: &str) {
    let found =
        std::env::split_paths(&std::env::var_os("PATH").unwrap()).any(|d| d.join(tool).is_file());
    assert!(
        found,
        "{tool} is not installed (Debian package {tool}; .ci/run installs it)"
    );
}

fn lines(out: Output, shell: &str) -> Vec<String> {
    assert!(out.status.success(), "{shell}: {out:?}");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// zsh's completion system on a pty (zsh/zpty), with `compadd` wrapped to
/// print what it would offer (after matching) between two marker lines. The
/// line is typed without Enter (`-n`), and Enter does nothing anyway: a
/// completion test must never run `update`.
const ZSH_CAPTURE: &str = r#"
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'bindkey "^I" complete-word'
zpty -w z 'zstyle ":completion:*" insert-tab false'
zpty -w z 'cbegin() { print -r -- "<<begin>>" }; cend() { print -r -- "<<end>>" }'
zpty -w z 'compprefuncs=( cbegin ); comppostfuncs=( cend )'
zpty -w z 'compadd() { local -a m; builtin compadd -A m "$@"; (( $#m )) && print -rl -- "=${IPREFIX}"${^${(Q)m}}; builtin compadd "$@" }'
zpty -w z 'bindkey "^M" undefined-key; bindkey "^J" undefined-key; print -r -- "<<"ready">>"'
zpty -r z line '*<<ready>>*'
zpty -n -w z "$2"$'\t'
zpty -r z out '*<<end>>*'
print -r -- "$out" | tr -d '\r' | sed -n '/<<begin>>/,/<<end>>/p' | sed -n 's/^=//p'
zpty -d z
"#;

/// Candidates `shell` offers for `line` (cursor at the end), in `cwd`.
fn complete(shell: Shell, cwd: &Path, line: &str) -> Vec<String> {
    let mut cmd = match shell {
        Shell::Bash => {
            let mut c = Command::new("bash");
            c.arg("-c").arg(format!(
                "source {}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
                 read -ra COMP_WORDS <<<\"$COMP_LINE\"; COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 [[ $COMP_LINE == *' ' ]] && COMP_CWORD=${{#COMP_WORDS[@]}}; \
                 case $COMP_LINE in pidvisord*) _pidvisord;; *) _pidvisorctl;; esac; \
                 printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                contrib("pidvisorctl.bash")
            ));
            c
        }
        Shell::Zsh => {
            let script = cwd.join("capture.zsh");
            std::fs::write(&script, ZSH_CAPTURE).unwrap();
            let mut c = Command::new("timeout");
            c.args(["60", "zsh", "-f"])
                .arg(&script)
                .arg(contrib(""))
                .arg(line);
            c
        }
        Shell::Fish => {
            let mut c = Command::new("fish");
            c.arg("--no-config").arg("-c").arg(format!(
                "source {}; source {}; complete -C '{line}'",
                contrib("pidvisorctl.fish"),
                contrib("pidvisord.fish")
            ));
            c
        }
    };
    let out = cmd
        .env("PATH", path_with_bins())
        .current_dir(cwd)
        .output()
        .unwrap();
    let mut v = lines(out, &format!("{shell:?}"));
    if shell == Shell::Fish {
        // `candidate<TAB>description`
        v = v
            .into_iter()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        v.sort();
        v.dedup();
    }
    v
}

/// Every shell, every form: names from a live daemon, one group that is in
/// the config but not in use (for `add`), a daemon that is not there.
#[test]
fn every_shell_completes_each_action_with_the_forms_it_takes() {
    need("bash");
    need("zsh");
    need("fish");
    let d = Daemon::start(
        "[program:solo]\ncommand=sleep 1000\nstartsecs=0\n\n\
         [program:web]\ncommand=sleep 1000\nstartsecs=0\nnumprocs=2\n\
         process_name=%(program_name)s_%(process_num)d\n",
    );
    d.wait_spawned("web_1", 1);
    // `later` is read (avail) but not added: only `add` and `update` offer it.
    let text = std::fs::read_to_string(&d.conf).unwrap();
    std::fs::write(
        &d.conf,
        format!("{text}\n[program:later]\ncommand=sleep 1000\n"),
    )
    .unwrap();
    let out = d.ctl(&["reread"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("later: available"));
    let conf = d.conf.to_str().unwrap();
    let names = ["solo", "web:web_0", "web:web_1"];
    let with = |extra: &[&str], names: &[&str]| {
        let mut v: Vec<String> = extra.iter().chain(names).map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let c = |line: &str| complete(shell, d.dir.path(), &line.replace("{conf}", conf));
        let ctx = |line: &str| format!("{shell:?}: {line}");
        let line = "pidvisorctl re";
        assert_eq!(
            c(line),
            ["reload", "remove", "reread", "restart"],
            "{}",
            ctx(line)
        );
        assert_eq!(c("pidvisorctl help sh"), ["shutdown"], "{shell:?}");
        assert_eq!(c("pidvisorctl --ses"), ["--session"], "{shell:?}");
        for action in ["start", "stop", "restart", "clear"] {
            let line = format!("pidvisorctl -c {{conf}} {action} ");
            assert_eq!(c(&line), with(&["all", "web:*"], &names), "{}", ctx(&line));
        }
        let line = "pidvisorctl -c {conf} status ";
        assert_eq!(
            c(line),
            with(&["--json", "-v", "all", "web:*"], &names),
            "{}",
            ctx(line)
        );
        let line = "pidvisorctl -c {conf} signal HUP ";
        assert_eq!(c(line), with(&["all", "web:*"], &names), "{}", ctx(line));
        assert_eq!(c("pidvisorctl -c {conf} signal H"), ["HUP"], "{shell:?}");
        // Process names only: tail, fg and pid take no group:*.
        let line = "pidvisorctl -c {conf} tail ";
        assert_eq!(c(line), with(&["-f"], &names), "{}", ctx(line));
        let line = "pidvisorctl -c {conf} tail -f web:web_0 ";
        assert_eq!(c(line), ["stderr", "stdout"], "{}", ctx(line));
        let line = "pidvisorctl -c {conf} fg ";
        assert_eq!(c(line), with(&[], &names), "{}", ctx(line));
        let line = "pidvisorctl -c {conf} pid ";
        assert_eq!(c(line), with(&["all"], &names), "{}", ctx(line));
        // Group names, single-program groups included.
        let line = "pidvisorctl -c {conf} update ";
        assert_eq!(c(line), ["all", "later", "solo", "web"], "{}", ctx(line));
        let line = "pidvisorctl -c {conf} add ";
        assert_eq!(c(line), ["later"], "{}", ctx(line));
        let line = "pidvisorctl -c {conf} remove ";
        assert_eq!(c(line), ["solo", "web"], "{}", ctx(line));
        assert_eq!(c("pidvisorctl -c {conf} update w"), ["web"], "{shell:?}");
        assert_eq!(
            c("pidvisorctl -c {conf} status --j"),
            ["--json"],
            "{shell:?}"
        );
        // After a ':' bash replaces only what follows it.
        let line = "pidvisorctl -c {conf} start web:";
        let after_colon = match shell {
            Shell::Bash => vec!["*", "web_0", "web_1"],
            _ => vec!["web:*", "web:web_0", "web:web_1"],
        };
        assert_eq!(c(line), after_colon, "{}", ctx(line));
        // No daemon there: the static words, no names, no error.
        let line = "pidvisorctl -s unix:///nonexistent.sock stop ";
        assert_eq!(c(line), ["all"], "{}", ctx(line));
        assert_eq!(c("pidvisord --check"), ["--check-config"], "{shell:?}");
    }
}
