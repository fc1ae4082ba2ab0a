use super::writer::base64;
use super::*;
use crate::corpus::Corpus;
use sha2::{Digest, Sha256};

fn analyzer() -> Analyzer {
    Analyzer::new(&Corpus::embedded().expect("the embedded corpus loads"))
}

fn body_text(b: &NoteBody, note: usize) -> String {
    let mut out = Vec::new();
    b.write_to(note, &mut out).expect("writing to a Vec");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn escape_makes_markup_inert() {
    let mut out = Vec::new();
    escape(
        &mut out,
        "<script>alert('x')</script>\" onmouseover=\"x\" & javascript:1",
    );
    let s = String::from_utf8(out).unwrap();
    assert_eq!(
        s,
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;x&quot; &amp; javascript:1"
    );
}

#[test]
fn dates_are_found_in_names_and_values() {
    assert_eq!(date_key("2024-03-05_clinic.txt"), Some(20240305));
    assert_eq!(date_key("notes/p1/20231231.txt"), Some(20231231));
    assert_eq!(date_key("2024-03-05T10:00:00Z"), Some(20240305));
    assert_eq!(date_key("visit 2024/11/02"), Some(20241102));
    // Mixed separators, a month 13, a longer run of digits: not dates.
    assert_eq!(date_key("2024-03_05"), None);
    assert_eq!(date_key("2024-13-01"), None);
    assert_eq!(date_key("id 1202403051"), None);
    assert_eq!(date_key("note.txt"), None);
}

#[test]
fn base64_matches_the_standard_vectors() {
    for (plain, coded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(plain.as_bytes()), coded);
    }
}

#[test]
fn the_policy_names_the_inline_style_and_script_and_nothing_else() {
    let csp = content_security_policy();
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");
    let hash = base64(&Sha256::digest(SCRIPT.as_bytes()));
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );
}

#[test]
fn a_note_is_rendered_with_marks_triggers_and_cells() {
    let an = analyzer();
    let text =
        "She denies Raynaud's phenomenon. Calcinosis of the fingers.\nPossible telangiectasia.";
    let a = an.analyze(text);
    let b = render_note(&an, text, &a, true);
    let html = body_text(&b, 7);
    assert!(html.contains("<u class=\"trigger\">denies</u>"), "{html}");
    assert!(
        html.contains("data-assertion=\"negated\" data-crest=\"R\""),
        "{html}"
    );
    assert!(html.contains("id=\"n7-"), "{html}");
    assert_eq!(html.matches("<mark ").count(), b.mentions);
    assert!(b.cells.assertions[1].contains(Assertion::Negated));
    assert!(b.cells.assertions[0].contains(Assertion::Present));
    assert!(b.cells.assertions[4].contains(Assertion::Possible));
    assert!(b.cells.assertions[2].is_empty() && b.cells.first[2].is_none());
    assert_eq!(b.cells.present(), 1);
    // The text survives whole, escaped.
    assert!(html.contains("Raynaud&#39;s phenomenon</mark>"), "{html}");
}

#[test]
fn hostile_note_text_stays_text() {
    let an = analyzer();
    let text =
        "</div></section><script>alert(1)</script> calcinosis \"><img src=x onerror=alert(1)> \
                <a href=\"javascript:alert(1)\">x</a> denies Raynaud's";
    let a = an.analyze(text);
    for with_text in [true, false] {
        let html = body_text(&render_note(&an, text, &a, with_text), 0);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<a "), "{html}");
        assert!(!html.contains("</section>"), "{html}");
        assert!(html.contains("<mark "), "{html}");
    }
}

#[test]
fn without_text_only_snippets_are_written() {
    let an = analyzer();
    let far = "x".repeat(500);
    let text = format!("{far} SECRET-START {far} denies Raynaud's {far} SECRET-END");
    let a = an.analyze(&text);
    let html = body_text(&render_note(&an, &text, &a, false), 0);
    assert!(!html.contains("SECRET"), "{html}");
    assert!(html.contains("Raynaud&#39;s</mark>"), "{html}");
    assert!(html.len() < 1_000, "{} bytes", html.len());
}

fn report(notes: &[(&str, Option<&str>, Option<&str>, &str)]) -> String {
    let an = analyzer();
    let mut r = Report::start(Vec::new(), Options { with_text: true }).unwrap();
    for &(label, patient, date, text) in notes {
        let a = an.analyze(text);
        let body = render_note(&an, text, &a, true);
        r.note(
            &NoteMeta {
                patient,
                label,
                date,
            },
            &body,
        )
        .unwrap();
    }
    r.error("line 9", "not a JSON object");
    String::from_utf8(r.finish().unwrap()).unwrap()
}

#[test]
fn charts_sort_by_date_and_summaries_count_only_present() {
    let html = report(&[
        (
            "b",
            Some("P1"),
            Some("2024-05-01"),
            "History of calcinosis.",
        ),
        (
            "a",
            Some("P1"),
            Some("2023-01-01"),
            "Denies Raynaud's. Sclerodactyly.",
        ),
        (
            "c",
            Some("P2"),
            None,
            "Calcinosis, Raynaud's, sclerodactyly and telangiectasia.",
        ),
    ]);
    let chart = &html[html.find("id=\"p0\"").unwrap()..html.find("id=\"p1\"").unwrap()];
    // Dated rows in date order: "a" (2023) before "b" (2024).
    let a = chart.find("data-note=\"a\"").unwrap();
    let b = chart.find("data-note=\"b\"").unwrap();
    assert!(a < b);
    // Summary: C historical only (not counted), R negated, S present: 1/5.
    assert!(chart.contains(">1/5<"), "{chart}");
    assert!(
        chart.contains("<td data-patient=\"P1\" data-crest=\"C\" data-assertion=\"historical\">")
    );
    assert!(chart.contains("data-patient=\"P1\" data-crest=\"E\" data-assertion=\"\"></td>"));
    // The cohort, default when there are two patients, with P2 at 4/5.
    assert!(html.contains("class=\"view cohort default\""));
    assert!(
        html.contains("data-n=\"4\" data-notes=\"1\" data-present=\"CRST\""),
        "{html}"
    );
    assert!(html.contains("line 9: not a JSON object"));
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn hostile_ids_and_patients_are_escaped_everywhere() {
    let evil = "\"><script>alert(1)</script><a href='javascript:alert(1)'>";
    let html = report(&[(evil, Some(evil), Some(evil), "calcinosis")]);
    // The only script element is the report's own.
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("href='javascript"));
    assert!(!html.contains("<a href=\"javascript"));
    assert!(html.contains("&quot;&gt;&lt;script&gt;"));
}

#[test]
fn an_empty_report_opens_on_its_cohort() {
    let mut r = Report::start(Vec::new(), Options { with_text: false }).unwrap();
    r.error("line 1", "not a JSON object");
    let html = String::from_utf8(r.finish().unwrap()).unwrap();
    assert!(html.contains("class=\"view cohort default\""), "{html}");
    assert!(html.contains("Cohort: 0 patient(s), 0 note(s)"));
}

#[test]
fn a_note_made_of_mentions_marks_a_bounded_number() {
    let an = analyzer();
    let text = format!(
        "{}Telangiectasia.",
        "Denies RP. ".repeat(MAX_MARKED_MENTIONS + 5)
    );
    let a = an.analyze(&text);
    assert!(a.findings.len() > MAX_MARKED_MENTIONS);
    for with_text in [true, false] {
        let b = render_note(&an, &text, &a, with_text);
        let html = body_text(&b, 3);
        assert_eq!(b.mentions, MAX_MARKED_MENTIONS);
        assert_eq!(html.matches("<mark ").count(), MAX_MARKED_MENTIONS);
        // Triggers only for the marked mentions.
        assert!(html.matches("<u class=\"trigger\">").count() <= MAX_MARKED_MENTIONS);
        // T is counted although its mention is not marked; it has no mention to link to.
        assert!(b.cells.assertions[4].contains(Assertion::Present));
        assert_eq!(b.cells.first[4], None);
        assert!(b.cells.first[1].is_some());
    }
    let mut r = Report::start(Vec::new(), Options { with_text: false }).unwrap();
    let body = render_note(&an, &text, &a, false);
    let meta = NoteMeta {
        label: "dense",
        ..NoteMeta::default()
    };
    r.note(&meta, &body).unwrap();
    let html = String::from_utf8(r.finish().unwrap()).unwrap();
    assert!(html.contains("more finding(s) not marked"));
    // The T cell links to the note itself, R's to its first mention.
    assert!(html.contains("data-crest=\"T\" data-assertion=\"present\"><a href=\"#n0\""));
    assert!(html.contains("data-crest=\"R\" data-assertion=\"negated\"><a href=\"#n0-0\""));
}
