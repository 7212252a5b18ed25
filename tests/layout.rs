//! The source's layout rules (issue 14), checked so that they stay true:
//! system calls and `unsafe` only under `src/sys/`, `impl Reactor` only in
//! `src/reactor/mod.rs`, and no function over 120 lines outside tests.
//! The checks read the files as rustfmt leaves them (`cargo fmt --check`
//! runs before the tests in CI).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its path relative to the crate.
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join("src")];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path: PathBuf = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                files.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(files.len() > 50, "src/ has {} files", files.len());
    files
}

/// The code of a line, without a trailing `//` comment or a doc line.
fn code(line: &str) -> &str {
    let t = line.trim_start();
    if t.starts_with("//") {
        return "";
    }
    line.split(" // ").next().unwrap_or(line)
}

/// Whether `code` names the path `krate` (`nix::`) as a whole word, so
/// that `std::os::unix::` is not `nix::`.
fn names_crate(code: &str, krate: &str) -> bool {
    code.match_indices(krate).any(|(i, _)| {
        !code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn system_calls_and_unsafe_only_in_sys() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path.starts_with("src/sys/") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let c = code(line);
            let call = ["nix::", "libc::", "rustix::"]
                .iter()
                .any(|k| names_crate(c, k));
            let unsafe_block = c.contains("unsafe {") || c.contains("unsafe fn");
            if call || unsafe_block {
                found.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "outside src/sys:\n{}", found.join("\n"));
}

#[test]
fn impl_reactor_only_in_its_module() {
    let found: Vec<String> = sources()
        .into_iter()
        .filter(|(path, text)| {
            path != "src/reactor/mod.rs" && text.lines().any(|l| code(l).contains("impl Reactor"))
        })
        .map(|(path, _)| path)
        .collect();
    assert!(found.is_empty(), "impl Reactor in {found:?}");
}

/// Whether `path` holds only tests (a `tests.rs`, `*_tests.rs`, or a file
/// under a `tests/` directory).
fn test_file(path: &str) -> bool {
    path.ends_with("/tests.rs") || path.ends_with("_tests.rs") || path.contains("/tests/")
}

#[test]
fn no_function_over_120_lines_outside_tests() {
    let mut long = Vec::new();
    for (path, text) in sources().into_iter().filter(|(p, _)| !test_file(p)) {
        let lines: Vec<&str> = text.lines().collect();
        // A `#[cfg(test)] mod tests` ends the code that counts.
        let end = lines
            .iter()
            .position(|l| l.trim() == "#[cfg(test)]")
            .unwrap_or(lines.len());
        for (i, line) in lines[..end].iter().enumerate() {
            let t = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "async fn ",
                "pub async fn ",
            ]
            .iter()
            .any(|k| t.starts_with(k));
            // A declaration, or a body on one line.
            if !is_fn || t.ends_with(';') || t.ends_with('}') {
                continue;
            }
            // rustfmt closes a body at the indentation of its `fn` line.
            let indent = line.len() - t.len();
            let close = format!("{}}}", " ".repeat(indent));
            if let Some(len) = lines[i..end].iter().position(|l| *l == close) {
                if len + 1 > 120 {
                    long.push(format!("{path}:{}: {} lines", i + 1, len + 1));
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over 120 lines:\n{}",
        long.join("\n")
    );
}
