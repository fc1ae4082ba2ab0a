//! What the documentation tells a user to run: every `cargo install` in the repository's
//! Markdown (and in the VS Code extension's messages) keeps to Cargo.lock with `--locked`;
//! without it Cargo resolves newer, untested dependencies. And one set of options: every
//! server setting in the README's table (tied to the server's parser by sending each one a
//! bad value) is a VS Code setting with the same default, forwarded by the extension, and
//! documented for every editor.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

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

/// The README's "Server settings" table: each setting's dotted name and default as written
/// (`none` for no value, else JSON in backticks).
fn readme_settings(root: &Path) -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = readme
        .split("### Server settings")
        .nth(1)
        .expect("the README has a Server settings section");
    let rows: Vec<(String, String)> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let default = cells.get(2)?.trim_matches('`');
            Some((name.to_string(), default.to_string()))
        })
        .collect();
    assert!(rows.len() >= 9, "the settings table lost rows: {rows:?}");
    rows
}

/// A README default as the JSON value package.json holds.
fn default_value(written: &str) -> Value {
    if written == "none" {
        return Value::Null;
    }
    serde_json::from_str(written).unwrap_or_else(|e| panic!("default {written:?}: {e}"))
}

/// `{"a": {"b": v}}` for the dotted name `a.b`.
fn nested(name: &str, value: Value) -> Value {
    name.rsplit('.')
        .fold(value, |inner, key| json!({ key: inner }))
}

#[test]
fn every_server_setting_is_a_vscode_setting_and_documented_for_every_editor() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("editors/vscode/package.json")).unwrap(),
    )
    .unwrap();
    let properties = &package["contributes"]["configuration"]["properties"];
    // What the extension sends as initializationOptions (didChangeConfiguration sends the
    // whole `calcinosis` section, so a contributed setting reaches the server there).
    let forwarded = std::fs::read_to_string(root.join("editors/vscode/src/settings.ts")).unwrap();
    let readmes: Vec<(PathBuf, String)> = ["vscode", "neovim", "helix", "emacs"]
        .iter()
        .map(|e| {
            let path = root.join("editors").join(e).join("README.md");
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect();
    let mut missing = Vec::new();
    for (name, default) in readme_settings(root) {
        let key = format!("calcinosis.{name}");
        let p = &properties[&key];
        if p.is_null() {
            missing.push(format!("editors/vscode/package.json: no {key}"));
        } else if p["default"] != default_value(&default) {
            missing.push(format!(
                "editors/vscode/package.json: {key} defaults to {}, the server to {default}",
                p["default"]
            ));
        }
        if !forwarded.contains(&format!("'{name}'")) {
            missing.push(format!(
                "editors/vscode/src/settings.ts: {name} not in initializationOptions"
            ));
        }
        for (path, text) in &readmes {
            let shown = if path.ends_with("vscode/README.md") {
                format!("`{key}`")
            } else {
                format!("`{name}`")
            };
            if !text.contains(&shown) {
                missing.push(format!("{}: no {shown}", path.display()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_readme_settings_table_is_the_servers_and_vscode_keeps_its_bounds() {
    // Each setting of the README's table, sent to the real server with a value of the wrong
    // type, must be reported by its name: a setting the parser does not know would be
    // "unknown", one the README misspells would not be named. The bounds the server states
    // for a whole number are those of VS Code's setting.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let package: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("editors/vscode/package.json")).unwrap(),
    )
    .unwrap();
    let properties = &package["contributes"]["configuration"]["properties"];
    let settings = readme_settings(root);
    let mut client = common::Client::start();
    client.initialize(&[], json!({}));
    let mut messages = Vec::new();
    for (name, _) in &settings {
        // An object is the wrong type for every setting; -1 below every bound.
        for bad in [json!({"not": "valid"}), json!(-1)] {
            client.notify(
                "workspace/didChangeConfiguration",
                json!({"settings": {"calcinosis": nested(name, bad.clone())}}),
            );
            let m = client.wait_for(&format!("the message on {name} = {bad}"), |m| {
                m["method"] == "window/showMessage"
            });
            messages.push((
                name.clone(),
                bad,
                m["params"]["message"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if let Some(m) = client.try_next(Duration::from_millis(100)) {
            assert_ne!(
                m["method"], "window/showMessage",
                "one message per setting: {m}"
            );
        }
    }
    let bounds = regex::Regex::new(r"from (\d+) to (\d+)").unwrap();
    for (name, bad, message) in &messages {
        assert!(
            message.contains(&format!("invalid setting {name} = {bad}:")),
            "{name} = {bad}: {message}"
        );
        if let Some(c) = bounds.captures(message) {
            let p = &properties[format!("calcinosis.{name}")];
            assert_eq!(
                p["minimum"],
                c[1].parse::<u64>().unwrap(),
                "{name}: {message}"
            );
            assert_eq!(
                p["maximum"],
                c[2].parse::<u64>().unwrap(),
                "{name}: {message}"
            );
        }
    }
    let bounded: Vec<&str> = messages
        .iter()
        .filter(|(_, _, m)| bounds.is_match(m))
        .map(|(n, ..)| n.as_str())
        .collect();
    for name in [
        "diagnostics.summaryThreshold",
        "diagnostics.debounceMs",
        "diagnostics.maxPerDocument",
    ] {
        assert!(
            bounded.contains(&name),
            "{name} states no bounds: {messages:?}"
        );
    }
}

#[test]
fn vscode_says_corpus_dir_extends_and_e_is_esophageal_dysfunction_everywhere() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let vscode = std::fs::read_to_string(root.join("editors/vscode/README.md")).unwrap();
    let row = vscode
        .lines()
        .find(|l| l.starts_with("| `calcinosis.corpusDir`"))
        .expect("a corpusDir row");
    assert!(row.contains("extends the built-in corpus"), "{row}");
    assert!(!row.contains("holding"), "{row}");
    let mut found = Vec::new();
    files(root, &[".md"], &mut found);
    files(&root.join("editors/vscode/src"), &[".ts"], &mut found);
    let mut bad = Vec::new();
    for path in &found {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            // The letter's name, not a note's wording ("esophageal dysmotility" is a synonym
            // the lexicon matches).
            if line.contains("**E**sophageal") && !line.contains("**E**sophageal dysfunction")
                || line.contains("E: 'Esophageal") && !line.contains("E: 'Esophageal dysfunction'")
                || line.contains("Esophageal dysmotility")
            {
                bad.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "E is Esophageal dysfunction:\n{}",
        bad.join("\n")
    );
}

/// The version each part of the project declares, as `(where, version)`: the workspace
/// (Cargo.toml), both crates, the Python package, the VS Code extension and its lock file,
/// and the crates' entries in Cargo.lock. A crate or the Python package that takes the
/// workspace's version (`version.workspace = true`, `dynamic = ["version"]`) is that version.
fn declared_versions(root: &Path) -> Vec<(String, String)> {
    let read = |rel: &str| {
        std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    };
    let toml_of = |rel: &str| -> toml::Table {
        read(rel)
            .parse()
            .unwrap_or_else(|e| panic!("{rel} is not TOML: {e}"))
    };
    let json_of = |rel: &str| -> serde_json::Value {
        serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
    };
    let text = |v: Option<&toml::Value>| v.and_then(toml::Value::as_str).map(str::to_string);

    let root_manifest = toml_of("Cargo.toml");
    let workspace = text(
        root_manifest
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version")),
    );
    let mut found = Vec::new();
    if let Some(v) = &workspace {
        found.push(("Cargo.toml [workspace.package]".to_string(), v.clone()));
    }
    // A crate's own version, or the workspace's when it inherits it.
    let crate_version = |rel: &str| -> String {
        let manifest = toml_of(rel);
        let version = &manifest["package"]["version"];
        match version {
            toml::Value::String(v) => v.clone(),
            toml::Value::Table(t) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
                workspace
                    .clone()
                    .unwrap_or_else(|| panic!("{rel} inherits a version the workspace lacks"))
            }
            other => panic!("{rel}: unexpected version {other}"),
        }
    };
    found.push(("Cargo.toml".into(), crate_version("Cargo.toml")));
    found.push((
        "python/Cargo.toml".into(),
        crate_version("python/Cargo.toml"),
    ));

    // maturin gives a `dynamic` version the crate's (python/Cargo.toml).
    let pyproject = toml_of("python/pyproject.toml");
    let project = &pyproject["project"];
    let dynamic = project
        .get("dynamic")
        .and_then(toml::Value::as_array)
        .is_some_and(|d| d.iter().any(|f| f.as_str() == Some("version")));
    let python = match text(project.get("version")) {
        Some(v) => v,
        None if dynamic => crate_version("python/Cargo.toml"),
        None => panic!("python/pyproject.toml has no version and takes none from Cargo"),
    };
    found.push(("python/pyproject.toml".into(), python));

    let package = json_of("editors/vscode/package.json");
    let lock = json_of("editors/vscode/package-lock.json");
    for (name, v) in [
        ("editors/vscode/package.json", &package["version"]),
        ("editors/vscode/package-lock.json", &lock["version"]),
        (
            "editors/vscode/package-lock.json packages[\"\"]",
            &lock["packages"][""]["version"],
        ),
    ] {
        let v = v
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no version"));
        found.push((name.to_string(), v.to_string()));
    }

    let cargo_lock = toml_of("Cargo.lock");
    for entry in cargo_lock["package"].as_array().into_iter().flatten() {
        let name = entry["name"].as_str().unwrap_or_default();
        if name == "calcinosis-ls" || name == "calcinosis-ls-python" {
            let v = entry["version"].as_str().unwrap_or_default().to_string();
            found.push((format!("Cargo.lock {name}"), v));
        }
    }
    found
}

#[test]
fn every_part_carries_one_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = declared_versions(root);
    assert!(found.len() >= 8, "versions found: {found:?}");
    // The binary reports the version it was built with (`calcinosis-ls --version`).
    let want = env!("CARGO_PKG_VERSION");
    let mismatched: Vec<_> = found
        .iter()
        .filter(|(_, v)| v != want)
        .map(|(w, v)| format!("{w}: {v}"))
        .collect();
    assert!(
        mismatched.is_empty(),
        "every part must carry the binary's version {}; these differ:\n{}",
        want,
        mismatched.join("\n")
    );
}

/// The extension's README is packed into the .vsix, where a link relative to the repository
/// breaks: `vsce package` refuses it ("Couldn't detect the repository").
#[test]
fn the_vscode_readme_links_nothing_relative() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("editors/vscode/README.md")).unwrap();
    let relative: Vec<&str> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| {
            !(target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with('#'))
        })
        .collect();
    assert!(
        relative.is_empty(),
        "relative links in editors/vscode/README.md: {relative:?}"
    );
}
