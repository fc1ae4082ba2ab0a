//! What the documentation tells a user to run: every `cargo install` in the repository's
//! Markdown (and in the VS Code extension's messages) keeps to Cargo.lock with `--locked`;
//! without it Cargo resolves newer, untested dependencies.

use std::path::{Path, PathBuf};

/// Directories that hold no documentation of ours: build output, dependencies, VCS data.
const NOT_OURS: &[&str] = &["target", "node_modules", ".git", ".venv", "venv"];

/// Every file below `dir` whose name ends with one of `exts`, skipping [`NOT_OURS`].
fn files(dir: &Path, exts: &[&str], found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !NOT_OURS.iter().any(|n| name == *n) {
                files(&path, exts, found);
            }
        } else if kind.is_file() && exts.iter().any(|e| name.to_string_lossy().ends_with(e)) {
            found.push(path);
        }
    }
}

/// Each `cargo install` in `text` that lacks `--locked` before the command ends (at the end
/// of the line or of its inline code span), as `line: text`.
fn unlocked_installs(text: &str) -> Vec<String> {
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices("cargo install") {
            let rest = &line[at..];
            let command = rest.split(['`', '\'', '#']).next().unwrap_or(rest);
            if !command.contains("--locked") {
                bad.push(format!("{}: {}", n + 1, line.trim()));
            }
        }
    }
    bad
}

#[test]
fn the_check_itself_finds_an_unlocked_install() {
    assert_eq!(
        unlocked_installs("run `cargo install --path .` now").len(),
        1
    );
    assert_eq!(
        unlocked_installs("cargo install cargo-fuzz  # 0.13").len(),
        1
    );
    assert!(unlocked_installs("run `cargo install --locked --path .` now").is_empty());
    assert!(unlocked_installs("cargo install --locked cargo-fuzz").is_empty());
}

#[test]
fn every_cargo_install_in_the_docs_is_locked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    files(root, &[".md"], &mut found);
    // The extension tells the user how to install the server when it cannot find it.
    files(&root.join("editors/vscode/src"), &[".ts"], &mut found);
    assert!(
        found.iter().any(|p| p.ends_with("README.md")),
        "no Markdown found below {}",
        root.display()
    );
    let mut bad = Vec::new();
    for path in &found {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for hit in unlocked_installs(&text) {
            bad.push(format!(
                "{}:{hit}",
                path.strip_prefix(root).unwrap_or(path).display()
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "`cargo install` without `--locked` (it ignores Cargo.lock):\n{}",
        bad.join("\n")
    );
}

/// The documents a user reads to install and use the tool (not the contributor's notes).
fn user_docs(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![root.join("README.md")];
    for editor in ["vscode", "neovim", "helix", "emacs"] {
        docs.push(root.join("editors").join(editor).join("README.md"));
    }
    docs
}

#[test]
fn user_docs_hold_no_internal_words() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let issue = regex::Regex::new(r"(?i)\b(issue|session) #?\d+").unwrap();
    for path in user_docs(root) {
        let text = std::fs::read_to_string(&path).unwrap();
        for word in ["../shared", "build machines"] {
            assert!(!text.contains(word), "{}: {word}", path.display());
        }
        assert!(
            !issue.is_match(&text),
            "{}: an issue or session number",
            path.display()
        );
    }
}

#[test]
fn the_readme_puts_the_users_path_before_the_contributors_and_names_every_prerequisite() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let at = |what: &str| {
        readme
            .find(what)
            .unwrap_or_else(|| panic!("the README does not say {what:?}"))
    };
    // The user's path, in order: the binary, an editor, Python; then testing, apart.
    let install = at("cargo install --locked --path .");
    let editor = at("### 2. An editor");
    let python = at("### 3. Python");
    let contributing = at("## Contributing");
    assert!(install < editor && editor < python && python < contributing);
    // The two commands stay, under Contributing.
    let main_job = "cargo run --locked --release -- ask \"what is calcinosis";
    assert!(readme.rfind(main_job).is_some_and(|i| i > contributing));
    assert!(readme
        .rfind("bash .ci/run")
        .is_some_and(|i| i > contributing));
    // What the test script installs or needs, each named after Contributing.
    for needed in [
        "emacs-nox",
        "elpa-eglot",
        "Java",
        "chromium",
        "strace",
        "python3-venv",
        "Node.js **20 or newer**",
    ] {
        assert!(
            readme[contributing..].contains(needed),
            "the contributor's path does not name {needed}"
        );
    }
    // Node is asked of a user only for the VS Code package.
    let node = at("Node.js");
    assert!(
        node > editor && node < python,
        "Node.js named outside the VS Code step"
    );
}

#[test]
fn the_release_profile_ships_stripped_and_profiling_keeps_symbols() {
    // The installed binary was 108 MB with `debug = 1`; stripped it is under 30 MB
    // (BENCHMARKS.md, "Release binary size").
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: toml::Table = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let profile = |name: &str| manifest["profile"][name].as_table().unwrap().clone();
    let release = profile("release");
    assert_eq!(release.get("strip"), Some(&toml::Value::Boolean(true)));
    let debug = release.get("debug");
    assert!(
        matches!(
            debug,
            None | Some(toml::Value::Boolean(false)) | Some(toml::Value::Integer(0))
        ),
        "release keeps debug information: {debug:?}"
    );
    let profiling = profile("profiling");
    assert_eq!(profiling["inherits"].as_str(), Some("release"));
    assert_eq!(profiling["strip"], toml::Value::Boolean(false));
    assert_eq!(profiling["debug"], toml::Value::Integer(1));
}
