//! A note's section of the report, rendered on a worker: its text with every mention in a
//! `<mark>` and its trigger underlined, or (`--no-text`) its findings with their snippets.

use std::io::{self, Write};

use super::*;
/// A note's section body, rendered on a worker without knowing the note's place in the
/// report: `holes` are the offsets in `html` where the writer puts the note's number (the
/// mentions' element ids hold it).
#[derive(Debug, Default)]
pub struct NoteBody {
    html: Vec<u8>,
    holes: Vec<usize>,
    /// The note's cells for the chart.
    pub cells: Cells,
    /// How many mentions are highlighted.
    pub mentions: usize,
    /// Findings left unmarked ([`MAX_MARKED_MENTIONS`], or overlapping another).
    pub unmarked: usize,
}

impl NoteBody {
    fn hole(&mut self) {
        self.holes.push(self.html.len());
    }

    /// Writes the body with `note` in its holes.
    pub(super) fn write_to(&self, note: usize, out: &mut impl Write) -> io::Result<()> {
        let mut at = 0;
        let mut num = itoa::Buffer::new();
        let num = num.format(note).as_bytes();
        for &h in &self.holes {
            out.write_all(&self.html[at..h])?;
            out.write_all(num)?;
            at = h;
        }
        out.write_all(&self.html[at..])
    }
}

/// Renders a note's body on a worker: its text with mentions highlighted and triggers
/// underlined, or (`with_text` false) the list of its findings with their snippets.
pub fn render_note(analyzer: &Analyzer, text: &str, a: &Analysis, with_text: bool) -> NoteBody {
    let mut body = NoteBody {
        html: Vec::with_capacity(
            if with_text {
                text.len() + text.len() / 4
            } else {
                0
            } + 64,
        ),
        ..NoteBody::default()
    };
    // Mentions do not overlap (the longest match wins), but a range that would nest badly
    // is left unmarked rather than trusted: the markup must stay well formed.
    // At most MAX_MARKED_MENTIONS are marked (a note made of mentions would otherwise
    // grow ~15-fold); every finding still counts in the cells.
    let mut marked: Vec<usize> = Vec::with_capacity(a.findings.len().min(MAX_MARKED_MENTIONS));
    let mut end = 0;
    for (i, f) in a.findings.iter().enumerate() {
        if marked.len() < MAX_MARKED_MENTIONS
            && f.range.start >= end
            && text.get(f.range.clone()).is_some()
        {
            marked.push(i);
            end = f.range.end;
        }
        if let Some(letter) = analyzer.lexicon().term(f.term).crest {
            let first = marked.last() == Some(&i);
            body.cells.add(letter, f.assertion, first.then_some(i));
        }
    }
    body.mentions = marked.len();
    body.unmarked = a.findings.len() - marked.len();
    if with_text {
        text_body(analyzer, text, a, &marked, &mut body);
    } else {
        findings_body(analyzer, text, a, &marked, &mut body);
    }
    body
}

/// Opens a mention's `<mark>`: its id (`n<note>-<finding>`), class and the details the
/// script shows (assertion, letter, term, the deciding words).
fn open_mark(analyzer: &Analyzer, text: &str, i: usize, f: &Finding, body: &mut NoteBody) {
    let t = analyzer.lexicon().term(f.term);
    body.html.extend_from_slice(b"<mark id=\"n");
    body.hole();
    let _ = write!(
        body.html,
        "-{i}\" data-assertion=\"{}\"",
        f.assertion.as_str()
    );
    if let Some(c) = t.crest {
        let _ = write!(body.html, " data-crest=\"{}\"", c.as_str());
    }
    body.html.extend_from_slice(b" data-term=\"");
    escape(&mut body.html, &t.name);
    body.html.push(b'"');
    if let Some(tr) = f.trigger.as_ref().and_then(|tr| text.get(tr.range.clone())) {
        body.html.extend_from_slice(b" data-trigger=\"");
        escape(&mut body.html, &bounded(tr));
        body.html.push(b'"');
    }
    body.html.push(b'>');
}

/// The whole text, mentions in `<mark>`, triggers that do not overlap a mention in `<u>`.
fn text_body(analyzer: &Analyzer, text: &str, a: &Analysis, marked: &[usize], body: &mut NoteBody) {
    // Only the marked mentions' triggers: past MAX_MARKED_MENTIONS a dense note's triggers
    // would be as many as its mentions.
    let mut triggers: Vec<std::ops::Range<usize>> = marked
        .iter()
        .filter_map(|&i| a.findings[i].trigger.as_ref().map(|t| t.range.clone()))
        .filter(|r| text.get(r.clone()).is_some() && !r.is_empty())
        .collect();
    triggers.sort_by_key(|r| (r.start, r.end));
    triggers.dedup();
    // Spans in text order: (start, end, Some(finding) for a mention, None for a trigger).
    let mut spans: Vec<(usize, usize, Option<usize>)> = marked
        .iter()
        .map(|&i| (a.findings[i].range.start, a.findings[i].range.end, Some(i)))
        .collect();
    let mut m = 0;
    let mut last_end = 0;
    for r in triggers {
        // Skip the mentions that end before this trigger; it must not cross the next one.
        while m < marked.len() && a.findings[marked[m]].range.end <= r.start {
            m += 1;
        }
        let crosses = m < marked.len() && a.findings[marked[m]].range.start < r.end;
        if !crosses && r.start >= last_end {
            last_end = r.end;
            spans.push((r.start, r.end, None));
        }
    }
    spans.sort_by_key(|s| s.0);
    body.html.extend_from_slice(b"<div class=\"text\">");
    let mut at = 0;
    for (start, end, finding) in spans {
        escape(&mut body.html, &text[at..start]);
        match finding {
            Some(i) => {
                open_mark(analyzer, text, i, &a.findings[i], body);
                escape(&mut body.html, &text[start..end]);
                body.html.extend_from_slice(b"</mark>");
            }
            None => {
                body.html.extend_from_slice(b"<u class=\"trigger\">");
                escape(&mut body.html, &text[start..end]);
                body.html.extend_from_slice(b"</u>");
            }
        }
        at = end;
    }
    escape(&mut body.html, &text[at..]);
    body.html.extend_from_slice(b"</div>");
}

/// `--no-text`: each finding with [`SNIPPET_CHARS`] characters of its line either side.
fn findings_body(
    analyzer: &Analyzer,
    text: &str,
    a: &Analysis,
    marked: &[usize],
    body: &mut NoteBody,
) {
    if marked.is_empty() {
        body.html
            .extend_from_slice(b"<p class=\"empty\">No mention of a lexicon term.</p>");
        return;
    }
    body.html.extend_from_slice(b"<ol class=\"findings\">");
    for &i in marked {
        let f = &a.findings[i];
        // The window first, then the line within it: looking for the line's ends over the
        // whole note made a one-line note of megabytes quadratic (54 s for 24 MB).
        let back = text[..f.range.start]
            .char_indices()
            .rev()
            .nth(SNIPPET_CHARS - 1)
            .map_or(0, |(p, _)| p);
        let from = text[back..f.range.start]
            .rfind('\n')
            .map_or(back, |p| back + p + 1);
        let ahead = text[f.range.end..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(text.len(), |(p, _)| f.range.end + p);
        let to = text[f.range.end..ahead]
            .find('\n')
            .map_or(ahead, |p| f.range.end + p);
        let cut_before = from > 0 && text.as_bytes()[from - 1] != b'\n';
        let cut_after = to < text.len() && text.as_bytes()[to] != b'\n';
        let trigger = f
            .trigger
            .as_ref()
            .map(|t| t.range.clone())
            .filter(|t| text.get(t.clone()).is_some());
        body.html.extend_from_slice(b"<li>");
        if cut_before {
            body.html.extend_from_slice("…".as_bytes());
        }
        underlined(&mut body.html, text, from..f.range.start, trigger.clone());
        open_mark(analyzer, text, i, f, body);
        escape(&mut body.html, &text[f.range.clone()]);
        body.html.extend_from_slice(b"</mark>");
        underlined(&mut body.html, text, f.range.end..to, trigger.clone());
        if cut_after {
            body.html.extend_from_slice("…".as_bytes());
        }
        // A trigger outside the snippet is quoted after it (the details bar names it too).
        let outside = trigger
            .as_ref()
            .filter(|t| t.start < from || t.end > to)
            .and_then(|t| text.get(t.clone()));
        if let Some(tr) = outside {
            body.html
                .extend_from_slice(" <span class=\"why\">— by “<u class=\"trigger\">".as_bytes());
            escape(&mut body.html, &bounded(tr));
            body.html.extend_from_slice("</u>”</span>".as_bytes());
        }
        body.html.extend_from_slice(b"</li>");
    }
    body.html.extend_from_slice(b"</ol>");
}

/// `text[range]` escaped, with `trigger` underlined when it lies wholly inside.
fn underlined(
    out: &mut Vec<u8>,
    text: &str,
    range: std::ops::Range<usize>,
    trigger: Option<std::ops::Range<usize>>,
) {
    match trigger.filter(|t| range.start <= t.start && t.end <= range.end) {
        Some(t) => {
            escape(out, &text[range.start..t.start]);
            out.extend_from_slice(b"<u class=\"trigger\">");
            escape(out, &text[t.clone()]);
            out.extend_from_slice(b"</u>");
            escape(out, &text[t.end..range.end]);
        }
        None => escape(out, &text[range]),
    }
}
