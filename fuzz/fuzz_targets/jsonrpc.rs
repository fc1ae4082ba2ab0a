//! The whole language server (transport, tower-lsp, backend) over in-memory pipes, fed a
//! session decoded from the input: raw bytes (garbage, broken headers, wrong
//! `Content-Length`, bodies that are not JSON-RPC), framed JSON-RPC messages for every
//! method the server implements, with parameters that are mostly well-formed and sometimes
//! null, missing or of any other JSON type (URIs, positions small/huge/negative, text with
//! multi-byte characters, CR/CRLF line ends), and well-formed scenarios (a document opened,
//! edited and asked about).
//!
//! Asserts:
//! - no panic anywhere (libFuzzer aborts on a panic in any thread);
//! - every output message is framed with a `Content-Length` equal to its body and nothing
//!   else, and its body is a JSON-RPC 2.0 request, notification or response (a response
//!   has an integer, string or null id and exactly one of `result` and `error`);
//! - the server still serves: after the session (and, if it left a message unfinished, the
//!   bytes that finish it), a `shutdown` request with a fresh id gets its response; then
//!   `exit` ends the server. If the session sent `exit` itself, the server must have ended
//!   and said so;
//! - when the session's unfinished message cannot be finished cheaply (a `Content-Length`
//!   above 64 KiB), closing the input must end the server.
//!
//! The session never reaches the settings `corpusDir` and `indexDir` (see [`defuse`]): they
//! read and write arbitrary paths.
#![no_main]

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use arbitrary::{Arbitrary, Result as ArbResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use calcinosis_ls::corpus::Corpus;
use calcinosis_ls::server::{self, engine::Engine, ServerOptions};

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    // Go-to-definition writes the embedded corpus to the cache directory: keep it private.
    std::env::set_var(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join("calcinosis-ls-fuzz-cache"),
    );
    Engine::build(Corpus::embedded().expect("embedded corpus"), None).expect("engine")
});

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    // As in `server::run`.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
});

/// How long the server may take to answer the final request or to end.
const PATIENCE: Duration = Duration::from_secs(20);
/// The largest unfinished body the harness completes before its final request.
const MAX_FILL: usize = 64 * 1024;
const FINAL_ID: &str = "fuzz-final-request";

// ---------------------------------------------------------------------------------------
// Building blocks, biased towards what the server expects.

/// A field: usually well-formed, sometimes null, missing or any JSON value.
#[derive(Debug)]
enum F<T> {
    Good(T),
    Null,
    Missing,
    Other(AnyJson),
}

impl<'a, T: Arbitrary<'a>> Arbitrary<'a> for F<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(match u.int_in_range(0u8..=15)? {
            13 => F::Null,
            14 => F::Missing,
            15 => F::Other(u.arbitrary()?),
            _ => F::Good(u.arbitrary()?),
        })
    }
}

impl<T> F<T> {
    fn put(&self, obj: &mut Map<String, Value>, key: &str, good: impl Fn(&T) -> Value) {
        match self {
            F::Good(t) => {
                obj.insert(key.into(), good(t));
            }
            F::Null => {
                obj.insert(key.into(), Value::Null);
            }
            F::Missing => {}
            F::Other(j) => {
                obj.insert(key.into(), j.to_json());
            }
        }
    }

    fn value(&self, good: impl Fn(&T) -> Value) -> Option<Value> {
        match self {
            F::Good(t) => Some(good(t)),
            F::Null => Some(Value::Null),
            F::Missing => None,
            F::Other(j) => Some(j.to_json()),
        }
    }
}

/// Any JSON value, at most four levels deep.
#[derive(Debug)]
struct AnyJson(Value);

impl AnyJson {
    fn to_json(&self) -> Value {
        self.0.clone()
    }

    fn gen(u: &mut Unstructured<'_>, depth: u32) -> ArbResult<Value> {
        let top = if depth >= 4 { 5 } else { 7 };
        Ok(match u.int_in_range(0u8..=top)? {
            0 => Value::Null,
            1 => Value::Bool(u.arbitrary()?),
            2 => json!(u.arbitrary::<i64>()?),
            3 => json!(u.arbitrary::<u64>()?),
            4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
            5 => Value::String(u.arbitrary()?),
            6 => {
                let n = u.int_in_range(0..=4)?;
                Value::Array(
                    (0..n)
                        .map(|_| Self::gen(u, depth + 1))
                        .collect::<ArbResult<_>>()?,
                )
            }
            _ => {
                let n = u.int_in_range(0..=4)?;
                let mut m = Map::new();
                for _ in 0..n {
                    let k = Key::arbitrary(u)?.get();
                    m.insert(k, Self::gen(u, depth + 1)?);
                }
                Value::Object(m)
            }
        })
    }
}

impl<'a> Arbitrary<'a> for AnyJson {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(AnyJson(Self::gen(u, 0)?))
    }
}

/// Object keys: the protocol's, or anything.
#[derive(Debug, Arbitrary)]
enum Key {
    Known(u8),
    Any(String),
}

impl Key {
    fn get(self) -> String {
        const KNOWN: [&str; 16] = [
            "uri",
            "textDocument",
            "position",
            "line",
            "character",
            "range",
            "start",
            "end",
            "text",
            "version",
            "languageId",
            "contentChanges",
            "calcinosis",
            "diagnostics",
            "term",
            "query",
        ];
        match self {
            Key::Known(i) => KNOWN[usize::from(i) % KNOWN.len()].into(),
            Key::Any(s) => s,
        }
    }
}

/// A number: usually small (inside a short note), else anything.
#[derive(Debug, Arbitrary)]
enum Num {
    Small(u8),
    Small2(u8),
    U32(u32),
    Negative(i32),
    Huge(u64),
    Float(f32),
}

impl Num {
    fn to_json(&self) -> Value {
        match *self {
            Num::Small(n) | Num::Small2(n) => json!(n % 8),
            Num::U32(n) => json!(n),
            Num::Negative(n) => json!(-(i64::from(n).abs()) - 1),
            Num::Huge(n) => json!(n),
            Num::Float(f) => {
                serde_json::Number::from_f64(f64::from(f)).map_or(json!(0), Value::Number)
            }
        }
    }
}

/// Documents: a few fixed URIs (so messages meet the same document), or any string.
#[derive(Debug, Arbitrary)]
enum Uri {
    Known(u8),
    Any(String),
}

impl Uri {
    fn to_json(&self) -> Value {
        const KNOWN: [&str; 6] = [
            "file:///note.txt",
            "file:///n%C3%BCte%20two.md",
            "untitled:Untitled-1",
            "file:///a/../b.txt",
            "file:///x.rs",
            "file:///note.txt#frag",
        ];
        match self {
            Uri::Known(i) => json!(KNOWN[usize::from(*i) % KNOWN.len()]),
            Uri::Any(s) => json!(s),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Lang {
    Plaintext,
    Text,
    Markdown,
    ClinicalNote,
    Rust,
    Any(String),
}

impl Lang {
    fn to_json(&self) -> Value {
        json!(match self {
            Lang::Plaintext => "plaintext",
            Lang::Text => "text",
            Lang::Markdown => "markdown",
            Lang::ClinicalNote => "clinical-note",
            Lang::Rust => "rust",
            Lang::Any(s) => s,
        })
    }
}

/// Note text from pieces: words the analyser reacts to, line ends, multi-byte characters.
#[derive(Debug)]
struct Text(String);

#[derive(Debug, Arbitrary)]
enum Piece {
    Word(u8),
    Any(String),
}

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        const WORDS: [&str; 32] = [
            "Denies ",
            "Raynaud's",
            "Raynaud’s ",
            "RP",
            "calcinosis",
            " sclerodactyly",
            "telangiectasia",
            "dysphagia",
            "Reynauds",
            "CREST ",
            "JDM",
            "lcSSc",
            "Family History:",
            "mother has ",
            "no ",
            "possible ",
            "history of ",
            ". ",
            " ",
            "\n",
            "\r\n",
            "\r",
            "😀",
            "é",
            "\u{3000}",
            "\u{2028}",
            "\u{a0}",
            "\t",
            "\u{0}",
            "# ",
            "- ",
            "anti-PM/Scl",
        ];
        let n = u.int_in_range(0..=24)?;
        let mut s = String::new();
        for _ in 0..n {
            match Piece::arbitrary(u)? {
                Piece::Word(i) => s.push_str(WORDS[usize::from(i) % WORDS.len()]),
                Piece::Any(t) => s.push_str(&t),
            }
        }
        Ok(Text(s))
    }
}

#[derive(Debug, Arbitrary)]
struct Pos {
    line: F<Num>,
    character: F<Num>,
}

impl Pos {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        self.line.put(&mut m, "line", Num::to_json);
        self.character.put(&mut m, "character", Num::to_json);
        Value::Object(m)
    }
}

#[derive(Debug, Arbitrary)]
struct Range {
    start: F<Pos>,
    end: F<Pos>,
}

impl Range {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        self.start.put(&mut m, "start", Pos::to_json);
        self.end.put(&mut m, "end", Pos::to_json);
        Value::Object(m)
    }
}

/// `{"uri": …}`, optionally with a version.
#[derive(Debug, Arbitrary)]
struct DocId {
    uri: F<Uri>,
}

impl DocId {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        self.uri.put(&mut m, "uri", Uri::to_json);
        Value::Object(m)
    }
}

#[derive(Debug, Arbitrary)]
struct Change {
    range: Option<F<Range>>,
    range_length: Option<Num>,
    text: F<Text>,
}

impl Change {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(r) = &self.range {
            r.put(&mut m, "range", Range::to_json);
        }
        if let Some(n) = &self.range_length {
            m.insert("rangeLength".into(), n.to_json());
        }
        self.text.put(&mut m, "text", |t| json!(t.0));
        Value::Object(m)
    }
}

#[derive(Debug, Arbitrary)]
enum Encoding {
    Utf8,
    Utf16,
    Utf32,
    Any(String),
}

impl Encoding {
    fn to_json(&self) -> Value {
        json!(match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16 => "utf-16",
            Encoding::Utf32 => "utf-32",
            Encoding::Any(s) => s,
        })
    }
}

#[derive(Debug, Arbitrary)]
enum Severity {
    Hint,
    Information,
    Warning,
    Any(String),
}

/// Settings, bare or wrapped in `{"calcinosis": …}`. Never `corpusDir`/`indexDir`.
#[derive(Debug, Arbitrary)]
struct Settings {
    wrapped: bool,
    enable: Option<F<bool>>,
    severity: Option<F<Severity>>,
    summary_threshold: Option<F<Num>>,
    misspellings: Option<F<bool>>,
    debounce_ms: Option<F<Num>>,
    diagnostics_other: Option<AnyJson>,
    language_ids: Option<F<Vec<Lang>>>,
    unknown: Option<(String, AnyJson)>,
}

impl Settings {
    fn to_json(&self) -> Value {
        let mut d = Map::new();
        if let Some(f) = &self.enable {
            f.put(&mut d, "enable", |b| json!(b));
        }
        if let Some(f) = &self.severity {
            f.put(&mut d, "severity", |s| {
                json!(match s {
                    Severity::Hint => "hint",
                    Severity::Information => "information",
                    Severity::Warning => "WARNING",
                    Severity::Any(s) => s,
                })
            });
        }
        if let Some(f) = &self.summary_threshold {
            f.put(&mut d, "summaryThreshold", Num::to_json);
        }
        if let Some(f) = &self.misspellings {
            f.put(&mut d, "misspellings", |b| json!(b));
        }
        if let Some(f) = &self.debounce_ms {
            // Small values only: a long debounce just makes the run slower.
            f.put(&mut d, "debounceMs", |n| match n.to_json() {
                Value::Number(x) if x.as_u64().is_some_and(|v| v > 20) => json!(0),
                v => v,
            });
        }
        let mut m = Map::new();
        m.insert(
            "diagnostics".into(),
            match &self.diagnostics_other {
                Some(j) => j.to_json(),
                None => Value::Object(d),
            },
        );
        if let Some(f) = &self.language_ids {
            f.put(&mut m, "languageIds", |v| {
                Value::Array(v.iter().map(Lang::to_json).collect())
            });
        }
        if let Some((k, v)) = &self.unknown {
            m.insert(k.clone(), v.to_json());
        }
        if self.wrapped {
            json!({ "calcinosis": m })
        } else {
            Value::Object(m)
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Command {
    Ask,
    ShowStatements,
    DocumentDigest,
    Any(String),
}

/// Command arguments: questions, term names, document URIs, numbers, anything.
#[derive(Debug, Arbitrary)]
enum CommandArg {
    Text(Text),
    Term(u8),
    Uri(Uri),
    Num(Num),
    Any(AnyJson),
}

impl CommandArg {
    fn to_json(&self) -> Value {
        const TERMS: [&str; 8] = [
            "calcinosis",
            "Raynaud's phenomenon",
            "RP",
            "CREST syndrome",
            "juvenile dermatomyositis",
            "sclerodactyly",
            "anti-PM/Scl antibody",
            "raynauds",
        ];
        match self {
            CommandArg::Text(t) => json!(t.0),
            CommandArg::Term(i) => json!(TERMS[usize::from(*i) % TERMS.len()]),
            CommandArg::Uri(u) => u.to_json(),
            CommandArg::Num(n) => n.to_json(),
            CommandArg::Any(j) => j.to_json(),
        }
    }
}

/// A method the server implements (or not), with its parameters.
#[derive(Debug, Arbitrary)]
enum Method {
    Initialize {
        encodings: Option<F<Vec<Encoding>>>,
        options: Option<F<Settings>>,
        process_id: F<Num>,
        capabilities: F<()>,
    },
    Initialized,
    DidOpen {
        doc: F<Uri>,
        language: F<Lang>,
        version: F<Num>,
        text: F<Text>,
    },
    DidChange {
        doc: F<Uri>,
        version: F<Num>,
        changes: F<Vec<Change>>,
    },
    DidClose(F<DocId>),
    DidSave(F<DocId>),
    Hover(F<DocId>, F<Pos>),
    Completion(F<DocId>, F<Pos>),
    CompletionResolve {
        label: F<Text>,
        term: F<CommandArg>,
    },
    CodeAction(F<DocId>, F<Range>, F<AnyJson>),
    Definition(F<DocId>, F<Pos>),
    DocumentSymbol(F<DocId>),
    WorkspaceSymbol(F<Text>),
    ExecuteCommand(F<Command>, F<Vec<CommandArg>>),
    DidChangeConfiguration(F<Settings>),
    Shutdown,
    Exit,
    Cancel(F<Num>),
    SetTrace(F<String>),
    /// Defined by LSP, not implemented by the server.
    Unimplemented(u8),
    Unknown(String),
}

impl Method {
    /// Name, parameters (`None`: omitted), and whether it is a request.
    fn build(&self) -> (String, Option<Value>, bool) {
        let obj = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut m = Map::new();
            f(&mut m);
            Some(Value::Object(m))
        };
        let doc_pos = |d: &F<DocId>, p: &F<Pos>| {
            obj(&|m| {
                d.put(m, "textDocument", DocId::to_json);
                p.put(m, "position", Pos::to_json);
            })
        };
        let (name, params, request) = match self {
            Method::Initialize {
                encodings,
                options,
                process_id,
                capabilities,
            } => {
                let caps = capabilities.value(|_| {
                    let mut c = json!({"textDocument": {"hover": {"contentFormat": ["markdown"]}}});
                    if let Some(e) = encodings {
                        if let Some(v) =
                            e.value(|v| Value::Array(v.iter().map(Encoding::to_json).collect()))
                        {
                            c["general"] = json!({ "positionEncodings": v });
                        }
                    }
                    c
                });
                let params = obj(&|m| {
                    process_id.put(m, "processId", Num::to_json);
                    m.insert("rootUri".into(), Value::Null);
                    if let Some(c) = &caps {
                        m.insert("capabilities".into(), c.clone());
                    }
                    if let Some(o) = options {
                        o.put(m, "initializationOptions", Settings::to_json);
                    }
                });
                ("initialize", params, true)
            }
            Method::Initialized => ("initialized", Some(json!({})), false),
            Method::DidOpen {
                doc,
                language,
                version,
                text,
            } => {
                let item = obj(&|m| {
                    doc.put(m, "uri", Uri::to_json);
                    language.put(m, "languageId", Lang::to_json);
                    version.put(m, "version", Num::to_json);
                    text.put(m, "text", |t| json!(t.0));
                });
                (
                    "textDocument/didOpen",
                    Some(json!({ "textDocument": item })),
                    false,
                )
            }
            Method::DidChange {
                doc,
                version,
                changes,
            } => {
                let params = obj(&|m| {
                    let id = obj(&|d| {
                        doc.put(d, "uri", Uri::to_json);
                        version.put(d, "version", Num::to_json);
                    });
                    m.insert("textDocument".into(), id.unwrap_or_default());
                    changes.put(m, "contentChanges", |c| {
                        Value::Array(c.iter().map(Change::to_json).collect())
                    });
                });
                ("textDocument/didChange", params, false)
            }
            Method::DidClose(d) => (
                "textDocument/didClose",
                obj(&|m| d.put(m, "textDocument", DocId::to_json)),
                false,
            ),
            Method::DidSave(d) => (
                "textDocument/didSave",
                obj(&|m| d.put(m, "textDocument", DocId::to_json)),
                false,
            ),
            Method::Hover(d, p) => ("textDocument/hover", doc_pos(d, p), true),
            Method::Completion(d, p) => ("textDocument/completion", doc_pos(d, p), true),
            Method::CompletionResolve { label, term } => (
                "completionItem/resolve",
                obj(&|m| {
                    label.put(m, "label", |t| json!(t.0));
                    if let Some(t) = term.value(CommandArg::to_json) {
                        m.insert("data".into(), json!({ "term": t }));
                    }
                }),
                true,
            ),
            Method::CodeAction(d, r, context) => (
                "textDocument/codeAction",
                obj(&|m| {
                    d.put(m, "textDocument", DocId::to_json);
                    r.put(m, "range", Range::to_json);
                    context.put(m, "context", |_| json!({"diagnostics": []}));
                }),
                true,
            ),
            Method::Definition(d, p) => ("textDocument/definition", doc_pos(d, p), true),
            Method::DocumentSymbol(d) => (
                "textDocument/documentSymbol",
                obj(&|m| d.put(m, "textDocument", DocId::to_json)),
                true,
            ),
            Method::WorkspaceSymbol(q) => (
                "workspace/symbol",
                obj(&|m| q.put(m, "query", |t| json!(t.0))),
                true,
            ),
            Method::ExecuteCommand(c, args) => (
                "workspace/executeCommand",
                obj(&|m| {
                    c.put(m, "command", |c| {
                        json!(match c {
                            Command::Ask => "calcinosis.ask",
                            Command::ShowStatements => "calcinosis.showStatements",
                            Command::DocumentDigest => "calcinosis.documentDigest",
                            Command::Any(s) => s,
                        })
                    });
                    args.put(m, "arguments", |a| {
                        Value::Array(a.iter().map(CommandArg::to_json).collect())
                    });
                }),
                true,
            ),
            Method::DidChangeConfiguration(s) => (
                "workspace/didChangeConfiguration",
                obj(&|m| s.put(m, "settings", Settings::to_json)),
                false,
            ),
            Method::Shutdown => ("shutdown", None, true),
            Method::Exit => ("exit", None, false),
            Method::Cancel(id) => (
                "$/cancelRequest",
                obj(&|m| id.put(m, "id", Num::to_json)),
                false,
            ),
            Method::SetTrace(v) => (
                "$/setTrace",
                obj(&|m| v.put(m, "value", |s| json!(s))),
                false,
            ),
            Method::Unimplemented(i) => {
                const NAMES: [(&str, bool); 6] = [
                    ("textDocument/formatting", true),
                    ("textDocument/references", true),
                    ("workspace/didChangeWorkspaceFolders", false),
                    ("textDocument/willSave", false),
                    ("$/progress", false),
                    ("window/workDoneProgress/cancel", false),
                ];
                let (n, r) = NAMES[usize::from(*i) % NAMES.len()];
                (n, Some(json!({})), r)
            }
            Method::Unknown(s) => (s.as_str(), Some(json!({})), true),
        };
        (name.to_string(), params, request)
    }
}

/// A JSON-RPC id, valid or not.
#[derive(Debug, Arbitrary)]
enum Id {
    Small(u8),
    I64(i64),
    U64(u64),
    Str(String),
    Null,
    Other(AnyJson),
}

impl Id {
    fn to_json(&self) -> Value {
        match self {
            Id::Small(n) => json!(n),
            Id::I64(n) => json!(n),
            Id::U64(n) => json!(n),
            Id::Str(s) => json!(s),
            Id::Null => Value::Null,
            Id::Other(j) => j.to_json(),
        }
    }
}

/// The message's envelope: usually right, sometimes not.
#[derive(Debug)]
enum Envelope {
    Normal,
    NoId,
    Id(Id),
    NullParams,
    ParamsOther(AnyJson),
    Version(AnyJson),
    NoVersion,
    MethodOther(AnyJson),
    Extra(Key, AnyJson),
}

impl<'a> Arbitrary<'a> for Envelope {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(match u.int_in_range(0u8..=23)? {
            16 => Envelope::NoId,
            17 => Envelope::Id(u.arbitrary()?),
            18 => Envelope::NullParams,
            19 => Envelope::ParamsOther(u.arbitrary()?),
            20 => Envelope::Version(u.arbitrary()?),
            21 => Envelope::NoVersion,
            22 => Envelope::MethodOther(u.arbitrary()?),
            23 => Envelope::Extra(u.arbitrary()?, u.arbitrary()?),
            _ => Envelope::Normal,
        })
    }
}

/// How the body is framed.
#[derive(Debug)]
enum Framing {
    Normal,
    /// Bare `\n` line ends.
    Lf,
    /// `content-length` in lower case, and a `Content-Type` header.
    Headers,
    /// A `Content-Length` off by a few bytes.
    WrongLength(i8),
    /// Padded with spaces (inside the JSON) to about this many KiB.
    Padded(u8),
}

impl<'a> Arbitrary<'a> for Framing {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbResult<Self> {
        Ok(match u.int_in_range(0u8..=15)? {
            12 => Framing::Lf,
            13 => Framing::Headers,
            14 => Framing::WrongLength(u.arbitrary()?),
            15 => Framing::Padded(u.arbitrary()?),
            _ => Framing::Normal,
        })
    }
}

#[derive(Debug, Arbitrary)]
struct Message {
    method: Method,
    envelope: Envelope,
    framing: Framing,
}

impl Message {
    fn write(&self, next_id: &mut i64, out: &mut Vec<u8>) {
        let (name, params, request) = self.method.build();
        let mut m = Map::new();
        m.insert("jsonrpc".into(), json!("2.0"));
        if request {
            *next_id += 1;
            m.insert("id".into(), json!(*next_id));
        }
        m.insert("method".into(), json!(name));
        if let Some(p) = params {
            m.insert("params".into(), p);
        }
        match &self.envelope {
            Envelope::Normal => {}
            Envelope::NoId => {
                m.remove("id");
            }
            Envelope::Id(id) => {
                m.insert("id".into(), id.to_json());
            }
            Envelope::NullParams => {
                m.insert("params".into(), Value::Null);
            }
            Envelope::ParamsOther(j) => {
                m.insert("params".into(), j.to_json());
            }
            Envelope::Version(j) => {
                m.insert("jsonrpc".into(), j.to_json());
            }
            Envelope::NoVersion => {
                m.remove("jsonrpc");
            }
            Envelope::MethodOther(j) => {
                m.insert("method".into(), j.to_json());
            }
            Envelope::Extra(k, j) => {
                let k = match k {
                    Key::Known(i) => ["result", "error", "id", "params", "method"]
                        [usize::from(*i) % 5]
                        .to_string(),
                    Key::Any(s) => s.clone(),
                };
                m.insert(k, j.to_json());
            }
        }
        let mut body = serde_json::to_vec(&Value::Object(m)).expect("JSON");
        match self.framing {
            Framing::Normal => out.extend(frame(&body)),
            Framing::Lf => {
                out.extend(format!("Content-Length: {}\n\n", body.len()).as_bytes());
                out.extend(&body);
            }
            Framing::Headers => {
                out.extend(
                    format!(
                        "content-length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                out.extend(&body);
            }
            Framing::WrongLength(d) => {
                let len = body.len().saturating_add_signed(isize::from(d));
                out.extend(format!("Content-Length: {len}\r\n\r\n").as_bytes());
                out.extend(&body);
            }
            Framing::Padded(kib) => {
                // `{` + spaces + the rest: still the same JSON.
                let pad = usize::from(kib % 16 + 1) * 1024;
                body.splice(1..1, std::iter::repeat_n(b' ', pad));
                out.extend(frame(&body));
            }
        }
    }
}

/// Header lines that are almost right.
#[derive(Debug, Arbitrary)]
enum Header {
    LengthNotANumber(String),
    LengthNegative(u16),
    LengthHuge(u64),
    LengthTwice(u8, u8),
    NoColon,
    Unknown(String),
    OnlyContentType,
    BlankLines(u8),
}

impl Header {
    fn write(&self, out: &mut Vec<u8>) {
        let s = match self {
            Header::LengthNotANumber(s) => format!("Content-Length: {s}\r\n\r\n"),
            Header::LengthNegative(n) => format!("Content-Length: -{n}\r\n\r\n"),
            Header::LengthHuge(n) => format!("Content-Length: {n}\r\n\r\n"),
            Header::LengthTwice(a, b) => {
                format!("Content-Length: {a}\r\nContent-Length: {b}\r\n\r\n")
            }
            Header::NoColon => "Content-Length 12\r\n\r\n".into(),
            Header::Unknown(s) => format!("X-{s}: 1\r\nContent-Length: 2\r\n\r\n{{}}"),
            Header::OnlyContentType => "Content-Type: application/json\r\n\r\n".into(),
            Header::BlankLines(n) => "\r\n".repeat(usize::from(n % 4)),
        };
        out.extend(s.as_bytes());
    }
}

/// A line and character near the start of a short note.
#[derive(Debug, Arbitrary)]
struct Near(u8, u8);

impl Near {
    fn to_json(&self) -> Value {
        json!({"line": self.0 % 4, "character": self.1 % 48})
    }
}

/// A step in a document's life, well-formed apart from what the text and positions say.
#[derive(Debug, Arbitrary)]
enum Step {
    Edit(Near, Near, Text),
    Replace(Text),
    Hover(Near),
    Completion(Near),
    Definition(Near),
    CodeAction(Near, Near),
    Symbols,
    Digest,
    Ask(Text),
}

/// One document opened, edited and asked about with well-formed messages (each message is
/// unlikely to be right by chance).
#[derive(Debug, Arbitrary)]
struct Scenario {
    doc: Uri,
    language: Lang,
    text: Text,
    steps: Vec<Step>,
    close: bool,
}

impl Scenario {
    fn write(&self, next_id: &mut i64, out: &mut Vec<u8>) {
        let uri = self.doc.to_json();
        let mut version = 1;
        let note = |method: &str, params: Value| {
            frame_json(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
        };
        out.extend(note(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": self.language.to_json(),
                "version": version, "text": self.text.0}}),
        ));
        for step in self.steps.iter().take(16) {
            let mut request = |method: &str, params: Value| {
                *next_id += 1;
                frame_json(
                    &json!({"jsonrpc": "2.0", "id": *next_id, "method": method, "params": params}),
                )
            };
            let at = |p: &Near| json!({"textDocument": {"uri": uri}, "position": p.to_json()});
            let bytes = match step {
                Step::Edit(start, end, text) => {
                    version += 1;
                    note(
                        "textDocument/didChange",
                        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges":
                            [{"range": {"start": start.to_json(), "end": end.to_json()}, "text": text.0}]}),
                    )
                }
                Step::Replace(text) => {
                    version += 1;
                    note(
                        "textDocument/didChange",
                        json!({"textDocument": {"uri": uri, "version": version},
                            "contentChanges": [{"text": text.0}]}),
                    )
                }
                Step::Hover(p) => request("textDocument/hover", at(p)),
                Step::Completion(p) => request("textDocument/completion", at(p)),
                Step::Definition(p) => request("textDocument/definition", at(p)),
                Step::CodeAction(a, b) => request(
                    "textDocument/codeAction",
                    json!({"textDocument": {"uri": uri}, "range": {"start": a.to_json(),
                        "end": b.to_json()}, "context": {"diagnostics": []}}),
                ),
                Step::Symbols => request(
                    "textDocument/documentSymbol",
                    json!({"textDocument": {"uri": uri}}),
                ),
                Step::Digest => request(
                    "workspace/executeCommand",
                    json!({"command": "calcinosis.documentDigest", "arguments": [uri]}),
                ),
                Step::Ask(q) => request(
                    "workspace/executeCommand",
                    json!({"command": "calcinosis.ask", "arguments": [q.0, 3]}),
                ),
            };
            out.extend(bytes);
        }
        if self.close {
            out.extend(note(
                "textDocument/didClose",
                json!({"textDocument": {"uri": uri}}),
            ));
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Chunk {
    Message(Box<Message>),
    Scenario(Scenario),
    /// Any bytes, as they are.
    Raw(Vec<u8>),
    /// Any bytes, framed with their length.
    Body(Vec<u8>),
    Header(Header),
    /// A response from the client to a request the server never sent.
    Response(Id, Option<AnyJson>),
}

#[derive(Debug, Arbitrary)]
struct Session {
    /// Start with `initialize` (debounce 0, optionally offering encodings) and
    /// `initialized`.
    handshake: Option<Option<Encoding>>,
    chunks: Vec<Chunk>,
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn frame_json(v: &Value) -> Vec<u8> {
    frame(&serde_json::to_vec(v).expect("JSON"))
}

impl Session {
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut next_id = 0;
        if let Some(enc) = &self.handshake {
            let mut caps = json!({});
            if let Some(e) = enc {
                caps["general"] = json!({ "positionEncodings": [e.to_json()] });
            }
            out.extend(frame_json(
                &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"processId": null, "rootUri": null, "capabilities": caps,
                "initializationOptions": {"diagnostics": {"debounceMs": 0}}}}),
            ));
            out.extend(frame_json(
                &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
            ));
        }
        for c in self.chunks.iter().take(48) {
            match c {
                Chunk::Message(m) => m.write(&mut next_id, &mut out),
                Chunk::Scenario(sc) => sc.write(&mut next_id, &mut out),
                Chunk::Raw(b) => out.extend(b),
                Chunk::Body(b) => out.extend(frame(b)),
                Chunk::Header(h) => h.write(&mut out),
                Chunk::Response(id, result) => {
                    let mut r = json!({"jsonrpc": "2.0", "id": id.to_json()});
                    match result {
                        Some(j) => r["result"] = j.to_json(),
                        None => r["error"] = json!({"code": -32603, "message": "client error"}),
                    }
                    out.extend(frame_json(&r));
                }
            }
        }
        defuse(&mut out);
        out
    }
}

/// Makes the settings `corpusDir` and `indexDir` unreachable, in place and keeping every
/// length: `Dir` becomes `Dyr`, and escapes that could spell `D`, `i` or `r` change letter.
fn defuse(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"Dir") {
            bytes[i + 1] = b'y';
        } else if rest.starts_with(b"\\u0044")
            || rest.starts_with(b"\\u0069")
            || rest.starts_with(b"\\u0072")
        {
            bytes[i + 5] += 1;
        }
        i += 1;
    }
}

// ---------------------------------------------------------------------------------------
// What the transport still waits for at the end of the session.

/// The bytes that bring the transport back to reading headers, whatever state the session
/// left it in, or `None` when that cannot be done cheaply. The transport resyncs on the next
/// `Content-Length:` after anything that is not a header, so [`MAX_FILL`] spaces and a line
/// end finish any unfinished body of at most that length and are then skipped. Whether a
/// longer body is pending is not modelled: any `Content-Length` above [`MAX_FILL`] in the
/// session (wherever it stands, as the transport finds it) counts as one.
fn completion_bytes(input: &[u8]) -> Option<Vec<u8>> {
    let lower = input.to_ascii_lowercase();
    let needle = b"content-length:";
    let mut at = 0;
    while let Some(i) = lower[at..].windows(needle.len()).position(|w| w == needle) {
        let start = at + i + needle.len();
        let digits: String = input[start..]
            .iter()
            .skip_while(|b| **b == b' ' || **b == b'\t')
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        if digits.len() > 6 || digits.parse::<usize>().is_ok_and(|n| n > MAX_FILL) {
            return None;
        }
        at = start;
    }
    let mut fill = vec![b' '; MAX_FILL];
    fill.extend(b"\r\n");
    Some(fill)
}

// ---------------------------------------------------------------------------------------
// The server's output.

/// Reads one framed message, asserting the framing; `None` at a clean end of stream.
async fn read_output(r: &mut (impl AsyncBufReadExt + Unpin)) -> Option<Value> {
    let mut len = None;
    let mut first = true;
    loop {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line).await.expect("read output");
        if n == 0 {
            assert!(first, "output ended inside a header");
            return None;
        }
        first = false;
        let line = std::str::from_utf8(&line).expect("header is UTF-8");
        let line = line
            .strip_suffix("\r\n")
            .unwrap_or_else(|| panic!("header line not ended by CRLF: {line:?}"));
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(": ").expect("header is `Name: value`");
        match name {
            "Content-Length" => {
                assert!(len.is_none(), "two Content-Length headers");
                assert!(
                    value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty(),
                    "Content-Length {value:?}"
                );
                len = Some(value.parse::<usize>().expect("Content-Length"));
            }
            "Content-Type" => {}
            _ => panic!("unexpected header {line:?}"),
        }
    }
    let len = len.expect("message without Content-Length");
    let mut body = vec![0; len];
    r.read_exact(&mut body)
        .await
        .expect("output ended inside a body: Content-Length larger than the body");
    let msg: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "output body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&body)
        )
    });
    check_message(&msg);
    Some(msg)
}

/// Asserts that `msg` is a JSON-RPC 2.0 request, notification or response.
fn check_message(msg: &Value) {
    let obj = msg
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {msg}"));
    assert_eq!(obj.get("jsonrpc"), Some(&json!("2.0")), "{msg}");
    let id_ok = |id: &Value| id.is_null() || id.is_string() || id.is_i64();
    if let Some(method) = obj.get("method") {
        assert!(method.is_string(), "{msg}");
        if let Some(p) = obj.get("params") {
            assert!(p.is_object() || p.is_array(), "params: {msg}");
        }
        if let Some(id) = obj.get("id") {
            assert!(id.is_i64() || id.is_string(), "request id: {msg}");
        }
        for k in obj.keys() {
            assert!(
                ["jsonrpc", "method", "params", "id"].contains(&k.as_str()),
                "{msg}"
            );
        }
    } else {
        assert!(obj.get("id").is_some_and(id_ok), "response id: {msg}");
        match (obj.get("result"), obj.get("error")) {
            (Some(_), None) => {}
            (None, Some(e)) => {
                assert!(e["code"].is_i64(), "error code: {msg}");
                assert!(e["message"].is_string(), "error message: {msg}");
            }
            _ => panic!("a response needs exactly one of result and error: {msg}"),
        }
        for k in obj.keys() {
            assert!(
                ["jsonrpc", "id", "result", "error"].contains(&k.as_str()),
                "{msg}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------

async fn run_session(input: Vec<u8>, completion: Option<Vec<u8>>) {
    let (client_w, server_r) = tokio::io::duplex(1 << 16);
    let (server_w, client_r) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(server::serve(
        server_r,
        server_w,
        ENGINE.clone(),
        ServerOptions::default(),
        None,
        Arc::new(AtomicBool::new(false)),
    ));
    // One writer, so that the harness's own messages never split the session's bytes.
    let (to_server, mut outbox) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    tokio::spawn(async move {
        let mut w = client_w;
        while let Some(bytes) = outbox.recv().await {
            if w.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = w.shutdown().await;
    });
    let mut to_server = Some(to_server);
    let send = |to: &Option<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>, b: Vec<u8>| {
        if let Some(tx) = to {
            let _ = tx.send(b);
        }
    };
    send(&to_server, input);
    let check_alive = completion.is_some();
    match completion {
        Some(mut fill) => {
            fill.extend(frame_json(
                &json!({"jsonrpc": "2.0", "id": FINAL_ID, "method": "shutdown"}),
            ));
            send(&to_server, fill);
        }
        // Nothing cheap finishes the session's last message: end the input instead.
        None => to_server = None,
    }

    let mut r = BufReader::new(client_r);
    let mut answered = false;
    let mut finals = 0;
    loop {
        let msg = match tokio::time::timeout(PATIENCE, read_output(&mut r)).await {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(_) if check_alive && !answered => {
                panic!("no response to the final shutdown request within {PATIENCE:?}")
            }
            Err(_) => panic!("the server did not end within {PATIENCE:?} after its input did"),
        };
        let is_response = msg.get("method").is_none();
        if msg.get("method").is_some() && msg.get("id").is_some() {
            // A request from the server: answer it like an editor.
            send(
                &to_server,
                frame_json(&json!({"jsonrpc": "2.0", "id": msg["id"], "result": null})),
            );
        }
        if is_response && msg["id"] == FINAL_ID {
            finals += 1;
            assert!(!answered, "two responses to the final request");
            answered = true;
            send(
                &to_server,
                frame_json(&json!({"jsonrpc": "2.0", "method": "exit"})),
            );
            to_server = None;
        }
    }
    let exited = tokio::time::timeout(PATIENCE, server)
        .await
        .expect("the server's output ended but the server did not")
        .expect("server task");
    if check_alive {
        // Either the final request was answered and our `exit` ended the server, or the
        // session itself sent `exit` before it.
        assert!(
            exited,
            "the server stopped without `exit` (final request answered: {answered})"
        );
    }
    assert!(finals <= 1);
}

fuzz_target!(|session: Session| {
    LazyLock::force(&ENGINE);
    let input = session.bytes();
    let completion = completion_bytes(&input);
    RUNTIME.block_on(run_session(input, completion));
});
