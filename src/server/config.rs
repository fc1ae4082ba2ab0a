//! Server settings from `initializationOptions` and `workspace/didChangeConfiguration`.
//! Invalid values are reported (to be shown to the user) and replaced by defaults.

use std::path::PathBuf;

use serde_json::Value;
use tower_lsp_server::ls_types::DiagnosticSeverity;

/// Language ids analysed by default: what VS Code (`plaintext`), Neovim and Emacs (`text`)
/// send for `.txt` notes, Markdown, and the VS Code extension's own `clinical-note`.
pub const DEFAULT_LANGUAGE_IDS: [&str; 4] = ["plaintext", "text", "markdown", "clinical-note"];

/// The effective configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// A corpus directory extending the built-in one.
    pub corpus_dir: Option<PathBuf>,
    /// An on-disk index directory.
    pub index_dir: Option<PathBuf>,
    /// Whether diagnostics are published at all.
    pub diagnostics: bool,
    /// Severity of CREST-feature diagnostics.
    pub severity: DiagnosticSeverity,
    /// Distinct present CREST features that trigger the summary diagnostic.
    pub summary_threshold: usize,
    /// Whether misspellings are reported.
    pub misspellings: bool,
    /// Language ids analysed, besides the defaults.
    pub language_ids: Vec<String>,
    /// The longest wait after a change before analysing, in milliseconds: fast documents
    /// are analysed at once, slow ones wait as long as their last analysis took, at most
    /// this (`scheduler`).
    pub debounce_ms: u64,
    /// Diagnostics published per document at most; the rest are summed up in one.
    pub max_diagnostics: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            corpus_dir: None,
            index_dir: None,
            diagnostics: true,
            severity: DiagnosticSeverity::INFORMATION,
            summary_threshold: 3,
            misspellings: true,
            language_ids: Vec::new(),
            debounce_ms: 30,
            max_diagnostics: 1000,
        }
    }
}

impl Config {
    /// Whether documents of this language id are analysed.
    pub fn analyses(&self, language_id: &str) -> bool {
        DEFAULT_LANGUAGE_IDS.contains(&language_id)
            || self.language_ids.iter().any(|l| l == language_id)
    }

    /// Applies settings on top of `self`. Accepts the settings object itself or one wrapped
    /// in `{ "calcinosis": … }`. Returns the problems found; valid fields still apply.
    pub fn update(&mut self, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        let v = value.get("calcinosis").unwrap_or(value);
        let Some(obj) = v.as_object() else {
            if !v.is_null() {
                problems.push("settings must be a JSON object".to_string());
            }
            return problems;
        };
        let bad = |key: &str, val: &Value, want: &str| {
            format!("invalid setting {key} = {val}: expected {want}; keeping the previous value")
        };
        for (key, val) in obj {
            match key.as_str() {
                "corpusDir" | "indexDir" => {
                    let slot = if key == "corpusDir" {
                        &mut self.corpus_dir
                    } else {
                        &mut self.index_dir
                    };
                    match val {
                        Value::Null => *slot = None,
                        Value::String(s) if s.trim().is_empty() => *slot = None,
                        Value::String(s) => *slot = Some(PathBuf::from(s)),
                        _ => problems.push(bad(key, val, "a directory path or null")),
                    }
                }
                "diagnostics" => match val.as_object() {
                    Some(d) => {
                        for (k, dv) in d {
                            let name = format!("diagnostics.{k}");
                            match (k.as_str(), dv) {
                                ("enable", Value::Bool(b)) => self.diagnostics = *b,
                                ("misspellings", Value::Bool(b)) => self.misspellings = *b,
                                ("severity", Value::String(s)) => {
                                    match s.to_ascii_lowercase().as_str() {
                                        "hint" => self.severity = DiagnosticSeverity::HINT,
                                        "information" | "info" => {
                                            self.severity = DiagnosticSeverity::INFORMATION
                                        }
                                        "warning" => self.severity = DiagnosticSeverity::WARNING,
                                        _ => problems.push(bad(
                                            &name,
                                            dv,
                                            "\"hint\", \"information\" or \"warning\"",
                                        )),
                                    }
                                }
                                ("summaryThreshold", n) => match n.as_u64() {
                                    Some(n @ 1..=5) => self.summary_threshold = n as usize,
                                    _ => {
                                        problems.push(bad(&name, dv, "a whole number from 1 to 5"))
                                    }
                                },
                                ("debounceMs", n) => match n.as_u64() {
                                    Some(n @ 0..=5000) => self.debounce_ms = n,
                                    _ => {
                                        problems.push(bad(&name, dv, "milliseconds from 0 to 5000"))
                                    }
                                },
                                ("maxPerDocument", n) => match n.as_u64() {
                                    Some(n @ 1..=100_000) => self.max_diagnostics = n as usize,
                                    _ => problems.push(bad(
                                        &name,
                                        dv,
                                        "a whole number from 1 to 100000",
                                    )),
                                },
                                ("enable" | "misspellings", _) => {
                                    problems.push(bad(&name, dv, "true or false"))
                                }
                                ("severity", _) => problems.push(bad(
                                    &name,
                                    dv,
                                    "\"hint\", \"information\" or \"warning\"",
                                )),
                                _ => problems.push(format!("unknown setting {name}; ignored")),
                            }
                        }
                    }
                    None => problems.push(bad(key, val, "an object")),
                },
                "languageIds" => match val.as_array() {
                    Some(a) if a.iter().all(Value::is_string) => {
                        self.language_ids = a
                            .iter()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect();
                    }
                    _ => problems.push(bad(key, val, "an array of language id strings")),
                },
                // Client-side settings of the editor extensions.
                "server" | "trace" => {}
                _ => problems.push(format!("unknown setting {key}; ignored")),
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn valid_settings_apply_and_bad_ones_are_reported() {
        let mut c = Config::default();
        let problems = c.update(&json!({"calcinosis": {
            "diagnostics": {"severity": "hint", "summaryThreshold": 9, "enable": "yes"},
            "languageIds": ["org"], "corpusDir": "/tmp/x", "colour": 1
        }}));
        assert_eq!(c.severity, DiagnosticSeverity::HINT);
        assert_eq!(c.summary_threshold, 3);
        assert!(c.diagnostics);
        assert!(c.analyses("org") && c.analyses("text") && !c.analyses("rust"));
        assert_eq!(c.corpus_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("summaryThreshold = 9")));
    }
}
