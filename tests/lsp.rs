//! End-to-end tests: the real binary over stdio JSON-RPC, driven the way an editor drives it.

mod common;

use common::{pos_of, Client};
use serde_json::{json, Value};

const URI: &str = "file:///notes/visit.txt";
const NOTE: &str =
    "HPI: 52 yo woman with lcSSc. She denies Raynaud's phenomenon but reports sclerodactyly.\n\
Café-au-lait spot 😀 中文. Telangectasias on the lips. Possible calcinosis at the elbow.\n\
Esophageal dysmotility: present. anti-PM/Scl positive.\n\
Family History: mother has RP.\n";

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

fn find<'a>(diags: &'a [Value], code: &str, needle: &str) -> &'a Value {
    diags
        .iter()
        .find(|d| d["code"] == code && d["message"].as_str().unwrap_or("").contains(needle))
        .unwrap_or_else(|| panic!("no {code} diagnostic containing {needle:?} in {diags:#?}"))
}

fn hover_text(c: &mut Client, uri: &str, pos: Value) -> Option<String> {
    let r = c.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    r["contents"]["value"].as_str().map(str::to_string)
}

#[test]
fn full_session_utf16() {
    let mut c = Client::start();
    let init = c.initialize(&[], json!({}));
    let caps = &init["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["completionProvider"]["resolveProvider"], true);

    c.open(URI, "plaintext", NOTE);
    let diags = c.diagnostics(URI, 1);
    let r = find(
        &diags,
        "crest-feature",
        "CREST feature R — Raynaud's phenomenon (negated by “denies”)",
    );
    assert_eq!(
        r["tags"],
        json!([1]),
        "negated mentions are faded (Unnecessary)"
    );
    assert_eq!(
        r["data"],
        json!({"crest": "R", "term": "Raynaud's phenomenon", "assertion": "negated",
               "codes": {"icd10cm": "I73.00"}})
    );
    assert_eq!(r["source"], "calcinosis-ls");
    assert_eq!(
        r["range"]["start"],
        pos_of(NOTE, "Raynaud's phenomenon", false)
    );
    let related = &r["relatedInformation"][0];
    assert!(
        related["location"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("statements.md"),
        "{related}"
    );
    // The statement's opening words and id; its whole text is the hover's.
    let said = related["message"].as_str().unwrap_or_default();
    assert!(
        said.starts_with('“') && said.ends_with(')') && said.len() <= 120,
        "{said}"
    );
    find(&diags, "crest-feature", "S — sclerodactyly (present)");
    let t = find(&diags, "crest-feature", "T — telangiectasia (present)");
    // After "😀 中文" (UTF-16: the emoji is two units, each CJK character one).
    assert_eq!(t["range"]["start"], pos_of(NOTE, "Telangectasias", false));
    find(
        &diags,
        "crest-feature",
        "C — calcinosis (possible: “Possible”)",
    );
    find(
        &diags,
        "crest-feature",
        "E — esophageal dysfunction (present)",
    );
    find(
        &diags,
        "crest-feature",
        "R — Raynaud's phenomenon (family history",
    );
    let summary = find(
        &diags,
        "crest-summary",
        "3/5 CREST features documented: E, S, T",
    );
    assert_eq!(
        summary["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    let miss = find(&diags, "misspelling", "Did you mean “Telangiectasias”?");
    assert_eq!(miss["severity"], 4);
    let summary_note = c.wait_for("crest summary notification", |m| {
        m["method"] == "calcinosis/crestSummary"
    });
    assert_eq!(summary_note["params"]["present"], json!(["E", "S", "T"]));
    assert_eq!(summary_note["params"]["possible"], json!(["C"]));

    // Hover on several surface forms.
    let rp = hover_text(&mut c, URI, pos_of(NOTE, "RP.", false)).expect("hover on RP");
    assert!(rp.contains("**Raynaud's phenomenon** (RP)"), "{rp}");
    // The term's code, checked against the registry's ICD-10-CM table by python/tests.
    assert!(rp.contains("ICD-10-CM I73.00"), "{rp}");
    let anti =
        hover_text(&mut c, URI, pos_of(NOTE, "PM/Scl", false)).expect("hover on anti-PM/Scl");
    assert!(
        !anti.contains("ICD-10-CM"),
        "no code where the lexicon gives none: {anti}"
    );
    assert!(
        rp.contains("CREST **R**") && rp.contains("(source 1 of the seed document)"),
        "{rp}"
    );
    assert!(
        rp.contains("In this note:** family — decided by “mother”"),
        "{rp}"
    );
    let ra = hover_text(&mut c, URI, pos_of(NOTE, "aynaud's", false)).expect("hover on Raynaud's");
    assert!(ra.contains("negated — decided by “denies”"), "{ra}");
    let lc = hover_text(&mut c, URI, pos_of(NOTE, "lcSSc", false)).expect("hover on lcSSc");
    assert!(
        lc.contains("limited cutaneous systemic sclerosis") && lc.contains("“lcSSc” = limited"),
        "{lc}"
    );
    let pm = hover_text(&mut c, URI, pos_of(NOTE, "PM/Scl", false)).expect("hover on anti-PM/Scl");
    assert!(
        pm.contains("**anti-PM/Scl antibody**") && pm.contains("(source 2 of the seed document)"),
        "{pm}"
    );
    assert_eq!(
        hover_text(&mut c, URI, pos_of(NOTE, "woman", false)),
        None,
        "plain words have no hover"
    );
    assert_eq!(hover_text(&mut c, URI, pos_of(NOTE, "lips", false)), None);

    // Completion: prefix, typo, abbreviation; each replaces the typed word.
    let edit = |c: &mut Client, line: usize, text: &str, version: i64| {
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": version},
                   "contentChanges": [{"range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}}, "text": text}]}),
        );
    };
    edit(&mut c, 4, "raynau", 2);
    let items = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 4, "character": 6}}),
    );
    assert_eq!(items["isIncomplete"], true);
    let first = &items["items"][0];
    assert_eq!(first["label"], "Raynaud's phenomenon");
    assert_eq!(first["textEdit"]["newText"], "Raynaud's phenomenon");
    assert_eq!(
        first["textEdit"]["range"],
        json!({"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 6}})
    );
    let resolved = c.call("completionItem/resolve", first.clone());
    assert!(
        resolved["documentation"]["value"]
            .as_str()
            .unwrap()
            .contains("Source statements"),
        "{resolved}"
    );
    edit(&mut c, 4, "lcs ", 3);
    let items = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 4, "character": 3}}),
    );
    assert_eq!(
        items["items"][0]["textEdit"]["newText"],
        "limited cutaneous systemic sclerosis (lcSSc)"
    );
    edit(&mut c, 4, "reynaud ", 4);
    let items = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 4, "character": 7}}),
    );
    assert_eq!(items["items"][0]["label"], "Raynaud's phenomenon");
    edit(&mut c, 4, "dermato ", 5);
    let items = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 4, "character": 7}}),
    );
    let labels: Vec<&str> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert_eq!(labels[0], "dermatomyositis");
    assert!(labels.contains(&"juvenile dermatomyositis"), "{labels:?}");
    let one = c.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": URI}, "position": {"line": 4, "character": 1}}),
    );
    assert_eq!(one, Value::Null, "a single character offers nothing");

    // Code actions: misspelling quick fix, abbreviation expansion, show statements.
    let at = pos_of(NOTE, "Telangectasias", false);
    let actions = c.call("textDocument/codeAction", json!({"textDocument": {"uri": URI}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}));
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "quickfix")
        .expect("quick fix");
    assert_eq!(
        fix["title"],
        "Replace “Telangectasias” with “Telangiectasias”"
    );
    assert_eq!(fix["edit"]["changes"][URI][0]["newText"], "Telangiectasias");
    let at = pos_of(NOTE, "lcSSc", false);
    let actions = c.call("textDocument/codeAction", json!({"textDocument": {"uri": URI}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}));
    let expand = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "refactor.rewrite")
        .expect("expand");
    assert_eq!(
        expand["edit"]["changes"][URI][0]["newText"],
        "limited cutaneous systemic sclerosis (lcSSc)"
    );
    let show = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["command"]["command"] == "calcinosis.showStatements")
        .expect("show statements");
    let result = c.call("workspace/executeCommand", show["command"].clone());
    assert!(
        result[0]["text"].as_str().unwrap().contains("lcSSc"),
        "{result}"
    );
    c.wait_for("statements shown", |m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("limited cutaneous")
    });
    let asked = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["anticentromere", 3]}),
    );
    assert_eq!(asked[0]["text"], "Positive anticentromere antibody");
    // Each row points at a file the user has (the cache copy, as definition does), whose
    // line is the statement; and every row carries the composed answer and `answered`.
    let file = asked[0]["file"].as_str().unwrap();
    let text = std::fs::read_to_string(file).expect("calcinosis.ask points at a readable file");
    let line = text
        .lines()
        .nth(asked[0]["line"].as_u64().unwrap() as usize - 1)
        .unwrap();
    assert!(line.contains("Positive anticentromere antibody"), "{line}");
    assert!(asked[0]["uri"].as_str().unwrap().starts_with("file://"));
    assert_eq!(asked[0]["answered"], true);
    assert!(asked[0]["answer"]
        .as_str()
        .unwrap()
        .contains("anticentromere"));
    let uncovered = c.call(
        "workspace/executeCommand",
        json!({"command": "calcinosis.ask", "arguments": ["does calcinosis occur in lupus?", 3]}),
    );
    assert_eq!(uncovered[0]["answered"], false);
    assert!(uncovered[0]["answer"]
        .as_str()
        .unwrap()
        .starts_with("The sources do not cover lupus."));

    // Go to definition lands on the statement's line in a real corpus file.
    let def = c.call(
        "textDocument/definition",
        json!({"textDocument": {"uri": URI}, "position": pos_of(NOTE, "lcSSc", false)}),
    );
    let path = def["uri"]
        .as_str()
        .unwrap()
        .strip_prefix("file://")
        .unwrap()
        .to_string();
    let corpus = std::fs::read_to_string(&path).expect("definition points at a readable file");
    let line = corpus
        .lines()
        .nth(def["range"]["start"]["line"].as_u64().unwrap() as usize)
        .unwrap();
    assert!(line.contains("lcSSc"), "{line}");

    // Outline and workspace symbols.
    let symbols = c.call(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&"R — Raynaud's phenomenon") && names.contains(&"S — sclerodactyly"),
        "{names:?}"
    );
    let ws = c.call(
        "workspace/symbol",
        json!({"query": "juvenile dermatomyositis"}),
    );
    assert!(ws[0]["name"].as_str().unwrap().contains("JDM"), "{ws}");
    assert_eq!(
        ws[0]["containerName"],
        "Primary Connective Tissue Disease Associations › Dermatomyositis"
    );

    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    let cleared = c.wait_for("cleared diagnostics", |m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["diagnostics"] == json!([])
    });
    assert_eq!(cleared["params"]["uri"], URI);
    assert_eq!(
        c.call(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}})
        ),
        Value::Null
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn utf8_negotiated_and_incremental_multibyte_edits() {
    let mut c = Client::start();
    let init = c.initialize(&["utf-8", "utf-16"], json!({}));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    let text = "Résumé 😀: no RP.\r\nCJK 中文 sclerodactyly.\r\n";
    c.open(URI, "text", text);
    let diags = c.diagnostics(URI, 1);
    let r = find(&diags, "crest-feature", "Raynaud");
    assert_eq!(
        r["range"]["start"],
        pos_of(text, "RP", true),
        "UTF-8 byte columns"
    );
    let s = find(&diags, "crest-feature", "sclerodactyly");
    assert_eq!(s["range"]["start"], pos_of(text, "sclerodactyly", true));
    // Replace "no " (bytes) with "possible 🙂 ": RP turns possible.
    let no = pos_of(text, "no RP", true);
    let end = json!({"line": 0, "character": no["character"].as_u64().unwrap() + 3});
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"range": {"start": no, "end": end}, "text": "possible 🙂 "}]}));
    let diags = c.diagnostics(URI, 2);
    find(
        &diags,
        "crest-feature",
        "R — Raynaud's phenomenon (possible",
    );
    let new_text = "Résumé 😀: possible 🙂 RP.\r\nCJK 中文 sclerodactyly.\r\n";
    let h = hover_text(&mut c, URI, pos_of(new_text, "RP", true)).expect("hover after edit");
    assert!(h.contains("possible"), "{h}");
    // Insert a line before the CJK line and delete across the CRLF.
    c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [
        {"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}}, "text": "Denies telangiectasia.\r\n"},
        {"range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}, "text": ""}
    ]}));
    let diags = c.diagnostics(URI, 3);
    let t = find(&diags, "crest-feature", "T — telangiectasia (negated");
    assert_eq!(t["range"]["start"], json!({"line": 0, "character": 7}));
    let s = find(&diags, "crest-feature", "sclerodactyly");
    assert_eq!(s["range"]["start"]["line"], 1);
    assert!(!codes(&diags).is_empty());
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn language_ids_of_real_clients() {
    let mut c = Client::start();
    c.initialize(&[], json!({"languageIds": ["org"]}));
    // VS Code sends plaintext, Neovim and eglot send text; Markdown; a user-enabled id.
    for (i, lang) in ["plaintext", "text", "markdown", "org"].iter().enumerate() {
        let uri = format!("file:///n{i}.txt");
        c.open(&uri, lang, "Denies RP.");
        let d = c.diagnostics(&uri, 1);
        assert_eq!(d.len(), 1, "{lang}: {d:?}");
    }
    c.open("file:///main.rs", "rust", "// RP");
    assert_eq!(c.call("textDocument/hover", json!({"textDocument": {"uri": "file:///main.rs"}, "position": {"line": 0, "character": 4}})), Value::Null);
    let completion = c.call("textDocument/completion", json!({"textDocument": {"uri": "file:///main.rs"}, "position": {"line": 0, "character": 5}}));
    assert_eq!(completion, Value::Null, "other languages are left alone");
    let inbox = c.inbox.clone();
    assert!(
        !inbox
            .iter()
            .any(|m| m["params"]["uri"] == "file:///main.rs"),
        "no diagnostics for other languages"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn edits_are_applied_in_order_before_requests() {
    let mut c = Client::start();
    c.initialize(&[], json!({}));
    c.open(URI, "plaintext", "");
    // Fire edits and hovers back to back without waiting: every hover must see its edit.
    let mut ids = Vec::new();
    for v in 2..60 {
        let word = if v % 2 == 0 { "RP" } else { "JDM" };
        c.notify("textDocument/didChange", json!({"textDocument": {"uri": URI, "version": v}, "contentChanges": [{"text": format!("x {word}")}]}));
        ids.push((
            word,
            c.request_async(
                "textDocument/hover",
                json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": 3}}),
            ),
        ));
    }
    for (word, id) in ids {
        let r = c.response(id);
        let text = r["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let want = if word == "RP" {
            "Raynaud's phenomenon"
        } else {
            "juvenile dermatomyositis"
        };
        assert!(
            text.contains(want),
            "hover after edit to {word} saw {text:?}"
        );
    }
    // JDM is not a CREST feature: the last version's diagnostics are empty, and no
    // earlier version's are published after it.
    assert_eq!(c.diagnostics(URI, 59), Vec::<Value>::new());
    assert_eq!(c.shutdown(), Some(0));
}
