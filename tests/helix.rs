//! The shipped Helix configuration (`editors/helix/languages.toml`): it must parse as TOML,
//! use only keys Helix knows, define the `calcinosis-ls` language server as Helix starts
//! servers (`command` + `args`), and every language must name servers that exist. Helix itself
//! cannot be installed here, so the server is then started exactly as Helix would from that
//! file: its `config` table as `initializationOptions` and again as
//! `workspace/didChangeConfiguration`, and a note opened under each language's name (Helix
//! sends the language name as the `languageId`). Each must get diagnostics, with no setting
//! rejected.

mod common;

use std::collections::BTreeSet;

use common::Client;
use serde_json::{json, Value};

const SERVER: &str = "calcinosis-ls";

/// Keys of a `[language-server.NAME]` table that Helix reads.
const SERVER_KEYS: &[&str] = &[
    "command",
    "args",
    "config",
    "environment",
    "timeout",
    "required-root-patterns",
];

/// Keys of a `[[language]]` table that Helix reads (helix-core's `LanguageConfiguration`).
const LANGUAGE_KEYS: &[&str] = &[
    "name",
    "language-id",
    "scope",
    "file-types",
    "shebangs",
    "roots",
    "comment-token",
    "comment-tokens",
    "block-comment-tokens",
    "text-width",
    "soft-wrap",
    "auto-format",
    "formatter",
    "diagnostic-severity",
    "grammar",
    "injection-regex",
    "language-servers",
    "indent",
    "debugger",
    "auto-pairs",
    "rulers",
    "workspace-lsp-roots",
    "persistent-diagnostic-sources",
];

/// Servers Helix defines in its own default `languages.toml` that ours may name.
const HELIX_BUILTIN_SERVERS: &[&str] = &["marksman"];

fn languages_toml() -> toml::Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/editors/helix/languages.toml");
    let text = std::fs::read_to_string(path).expect("read editors/helix/languages.toml");
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid TOML: {e}"))
}

fn languages(doc: &toml::Table) -> Vec<&toml::Table> {
    doc.get("language")
        .and_then(toml::Value::as_array)
        .expect("[[language]] entries")
        .iter()
        .map(|l| l.as_table().expect("each [[language]] is a table"))
        .collect()
}

/// The server names a `language-servers` list refers to (plain names or `{ name = ... }`).
fn server_names(language: &toml::Table) -> Vec<String> {
    let Some(list) = language.get("language-servers") else {
        return Vec::new();
    };
    list.as_array()
        .expect("language-servers is an array")
        .iter()
        .map(|s| match s {
            toml::Value::String(name) => name.clone(),
            toml::Value::Table(t) => t
                .get("name")
                .and_then(toml::Value::as_str)
                .expect("a language-servers table has a name")
                .to_string(),
            other => panic!("language-servers entry {other} is neither a name nor a table"),
        })
        .collect()
}

fn to_json(value: &toml::Value) -> Value {
    serde_json::to_value(value).expect("TOML converts to JSON")
}

#[test]
fn languages_toml_names_the_server_as_helix_expects() {
    let doc = languages_toml();
    for key in doc.keys() {
        assert!(
            ["language-server", "language", "use-grammars"].contains(&key.as_str()),
            "unknown top-level key {key}"
        );
    }

    let servers = doc
        .get("language-server")
        .and_then(toml::Value::as_table)
        .expect("a [language-server] table");
    let ours = servers
        .get(SERVER)
        .and_then(toml::Value::as_table)
        .expect("[language-server.calcinosis-ls]");
    for key in ours.keys() {
        assert!(
            SERVER_KEYS.contains(&key.as_str()),
            "[language-server.{SERVER}] has key {key}, which Helix does not read"
        );
    }
    assert_eq!(
        ours.get("command").and_then(toml::Value::as_str),
        Some("calcinosis-ls"),
        "command must be the executable name Helix looks up on PATH"
    );
    let args: Vec<&str> = ours
        .get("args")
        .and_then(toml::Value::as_array)
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("args are strings"))
        .collect();
    assert_eq!(
        args,
        ["serve"],
        "the server speaks LSP as `calcinosis-ls serve`"
    );
    assert!(
        ours.get("config").is_none_or(toml::Value::is_table),
        "config must be a table"
    );

    let mut using_us = BTreeSet::new();
    for language in languages(&doc) {
        let name = language
            .get("name")
            .and_then(toml::Value::as_str)
            .expect("every [[language]] has a name");
        for key in language.keys() {
            assert!(
                LANGUAGE_KEYS.contains(&key.as_str()),
                "[[language]] {name} has key {key}, which Helix does not read"
            );
        }
        for server in server_names(language) {
            assert!(
                servers.contains_key(&server) || HELIX_BUILTIN_SERVERS.contains(&server.as_str()),
                "[[language]] {name} names server {server}, defined neither here nor by Helix"
            );
            if server == SERVER {
                using_us.insert(name.to_string());
            }
        }
        // A language Helix does not ship needs a scope and file types to be recognised.
        if name == "text" {
            assert_eq!(
                language.get("scope").and_then(toml::Value::as_str),
                Some("text.plain")
            );
            let types: Vec<&str> = language
                .get("file-types")
                .and_then(toml::Value::as_array)
                .expect("text has file-types")
                .iter()
                .map(|t| match t {
                    toml::Value::String(s) => s.as_str(),
                    toml::Value::Table(g) => g
                        .get("glob")
                        .and_then(toml::Value::as_str)
                        .expect("a file-types table is { glob = ... }"),
                    other => panic!("file-types entry {other}"),
                })
                .collect();
            for wanted in ["txt", "note"] {
                assert!(types.contains(&wanted), "text lacks file type {wanted}");
            }
            assert!(
                language.get("roots").is_some_and(toml::Value::is_array),
                "text needs roots (an empty list is fine)"
            );
        }
    }
    assert_eq!(
        using_us,
        BTreeSet::from(["markdown".to_string(), "text".to_string()]),
        "the languages that use calcinosis-ls"
    );
}

#[test]
fn the_server_accepts_the_helix_config_and_languages() {
    let doc = languages_toml();
    let ours = doc["language-server"][SERVER]
        .as_table()
        .expect("[language-server.calcinosis-ls]");
    let args: Vec<&str> = ours["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    let config = ours.get("config").map(to_json).unwrap_or(Value::Null);
    let languages: Vec<String> = languages(&doc)
        .into_iter()
        .filter(|l| server_names(l).iter().any(|s| s == SERVER))
        .map(|l| l["name"].as_str().expect("name").to_string())
        .collect();
    assert!(!languages.is_empty());

    let mut c = Client::start_with(&args, &[]);
    c.initialize(&[], config.clone());
    // Helix sends the same table as the settings once the server is initialised.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": config }),
    );
    let note = "Telangectasias on the lips. Sclerodactyly and calcinosis cutis.";
    for (i, language) in languages.iter().enumerate() {
        let uri = format!("file:///tmp/helix-check-{i}.note");
        c.open(&uri, language, note);
        let diagnostics = c.diagnostics(&uri, 1);
        let codes: BTreeSet<&str> = diagnostics
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        assert!(
            codes.contains("crest-feature") && codes.contains("misspelling"),
            "languageId {language}: expected CREST and misspelling diagnostics, got {diagnostics:?}"
        );
    }
    let rejected: Vec<&Value> = c
        .inbox
        .iter()
        .filter(|m| m["method"] == "window/showMessage")
        .collect();
    assert!(
        rejected.is_empty(),
        "the server rejected part of the Helix config: {rejected:?}"
    );
    let stderr = c.stderr();
    assert!(
        !stderr.contains("unknown setting") && !stderr.contains("invalid setting"),
        "the server rejected part of the Helix config: {stderr}"
    );
    assert_eq!(c.shutdown(), Some(0));
}
