//! `check --format html` (issue 23) as a user runs it: the report's machine-readable cells
//! against `check --format jsonl`, hostile notes and ids made inert, note files grouped by
//! folder and ordered by the date in their names, `--no-text`, and the bounds for 10,000
//! notes (peak memory of the child, file size). The browser half is tests/report_browser/.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli::run;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_calcinosis-ls");
/// The issue's bounds for 10,000 notes and 1,000 patients.
const MAX_PEAK_KB: u64 = 200 * 1024;
const MAX_REPORT_BYTES: u64 = 30_000_000;
/// Liveness only: the 10,000-note report takes well under a second in a release build.
const LIVENESS: Duration = Duration::from_secs(300);
/// JSONL's assertion names in report order.
const ORDER: [&str; 6] = [
    "present",
    "negated",
    "possible",
    "historical",
    "hypothetical",
    "family",
];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("calcinosis-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make a scratch folder");
    dir
}

/// A cohort from the repository's deterministic generator.
fn cohort(dir: &Path, patients: u32, notes: u32) -> PathBuf {
    let path = dir.join(format!("cohort-{notes}.jsonl"));
    let out = std::fs::File::create(&path).expect("create the cohort file");
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/report_browser/gen_cohort.py"
        ))
        .args([
            "--patients",
            &patients.to_string(),
            "--notes",
            &notes.to_string(),
        ])
        .stdout(out)
        .status()
        .expect("python3 runs the cohort generator");
    assert!(status.success());
    path
}

const HTML_ARGS: [&str; 10] = [
    "check",
    "--format",
    "html",
    "--input",
    "jsonl",
    "--patient-field",
    "patient",
    "--date-field",
    "date",
    "--jobs",
];

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// An attribute's value in an opening tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let len = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + len]))
}

/// Every `<td …>` opening tag carrying `data-crest` in `html`.
fn cells(html: &str) -> Vec<&str> {
    html.match_indices("<td data-patient=")
        .map(|(i, _)| &html[i..i + html[i..].find('>').expect("the tag closes")])
        .collect()
}

#[test]
fn every_cell_agrees_with_jsonl() {
    let dir = scratch("agree");
    let input = cohort(&dir, 40, 400);
    let input = input.to_str().unwrap();
    let mut args = HTML_ARGS.to_vec();
    args.extend(["2", input]);
    let html = run(&args, None);
    assert_eq!(
        html.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&html.stderr)
    );
    let html = String::from_utf8(html.stdout).expect("UTF-8");
    let jsonl = run(
        &["check", "--format", "jsonl", "--input", "jsonl", input],
        None,
    );
    let mut want: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut patients: BTreeMap<String, String> = BTreeMap::new();
    for line in std::fs::read_to_string(input).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        patients.insert(
            v["id"].as_str().unwrap().into(),
            v["patient"].as_str().unwrap().into(),
        );
    }
    for line in String::from_utf8(jsonl.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let id = v["id"].as_str().unwrap();
        for letter in ["C", "R", "E", "S", "T"] {
            let set: BTreeSet<&str> = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["crest"] == letter)
                .map(|f| f["assertion"].as_str().unwrap())
                .collect();
            let spelled: Vec<&str> = ORDER.into_iter().filter(|a| set.contains(a)).collect();
            want.insert((id.into(), letter.into()), spelled.join(" "));
        }
    }
    let mut got = BTreeMap::new();
    let mut summaries = 0;
    for tag in cells(&html) {
        let patient = attr(tag, "data-patient").expect("data-patient");
        let letter = attr(tag, "data-crest").expect("data-crest");
        let assertion = attr(tag, "data-assertion").expect("data-assertion");
        match attr(tag, "data-note") {
            Some(note) => {
                assert_eq!(patients[&note], patient, "{tag}");
                assert!(got.insert((note, letter), assertion).is_none(), "{tag}");
            }
            None => summaries += 1,
        }
    }
    assert_eq!(got, want, "the matrix cells are JSONL's assertions");
    // A summary row per patient in its chart, and a row in the cohort.
    assert_eq!(summaries, 2 * 5 * 40);
    // Self-contained: the policy allows nothing to load, and nothing asks to.
    assert!(
        html.contains("content=\"default-src &#39;none&#39;;"),
        "the CSP is set"
    );
    for outside in [
        " src=", "<link", "<img", "<iframe", "http://", "https://", "url(",
    ] {
        assert!(!html.contains(outside), "{outside} in the report");
    }
    assert_eq!(html.matches("<script").count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_notes_ids_and_fields_are_inert() {
    let canary = "Quenby-Ostrander";
    // Under the 80 characters a patient id may have.
    let evil = r#""><script>alert(1)</script><a href='javascript:x' onmouseover="x">"#;
    let mut input = String::new();
    for i in 0..3 {
        let text = format!(
            "{canary} {evil} denies Raynaud's. </script> javascript:void(0) <img src=x onerror=alert(1)> calcinosis"
        );
        let record = serde_json::json!({
            "id": format!("{evil}{i}"), "patient": evil, "date": evil, "text": text,
        });
        input.push_str(&format!("{record}\n"));
    }
    // A record that cannot be read, and a patient id too long to be an id: named in the
    // report, never quoted.
    input.push_str(&format!("{{\"id\": 9, \"text\": \"{canary}\n"));
    let long = serde_json::json!({"id": 10, "patient": canary.repeat(10), "text": "calcinosis"});
    input.push_str(&format!("{long}\n"));
    // HTML_ARGS without its trailing `--jobs`.
    let o = run(&HTML_ARGS[..HTML_ARGS.len() - 1], Some(input.as_bytes()));
    assert_eq!(o.status.code(), Some(2), "a bad record is exit status 2");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains(canary), "{stderr}");
    let html = String::from_utf8(o.stdout).expect("UTF-8");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the report's own script"
    );
    assert_eq!(html.matches("</script>").count(), 1);
    assert!(!html.contains("<img"));
    assert!(!html.contains("href='javascript") && !html.contains("href=\"javascript"));
    // As text they are fine (`onmouseover=&quot;x&quot;`); never as an attribute.
    assert!(!html.contains(" onmouseover=\""));
    assert!(!html.contains("<a href='"));
    // The note text is all there, as text, with its mentions marked.
    assert_eq!(
        html.matches(canary).count(),
        3,
        "the notes' text, not the bad record's"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("data-crest=\"R\""));
    assert!(html.contains("2 input(s) could not be analysed"));
    assert!(html.contains("the patient field is longer than 80 characters"));
    // One patient (all three records name the same one), escaped in every attribute.
    assert!(html.contains("Cohort: 1 patient(s), 3 note(s)"));
    for tag in cells(&html) {
        assert_eq!(attr(tag, "data-patient").unwrap(), evil);
    }
}

#[test]
fn no_text_leaves_the_note_out() {
    let far = "x ".repeat(200);
    let note = format!("Private words here. {far} She denies Raynaud's today. {far} More private.");
    let input = serde_json::json!({"id": "a", "text": note}).to_string() + "\n";
    let args = ["check", "--format", "html", "--input", "jsonl", "--no-text"];
    let o = run(&args, Some(input.as_bytes()));
    assert_eq!(o.status.code(), Some(0));
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(
        !html.contains("Private"),
        "text far from a mention is left out"
    );
    assert!(
        html.contains("She <u class=\"trigger\">denies</u> <mark"),
        "{html}"
    );
    assert!(
        html.contains("Raynaud&#39;s</mark> today."),
        "the snippet stays"
    );
    assert!(!html.contains("<div class=\"text\">"));
    let with = run(&args[..5], Some(input.as_bytes()));
    assert!(String::from_utf8(with.stdout)
        .unwrap()
        .contains("Private words here."));
}

#[test]
fn note_files_group_by_folder_and_sort_by_the_date_in_their_names() {
    let dir = scratch("files");
    for (path, text) in [
        ("p1/2024-05-01_clinic.txt", "History of calcinosis."),
        ("p1/2023-01-09.txt", "Raynaud's phenomenon."),
        ("p1/undated.txt", "Sclerodactyly."),
        ("p2/20220101.txt", "No telangiectasia."),
    ] {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let o = run(&["check", "--format", "html", dir.to_str().unwrap()], None);
    assert_eq!(o.status.code(), Some(0));
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(html.contains("Cohort: 2 patient(s), 4 note(s)"));
    let chart = &html[html.find("<section class=\"view chart").unwrap()..];
    let chart = &chart[..chart.find("</section>").unwrap()];
    let order: Vec<usize> = ["2023-01-09.txt", "2024-05-01_clinic.txt", "undated.txt"]
        .iter()
        .map(|f| chart.find(&format!("{f}\" data-crest=\"C\"")).expect(f))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "date order, undated last"
    );
    assert!(chart.contains("<td class=\"date\">2023-01-09</td>"));
    // Historical calcinosis, present R and S: 2/5 (only present counts).
    assert!(chart.contains(">2/5<"), "{chart}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn report_flags_go_with_the_html_format() {
    let o = run(&["check", "--no-text"], Some(b"calcinosis"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("go with --format html"));
}

/// Runs `args` with stdout to `out`, watching the child's peak memory (VmHWM).
fn peak_kb_writing(args: &[&str], out: &Path) -> u64 {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("start calcinosis-ls");
    let status_file = format!("/proc/{}/status", child.id());
    let start = Instant::now();
    let mut peak = 0;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            if let Some(kb) = s
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{args:?}: {status}");
            return peak;
        }
        if start.elapsed() > LIVENESS {
            let _ = child.kill();
            panic!("{args:?} still running after {LIVENESS:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ten_thousand_notes_stay_within_the_bounds() {
    let dir = scratch("scale");
    let input = cohort(&dir, 1000, 10_000);
    let input = input.to_str().unwrap();
    for extra in [None, Some("--no-text")] {
        let out = dir.join("report.html");
        let mut args = HTML_ARGS.to_vec();
        args.push("2");
        args.extend(extra);
        args.push(input);
        let peak = peak_kb_writing(&args, &out);
        let size = std::fs::metadata(&out).unwrap().len();
        eprintln!("{extra:?}: peak {peak} kB, {size} bytes");
        assert!(peak > 0 && peak < MAX_PEAK_KB, "{extra:?}: peak {peak} kB");
        assert!(size < MAX_REPORT_BYTES, "{extra:?}: {size} bytes");
        let html = std::fs::read_to_string(&out).unwrap();
        assert_eq!(html.matches("<section class=\"view note\"").count(), 10_000);
        assert!(html.contains("Cohort: 1000 patient(s), 10000 note(s)"));
        assert!(html.ends_with("</html>\n"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_note_made_of_mentions_stays_bounded() {
    // 8 MB on one line, every word a mention: marks, triggers and snippets are bounded by
    // MAX_MARKED_MENTIONS (10,000), so the report is about the note's size, not ~15 times it.
    let dir = scratch("dense");
    let note = dir.join("dense.txt");
    let text = "Denies RP. ".repeat(8_000_000 / 11);
    std::fs::write(&note, &text).unwrap();
    for extra in [None, Some("--no-text")] {
        let out = dir.join("dense.html");
        let mut args = vec!["check", "--format", "html"];
        args.extend(extra);
        args.push(note.to_str().unwrap());
        let peak = peak_kb_writing(&args, &out);
        let size = std::fs::metadata(&out).unwrap().len();
        eprintln!("{extra:?}: peak {peak} kB, {size} bytes");
        assert!(peak < 300 * 1024, "{extra:?}: peak {peak} kB");
        assert!(
            size < text.len() as u64 + 4_000_000,
            "{extra:?}: {size} bytes"
        );
        let html = std::fs::read_to_string(&out).unwrap();
        assert_eq!(html.matches("<mark ").count(), 10_000);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
